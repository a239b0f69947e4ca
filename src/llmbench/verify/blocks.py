"""The fenced code blocks of an answer, with their labels and positions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from llmbench.grading.jsonanswer import NOT_JSON, is_code_line, parse_json_answer, with_reports_replaced

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`]*)$")
_DIFF_LABELS = {"diff", "patch", "udiff"}
_DIFF_LINE = re.compile(r"^(?:@@|--- |\+\+\+ )")


@dataclass(frozen=True)
class CodeBlock:
    index: int      # 1-based, in answer order
    info: str       # the fence's info string ("python", "bash h-run.sh", "")
    text: str       # the body, without the fences (the fence's indentation removed)
    line: int       # 1-based answer line of the body's first line
    lead: str = ""  # the prose line just before the fence ("Right after the n_factor line, add:")

    @property
    def language(self) -> str:
        words = self.info.split()
        return words[0].lower().split(":")[0].split("{")[0] if words else ""

    @property
    def is_diff(self) -> bool:
        if self.language in _DIFF_LABELS:
            return True
        lines = [line for line in self.text.splitlines() if line.strip()]
        return any(line.startswith("@@") for line in lines) and any(_DIFF_LINE.match(line) for line in lines[:3])


def code_blocks(text: str) -> list[CodeBlock]:
    """Every fenced block (an unterminated last block runs to the end of the answer)."""
    lines = (text or "").splitlines()
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, marks, info = fence.group(1), fence.group(2), fence.group(3).strip()
        j = i + 1
        body: list[str] = []
        while j < len(lines) and not (lines[j].strip().startswith(marks[0] * len(marks)) and not lines[j].strip().strip(marks[0])):
            line = lines[j]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            j += 1
        lead = next((line.strip() for line in reversed(lines[max(0, i - 3):i]) if line.strip()), "")
        blocks.append(CodeBlock(len(blocks) + 1, info, "\n".join(body) + ("\n" if body else ""), i + 2, lead))
        i = j + 1
    return blocks


def answer_text(final_answer: str) -> str:
    """The answer as markdown: an answer given as a JSON document becomes its string
    values in order, a multi-line value without fences fenced as code; so does a JSON
    report in a fenced block of a prose answer."""
    data = parse_json_answer(final_answer or "")
    if data is NOT_JSON:
        return with_reports_replaced(final_answer or "", _values_as_markdown)
    return _values_as_markdown(data)


def _values_as_markdown(data) -> str:
    parts: list[str] = []

    def walk(value, key=None) -> None:
        if isinstance(value, str):
            multi_line = "\n" in value.strip() and not _FENCE.search(value) and not any(
                _FENCE.match(line) for line in value.splitlines())
            if is_code_line(key, value):   # (labelled: a one-line change defines nothing to tell it is Python)
                parts.append(f"```python\n{value.strip()}\n```")
            elif multi_line:
                parts.append(f"```\n{_with_rest_of_head(key, value.strip(chr(10)))}\n```")
            else:
                parts.append(value)
        elif isinstance(value, dict):
            for name, item in value.items():
                walk(item, name)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return "\n\n".join(parts)


# a value its key calls the head of a method ("replace_calculate_payouts_head"): the rest of
# the method stays as it was
_HEAD_KEY = re.compile(r"(?:^|_)(?:head|top|start|beginning)$", re.IGNORECASE)
_DEF_LINE = re.compile(r"^(\s*)(?:async\s+)?def\s")


def _with_rest_of_head(key, code: str) -> str:
    heads = [m for m in map(_DEF_LINE.match, code.splitlines()) if m]
    if key is None or not _HEAD_KEY.search(str(key)) or len(heads) != 1:
        return code
    return f"{code}\n{heads[0].group(1)}    # ... rest of the method unchanged"


_FENCED = re.compile(r"^(\s*)(`{3,}|~{3,}).*?^\1\2[`~]*\s*$", re.M | re.S)


def prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return _FENCED.sub(" ", text or "")
