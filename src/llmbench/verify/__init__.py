"""Execution-verified fixes: an answer's code, run against behavioural probes in a sandbox.

``grade_verified`` is what produces a check's final verdict: the text graders, then
one probe run per answer, joined by the rule in ``verify.scoring``.
"""

from __future__ import annotations

from llmbench.grading import GRADED_CHARS
from llmbench.grading.reasoning import split_reasoning
from llmbench.tasks import grade
from llmbench.verify.runner import STATUSES, Verifier, execution
from llmbench.verify.scoring import ExecutedVerdict, decide

__all__ = ["ExecutedVerdict", "STATUSES", "Verifier", "grade_verified", "with_execution"]


def grade_verified(task: str, content: str | None, reasoning_field: str | None = None,
                   verifier: Verifier | None = None) -> dict[str, ExecutedVerdict]:
    """``tasks.grade`` plus the fix run: one ExecutedVerdict per check id."""
    verdicts = grade(task, content, reasoning_field)
    final, _ = split_reasoning(content, reasoning_field)
    return with_execution(task, verdicts, final, verifier or Verifier())


def with_execution(task: str, verdicts: dict, final_answer: str, verifier: Verifier) -> dict[str, ExecutedVerdict]:
    final_answer = final_answer[:GRADED_CHARS]   # the tail the text graders skip is not run either
    runs = verifier.run(task, final_answer)
    return {check_id: decide(check_id, verdict, runs[check_id], final_answer) for check_id, verdict in verdicts.items()}


def failed_request(task: str, verdicts: dict, reason: str) -> dict[str, ExecutedVerdict]:
    """Verdicts of a request that never produced an answer: no run, and why."""
    return {c: ExecutedVerdict(v.passed, v.evidence, kind=v.kind, rule=v.rule, execution=execution("no_code", reason))
            for c, v in verdicts.items()}
