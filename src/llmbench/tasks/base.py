"""What a quality task is: a prompt, its checks, and a grader for its answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from llmbench.grading.check import Check, Verdict
from llmbench.grading.checking import grade_checks
from llmbench.grading.parsed_answer import Answer


@dataclass(frozen=True)
class Task:
    name: str                       # "stratum"
    title: str                      # "Stratum Protocol"
    difficulty: str                 # easy | hard | expert | nightmare | practical
    checks: tuple[Check, ...]
    build_prompt: Callable[[], str]
    reference_answer: Callable[[], str]
    # Parses a final answer once for all checks (default: prose and code units against the prompt).
    parse: Callable[[str], Any] | None = None
    # Replaces the generic loop altogether (self-tests of the plumbing only).
    grade_final: Callable[[str], Mapping[str, Verdict]] | None = None

    @property
    def check_ids(self) -> list[str]:
        return [c.id for c in self.checks]

    def prompt(self) -> str:
        return self.build_prompt()

    def parse_answer(self, final: str) -> Any:
        return self.parse(final) if self.parse else Answer(final, self.prompt())

    def grade(self, final: str) -> Mapping[str, Verdict]:
        """One Verdict per check of a final answer (reasoning already removed)."""
        if self.grade_final is not None:
            return self.grade_final(final)
        return grade_checks(self.checks, self.parse_answer(final))
