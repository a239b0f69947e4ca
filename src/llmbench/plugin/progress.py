"""A progress line while the model answers: reasoning models can think for minutes per test.

On a terminal, one live line per request (test, tokens so far split into
reasoning and answer, tok/s, elapsed), redrawn a few times a second and cleared
before the test's result prints, so pytest's own output is left as it was. Not
on a terminal (CI logs), a plain line every ``LLMBENCH_PROGRESS_EVERY`` seconds
(default 15). Nothing with ``-q``, on xdist workers (they own no terminal) or
when listing tests. Model text is never shown, only counts; names are stripped
of control characters.

Tokens are counted as streamed pieces: vLLM, SGLang and llama.cpp send one token
per chunk, so the figure is exact there and approximate (``~``) elsewhere.
"""

from __future__ import annotations

import os
import re
import sys
import time

import pytest

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
LIVE_REDRAW_S = 0.25
DEFAULT_EVERY_S = 15.0


def printable(text: str) -> str:
    """``text`` without control characters (escape sequences, carriage returns, bells)."""
    return _CONTROL.sub("", text)


class Progress:
    def __init__(self, config: pytest.Config, live: bool, every_s: float) -> None:
        self.config = config
        self.live = live
        self.every_s = every_s

    @classmethod
    def for_config(cls, config: pytest.Config) -> Progress | None:
        if hasattr(config, "workerinput") or config.option.collectonly or config.get_verbosity() < 0:
            return None
        stdout = sys.__stdout__
        live = stdout is not None and stdout.isatty()
        try:
            every = float(os.environ.get("LLMBENCH_PROGRESS_EVERY", DEFAULT_EVERY_S))
        except ValueError:
            every = DEFAULT_EVERY_S
        return cls(config, live, max(every, 0.1))

    def request(self, label: str) -> Request:
        return Request(self, printable(label))

    def write(self, text: str, *, raw: bool) -> None:
        """Write past pytest's output capture; a broken terminal never fails a request."""
        capture = self.config.pluginmanager.getplugin("capturemanager")
        tw = self.config.get_terminal_writer()
        try:
            if capture is None:
                self._write(tw, text, raw)
            else:
                with capture.global_and_fixture_disabled():
                    self._write(tw, text, raw)
        except (OSError, ValueError):
            pass

    @staticmethod
    def _write(tw, text: str, raw: bool) -> None:
        if raw:  # live-line control: leaves pytest's idea of the current line untouched
            # past the terminal guard (textsafety strips escapes from write_raw); our text is printable
            stream = getattr(tw, "_file", None)
            if stream is None:
                tw.write_raw(text, flush=True)
            else:
                stream.write(text)
                stream.flush()
        else:
            if tw.width_of_current_line:
                tw.line()
            tw.line(text)
            tw.flush()


class Request:
    """One request's counts; ``chunk(kind)`` per streamed piece, ``end()`` when it is over."""

    def __init__(self, progress: Progress, label: str) -> None:
        self.progress = progress
        self.label = label
        self.start = time.monotonic()
        self.reasoning = 0
        self.answer = 0
        self.phase = "waiting"
        self._shown_at = self.start
        self._column: int | None = None  # where pytest's line ended when the live line opened

    def chunk(self, kind: str) -> None:
        if kind == "reasoning":
            self.reasoning += 1
        else:
            self.answer += 1
        self.phase = kind
        now = time.monotonic()
        if now - self._shown_at >= (LIVE_REDRAW_S if self.progress.live else self.progress.every_s):
            self._shown_at = now
            self._show(now)

    def text(self, now: float) -> str:
        elapsed = now - self.start
        tokens = self.reasoning + self.answer
        rate = tokens / elapsed if elapsed > 0 else 0.0
        return (f"llmbench: {self.label}: {self.phase}, ~{tokens} tok (reasoning {self.reasoning}, "
                f"answer {self.answer}), {rate:.0f} tok/s, {elapsed:.0f}s")

    def _show(self, now: float) -> None:
        text = self.text(now)
        if not self.progress.live:
            self.progress.write(text, raw=False)
            return
        tw = self.progress.config.get_terminal_writer()
        if self._column is None:  # open a line of our own below pytest's
            self._column = tw.width_of_current_line
            self.progress.write("\n", raw=True)
        self.progress.write("\r" + text[: max(tw.fullwidth - 1, 20)] + "\x1b[K", raw=True)

    def end(self) -> None:
        if self._column is None:
            return
        # clear our line, go back up to the end of pytest's line, where the result goes next
        back = f"\x1b[{self._column}C" if self._column else ""
        self.progress.write("\r\x1b[K\x1b[1A" + back, raw=True)
        self._column = None
