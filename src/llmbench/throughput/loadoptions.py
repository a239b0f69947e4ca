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


def add_load_options(group) -> None:
    group.addoption("--rate", type=positive_rate, default=None, metavar="R",
                    help="throughput: open loop, R requests/s in all (split over the -n workers), "
                         "sent on schedule whether or not earlier ones finished")
    group.addoption("--arrival", choices=ARRIVALS, default="constant",
                    help="throughput: with --rate, evenly spaced or Poisson arrivals (default: constant)")
    group.addoption("--arrival-seed", type=whole, default=0, metavar="N",
                    help="throughput: seed of the Poisson arrivals (default: 0)")
    group.addoption("--min-seconds", type=seconds, default=DEFAULT_MIN_SECONDS, metavar="SECONDS",
                    help="throughput: a level runs at least this long, or the requests asked for if "
                         f"longer (default: {DEFAULT_MIN_SECONDS:g})")
    group.addoption("--slo", type=slo_option, default=None, metavar="ttft=500ms,itl=50ms,...",
                    help="throughput: per-request limits (ttft, tpot, itl, e2e; attainment=90%%): "
                         "report good requests, goodput and whether the level meets them")


def load_spec_fields(config: pytest.Config, clients: int) -> dict:
    """LoadSpec fields from the options."""
    return {"rate": config.getoption("rate", None), "arrival": config.getoption("arrival", "constant"),
            "seed": config.getoption("arrival_seed", 0), "clients": clients,
            "min_seconds": config.getoption("min_seconds", DEFAULT_MIN_SECONDS)}


def summarize_run(config: pytest.Config, clients: int, results: list[dict], max_tokens: int) -> dict:
    """The run's one level: by rate with --rate, else by concurrency; with --slo, its goodput."""
    spec = results[0].get("spec") or {}
    if spec.get("rate"):
        level = summarize_rate_level(spec["rate"], spec.get("arrival", "constant"), results, max_tokens)
    else:
        level = summarize_level(clients, results, max_tokens)
    return slo_mod.apply(level, results, config.getoption("slo", None))
