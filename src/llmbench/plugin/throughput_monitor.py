"""While a throughput level runs under pytest: its progress line and the server's ``/metrics``.

The same pieces as ``llmbench sweep``: clients log finished requests for
``progress.ProgressWatcher``, and ``servermetrics.Sampler`` reads the server's
Prometheus page. Only the terminal differs: the line goes through the plugin's
``Progress`` (past pytest's output capture; nothing with ``-q``), on a line of
its own below pytest's on a terminal, and as plain lines every
``LLMBENCH_PROGRESS_EVERY`` seconds elsewhere.
"""

from __future__ import annotations

import threading

import pytest

from llmbench.plugin.progress import Progress
from llmbench.throughput import servermetrics
from llmbench.throughput.progress import ProgressWatcher


class TerminalLine:
    """A file-like target for ``ProgressWatcher`` that writes through ``Progress``."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.column: int | None = None   # where pytest's line ended when ours opened

    def isatty(self) -> bool:
        return self.progress.live

    def write(self, text: str) -> None:
        if not self.progress.live:
            if text.strip():
                self.progress.write(text.strip("\n"), raw=False)
            return
        if self.column is None:
            self.column = self.progress.config.get_terminal_writer().width_of_current_line
            self.progress.write("\n", raw=True)
        self.progress.write(text, raw=True)

    def flush(self) -> None:
        pass

    def end(self) -> None:
        """Clear the live line and go back to the end of pytest's line, where its output goes next."""
        if self.column is None:
            return
        back = f"\x1b[{self.column}C" if self.column else ""
        self.progress.write("\r\x1b[K\x1b[1A" + back, raw=True)
        self.column = None


class LevelMonitor:
    """Started when the first throughput client is set up; the line stops before pytest prints results."""

    def __init__(self, config: pytest.Config, label: str, progress_dir: str | None, runs: int,
                 metrics_url: str | None, interval_s: float):
        self.config = config
        self.metrics_url = metrics_url
        self.sampler = servermetrics.Sampler(metrics_url, interval_s) if metrics_url else None
        progress = Progress.for_config(config) if progress_dir else None
        self.line = TerminalLine(progress) if progress else None
        self.watcher = (ProgressWatcher(label, progress_dir or "", stream=self.line, tty=progress.live,
                                        plain_every_s=progress.every_s, runs=runs)
                        if progress and self.line else None)
        self._lock = threading.Lock()
        self._line_open = self._sampling = False

    def start(self) -> None:
        if self.sampler is not None:
            self.sampler.__enter__()
            self._sampling = True
        if self.watcher is not None:
            self.watcher.__enter__()
            self._line_open = True

    def stop_line(self) -> None:
        with self._lock:
            if not self._line_open:
                return
            self._line_open = False
        assert self.watcher is not None and self.line is not None
        self.watcher.__exit__(None, None, None)
        self.line.end()

    def stop(self) -> list[tuple[int, dict]]:
        """Stop everything; the server's readings."""
        self.stop_line()
        if self.sampler is None:
            return []
        if self._sampling:
            self._sampling = False
            self.sampler.__exit__(None, None, None)
        return self.sampler.samples
