"""What the throughput test's load options (defined in ``llmbench.plugin.options``) mean for a run.

``load_spec_fields`` turns them into LoadSpec fields for every client;
``summarize_run`` makes the run's one level from the clients' results.
"""

from __future__ import annotations

import pytest

from llmbench.throughput import slo as slo_mod
from llmbench.throughput.aggregate import summarize_level
from llmbench.throughput.ratelevel import summarize_rate_level
from llmbench.throughput.workload import WorkloadError, WorkloadSpec, achieved

DEFAULT_MIN_SECONDS = 10.0


def load_spec_fields(config: pytest.Config, clients: int) -> dict:
    """LoadSpec fields from the options."""
    streams = max(1, config.getoption("streams_per_worker", 1) or 1)
    return {"rate": config.getoption("rate", None), "arrival": config.getoption("arrival", "constant"),
            "seed": config.getoption("seed", 0), "streams_per_worker": streams, "clients": clients * streams,
            "min_seconds": config.getoption("min_seconds", DEFAULT_MIN_SECONDS),
            "workload": workload_from(config.getoption("prompts", None), config.getoption("input_tokens", None),
                                      config.getoption("output_tokens", None), config.getoption("prefix_tokens", 0),
                                      config.getoption("seed", 0))}


def workload_from(prompts, input_tokens, output_tokens, prefix_tokens, seed) -> dict | None:
    """WorkloadSpec fields, or None for the fixed prompt (a bad mix fails the test in one line)."""
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
