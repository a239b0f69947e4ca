"""``llmbench sweep``: throughput at several concurrency levels or request rates -> sweep.json, scaling.md, scaling.png."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from llmbench import plotting
from llmbench.cli.argparsing import OneLineParser
from llmbench.plugin.options import prompts_source, slo_spec, token_lengths
from llmbench.redact import add_secret, redact
from llmbench.runs.status import StopSignals, throughput_status
from llmbench.throughput import ratereport, report, servermetrics
from llmbench.throughput import slo as slo_mod
from llmbench.throughput.arrivals import ARRIVALS
from llmbench.throughput.client import RequestRecord
from llmbench.throughput.loadoptions import DEFAULT_MIN_SECONDS
from llmbench.throughput.loop import DEFAULT_MAX_TOKENS, DEFAULT_PROMPT, LoadSpec
from llmbench.throughput.progress import ProgressWatcher
from llmbench.throughput.ratelevel import rate_headline
from llmbench.throughput.repeat import combine, interval_text
from llmbench.throughput.resolve import ResolveError, resolve_endpoint, with_url
from llmbench.throughput.runfiles import write_json, write_level
from llmbench.throughput.sweep import headline, level_from_results, rate_level_from_results, run_level, run_rate_level
from llmbench.throughput.workload import WorkloadError, WorkloadSpec, achieved, calibrate

DEFAULT_LEVELS = "1,2,4,8,16,32,64"


def _levels(text: str) -> list[int]:
    try:
        levels = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--levels wants whole numbers like 1,2,4, got {text!r}") from None
    if not levels or levels[0] < 1:
        raise argparse.ArgumentTypeError("--levels must be 1 or more")
    return levels


def _rates(text: str) -> list[float]:
    try:
        rates = sorted({float(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--rates wants requests/s like 1,2,4, got {text!r}") from None
    if not rates or rates[0] <= 0:
        raise argparse.ArgumentTypeError("--rates must be above 0")
    return rates


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="llmbench sweep",
                                description="Measure streaming throughput at several concurrency levels.")
    p.add_argument("--model", required=True, help="alias from models.yaml, a served model name, or 'demo'")
    p.add_argument("--api-url", help="OpenAI-compatible base URL (default: the registry's)")
    p.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"), help="API key (default: $OPENAI_API_KEY)")
    p.add_argument("--models-file", help="model registry (default: models.yaml of llmbench)")
    load = p.add_mutually_exclusive_group()
    load.add_argument("--levels", type=_levels, default=_levels(DEFAULT_LEVELS),
                      help=f"concurrency levels: closed-loop clients (default: {DEFAULT_LEVELS})")
    load.add_argument("--rates", type=_rates, help="request rates (req/s), open loop: sent on schedule instead")
    p.add_argument("--arrival", choices=ARRIVALS, default="constant", help="with --rates: arrivals (default: constant)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed of Poisson arrivals and drawn lengths (default: 0)")
    lengths = p.add_argument_group("what each request asks (default: --prompt and --max-tokens)")
    lengths.add_argument("--input-tokens", type=token_lengths, metavar="N|mean=N,stdev=N,min=N,max=N",
                         help="prompt length in tokens, fixed or drawn; calibrated against the server's usage")
    lengths.add_argument("--output-tokens", type=token_lengths, metavar="N|mean=N,stdev=N,min=N,max=N",
                         help="output tokens per request, fixed or drawn")
    lengths.add_argument("--prefix-tokens", type=int, default=0, metavar="N",
                         help="a shared prefix of N tokens at the start of every prompt")
    lengths.add_argument("--prompts", type=prompts_source, metavar="FILE.jsonl|coding",
                         help='replay prompts ({"prompt"|"messages", "max_tokens"} per line), '
                              "or 'coding': the shipped coding requests")
    p.add_argument("--min-seconds", type=float, default=DEFAULT_MIN_SECONDS, metavar="SECONDS",
                   help="each level runs at least this long, or the requests asked for if longer (default: %(default)s)")
    p.add_argument("--streams-per-worker", type=int, default=1, metavar="K",
                   help="closed loop: K asyncio streams per client process, so C streams take C/K processes "
                        "(default: 1, a process per stream)")
    p.add_argument("--out", help="output folder (default: reports/<time>-<model>-sweep)")
    p.add_argument("--requests-per-client", type=int, default=4, metavar="N",
                   help="measured requests per client; with --rates, per level (default: 4)")
    p.add_argument("--duration", type=float, metavar="SECONDS", help="run each level this long instead")
    p.add_argument("--warmup", type=int, default=1, metavar="N", help="warm-up requests per client (default: 1)")
    p.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS, help="output tokens per request (default: %(default)s)")
    p.add_argument("--prompt", default=DEFAULT_PROMPT, help="prompt text, or @FILE")
    p.add_argument("--slo", type=slo_spec, metavar="ttft=500ms,itl=50ms,...",
                   help="per-request limits (ttft, tpot, itl, e2e; attainment=90%%): goodput per level and the "
                        "highest level that meets them")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run each level N times: every headline figure as mean and 95%% interval (default: 1)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the final summary (no progress)")
    p.add_argument("--progress-every", type=float, default=10.0, metavar="SECONDS",
                   help="off a terminal, print the progress line this often (default: %(default)s)")
    p.add_argument("--server-metrics", choices=("auto", "off"), default="auto",
                   help="sample the server's Prometheus /metrics during each level when it has them (default: auto)")
    p.add_argument("--metrics-url", help="where the server's metrics are (default: the API's host, /metrics)")
    p.add_argument("--metrics-interval", type=float, default=0.25, metavar="SECONDS",
                   help="seconds between /metrics readings (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds without data before a request fails")
    p.add_argument("--per-chunk-usage", action="store_true", help="ask for usage in every chunk (vLLM)")
    demo = p.add_argument_group("built-in engine (--model demo only)")
    demo.add_argument("--capacity-curve", help="N:TOK_S,... (default: the seed's Nemotron-3-Nano column)")
    demo.add_argument("--prefill-tok-s", type=float)
    demo.add_argument("--tokens-per-chunk", type=int)
    demo.add_argument("--max-streams", type=int, help="requests served at once; the rest queue")
    return p


def _run_level(args, spec, value, by_rate: bool, sim, label: str, folder: Path, sweep: dict, endpoint,
               metrics_at: str | None) -> dict:
    """Run one level once, with its progress line; write its run files; its figures."""
    if sim is not None:
        sim.reset()
    with tempfile.TemporaryDirectory(prefix="llmbench-progress-") as progress_dir:
        level_spec = dataclasses.replace(spec, progress_dir=progress_dir, **({"rate": value} if by_rate else {}))
        watcher = (contextlib.nullcontext() if args.quiet
                   else ProgressWatcher(label, progress_dir, plain_every_s=args.progress_every))
        sampler = servermetrics.Sampler(metrics_at, args.metrics_interval) if metrics_at else None
        with watcher, sampler or contextlib.nullcontext():
            if by_rate:
                results = run_rate_level(level_spec)
                level = rate_level_from_results(value, args.arrival, results, args.max_tokens)
            else:
                results = run_level(level_spec, value)
                level = level_from_results(value, results, args.max_tokens)
    if sim is not None and level["window"].get("start_ns"):
        w = sim.stats(from_ns=level["window"]["start_ns"], to_ns=level["window"]["end_ns"])["window"]
        level["engine_truth"] = {"window_tok_s": w["tok_s"], "window_tokens": w["tokens"]}
    if sampler is not None:
        records = [RequestRecord.from_dict(d) for r in results for d in r.get("records") or ()]
        level["server_metrics"] = servermetrics.summarize(sampler.samples, records, level.get("window"),
                                                          metrics_at or "", sampler.errors)
    level["lengths"] = achieved(results)
    level["workload"] = next((r["workload"] for r in results if r.get("workload")), None)
    slo_mod.apply(level, results, args.slo)
    meta = {"started_at": sweep["started_at"], ("rate" if by_rate else "concurrency"): value, "demo": endpoint.demo,
            "model": sweep["model"], "api_url": endpoint.api_url,
            "spec": dataclasses.replace(level_spec, progress_dir=None).as_dict()}
    write_level(folder, level, results, meta)
    return level


def _fail(message: str) -> int:
    print(f"llmbench: {message}", file=sys.stderr)
    return 2


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    add_secret(args.api_key)
    if (args.max_tokens < 1 or args.requests_per_client < 1 or args.repeat < 1 or args.streams_per_worker < 1
            or args.warmup < 0
            or args.min_seconds < 0 or args.prefix_tokens < 0):
        return _fail("--max-tokens, --requests-per-client, --repeat and --streams-per-worker must be at least 1; "
                     "--warmup, --min-seconds "
                     "and --prefix-tokens 0 or more")
    prompt = args.prompt
    if prompt.startswith("@"):
        try:
            prompt = Path(prompt[1:]).read_text()
        except OSError as exc:
            return _fail(f"cannot read prompt file {prompt[1:]}: {exc.strerror}")

    try:
        endpoint, serving = resolve_endpoint(args.model, args.api_url, args.api_key, args.models_file)
    except ResolveError as exc:
        return _fail(str(exc))
    sim = None
    stops = StopSignals()
    stops.install()
    try:
        if endpoint.demo and not endpoint.api_url:
            from llmbench.sim.server import start_background

            options = {k: getattr(args, k) for k in ("capacity_curve", "prefill_tok_s", "tokens_per_chunk",
                                                         "max_streams")}
            try:
                sim = start_background(**options)
            except RuntimeError as exc:
                return _fail(str(exc))
            endpoint = with_url(endpoint, sim.base_url)
        return _sweep(args, prompt, endpoint, serving, sim, stops)
    except KeyboardInterrupt:   # before the sweep started
        print(f"llmbench: sweep {stops.reason or 'interrupted'} before the first level", file=sys.stderr)
        return 130
    finally:
        stops.restore()
        if sim is not None:
            sim.stop()


def _sweep(args, prompt: str, endpoint, serving: dict, sim, stops: StopSignals) -> int:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(args.out or Path("reports") / f"{stamp}-{endpoint.alias}-sweep")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(f"cannot create {out}: {exc.strerror}")
    spec = LoadSpec(api_url=endpoint.api_url, model=endpoint.served_name, api_key=endpoint.api_key, prompt=prompt,
                    max_tokens=args.max_tokens, requests=args.requests_per_client, duration_s=args.duration,
                    warmup=args.warmup, extra_body=dict(endpoint.extra_body or {}), timeout=args.timeout,
                    per_chunk_usage=args.per_chunk_usage, arrival=args.arrival, seed=args.seed,
                    min_seconds=args.min_seconds, streams_per_worker=args.streams_per_worker)
    ws = WorkloadSpec(prompts=args.prompts, input_tokens=args.input_tokens, output_tokens=args.output_tokens,
                      prefix_tokens=args.prefix_tokens, seed=args.seed)
    if ws.active:
        try:
            ws.check()
            if (ws.input_tokens or ws.prefix_tokens) and not ws.prompts:
                spec.calibration = calibrate(spec.api_url, spec.model, spec.api_key, spec.extra_body)
        except WorkloadError as exc:
            return _fail(str(exc))
        spec.workload = ws.as_dict()
    by_rate = args.rates is not None
    metrics_at = None
    if args.server_metrics != "off":
        url = args.metrics_url or servermetrics.metrics_url(spec.api_url)
        reason = servermetrics.probe(url)
        metrics_at = None if reason else url
        if reason and not args.quiet:
            print(f"llmbench sweep: no server metrics ({reason}); the client's figures only", flush=True)
    sweep = {
        "schema": "llmbench.sweep/1", "kind": "sweep", "status": "running", "status_reason": None, "mode": "rate" if by_rate else "concurrency",
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "finished_at": None,
        "demo": endpoint.demo,
        "model": {"alias": endpoint.alias, "name": endpoint.name, "served_name": endpoint.served_name},
        "api_url": endpoint.api_url, "serving": serving,
        "max_tokens": args.max_tokens, "spec": spec.as_dict(),
        "single_tok_s": None, "peak_tok_s": None, "peak_concurrency": None, "saturation_concurrency": None,
        "levels": [],
    }
    if args.server_metrics != "off":
        sweep["server_metrics"] = {"url": url, "available": metrics_at is not None, "reason": reason}
    if args.slo:
        sweep.update({"slo": args.slo.as_dict(), f"slo_max_{'rate' if by_rate else 'concurrency'}": None,
                      "slo_goodput_tok_s": None, "slo_goodput_req_s": None})
    if by_rate:
        sweep.update({"arrival": args.arrival, "rates": args.rates, "peak_rate": None,
                      "latency_break_rate": None, "max_rate_before_break": None, "break_reason": None})
    say = (lambda *a, **k: None) if args.quiet else print
    try:
        _run_levels(args, spec, by_rate, sim, sweep, endpoint, metrics_at, out, say)
    except KeyboardInterrupt:
        stops.reason = stops.reason or "interrupted"
    stops.finishing()
    sweep["status"], sweep["status_reason"] = throughput_status(sweep["levels"], stops.reason)
    sweep["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_json(out / "sweep.json", sweep)
    _write_summary(args, sweep, out, by_rate)
    if sweep["status_reason"]:
        print(redact(f"status: {sweep['status']}: {sweep['status_reason']}"))
    print(f"wrote {out}/sweep.json, scaling.md, scaling.png")
    if sweep["status"] == "interrupted":
        return 130
    if not any(level.get("requests") for level in sweep["levels"]):
        first = next((e for level in sweep["levels"] for e in level.get("error_examples", [])), "no reason recorded")
        return _fail(f"every request failed, so nothing was measured; first error: {first}")
    return 0


def _run_levels(args, spec, by_rate: bool, sim, sweep: dict, endpoint, metrics_at, out: Path, say) -> None:
    for value in (args.rates if by_rate else args.levels):
        label = f"rate {value:g} req/s" if by_rate else f"concurrency {value}"
        name = f"r{value:g}" if by_rate else f"c{value:03d}"
        runs = []
        for k in range(args.repeat):
            say(f"llmbench sweep: {label}" + (f" (run {k + 1} of {args.repeat})" if args.repeat > 1 else "") + " ...",
                flush=True)
            folder = out / "levels" / name / (f"run-{k + 1}" if args.repeat > 1 else "")
            runs.append(_run_level(args, spec, value, by_rate, sim, label, folder, sweep, endpoint, metrics_at))
        level = combine(runs)
        sweep["levels"].append(level)
        sweep.update(rate_headline(sweep["levels"]) if by_rate else headline(sweep["levels"]))
        if args.slo:
            sweep.update(slo_mod.best_level(sweep["levels"], "rate" if by_rate else "concurrency"))
        write_json(out / "sweep.json", sweep)
        say(f"  {interval_text(level, ('aggregate_tok_s',), fmt='.1f')} tok/s aggregate, {level['requests']} requests, "
            f"{level['errors']} errors, TTFT p50 {interval_text(level, ('ttft_s', 'p50'), 1000, '.1f')} ms", flush=True)
        if args.slo:
            say(f"  {slo_mod.level_line(level)}", flush=True)
        if (line := servermetrics.level_line(level)) is not None:
            say(f"  {line}", flush=True)


def _write_summary(args, sweep: dict, out: Path, by_rate: bool) -> None:
    if by_rate:
        (out / "scaling.md").write_text(redact(ratereport.rate_markdown(sweep)))
        if plotting.available():
            ratereport.rate_png(sweep, out / "scaling.png")
        peak = sweep["peak_tok_s"]
        print(f"peak {peak:.0f} t/s @ {sweep['peak_rate']:g} req/s" if peak is not None else "peak: no successful level",
              end="; ")
        brk = sweep["latency_break_rate"]
        print(f"latency breaks at {brk:g} req/s" if brk is not None else "latency did not break")
    else:
        (out / "scaling.md").write_text(redact(report.scaling_markdown(sweep)))
        if plotting.available():
            report.scaling_png(sweep, out / "scaling.png")
        single = sweep["single_tok_s"]
        peak = sweep["peak_tok_s"]
        print(f"single {single:.0f} t/s" if single is not None else "single: no C=1 level", end="; ")
        print(f"peak {peak:.0f} t/s @ C={sweep['peak_concurrency']}" if peak is not None else "peak: no successful level",
              end="; ")
        sat = sweep["saturation_concurrency"]
        print(f"saturation {'C=' + str(sat) if sat else 'not reached'}")
    if args.slo:
        key = "rate" if by_rate else "concurrency"
        best = sweep[f"slo_max_{key}"]
        print(f"SLO ({args.slo.describe()}): " + ("met by no level" if best is None else
              f"highest {key} meeting it {best if key == 'concurrency' else format(best, 'g')}, "
              f"goodput {sweep['slo_goodput_tok_s']:.0f} tok/s"))
