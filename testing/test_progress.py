"""The progress line while a model answers: live on a terminal, periodic in a log, silent with -q."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from llmbench.plugin.progress import Progress, Request, printable
from llmbench.tasks import get_task

REPO = Path(__file__).resolve().parents[1]
REFERENCE_LINE = next(line for line in get_task("zmq").reference_answer().splitlines() if len(line) > 30)


@pytest.fixture(scope="module")
def slow_server():
    """Reasoning first, then the answer, at 150 tok/s: a few seconds per test."""
    from llmbench.sim.server import start_background

    handle = start_background(reasoning=True, capacity_curve="1:150")
    yield handle
    handle.stop()


def _args(server, tmp_path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", str(REPO / "tests" / "quality" / "test_zmq.py"), "--model", "demo",
            "--api-url", server.base_url, "-p", "no:cacheprovider", "-p", "no:randomly",
            f"--results-dir={tmp_path / 'out'}", *extra]


def _in_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run with stdout on a pseudo-terminal (120 columns); returns the exit code and all output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(args, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                            env={**os.environ, "COLUMNS": "120"})
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=120), out.decode(errors="replace")


def test_on_a_terminal_a_live_line_counts_reasoning_and_answer_and_is_cleared(slow_server, tmp_path):
    code, out = _in_a_terminal(_args(slow_server, tmp_path), tmp_path)
    assert code == 0, out[-2000:]
    assert "\rllmbench: zmq <- demo: reasoning, ~" in out
    assert "\rllmbench: zmq <- demo: answer, ~" in out and " tok/s, " in out
    # cleared, then back to the end of pytest's line (the test file's path), where the result dots follow
    pytest_line = re.sub(r"\x1b\[[0-9;]*m", "", out.split("\r\n\rllmbench: zmq", 1)[0].rsplit("\n", 1)[1])
    assert pytest_line.endswith("test_zmq.py ")
    assert f"\r\x1b[K\x1b[1A\x1b[{len(pytest_line)}C" in out
    after = out.rsplit("\x1b[1A", 1)[1]
    assert "llmbench: zmq <-" not in after.split("\n", 1)[0]
    assert REFERENCE_LINE not in out  # model text never reaches the terminal


def test_in_a_log_plain_lines_come_periodically(slow_server, tmp_path):
    run = subprocess.run(_args(slow_server, tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "LLMBENCH_PROGRESS_EVERY": "0.5"})
    assert run.returncode == 0, run.stdout[-2000:]
    lines = [line for line in run.stdout.splitlines() if line.startswith("llmbench: zmq <- demo: ")]
    assert len(lines) >= 2
    assert all(" tok/s, " in line for line in lines)
    assert "\x1b" not in run.stdout and "\r" not in run.stdout
    assert REFERENCE_LINE not in run.stdout


def test_quiet_shows_no_progress(slow_server, tmp_path):
    code, out = _in_a_terminal(_args(slow_server, tmp_path, "-q"), tmp_path)
    assert code == 0, out[-2000:]
    assert "llmbench: zmq <-" not in out


def test_names_lose_their_control_characters():
    assert printable("evil\x1b[2J\rname\x07\x9b") == "evil[2Jname"
    request = Request(Progress(config=None, live=True, every_s=15), printable("zmq <- m\x1b]0;title\x07odel"))  # type: ignore[arg-type]
    assert "\x1b" not in request.text(request.start + 1) and "\x07" not in request.text(request.start + 1)
