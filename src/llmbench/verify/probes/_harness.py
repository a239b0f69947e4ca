"""Shared runner of the behavioural probes (stdlib only, never imports llmbench).

Each task script declares its probes and calls ``main``. The parent process runs
every probe in its own child process (``--run-one NAME``): a probe that crashes,
aborts (libzmq's SIGABRT) or loops forever costs only that probe, and the child's
process group is killed at the probe's time limit. The parent prints exactly one
JSON object on its last stdout line, as the verify contract asks.
"""

import argparse
import concurrent.futures
import contextlib
import importlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback

PROBES_DIR = os.path.dirname(os.path.abspath(__file__))
FAKES_DIR = os.path.join(PROBES_DIR, "fakes")
PROBE_TIMEOUT = 3.0      # seconds per probe, child killed after
IMPORT_TIMEOUT = 3.0     # the import pre-check
TASK_BUDGET = 9.0        # no probe starts after this much wall time
PARALLEL = 2             # the machines this runs on have 2 cores


class ProbeFailed(Exception):
    """A behavioural assertion failed: the candidate ran and did the wrong thing."""


class CandidateError(Exception):
    """The candidate could not be imported or run as the task's program."""


class Probe:
    def __init__(self, checks, name, func, timeout=PROBE_TIMEOUT):
        # one run may stand for several checks (a diagnosis check shares its fix's probe)
        self.checks = (checks,) if isinstance(checks, str) else tuple(checks)
        self.name = name
        self.func = func
        self.timeout = timeout


def one_line(text, limit=400):
    """Details quote candidate output: one line, no control characters, bounded length."""
    text = "".join(ch if ch.isprintable() or ch.isspace() else "?" for ch in str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_exception(exc, candidate_dir):
    """'SyntaxError line 12 in pplns.py: ...' or 'ValueError: ... (pplns.py:40)'."""
    if isinstance(exc, SyntaxError):
        where = os.path.basename(exc.filename or "?")
        return f"{type(exc).__name__} line {exc.lineno} in {where}: {exc.msg}"
    place = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if candidate_dir and os.path.abspath(frame.filename).startswith(os.path.abspath(candidate_dir)):
            place = f" ({os.path.basename(frame.filename)}:{frame.lineno} in {frame.name})"
            break
    return f"{type(exc).__name__}: {exc}{place}"


class Context:
    """What a probe function gets: the candidate folder and import helpers."""

    def __init__(self, candidate_dir):
        self.candidate_dir = os.path.abspath(candidate_dir)
        self.home = os.path.join(os.path.dirname(self.candidate_dir), "home")

    def load(self, module_name, fakes=False):
        """Import a candidate module fresh, with the fake packages first on sys.path when asked."""
        sys.dont_write_bytecode = True
        if fakes and FAKES_DIR not in sys.path:
            sys.path.insert(0, FAKES_DIR)
        if self.candidate_dir not in sys.path:
            sys.path.insert(1 if fakes else 0, self.candidate_dir)
        path = os.path.join(self.candidate_dir, module_name + ".py")
        if not os.path.exists(path):
            raise CandidateError(f"candidate has no {module_name}.py")
        try:
            return importlib.import_module(module_name)
        except BaseException as exc:  # SyntaxError, ImportError, SystemExit, anything
            raise CandidateError("import failed: " + describe_exception(exc, self.candidate_dir)) from exc

    def cls(self, module, name):
        found = getattr(module, name, None)
        if not isinstance(found, type):
            raise CandidateError(f"candidate has no class {name} in {module.__name__}.py")
        return found


def _run_in_child(probe, ctx):
    """Body of ``--run-one``: returns (status, detail)."""
    died = []   # exceptions that ended a candidate thread: often why a probe failed

    def on_thread_death(args):
        died.append(f"thread {args.thread.name if args.thread else '?'} died: "
                    + describe_exception(args.exc_value, ctx.candidate_dir))
    threading.excepthook = on_thread_death
    try:
        detail = probe.func(ctx)
        return "passed", one_line(detail or "ok")
    except ProbeFailed as exc:
        return "failed", one_line(f"{exc}; {died[0]}" if died else exc)
    except CandidateError as exc:
        return "error", one_line(exc)
    except BaseException as exc:
        return "error", one_line("candidate raised " + describe_exception(exc, ctx.candidate_dir))


def _child_main(probes, args):
    ctx = Context(args.candidate)
    real_stdout = sys.stdout
    chatter = io.StringIO()
    if args.run_one == "__import__":
        probe = Probe("", "__import__", args.import_check)
    else:
        probe = next(p for p in probes if p.name == args.run_one)
    # stdout stays redirected: a candidate thread still printing cannot land after the result
    sys.stdout = chatter
    status, detail = _run_in_child(probe, ctx)
    real_stdout.flush()
    os.write(real_stdout.fileno(), (json.dumps({"status": status, "detail": detail}) + "\n").encode())
    sys.stderr.flush()
    # leftover candidate threads (non-daemon workers, blocked listeners) must not keep us alive
    os._exit(0)


def _spawn(script, candidate, name, timeout):
    """Run one probe in a child process group; (status, detail, seconds)."""
    started = time.monotonic()
    cmd = [sys.executable, script, "--candidate", candidate, "--run-one", name]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        what = "importing the candidate" if name == "__import__" else "the probe"
        return ("error", f"{what} timed out after {timeout:g} s (endless loop or blocked call in the candidate)",
                time.monotonic() - started)
    finally:
        _kill_group(proc)  # grandchildren the probe left behind
    seconds = time.monotonic() - started
    lines = out.decode("utf-8", "replace").strip().splitlines()
    if lines:
        try:
            result = json.loads(lines[-1])
            return result["status"], result["detail"], seconds
        except (ValueError, KeyError, TypeError):
            pass
    code = proc.returncode
    why = f"killed by signal {-code}" if code and code < 0 else f"exit code {code}"
    tail = one_line(err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""])
    return "error", one_line(f"probe process died ({why}) {tail}"), seconds


def _kill_group(proc):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def main(task, probes, import_check, script, argv=None, setup=None):
    """Entry point of a task script.

    ``import_check(ctx)`` imports the candidate and checks its classes exist; when it
    fails every probe is reported as "error" with its detail and none is run.
    ``setup(ctx)``, if given, runs once in the parent before the probes (HiveOS runs
    the answer's shell there) and returns an error detail or None.
    """
    parser = argparse.ArgumentParser(description=f"behavioural probes of the {task} task")
    parser.add_argument("--candidate", required=True, help="folder holding the candidate program")
    parser.add_argument("--check", action="append", default=[], help="run only the probes of this check id")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    parser.add_argument("--timing", action="store_true", help="add each probe's seconds to its entry")
    args = parser.parse_args(argv)
    args.import_check = import_check
    if args.run_one:
        _child_main(probes, args)
        return

    selected = [p for p in probes if not args.check or set(p.checks) & set(args.check)]
    started = time.monotonic()
    results = []
    blocked = None
    if setup is not None:
        blocked = setup(Context(args.candidate))
    if blocked is None and import_check is not None:
        status, detail, _ = _spawn(script, args.candidate, "__import__", IMPORT_TIMEOUT)
        if status != "passed":
            blocked = detail
    if blocked is not None:
        results = [e for p in selected for e in _entries(p, "error", blocked, args.check)]
    else:
        probes_started = time.monotonic()   # setup is bounded on its own

        def run(probe):
            if time.monotonic() - probes_started > TASK_BUDGET:
                return probe, ("error", "not run: the task's time budget was spent by earlier probes", 0.0)
            return probe, _spawn(script, args.candidate, probe.name, probe.timeout)

        with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            for probe, (status, detail, seconds) in pool.map(run, selected):
                for entry in _entries(probe, status, detail, args.check):
                    if args.timing:
                        entry["seconds"] = round(seconds, 3)
                    results.append(entry)
    payload = {"task": task, "results": results}
    if args.timing:
        payload["seconds"] = round(time.monotonic() - started, 3)
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def _entries(probe, status, detail, wanted):
    return [{"check": check, "probe": probe.name, "status": status, "detail": one_line(detail)}
            for check in probe.checks if not wanted or check in wanted]


def expect(condition, message):
    if not condition:
        raise ProbeFailed(message)
