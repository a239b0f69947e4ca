"""``llmbench regrade RESULTS``: re-grade a saved run; list the verdicts that changed.

Compares each saved verdict with what today's graders say about the same saved
answer. Exit 0 when it ran (changes or not), 2 when the file cannot be used.
"""

from __future__ import annotations

import json
import sys

from llmbench import verify
from llmbench.cli.argparsing import OneLineParser
from llmbench.runs.reader import RunFileError, changed_prompts, load_results, saved_samples
from llmbench.tasks import grade


def regrade(data: dict, verifier: verify.Verifier | None = None) -> tuple[list[dict], list[str]]:
    """(changes, skipped tasks): one change per (check, sample) whose verdict differs.

    Today's verdicts include the fix runs (``verifier``; default: run them)."""
    verifier = verifier or verify.Verifier()
    changes: list[dict] = []
    skipped = changed_prompts(data)
    for task, test in data["tests"].items():
        if task in skipped:
            continue
        for sample in saved_samples(data, task):
            if sample.result.error:
                continue  # a failed request has nothing to re-grade
            now = verify.with_execution(task, grade(task, sample.result.content, sample.result.reasoning),
                                        sample.final_answer, verifier)
            for check_id, saved in (test.get("checks") or {}).items():
                per_sample = saved.get("per_sample") or [saved]
                if sample.index >= len(per_sample) or check_id not in now:
                    continue
                before = per_sample[sample.index]
                after = now[check_id]
                if bool(before.get("passed")) != after.passed:
                    changes.append({"check": check_id, "sample": sample.index,
                                    "before": bool(before.get("passed")), "after": after.passed,
                                    "before_evidence": before.get("evidence", ""), "after_evidence": after.evidence})
    return changes, skipped


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="llmbench regrade", description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a run's results.json (or its folder)")
    parser.add_argument("--json", action="store_true", help="print the changes as JSON")
    parser.add_argument("--no-exec", action="store_true", help="do not run the answers' code against the probes")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        data = load_results(args.results)
    except RunFileError as exc:
        print(f"llmbench: {exc}", file=sys.stderr)
        return 2
    changes, skipped = regrade(data, verify.Verifier(enabled=not args.no_exec))
    if args.json:
        print(json.dumps({"changes": changes, "skipped_changed_prompt": skipped}, indent=2))
        return 0
    for task in skipped:
        print(f"{task}: skipped, its prompt changed since the answers were recorded")
    for c in changes:
        verdict = lambda ok: "PASS" if ok else "FAIL"  # noqa: E731
        print(f"{c['check']} (sample {c['sample'] + 1}): {verdict(c['before'])} -> {verdict(c['after'])}")
        print(f"    now: {c['after_evidence']}")
    gained = sum(1 for c in changes if c["after"])
    print(f"{len(changes)} verdict(s) changed: {gained} now pass, {len(changes) - gained} now fail")
    return 0
