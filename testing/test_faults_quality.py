"""Faults never become scores: the quality run and its replay against a misbehaving server.

For every fault mode: no traceback, the reason in one line, results.json and
report.html written, and a status true to what happened. Then the run is
replayed with the server gone: no request is sent, and the replay's status
agrees with the original's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from faultserver import SERVED, FaultServer
from throughput_helpers import THROUGHPUT_TEST

# mode -> (status, words the status reason and the failing checks show)
EXPECTED = {
    "ok": ("complete", None),
    "slow": ("complete", None),
    "huge": ("complete", None),
    "empty": ("failed", "empty answer"),
    "done_only": ("failed", "empty stream"),
    "http500": ("failed", "HTTP 500"),
    "http401": ("failed", "HTTP 401"),
    "http404": ("failed", "HTTP 404"),
    "html": ("failed", "empty stream"),
    "killed": ("failed", "cannot reach"),
    "cut": ("failed", "stream ended early"),
    "hang": ("failed", "timed out after 1s"),
    "malformed": ("failed", "malformed response"),
}
TWO_TASKS = "zmq or pplns"


def run_dir(base: Path) -> Path:
    runs = sorted(p for p in base.iterdir() if p.is_dir())
    assert runs, f"no run folder under {base}"
    return runs[-1]


def assert_clean(result) -> str:
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]
    return output


def quality_run(bench, server: FaultServer, *args: str, out: str = "out"):
    result = bench.runpytest_subprocess("--model", SERVED, "--api-url", server.base_url, "--results-dir", out,
                             "--request-timeout", "1" if server.mode == "hang" else "30", *args)
    output = assert_clean(result)
    run = run_dir(bench.path / out)
    data = json.loads((run / "results.json").read_text())
    assert (run / "report.html").is_file()
    return result, output, run, data


@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_quality_run_and_its_replay_tell_the_truth(bench, mode):
    status, words = EXPECTED[mode]
    # A huge answer goes to the one test whose grader is linear in the answer's length.
    selection, checks = ("hiveos", 8) if mode == "huge" else (TWO_TASKS, 5)
    with FaultServer(mode, delay_s=0.01, hang_s=10) as server:
        result, output, run, data = quality_run(bench, server, "-k", selection)
        requests = server.chat_requests
    assert result.ret in (0, 1)
    assert data["status"] == status, data["status_reason"]
    if words:
        assert words in data["status_reason"] and "\n" not in data["status_reason"]
        assert data["status_reason"].startswith("the model never answered")
        assert data["totals"]["score"] == 0
        # each failing check says why in one line, and the table says the score is no score
        result.stdout.fnmatch_lines([f"*failed: request failed: *{words}*", "FAILED: the model never answered*",
                                     "Total (failed)*"])
    else:
        assert data["status_reason"] is None and "Total (" not in output
    assert data["checks_selected"] == data["totals"]["max"] == checks

    # Replay with the server gone: nothing is sent, throughput is skipped with its reason.
    bench.makepyfile(test_throughput=THROUGHPUT_TEST.read_text())
    replay = bench.runpytest_subprocess("--replay", str(run / "results.json"), "--results-dir", "replays", "-rs")
    assert_clean(replay)
    replay.stdout.fnmatch_lines(["*throughput is not re-run by --replay*"])
    replayed = json.loads((run_dir(bench.path / "replays") / "results.json").read_text())
    assert replayed["status"] == status
    assert replayed["totals"] == data["totals"]
    assert server.chat_requests == requests


def test_one_empty_reply_among_many_makes_the_run_partial(bench):
    with FaultServer("empty_once") as server:
        result, output, run, data = quality_run(bench, server)
        assert server.chat_requests == 5
    assert data["status"] == "partial"
    assert data["status_reason"].startswith("1 of 5 requests failed (hiveos); first: empty answer")
    result.stdout.fnmatch_lines(["PARTIAL: 1 of 5 requests failed*", "Total (partial)*"])
    assert [t for t, test in data["tests"].items() if test["samples"][0]["error"]] == ["hiveos"]


def test_models_junk_stops_the_run_in_one_line(bench):
    with FaultServer("models_junk") as server:
        result = bench.runpytest_subprocess("--model", SERVED, "--api-url", server.base_url, "--results-dir", "out")
        assert server.chat_requests == 0
    assert result.ret not in (0, 1)
    assert_clean(result)
    errors = [line for line in result.stderr.lines if line.startswith("ERROR: llmbench: ")]
    assert len(errors) == 1
    assert not list((bench.path / "out").glob("*/results.json"))


def test_a_cut_stream_is_never_graded_as_the_answer(bench):
    """The half answer is kept for the record, but every check fails with the reason."""
    with FaultServer("cut") as server:
        _, _, run, data = quality_run(bench, server, "-k", "zmq")
    sample = data["tests"]["zmq"]["samples"][0]
    assert sample["raw_content"] and sample["finish_reason"] is None
    assert sample["error"].startswith("stream ended early")
    assert all(c["evidence"].startswith("request failed: stream ended early")
               for c in data["tests"]["zmq"]["checks"].values())


def test_a_huge_answer_makes_a_small_report_that_links_the_full_answer(bench):
    with FaultServer("huge", huge_bytes=1 << 20) as server:
        _, _, run, data = quality_run(bench, server, "-k", "hiveos")
    assert len(data["tests"]["hiveos"]["samples"][0]["raw_content"]) >= 1 << 20
    html = (run / "report.html").read_text()
    assert len(html) < 1_500_000, len(html)   # 8 checks, each with a 20 KB head: not 8 MB of answer
    assert "more characters not shown here" in html
    assert re.search(r'href=\W*answers/hiveos\.0\.json\W*>the full answer', unescape(html))   # inside pytest-html's JSON
    assert (run / "answers" / "hiveos.0.json").is_file()


def test_no_lock_files_are_left_beside_the_answers(bench):
    with FaultServer("ok") as server:
        _, _, run, _ = quality_run(bench, server, "-k", TWO_TASKS)
    assert sorted(p.name for p in (run / "answers").iterdir()) == ["pplns.0.json", "zmq.0.json"]
    assert not list((run / "answers").rglob("*.lock")) and not (run / ".locks").exists()


def test_run_folders_go_under_the_rootdir_wherever_pytest_runs(bench):
    """``cd tests && pytest ...`` writes to <rootdir>/reports, not tests/reports."""
    tests = bench.mkdir("tests")
    (bench.path / "test_zmq.py").rename(tests / "test_zmq.py")
    with FaultServer("ok") as server:
        proc = subprocess.run([sys.executable, "-m", "pytest", "--model", SERVED, "--api-url", server.base_url,
                               "-p", "no:cacheprovider", "-q"], cwd=tests, capture_output=True, text=True,
                              timeout=300)
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert not (tests / "reports").exists()
    assert len(list((bench.path / "reports").glob("*/results.json"))) == 1
