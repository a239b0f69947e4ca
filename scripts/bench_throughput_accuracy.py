#!/usr/bin/env python
"""How exact and how cheap llmbench's throughput measurement is: prints figures (not a test).

Every level runs through the sweep's own code (``sweep.run_level`` -> ``loop.run_client``
in C forked processes -> ``aggregate.summarize_level``) and is compared with the
server's own account of the same steady-state window:

  engine     the built-in engine (the seed's Nemotron curve): sweep vs the engine's count,
             vs the configured curve, and TTFT client vs server.
  reference  an independent server written below (threads, fixed per-stream pacing,
             no chunked encoding, one connection per request): sweep vs its count.
  llama      llama.cpp's llama-server (timing GGUF, from scripts/build_llama_server.sh) if
             cached: sweep vs the tokens its verbose log shows in the window (server clock
             aligned to ours by pairing tokens).
  rates      open-loop sweeps by request rate (``sweep.run_rate_level``, one asyncio client)
             against the built-in engine, the reference server and, if cached, llama-server:
             tok/s over the sending span vs the server's count, achieved rate, send lag p99 and max.
  ceiling    an "infinitely fast" server (``llmbench sim --instant``): the most tok/s one
             run ingests, and the client CPU it costs, at C=1..64.
  parsers    CPU per 1k streamed tokens: http.client (used) vs httpx vs the openai SDK.

Usage: .venv/bin/python scripts/bench_throughput_accuracy.py [PART ...] [--levels 1,2,4]
Takes about 8 minutes for everything on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from llmbench.sim.engine import CapacityCurve
from llmbench.sim.server import start_background
from llmbench.throughput import metrics
from llmbench.throughput.client import RequestRecord
from llmbench.throughput.loop import LoadSpec
from llmbench.throughput.sweep import level_from_results, rate_level_from_results, run_level, run_rate_level

LEVELS = [1, 2, 4, 8, 16, 32, 64]


def pct(a: float, b: float) -> str:
    return f"{100.0 * (a / b - 1.0):+.2f}%" if b else "n/a"


def records_of(results) -> list[RequestRecord]:
    return [RequestRecord.from_dict(d) for r in results for d in r["records"] if not d["warmup"]]


# -- engine -----------------------------------------------------------------------------
def part_engine(levels, max_tokens: int) -> None:
    curve = CapacityCurve()
    print("\n## Built-in engine (default curve), %d tokens/request\n" % max_tokens)
    print("| C | sweep tok/s | engine's count | diff | configured curve | diff | TTFT p50 client | server | mean diff | worst level ok |")
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|")
    with start_background() as sim:
        for c in levels:
            sim.reset()
            spec = LoadSpec(api_url=sim.base_url, model="demo", max_tokens=max_tokens, requests=2, warmup=0)
            results = run_level(spec, c)
            level = level_from_results(c, results, max_tokens)
            w = level["window"]
            stats = sim.stats(from_ns=w["start_ns"], to_ns=w["end_ns"])
            truth = stats["window"]["tok_s"]
            server_ttft = sorted((r["first_token_ns"] - r["arrival_ns"]) / 1e9 for r in stats["requests"] if r["first_token_ns"])
            client_ttft = sorted(v for r in records_of(results) if (v := metrics.ttft_s(r)) is not None)
            mean_diff_ms = 1000 * (sum(client_ttft) / len(client_ttft) - sum(server_ttft) / len(server_ttft))
            ok = abs(level["aggregate_tok_s"] / truth - 1) < 0.03 and abs(level["aggregate_tok_s"] / curve(c) - 1) < 0.03
            print(f"| {c} | {level['aggregate_tok_s']:.1f} | {truth:.1f} | {pct(level['aggregate_tok_s'], truth)} | "
                  f"{curve(c):.0f} | {pct(level['aggregate_tok_s'], curve(c))} | "
                  f"{1000 * metrics.percentile(client_ttft, 50):.2f} ms | {1000 * metrics.percentile(server_ttft, 50):.2f} ms | "
                  f"{mean_diff_ms:+.2f} ms | {'yes' if ok and level['errors'] == 0 else 'NO'} |", flush=True)


# -- independent reference server -----------------------------------------------------------
def _reference_server():
    # test infrastructure under testing/ (its truth endpoint serves the per-request tests too)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testing"))
    from reference_server import ReferenceServer

    return ReferenceServer


def part_reference(levels, max_tokens: int, rate: float) -> None:
    print(f"\n## Independent reference server (threads, {rate:g} tok/s per stream), {max_tokens} tokens/request\n")
    print("| C | sweep tok/s | server's count | diff | TTFT mean diff (client - server) |")
    print("|--:|--:|--:|--:|--:|")
    for c in levels:
        # The server runs in a child process so its threads do not share the parent's GIL
        # with the forked clients (they are forked from this process).
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()

        def serve(conn):
            with _reference_server()(rate) as ref:
                conn.send(ref.api_url)
                while True:
                    msg = conn.recv()
                    if msg == "stop":
                        return
                    a, b = msg
                    ttft = [(q["first_token_ns"] - q["arrival_ns"]) / 1e9 for q in ref.requests if q["first_token_ns"]]
                    conn.send((ref.tokens_between(a, b), ttft))

        proc = ctx.Process(target=serve, args=(child,), daemon=True)
        proc.start()
        url = parent.recv()
        spec = LoadSpec(api_url=url, model="ref", max_tokens=max_tokens, requests=2, warmup=0)
        results = run_level(spec, c)
        level = level_from_results(c, results, max_tokens)
        w = level["window"]
        parent.send((w["start_ns"], w["end_ns"]))
        tokens, server_ttft = parent.recv()
        parent.send("stop")
        proc.join(10)
        truth = tokens / w["duration_s"]
        client_ttft = [v for r in records_of(results) if (v := metrics.ttft_s(r)) is not None]
        diff_ms = 1000 * (sum(client_ttft) / len(client_ttft) - sum(server_ttft) / len(server_ttft))
        print(f"| {c} | {level['aggregate_tok_s']:.1f} | {truth:.1f} | {pct(level['aggregate_tok_s'], truth)} | {diff_ms:+.2f} ms |",
              flush=True)


# -- llama-server -------------------------------------------------------------------------
def part_llama(levels, max_tokens: int) -> None:
    # the real-server modules are test infrastructure under testing/, not part of the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testing"))
    try:
        from realserver import llama as L
        from realserver.llama_log import align_tokens, token_times
    except ImportError as exc:
        print(f"\n## llama-server: skipped ({exc})")
        return
    binary = L.find_binary()
    model = L.cache_root() / "timing-llama-seed20240917-r1.gguf"
    if binary is None or not model.exists():
        print("\n## llama-server: skipped (run scripts/build_llama_server.sh and the tiny GGUF first)")
        return
    print(f"\n## llama.cpp llama-server (timing GGUF, 256 wide, -np C, 1 thread), {max_tokens} tokens/request\n")
    print("| C | sweep tok/s | server log's count | diff | tokens client = server |")
    print("|--:|--:|--:|--:|:-:|")
    work = Path(tempfile.mkdtemp(prefix="llmbench-llama-"))
    for c in levels:
        log = work / f"c{c}.log"
        srv = L.start_server(binary, model, log_path=log, n_parallel=c, ctx_per_slot=max_tokens + 256, extra_args=["-v"])
        try:
            spec = LoadSpec(api_url=srv.api_url, model=srv.alias, max_tokens=max_tokens, requests=3, warmup=0)
            results = run_level(spec, c)
            level = level_from_results(c, results, max_tokens)
            time.sleep(0.5)
            server = token_times(log.read_text(errors="replace"))
        finally:
            srv.stop()
        recs = records_of(results)
        offset = align_tokens(server, [[t / 1e9 for t in r.chunk_ns] for r in recs])
        w = level["window"]
        a, b = w["start_ns"] / 1e9, w["end_ns"] / 1e9
        tokens = sum(1 for times in server.values() for t in times if a < t + offset <= b)
        truth = tokens / w["duration_s"]
        same = sum(len(v) for v in server.values()) == sum(r.output_tokens for r in recs)
        print(f"| {c} | {level['aggregate_tok_s']:.1f} | {truth:.1f} | {pct(level['aggregate_tok_s'], truth)} | "
              f"{'yes' if same else 'NO'} |", flush=True)


# -- open loop (by rate) ------------------------------------------------------------------------
RATES = [1, 2, 4, 8, 16]


def _rate_row(server: str, rate: float, level: dict, truth: float) -> None:
    lag = level["send_lag_s"]
    print(f"| {server} | {rate:g} | {level['achieved_rate'] or 0:.2f} | {level['aggregate_tok_s']:.1f} | {truth:.1f} | "
          f"{pct(level['aggregate_tok_s'], truth)} | {level['in_flight_max']} | {1000 * (lag['p99'] or 0):.1f} ms | "
          f"{1000 * (lag['max'] or 0):.1f} ms | {level['errors']} |", flush=True)


def part_rates(rates, max_tokens: int, seconds: float) -> None:
    print(f"\n## Open loop: sweeps by rate, {max_tokens} tokens/request, {seconds:g} s per level\n")
    print("| server | offered req/s | sent req/s | tok/s (sending span) | server's count | diff | in flight max | send lag p99 | max | errors |")
    print("|--|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    with start_background() as sim:
        for rate in rates:
            sim.reset()
            spec = LoadSpec(api_url=sim.base_url, model="demo", max_tokens=max_tokens, requests=4, warmup=1,
                            rate=rate, min_seconds=seconds)
            level = rate_level_from_results(rate, "constant", run_rate_level(spec), max_tokens)
            w = level["window"]
            _rate_row("engine", rate, level, sim.stats(from_ns=w["start_ns"], to_ns=w["end_ns"])["window"]["tok_s"])
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for rate in rates:   # the reference server in its own process, as in part_reference
        parent, child = ctx.Pipe()

        def serve(conn):
            with _reference_server()(40.0) as ref:
                conn.send(ref.api_url)
                while (msg := conn.recv()) != "stop":
                    conn.send(ref.tokens_between(*msg))

        proc = ctx.Process(target=serve, args=(child,), daemon=True)
        proc.start()
        spec = LoadSpec(api_url=parent.recv(), model="ref", max_tokens=max_tokens, requests=4, warmup=0,
                        rate=rate, min_seconds=seconds)
        level = rate_level_from_results(rate, "constant", run_rate_level(spec), max_tokens)
        w = level["window"]
        parent.send((w["start_ns"], w["end_ns"]))
        tokens = parent.recv()
        parent.send("stop")
        proc.join(10)
        _rate_row("reference", rate, level, tokens / w["duration_s"])
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testing"))   # the real-server helpers
    try:
        from realserver import llama as L
        from realserver.llama_log import align_tokens, token_times
    except ImportError:
        return
    binary, model = L.find_binary(), L.cache_root() / "timing-llama-seed20240917-r1.gguf"
    if binary is None or not model.exists():
        print("| llama-server | skipped: not built | | | | | | | | |")
        return
    work = Path(tempfile.mkdtemp(prefix="llmbench-llama-rate-"))
    for rate in rates:
        log = work / f"r{rate:g}.log"
        srv = L.start_server(binary, model, log_path=log, n_parallel=16, ctx_per_slot=max_tokens + 256, extra_args=["-v"])
        try:
            spec = LoadSpec(api_url=srv.api_url, model=srv.alias, max_tokens=max_tokens, requests=4, warmup=0,
                            rate=rate, min_seconds=seconds)
            results = run_rate_level(spec)
            level = rate_level_from_results(rate, "constant", results, max_tokens)
            time.sleep(0.5)
            server = token_times(log.read_text(errors="replace"))
        finally:
            srv.stop()
        offset = align_tokens(server, [[t / 1e9 for t in r.chunk_ns] for r in records_of(results)])
        w = level["window"]
        a, b = w["start_ns"] / 1e9, w["end_ns"] / 1e9
        tokens = sum(1 for times in server.values() for t in times if a < t + offset <= b)
        _rate_row("llama-server", rate, level, tokens / w["duration_s"])


# -- client ceiling ---------------------------------------------------------------------------
def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def part_ceiling(levels, max_tokens: int, seconds: float) -> None:
    print(f"\n## Client ceiling: instant server, {max_tokens} tokens/request, {seconds:g} s per level\n")
    print("| C | ingested tok/s (window) | whole run | client CPU | server CPU | client CPU µs/token |")
    print("|--:|--:|--:|--:|--:|--:|")
    with start_background(instant=True, prefill_tok_s=0) as sim:
        for c in levels:
            cpu0 = _proc_cpu_s(sim.proc.pid)
            spec = LoadSpec(api_url=sim.base_url, model="demo", max_tokens=max_tokens, duration_s=seconds, warmup=1)
            level = level_from_results(c, run_level(spec, c), max_tokens)
            server_cpu = _proc_cpu_s(sim.proc.pid) - cpu0
            per_tok = 1e6 * level["client_cpu_s"] / max(level["output_tokens"], 1)
            print(f"| {c} | {level['aggregate_tok_s']:.0f} | {level['aggregate_tok_s_whole_run']:.0f} | "
                  f"{level['client_cpu_s']:.2f} s ({level['client_cpu_percent_of_machine']:.0f}% of machine) | "
                  f"{server_cpu:.2f} s | {per_tok:.1f} |", flush=True)


# -- parsers ----------------------------------------------------------------------------------
def part_parsers(max_tokens: int, requests: int) -> None:
    print(f"\n## Streaming parsers: CPU per 1k tokens, {requests} x {max_tokens}-token streams from an instant server\n")
    print("| parser | CPU ms / 1k tokens | import s |")
    print("|--|--:|--:|")
    with start_background(instant=True, prefill_tok_s=0) as sim:
        body = {"model": "demo", "messages": [{"role": "user", "content": "hi"}], "max_tokens": max_tokens,
                "stream": True, "stream_options": {"include_usage": True}, "ignore_eos": True}

        def run_stdlib():
            from llmbench.throughput.client import StreamClient
            c = StreamClient(sim.base_url)
            for _ in range(requests):
                c.stream(RequestRecord(0, 0, False), dict(body))

        def run_httpx():
            import httpx2 as httpx
            with httpx.Client(timeout=60) as c:
                for _ in range(requests):
                    with c.stream("POST", sim.base_url + "/chat/completions", json=body) as r:
                        for line in r.iter_lines():
                            if line.startswith("data:") and line[5:].strip() != "[DONE]":
                                json.loads(line[5:])
                            time.monotonic_ns()

        def run_openai():
            import openai
            c = openai.OpenAI(base_url=sim.base_url, api_key="x")
            for _ in range(requests):
                for _chunk in c.chat.completions.create(model="demo", messages=body["messages"], max_tokens=max_tokens,
                                                       stream=True, stream_options={"include_usage": True},
                                                       extra_body={"ignore_eos": True}):
                    time.monotonic_ns()

        for name, module, fn in (("http.client (llmbench)", "http.client", run_stdlib),
                                 ("httpx", "httpx2", run_httpx), ("openai SDK", "openai", run_openai)):
            t = time.perf_counter()
            try:
                __import__(module)
            except ImportError:
                print(f"| {name} | not installed | |")
                continue
            imp = time.perf_counter() - t
            fn()   # warm
            c0 = time.process_time()
            fn()
            cpu = time.process_time() - c0
            print(f"| {name} | {1000 * cpu / (requests * max_tokens / 1000):.1f} | {imp:.2f} |", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("parts", nargs="*", default=["engine", "reference", "llama", "rates", "ceiling", "parsers"])
    p.add_argument("--rates", default=",".join(map(str, RATES)))
    p.add_argument("--levels", default=",".join(map(str, LEVELS)))
    p.add_argument("--max-tokens", type=int, default=512)
    args = p.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    print(f"# llmbench throughput accuracy ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})")
    for part in args.parts:
        if part == "engine":
            part_engine(levels, args.max_tokens)
        elif part == "reference":
            part_reference(levels, min(args.max_tokens, 200), rate=40.0)
        elif part == "llama":
            part_llama(levels, args.max_tokens)
        elif part == "rates":
            part_rates([float(x) for x in args.rates.split(",")], min(args.max_tokens, 128), 5.0)
        elif part == "ceiling":
            part_ceiling(sorted({1, 4, 16, 64} & set(levels)) or levels, args.max_tokens, 3.0)
        elif part == "parsers":
            part_parsers(args.max_tokens, 20)
        else:
            print(f"unknown part {part!r}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
