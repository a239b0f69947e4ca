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
                  "--capacity-curve", "1:1000,2:1600,4:1700", "--out", str(out))
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


def test_sweep_agrees_with_the_engines_own_count(demo_sweep):
    sweep = json.loads((demo_sweep[0] / "sweep.json").read_text())
    for lv in sweep["levels"]:
        assert lv["aggregate_tok_s"] == pytest.approx(lv["engine_truth"]["window_tok_s"], rel=0.03)


def test_headline_names_single_peak_and_saturation():
    levels = [{"concurrency": c, "requests": 1, "aggregate_tok_s": v}
              for c, v in [(1, 100), (2, 190), (4, 300), (8, 310), (16, 305)]]
    assert headline(levels) == {"single_tok_s": 100, "peak_tok_s": 310, "peak_concurrency": 8,
                                "saturation_concurrency": 4}


def test_a_failing_level_is_recorded_and_the_sweep_goes_on(tmp_path):
    with start_background(capacity_curve="1:2000", fail="http500") as sim:
        proc = _sweep("--model", "some/served-model", "--api-url", sim.base_url, "--levels", "1,2",
                      "--max-tokens", "8", "--requests-per-client", "1", "--warmup", "0", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    assert sweep["model"]["served_name"] == "some/served-model"
    assert [(lv["concurrency"], lv["errors"]) for lv in sweep["levels"]] == [(1, 1), (2, 2)]
    assert sweep["peak_tok_s"] is None
    assert "HTTP 500" in (tmp_path / "scaling.md").read_text()


def test_unknown_option_value_is_one_line():
    proc = _sweep("--model", "demo", "--levels", "x")
    assert proc.returncode == 2 and proc.stderr.startswith("llmbench: sweep:") and proc.stderr.count("\n") == 1
