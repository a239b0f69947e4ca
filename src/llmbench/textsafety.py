"""Text from outside (model output, server error bodies, names) made safe for a terminal.

A model or a server can send escape sequences that set the window title, clear the
screen, move the cursor or rewrite what was printed before; a carriage return can
overwrite a line; bidi controls reorder what is shown. ``for_terminal`` removes
all of these and keeps newlines and tabs; ``one_line`` also folds line breaks, for
names and reasons shown inside one line. Every such string is redacted too.

``guard_terminal_writer`` is the wide net under pytest's terminal output: it
redacts and drops every control sequence except the colour codes pytest itself
writes (so an untrusted string that slipped past ``for_terminal`` is still inert).
"""

from __future__ import annotations

import io
import re

from llmbench.redact import redact

# ESC sequences: CSI (ESC [ … final), OSC (ESC ] … BEL/ST), DCS/SOS/PM/APC (… ST), and two-character ones.
_ESCAPE = r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -~]?)"
# C0 controls but tab and newline, DEL, C1 controls (0x9b is an 8-bit CSI), bidi embeddings/overrides/isolates.
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_UNSAFE = re.compile(f"{_ESCAPE}|{_CONTROL}")
_SGR = r"\x1b\[[0-9;]*m"   # colour and weight only
_UNSAFE_BUT_COLOUR = re.compile(f"({_SGR})|{_ESCAPE}|{_CONTROL}")
_BREAKS = re.compile(r"[\n\t]+")


def for_terminal(text: object) -> str:
    """Redacted, with every control character and escape sequence removed but newline and tab."""
    text = redact(str(text)).replace("\r\n", "\n")
    return _UNSAFE.sub("", text)


def one_line(text: object) -> str:
    """``for_terminal`` with newlines and tabs folded to spaces."""
    return _BREAKS.sub(" ", for_terminal(text))


def _keep_colour(match: re.Match) -> str:
    return match.group(1) or ""


def for_pytest_terminal(text: str) -> str:
    """Redacted; pytest's colour codes, newlines, tabs and a leading carriage return (its line rewrite) kept."""
    lead = "\r" if text.startswith("\r") else ""
    return lead + _UNSAFE_BUT_COLOUR.sub(_keep_colour, redact(text[len(lead):]))


def guard_terminal_writer(writer) -> None:
    """Filter everything a pytest ``TerminalWriter`` writes (idempotent).

    ``write_raw`` is where every line, separator and coloured word ends up.
    """
    if getattr(writer, "_llmbench_guarded", False):
        return
    write_raw = writer.write_raw

    def guarded_write_raw(msg: str, **kwargs) -> None:
        write_raw(for_pytest_terminal(msg), **kwargs)

    writer.write_raw = guarded_write_raw
    writer._llmbench_guarded = True


class SafeStream(io.TextIOBase):
    """A text stream that passes everything through ``for_terminal`` (for the ``llmbench`` commands)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(for_terminal(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self):  # type: ignore[override]  # TextIOBase declares it a plain attribute
        return getattr(self._stream, "encoding", "utf-8")
