"""Run status tells the truth: the rules, the score table's label, and the leaderboard's use of them."""

from __future__ import annotations

import re
import types

from leaderboard_helpers import full_marks, write_quality_run

from llmbench.cli.report import main as report_main
from llmbench.runs.status import drop_lineless_frames, run_status, throughput_status
from llmbench.runs.summary import render_summary


def _results(errors: list[str | None], graded: int = 7) -> dict:
    tasks = ["zmq", "pplns", "payment", "stratum", "hiveos"]
    return {"tests": {t: {"samples": [{"error": e}]} for t, e in zip(tasks, errors, strict=False)},
            "totals": {"score": 1, "max": graded}}


def test_complete_only_when_every_selected_check_got_an_answer():
    assert run_status(_results([None, None]), None, 5) == ("complete", None)
    assert run_status(_results([None, None], graded=5), None, 5) == ("complete", None)
    status, reason = run_status(_results([None, None], graded=4), None, 5)
    assert (status, reason) == ("partial", "1 of 5 selected checks did not run")
    status, reason = run_status(_results([None, "HTTP 500 from x: boom"]), None, None)
    assert status == "partial" and reason == "1 of 2 requests failed (pplns); first: HTTP 500 from x: boom"


def test_failed_when_the_model_never_answered():
    status, reason = run_status(_results(["HTTP 401 from x: bad key", "HTTP 401 from x: bad key"]), None, 5)
    assert status == "failed"
    assert reason == "the model never answered: every request failed; first: HTTP 401 from x: bad key"
    assert run_status({"tests": {}, "totals": {"max": 0}}, None, None) == ("failed", "no check ran")


def test_interrupted_wins_over_everything_else():
    status, reason = run_status(_results([None, None], graded=4), "interrupted by SIGTERM", 22)
    assert (status, reason) == ("interrupted", "interrupted by SIGTERM; 4 of 22 selected checks graded")


def test_throughput_status():
    assert throughput_status([{"requests": 4, "errors": 0}]) == ("complete", None)
    assert throughput_status([{"requests": 3, "errors": 1, "error_examples": ["empty completion: x"]}]) == \
        ("partial", "1 of 4 requests failed; first: empty completion: x")
    assert throughput_status([{"requests": 0, "errors": 2, "error_examples": ["HTTP 500: x"]}]) == \
        ("failed", "no request succeeded (2 failed); first: HTTP 500: x")
    assert throughput_status([{"requests": 2, "errors": 0}], "interrupted")[0] == "interrupted"


def _table(status: str, reason: str | None) -> list[str]:
    data = {"model": {"name": "m"}, "status": status, "status_reason": reason,
            "tests": {"zmq": {"title": "ZMQ Listener", "difficulty": "easy", "max": 2, "score": 2.0, "checks": {}}},
            "totals": {"score": 2.0, "max": 2, "percent": 100.0}, "sampling": {"samples": 1}}
    return render_summary(data)


def test_the_score_table_says_partial_when_it_is():
    complete = _table("complete", None)
    assert any(re.match(r"Total\s+2/2\s+100.0%", line) for line in complete)
    interrupted = _table("interrupted", "interrupted by Ctrl-C (SIGINT); 2 of 22 selected checks graded")
    assert "INTERRUPTED: interrupted by Ctrl-C (SIGINT); 2 of 22 selected checks graded" in interrupted
    assert any(re.match(r"Total \(partial\)\s+2/2\s+100.0%", line) for line in interrupted)
    assert any(line.startswith("Total (failed)") for line in _table("failed", "the model never answered"))


def _md_rows(md: str, title: str) -> list[list[str]]:
    section = md.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("| ")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in lines[1:]]


def test_leaderboard_ranks_only_complete_runs_and_marks_the_rest(tmp_path):
    root = tmp_path / "reports"
    # a complete run, then a newer interrupted one of the same setup that scored 100% on 8 checks
    write_quality_run(root, "a-complete", alias="a", name="Alpha-7B", started_at="2026-11-20T10:00:00+00:00",
                      passes={**full_marks(), "stratum": [3], "hiveos": [5]})
    write_quality_run(root, "a-interrupted", alias="a", name="Alpha-7B", started_at="2026-11-21T10:00:00+00:00",
                      status="interrupted", passes={"zmq": [2], "pplns": [3], "payment": [3]})
    # every check of every test, all passing, but the run says it failed / was partial
    write_quality_run(root, "b-failed", alias="b", name="Beta-3B", status="failed")
    write_quality_run(root, "c-partial", alias="c", name="Gamma-1B", status="partial")
    out = tmp_path / "out"
    assert report_main([str(root), "--out", str(out)]) == 0
    md = (out / "leaderboard.md").read_text()
    ranked = [r[1] for r in _md_rows(md, "Model Rankings")]
    assert ranked[0] == "Alpha-7B"     # the complete run, not its newer interrupted one
    assert sorted(ranked[1:]) == ["Beta-3B *(failed)*", "Gamma-1B *(partial)*"]
    winners = {r[0]: r[1] for r in _md_rows(md, "Category Winners")}
    assert winners["Best Quality"] == "Alpha-7B"
    assert "Beta" not in " ".join(winners.values()) and "Gamma" not in " ".join(winners.values())


def test_a_signal_that_lands_in_a_finalizer_is_held_until_the_next_test():
    import signal
    import sys

    import pytest

    from llmbench.runs.status import StopSignals

    stop = StopSignals()

    class Client:
        def __del__(self):
            stop._handle(signal.SIGINT, sys._getframe())

    Client()   # collected at once: the handler runs inside __del__ and must not raise there
    assert stop.reason == "interrupted by Ctrl-C (SIGINT)" and stop.pending == stop.reason
    stop.finishing()
    assert stop.pending is None
    # anywhere else the first signal interrupts at once
    with pytest.raises(KeyboardInterrupt):
        StopSignals()._handle(signal.SIGTERM, sys._getframe())


def _interrupt_with_lineless_frames() -> KeyboardInterrupt:
    """A KeyboardInterrupt, and the error it interrupted, each with an entry that has no line."""
    try:
        raise ValueError("being handled")
    except ValueError:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            interrupt = exc
    for exc in (interrupt, interrupt.__context__):
        top = exc.__traceback__
        # an instruction offset past the code's end has no line, as some of CPython 3.11's do
        top.tb_next = types.TracebackType(top.tb_next, top.tb_frame, 1_000_000, -1)
        assert top.tb_next.tb_lineno is None
    return interrupt


def test_an_interruption_on_a_lineless_instruction_still_reports_cleanly():
    import pytest

    interrupt = _interrupt_with_lineless_frames()
    with pytest.raises(TypeError):   # pytest's own report of it fails
        pytest.ExceptionInfo.from_exception(interrupt).getrepr(funcargs=True)
    drop_lineless_frames(interrupt)
    report = str(pytest.ExceptionInfo.from_exception(interrupt).getrepr(funcargs=True))
    assert "KeyboardInterrupt" in report and "being handled" in report
    assert "_interrupt_with_lineless_frames" in report   # the frames that had lines are kept
