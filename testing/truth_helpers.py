"""The client's per-request figures against the server's own record of the same requests.

A server's truth is a list of requests, each ``{"arrival_ns", "first_token_ns",
"end_ns", "tokens", "chunk_ns", "chunk_tokens"}`` on the shared monotonic clock
(the built-in engine's ``/sim/stats?chunks=1``, the reference server's
``/truth``). The figures are computed here with numpy from the definitions, not
with the client's own ``metrics`` code, so a bug there (TTFT from the wrong
moment, ITL per chunk instead of per token) shows as a difference.

Tolerance: 3% of the server's value, or an absolute floor when that is larger.
The client's clock starts before it writes the request and stops when it reads a
chunk; the server's starts when it has read the request's head and stops when it
writes the chunk. On one machine that adds a socket hop and two processes'
scheduling to every client's TTFT and E2E: measured 0.6-2.6 ms (the reference
server, a new connection and thread per request, is the slower), more at p99
when both share two busy cores; the gaps between tokens differ by the jitter
of the two processes' wake-ups only. The floors cover that and
stay far below the errors a real bug makes in the tests' setups (tens of
milliseconds for TTFT and E2E, a factor of 2 for ITL).
"""

from __future__ import annotations

import numpy as np

from llmbench.throughput.client import RequestRecord

REL = 0.03
# absolute floors, seconds: (TTFT and E2E, ITL) at p50/p90 and at p99
FLOORS = {"ttft_s": (0.005, 0.010), "e2e_s": (0.005, 0.010), "itl_s": (0.001, 0.004)}
PERCENTILES = (50, 90, 99)


def measured_truth(requests: list[dict], records: list[RequestRecord]) -> list[dict]:
    """The server's requests that are the client's measured ones (warm-ups went before the first of them)."""
    measured = [r for r in records if not r.warmup]
    since = min(r.start_ns for r in measured)
    return sorted((q for q in requests if q["arrival_ns"] >= since), key=lambda q: q["arrival_ns"])


def _per_token_gaps(chunk_ns: list[int], chunk_tokens: list[int]) -> list[float]:
    times = np.asarray(chunk_ns, dtype=np.int64)
    tokens = np.asarray(chunk_tokens, dtype=np.int64)
    if len(times) < 2:
        return []
    gaps = np.diff(times) / 1e9
    keep = tokens[1:] > 0
    return np.repeat(gaps[keep] / tokens[1:][keep], tokens[1:][keep]).tolist()


def truth_figures(requests: list[dict]) -> dict[str, list[float]]:
    """Per-request TTFT and E2E, per-token ITL, as the server saw them (seconds)."""
    done = [q for q in requests if q.get("first_token_ns") and q.get("end_ns")]
    return {
        "ttft_s": [(q["first_token_ns"] - q["arrival_ns"]) / 1e9 for q in done],
        "e2e_s": [(q["end_ns"] - q["arrival_ns"]) / 1e9 for q in done],
        "itl_s": [g for q in done for g in _per_token_gaps(q["chunk_ns"], q["chunk_tokens"])],
    }


def compare(level: dict, requests: list[dict], floors: dict | None = None,
            keys: tuple[str, ...] = ("ttft_s", "e2e_s", "itl_s"), percentiles: tuple[int, ...] = PERCENTILES) -> list[str]:
    """Every figure of ``level`` (the client's) off by more than the tolerance from the server's truth."""
    truth = {k: v for k, v in truth_figures(requests).items() if k in keys}
    floors = {**FLOORS, **(floors or {})}
    misses = []
    for key, values in truth.items():
        assert values, f"the server recorded no {key}"
        floor_mid, floor_tail = floors[key]
        for q in percentiles:
            server = float(np.percentile(values, q))
            client = level[key][f"p{q}"]
            allowed = max(REL * server, floor_tail if q == 99 else floor_mid)
            if client is None or abs(client - server) > allowed:
                misses.append(f"{key} p{q}: client {_ms(client)} vs server {_ms(server)} (allowed ±{_ms(allowed)})")
    return misses


def window_tok_s(requests: list[dict], window: dict) -> float:
    """Tokens the server wrote inside the client's window, per second."""
    a, b = window["start_ns"], window["end_ns"]
    tokens = sum(k for q in requests for t, k in zip(q["chunk_ns"], q["chunk_tokens"], strict=True) if a < t <= b)
    return tokens / ((b - a) / 1e9)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{1000 * seconds:.2f} ms"
