"""Small statistics for pass rates."""

from __future__ import annotations

import math


def wilson_interval(passes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval for a pass rate of ``passes`` out of ``n``."""
    if n <= 0:
        return (0.0, 1.0)
    p = passes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))
