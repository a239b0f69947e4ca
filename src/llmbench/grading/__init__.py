"""Grading: checks and verdicts, reasoning removal, answer parsing, finding rules,
grader controls and the judge. It knows nothing of the five tasks (``llmbench.tasks``
builds on it); ``llmbench.tasks.grade`` grades by task name."""

from __future__ import annotations

from typing import Mapping, Protocol

from llmbench.grading.check import Check, Verdict, all_failed
from llmbench.grading.reasoning import split_reasoning

__all__ = ["Check", "Gradable", "Verdict", "all_failed", "grade_answer", "split_reasoning"]


class Gradable(Protocol):
    name: str

    @property
    def check_ids(self) -> list[str]: ...

    def grade_final(self, final: str) -> Mapping[str, Verdict]: ...


def grade_answer(task: Gradable, content: str | None, reasoning_field: str | None = None) -> dict[str, Verdict]:
    """Grade a raw model answer: reasoning removed, then the task's checks.

    Returns one Verdict per check id, in the task's order.
    """
    final, reasoning = split_reasoning(content, reasoning_field)
    if not final.strip():
        why = "no final answer: all output was reasoning" if reasoning else "empty answer"
        return all_failed(task.check_ids, why)
    verdicts = dict(task.grade_final(final))
    missing = [c for c in task.check_ids if c not in verdicts]
    if missing:  # a grader bug must not silently pass or vanish
        raise RuntimeError(f"grader for {task.name} returned no verdict for {missing}")
    return {check_id: verdicts[check_id] for check_id in task.check_ids}
