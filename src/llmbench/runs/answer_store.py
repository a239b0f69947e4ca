"""One answer per task per sample per run, shared by every xdist worker.

The first process that needs a task's answer takes a file lock, asks the model,
and writes the answer under ``<run dir>/answers/``; every other process (or the
same one, for the next check) waits on the lock and reads that file. So a test
costs exactly one request however its checks are spread over workers or
selected with ``-k``. The files double as the answer cache that replay reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from filelock import FileLock

from llmbench.endpoints.client import ChatResult
from llmbench.grading.reasoning import split_reasoning
from llmbench.redact import redact


def prompt_sha256(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


@dataclass
class Sample:
    """One recorded answer: what was asked, what came back, how it went."""

    task: str
    index: int
    prompt_sha256: str
    result: ChatResult
    source: dict            # endpoint, served model, sampling: what produced it

    @property
    def final_answer(self) -> str:
        return split_reasoning(self.result.content, self.result.reasoning)[0]

    @property
    def reasoning(self) -> str:
        return split_reasoning(self.result.content, self.result.reasoning)[1]

    def as_dict(self) -> dict:
        r = self.result
        return {
            "index": self.index,
            "prompt_sha256": self.prompt_sha256,
            "answer": self.final_answer,
            "reasoning": self.reasoning,
            "raw_content": r.content,
            "raw_reasoning": r.reasoning,
            "usage": {"prompt_tokens": r.prompt_tokens, "completion_tokens": r.completion_tokens},
            "ttft_s": r.ttft_s,
            "duration_s": r.duration_s,
            "finish_reason": r.finish_reason,
            "error": r.error,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, task: str, data: dict) -> "Sample":
        usage = data.get("usage") or {}
        result = ChatResult(
            content=data.get("raw_content", data.get("answer", "")),
            reasoning=data.get("raw_reasoning", ""),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            ttft_s=data.get("ttft_s"),
            duration_s=data.get("duration_s") or 0.0,
            finish_reason=data.get("finish_reason"),
            error=data.get("error"),
        )
        return cls(task, int(data.get("index", 0)), data.get("prompt_sha256", ""), result, data.get("source") or {})


def atomic_write_json(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # the one place answers and results.json reach the disk: no API key gets through
    tmp.write_text(redact(json.dumps(data, indent=2, ensure_ascii=False)), encoding="utf-8")
    os.replace(tmp, path)


class AnswerStore:
    """Fetch-once answers on disk, safe across processes."""

    def __init__(self, directory: Path, fetch: Callable[[str, int], Sample], lock_timeout: float,
                 lock_dir: Path | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        # Lock files live apart from the answers and go when the run ends (remove_locks).
        self.lock_dir = Path(lock_dir) if lock_dir is not None else self.directory / ".locks"
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        self._fetch = fetch
        self._lock_timeout = lock_timeout
        self._memo: dict[tuple[str, int], Sample] = {}

    def path(self, task: str, index: int) -> Path:
        return self.directory / f"{task}.{index}.json"

    def get(self, task: str, index: int) -> Sample:
        key = (task, index)
        if key in self._memo:
            return self._memo[key]
        path = self.path(task, index)
        with FileLock(str(self.lock_dir / f"{path.name}.lock"), timeout=self._lock_timeout):
            if path.exists():
                sample = Sample.from_dict(task, json.loads(path.read_text(encoding="utf-8")))
            else:
                sample = self._fetch(task, index)
                atomic_write_json(path, sample.as_dict())
        self._memo[key] = sample
        return sample

    def saved(self, task: str, index: int) -> Sample | None:
        return self.read(self.path(task, index), task)

    @staticmethod
    def read(path: Path, task: str) -> Sample | None:
        """The sample stored at ``path``; None when there is none (or it is unreadable)."""
        try:
            return Sample.from_dict(task, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None

    def remove_locks(self) -> None:
        """Once every process is done with the answers (the controller, at the end)."""
        shutil.rmtree(self.lock_dir, ignore_errors=True)
