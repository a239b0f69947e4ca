"""The plugin end to end with pytester: one request per test, clear failures, results."""

from __future__ import annotations

import json
from pathlib import Path

from llmbench.tasks import TASK_NAMES, get_task


def _results(base: Path) -> dict:
    runs = sorted(base.glob("*/results.json"))
    assert runs, f"no results.json under {base}"
    return json.loads(runs[-1].read_text())


def _chat_requests(handle) -> int:
    return len(handle.stats()["requests"])


def test_without_model_benchmark_is_skipped_with_hint(bench):
    result = bench.runpytest("-rs")
    result.assert_outcomes(skipped=22)
    result.stdout.fnmatch_lines(["*no --model given; try `pytest --model demo`*"])


def test_demo_runs_all_checks_and_writes_reports(bench):
    result = bench.runpytest("--model", "demo", "--results-dir", "out", "-v")
    result.assert_outcomes(passed=22)
    result.stdout.fnmatch_lines(["*test_stratum?stratum.byte_order? PASSED*", "Total*22/22*100.0%*"])
    data = _results(bench.path / "out")
    assert data["status"] == "complete" and data["demo"] is True
    assert data["totals"] == {"score": 22, "max": 22, "percent": 100.0}
    assert list(data["tests"]) == list(TASK_NAMES)
    for name, test in data["tests"].items():
        assert len(test["samples"]) == 1
        assert set(test["checks"]) == set(get_task(name).check_ids)
        assert all(c["evidence"] for c in test["checks"].values())
    assert (bench.path / "out" / data["run_id"] / "report.html").exists()


def test_k_selects_one_test_with_one_request(bench, start_sim):
    handle = start_sim(instant=True)
    result = bench.runpytest("--model", "demo", "--api-url", handle.base_url, "--results-dir", "out", "-k", "stratum")
    result.assert_outcomes(passed=5)
    assert _chat_requests(handle) == 1
    data = _results(bench.path / "out")
    assert list(data["tests"]) == ["stratum"] and len(data["tests"]["stratum"]["samples"]) == 1


def test_k_one_check_still_one_request(bench, start_sim):
    handle = start_sim(instant=True)
    result = bench.runpytest("--model", "demo", "--api-url", handle.base_url, "--results-dir", "out",
                             "-k", "stratum.byte_order")
    result.assert_outcomes(passed=1)
    assert _chat_requests(handle) == 1


def test_xdist_sends_one_request_per_test(bench, start_sim):
    handle = start_sim(instant=True)
    result = bench.runpytest_subprocess("--model", "demo", "--api-url", handle.base_url,
                                        "--results-dir", "out", "-n", "3")
    result.assert_outcomes(passed=22)
    assert _chat_requests(handle) == 5
    data = _results(bench.path / "out")
    assert data["totals"]["max"] == 22 and data["status"] == "complete"


def test_server_down_is_one_clear_line(bench, closed_port):
    result = bench.runpytest_subprocess("--model", "x", "--api-url", f"http://127.0.0.1:{closed_port}/v1")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["ERROR: llmbench: server check failed: cannot reach http://127.0.0.1:*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_wrong_model_name_lists_what_is_served(bench, start_sim):
    handle = start_sim(instant=True)
    result = bench.runpytest_subprocess("--model", "qwen3-coder", "--api-url", handle.base_url)
    assert result.ret != 0
    result.stderr.fnmatch_lines([
        "ERROR: llmbench: model 'QuantTrio/Qwen3-Coder-30B-A3B-Instruct-AWQ' is not served at *; it serves: demo*"])
    assert "Traceback" not in result.stderr.str()
    assert _chat_requests(handle) == 0


def test_malformed_models_file_is_one_clear_line(bench):
    bench.path.joinpath("bad.yaml").write_text("models:\n  mine:\n    served_name: m\n    tp: two\n")
    result = bench.runpytest_subprocess("--model", "mine", "--models-file", "bad.yaml")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["ERROR: llmbench: bad.yaml: model 'mine': field 'tp' must be a positive integer*"])
    assert "Traceback" not in result.stderr.str()


def test_http_errors_fail_the_checks_with_the_reason(bench, start_sim):
    handle = start_sim(fail="http500")
    result = bench.runpytest("--model", "demo", "--api-url", handle.base_url, "--results-dir", "out", "-k", "zmq")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*zmq.socket_crosses_threads failed: request failed: HTTP 500*"])
    data = _results(bench.path / "out")
    assert data["tests"]["zmq"]["samples"][0]["error"].startswith("HTTP 500")


def test_timeouts_fail_the_checks_with_the_reason(bench, start_sim):
    handle = start_sim(fail="stall", stall_s=30)
    result = bench.runpytest("--model", "demo", "--api-url", handle.base_url, "--results-dir", "out",
                             "--request-timeout", "1", "-k", "zmq")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*request failed: timed out after 1s*"])


def test_results_survive_an_interrupted_run(bench):
    bench.makepyfile(test_zz_interrupt="def test_interrupt():\n    raise KeyboardInterrupt\n")
    bench.runpytest_subprocess("--model", "demo", "--results-dir", "out")
    data = _results(bench.path / "out")
    assert data["status"] == "interrupted"
    assert data["totals"]["max"] == 22  # every check that ran before Ctrl-C is kept


def test_results_survive_a_hard_crash(bench):
    bench.makepyfile(test_zz_crash="import os\ndef test_crash():\n    os._exit(3)\n")
    result = bench.runpytest_subprocess("--model", "demo", "--results-dir", "out")
    assert result.ret == 3
    data = _results(bench.path / "out")
    assert data["status"] == "running" and data["totals"]["score"] == 22


def test_api_key_reaches_no_report(bench, start_sim):
    handle = start_sim(instant=True)
    secret = "sk-llmbench-test-SECRET"
    result = bench.runpytest_subprocess("--model", "demo", "--api-url", handle.base_url, "--api-key", secret,
                                        "--results-dir", "out", "-k", "zmq", "-v")
    result.assert_outcomes(passed=2)
    run = sorted((bench.path / "out").glob("*/"))[-1]
    for path in [p for p in run.rglob("*") if p.is_file()]:
        assert secret not in path.read_text(errors="replace"), path
    assert secret not in result.stdout.str() + result.stderr.str()


def test_api_key_from_environment_reaches_no_report(bench, start_sim, monkeypatch):
    handle = start_sim(instant=True)
    secret = "sk-env-SECRET-value"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    result = bench.runpytest_subprocess("--model", "demo", "--api-url", handle.base_url, "--results-dir", "out",
                                        "-k", "zmq")
    result.assert_outcomes(passed=2)
    html = next((bench.path / "out").glob("*/report.html")).read_text()
    assert secret not in html
