"""Shared by these test probes: load the candidate, guard each probe, print the JSON line."""

import argparse
import importlib.util
import json
import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))


def load(candidate_dir, module_name):
    sys.path[:0] = [os.path.join(HERE, "fakes"), candidate_dir]
    spec = importlib.util.spec_from_file_location(module_name, os.path.join(candidate_dir, module_name + ".py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def guarded(check, probe, body, seconds=3.0):
    """Run one probe in a thread bounded in time; a crash or timeout is this probe's error only."""
    outcome = {}

    def target():
        try:
            outcome["detail"] = body() or "ok"
            outcome["status"] = "passed"
        except AssertionError as exc:
            outcome.update(status="failed", detail=str(exc))
        except BaseException as exc:  # noqa: BLE001 - the candidate may raise anything
            outcome.update(status="error", detail=f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        outcome = {"status": "error", "detail": f"probe timed out after {seconds} s"}
    return {"check": check, "probe": probe, **outcome}


def main(task, probes):
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidate", required=True)
    parser.add_argument("--check", action="append")
    args = parser.parse_args()
    results = []
    for check, probe, body in probes(os.path.abspath(args.candidate)):
        if args.check and check not in args.check:
            continue
        results.append(guarded(check, probe, body))
    print(json.dumps({"task": task, "results": results}))
