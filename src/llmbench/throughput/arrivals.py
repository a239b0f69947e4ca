"""When an open-loop client sends: a fixed schedule of arrival times, made before the run.

``constant`` spaces requests exactly 1/rate apart; ``poisson`` draws exponential
gaps of mean 1/rate from a seeded generator, so a run can be repeated exactly.
A rate split over several clients keeps the combined stream right: constant
clients are phase-shifted by ``client/total_rate``, Poisson clients get their own
seeds (independent Poisson streams add up to one of the summed rate).
"""

from __future__ import annotations

import math
import random

ARRIVALS = ("constant", "poisson")


def count_for(rate: float, requests: int, min_seconds: float = 0.0, duration_s: float | None = None) -> int:
    """Requests in a level: ``duration_s`` worth, else the larger of ``requests`` and ``min_seconds`` worth."""
    if duration_s:
        return max(1, math.ceil(rate * duration_s))
    return max(requests, math.ceil(rate * min_seconds))


def schedule(rate: float, count: int, arrival: str = "constant", seed: int = 0,
             client: int = 0, clients: int = 1) -> list[float]:
    """Send times in seconds after the start for one of ``clients`` clients sharing ``rate``."""
    if rate <= 0:
        raise ValueError(f"rate must be above 0 requests/s, got {rate:g}")
    if arrival not in ARRIVALS:
        raise ValueError(f"arrival must be one of {', '.join(ARRIVALS)}, got {arrival!r}")
    share = rate / clients
    if arrival == "constant":
        phase = client / rate
        return [phase + i / share for i in range(count)]
    rng = random.Random(f"{seed}:{client}")
    t, out = (0.0 if client == 0 else rng.expovariate(share)), []
    for _ in range(count):
        out.append(t)
        t += rng.expovariate(share)
    return out
