"""The pytest throughput run's progress line on a terminal: a line of its own, cleared before pytest prints."""

from __future__ import annotations

import time
from types import SimpleNamespace

from llmbench.plugin.throughput_monitor import TerminalLine
from llmbench.throughput.progress import ProgressLog, ProgressWatcher, run_folder


class FakeProgress:
    def __init__(self, live: bool):
        self.live, self.writes = live, []
        self.config = SimpleNamespace(get_terminal_writer=lambda: SimpleNamespace(width_of_current_line=7))

    def write(self, text: str, *, raw: bool) -> None:
        self.writes.append((text, raw))


def _record(tokens: int):
    return SimpleNamespace(warmup=False, start_ns=time.monotonic_ns() - 10**9, end_ns=time.monotonic_ns(),
                           output_tokens=tokens, ok=True)


def test_live_line_opens_below_pytests_line_and_goes_back_when_done(tmp_path):
    progress = FakeProgress(live=True)
    line = TerminalLine(progress)
    folder = run_folder(str(tmp_path), 2)
    (tmp_path / "run-2").mkdir()
    log = ProgressLog(folder, 0)
    log.note(_record(50))
    with ProgressWatcher("throughput, concurrency 4", str(tmp_path), stream=line, tty=True, poll_s=0.05, runs=3):
        time.sleep(0.3)
    log.close()
    line.end()
    texts = [t for t, raw in progress.writes]
    assert all(raw for _, raw in progress.writes)
    assert texts[0] == "\n"                                        # a line of its own
    assert texts[1].startswith("\r  throughput, concurrency 4 (run 2 of 3): 1 requests done, 50 tok/s so far")
    assert texts[-1] == "\r\x1b[K\x1b[1A\x1b[7C"                  # cleared, back to column 7 of pytest's line


def test_plain_lines_off_a_terminal(tmp_path):
    progress = FakeProgress(live=False)
    line = TerminalLine(progress)
    with ProgressWatcher("throughput, rate 4 req/s", str(tmp_path), stream=line, tty=False, poll_s=0.05,
                         plain_every_s=0.05):
        time.sleep(0.2)
    line.end()
    assert progress.writes and all(not raw for _, raw in progress.writes)
    assert progress.writes[0][0] == "  throughput, rate 4 req/s: 0 requests done, - tok/s so far, 0 errors"
