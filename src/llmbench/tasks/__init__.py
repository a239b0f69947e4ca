"""The five quality tasks, in the seed's order, and grading by task name."""

from __future__ import annotations

from importlib import import_module

from llmbench.grading import Verdict, all_failed, grade_answer
from llmbench.tasks.base import Task

__all__ = ["Task", "TASK_NAMES", "get_task", "all_tasks", "check_ids", "grade", "grade_all_failed"]

# task name -> module under llmbench.tasks defining TASK
_MODULES = {
    "zmq": "zmq_listener",
    "pplns": "pplns",
    "payment": "payment",
    "stratum": "stratum",
    "hiveos": "hiveos",
}
TASK_NAMES: tuple[str, ...] = tuple(_MODULES)


def get_task(name: str) -> Task:
    if name not in _MODULES:
        raise KeyError(f"unknown task {name!r}; choose one of: {', '.join(TASK_NAMES)}")
    return import_module(f"llmbench.tasks.{_MODULES[name]}").TASK


def all_tasks() -> list[Task]:
    return [get_task(name) for name in TASK_NAMES]


def check_ids(name: str) -> list[str]:
    return get_task(name).check_ids


def grade(task_name: str, content: str | None, reasoning_field: str | None = None) -> dict[str, Verdict]:
    """Grade a raw model answer for one task: one Verdict per check id, in the order of docs/checks."""
    return grade_answer(get_task(task_name), content, reasoning_field)


def grade_all_failed(task_name: str, reason: str) -> dict[str, Verdict]:
    """Every check of a task fails with the same reason (no answer, HTTP error, ...)."""
    return all_failed(get_task(task_name).check_ids, reason)
