"""Answers given as a JSON document (bare or in one fenced block)."""

from __future__ import annotations

import ast
import json
import re

_FENCED = re.compile(r"```(?:json)?\s*\n(.*)\n```", re.DOTALL)
NOT_JSON = object()  # a sentinel: None, [] and {} are valid JSON


def parse_json_answer(text: str):
    """The parsed document when the whole answer is JSON, else ``NOT_JSON``."""
    body = text.strip()
    fenced = _FENCED.fullmatch(body)
    if fenced:
        body = fenced.group(1).strip()
    if not body.startswith(("{", "[")):
        return NOT_JSON
    try:
        return json.loads(body)
    except ValueError:
        return NOT_JSON



# a fenced ```json block inside a prose answer ("Here is the review as a structured report:")
_JSON_BLOCK = re.compile(r"^```json[ \t]*\n(.*?)\n```[ \t]*$", re.DOTALL | re.MULTILINE | re.IGNORECASE)


def _has_prose(data) -> bool:
    if isinstance(data, str):
        return len(data.split()) >= 6 and "\n" not in data.strip()
    if isinstance(data, dict):
        return any(_has_prose(v) for v in data.values())
    if isinstance(data, list):
        return any(_has_prose(v) for v in data)
    return False


def with_reports_replaced(text: str, render) -> str:
    """The answer with each fenced JSON block that is a report (an object or list holding
    sentences, not a config file or sample output) replaced by ``render(parsed)``."""
    def replace(match: re.Match) -> str:
        try:
            data = json.loads(match.group(1))
        except ValueError:
            return match.group(0)
        if not isinstance(data, (dict, list)) or not _has_prose(data):
            return match.group(0)
        return render(data)
    return _JSON_BLOCK.sub(replace, text)


# keys whose value is code: a one-line statement there is code, not a sentence
CODE_KEYS = frozenset({"fix", "code", "patch", "fixed_code", "corrected_code", "change", "replacement", "snippet", "diff"})


def is_code_line(key, value) -> bool:
    """A one-line string under a code key that parses as a Python statement with an
    assignment or a call (``"fix": "self.share_window = int(config.get(…))"``)."""
    if str(key).lower() not in CODE_KEYS or not isinstance(value, str) or "\n" in value.strip():
        return False
    try:
        tree = ast.parse(value.strip())
    except SyntaxError:
        return False
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.AnnAssign) and tree.body[0].value is None:
        return False   # "Optional: socket.setsockopt(zmq.RCVHWM, 1000)" is a label over code, not a statement
    return any(isinstance(n, (ast.Assign, ast.AugAssign, ast.Call)) for n in ast.walk(tree))
