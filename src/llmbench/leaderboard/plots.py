"""The two figures (PNG bytes): quality vs peak throughput, and scaling curves.

Uses matplotlib's object API with the Agg canvas, so no display and no global pyplot
state. Labels come from run files: '$' is escaped so a name can never start mathtext.
"""

from __future__ import annotations

import io
from itertools import pairwise

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from llmbench.leaderboard.model import Row


def _label(row: Row) -> str:
    text = row.short_label or row.name
    if len(text) > 40:
        text = text[:39] + "…"
    return text.replace("$", r"\$")


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


def _crowded(points: list[tuple[Row, float, float]]) -> list[bool]:
    """Put a label below its point when a neighbour at the same quality is close on x."""
    span = max(peak for _, peak, _ in points) or 1.0
    below = [False] * len(points)
    order = sorted(range(len(points)), key=lambda i: (round(points[i][2], 1), points[i][1]))
    for prev, cur in pairwise(order):
        (_, peak_a, percent_a), (_, peak_b, percent_b) = points[prev], points[cur]
        if round(percent_a, 1) == round(percent_b, 1) and (peak_b - peak_a) < 0.12 * span:
            below[cur] = not below[prev]
    return below


def quality_vs_throughput(rows: list[Row]) -> bytes | None:
    # (row, peak tok/s, quality %) for every row that has both
    points = [(r, r.peak, r.percent) for r in rows if r.percent is not None and r.peak is not None]
    if not points:
        return None
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.add_subplot()
    for published in (True, False):
        group = [(peak, percent) for r, peak, percent in points if r.published == published]
        if not group:
            continue
        ax.scatter([peak for peak, _ in group], [percent for _, percent in group],
                   s=46, zorder=3,
                   facecolors="none" if published else "#d9480f",
                   edgecolors="#5c7cfa" if published else "#d9480f",
                   label="published (seed, 8x A4000)" if published else "your runs")
    for (r, peak, percent), below in zip(points, _crowded(points), strict=True):
        ax.annotate(_label(r), (peak, percent), textcoords="offset points",
                    xytext=(5, -11) if below else (5, 4), fontsize=7.5,
                    color="#333333" if not r.published else "#3b5bdb")
    ax.set_xlabel("peak throughput (output tokens/s, best concurrency)")
    ax.set_ylabel("quality (% of checks passed)")
    ax.set_title("Quality vs peak throughput")
    ax.grid(True, alpha=0.3)
    percents = [percent for _, _, percent in points]
    ax.set_ylim(bottom=max(0.0, min(percents) - 10), top=max(100.0, max(percents)) + 5)
    ax.set_xlim(left=0)
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def scaling_curves(rows: list[Row]) -> bytes | None:
    curves = [r for r in rows if r.throughput and len(r.throughput.levels) >= 1]
    if not curves:
        return None
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.add_subplot()
    levels: set[int] = set()
    for r in curves:
        xs = sorted(r.throughput.levels)  # type: ignore[union-attr]
        levels.update(xs)
        ax.plot(xs, [r.throughput.levels[x] for x in xs], marker="o", markersize=3.5,  # type: ignore[union-attr]
                linestyle="--" if r.published else "-", linewidth=1.2 if r.published else 2.2,
                label=_label(r) + (" (published)" if r.published else ""))
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(levels), labels=[str(c) for c in sorted(levels)])
    ax.set_xlabel("concurrent requests")
    ax.set_ylabel("aggregate output tokens/s")
    ax.set_title("Throughput scaling")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2 if len(curves) > 8 else 1, loc="upper left")
    return _png(fig)
