"""What a quality task is: a prompt, its checks, and a grader for its answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from llmbench.grading.check import Check, Verdict


@dataclass(frozen=True)
class Task:
    name: str                       # "stratum"
    title: str                      # "Stratum Protocol"
    difficulty: str                 # easy | hard | expert | nightmare | practical
    checks: tuple[Check, ...]
    build_prompt: Callable[[], str]
    # Grades a final answer (reasoning already removed) -> one Verdict per check id.
    grade_final: Callable[[str], Mapping[str, Verdict]]
    reference_answer: Callable[[], str]
    description: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def check_ids(self) -> list[str]:
        return [c.id for c in self.checks]

    def prompt(self) -> str:
        return self.build_prompt()
