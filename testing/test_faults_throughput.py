"""Faults never become scores: the throughput run and ``llmbench sweep`` against a misbehaving server.

For every fault mode: no traceback, failures recorded as errors with one-line
reasons (an empty completion too), the run's files written, and a status true
to what happened (complete, partial when some requests failed, failed when none
got through).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from faultserver import SERVED, FaultServer
from throughput_helpers import THROUGHPUT_TEST

from llmbench.throughput.aggregate import summarize_level
from llmbench.throughput.client import RequestRecord

# mode -> (status, error kind of the failed requests, words of their reason)
EXPECTED = {
    "ok": ("complete", None, None),
    "slow": ("complete", None, None),
    "huge": ("complete", None, None),
    "empty": ("failed", "empty", "empty completion"),
    "done_only": ("failed", "empty", "empty completion"),
    "http500": ("failed", "http", "HTTP 500"),
    "http401": ("failed", "http", "HTTP 401"),
    "http404": ("failed", "http", "HTTP 404"),
    "html": ("failed", "protocol", "text/html instead of an event stream"),
    "killed": ("failed", "connect", None),
    "cut": ("failed", "dropped", "stream ended early"),
    "hang": ("failed", "timeout", "no data for 1s"),
    "malformed": ("failed", "dropped", None),
    "models_junk": ("complete", None, None),   # the sweep sends no /models request
}
REQUESTS = 3


def _clean(output: str) -> None:
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]


def _check_level(level: dict, mode: str) -> None:
    status, kind, words = EXPECTED[mode]
    if status == "complete":
        assert level["errors"] == 0 and level["requests"] == level["requests_total"], level["error_examples"]
        assert level["output_tokens"] > 0
        return
    assert level["requests"] == 0 and level["errors"] >= 1
    assert set(level["error_kinds"]) == {kind}, level["error_kinds"]
    if words:
        assert any(words in e for e in level["error_examples"]), level["error_examples"]
    assert all("\n" not in e for e in level["error_examples"])
    assert level["per_request_tok_s_mean"] is None
    # tokens that arrived before a cut still count as produced; otherwise there is no rate to show
    assert (level["aggregate_tok_s"] > 0) == (level["output_tokens"] > 0) == (mode == "cut")


@pytest.mark.parametrize("mode", sorted(m for m in EXPECTED if m != "models_junk"))
def test_throughput_run_records_every_fault(pytester, mode):
    pytester.makepyfile(test_throughput=THROUGHPUT_TEST.read_text())
    with FaultServer(mode, delay_s=0.005, hang_s=10) as server:
        result = pytester.runpytest_subprocess("--model", SERVED, "--api-url", server.base_url, "--results-dir", "out",
                                    "--request-timeout", "1" if mode == "hang" else "30", "--max-tokens", "16",
                                    "--throughput-requests", str(REQUESTS), "--throughput-warmup", "0", "--min-seconds", "0")
    _clean(result.stdout.str() + result.stderr.str())
    (summary_path,) = (pytester.path / "out").glob("*/throughput-c1/throughput.json")
    summary = json.loads(summary_path.read_text())
    assert (summary_path.parents[1] / "report.html").is_file()
    _check_level(summary["level"], mode)
    status = EXPECTED[mode][0]
    assert summary["status"] == status
    if status == "failed":
        assert result.ret == 1
        result.stdout.fnmatch_lines([f"*all {REQUESTS} requests of client 0 failed; first: *",
                                     "status: failed: no request succeeded*"])
    else:
        assert result.ret == 0 and summary["status_reason"] is None


def test_one_empty_reply_among_many_is_an_error_not_a_crash(pytester):
    pytester.makepyfile(test_throughput=THROUGHPUT_TEST.read_text())
    with FaultServer("empty_once") as server:
        result = pytester.runpytest_subprocess("--model", SERVED, "--api-url", server.base_url, "--results-dir", "out",
                                    "--throughput-requests", "3", "--throughput-warmup", "0", "--min-seconds", "0")
    _clean(result.stdout.str())
    result.assert_outcomes(passed=1)
    summary = json.loads(next((pytester.path / "out").glob("*/throughput-c1/throughput.json")).read_text())
    level = summary["level"]
    assert (level["requests"], level["errors"], level["error_kinds"]) == (2, 1, {"empty": 1})
    assert summary["status"] == "partial" and summary["status_reason"].startswith("1 of 3 requests failed")
    result.stdout.fnmatch_lines(["requests 2 ok, 1 errors {'empty': 1}*"])


def test_an_ok_request_with_no_tokens_does_not_break_the_aggregation():
    """A record the server reported as finished with 0 tokens (older files) has no rate: it is left out."""
    ok = RequestRecord(0, 0, False, start_ns=0, first_token_ns=10**8, end_ns=10**9,
                       chunk_ns=[10**8, 5 * 10**8], chunk_tokens=[1, 1], output_tokens=2)
    zero = RequestRecord(0, 1, False, start_ns=10**9, end_ns=2 * 10**9)
    level = summarize_level(1, [{"records": [ok.as_dict(), zero.as_dict()], "cpu_s": 0.0}], 16)
    assert level["requests"] == 2 and level["per_request_tok_s_mean"] == pytest.approx(2.0)


def _sweep(server: FaultServer, out, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "llmbench", "sweep", "--model", SERVED, "--api-url", server.base_url,
         "--levels", "1,2", "--requests-per-client", "2", "--warmup", "0", "--max-tokens", "16",
         "--timeout", "1", "--min-seconds", "0", "--out", str(out), *extra],
        capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_sweep_records_every_fault(tmp_path, mode):
    with FaultServer(mode, delay_s=0.005, hang_s=10) as server:
        proc = _sweep(server, tmp_path)
    _clean(proc.stdout + proc.stderr)
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    assert (tmp_path / "scaling.md").is_file() and (tmp_path / "scaling.png").is_file()
    status = EXPECTED[mode][0]
    if status == "failed":   # nothing was measured: one line on stderr and a failing exit
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith("llmbench: every request failed")
    else:
        assert proc.returncode == 0, proc.stderr
    if mode == "killed":   # the first request kills the server; everything after is refused
        assert sweep["status"] == "failed" and sweep["levels"][0]["requests"] == 0
        assert sum(lv["errors"] for lv in sweep["levels"]) == 6
    else:
        for level in sweep["levels"]:
            _check_level(level, mode)
        assert sweep["status"] == status
    if status == "failed":
        assert sweep["status_reason"].startswith("no request succeeded (6 failed); first: ")
        assert f"status: failed: {sweep['status_reason']}" in proc.stdout
        assert sweep["peak_tok_s"] is None
    else:
        assert sweep["status_reason"] is None and sweep["peak_tok_s"] > 0


def test_sweep_with_one_empty_reply_is_partial(tmp_path):
    with FaultServer("empty_once") as server:
        proc = _sweep(server, tmp_path)
    _clean(proc.stdout + proc.stderr)
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    assert sweep["status"] == "partial"
    assert sweep["status_reason"].startswith("1 of 6 requests failed; first: empty completion")
    assert [lv["errors"] for lv in sweep["levels"]] == [1, 0]
