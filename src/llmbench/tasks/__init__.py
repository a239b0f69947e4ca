"""The five quality tasks, in the seed's order."""

from __future__ import annotations

from importlib import import_module

from llmbench.tasks.base import Check, Task, Verdict

__all__ = ["Check", "Task", "Verdict", "TASK_NAMES", "get_task", "all_tasks", "check_ids"]

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
