"""Run concurrency levels one after another with the shared measurement core.

Each level forks C processes that each run ``loop.run_client`` (the code the
pytest path runs on each xdist worker), meeting at the same file barrier;
their results are aggregated by ``aggregate.summarize_level``.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import shutil
import tempfile
import traceback
from pathlib import Path

from llmbench.throughput.aggregate import summarize_level
from llmbench.throughput.loop import FileBarrier, LoadSpec, run_client
from llmbench.throughput.ratelevel import summarize_rate_level

SATURATION_GAIN = 1.05


def _child(spec: LoadSpec, index: int, barrier_dir: str, parties: int, timeout: float, out_path: str,
           streams: tuple[int, int] | None = None) -> None:
    try:
        barrier = FileBarrier(barrier_dir, parties, timeout)
        if streams:   # (streams in this process, client index of its first)
            from llmbench.throughput.streams import run_streams

            result = run_streams(spec, index, streams[0], streams[1], barrier)
        else:
            result = run_client(spec, index, barrier)
    except BaseException as exc:  # a client that dies still reports why
        result = {"client": index, "pid": os.getpid(), "cpu_s": 0.0, "wall_s": 0.0, "eos_control": True,
                  "fatal": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=3), "records": []}
    tmp = f"{out_path}.tmp"
    with open(tmp, "w") as fh:
        json.dump(result, fh)
    os.replace(tmp, out_path)


def run_level(spec: LoadSpec, concurrency: int, barrier_timeout: float = 600.0) -> list[dict]:
    """Run ``concurrency`` clients: one process each, or ``spec.streams_per_worker`` asyncio streams per process."""
    spec = dataclasses.replace(spec, clients=concurrency)
    k = max(1, spec.streams_per_worker)
    shares = [(min(k, concurrency - first), first) for first in range(0, concurrency, k)] if k > 1 else None
    processes = len(shares) if shares else concurrency
    ctx = multiprocessing.get_context("fork")
    work = tempfile.mkdtemp(prefix="llmbench-level-")
    barrier_dir = os.path.join(work, "barrier")
    paths = [os.path.join(work, f"client-{i}.json") for i in range(processes)]
    procs = [ctx.Process(target=_child, args=(spec, i, barrier_dir, processes, barrier_timeout, paths[i],
                                              shares[i] if shares else None), daemon=True)
             for i in range(processes)]
    try:
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        results = []
        for i, path in enumerate(paths):
            try:
                with open(path) as fh:
                    results.append(json.load(fh))
            except (OSError, ValueError):
                results.append({"client": i, "cpu_s": 0.0, "records": [], "fatal": f"client {i} exited without a result"})
        return results
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(5)
        shutil.rmtree(work, ignore_errors=True)


def headline(levels: list[dict]) -> dict:
    """Single t/s (C=1), peak t/s and where, and the saturation point.

    Saturation is the first level where doubling the concurrency adds under 5%,
    or where the next level measured is slower.
    """
    usable = [lv for lv in levels if lv["requests"]]
    by_c = {lv["concurrency"]: lv["aggregate_tok_s"] for lv in usable}
    single = by_c.get(1)
    peak = max(usable, key=lambda lv: lv["aggregate_tok_s"], default=None)
    saturation = None
    order = sorted(by_c)
    for c, following in zip(order, order[1:] + [None], strict=False):
        doubled_gains_little = 2 * c in by_c and by_c[c] > 0 and by_c[2 * c] / by_c[c] < SATURATION_GAIN
        next_is_slower = following is not None and by_c[following] < by_c[c]
        if doubled_gains_little or next_is_slower:
            saturation = c
            break
    return {"single_tok_s": single, "peak_tok_s": peak["aggregate_tok_s"] if peak else None,
            "peak_concurrency": peak["concurrency"] if peak else None, "saturation_concurrency": saturation}


def level_from_results(concurrency: int, results: list[dict], max_tokens: int) -> dict:
    return _with_failures(summarize_level(concurrency, results, max_tokens), results)


def rate_level_from_results(rate: float, arrival: str, results: list[dict], max_tokens: int) -> dict:
    return _with_failures(summarize_rate_level(rate, arrival, results, max_tokens), results)


def _with_failures(level: dict, results: list[dict]) -> dict:
    fatal = [r["fatal"] for r in results if r.get("fatal")]
    if fatal:
        level["client_failures"] = sorted(set(fatal))[:5]
        level["errors"] += len(fatal)
    return level


def run_rate_level(spec: LoadSpec) -> list[dict]:
    """One open-loop client at ``spec.rate`` in this process (asyncio): its result, or why it died."""
    try:
        return [run_client(spec, 0)]
    except Exception as exc:
        return [{"client": 0, "pid": os.getpid(), "cpu_s": 0.0, "records": [],
                 "fatal": f"{type(exc).__name__}: {exc}"}]


def write_json(path: Path, obj) -> None:
    from llmbench.throughput.runfiles import write_json as _write

    _write(path, obj)
