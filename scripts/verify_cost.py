#!/usr/bin/env python3
"""Print what the fix runs cost: seconds per answer (all probes of a task, sandbox included).

    python scripts/verify_cost.py              # the reference answers, each task once
    python scripts/verify_cost.py --repeat 3   # best of 3 per task

Targets: all probes of one answer under 10 s on 2 cores; a full 22-check run adds
under 30 s (one run per answer, so the five task runs add up).
"""

from __future__ import annotations

import argparse
import time

from llmbench.tasks import TASK_NAMES, get_task
from llmbench.verify import runner
from llmbench.verify.runner import Verifier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per task; the best is shown (default: 1)")
    args = parser.parse_args()
    verifier = Verifier()
    print(verifier.status_line())
    total = 0.0
    print(f"{'task':<8} {'seconds':>8}  statuses")
    for task in TASK_NAMES:
        best = None
        for _ in range(args.repeat):
            runner._MEMORY.clear()   # measure the run, not the cache
            started = time.monotonic()
            runs = verifier.run(task, get_task(task).reference_answer())
            elapsed = time.monotonic() - started
            best = elapsed if best is None else min(best, elapsed)
        statuses = sorted({r["status"] for r in runs.values()})
        total += best
        print(f"{task:<8} {best:>8.2f}  {', '.join(statuses)}")
    print(f"{'all':<8} {total:>8.2f}  (one run per answer: what a 22-check run adds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
