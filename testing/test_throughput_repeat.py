"""--repeat (means and 95% intervals of the headline figures) and the live progress line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pytest

from llmbench.throughput.client import RequestRecord
from llmbench.throughput.progress import ProgressLog, ProgressWatcher, read_progress
from llmbench.throughput.repeat import combine, interval_text


def level(tok_s, ttft, good, measured, met):
    return {"concurrency": 4, "aggregate_tok_s": tok_s, "requests": measured, "errors": 1, "output_tokens": 100,
            "error_kinds": {"http": 1}, "ttft_s": {"p50": ttft, "p99": None},
            "slo": {"target": 0.9, "good": good, "measured": measured, "attainment": good / measured, "met": met,
                    "goodput_tok_s": tok_s / 2, "goodput_req_s": 1.0, "violations": {}}}


def test_combine_gives_means_intervals_and_sums():
    runs = [level(100, 0.010, 9, 10, True), level(110, 0.012, 10, 10, True), level(120, 0.014, 8, 10, False)]
    out = combine(runs)
    assert out["aggregate_tok_s"] == pytest.approx(110) and out["ttft_s"]["p50"] == pytest.approx(0.012)
    lo, hi = out["repeat"]["ci95"]["aggregate_tok_s"]
    # mean 110, sd 10, n 3: 110 ± 4.303 * 10 / sqrt(3)
    assert lo == pytest.approx(110 - 24.84, abs=0.01) and hi == pytest.approx(110 + 24.84, abs=0.01)
    assert out["repeat"]["values"]["aggregate_tok_s"] == [100, 110, 120] and out["repeat"]["n"] == 3
    assert out["requests"] == 30 and out["errors"] == 3 and out["error_kinds"] == {"http": 3}
    assert out["slo"]["good"] == 27 and out["slo"]["attainment"] == pytest.approx(0.9) and out["slo"]["met"]
    assert "ttft_s.p99" not in out["repeat"]["ci95"]            # no run had it
    assert interval_text(out, ("aggregate_tok_s",)) == "110 [85–135]"
    assert runs[0]["aggregate_tok_s"] == 100                    # the runs are left as they were


def test_one_run_is_left_alone_and_lower_bounds_stay_positive():
    assert "repeat" not in combine([level(100, 0.01, 1, 1, True)])
    out = combine([level(1, 0.001, 1, 1, True), level(100, 0.2, 1, 1, True)])
    assert out["repeat"]["ci95"]["aggregate_tok_s"][0] == 0.0


def _record(start_ms, end_ms, tokens, error=None):
    return RequestRecord(0, 0, False, start_ns=start_ms * 1_000_000, end_ns=end_ms * 1_000_000,
                         output_tokens=tokens, error=error)


def test_progress_counts_requests_tokens_and_errors(tmp_path):
    a, b = ProgressLog(str(tmp_path), 0), ProgressLog(str(tmp_path), 1)
    a.note(_record(0, 500, 50))
    b.note(_record(100, 1000, 40))
    b.note(_record(1000, 1200, 0, error="HTTP 500: x"))
    warm = _record(0, 10, 99)
    warm.warmup = True
    a.note(warm)
    a.close()
    b.close()
    assert read_progress(str(tmp_path)) == (3, 90, 1, pytest.approx(1.2))
    assert ProgressLog(None, 0).fh is None


def test_watcher_rewrites_one_line_on_a_terminal_and_prints_plain_lines_elsewhere(tmp_path):
    log = ProgressLog(str(tmp_path), 0)
    log.note(_record(0, 1000, 100))
    log.close()
    tty, plain = io.StringIO(), io.StringIO()
    with ProgressWatcher("C=4", str(tmp_path), stream=tty, tty=True, poll_s=0.02):
        time.sleep(0.15)
    with ProgressWatcher("C=4", str(tmp_path), stream=plain, tty=False, poll_s=0.02, plain_every_s=0.05):
        time.sleep(0.2)
    assert "\r  C=4: 1 requests done, 100 tok/s so far, 0 errors" in tty.getvalue() and "\n" not in tty.getvalue()
    lines = plain.getvalue().splitlines()
    assert lines and all(line == "  C=4: 1 requests done, 100 tok/s so far, 0 errors" for line in lines)


def _sweep(*args):
    return subprocess.run([sys.executable, "-m", "llmbench", "sweep", "--model", "demo", "--max-tokens", "24",
                           "--capacity-curve", "1:800,2:1200", *args], capture_output=True, text=True, timeout=180)


def test_sweep_repeat_writes_each_run_and_the_intervals(tmp_path):
    proc = _sweep("--levels", "1,2", "--repeat", "2", "--min-seconds", "0.6", "--progress-every", "0.1",
                  "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    for lv in sweep["levels"]:
        assert lv["repeat"]["n"] == 2 and len(lv["repeat"]["values"]["aggregate_tok_s"]) == 2
        assert lv["aggregate_tok_s"] == pytest.approx(sum(lv["repeat"]["values"]["aggregate_tok_s"]) / 2)
        lo, hi = lv["repeat"]["ci95"]["aggregate_tok_s"]
        assert lo <= lv["aggregate_tok_s"] <= hi
        for k in (1, 2):
            assert (tmp_path / "levels" / f"c{lv['concurrency']:03d}" / f"run-{k}" / "records.jsonl").exists()
    assert "### Repeated 2 times: mean [95% interval]" in (tmp_path / "scaling.md").read_text()
    assert "concurrency 1 (run 2 of 2)" in proc.stdout
    assert "requests done" in proc.stdout and " tok/s so far, 0 errors" in proc.stdout   # plain progress lines
    assert "\r" not in proc.stdout


def test_quiet_sweep_prints_only_the_summary(tmp_path):
    proc = _sweep("--levels", "1", "--min-seconds", "0.3", "--progress-every", "0.05", "-q", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("single ") and "requests done" not in proc.stdout
