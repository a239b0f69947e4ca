"""An open-loop level's figures: what was offered, what was achieved, and whether a queue built.

On top of the closed-loop figures (``aggregate.summarize_level``) a rate level
reports the rate the client really sent (``achieved_rate``), the lag of every
send behind its schedule (an overloaded client shows here), how many requests
were in flight, and TTFT growth from the first to the last quarter of the
schedule: a server that keeps up serves the last requests as fast as the
first; one that cannot queues them, and TTFT climbs through the level.

The headline tok/s is measured over the sending span (first to last send), the
time the load was being offered; the server's own count over the same span is
the truth it is compared with.
"""

from __future__ import annotations

from llmbench.throughput import metrics
from llmbench.throughput.aggregate import summarize_level, tokens_in
from llmbench.throughput.client import RequestRecord

NS = 1e9
# A queue is building when the last quarter's TTFT p50 exceeds the first's by this factor plus slack.
QUEUE_FACTOR, QUEUE_SLACK_S = 1.5, 0.010
# Latency has broken when TTFT p50 exceeds the lowest rate's by this factor plus slack.
BREAK_FACTOR, BREAK_SLACK_S = 2.0, 0.010


def in_flight(records: list[RequestRecord]) -> tuple[int, float]:
    """(most requests in flight at once, mean in flight over the run)."""
    events = []
    busy_ns = 0
    for r in records:
        if r.end_ns is not None and r.end_ns >= r.start_ns:
            events += [(r.start_ns, 1), (r.end_ns, -1)]
            busy_ns += r.end_ns - r.start_ns
    if not events:
        return 0, 0.0
    events.sort(key=lambda e: (e[0], e[1]))
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    span = events[-1][0] - events[0][0]
    return peak, busy_ns / span if span else float(peak)


def ttft_growth(records: list[RequestRecord]) -> dict:
    """TTFT p50 of the first and the last quarter of the schedule, and whether a queue built."""
    timed = sorted((r for r in records if r.ok and r.first_token_ns is not None),
                   key=lambda r: r.start_ns if r.scheduled_ns is None else r.scheduled_ns)
    q = len(timed) // 4
    if q < 1:
        return {"first_quarter_p50_s": None, "last_quarter_p50_s": None, "queue_building": None}
    first = metrics.summarize(v for r in timed[:q] if (v := metrics.ttft_s(r)) is not None)["p50"]
    last = metrics.summarize(v for r in timed[-q:] if (v := metrics.ttft_s(r)) is not None)["p50"]
    return {"first_quarter_p50_s": first, "last_quarter_p50_s": last,
            "queue_building": last > QUEUE_FACTOR * first + QUEUE_SLACK_S}


def summarize_rate_level(rate: float, arrival: str, client_results: list[dict], max_tokens: int) -> dict:
    level = summarize_level(len(client_results), client_results, max_tokens)
    records = [RequestRecord.from_dict(d) for res in client_results for d in res.get("records") or ()]
    measured = [r for r in records if not r.warmup]
    starts = sorted(r.start_ns for r in measured)
    level.update({"mode": "rate", "concurrency": None, "rate": rate, "arrival": arrival})
    if len(starts) >= 2 and starts[-1] > starts[0]:
        span_s = (starts[-1] - starts[0]) / NS
        tokens = tokens_in(measured, starts[0], starts[-1])
        level["achieved_rate"] = (len(starts) - 1) / span_s
        if tokens:
            level["aggregate_tok_s"] = tokens / span_s
            level["window"] = {"kind": "sending", "start_ns": starts[0], "end_ns": starts[-1],
                               "duration_s": span_s, "tokens": tokens}
    else:
        level["achieved_rate"] = None
    lags = [(r.start_ns - r.scheduled_ns) / NS for r in measured if r.scheduled_ns is not None]
    level["send_lag_s"] = {**metrics.summarize(lags), "max": max(lags, default=None)}
    peak, mean = in_flight(measured)
    level["in_flight_max"], level["in_flight_mean"] = peak, mean
    level["ttft_growth"] = ttft_growth(measured)
    return level


def latency_break(levels: list[dict]) -> dict:
    """The lowest rate where latency breaks, and the highest rate below it.

    A rate breaks when its TTFT p50 is over twice the lowest rate's (plus 10 ms)
    or TTFT grew through the level (a queue was building).
    """
    timed = sorted((lv for lv in levels if lv.get("requests") and lv["ttft_s"].get("p50") is not None),
                   key=lambda lv: lv["rate"])
    if not timed:
        return {"latency_break_rate": None, "max_rate_before_break": None, "break_reason": None}
    base = timed[0]["ttft_s"]["p50"]
    before = None
    for lv in timed:
        p50 = lv["ttft_s"]["p50"]
        reason = None
        if p50 > BREAK_FACTOR * base + BREAK_SLACK_S:
            reason = f"TTFT p50 {p50 * 1000:.0f} ms vs {base * 1000:.0f} ms at {timed[0]['rate']:g} req/s"
        elif (lv.get("ttft_growth") or {}).get("queue_building"):
            g = lv["ttft_growth"]
            reason = (f"TTFT grew from {g['first_quarter_p50_s'] * 1000:.0f} ms to "
                      f"{g['last_quarter_p50_s'] * 1000:.0f} ms through the level (queueing)")
        if reason:
            return {"latency_break_rate": lv["rate"], "max_rate_before_break": before, "break_reason": reason}
        before = lv["rate"]
    return {"latency_break_rate": None, "max_rate_before_break": before, "break_reason": None}


def rate_headline(levels: list[dict]) -> dict:
    usable = [lv for lv in levels if lv.get("requests")]
    peak = max(usable, key=lambda lv: lv["aggregate_tok_s"], default=None)
    return {"peak_tok_s": peak["aggregate_tok_s"] if peak else None, "peak_rate": peak["rate"] if peak else None,
            **latency_break(levels)}
