"""Keep API keys out of everything the process writes: by value, wherever they appear.

Servers echo a key in their errors ("Incorrect API key provided: sk-…"), sometimes
with its middle starred ("sk-ab12****************wxyz"), and a model may repeat it.
So a key is not kept out by leaving a field unsaved: every string that leaves the
process (run files, the HTML report, the terminal) passes through ``redact``, which
replaces the key, and any starred form of it, with ``[REDACTED]``.

Keys are registered once per process (``add_secret``) when they become known.
Values shorter than ``MIN_SECRET_CHARS`` are placeholders ("EMPTY", "none"), not secrets.
"""

from __future__ import annotations

import json
import os
import re

MARK = "[REDACTED]"
MIN_SECRET_CHARS = 8
# Servers mask with asterisks, bullets, x's or dots; at least three in a row.
_MASK = r"(?:\*|•|x|X|\.){3,}"

_secrets: set[str] = set()
_pattern: re.Pattern | None = None


def add_secret(value: str | None) -> None:
    """Redact ``value`` from now on (ignored when empty or a short placeholder)."""
    global _pattern
    if not value or len(value.strip()) < MIN_SECRET_CHARS or value in _secrets:
        return
    _secrets.add(value)
    _secrets.add(json.dumps(value)[1:-1])   # as it appears inside a JSON file, if that differs
    _pattern = _compile(_secrets)


def add_environment_secrets() -> None:
    add_secret(os.environ.get("OPENAI_API_KEY"))


def _masked_forms(secret: str) -> str:
    """A regex for the secret's first characters (3 or more), a mask, then its last ones (3 or more)."""
    half = min(len(secret) // 2, 16)   # servers show a few characters at each end
    optional = secret[3:half]
    head = re.escape(secret[:3]) + "".join(f"(?:{re.escape(ch)}" for ch in optional) + ")?" * len(optional)
    tails = "|".join(re.escape(secret[-n:]) for n in range(half, 2, -1))
    return f"{head}{_MASK}(?:{tails})"


def _compile(secrets: set[str]) -> re.Pattern:
    exact = sorted(secrets, key=len, reverse=True)
    parts = [re.escape(s) for s in exact] + [_masked_forms(s) for s in exact]
    return re.compile("|".join(parts))


def redact(text: str) -> str:
    if _pattern is None or not text:
        return text
    return _pattern.sub(MARK, text)


def redact_data(value):
    """``redact`` on every string (keys and values) of a JSON-like structure."""
    if _pattern is None:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    return value


def forget_all() -> None:
    """Tests only: start again with no secret."""
    global _pattern
    _secrets.clear()
    _pattern = None
