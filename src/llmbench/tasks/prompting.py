"""Prompt building: fixture files read and shown in fenced blocks."""

from __future__ import annotations

from functools import lru_cache
from pathlib import PurePath

from llmbench.paths import buggy_code_dir

# file extension -> fence language
_LANGUAGES = {".py": "python", ".json": "json", ".sh": "bash", ".conf": "ini", ".yaml": "yaml", ".yml": "yaml"}


@lru_cache(maxsize=None)  # every grade rebuilds its task's prompt: read each file once per process
def read_fixture(filename: str) -> str:
    """The text of a fixture under fixtures/buggy_code/ (one trailing newline)."""
    path = buggy_code_dir() / filename
    if not path.is_file():
        raise FileNotFoundError(f"fixture {filename!r} not found in {buggy_code_dir()}")
    return path.read_text(encoding="utf-8").rstrip("\n") + "\n"


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run inside the text."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def fixture_block(filename: str) -> str:
    """A fixture as a markdown fenced block labelled with its file name.

    Shape (deterministic): a line ``\\`name\\`:`` then a fence whose info string
    is the language (python, json, bash, ...), the file text, and the closing fence.
    """
    text = read_fixture(filename)
    fence = fence_for(text)
    language = _LANGUAGES.get(PurePath(filename).suffix, "")
    return f"`{filename}`:\n{fence}{language}\n{text}{fence}"

