"""The one loop that grades every task: each check of the parsed answer in turn.

A bug check runs its rule (``rules.evaluate``), a file check its ``judge``; either
may be overturned by its ``post_check``. Nothing here knows a task by name.
"""

from __future__ import annotations

from typing import Any, Iterable

from llmbench.grading.check import Check, Verdict
from llmbench.grading.rules import evaluate


def run_check(check: Check, parsed: Any) -> Verdict:
    if check.judge is not None:
        verdict = check.judge(parsed)
    elif check.rule is not None:
        verdict = evaluate(parsed, check.rule, check.require, check.missing)
    else:  # a check without a rule must never pass by accident
        raise RuntimeError(f"check {check.id} has neither a rule nor a judge")
    return check.post_check(parsed, verdict) if check.post_check else verdict


def grade_checks(checks: Iterable[Check], parsed: Any) -> dict[str, Verdict]:
    return {check.id: run_check(check, parsed) for check in checks}
