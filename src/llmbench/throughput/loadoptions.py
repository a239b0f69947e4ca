"""The load-shape options of the throughput test: open-loop rate, arrivals, level length.

Kept apart from the plugin so the plugin only registers them and passes them on.
"""

from __future__ import annotations

import argparse

import pytest

from llmbench.throughput.aggregate import summarize_level
from llmbench.throughput.arrivals import ARRIVALS
from llmbench.throughput import slo as slo_mod
from llmbench.throughput.ratelevel import summarize_rate_level
from llmbench.throughput.workload import WorkloadError, WorkloadSpec, achieved, parse_lengths, read_prompts

DEFAULT_MIN_SECONDS = 10.0


def positive_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected requests per second, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 requests per second, got {text}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 seconds or more, got {text}")
    return value


def whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def slo_option(text: str) -> slo_mod.Slo:
    try:
        return slo_mod.parse(text)
    except slo_mod.SloError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def lengths_option(text: str) -> str:
    try:
        parse_lengths(text)
    except WorkloadError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def prompts_option(text: str) -> str:
    try:
        read_prompts(text)
    except WorkloadError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_load_options(group) -> None:
    group.addoption("--rate", type=positive_rate, default=None, metavar="R",
                    help="throughput: open loop, R requests/s in all (split over the -n workers), "
                         "sent on schedule whether or not earlier ones finished")
    group.addoption("--arrival", choices=ARRIVALS, default="constant",
                    help="throughput: with --rate, evenly spaced or Poisson arrivals (default: constant)")
    group.addoption("--seed", type=whole, default=0, metavar="N",
                    help="throughput: seed of Poisson arrivals and drawn lengths (default: 0)")
    group.addoption("--input-tokens", type=lengths_option, default=None, metavar="N|mean=N,stdev=N,min=N,max=N",
                    help="throughput: prompt length in tokens, fixed or drawn (calibrated against the server)")
    group.addoption("--output-tokens", type=lengths_option, default=None, metavar="N|mean=N,stdev=N,min=N,max=N",
                    help="throughput: output tokens per request, fixed or drawn (default: --max-tokens)")
    group.addoption("--prefix-tokens", type=whole, default=0, metavar="N",
                    help="throughput: a shared prefix of N tokens at the start of every prompt")
    group.addoption("--prompts", type=prompts_option, default=None, metavar="FILE.jsonl|coding",
                    help='throughput: replay prompts ({"prompt"|"messages", "max_tokens"} per line), '
                         "or 'coding': the shipped coding requests")
    group.addoption("--min-seconds", type=seconds, default=DEFAULT_MIN_SECONDS, metavar="SECONDS",
                    help="throughput: a level runs at least this long, or the requests asked for if "
                         f"longer (default: {DEFAULT_MIN_SECONDS:g})")
    group.addoption("--streams-per-worker", type=whole, default=1, metavar="K",
                    help="throughput: K closed-loop asyncio streams per worker, so -n W runs W x K streams "
                         "(default: 1)")
    group.addoption("--throughput-controller", default=None, metavar="HOST",
                    help="throughput: with --tx workers on other hosts, the address they reach this machine at "
                         "(the start line listens on all interfaces; default: local workers only)")
    group.addoption("--slo", type=slo_option, default=None, metavar="ttft=500ms,itl=50ms,...",
                    help="throughput: per-request limits (ttft, tpot, itl, e2e; attainment=90%%): "
                         "report good requests, goodput and whether the level meets them")


def load_spec_fields(config: pytest.Config, clients: int) -> dict:
    """LoadSpec fields from the options."""
    return {"rate": config.getoption("rate", None), "arrival": config.getoption("arrival", "constant"),
            "seed": config.getoption("seed", 0),
            "streams_per_worker": max(1, config.getoption("streams_per_worker", 1)),
            "clients": clients * max(1, config.getoption("streams_per_worker", 1)),
            "min_seconds": config.getoption("min_seconds", DEFAULT_MIN_SECONDS),
            "workload": workload_from(config.getoption("prompts", None), config.getoption("input_tokens", None),
                                      config.getoption("output_tokens", None), config.getoption("prefix_tokens", 0),
                                      config.getoption("seed", 0))}


def workload_from(prompts, input_tokens, output_tokens, prefix_tokens, seed) -> dict | None:
    """WorkloadSpec fields, or None for the fixed prompt (raises WorkloadError for a bad mix)."""
    ws = WorkloadSpec(prompts=prompts, input_tokens=input_tokens, output_tokens=output_tokens,
                      prefix_tokens=prefix_tokens or 0, seed=seed)
    if not ws.active:
        return None
    try:
        ws.check()
    except WorkloadError as exc:
        problem = str(exc)
    else:
        return ws.as_dict()
    pytest.fail(f"throughput: {problem}", pytrace=False)


def summarize_run(config: pytest.Config, clients: int, results: list[dict], max_tokens: int) -> dict:
    """The run's one level: by rate with --rate, else by concurrency; with --slo, its goodput."""
    spec = results[0].get("spec") or {}
    if spec.get("rate"):
        level = summarize_rate_level(spec["rate"], spec.get("arrival", "constant"), results, max_tokens)
    else:
        streams = int(spec.get("streams_per_worker") or 1)
        level = summarize_level(clients * streams, results, max_tokens)
        level["streams_per_worker"] = streams
    level["lengths"] = achieved(results)
    level["workload"] = results[0].get("workload")
    return slo_mod.apply(level, results, config.getoption("slo", None))
