"""The rule joining text verdicts and fix runs, and where verdicts show it (grade CLI, HTML, leaderboard)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from sandbox_helpers import needs_sandbox, require_sandbox  # noqa: F401 - the fixture needs_sandbox uses

from llmbench import cli
from llmbench.grading.check import Verdict
from llmbench.tasks import all_tasks
from llmbench.verify import grade_verified, runner, sandbox
from llmbench.verify.runner import Verifier
from llmbench.verify.scoring import FIX_CHECKS, decide, fixes_verified, is_code_only

TEST_PROBES = Path(__file__).resolve().parent / "verify_probes"
PASSED = {"status": "passed", "probe": "p", "detail": "works", "candidate": "splice from code block 1"}
FAILED = {"status": "failed", "probe": "p", "detail": "assertion X", "candidate": "splice from code block 1"}
PROSE = "The history query splices the address into the SQL text with an f-string, so it is injectable. " * 3


@pytest.fixture(autouse=True)
def fresh_cache():
    runner._MEMORY.clear()
    yield
    runner._MEMORY.clear()


def test_fix_checks_are_the_checks_whose_criterion_asks_for_the_fix():
    asks_fix = {c.id for t in all_tasks() if t.name != "hiveos" for c in t.checks
                if any(w in c.criterion for w in ("fixes it", "and fixes", "moves/limits", "and bounds it", "and validates it"))}
    assert FIX_CHECKS == asks_fix


@pytest.mark.parametrize("text_passed", [True, False])
def test_a_failing_run_fails_a_fix_check_whatever_the_prose(text_passed):
    verdict = decide("payment.sql_injection", Verdict(text_passed, "prose evidence"), FAILED, PROSE)
    assert not verdict.passed
    assert verdict.evidence.startswith("the fix fails when run (p): assertion X")
    assert ("the text alone passed" in verdict.evidence) is text_passed
    assert verdict.as_dict()["execution"] == FAILED


def test_a_passing_run_passes_a_code_only_answer_or_one_whose_prose_diagnosed_it():
    code_only = "Patch:\n\n```diff\n@@\n-x\n+y\n```\n"
    assert is_code_only(code_only) and not is_code_only(PROSE)
    assert decide("payment.sql_injection", Verdict(False, "no finding"), PASSED, code_only).passed
    diagnosed = Verdict(False, "identified but not fixed («the address is spliced into the SQL»)")
    assert decide("payment.sql_injection", diagnosed, PASSED, PROSE).passed
    # long prose that never made the finding: the run alone does not earn the diagnosis
    assert not decide("payment.sql_injection", Verdict(False, "no finding"), PASSED, PROSE).passed


@pytest.mark.parametrize("status", ["no_code", "error", "unavailable"])
def test_a_run_that_did_not_happen_changes_nothing(status):
    run = {"status": status, "probe": "", "detail": "why", "candidate": ""}
    for passed in (True, False):
        verdict = decide("payment.sql_injection", Verdict(passed, "prose"), run, "")
        assert (verdict.passed, verdict.evidence, verdict.execution) == (passed, "prose", run)


def test_diagnosis_only_checks_keep_their_text_verdict_with_the_run_beside_it():
    for run in (PASSED, FAILED):
        verdict = decide("payment.race_condition", Verdict(True, "prose"), run, PROSE)
        assert verdict.passed and verdict.execution == run
    assert not decide("stratum.byte_order", Verdict(False, "no"), PASSED, "```python\nx\n```").passed


def test_a_diagnosis_check_passed_on_its_fix_alone_falls_with_that_fix():
    fix_only = Verdict(True, "fix: reads pplns_window", kind="fix")
    assert not decide("pplns.hardcoded_share_window", fix_only, FAILED, PROSE).passed
    assert decide("pplns.hardcoded_share_window", fix_only, PASSED, PROSE).passed
    # a finding the prose asserted does not depend on its fix working
    finding = Verdict(True, "finding: share_window is hard-coded", kind="finding")
    assert decide("pplns.hardcoded_share_window", finding, FAILED, PROSE).passed


def test_hiveos_runs_can_fail_a_check_but_not_pass_one():
    failed = decide("hiveos.directory", Verdict(True, "files under ~/Downloads/ethminer"), FAILED, "")
    assert not failed.passed and failed.evidence.startswith("the files fail when run (p): assertion X")
    assert not decide("hiveos.heredocs", Verdict(False, "no heredoc"), PASSED, "").passed


def test_hiveos_files_edited_in_place_after_they_are_written_are_judged_by_their_run():
    # "sed -i" rewrites h-run.sh after its heredoc: the file reading does not follow it, bash does
    edited = "cat > h-run.sh << 'EOF'\n./ethminer -U\nEOF\nsed -i 's|^./ethminer|exec ./ethminer|' h-run.sh\n"
    verdict = decide("hiveos.h_run_exec", Verdict(False, "h-run.sh does not start ethminer with exec"), PASSED, edited)
    assert verdict.passed and verdict.evidence.startswith("the answer edits its files in place")
    # not how the files were written, and not without an in-place edit
    assert not decide("hiveos.heredocs", Verdict(False, "given as a fenced block"), PASSED, edited).passed
    assert not decide("hiveos.h_run_exec", Verdict(False, "no exec"), PASSED, edited.replace("sed -i", "sed")).passed


# -- answers that must pass and must fail, run for real ---------------------------------------
ZMQ_PROSE = ("ZeroMQ sockets are not thread-safe: a socket must be used by one thread only (the context may be "
             "shared). `ZMQListener.__init__` creates `self.socket` in the caller's thread and `start()` connects "
             "and subscribes it there, while `_listen()` calls `recv` on it from the listener thread. Fix: create "
             "the socket inside `_listen`, in the listener thread.\n\n")
ZMQ_HALF_MOVED = ZMQ_PROSE + '''```python
def start(self):
    if self.running:
        return
    self.running = True
    self.thread = threading.Thread(target=self._listen, name="zmq-listener", daemon=True)
    self.thread.start()
    self.socket.connect(self.endpoint)
    for topic in TOPICS:
        self.socket.setsockopt(zmq.SUBSCRIBE, topic)

def _listen(self):
    self.socket = self.context.socket(zmq.SUB)
    while self.running:
        try:
            frames = self.socket.recv_multipart()
        except zmq.Again:
            continue
        self._dispatch(frames)
```
'''
PAYMENT_FLOAT_DECIMAL = ('`calculate_fee` does money in float, which loses precision. Use Decimal:\n\n'
                         '```python\nfrom decimal import Decimal\n\ndef calculate_fee(self, amount):\n'
                         '    return Decimal(float(amount) * self.fee_percent / 100.0)\n\n'
                         'def batch_payments(self, balances):\n    totals = {}\n    for address, amount in balances:\n'
                         '        totals[address] = totals.get(address, Decimal(0)) + Decimal(float(amount))\n'
                         '    return totals\n```\n')
PAYMENT_SQL_DIFF_ONLY = '''```diff
--- a/payment_processor.py
+++ b/payment_processor.py
@@ -129,4 +129,5 @@
             rows = conn.execute(
                 f"SELECT id, amount, fee, txid, status, paid_at FROM payouts "
-                f"WHERE address = '{address}' ORDER BY id DESC LIMIT {int(limit)}"
+                "WHERE address = ? ORDER BY id DESC LIMIT ?",
+                (address, int(limit)),
             ).fetchall()
```
'''


@needs_sandbox
def test_wrong_fixes_that_read_right_fail_with_the_probes_assertion_as_evidence():
    verifier = Verifier(probes_dir=TEST_PROBES)
    zmq = grade_verified("zmq", ZMQ_HALF_MOVED, None, Verifier(enabled=False))["zmq.fix_socket_in_thread"]
    # the text sees start() still subscribing; the run shows which calls cross
    assert not zmq.passed and zmq.rule == "socket left on the caller"
    zmq = grade_verified("zmq", ZMQ_HALF_MOVED, None, verifier)["zmq.fix_socket_in_thread"]
    assert not zmq.passed and zmq.evidence.startswith("the fix fails when run (socket_ops_on_listener_thread): "
                                                      "socket calls outside the listener thread: ")
    assert {"connect", "subscribe"} <= set(zmq.execution["detail"].split(": ")[1].split(", "))
    fees = grade_verified("payment", PAYMENT_FLOAT_DECIMAL, None, verifier)["payment.float_precision"]
    assert not fees.passed and fees.execution["status"] == "failed"
    assert "fee of 0.1 at 0.5% is Decimal(" in fees.evidence


@needs_sandbox
def test_right_fixes_pass_including_a_diff_only_answer():
    verifier = Verifier(probes_dir=TEST_PROBES)
    sql = grade_verified("payment", PAYMENT_SQL_DIFF_ONLY, None, verifier)["payment.sql_injection"]
    assert sql.passed and sql.execution["status"] == "passed" and sql.execution["candidate"] == "diff from code block 1"
    reference = all_tasks()[0].reference_answer()
    zmq = grade_verified("zmq", reference, None, verifier)
    assert all(v.passed for v in zmq.values()) and zmq["zmq.fix_socket_in_thread"].execution["status"] == "passed"


# -- where the run is shown -----------------------------------------------------------------
def test_grade_cli_puts_execution_under_each_check_id(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner, "PROBES_DIR", TEST_PROBES)
    answer = tmp_path / "answer.md"
    answer.write_text(PAYMENT_SQL_DIFF_ONLY)
    assert cli.main(["grade", "payment", str(answer)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"passed", "evidence", "kind", "execution"} <= set(out["payment.sql_injection"]) <= {
        "passed", "evidence", "kind", "rule", "execution"}
    assert set(out["payment.sql_injection"]["execution"]) >= {"status", "probe", "detail"}
    expected = "passed" if sandbox.unavailable_reason() is None else "unavailable"
    assert out["payment.sql_injection"]["execution"]["status"] == expected
    assert cli.main(["grade", "payment", str(answer), "--no-exec"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["payment.sql_injection"]["execution"]["detail"] == "execution turned off (--no-exec)"


def test_the_html_fix_run_column_escapes_the_probes_output():
    from llmbench.plugin._html import HtmlHooks

    hooks = HtmlHooks(SimpleNamespace())
    header: list = ["<th>Result</th>", "<th>Test</th>", "<th>Duration</th>"]
    hooks.pytest_html_results_table_header(header)
    assert header[6] == "<th>Fix run</th>"
    run = {"status": "failed", "probe": "history<b>", "detail": "<script>alert(1)</script> returned rows"}
    report = SimpleNamespace(nodeid="tests/quality/test_payment.py::test_check[payment.sql_injection]", when="call",
                             user_properties=[("llmbench", {"task": "payment", "check": "payment.sql_injection",
                                                            "passed": False, "per_sample": [
                                                                {"passed": False, "evidence": "e", "execution": run}]})])
    cells = ["<td>Failed</td>", "<td>id</td>", "<td>1s</td>"]
    hooks.pytest_html_results_table_row(report, cells)
    assert cells[6] == ('<td class="col-fixrun" style="max-width:30em">failed (history&lt;b&gt;): '
                        "&lt;script&gt;alert(1)&lt;/script&gt; returned rows</td>")


def test_fixes_verified_counts_runs_that_happened():
    def check(*statuses):
        return {"per_sample": [{"passed": True, "evidence": "", "execution": {"status": s}} for s in statuses]}

    results = {"tests": {"payment": {"checks": {"a": check("passed"), "b": check("failed", "passed"),
                                                "c": check("no_code"), "d": check("unavailable")}}}}
    assert fixes_verified(results) == (2, 3)
    assert fixes_verified({"tests": {"payment": {"checks": {"a": {"per_sample": [{"passed": True}]}}}}}) is None


def test_the_leaderboard_shows_fixes_verified_per_model(tmp_path):
    from leaderboard_helpers import write_quality_run

    from llmbench.cli.report import main as report_main

    root = tmp_path / "reports"
    path = write_quality_run(root, "with-runs", passes={"payment": [4]})
    data = json.loads(path.read_text())
    statuses = ["passed", "failed", "no_code", "passed"]
    for check, status in zip(data["tests"]["payment"]["checks"].values(), statuses, strict=True):
        check["per_sample"][0]["execution"] = {"status": status, "probe": "p", "detail": "d"}
    path.write_text(json.dumps(data))
    write_quality_run(root, "older", alias="other", name="Other-Model", passes={"payment": [3]})
    out = tmp_path / "out"
    assert report_main([str(root), "--out", str(out)]) == 0
    md = (out / "leaderboard.md").read_text()
    detailed = md[md.index("Detailed Test Results"):]
    lines = [line for line in detailed.splitlines() if line.startswith("| ")]
    assert lines[0] == "| Model | Payment (4) | Total | Fixes verified |"
    assert lines[1] == "| Qwen3-Coder-30B-A3B | 4/4 | **4/4** | 2/3 |"    # 2 of the 3 runs that ran passed
    assert lines[2] == "| Other-Model | 3/4 | 3/4 | - |"                   # recorded without fix runs
