"""Every llmbench command-line option, defined and validated in one place.

Type functions raise ``argparse.ArgumentTypeError`` with a sentence, which
pytest prints as ``argument --samples: expected a whole number of 1 or more,
got 0``. This module imports nothing heavy: the entry point loads it in every
pytest run of an environment where llmbench is installed.
"""

from __future__ import annotations

import argparse
import math

import pytest

GROUP = "llmbench"


def count(text: str) -> int:
    """A whole number of 1 or more (samples, requests, tokens, GPUs)."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {value}")
    return value


def count_or_zero(text: str) -> int:
    """A whole number of 0 or more (warm-up requests)."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, got {value}")
    return value


def seconds(text: str) -> float:
    value = _number(text, "seconds")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 seconds, got {text}")
    return value


def rate(text: str) -> float:
    value = _number(text, "a rate")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a rate above 0 and at most 1 (e.g. 0.6), got {text}")
    return value


def temperature(text: str) -> float:
    value = _number(text, "a temperature")
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a temperature of 0 or more, got {text}")
    return value


def request_rate(text: str) -> float:
    value = _number(text, "requests per second")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 requests per second, got {text}")
    return value


def seconds_or_zero(text: str) -> float:
    value = _number(text, "seconds")
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected 0 seconds or more, got {text}")
    return value


# The three below check their text with the throughput code, imported only when the option is used.
def token_lengths(text: str) -> str:
    """``512`` or ``mean=512,stdev=128,min=64,max=2048`` (kept as text; checked here)."""
    from llmbench.throughput.workload import WorkloadError, parse_lengths

    try:
        parse_lengths(text)
    except WorkloadError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def prompts_source(text: str) -> str:
    """A JSONL file of prompts, or ``coding`` (read and checked here)."""
    from llmbench.throughput.workload import WorkloadError, read_prompts

    try:
        read_prompts(text)
    except WorkloadError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def slo_spec(text: str):
    """``ttft=500ms,itl=50ms,...`` -> ``llmbench.throughput.slo.Slo``."""
    from llmbench.throughput import slo

    try:
        return slo.parse(text)
    except slo.SloError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what} (a number), got {text!r}") from None
    if not math.isfinite(value):   # nan or inf: refused here, never sent to a server
        raise argparse.ArgumentTypeError(f"expected {what} (a finite number), got {text!r}")
    return value


# Options whose value is a file or folder. With the value as a separate word
# pytest takes an existing path for a test path before it knows these options
# (pytest-dev/pytest#8846); ``llmbench.plugin.pathtrap`` corrects that.
PATH_OPTIONS = ("--models-file", "--results-dir", "--replay", "--throughput-out", "--prompts")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup(GROUP, "llmbench: LLM quality and throughput benchmark")
    add = group.addoption
    # -- which model ---------------------------------------------------------------------
    add("--model", default=None,
        help="model alias from models.yaml, a served model name, or 'demo' (built-in server). "
             "Without it the benchmark tests are skipped and llmbench stays idle.")
    add("--api-url", default=None,
        help="OpenAI-compatible base URL (default: the registry's, else http://localhost:8000/v1)")
    add("--api-key", default=None, help="API key (default: $OPENAI_API_KEY); never written to reports")
    add("--models-file", default=None, metavar="YAML", help="model registry (default: models.yaml of llmbench)")
    # -- sampling ------------------------------------------------------------------------
    add("--max-tokens", type=count, default=None,
        help="max tokens per answer (default: the registry's; throughput: 512)")
    add("--temperature", type=temperature, default=None, help="sampling temperature (default: the registry's, 0)")
    add("--request-timeout", type=seconds, default=600.0, metavar="SECONDS",
        help="seconds one request may take (default: 600)")
    add("--samples", type=count, default=1, metavar="N",
        help="answers per test; each check reports k/N with a 95%% interval (default: 1)")
    add("--pass-rate", type=rate, default=None,
        help="a check's pytest case passes when its pass rate reaches this (default: majority)")
    # -- where results go, replay, judge ------------------------------------------------
    add("--results-dir", default=None, metavar="DIR",
        help="where runs are written (default: reports/ under the rootdir, wherever pytest is run from)")
    add("--replay", default=None, metavar="RESULTS_JSON",
        help="re-grade a saved run's answers with today's graders, without any server")
    add("--judge-model", default=None,
        help="also ask this model, per check, whether the answer meets the criterion; "
             "recorded beside the rule verdict, never scored")
    add("--judge-url", default=None, help="the judge's base URL (default: --api-url's)")
    add("--no-exec", action="store_true", default=False,
        help="do not run the answers' code against the probes (fixes judged from the text only)")
    # -- how the model is served (recorded in the report) -------------------------------
    # Prefixed: generic names such as --gpu or --tp belong to no single plugin of an environment.
    add("--serving-framework", default=None, metavar="NAME",
        help="serving framework for the report (default: the registry's)")
    add("--serving-tp", type=count, default=None, metavar="N", help="tensor-parallel size for the report")
    add("--serving-quant", default=None, metavar="METHOD",
        help="quantization for the report (AWQ, GPTQ g32, BF16, …)")
    add("--serving-context", type=count, default=None, metavar="TOKENS",
        help="served context length for the report")
    add("--serving-gpu", default=None, metavar="TEXT",
        help="GPU description for the report (default: from nvidia-smi)")
    # -- throughput (tests/throughput; --max-tokens above is shared) -------------------
    add("--throughput-requests", type=count, default=4, metavar="N",
        help="throughput: measured requests per client (default: 4)")
    add("--throughput-duration", type=seconds, default=None, metavar="SECONDS",
        help="throughput: run each client this long instead of a request count")
    add("--throughput-warmup", type=count_or_zero, default=1, metavar="N",
        help="throughput: unmeasured warm-up requests per client (default: 1)")
    add("--throughput-prompt", default=None, metavar="TEXT|@FILE",
        help="throughput: the prompt (default: a fixed explanation request)")
    add("--throughput-out", default=None, metavar="DIR",
        help="throughput: run folder (default: <results-dir>/<run>/throughput-c<C>)")
    add("--throughput-barrier-timeout", type=seconds, default=600.0, metavar="SECONDS",
        help="throughput: how long clients wait for each other at the start (default: 600)")
    add("--throughput-per-chunk-usage", action="store_true", default=False,
        help="throughput: ask for usage in every chunk (vLLM continuous_usage_stats)")
    # -- throughput: the shape of the load ---------------------------------------------
    add("--rate", type=request_rate, default=None, metavar="R",
        help="throughput: open loop, R requests/s in all (split over the -n workers), "
             "sent on schedule whether or not earlier ones finished")
    add("--arrival", choices=("constant", "poisson"), default="constant",
        help="throughput: with --rate, evenly spaced or Poisson arrivals (default: constant)")
    add("--seed", type=_whole, default=0, metavar="N",
        help="throughput: seed of Poisson arrivals and drawn lengths (default: 0)")
    add("--min-seconds", type=seconds_or_zero, default=10.0, metavar="SECONDS",
        help="throughput: a level runs at least this long, or the requests asked for if longer (default: 10)")
    add("--streams-per-worker", type=count, default=1, metavar="K",
        help="throughput: K closed-loop asyncio streams per worker, so -n W runs W x K streams (default: 1)")
    add("--throughput-controller", default=None, metavar="HOST",
        help="throughput: with --tx workers on other hosts, the address they reach this machine at "
             "(the start line listens on all interfaces; default: local workers only)")
    add("--input-tokens", type=token_lengths, default=None, metavar="N|mean=N,stdev=N,min=N,max=N",
        help="throughput: prompt length in tokens, fixed or drawn (calibrated against the server)")
    add("--output-tokens", type=token_lengths, default=None, metavar="N|mean=N,stdev=N,min=N,max=N",
        help="throughput: output tokens per request, fixed or drawn (default: --max-tokens)")
    add("--prefix-tokens", type=count_or_zero, default=0, metavar="N",
        help="throughput: a shared prefix of N tokens at the start of every prompt")
    add("--prompts", type=prompts_source, default=None, metavar="FILE.jsonl|coding",
        help='throughput: replay prompts ({"prompt"|"messages", "max_tokens"} per line), '
             "or 'coding': the shipped coding requests")
    add("--slo", type=slo_spec, default=None, metavar="ttft=500ms,itl=50ms,...",
        help="throughput: per-request limits (ttft, tpot, itl, e2e; attainment=90%%): "
             "report good requests, goodput and whether the level meets them")
    add("--repeat", type=count, default=1, metavar="N",
        help="throughput: run the level N times: every headline figure as mean and 95%% interval (default: 1)")
    add("--server-metrics", choices=("auto", "off"), default="auto",
        help="throughput: sample the server's Prometheus /metrics during the level when it has them (default: auto)")
    add("--metrics-url", default=None, metavar="URL",
        help="throughput: where the server's metrics are (default: the API's host, /metrics)")
    add("--metrics-interval", type=seconds, default=0.25, metavar="SECONDS",
        help="throughput: seconds between /metrics readings (default: 0.25)")


def is_active(config: pytest.Config) -> bool:
    """llmbench does anything only when asked: ``--model`` or ``--replay``."""
    return bool(config.getoption("model", None) or config.getoption("replay", None))
