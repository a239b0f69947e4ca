"""Assemble a leaderboard (tables, plots, notes) from rows, then write its files."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from llmbench import plotting
from llmbench.leaderboard import tables
from llmbench.leaderboard.model import Row
from llmbench.leaderboard.ranking import PUBLISHED_TIE_RULE, RANKING_RULE, category_winners, rank_rows
from llmbench.leaderboard.reference import Reference, params_by_model
from llmbench.leaderboard.tables import Table

PLOT_FILES = {"quality": "quality_vs_throughput.png", "scaling": "scaling.png"}


@dataclass
class Plot:
    file: str
    title: str
    png: bytes


@dataclass
class Leaderboard:
    title: str
    generated_at: str
    sources: list[str]              # folders scanned
    notes: list[str]
    tables: list[Table]
    plots: list[Plot]
    reference_notes: list[str] = field(default_factory=list)
    reference_tables: list[Table] = field(default_factory=list)
    missing_plots: list[str] = field(default_factory=list)


def build(rows: list[Row], reference: Reference | None, sources: list[str], all_runs: bool,
          title: str = "LLM Leaderboard") -> Leaderboard:
    if reference is not None:
        sizes = params_by_model(reference)
        for row in rows:
            if row.params_b is None:
                row.params_b = sizes.get(row.name.casefold())
        rows = rows + reference.rows
    ranked = rank_rows(rows)
    notes = [
        "Runs of the same model, quant, TP, framework and GPU form one row: "
        + ("every run is listed (--all)." if all_runs else
           "the newest run of each kind wins (a complete run beats a newer unfinished one); --all lists every run.")
        + " A throughput sweep joins the quality run of that setup closest to it in time.",
        "Quality shows the mean over samples when a run repeated them, with its 95% interval and n.",
    ]
    reference_notes: list[str] = []
    reference_tables: list[Table] = []
    if reference is not None:
        p = reference.provenance
        notes.insert(0, "Rows marked “published” are the seed's own 8x RTX A4000 results. "
                        "Their quality scores came from the seed's keyword grader, not from llmbench's graders.")
        reference_notes = [
            f"Source: {p.get('source', '')}.",
            f"Harness: {p.get('harness', '')}. Dates: {p.get('dates', '')}.",
            f"Platform: {p.get('platform', '')}. Software: {p.get('software', '')}.",
            f"Grader: {p.get('grader', '')}",
            *[f"Note: {n}" for n in p.get("notes", [])],
            f"Data file: llmbench/leaderboard/reference/{reference.path.name}.",
        ]
        reference_tables = [tables.published_categories_table(reference.categories),
                            tables.historical_table(reference.historical)]
    board = Leaderboard(
        title=title,
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        sources=sources,
        notes=notes,
        tables=[tables.rankings_table(ranked, RANKING_RULE + (" " + PUBLISHED_TIE_RULE if reference else "")), tables.winners_table(category_winners(ranked)),
                tables.detailed_table(ranked), tables.scaling_table(ranked),
                *filter(None, [tables.slo_table(ranked)]), tables.runs_table(ranked)],
        plots=[],
        reference_notes=reference_notes,
        reference_tables=reference_tables,
    )
    if not plotting.available():
        board.missing_plots.append(f"No plots: {plotting.MISSING}.")
        return board
    from llmbench.leaderboard import plots

    for key, figure, plot_title in (("quality", plots.quality_vs_throughput, "Quality vs peak throughput"),
                                    ("scaling", plots.scaling_curves, "Throughput scaling")):
        png = figure(ranked)
        if png is None:
            board.missing_plots.append(f"{plot_title}: no row has the data for it yet.")
        else:
            board.plots.append(Plot(PLOT_FILES[key], plot_title, png))
    return board


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600; a leaderboard is meant to be shared, so it gets what open() would give
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(board: Leaderboard, out: Path) -> list[Path]:
    from llmbench.leaderboard.markdown import render_markdown
    from llmbench.leaderboard.page import render_html

    written = []
    for plot in board.plots:
        write_atomic(out / plot.file, plot.png)
        written.append(out / plot.file)
    for name, text in (("leaderboard.md", render_markdown(board)), ("leaderboard.html", render_html(board))):
        write_atomic(out / name, text.encode("utf-8"))
        written.append(out / name)
    return written
