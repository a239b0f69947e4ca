"""Grading: checks and verdicts, reasoning removal, answer parsing, finding rules,
grader controls and the judge. It knows nothing of the five tasks (``llmbench.tasks``
builds on it); ``llmbench.tasks.grade`` grades by task name."""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Protocol

from llmbench.grading.check import Check, Verdict, all_failed
from llmbench.grading.reasoning import split_reasoning

__all__ = ["Check", "GRADED_CHARS", "Gradable", "Verdict", "all_failed", "grade_answer", "split_reasoning"]

# Only this much of a final answer is graded: a finding takes a few sentences, and a
# longer answer is a loop or garbage whose tail would only cost time (grading is
# linear, about 15-25 ms per KB per task: scripts/bench_grading.py). Every verdict of a
# longer answer says that its tail was not graded.
GRADED_CHARS = 200_000


class Gradable(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def check_ids(self) -> list[str]: ...

    def grade(self, final: str) -> Mapping[str, Verdict]: ...


def grade_answer(task: Gradable, content: str | None, reasoning_field: str | None = None) -> dict[str, Verdict]:
    """Grade a raw model answer: reasoning removed, then the task's checks.

    Returns one Verdict per check id, in the task's order.
    """
    final, reasoning = split_reasoning(content, reasoning_field)
    if not final.strip():
        why = "no final answer: all output was reasoning" if reasoning else "empty answer"
        return all_failed(task.check_ids, why)
    note = ""
    if len(final) > GRADED_CHARS:
        note = (f" [only the first {GRADED_CHARS:,} of the answer's {len(final):,} characters "
                "were graded; the rest was not graded]")
        final = final[:GRADED_CHARS]
    verdicts = dict(task.grade(final))
    missing = [c for c in task.check_ids if c not in verdicts]
    if missing:  # a grader bug must not silently pass or vanish
        raise RuntimeError(f"grader for {task.name} returned no verdict for {missing}")
    return {check_id: replace(verdicts[check_id], evidence=verdicts[check_id].evidence + note) if note
            else verdicts[check_id] for check_id in task.check_ids}
