"""Reading a saved quality run (results.json) back: for replay and regrade."""

from __future__ import annotations

import json
from pathlib import Path

from llmbench.runs.answer_store import Sample, prompt_sha256
from llmbench.endpoints.endpoint import Endpoint
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
    data["_path"] = str(path)
    return data


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
