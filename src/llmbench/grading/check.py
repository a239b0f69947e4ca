"""A check (one criterion of one task) and a verdict (one answer judged against one check)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    id: str          # "<task>.<check>", stable: used by pytest ids, JSON, HTML, `llmbench grade`
    title: str       # short human label
    criterion: str   # what an answer must do to pass (from spec/checks.md)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    evidence: str    # the sentence/lines that earned the pass, or why it failed

    def as_dict(self) -> dict:
        return {"passed": self.passed, "evidence": self.evidence}


def all_failed(check_ids: list[str], reason: str) -> dict[str, Verdict]:
    """Every check fails with the same reason (no answer, HTTP error, ...)."""
    return {check_id: Verdict(False, reason) for check_id in check_ids}
