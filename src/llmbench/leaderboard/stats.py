"""Mean and 95% interval of a few repeated samples (no scipy needed)."""

from __future__ import annotations

import math

# Two-sided 95% Student t critical values by degrees of freedom; 1.96 beyond the table.
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042, 60: 2.000}


def _t95(df: int) -> float:
    if df > 60:
        return 1.96
    # The nearest tabulated df at or below this one: a slightly wider, conservative interval.
    return _T95[max(b for b in _T95 if b <= df)]


def mean_interval(values: list[float], lo: float, hi: float) -> tuple[float, float | None, float | None]:
    """Mean and a 95% t-interval clipped to [lo, hi]; no interval for fewer than 2 values."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None, None
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = _t95(n - 1) * math.sqrt(var / n)
    return mean, max(lo, mean - half), min(hi, mean + half)
