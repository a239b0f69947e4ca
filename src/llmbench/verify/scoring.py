"""The one rule that joins a check's text verdict and its fix run.

* Fix checks (the criterion asks to identify the defect *and fix it*): when the
  answer's code touches the check's place, the run decides the fix half.
  - the probe fails: the check fails, whatever the prose says;
  - the probe passes: the check passes when the prose already gave the diagnosis
    ("identified but not fixed": the text grader did not recognise the code as the
    fix) or when the answer is code only (the fix can only mean that defect);
    otherwise the text verdict stands.
* HiveOS checks are judged on the files; the run is their behaviour: a failing run
  fails the check, a passing one leaves the file verdict as it is, except where the
  answer edits its files in place after writing them (``sed -i``): the file reading does
  not follow such edits, the run of the files bash leaves does (not for ``heredocs``,
  which is about how the files are written).
* Diagnosis-only checks keep their text verdict, with one exception: a verdict that
  passed on the fix alone (no finding asserted) fails when that fix fails its run.
  Otherwise the run is shown beside it.
* A run that did not happen (no_code, error, unavailable) changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmbench.grading.check import Verdict
from llmbench.verify.blocks import prose

FIX_CHECKS = frozenset({
    "zmq.fix_socket_in_thread",
    "pplns.config_key_mismatch",
    "payment.sql_injection",
    "payment.float_precision",
    "stratum.info_leak",
    "stratum.memory_leak",
    "stratum.input_validation",
})
# an in-place edit of a file the answer wrote: "sed -i 's/^ethminer/exec ethminer/' h-run.sh"
_EDITS_IN_PLACE = re.compile(r"^\s*(?:sudo\s+)?(?:sed\s+(?:-[^\s]*\s+)*-[a-zA-Z]*i|perl\s+-[a-zA-Z]*i)", re.MULTILINE)
CODE_ONLY_WORDS = 40   # prose outside code blocks at most this long: the answer is its code
_DIAGNOSED_ONLY = "identified but not fixed"


@dataclass(frozen=True)
class ExecutedVerdict(Verdict):
    """A verdict with its fix run: ``execution = {status, probe, detail, candidate}``."""

    execution: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "execution": dict(self.execution)}


def is_code_only(final_answer: str) -> bool:
    return len(re.findall(r"[A-Za-z]{2,}", prose(final_answer))) <= CODE_ONLY_WORDS


def decide(check_id: str, verdict: Verdict, run: dict, final_answer: str) -> ExecutedVerdict:
    """The check's verdict once its run is known."""
    status = run.get("status")
    probe = run.get("probe") or "probe"
    if status == "failed" and (check_id in FIX_CHECKS or check_id.startswith("hiveos.")):
        what = "the files fail" if check_id.startswith("hiveos.") else "the fix fails"
        evidence = f"{what} when run ({probe}): {run.get('detail', '')}"
        if verdict.passed:
            evidence += f"; the text alone passed: {verdict.evidence}"
        return ExecutedVerdict(False, evidence, kind="fix_failed", rule="fix run", execution=run)
    if status == "failed" and verdict.passed and verdict.kind == "fix":
        # a diagnosis check the text passed on the fix alone (no finding asserted): the fix is
        # its only evidence, and the fix does not work
        evidence = f"passed on its fix alone, and the fix fails when run ({probe}): {run.get('detail', '')}; the text: {verdict.evidence}"
        return ExecutedVerdict(False, evidence, kind="fix_failed", rule="fix run", execution=run)
    if status == "passed" and check_id.startswith("hiveos.") and check_id != "hiveos.heredocs" \
            and not verdict.passed and _EDITS_IN_PLACE.search(final_answer):
        return ExecutedVerdict(True, f"the answer edits its files in place after writing them; the files bash leaves pass "
                                     f"when run ({probe}): {run.get('detail', '')}", kind="files", rule="fix run", execution=run)
    if status == "passed" and check_id in FIX_CHECKS and not verdict.passed:
        if verdict.evidence.startswith(_DIAGNOSED_ONLY):
            return ExecutedVerdict(True, f"{verdict.evidence}; the fix passes when run ({probe})",
                                   kind="fix", rule="fix run", execution=run)
        if is_code_only(final_answer):
            return ExecutedVerdict(True, f"code-only answer whose fix passes when run ({probe}): {run.get('detail', '')}",
                                   kind="fix", rule="fix run", execution=run)
    return ExecutedVerdict(verdict.passed, verdict.evidence, kind=verdict.kind, rule=verdict.rule, execution=run)


def fixes_verified(results: dict) -> tuple[int, int] | None:
    """(runs that passed, runs that ran) over every check and sample of a results.json;
    None for a run recorded without fix runs."""
    passed = ran = 0
    seen = False
    for test in (results.get("tests") or {}).values():
        for check in ((test or {}).get("checks") or {}).values():
            for sample in (check or {}).get("per_sample") or []:
                run = sample.get("execution") if isinstance(sample, dict) else None
                if not isinstance(run, dict):
                    continue
                seen = True
                if run.get("status") in ("passed", "failed"):
                    ran += 1
                    passed += run["status"] == "passed"
    return (passed, ran) if seen else None
