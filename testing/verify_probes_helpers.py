"""Runs a behavioural probe script the way the verify contract lays it out, without a sandbox.

scratch/probes is a copy of src/llmbench/verify/probes, scratch/candidate the fixture
folder with the case's file in place of the original (or answer.sh for hiveos),
scratch/home an empty HOME; the probe runs with a cleared environment.
"""

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBES = ROOT / "src" / "llmbench" / "verify" / "probes"
FIXTURES = ROOT / "fixtures" / "buggy_code"
CASES = Path(__file__).resolve().parent / "verify_cases"

# the file a Python task's candidate replaces
TARGET = {
    "zmq": "zmq_listener.py",
    "pplns": "pplns.py",
    "payment": "payment_processor.py",
    "stratum": "stratum_server.py",
}


def lay_out(scratch, task, case_text=None):
    """Build scratch/{probes,candidate,home,tmp}; case_text replaces the task's file (None: as shipped)."""
    scratch = Path(scratch)
    shutil.copytree(PROBES, scratch / "probes", ignore=shutil.ignore_patterns("__pycache__"))
    candidate = scratch / "candidate"
    if task == "hiveos":
        candidate.mkdir()
        (candidate / "answer.sh").write_text(case_text or "")
    else:
        shutil.copytree(FIXTURES, candidate)
        if case_text is not None:
            (candidate / TARGET[task]).write_text(case_text)
    (scratch / "home").mkdir()
    (scratch / "tmp").mkdir()
    return scratch


@contextlib.contextmanager
def _port_3333_lock(task):
    """The hiveos probe listens on the fixed ethminer port: one run at a time on this machine."""
    if task != "hiveos":
        yield
        return
    with open(os.path.join(tempfile.gettempdir(), "llmbench-probe-3333.lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_probe(scratch, task, checks=(), timeout=60):
    """Run ``python3 probes/<task>_probe.py --candidate candidate``; the parsed JSON of its last line."""
    scratch = Path(scratch)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch / "home"),
           "TMPDIR": str(scratch / "tmp"), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, f"probes/{task}_probe.py", "--candidate", "candidate", "--timing"]
    for check in checks:
        cmd += ["--check", check]
    with _port_3333_lock(task):
        proc = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"probe script exited {proc.returncode}: {proc.stderr[-2000:]}"
    lines = proc.stdout.strip().splitlines()
    assert lines, f"probe script printed nothing: {proc.stderr[-2000:]}"
    return json.loads(lines[-1])


def case_text(task, name):
    return (CASES / task / name).read_text()


def by_probe(payload):
    """{probe name: (status, detail)}; a probe standing for several checks appears once."""
    return {r["probe"]: (r["status"], r["detail"]) for r in payload["results"]}
