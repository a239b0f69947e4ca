"""Grading: reasoning removal, answer parsing, finding rules, and the entry point."""

from __future__ import annotations

from llmbench.grading.reasoning import split_reasoning
from llmbench.tasks import get_task
from llmbench.tasks.base import Verdict

__all__ = ["grade", "grade_all_failed", "split_reasoning"]


def grade_all_failed(task_name: str, reason: str) -> dict[str, Verdict]:
    """Every check of a task fails with the same reason (no answer, HTTP error, …)."""
    return {check_id: Verdict(False, reason) for check_id in get_task(task_name).check_ids}


def grade(task_name: str, content: str | None, reasoning_field: str | None = None) -> dict[str, Verdict]:
    """Grade a raw model answer for one task: reasoning removed, then the task's checks.

    Returns one Verdict per check id, in the order of spec/checks.md.
    """
    task = get_task(task_name)
    final, reasoning = split_reasoning(content, reasoning_field)
    if not final.strip():
        why = "no final answer: all output was reasoning" if reasoning else "empty answer"
        return grade_all_failed(task_name, why)
    verdicts = dict(task.grade_final(final))
    missing = [c for c in task.check_ids if c not in verdicts]
    if missing:  # a grader bug must not silently pass or vanish
        raise RuntimeError(f"grader for {task_name} returned no verdict for {missing}")
    return {check_id: verdicts[check_id] for check_id in task.check_ids}
