"""Reading a saved quality run (results.json) back: for replay and regrade."""

from __future__ import annotations

import json
from pathlib import Path

from llmbench.endpoints.endpoint import Endpoint
from llmbench.runs.answer_store import Sample, prompt_sha256
from llmbench.runs.recorder import SCHEMA
from llmbench.tasks import TASK_NAMES, get_task


class RunFileError(Exception):
    """The file cannot be replayed; the message is one line for the user."""


def load_results(path: str | Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFileError(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFileError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise RunFileError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise RunFileError(f"{path}: not an llmbench quality results file (schema {SCHEMA})")
    tests = data.get("tests")
    if not isinstance(tests, dict):
        raise RunFileError(f"{path}: has no 'tests' section")
    unknown = sorted(set(tests) - set(TASK_NAMES))
    if unknown:
        raise RunFileError(f"{path}: unknown test '{unknown[0]}'")
    problem = _shape_problem(data)
    if problem:
        raise RunFileError(f"{path}: {problem} (was the file edited by hand?)")
    data["_path"] = str(path)
    return data


_TEXT = (str, type(None))
_NUMBER = (int, float, type(None))
# sample field -> the types replay and regrade can use
_SAMPLE_FIELDS = {"prompt_sha256": _TEXT, "answer": _TEXT, "reasoning": _TEXT, "raw_content": _TEXT,
                  "raw_reasoning": _TEXT, "error": _TEXT, "finish_reason": _TEXT, "ttft_s": _NUMBER,
                  "duration_s": _NUMBER, "usage": (dict, type(None)), "source": (dict, type(None))}
_MODEL_FIELDS = ("alias", "name", "served_name", "api_url", "reasoning")


def _kind(value) -> str:
    return type(value).__name__


def _shape_problem(data: dict) -> str | None:
    """What in a results file has a type replay and regrade cannot use, or None."""
    for section in ("model", "sampling", "serving"):
        if not isinstance(data.get(section) or {}, dict):
            return f"'{section}' must be an object, got {_kind(data[section])}"
    model = data.get("model") or {}
    for fld in _MODEL_FIELDS:
        if not isinstance(model.get(fld, ""), str):
            return f"'model.{fld}' must be text, got {_kind(model[fld])}"
    sampling = data.get("sampling") or {}
    for fld, kinds in (("temperature", (int, float)), ("max_tokens", int), ("extra_body", (dict, type(None)))):
        value = sampling.get(fld)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            return f"'sampling.{fld}' has the wrong type ({_kind(value)})"
    for task, test in data["tests"].items():
        if not isinstance(test, dict):
            return f"'tests.{task}' must be an object, got {_kind(test)}"
        samples = test.get("samples", [])
        if not isinstance(samples, list):
            return f"'tests.{task}.samples' must be a list, got {_kind(samples)}"
        for n, sample in enumerate(samples):
            where = f"'tests.{task}.samples[{n}]"
            if not isinstance(sample, dict):
                return f"{where}' must be an object, got {_kind(sample)}"
            index = sample.get("index", 0)
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 10_000:
                return f"{where}.index' must be a whole number from 0, got {index!r:.40}"
            for fld, sample_kinds in _SAMPLE_FIELDS.items():
                if not isinstance(sample.get(fld), sample_kinds) or isinstance(sample.get(fld), bool):
                    return f"{where}.{fld}' has the wrong type ({_kind(sample[fld])})"
        checks = test.get("checks", {})
        if not isinstance(checks, dict):
            return f"'tests.{task}.checks' must be an object, got {_kind(checks)}"
        for check_id, check in checks.items():
            if not isinstance(check, dict) or not isinstance(check.get("per_sample", []), list) \
                    or not all(isinstance(v, dict) for v in check.get("per_sample", [])):
                return f"'tests.{task}.checks.{check_id}' must be an object with a 'per_sample' list of objects"
    return None


def saved_samples(data: dict, task: str) -> list[Sample]:
    test = data["tests"].get(task) or {}
    return [Sample.from_dict(task, s) for s in test.get("samples", [])]


def changed_prompts(data: dict) -> list[str]:
    """Tasks whose prompt text changed since their answers were recorded."""
    changed = []
    for task in data["tests"]:
        current = prompt_sha256(get_task(task).prompt())
        recorded = {s.get("prompt_sha256") for s in data["tests"][task].get("samples", [])}
        if recorded and recorded != {current}:
            changed.append(task)
    return changed


def endpoint_of(data: dict) -> Endpoint:
    """The endpoint a saved run talked to (never contacted again; no key is stored)."""
    model, sampling = data.get("model") or {}, data.get("sampling") or {}
    return Endpoint(
        alias=model.get("alias", "replay"), name=model.get("name", model.get("alias", "replay")),
        served_name=model.get("served_name", ""), api_url=model.get("api_url", ""),
        temperature=sampling.get("temperature", 0.0), max_tokens=sampling.get("max_tokens", 0),
        extra_body=sampling.get("extra_body") or {}, reasoning=model.get("reasoning", "none"),
        demo=bool(data.get("demo")),
    )


def sample_count(data: dict) -> int:
    return max((len(t.get("samples", [])) for t in data["tests"].values()), default=1) or 1
