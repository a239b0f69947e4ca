"""Separate a model's reasoning from its final answer (only the final answer is graded)."""

from __future__ import annotations

import re

# Inline reasoning blocks named by docs/checks.md: (opening, closing)
_TAGS = (
    ("<think>", "</think>"),
    ("<seed:think>", "</seed:think>"),
    ("[THINK]", "[/THINK]"),
    ("<reasoning>", "</reasoning>"),
)
_OPEN = re.compile("|".join(re.escape(o) for o, _ in _TAGS), re.IGNORECASE)
# searched case-blind in the original text (lower-casing may change its length)
_CLOSE_OF = {o.lower(): re.compile(re.escape(c), re.IGNORECASE) for o, c in _TAGS}
_ANY_CLOSE = re.compile("|".join(re.escape(c) for _, c in _TAGS), re.IGNORECASE)


def split_reasoning(content: str | None, reasoning_field: str | None = None) -> tuple[str, str]:
    """Return ``(final_answer, reasoning)``.

    ``reasoning_field`` is what the server sent in ``reasoning_content``/``reasoning``.
    Inline blocks are removed from ``content``; an opening tag that is never closed
    makes the rest reasoning (the model ran out of tokens while thinking), and a
    closing tag with no opening one (chat templates that put ``<think>`` in the
    prompt) makes everything before it reasoning.
    """
    text = content or ""
    parts: list[str] = [reasoning_field.strip()] if reasoning_field and reasoning_field.strip() else []
    final: list[str] = []

    first_open = _OPEN.search(text)
    first_close = _ANY_CLOSE.search(text)
    if first_close and (first_open is None or first_close.start() < first_open.start()):
        parts.append(text[: first_close.start()].strip())
        text = text[first_close.end():]

    pos = 0
    while True:
        match = _OPEN.search(text, pos)
        if match is None:
            final.append(text[pos:])
            break
        final.append(text[pos: match.start()])
        closing = _CLOSE_OF[match.group(0).lower()].search(text, match.end())
        if closing is None:  # unterminated: the rest is reasoning
            parts.append(text[match.end():].strip())
            break
        parts.append(text[match.end(): closing.start()].strip())
        pos = closing.end()

    return "".join(final).strip(), "\n\n".join(p for p in parts if p)
