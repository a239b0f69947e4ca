"""``pytest tests/throughput -n C``: C clients, records reach the controller, files are written."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import pairwise

import pytest
from throughput_helpers import CONFTEST, FAST_CURVE, THROUGHPUT_TEST

from llmbench.sim.server import start_background


@pytest.fixture
def project(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_throughput=THROUGHPUT_TEST.read_text())

    def run(*args, **sim_options):
        with start_background(**{"capacity_curve": FAST_CURVE, **sim_options}) as sim:
            monkeypatch.setenv("SIM_URL", sim.base_url)
            out = pytester.path / "out"
            result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--max-tokens", "24",
                                                   "--throughput-requests", "3", "--min-seconds", "0",
                                                   "--throughput-out", str(out), *args)
        return result, out

    return run


def test_xdist_runs_one_client_per_worker_and_controller_writes_the_run(project):
    result, out = project("-n", "2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "*llmbench throughput: simtest, concurrency 2*",
        "aggregate * tok/s over the steady window*",
        "requests 6 ok, 0 errors*",
        "TTFT  p50 * ms  p90 * ms  p99 * ms*",
        "ITL   p50 *",
        "built-in engine's own count over the window:*",
    ])
    summary = json.loads((out / "throughput.json").read_text())
    level = summary["level"]
    assert level["concurrency"] == 2 and level["clients"] == 2
    assert level["requests"] == 6 and level["output_tokens"] == 6 * 24
    assert len({c["pid"] for c in summary["clients"]}) == 2          # two processes
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert len(records) == 8 and sum(r["warmup"] for r in records) == 2
    # measured against the same window, client and engine count the same tokens
    truth = summary["engine_truth"]["window_tok_s"]
    assert level["aggregate_tok_s"] == pytest.approx(truth, rel=0.03)


def test_benchmark_json_is_readable_by_pytest_benchmark_compare(project):
    result, out = project()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*concurrency 1*"])
    bench = json.loads((out / "benchmark.json").read_text())
    names = sorted(b["name"] for b in bench["benchmarks"])
    assert names == ["test_throughput[e2e-c1]", "test_throughput[itl-c1]",
                     "test_throughput[tpot-c1]", "test_throughput[ttft-c1]"]
    assert bench["benchmarks"][0]["extra_info"]["aggregate_tok_s"] > 0
    compare = subprocess.run([sys.executable, "-m", "pytest_benchmark", "compare", str(out / "benchmark.json")],
                             capture_output=True, text=True, timeout=60)
    assert compare.returncode == 0, compare.stderr
    assert "test_throughput[ttft-c1]" in compare.stdout


@pytest.mark.parametrize("fault,expect", [
    ("http500", "requests 2 ok, 2 errors {'http': 2}*"),
    ("drop_midstream", "requests 2 ok, 2 errors {'dropped': 2}*"),
    ("no_usage", "note: 2 requests had no usage: tokens counted one per chunk"),
])
def test_faulty_server_is_recorded_not_a_crash(project, fault, expect):
    # one warm-up + 3 measured requests; every 2nd request fails: measured 2 and 4
    result, out = project("--throughput-requests", "4", "--throughput-warmup", "0", fail=fault, fail_every=2)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([expect])
    assert (out / "throughput.json").exists()


def test_client_fails_only_when_nothing_got_through(project):
    result, out = project(fail="http500")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*all 3 requests of client 0 failed*HTTP 500*", "*requests 0 ok, 3 errors*"])


def test_options_are_validated(project):
    result, _ = project("--throughput-requests", "many")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*--throughput-requests*whole number*"])


def test_rate_runs_open_loop_over_the_workers(project):
    # 2 workers share 20 req/s: 10 each, for at least 0.6 s -> 6 requests each, sent on schedule
    result, out = project("-n", "2", "--rate", "20", "--min-seconds", "0.6", "--throughput-requests", "2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "*llmbench throughput: simtest, rate 20 req/s*",
        "aggregate * tok/s over the sending window*",
        "requests 12 ok, 0 errors*",
        "offered 20 req/s (constant), sent at * req/s; in flight max *",
        "send lag behind schedule  p50 * ms*",
        "built-in engine's own count over the window:*",
    ])
    summary = json.loads((out / "throughput.json").read_text())
    level = summary["level"]
    assert level["mode"] == "rate" and level["rate"] == 20 and level["requests"] == 12
    assert level["achieved_rate"] == pytest.approx(20, rel=0.1)
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    measured = sorted((r for r in records if not r["warmup"]), key=lambda r: r["scheduled_ns"])
    # the two workers' schedules interleave into one stream 50 ms apart
    gaps = [(b["scheduled_ns"] - a["scheduled_ns"]) / 1e6 for a, b in pairwise(measured)]
    assert all(gap == pytest.approx(50, abs=1) for gap in gaps)
    assert all(r["start_ns"] >= r["scheduled_ns"] for r in measured)
    assert level["aggregate_tok_s"] == pytest.approx(summary["engine_truth"]["window_tok_s"], rel=0.03)


def test_rate_sends_on_schedule_even_when_the_server_is_slow(project):
    # each request takes about 24/60 s = 0.4 s at one stream: far longer than the 0.1 s between sends;
    # an open-loop client keeps sending, so several requests are in flight at once
    result, out = project("--rate", "10", "--min-seconds", "0.5", "--throughput-requests", "1",
                          "--throughput-warmup", "0", capacity_curve="1:60,8:480")
    result.assert_outcomes(passed=1)
    level = json.loads((out / "throughput.json").read_text())["level"]
    assert level["requests"] == 5 and level["in_flight_max"] >= 3
    assert level["send_lag_s"]["max"] < 0.05


def test_slo_marks_requests_and_reports_goodput(project):
    result, out = project("--slo", "ttft=5s,e2e=1ms")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["SLO (ttft ≤ 5 s, e2e ≤ 1 ms; 90% of requests): NOT met, 0% good (0/3), missed: e2e 3;*"])
    level = json.loads((out / "throughput.json").read_text())["level"]
    assert level["slo"]["good"] == 0 and level["slo"]["goodput_tok_s"] == 0


def test_bad_slo_is_a_usage_error(project):
    result, _ = project("--slo", "ttft=soon")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*--slo*duration like 500ms*"])


def test_lengths_and_prefix_reach_every_worker(project):
    result, out = project("-n", "2", "--input-tokens", "100", "--output-tokens", "10", "--prefix-tokens", "20")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["workload: drawn lengths 100, shared prefix of 20 tokens; input tokens mean 100, "
                                 "p50 100 (target mean 100); output tokens mean 10, p50 10"])
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert {r["prompt_tokens"] for r in records} <= {99, 100, 101} and {r["output_tokens"] for r in records} == {10}


def test_prompts_and_input_tokens_do_not_mix(project):
    result, _ = project("--prompts", "coding", "--input-tokens", "100")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["throughput: --prompts and --input-tokens do not mix: the file gives the prompts"])
    assert "During handling" not in result.stdout.str()


def test_streams_per_worker_multiply_the_concurrency_over_popen_workers(project):
    # two workers started with --tx popen (the path that spreads over hosts with --tx ssh=...), 4 streams each
    result, out = project("-d", "--tx", "2*popen", "--streams-per-worker", "4", "--throughput-requests", "2",
                          "--min-seconds", "1")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*llmbench throughput: simtest, concurrency 8*", "requests * ok, 0 errors*"])
    summary = json.loads((out / "throughput.json").read_text())
    level = summary["level"]
    assert level["concurrency"] == 8 and level["clients"] == 2 and level["streams_per_worker"] == 4
    assert len({c["pid"] for c in summary["clients"]}) == 2
    # --tx workers meet at the controller's TCP start line and measure their clock against it (here: one machine)
    assert all(abs(c["clock_offset_ns"]) < 5_000_000 for c in summary["clients"])
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert sorted({r["client"] for r in records}) == list(range(8))     # every stream has its own index
    assert level["aggregate_tok_s"] == pytest.approx(summary["engine_truth"]["window_tok_s"], rel=0.03)


def test_repeat_runs_the_level_n_times_with_progress_lines(project, monkeypatch):
    monkeypatch.setenv("LLMBENCH_PROGRESS_EVERY", "0.2")   # not a terminal: a plain line this often
    result, out = project("-n", "2", "--repeat", "3", "--min-seconds", "0.8", "--throughput-requests", "1")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "  throughput, concurrency 2 (run 1 of 3): * requests done, * tok/s so far, 0 errors",
        "  throughput, concurrency 2 (run 3 of 3): * requests done, * tok/s so far, 0 errors",
        "*llmbench throughput: simtest, concurrency 2*",
        "repeated 3 times, mean ?95% interval?: * ?*–*? tok/s, TTFT p50 * ?*–*? ms, ITL p50 *, E2E p50 *",
    ])
    summary = json.loads((out / "throughput.json").read_text())
    level = summary["level"]
    runs = [json.loads((out / f"run-{k}" / "throughput.json").read_text())["level"] for k in (1, 2, 3)]
    assert summary["repeat"] == 3 and level["repeat"]["n"] == 3
    assert level["requests"] == sum(run["requests"] for run in runs) and level["errors"] == 0
    tok_s = [run["aggregate_tok_s"] for run in runs]
    assert level["repeat"]["values"]["aggregate_tok_s"] == tok_s
    lo, hi = level["repeat"]["ci95"]["aggregate_tok_s"]
    assert level["aggregate_tok_s"] == pytest.approx(sum(tok_s) / 3) and lo < level["aggregate_tok_s"] < hi
    for run in runs:   # each run checked against the engine's count over its own window
        assert run["aggregate_tok_s"] == pytest.approx(run["engine_truth"]["window_tok_s"], rel=0.03)
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert sum(not r["warmup"] for r in records) == level["requests"]


def test_quiet_prints_no_progress(project, monkeypatch):
    monkeypatch.setenv("LLMBENCH_PROGRESS_EVERY", "0.2")
    result, _ = project("-q", "--min-seconds", "0.8", "--throughput-requests", "1")
    result.assert_outcomes(passed=1)
    assert "requests done" not in result.stdout.str()


def test_server_metrics_are_sampled_during_the_level(project):
    # the built-in server publishes /metrics under vLLM's names beside its API
    result, out = project("-n", "2", "--throughput-warmup", "0", "--min-seconds", "1.5", "--metrics-interval", "0.1")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["server /metrics: running mean * max 2; waiting mean 0.0 max 0; its token counter * tok/s vs the client's *"])
    summary = json.loads((out / "throughput.json").read_text())
    assert summary["server_metrics"]["available"] and summary["server_metrics"]["url"].endswith("/metrics")
    m, level = summary["level"]["server_metrics"], summary["level"]
    assert m["samples"] >= 10 and m["running_max"] == 2 and set(m["series"]) >= {"t_s", "running", "waiting"}
    assert m["generation_tokens_delta"] == level["output_tokens"]   # no warm-up: every token counted is measured
    assert abs(m["second_truth"]["diff_percent"]) < 3


def test_server_metrics_off_and_unavailable(project):
    result, out = project("--server-metrics", "off")
    result.assert_outcomes(passed=1)
    summary = json.loads((out / "throughput.json").read_text())
    assert "server_metrics" not in summary and "server_metrics" not in summary["level"]
    result, out = project("--metrics-url", "http://127.0.0.1:9/metrics")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["no server metrics (http://127.0.0.1:9/metrics: *); the client's figures only"])
    assert json.loads((out / "throughput.json").read_text())["server_metrics"]["available"] is False
