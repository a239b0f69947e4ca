"""A stopped run says so: SIGINT (once or twice), SIGTERM and ``-x`` leave status "interrupted"
with results.json and report.html written, and the score table marked partial."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faultserver import SERVED, FaultServer


def _start(bench, server: FaultServer, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pytest", "--model", SERVED, "--api-url", server.base_url,
                             "--results-dir", "out", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
                            cwd=bench.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _results(bench) -> tuple[Path, dict] | None:
    for path in (bench.path / "out").glob("*/results.json"):
        try:
            return path.parent, json.loads(path.read_text())
        except ValueError:   # being replaced right now
            return None
    return None


def _wait_for_checks(bench, proc: subprocess.Popen, at_least: int = 1, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _results(bench)
        if found and found[1]["totals"]["max"] >= at_least:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("no check was graded in time")


def _finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=120)
    output = out + err
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]
    return out


@pytest.mark.parametrize("signals, named", [
    ([signal.SIGINT], "Ctrl-C (SIGINT)"),
    ([signal.SIGINT, signal.SIGINT], "Ctrl-C (SIGINT)"),
    ([signal.SIGTERM], "SIGTERM"),
    ([signal.SIGTERM, signal.SIGINT], "SIGTERM"),
])
def test_a_signal_makes_a_clean_interrupted_run(bench, signals, named):
    with FaultServer("slow", delay_s=0.05) as server:
        proc = _start(bench, server)
        _wait_for_checks(bench, proc)
        for signum in signals:
            proc.send_signal(signum)
            time.sleep(0.2)
        out = _finish(proc)
    run, data = _results(bench)
    assert data["status"] == "interrupted"
    assert data["status_reason"].startswith(f"interrupted by {named}; ")
    assert data["status_reason"].endswith(f"{data['totals']['max']} of 22 selected checks graded")
    assert data["totals"]["max"] < 22 and data["finished_at"]
    assert (run / "report.html").is_file() and "interrupted" in (run / "report.html").read_text()
    assert "Total (partial)" in out and "INTERRUPTED: interrupted by" in out
    assert not list((run / "answers").rglob("*.lock")) and not (run / ".locks").exists()


def test_stop_on_first_failure_is_an_interrupted_run(bench):
    with FaultServer("http500") as server:
        proc = _start(bench, server, "-x")
        out = _finish(proc)
    run, data = _results(bench)
    assert data["status"] == "interrupted"
    assert data["status_reason"] == "stopped early (stopping after 1 failures); 1 of 22 selected checks graded"
    assert (run / "report.html").is_file()
    assert "Total (partial)" in out
