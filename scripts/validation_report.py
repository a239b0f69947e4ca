#!/usr/bin/env python3
"""Print the graders' agreement with a labelled answer set, as a Markdown table.

    python scripts/validation_report.py                      # the validation set (for the README)
    python scripts/validation_report.py --root DIR --exec    # a blind round, graded as a run grades it

A set is one folder per task holding answer files and a ``labels.yaml`` (format in
testing/validation/README.md). Answers are graded by `llmbench grade`'s code path:
text only by default, or with ``--exec`` the fix runs too (needs bubblewrap), which
is how a benchmark run decides a fix check. The generated controls (echoed prompt,
generic checklist) are counted separately; they must fail every check.
Exit 1 when any label disagrees; each disagreement is listed on stderr with the
rule that decided it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from llmbench.grading.controls import GENERIC_CHECKLIST
from llmbench.tasks import TASK_NAMES, get_task, grade
from llmbench.textsafety import one_line

VALIDATION = Path(__file__).resolve().parents[1] / "testing" / "validation"


def _grader(execute: bool):
    if not execute:
        return grade
    from llmbench.verify import Verifier, grade_verified

    verifier = Verifier()
    line = verifier.status_line()
    if "skipped" in line:
        raise SystemExit(f"validation_report: --exec needs the fix runs, but {line}")
    return lambda task, text: grade_verified(task, text, None, verifier)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=VALIDATION, help="folder with one sub-folder per task")
    parser.add_argument("--task", action="append", choices=TASK_NAMES, help="only this task (repeatable)")
    parser.add_argument("--exec", dest="execute", action="store_true", help="run the answers' fixes too")
    args = parser.parse_args(argv)
    grader = _grader(args.execute)
    by_run = []   # the fix-run grader, made once when an entry first asks for it

    def run_grader():
        if args.execute:
            return grader
        if not by_run:
            by_run.append(_grader(True))
        return by_run[0]
    rows, totals = [], [0, 0, 0, 0]
    disagreements = []
    for task in args.task or TASK_NAMES:
        labels_file = args.root / task / "labels.yaml"
        if not labels_file.exists():
            continue
        labels = yaml.safe_load(labels_file.read_text()) or {}
        answers = agree = total = 0
        for filename, entry in sorted(labels.items()):
            answers += 1
            text = (args.root / task / filename).read_text()
            # an answer whose fix only a run can judge is graded as a run grades it
            verdicts = (run_grader() if entry.get("verified_by_run") else grader)(task, text)
            for check_id, expected in entry["labels"].items():
                total += 1
                verdict = verdicts[check_id]
                if verdict.passed is expected:
                    agree += 1
                else:
                    decided = verdict.rule or verdict.kind
                    # the evidence quotes answer text: no control characters reach the terminal
                    disagreements.append(f"{task}/{filename} {check_id}: label {expected}, "
                                         f"graded {verdict.passed} ({decided}: {one_line(verdict.evidence)[:160]})")
        control_passes = sum(v.passed for text in (get_task(task).prompt(), GENERIC_CHECKLIST)
                             for v in grade(task, text).values())
        rows.append((task, answers, total, agree, control_passes))
        for i, value in enumerate((answers, total, agree, control_passes)):
            totals[i] += value
    if not rows:
        print(f"validation_report: no <task>/labels.yaml under {args.root}", file=sys.stderr)
        return 2
    print("| Task | Answers | Labels | Agreement | False passes on controls |")
    print("|---|---:|---:|---:|---:|")
    for task, answers, total, agree, control in rows + [("all", *totals)]:
        print(f"| {task} | {answers} | {total} | {agree}/{total} ({100 * agree / total:.1f}%) | {control} |")
    for line in disagreements:
        print("disagrees:", line, file=sys.stderr)
    return 0 if not disagreements else 1


if __name__ == "__main__":
    raise SystemExit(main())
