"""``llmbench sweep``: a reduced sweep against the built-in engine, and a failing server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from llmbench.sim.server import start_background
from llmbench.throughput.sweep import headline


def _sweep(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "llmbench", "sweep", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def demo_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    proc = _sweep("--model", "demo", "--levels", "1,2,4", "--max-tokens", "48", "--requests-per-client", "2",
                  "--min-seconds", "0", "--capacity-curve", "1:100,2:150,4:180", "--slo", "tpot=17.5ms",
                  "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_sweep_writes_the_three_files(demo_sweep):
    out, proc = demo_sweep
    assert (out / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "scaling.md").read_text()
    assert "| Concurrency | demo |" in md and "TTFT p50" in md and "ITL p99" in md
    assert f"wrote {out}/sweep.json" in proc.stdout
    for c in (1, 2, 4):
        assert (out / "levels" / f"c{c:03d}" / "benchmark.json").exists()


def test_sweep_json_has_the_issue_fields(demo_sweep):
    sweep = json.loads((demo_sweep[0] / "sweep.json").read_text())
    assert sweep["kind"] == "sweep" and sweep["status"] == "complete" and sweep["started_at"]
    assert sweep["model"] == {"alias": "demo", "name": "demo", "served_name": "demo"}
    assert sweep["api_url"].startswith("http://127.0.0.1:") and sweep["serving"]["framework"] == "llmbench-sim"
    assert [lv["concurrency"] for lv in sweep["levels"]] == [1, 2, 4]
    for lv in sweep["levels"]:
        for key in ("requests", "output_tokens", "duration_s", "aggregate_tok_s", "per_request_tok_s_mean", "errors"):
            assert key in lv
        for key in ("ttft_s", "tpot_s", "itl_s", "e2e_s"):
            assert set(lv[key]) >= {"p50", "p90", "p99"}
        assert lv["requests"] == 2 * lv["concurrency"] and lv["errors"] == 0
        assert lv["output_tokens"] == 48 * lv["requests"]
    assert sweep["single_tok_s"] == sweep["levels"][0]["aggregate_tok_s"]
    assert sweep["peak_concurrency"] in (2, 4)


def test_sweep_names_the_highest_concurrency_meeting_the_slo(demo_sweep):
    # per stream: 100 tok/s at C=1, 75 at C=2 (13.3 ms a token), 45 at C=4 (22.2 ms): 17.5 ms holds up to C=2
    out, proc = demo_sweep
    sweep = json.loads((out / "sweep.json").read_text())
    assert sweep["slo"]["limits_s"] == {"tpot": pytest.approx(0.0175)} and sweep["slo"]["attainment"] == 0.9
    assert [lv["slo"]["met"] for lv in sweep["levels"]] == [True, True, False]
    assert sweep["slo_max_concurrency"] == 2
    c2 = sweep["levels"][1]
    assert sweep["slo_goodput_tok_s"] == c2["slo"]["goodput_tok_s"] == pytest.approx(
        c2["slo"]["good"] * 48 / c2["duration_s"])
    md = (out / "scaling.md").read_text()
    assert "Highest concurrency meeting the SLO (tpot ≤ 17.5 ms; 90% of requests): **C=2**" in md
    assert "### Goodput under the SLO" in md
    assert "highest concurrency meeting it 2" in proc.stdout


def test_sweep_agrees_with_the_engines_own_count(demo_sweep):
    sweep = json.loads((demo_sweep[0] / "sweep.json").read_text())
    for lv in sweep["levels"]:
        assert lv["aggregate_tok_s"] == pytest.approx(lv["engine_truth"]["window_tok_s"], rel=0.03)


def test_headline_names_single_peak_and_saturation():
    levels = [{"concurrency": c, "requests": 1, "aggregate_tok_s": v}
              for c, v in [(1, 100), (2, 190), (4, 300), (8, 310), (16, 305)]]
    assert headline(levels) == {"single_tok_s": 100, "peak_tok_s": 310, "peak_concurrency": 8,
                                "saturation_concurrency": 4}


def test_saturation_is_also_a_level_slower_than_the_one_before():
    levels = [{"concurrency": c, "requests": 1, "aggregate_tok_s": v} for c, v in [(1, 100), (3, 250), (5, 240), (7, 400)]]
    assert headline(levels)["saturation_concurrency"] == 3
    rising = [{"concurrency": c, "requests": 1, "aggregate_tok_s": v} for c, v in [(1, 100), (3, 250), (5, 300)]]
    assert headline(rising)["saturation_concurrency"] is None


def test_a_level_runs_at_least_min_seconds(tmp_path):
    proc = _sweep("--model", "demo", "--levels", "1", "--max-tokens", "8", "--requests-per-client", "1",
                  "--warmup", "0", "--min-seconds", "1.5", "--capacity-curve", "1:400", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    level = json.loads((tmp_path / "sweep.json").read_text())["levels"][0]
    # one request takes about 20 ms: the client keeps sending until 1.5 s have passed
    assert level["duration_s"] >= 1.45 and level["requests"] > 20


def test_a_failing_level_is_recorded_and_the_sweep_goes_on(tmp_path):
    with start_background(capacity_curve="1:2000", fail="http500") as sim:
        proc = _sweep("--model", "some/served-model", "--api-url", sim.base_url, "--levels", "1,2",
                      "--max-tokens", "8", "--requests-per-client", "1", "--warmup", "0", "--min-seconds", "0",
                      "--out", str(tmp_path))
    # every level is recorded; with nothing measured at all, the exit status says so
    assert proc.returncode == 2 and "every request failed" in proc.stderr, proc.stderr
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    assert sweep["model"]["served_name"] == "some/served-model"
    assert [(lv["concurrency"], lv["errors"]) for lv in sweep["levels"]] == [(1, 1), (2, 2)]
    assert sweep["peak_tok_s"] is None
    assert "HTTP 500" in (tmp_path / "scaling.md").read_text()


def test_bad_slo_is_one_line():
    proc = _sweep("--model", "demo", "--slo", "latency=5ms")
    assert proc.returncode == 2 and "unknown limit 'latency'" in proc.stderr and proc.stderr.count("\n") == 1


def test_unknown_option_value_is_one_line():
    proc = _sweep("--model", "demo", "--levels", "x")
    assert proc.returncode == 2 and proc.stderr.startswith("llmbench: sweep:") and proc.stderr.count("\n") == 1


@pytest.fixture(scope="module")
def rate_sweep(tmp_path_factory):
    """Requests of 32 tokens on 8 slots of 200 tok/s each after a 50 ms prefill (0.21 s a request): at most
    38 req/s, so at 64 req/s they queue; at 16 req/s about 3.4 slots are busy."""
    out = tmp_path_factory.mktemp("rate-sweep")
    proc = _sweep("--model", "demo", "--rates", "4,16,64", "--max-tokens", "32", "--min-seconds", "0.75",
                  "--slo", "ttft=150ms", "--prefill-tok-s", "500",
                  "--capacity-curve", "1:400,4:1200,8:1600", "--max-streams", "8", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_rate_sweep_reports_load_queueing_and_the_break(rate_sweep):
    out, proc = rate_sweep
    sweep = json.loads((out / "sweep.json").read_text())
    assert sweep["mode"] == "rate" and sweep["status"] == "complete" and sweep["arrival"] == "constant"
    assert [lv["rate"] for lv in sweep["levels"]] == [4, 16, 64]
    for lv in sweep["levels"]:
        assert lv["requests"] == max(4, round(0.75 * lv["rate"])) and lv["errors"] == 0
        assert lv["achieved_rate"] == pytest.approx(lv["rate"], rel=0.05)
        assert lv["aggregate_tok_s"] == pytest.approx(lv["engine_truth"]["window_tok_s"], rel=0.03)
    low, _, high = sweep["levels"]
    assert not low["ttft_growth"]["queue_building"] and high["ttft_growth"]["queue_building"]
    assert high["in_flight_max"] > 8            # requests kept coming while earlier ones queued
    assert sweep["latency_break_rate"] == 64 and sweep["max_rate_before_break"] == 16
    assert "latency breaks at 64 req/s" in proc.stdout
    md = (out / "scaling.md").read_text()
    assert "Latency breaks at **64 req/s**" in md and "(queueing)" in md and "send lag p99" in md
    assert (out / "scaling.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "levels" / "r64" / "records.jsonl").exists()
    assert sweep["slo_max_rate"] == 16 and not high["slo"]["met"] and high["slo"]["violations"]["ttft"] > 0
    assert "Highest rate meeting the SLO (ttft ≤ 150 ms; 90% of requests): **16 req/s**" in md


def test_rates_and_levels_do_not_mix():
    proc = _sweep("--model", "demo", "--levels", "1,2", "--rates", "1")
    assert proc.returncode == 2 and "not allowed with" in proc.stderr and proc.stderr.count("\n") == 1


def test_leaderboard_page_shows_the_slo_headline(demo_sweep, tmp_path):
    from llmbench.cli.report import main as report_main

    out = tmp_path / "board"
    assert report_main([str(demo_sweep[0]), "--out", str(out)]) == 0
    md = (out / "leaderboard.md").read_text()
    section = md.split("## Serving Within the SLO", 1)[1].split("\n## ", 1)[0]
    assert "tpot ≤ 17.5 ms; 90% of requests" in section and "**C=2**" in section
    assert "Serving Within the SLO" in (out / "leaderboard.html").read_text()


def test_streams_per_worker_run_many_streams_in_few_processes(tmp_path):
    proc = _sweep("--model", "demo", "--levels", "12", "--streams-per-worker", "5", "--max-tokens", "24",
                  "--requests-per-client", "2", "--min-seconds", "1", "--capacity-curve", "1:500,12:3000",
                  "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    level = json.loads((tmp_path / "sweep.json").read_text())["levels"][0]
    assert level["concurrency"] == 12 and level["clients"] == 3 and level["requests"] >= 24 and level["errors"] == 0
    records = [json.loads(x) for x in (tmp_path / "levels" / "c012" / "records.jsonl").read_text().splitlines()]
    assert sorted({r["client"] for r in records}) == list(range(12))
    assert level["aggregate_tok_s"] == pytest.approx(level["engine_truth"]["window_tok_s"], rel=0.03)
