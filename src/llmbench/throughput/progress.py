"""A live progress line per level: requests done, tok/s so far, errors.

Clients (forked processes or the asyncio loop) append one short line per
finished measured request to their own file in a folder; a watcher thread in
the sweep's process reads the folder twice a second. On a terminal the line is
rewritten in place; elsewhere (CI logs) a plain line is printed every
``plain_every_s`` seconds.
"""

from __future__ import annotations

import os
import sys
import threading
import time


class ProgressLog:
    """A client's side: one line per finished request (no-op without a folder, or where it does not exist:
    a worker on another host)."""

    def __init__(self, directory: str | None, client: int):
        usable = bool(directory) and os.path.isdir(directory or "")
        self.fh = open(os.path.join(directory or "", f"client-{client}"), "a", buffering=1) if usable else None

    def note(self, record) -> None:
        if self.fh is not None and not record.warmup:
            self.fh.write(f"{record.start_ns} {record.end_ns or record.start_ns} {record.output_tokens} "
                          f"{0 if record.ok else 1}\n")

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


def read_progress(directory: str) -> tuple[int, int, int, float]:
    """(requests done, output tokens, errors, seconds from the first start to the last end)."""
    done = tokens = errors = 0
    first: int | None = None
    last: int | None = None
    try:
        names = os.listdir(directory)
    except OSError:     # not made yet: nothing done
        names = []
    for name in names:
        try:
            with open(os.path.join(directory, name)) as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) != 4:
                continue        # a line still being written
            start, end, n, err = (int(p) for p in parts)
            done, tokens, errors = done + 1, tokens + n, errors + err
            first = start if first is None else min(first, start)
            last = end if last is None else max(last, end)
    spread = (last - first) / 1e9 if first is not None and last is not None and last > first else 0.0
    return done, tokens, errors, spread


def progress_text(label: str, directory: str) -> str:
    done, tokens, errors, span = read_progress(directory)
    rate = f"{tokens / span:.0f}" if span else "-"
    return f"  {label}: {done} requests done, {rate} tok/s so far, {errors} errors"


def run_folder(directory: str, run: int) -> str:
    """Where clients log run ``run`` (1-based) of a repeated level."""
    return os.path.join(directory, f"run-{run}")


def current_run(directory: str, runs: int) -> tuple[str, str]:
    """(folder, label suffix) of the latest run of a level repeated ``runs`` times that has started."""
    started = [k for k in range(1, runs + 1) if os.path.isdir(run_folder(directory, k))]
    k = max(started, default=1)
    return run_folder(directory, k), f" (run {k} of {runs})"


class ProgressWatcher:
    """Prints ``progress_text`` while a level runs (``with ProgressWatcher(...):``).

    With ``runs`` > 1 the clients log each run in ``run_folder(directory, k)`` and
    the line follows the latest run.
    """

    def __init__(self, label: str, directory: str, stream=None, tty: bool | None = None,
                 poll_s: float = 0.5, plain_every_s: float = 10.0, runs: int = 1):
        self.label, self.directory, self.runs = label, directory, runs
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.poll_s, self.plain_every_s = min(poll_s, plain_every_s), plain_every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._width = 0

    def __enter__(self) -> "ProgressWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()

    def _run(self) -> None:
        last_plain = time.monotonic()
        while not self._stop.wait(self.poll_s):
            if self.runs > 1:
                folder, suffix = current_run(self.directory, self.runs)
                text = progress_text(self.label + suffix, folder)
            else:
                text = progress_text(self.label, self.directory)
            if self.tty:
                self.stream.write("\r" + text.ljust(self._width))
                self._width = max(self._width, len(text))
                self.stream.flush()
            elif time.monotonic() - last_plain >= self.plain_every_s:
                self.stream.write(text + "\n")
                self.stream.flush()
                last_plain = time.monotonic()
