"""A shortcut past ``json.loads`` for the token chunks that make up nearly all of a stream.

A server writes every token chunk of a stream from one template: only the
text changes between them. Once a chunk has been parsed fully and is a plain
token chunk (one choice, one non-empty text field, no usage, no
finish_reason, no error), the bytes before and after that text's JSON string
body are kept. A later line with the same bytes before and after, and a
valid JSON string body between them, parses to the same object but for the
text, because a JSON string's contents never change how the bytes after it are
read; so only the text's length is taken. Everything else (usage,
finish_reason, errors, another shape, a bad string, a changed id or field)
misses the template and is parsed fully.

When the template is learned it is proved on the line itself: the body is
swapped for another letter and the line parsed again; it must give the same
object with only that text changed, so a ``"content":"`` found inside some other
string, or a duplicate key that overrides the text, yields no template.
"""

from __future__ import annotations

import json
import re

TEXT_KEYS = ("content", "reasoning_content", "reasoning")

# A string body with nothing to unescape: no quote, backslash or control character.
_PLAIN = re.compile(rb'[^"\\\x00-\x1f]*+').fullmatch
# A text field's key and its string body (group 2); the proof decides whether it is the text.
_FIELD = re.compile(rb'"(content|reasoning_content|reasoning)"[ \t\r\n]*+:[ \t\r\n]*+"((?:[^"\\]|\\.)*+)"')


def string_length(body: bytes) -> int | None:
    """Characters in the string a JSON string body stands for; None if it is not a valid body.

    Decoded as ``json.loads`` decodes a whole event (UTF-8 with surrogates let
    through), so the length is the one a full parse gives.
    """
    if _PLAIN(body):
        if body.isascii():
            return len(body)
        try:
            return len(body.decode("utf-8", "surrogatepass"))
        except UnicodeDecodeError:
            return None
    try:
        text = json.loads('"' + body.decode("utf-8", "surrogatepass") + '"')
    except ValueError:     # a bad escape, a bare quote or control character, bad UTF-8
        return None
    return len(text)


def parse_event(line: bytes):
    """The JSON of a ``data:`` line, exactly as ``EventReader`` parses it."""
    return json.loads(line[5:].strip())


def token_text(obj) -> tuple[dict, str] | None:
    """(delta, key) when ``obj`` is a plain token chunk: nothing in it but one text to count."""
    if not isinstance(obj, dict) or "error" in obj or obj.get("usage"):
        return None
    choices = obj.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return None
    choice = choices[0]
    delta = choice.get("delta")
    if choice.get("finish_reason") or not isinstance(delta, dict):
        return None
    keys = [k for k in TEXT_KEYS if delta.get(k)]
    if len(keys) != 1 or not isinstance(delta[keys[0]], str):
        return None
    return delta, keys[0]


class ChunkTemplate:
    """The bytes around the text of one stream's token chunks."""

    __slots__ = ("head", "tail", "size", "cut")

    def __init__(self, head: bytes, tail: bytes):
        self.head, self.tail = head, tail
        self.size = len(head) + len(tail)
        self.cut = len(tail)

    @classmethod
    def learn(cls, line: bytes, obj: dict, delta: dict, key: str) -> "ChunkTemplate | None":
        """A template from a line parsed to ``obj`` (``token_text(obj)`` gave delta and key), or None.

        ``obj`` is changed: its text is swapped for the proof.
        """
        marker = "y" if delta[key] == "x" else "x"   # neither letter can stand outside a string
        delta[key] = marker
        for m in _FIELD.finditer(line):
            if m.group(1).decode() != key:
                continue
            start, end = m.span(2)
            try:
                same = parse_event(line[:start] + marker.encode() + line[end:]) == obj
            except ValueError:
                same = False
            if same:
                return cls(line[:start], line[end:])
        return None

    def text_length(self, line: bytes) -> int | None:
        """The text's length if ``line`` is this template with a valid text; else None."""
        if len(line) < self.size or not line.startswith(self.head) or not line.endswith(self.tail):
            return None
        return string_length(line[len(self.head):len(line) - self.cut])
