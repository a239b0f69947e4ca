"""Prints the wall time of all behavioural probes of each task (the cost target: well
under 10 s per task on 2 cores), on the shipped bug and on the reference-shaped fix.

    .venv/bin/python testing/verify_probe_timings.py

Not a test: wall times depend on what else the machine runs (the load average is
printed); the CPU seconds of all probe processes do not.
"""

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from verify_probes_helpers import case_text, lay_out, run_probe  # noqa: E402

TASKS = ("zmq", "pplns", "payment", "stratum", "hiveos")
REFERENCE = {"hiveos": "right_reference.sh"}


def main():
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'task':<8} {'candidate':<20} {'wall s':>7} {'cpu s':>6}  slowest probe")
    for task in TASKS:
        for label, text in (("shipped bug", "" if task == "hiveos" else None),
                            ("reference fix", case_text(task, REFERENCE.get(task, "right_reference.py")))):
            with tempfile.TemporaryDirectory() as tmp:
                scratch = lay_out(tmp, task, text)
                started = time.monotonic()
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                payload = run_probe(scratch, task)
                wall = time.monotonic() - started
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            slowest = max(payload["results"], key=lambda r: r.get("seconds", 0))
            statuses = sorted({r["status"] for r in payload["results"]})
            print(f"{task:<8} {label:<20} {wall:7.2f} {cpu:6.2f}  {slowest['probe']} {slowest.get('seconds', 0):.2f} s"
                  f"  [{'/'.join(statuses)}]")


if __name__ == "__main__":
    main()
