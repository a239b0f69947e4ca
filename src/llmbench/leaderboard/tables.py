"""The leaderboard's tables as plain data (cells with display text and a sort value).

markdown.py and page.py render these; nothing here knows about Markdown or HTML, so
every string from a run file stays raw text until a renderer escapes it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from llmbench.leaderboard.model import Row, TestScore
from llmbench.leaderboard.ranking import Winner, context_k, format_percent
from llmbench.leaderboard.runs import SEED_TESTS

MISSING = "—"
_FRAMEWORKS = {"vllm": "vLLM", "sglang": "SGLang", "llama.cpp": "llama.cpp", "llamacpp": "llama.cpp",
               "tgi": "TGI", "ollama": "Ollama", "sim": "sim", "demo": "demo"}


@dataclass
class Cell:
    text: str
    sort: float | str | None = None     # value the page sorts by (None: sort by text)
    strong: bool = False
    tags: tuple[str, ...] = ()          # badges after the text ("published", "demo")
    title: str | None = None            # longer explanation (HTML tooltip)


@dataclass
class Table:
    id: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""
    numeric: set[int] = field(default_factory=set)   # column indexes sorted as numbers


# --- formatting ------------------------------------------------------------------

def framework_label(value: str | None) -> str:
    return MISSING if not value else _FRAMEWORKS.get(value.casefold(), value)


def context_label(tokens: int | None) -> str:
    k = context_k(tokens)
    return MISSING if k is None else (f"{k}K" if k else str(tokens))


def tok_label(value: float | None) -> str:
    return MISSING if value is None else f"{value:.0f}"


def _num(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def quality_cell(row: Row) -> Cell:
    q = row.quality
    if q is None:
        return Cell(MISSING, sort=-1.0)
    text = f"{format_percent(q.percent)}% ({_num(q.score)}/{q.max})"
    title = None
    if q.low is not None and q.high is not None:
        lo, hi = 100 * q.low / q.max, 100 * q.high / q.max
        text += f" [{format_percent(lo)}–{format_percent(hi)}, n={q.n_samples}]"
        title = f"mean of {q.n_samples} samples; 95% interval of the score {_num(q.low)}–{_num(q.high)}"
    return Cell(text, sort=round(q.percent, 1), strong=round(q.percent, 1) >= 100.0, title=title)


def test_cell(score: TestScore | None) -> Cell:
    if score is None:
        return Cell(MISSING, sort=-1.0)
    text = f"{_num(score.score)}/{score.max}"
    title = None
    if score.low is not None and score.high is not None:
        title = f"mean over samples; 95% interval {_num(score.low)}–{_num(score.high)}"
        text += f" [{_num(score.low)}–{_num(score.high)}]"
    return Cell(text, sort=score.score / score.max if score.max else 0.0, title=title)


def model_cell(row: Row, label: str | None = None) -> Cell:
    return Cell(label or row.name, sort=(label or row.name).casefold(), tags=tuple(row.tags))


def _peak_cell(row: Row) -> Cell:
    t = row.throughput
    if t is None or t.peak_tok_s is None:
        return Cell(MISSING, sort=-1.0)
    at = f" @ C={t.peak_concurrency}" if t.peak_concurrency else ""
    return Cell(f"{t.peak_tok_s:.0f}{at}", sort=t.peak_tok_s)


# --- the tables ------------------------------------------------------------------

def rankings_table(ranked: list[Row], rule: str) -> Table:
    body = []
    for i, row in enumerate(ranked, 1):
        s = row.setup
        body.append([
            Cell(str(i), sort=i),
            model_cell(row),
            Cell(s.quant or MISSING),
            Cell(MISSING if s.tp is None else str(s.tp), sort=-1 if s.tp is None else s.tp),
            quality_cell(row),
            Cell(tok_label(row.single), sort=row.single if row.single is not None else -1.0),
            _peak_cell(row),
            Cell(context_label(row.context), sort=row.context or -1),
            Cell(framework_label(s.framework)),
        ])
    return Table("rankings", "Model Rankings",
                 ["#", "Model", "Quant", "TP", "Quality", "Single t/s", "Peak t/s", "Context", "Framework"],
                 body, note=rule, numeric={0, 3, 4, 5, 6, 7})


def winners_table(winners: list[Winner]) -> Table:
    body = [[Cell(w.category), model_cell(w.row) if w.row else Cell(MISSING), Cell(w.why), Cell(w.rule)]
            for w in winners]
    return Table("winners", "Category Winners", ["Category", "Model", "Why", "Rule"], body,
                 note="Computed from the rows above by the rule on each line.")


def test_columns(rows: list[Row]) -> list[tuple[str, str, int]]:
    """(test id, label, usual max) for every test any row has, seed tests first."""
    maxima: dict[str, Counter] = {}
    labels: dict[str, str] = {}
    for row in rows:
        for test_id, score in (row.quality.tests if row.quality else {}).items():
            maxima.setdefault(test_id, Counter())[score.max] += 1
            labels.setdefault(test_id, score.label)
    order = [t for t in SEED_TESTS if t in maxima] + [t for t in maxima if t not in SEED_TESTS]
    return [(t, labels[t], maxima[t].most_common(1)[0][0]) for t in order]


def detailed_table(ranked: list[Row]) -> Table:
    rows = [r for r in ranked if r.quality is not None]
    columns = test_columns(rows)
    # the column appears once some run recorded fix runs (older runs have none)
    fixes = any(r.quality is not None and r.quality.fixes_verified is not None for r in rows)
    body = []
    for row in rows:
        q = row.quality
        assert q is not None
        total = Cell(f"{_num(q.score)}/{q.max}", sort=q.score / q.max if q.max else 0.0,
                     strong=q.score == q.max)
        body.append([model_cell(row, row.detailed_label)]
                    + [test_cell(q.tests.get(t)) for t, _, _ in columns] + [total] + ([fixes_cell(q)] if fixes else []))
    note = "Checks passed per test (mean over samples when a run repeated them)."
    if fixes:
        note += " Fixes verified: the answers' code fixes that passed their behavioural probes, of those that ran."
    return Table("detailed", "Detailed Test Results",
                 ["Model"] + [f"{label} ({mx})" for _, label, mx in columns] + ["Total"] + (["Fixes verified"] if fixes else []),
                 body, note=note, numeric=set(range(1, len(columns) + 2 + fixes)))


def fixes_cell(q) -> Cell:
    """"k/n" fix runs passed, or "-" for a run recorded without them."""
    if q.fixes_verified is None:
        return Cell("-", sort=-1.0)
    passed, ran = q.fixes_verified
    return Cell(f"{passed}/{ran}", sort=passed / ran if ran else 0.0, strong=bool(ran) and passed == ran)


def scaling_table(ranked: list[Row]) -> Table:
    rows = [r for r in ranked if r.throughput and r.throughput.levels]
    levels = sorted({c for r in rows for c in r.throughput.levels})  # type: ignore[union-attr]
    columns = ["Concurrency"] + [_scaling_label(r) for r in rows]
    body = []
    for c in levels:
        line = [Cell(str(c), sort=c)]
        for r in rows:
            value = r.throughput.levels.get(c)  # type: ignore[union-attr]
            line.append(Cell(MISSING, sort=-1.0) if value is None else
                         Cell(f"{value:.0f}", sort=value, strong=value == max(r.throughput.levels.values())))  # type: ignore[union-attr]
        body.append(line)
    return Table("scaling", "Throughput Scaling (tokens/second)", columns, body,
                 note="Aggregate output tokens/second at each concurrency; the peak of each model in bold.",
                 numeric=set(range(len(columns))))


def slo_table(ranked: list[Row]) -> Table | None:
    """The highest load each model serves within its sweep's SLO (only when a sweep had one)."""
    rows = [r for r in ranked if r.throughput and r.throughput.slo]
    if not rows:
        return None
    body = []
    for row in rows:
        t = row.throughput
        assert t is not None
        body.append([model_cell(row), Cell(t.slo or MISSING),
                     Cell(t.slo_max or "none of the levels tried", strong=t.slo_max is not None),
                     Cell(MISSING if t.slo_goodput_tok_s is None else f"{t.slo_goodput_tok_s:.0f}",
                          sort=t.slo_goodput_tok_s if t.slo_goodput_tok_s is not None else -1.0)])
    return Table("slo", "Serving Within the SLO", ["Model", "SLO", "Highest load meeting it", "Goodput t/s"], body,
                 note="From each sweep run with --slo: the highest concurrency or request rate at which the share "
                      "of good requests reached the target, and the good requests' output tokens/second there.",
                 numeric={3})


def _scaling_label(row: Row) -> str:
    label = row.short_label or row.name
    return f"{label} ({', '.join(row.tags)})" if row.tags else label


def runs_table(ranked: list[Row]) -> Table:
    """Where each row came from and on what hardware (the seed's platform lines)."""
    body = []
    for i, row in enumerate(ranked, 1):
        quality = next((s for s in row.sources if s.kind in ("quality", "published")), None)
        sweep = next((s for s in row.sources if s.kind in ("sweep", "published")), None)
        when = max((s.started_at or "" for s in row.sources), default="") or MISSING
        body.append([
            Cell(str(i), sort=i), model_cell(row),
            Cell(row.setup.gpu or MISSING),
            Cell(framework_label(row.setup.framework)),
            Cell(_run_label(quality) if quality and row.quality else MISSING),
            Cell(_run_label(sweep) if sweep and row.throughput else MISSING),
            Cell(when),
        ])
    return Table("runs", "Runs and Hardware", ["#", "Model", "GPU", "Framework", "Quality run", "Throughput run", "Started"],
                 body, note="The run files behind each row, in ranking order.", numeric={0})


def _run_label(info) -> str:
    if info.kind == "published":
        return "published"
    status = f" ({info.status})" if info.status and info.status != "complete" else ""
    return f"{info.run_id}{status}"


def published_categories_table(categories: list[dict]) -> Table:
    body = [[Cell(str(c.get("category", ""))), Cell(str(c.get("model", ""))), Cell(str(c.get("why", "")))]
            for c in categories]
    return Table("published-winners", "Category Winners as published by the seed",
                 ["Category", "Model", "Why"], body,
                 note="The seed's editorial picks, verbatim; the computed winners above follow stated rules instead.")


def historical_table(historical: list[dict]) -> Table:
    body = []
    for block in historical:
        for r in block.get("rows", []):
            body.append([
                Cell(str(block.get("platform", ""))), Cell(str(r.get("model", ""))), Cell(str(r.get("quant") or MISSING)),
                Cell(f"{format_percent(float(r['percent']))}% ({r['score']}/{r['max']})", sort=float(r["percent"])),
                Cell(f"{float(r['tok_s']):.1f}", sort=float(r["tok_s"])),
            ])
    return Table("historical", "Historical single-GPU results (published)",
                 ["Platform", "Model", "Quant", "Quality", "Single t/s"], body,
                 note="From the seed's 'Historical Results'; not comparable with the 8-GPU rows.", numeric={3, 4})
