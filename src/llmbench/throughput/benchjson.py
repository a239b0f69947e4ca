"""pytest-benchmark-compatible JSON for a throughput run (``pytest-benchmark compare`` reads it).

pytest-benchmark disables itself under xdist, so the controller writes its
format itself: one "benchmark" per latency metric, whose rounds are the
measured requests (ITL: its tokens), with the level's headline figures in
``extra_info``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from llmbench.throughput import metrics
from llmbench.throughput.client import RequestRecord

_METRICS = (
    ("ttft", "time to first token", metrics.ttft_s),
    ("tpot", "time per output token", metrics.tpot_s),
    ("e2e", "request latency", metrics.e2e_s),
)


def _stats(values: list[float], include_data: bool) -> dict | None:
    from pytest_benchmark.stats import Stats

    if not values:
        return None
    stats = Stats()
    for v in values:
        stats.update(v)
    out = stats.as_dict()
    if include_data:
        out["data"] = list(values)
    out["iterations"] = 1
    return out


def _machine_info() -> dict:
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info

    return pytest_benchmark_generate_machine_info()


def _commit_info() -> dict:
    from pytest_benchmark.utils import get_commit_info  # reports a missing git as {"error": ...}

    return get_commit_info()


def _version() -> str:
    from pytest_benchmark import __version__

    return __version__


def build(level: dict, records: list[RequestRecord], model_name: str, base_name: str = "test_throughput") -> dict:
    """The JSON document for one concurrency level."""
    ok = [r for r in records if r.ok and not r.warmup]
    c = level["concurrency"]
    extra = {k: level.get(k) for k in ("concurrency", "rate", "aggregate_tok_s", "aggregate_tok_s_whole_run", "requests",
                                       "output_tokens", "errors", "per_request_tok_s_mean", "requests_per_s")}
    extra["model"] = model_name
    benchmarks = []
    series = [(key, label, [v for r in ok if (v := fn(r)) is not None], True) for key, label, fn in _METRICS]
    series.append(("itl", "inter-token latency", [x for r in ok for x in metrics.itl_s(r)], False))
    for key, label, values, include_data in series:
        stats = _stats(values, include_data)
        if stats is None:
            continue
        param = f"{key}-r{level['rate']:g}" if level.get("mode") == "rate" else f"{key}-c{c}"
        benchmarks.append({
            "group": f"throughput {model_name}",
            "name": f"{base_name}[{param}]",
            "fullname": f"tests/throughput/test_throughput.py::{base_name}[{param}]",
            "params": {"metric": key, "concurrency": c, "rate": level.get("rate")},
            "param": param,
            "extra_info": dict(extra, metric=label),
            "options": {"disable_gc": False, "timer": "time.monotonic_ns", "min_rounds": 1,
                        "max_time": 0.0, "min_time": 0.0, "warmup": False},
            "stats": stats,
        })
    return {
        "machine_info": _machine_info(),
        "commit_info": _commit_info(),
        "benchmarks": benchmarks,
        "datetime": datetime.now(timezone.utc).isoformat(),
        "version": _version(),
    }


