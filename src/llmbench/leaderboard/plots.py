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


def _crowded(points: list[Row]) -> list[bool]:
    """Put a label below its point when a neighbour at the same quality is close on x."""
    span = max(r.peak for r in points) or 1.0  # type: ignore[type-var]
    below = [False] * len(points)
    order = sorted(range(len(points)), key=lambda i: (round(points[i].percent, 1), points[i].peak))  # type: ignore[arg-type]
    for prev, cur in pairwise(order):
        a, b = points[prev], points[cur]
        if round(a.percent, 1) == round(b.percent, 1) and (b.peak - a.peak) < 0.12 * span:  # type: ignore[operator]
            below[cur] = not below[prev]
    return below


def quality_vs_throughput(rows: list[Row]) -> bytes | None:
    points = [r for r in rows if r.percent is not None and r.peak is not None]
    if not points:
        return None
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.add_subplot()
    for published in (True, False):
        group = [r for r in points if r.published == published]
        if not group:
            continue
        ax.scatter([r.peak for r in group], [r.percent for r in group],
                   s=46, zorder=3,
                   facecolors="none" if published else "#d9480f",
                   edgecolors="#5c7cfa" if published else "#d9480f",
                   label="published (seed, 8x A4000)" if published else "your runs")
    for r, below in zip(points, _crowded(points), strict=True):
        ax.annotate(_label(r), (r.peak, r.percent), textcoords="offset points",
                    xytext=(5, -11) if below else (5, 4), fontsize=7.5,
                    color="#333333" if not r.published else "#3b5bdb")
    ax.set_xlabel("peak throughput (output tokens/s, best concurrency)")
    ax.set_ylabel("quality (% of checks passed)")
    ax.set_title("Quality vs peak throughput")
    ax.grid(True, alpha=0.3)
    top = max(r.percent for r in points)  # type: ignore[type-var]
    ax.set_ylim(bottom=max(0.0, min(r.percent for r in points) - 10), top=max(100.0, top) + 5)  # type: ignore[type-var, operator]
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
