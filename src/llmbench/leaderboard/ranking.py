"""Order rows and pick category winners, by rules stated in words on the page."""

from __future__ import annotations

from dataclasses import dataclass

from llmbench.leaderboard.model import Row

RANKING_RULE = (
    "Ranked by quality % (highest first), then peak t/s (highest first). Only complete quality "
    "runs are ranked with each other: rows whose run did not complete (interrupted, partial, "
    "failed, or still running) or covered fewer checks than the fullest row (tests deselected) "
    "are marked and ranked after them, by the same rule; rows without a quality run come last, "
    "by peak t/s. Those rows win no category."
)
# Added when the published rows are shown.
PUBLISHED_TIE_RULE = (
    "Published rows of equal quality keep the seed's own "
    "order (its # column): the seed ordered ties by hand, and no column of its table "
    "reproduces that order (by peak t/s its four 100% rows would read Nemotron, Qwen3-Coder, "
    "GLM, Devstral-2). A row of yours goes just before the first published row of equal "
    "quality whose peak t/s is lower."
)

QUALITY_BAR = 90.0   # "good enough" for the throughput, context and size categories


def quality_key(row: Row) -> float | None:
    """Quality as compared: percent rounded as displayed (95.45 and 95.5 are equal)."""
    return None if row.percent is None else round(row.percent, 1)


def _by_speed(row: Row) -> tuple:
    return (-(row.peak or -1.0), -(row.single or -1.0), row.name.casefold())


def quality_complete(row: Row) -> bool:
    """The row's quality run finished with every check answered (older files carry no status)."""
    return all(s.status in (None, "complete") for s in row.sources if s.kind == "quality")


def mark_partial(rows: list[Row]) -> None:
    full = max((r.quality.max for r in rows if r.quality and quality_complete(r)), default=0)
    for row in rows:
        row.partial = bool(row.quality and (row.quality.max < full or not quality_complete(row)))


def rank_rows(rows: list[Row]) -> list[Row]:
    """Rows in ranking order (RANKING_RULE, PUBLISHED_TIE_RULE); sets each row's ``partial``."""
    mark_partial(rows)
    groups: dict[tuple, list[Row]] = {}
    for row in rows:
        groups.setdefault((row.quality is None, row.partial, quality_key(row)), []).append(row)
    ranked: list[Row] = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], -(k[2] or 0.0))):
        published = sorted((r for r in groups[key] if r.published), key=lambda r: r.published_rank or 0)
        mine = sorted((r for r in groups[key] if not r.published), key=_by_speed)
        while published and mine:
            faster = mine[0].peak is not None and (published[0].peak is None or mine[0].peak > published[0].peak)
            ranked.append(mine.pop(0) if faster else published.pop(0))
        ranked += published + mine
    return ranked


@dataclass
class Winner:
    category: str
    rule: str
    row: Row | None
    why: str


def _pct(row: Row) -> str:
    assert row.quality is not None
    return f"{format_percent(row.quality.percent)}% quality"


def format_percent(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def context_k(tokens: int | None) -> int | None:
    """Context in thousands of tokens, rounded down as the seed writes it (131072 -> 131K)."""
    return None if tokens is None else tokens // 1000


def category_winners(ranked: list[Row]) -> list[Winner]:
    """Winners over rows already in ranking order (ties go to the better-ranked row)."""
    position = {id(r): i for i, r in enumerate(ranked)}
    rated = [r for r in ranked if r.quality is not None and not r.partial]
    good = [r for r in rated if (quality_key(r) or 0.0) >= QUALITY_BAR]
    winners: list[Winner] = []

    def pick(category: str, rule: str, candidates: list[Row], key, why) -> None:
        if not candidates:
            winners.append(Winner(category, rule, None, "no row qualifies"))
            return
        best = min(candidates, key=lambda r: (key(r), position[id(r)]))
        winners.append(Winner(category, rule, best, why(best)))

    pick("Best Quality", "highest quality %; ties go to the better-ranked row",
         rated, lambda r: -(quality_key(r) or 0.0),
         lambda r: f"{_pct(r)} ({_points(r)}), ranked #{position[id(r)] + 1}")
    top = quality_key(rated[0]) if rated else None
    pick("Best Overall", "among rows at the top quality, the highest peak t/s",
         [r for r in rated if quality_key(r) == top and r.peak is not None], lambda r: -(r.peak or 0.0),
         lambda r: f"{_pct(r)} + {_tok(r.single)} t/s single + {_tok(r.peak)} t/s peak")
    pick("Best Throughput", f"highest peak t/s among rows at ≥ {QUALITY_BAR:g}% quality",
         [r for r in good if r.peak is not None], lambda r: -(r.peak or 0.0),
         lambda r: f"{_tok(r.peak)} t/s peak @ C={r.throughput.peak_concurrency or '?'}, {_pct(r)}")
    pick("Best Single-Request Speed", f"highest single-request t/s among rows at ≥ {QUALITY_BAR:g}% quality",
         [r for r in good if r.single is not None], lambda r: -(r.single or 0.0),
         lambda r: f"{_tok(r.single)} t/s for one request, {_pct(r)}")
    pick("Best Long Context", f"largest served context among rows at ≥ {QUALITY_BAR:g}% quality; ties go to the better-ranked row",
         [r for r in good if r.context], lambda r: -(context_k(r.context) or 0),
         lambda r: f"{context_k(r.context)}K context, {_pct(r)}")
    pick("Smallest Model ≥ 90%", f"fewest parameters among rows at ≥ {QUALITY_BAR:g}% quality (size from the model name or the seed's data); ties go to the better-ranked row",
         [r for r in good if r.params_b], lambda r: r.params_b or 0.0,
         lambda r: f"{r.params_b:g}B parameters, {_pct(r)}")
    return winners


def _points(row: Row) -> str:
    assert row.quality is not None
    score = row.quality.score
    return f"{score:g}/{row.quality.max}" if score == int(score) else f"{score:.1f}/{row.quality.max}"


def _tok(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"
