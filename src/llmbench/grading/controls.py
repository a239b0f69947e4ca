"""Grader controls run before any model is asked: a broken grader must never score.

For every task: the prompt echoed back and a generic checklist naming every bug
category must fail every check; the reference answer must pass every check.
"""

from __future__ import annotations

from typing import Iterable, Protocol

from llmbench.grading import Gradable, grade_answer


class ControlledTask(Gradable, Protocol):
    def prompt(self) -> str: ...

    def reference_answer(self) -> str: ...

GENERIC_CHECKLIST = """Here is a review checklist for this code:

- Consider race conditions and thread safety; use locks where shared state is mutated.
- Check for SQL injection; always use parameterized queries.
- Avoid floating point for money; prefer Decimal.
- Make sure database updates are atomic and wrapped in transactions.
- Watch out for byte order / endianness issues when serializing binary data.
- Look for information leaks in logs.
- Check for stale data and cache invalidation problems.
- Watch for memory leaks from unbounded collections.
- Validate all user input.
- Hard-coded values should come from configuration; remove unused variables.
- ZMQ sockets are not thread-safe; ensure sockets are used from one thread.
- For HiveOS, write h-manifest.conf, h-config.sh, h-run.sh and h-stats.sh with heredocs.
"""


def control_failures(tasks: Iterable[ControlledTask]) -> list[str]:
    """One line per check that misjudges a control; empty when the graders are sound."""
    failures = []
    for task in tasks:
        controls = (
            ("the echoed prompt", task.prompt(), False),
            ("the generic checklist", GENERIC_CHECKLIST, False),
            ("the reference answer", task.reference_answer(), True),
        )
        for label, text, should_pass in controls:
            for check_id, verdict in grade_answer(task, text).items():
                if verdict.passed != should_pass:
                    failures.append(f"{check_id} {'passed' if verdict.passed else 'failed'} {label}")
    return failures
