"""Per-request latency metrics and their percentiles.

* TTFT: request sent -> first chunk carrying content or reasoning.
* E2E:  request sent -> end of stream.
* TPOT: (E2E - TTFT) / (output_tokens - 1).
* ITL:  per token: the gap before a chunk carrying k tokens is split into k
        equal intervals of gap/k (so a multi-token chunk counts as k tokens).
* tok/s per request: output_tokens / E2E.
"""

from __future__ import annotations

import math
from typing import Iterable

from llmbench.throughput.client import RequestRecord

NS = 1e9


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default) of already sorted values."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(values: Iterable[float]) -> dict:
    """``{"p50", "p90", "p99", "mean", "n"}``; NaN-free (None when there is no data)."""
    data = sorted(values)
    if not data:
        return {"p50": None, "p90": None, "p99": None, "mean": None, "n": 0}
    return {"p50": percentile(data, 50), "p90": percentile(data, 90), "p99": percentile(data, 99),
            "mean": sum(data) / len(data), "n": len(data)}


def ttft_s(r: RequestRecord) -> float | None:
    return (r.first_token_ns - r.start_ns) / NS if r.first_token_ns is not None else None


def e2e_s(r: RequestRecord) -> float | None:
    return (r.end_ns - r.start_ns) / NS if r.end_ns is not None else None


def tpot_s(r: RequestRecord) -> float | None:
    ttft, e2e = ttft_s(r), e2e_s(r)
    if ttft is None or e2e is None or r.output_tokens < 2:
        return None
    return (e2e - ttft) / (r.output_tokens - 1)


def itl_s(r: RequestRecord) -> list[float]:
    out: list[float] = []
    for i in range(1, len(r.chunk_ns)):
        k = r.chunk_tokens[i]
        if k > 0:
            out.extend([(r.chunk_ns[i] - r.chunk_ns[i - 1]) / NS / k] * k)
    return out


def tok_s(r: RequestRecord) -> float | None:
    e2e = e2e_s(r)
    return r.output_tokens / e2e if e2e and r.output_tokens else None
