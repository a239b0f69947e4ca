"""The load-shape options of the throughput test: open-loop rate, arrivals, level length.

Kept apart from the plugin so the plugin only registers them and passes them on.
"""

from __future__ import annotations

import argparse

import pytest

from llmbench.throughput.aggregate import summarize_level
from llmbench.throughput.arrivals import ARRIVALS
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


def load_spec_fields(config: pytest.Config, clients: int) -> dict:
    """LoadSpec fields from the options."""
    return {"rate": config.getoption("rate", None), "arrival": config.getoption("arrival", "constant"),
            "seed": config.getoption("arrival_seed", 0), "clients": clients,
            "min_seconds": config.getoption("min_seconds", DEFAULT_MIN_SECONDS)}


def summarize_run(clients: int, results: list[dict], max_tokens: int) -> dict:
    """The run's one level: by rate with --rate, else by concurrency."""
    spec = results[0].get("spec") or {}
    if spec.get("rate"):
        return summarize_rate_level(spec["rate"], spec.get("arrival", "constant"), results, max_tokens)
    return summarize_level(clients, results, max_tokens)
