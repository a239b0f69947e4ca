"""Combine every client's records into one concurrency level's figures (controller side).

The headline, ``aggregate_tok_s``, is measured over the steady-state window:
from the moment the *last* client received its first token to the moment the
*first* client received its last token. Inside it every client is streaming,
so staggered start-up and the drain at the end do not dilute the rate. The
whole-run rate (first request sent -> last stream ended) is kept beside it.

The window is trusted only when it spans at least ``MIN_WINDOW_FRACTION`` of
the run: a server whose API process falls behind delivers chunks in bursts
(seen with vLLM on 2 CPU cores), which can shrink the window to milliseconds
around thousands of tokens and make its rate absurd. Then the headline falls
back to the whole-run rate and the level says why.
"""

from __future__ import annotations

import bisect
import os
from collections import Counter

from llmbench.throughput import metrics
from llmbench.throughput.client import RequestRecord

NS = 1e9
MIN_WINDOW_FRACTION = 0.5


def steady_window(records: list[RequestRecord]) -> tuple[int, int] | None:
    """(start_ns, end_ns) of the window where every client with tokens was streaming."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for r in records:
        if r.chunk_ns:
            first[r.client] = min(first.get(r.client, r.chunk_ns[0]), r.chunk_ns[0])
            last[r.client] = max(last.get(r.client, r.chunk_ns[-1]), r.chunk_ns[-1])
    if not first:
        return None
    start, end = max(first.values()), min(last.values())
    return (start, end) if end > start else None


def tokens_in(records: list[RequestRecord], start_ns: int, end_ns: int) -> int:
    """Tokens whose chunk arrived in (start_ns, end_ns]."""
    total = 0
    for r in records:
        if not r.chunk_ns or r.chunk_ns[-1] <= start_ns or r.chunk_ns[0] > end_ns:
            continue
        lo = bisect.bisect_right(r.chunk_ns, start_ns)
        hi = bisect.bisect_right(r.chunk_ns, end_ns)
        total += sum(r.chunk_tokens[lo:hi])
    return total


def summarize_level(concurrency: int, client_results: list[dict], max_tokens: int) -> dict:
    """One level's figures from ``run_client`` results (warm-up requests left out)."""
    records = [RequestRecord.from_dict(d) for res in client_results for d in res["records"]]
    measured = [r for r in records if not r.warmup]
    ok = [r for r in measured if r.ok]
    failed = [r for r in measured if not r.ok]

    starts = [r.start_ns for r in measured]
    ends = [r.end_ns for r in measured if r.end_ns]
    run_s = (max(ends) - min(starts)) / NS if starts and ends else 0.0
    output_tokens = sum(r.output_tokens for r in measured)

    window = steady_window(measured)
    fallback = "no moment when every client was streaming"
    if window and run_s and (window[1] - window[0]) / NS < MIN_WINDOW_FRACTION * run_s:
        fallback = (f"the steady window covered only {100 * (window[1] - window[0]) / NS / run_s:.0f}% "
                    "of the run (bursty delivery or too few requests per client)")
        window = None
    if window:
        w_tokens = tokens_in(measured, *window)
        w_s = (window[1] - window[0]) / NS
        aggregate = w_tokens / w_s
        window_info = {"kind": "steady", "start_ns": window[0], "end_ns": window[1],
                       "duration_s": w_s, "tokens": w_tokens}
    else:   # no trustworthy steady state: use the whole run and say so
        aggregate = output_tokens / run_s if run_s else 0.0
        window_info = {"kind": "whole_run", "start_ns": min(starts) if starts else None,
                       "end_ns": max(ends) if ends else None, "duration_s": run_s, "tokens": output_tokens,
                       "reason": fallback}

    cpu_s = sum(res.get("cpu_s", 0.0) for res in client_results)
    per_request = [v for r in ok if (v := metrics.tok_s(r)) is not None]
    return {
        "concurrency": concurrency,
        "clients": len(client_results),
        "requests": len(ok),
        "requests_total": len(measured),
        "warmup_requests": len(records) - len(measured),
        "output_tokens": output_tokens,
        "duration_s": run_s,
        "aggregate_tok_s": aggregate,
        "aggregate_tok_s_whole_run": output_tokens / run_s if run_s else 0.0,
        "window": window_info,
        "requests_per_s": len(ok) / run_s if run_s else 0.0,
        "per_request_tok_s_mean": sum(per_request) / len(per_request) if per_request else None,
        "ttft_s": metrics.summarize(v for r in ok if (v := metrics.ttft_s(r)) is not None),
        "tpot_s": metrics.summarize(v for r in ok if (v := metrics.tpot_s(r)) is not None),
        "itl_s": metrics.summarize(x for r in ok for x in metrics.itl_s(r)),
        "e2e_s": metrics.summarize(v for r in ok if (v := metrics.e2e_s(r)) is not None),
        "errors": len(failed),
        "error_kinds": dict(Counter(r.error_kind for r in failed)),
        "error_examples": sorted({r.error for r in failed if r.error})[:5],
        "max_tokens": max_tokens,
        "short_requests": sum(1 for r in ok if r.output_tokens < (r.max_tokens or max_tokens)),
        "counted_tokens_requests": sum(1 for r in ok if r.tokens_source == "counted"),
        "eos_control": all(res.get("eos_control", True) for res in client_results),
        "client_cpu_s": cpu_s,
        "client_cpu_percent_of_machine": (100.0 * cpu_s / (run_s * (os.cpu_count() or 1))) if run_s else None,
    }
