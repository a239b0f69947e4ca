#!/usr/bin/env python
"""Thousands of streams from one box: C closed-loop streams as asyncio tasks in a few processes (not a test).

Runs one level of the sweep's own code (``sweep.run_level`` with
``streams_per_worker``: C/K processes of K asyncio streams each) against the
built-in engine set to a flat capacity (default 20k tok/s at C=1024, one token per
chunk: the client's cost is per chunk, so this is its hardest case), and prints:

* the aggregate tok/s the client measured and the engine's own count over the same window;
* whether the concurrency held: the engine's active streams over the steady window
  (time-weighted mean and minimum) against C;
* the client's CPU: seconds, share of the machine (all cores), microseconds per token and per chunk;
* the engine's CPU (it shares the machine), TTFT p50, requests and errors.

Usage: .venv/bin/python scripts/bench_scale.py [--concurrency 1024] [--streams-per-worker 512]
       [--tok-s 20000] [--tokens-per-chunk 1] [--max-tokens 200] [--seconds 8]
"""

from __future__ import annotations

import argparse
import bisect
import os
import time
from itertools import pairwise

from llmbench.sim.server import start_background
from llmbench.throughput.loop import LoadSpec
from llmbench.throughput.sweep import level_from_results, run_level


def proc_cpu_s(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def active_over(timeline: list, start: int, end: int) -> tuple[float, int]:
    """Time-weighted mean and minimum of the engine's active streams in [start, end]."""
    times = [t for t, _ in timeline]
    i = max(0, bisect.bisect_right(times, start) - 1)
    points = [(start, timeline[i][1])] + [(t, n) for t, n in timeline[i + 1:] if t < end] + [(end, None)]
    weighted = sum(n * (b - a) for (a, n), (b, _) in pairwise(points))
    return weighted / (end - start), min(n for _, n in points[:-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concurrency", type=int, default=1024)
    p.add_argument("--streams-per-worker", type=int, default=512)
    p.add_argument("--tok-s", type=int, default=20000, help="the engine's capacity at C streams")
    p.add_argument("--tokens-per-chunk", type=int, default=1)
    p.add_argument("--max-tokens", type=int, default=200)
    p.add_argument("--seconds", type=float, default=8.0, help="--min-seconds of the level")
    args = p.parse_args()
    c, k = args.concurrency, args.streams_per_worker
    cores = os.cpu_count() or 1
    print(f"# C={c} streams as {-(-c // k)} processes x {k} asyncio streams; engine {args.tok_s} tok/s at C, "
          f"{args.tokens_per_chunk} token(s) per chunk, {args.max_tokens} tokens per request; {cores} CPUs")
    with start_background(capacity_curve=f"1:{args.tok_s / c:g},{c}:{args.tok_s}", prefill_tok_s=0,
                          tokens_per_chunk=args.tokens_per_chunk) as sim:
        spec = LoadSpec(api_url=sim.base_url, model="demo", max_tokens=args.max_tokens, requests=1, warmup=0,
                        min_seconds=args.seconds, streams_per_worker=k)
        server0, t0 = proc_cpu_s(sim.proc.pid), time.monotonic()
        results = run_level(spec, c)
        wall, server_cpu = time.monotonic() - t0, proc_cpu_s(sim.proc.pid) - server0
        level = level_from_results(c, results, args.max_tokens)
        w = level["window"]
        stats = sim.stats(from_ns=w["start_ns"], to_ns=w["end_ns"])
    mean_active, min_active = active_over(stats["active_timeline"], w["start_ns"], w["end_ns"])
    chunks = sum(len(d["chunk_ns"]) for r in results for d in r["records"])
    cpu = level["client_cpu_s"]
    print(f"aggregate        {level['aggregate_tok_s']:.0f} tok/s over the {w['kind']} window of {w['duration_s']:.1f} s; "
          f"engine's count {stats['window']['tok_s']:.0f} tok/s "
          f"({100 * (level['aggregate_tok_s'] / stats['window']['tok_s'] - 1):+.2f}%)")
    print(f"concurrency      engine's active streams over the window: mean {mean_active:.1f}, min {min_active} "
          f"(asked {c})")
    print(f"client CPU       {cpu:.2f} s over {level['duration_s']:.1f} s = "
          f"{level['client_cpu_percent_of_machine']:.1f}% of the machine; "
          f"{1e6 * cpu / max(level['output_tokens'], 1):.1f} us/token, {1e6 * cpu / max(chunks, 1):.1f} us/chunk")
    print(f"engine CPU       {server_cpu:.2f} s ({100 * server_cpu / (wall * cores):.1f}% of the machine)")
    print(f"requests         {level['requests']} ok, {level['errors']} errors; TTFT p50 "
          f"{1000 * (level['ttft_s']['p50'] or 0):.0f} ms; wall {wall:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
