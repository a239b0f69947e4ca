"""A check (one criterion of one task) and a verdict (one answer judged against one check)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Check:
    """One check, readable in one place: what it asks, and the rule that grades it.

    A bug check carries its ``rule`` (a ``grading.rules.Finding``: places, wrong
    places, mechanisms, wrong mechanisms, fixes, denials) and ``require`` (see
    ``grading.rules.evaluate``); a file check carries a ``judge`` of the parsed
    answer instead. ``post_check`` may overturn the verdict for what a pattern
    cannot see (the whole block still logged below the "fix"). One loop
    (``grading.checking``) grades every check. docs/checks.md is the contract;
    docs/adding-a-check.md says how to add or tighten one.
    """
    id: str          # "<task>.<check>", stable: used by pytest ids, JSON, HTML, `llmbench grade`
    title: str       # short human label
    criterion: str   # what an answer must do to pass (from docs/checks.md)
    rule: Any = None                  # grading.rules.Finding
    require: str = "either"           # "either" | "fixes" | "mechanism" | "fix" | "both"
    missing: str = ""                 # the failure reason when nothing in the answer counts
    post_check: Callable[[Any, "Verdict"], "Verdict"] | None = None   # (parsed answer, verdict) -> verdict
    judge: Callable[[Any], "Verdict"] | None = None                   # grades the parsed answer itself


# What decided a verdict. Passing: the answer asserted the defect at its place
# (finding), gave a fix that can only mean it (fix), or created files that satisfy
# the check (files). Failing: it denied the defect (denial), only advised (advice),
# put the mechanism on a decoy (wrong_place) or the wrong mechanism on the place
# (wrong_mechanism), copied the prompt (echo), gave a fix that fails when run
# (fix_failed), or said nothing that counts (missing).
VERDICT_KINDS = ("finding", "fix", "files", "denial", "advice", "wrong_place", "wrong_mechanism", "echo",
                 "fix_failed", "missing")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    evidence: str    # the sentence/lines that earned the pass, or why it failed
    kind: str = ""   # one of VERDICT_KINDS ("" when not classified)
    rule: str = ""   # the named pattern that decided, e.g. "mechanism `reversal`"

    def as_dict(self) -> dict:
        data = {"passed": self.passed, "evidence": self.evidence}
        if self.kind:
            data["kind"] = self.kind
        if self.rule:
            data["rule"] = self.rule
        return data


def all_failed(check_ids: list[str], reason: str) -> dict[str, Verdict]:
    """Every check fails with the same reason (no answer, HTTP error, ...)."""
    return {check_id: Verdict(False, reason, kind="missing") for check_id in check_ids}
