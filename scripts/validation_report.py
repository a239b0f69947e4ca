#!/usr/bin/env python3
"""Print the grader validation set's size and the graders' agreement with its labels.

    python scripts/validation_report.py            # a Markdown table (for the README)

Reads testing/validation/<task>/labels.yaml and grades every answer with the
same code path as `llmbench grade`; the generated controls (echoed prompt,
generic checklist) are counted separately.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from llmbench.grading.controls import GENERIC_CHECKLIST
from llmbench.tasks import TASK_NAMES, get_task, grade

VALIDATION = Path(__file__).resolve().parents[1] / "testing" / "validation"


def main() -> int:
    rows, totals = [], [0, 0, 0, 0]
    disagreements = []
    for task in TASK_NAMES:
        labels = yaml.safe_load((VALIDATION / task / "labels.yaml").read_text()) or {}
        answers = agree = total = 0
        for filename, entry in sorted(labels.items()):
            answers += 1
            verdicts = grade(task, (VALIDATION / task / filename).read_text())
            for check_id, expected in entry["labels"].items():
                total += 1
                if verdicts[check_id].passed is expected:
                    agree += 1
                else:
                    disagreements.append(f"{task}/{filename} {check_id}: label {expected}")
        control_passes = sum(v.passed for text in (get_task(task).prompt(), GENERIC_CHECKLIST)
                             for v in grade(task, text).values())
        rows.append((task, answers, total, agree, control_passes))
        for i, value in enumerate((answers, total, agree, control_passes)):
            totals[i] += value
    print("| Task | Answers | Labels | Agreement | False passes on controls |")
    print("|---|---:|---:|---:|---:|")
    for task, answers, total, agree, control in rows + [("all", *totals)]:
        print(f"| {task} | {answers} | {total} | {agree}/{total} ({100 * agree / total:.1f}%) | {control} |")
    for line in disagreements:
        print("disagrees:", line, file=sys.stderr)
    return 0 if not disagreements else 1


if __name__ == "__main__":
    raise SystemExit(main())
