"""Answers given as a JSON document (bare or in one fenced block)."""

from __future__ import annotations

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

