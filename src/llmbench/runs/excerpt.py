"""The head of a long model answer, for pages that must stay small.

A degenerate model can answer with megabytes; report.html shows every check's
answer, so it shows only the head and links the full answer file.
"""

from __future__ import annotations

HEAD_CHARS = 20_000


def head(text: str, limit: int = HEAD_CHARS) -> tuple[str, int]:
    """``(shown, hidden)``: the first ``limit`` characters and how many were left out."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit
