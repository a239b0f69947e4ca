"""The score table shown at the end of a run (terminal) and in reports."""

from __future__ import annotations

from llmbench.runs.status import score_label


def fmt_score(score: float) -> str:
    return f"{score:g}" if float(score).is_integer() else f"{score:.2f}"


def summary_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(test, difficulty, score "x/N", percent) per test, then the total."""
    rows = []
    for test in results.get("tests", {}).values():
        maximum = test["max"]
        pct = f"{100.0 * test['score'] / maximum:.1f}%" if maximum else "-"
        rows.append((test["title"], test["difficulty"], f"{fmt_score(test['score'])}/{maximum}", pct))
    totals = results.get("totals", {})
    label = score_label(results.get("status"))
    rows.append((f"Total ({label})" if label else "Total", "", f"{fmt_score(totals.get('score', 0))}/{totals.get('max', 0)}",
                 f"{totals.get('percent', 0.0):.1f}%"))
    return rows


def check_rows(results: dict) -> list[tuple[str, str, str]]:
    """(check id, "k/N", "[lo, hi]") per check: shown when a run has several samples."""
    rows = []
    for test in results.get("tests", {}).values():
        for check_id, check in test["checks"].items():
            low, high = check["ci95"]
            rows.append((check_id, f"{check['passes']}/{check['n']}", f"[{low:.2f}, {high:.2f}]"))
    return rows


def render_summary(results: dict) -> list[str]:
    model = results.get("model", {})
    title = f"llmbench quality: {model.get('name', '?')}"
    if results.get("demo"):
        title += " (built-in demo server)"
    if results.get("replay"):
        title += " (replayed answers)"
    lines = ["", title]
    if score_label(results.get("status")):
        lines.append(f"{results['status'].upper()}: {results.get('status_reason') or 'the run did not finish'}")
    rows = [("Test", "Difficulty", "Score", "%")] + summary_rows(results)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0 or n == len(rows) - 2:
            lines.append("  ".join("-" * w for w in widths))
    if (results.get("sampling") or {}).get("samples", 1) > 1:
        lines.append("")
        lines.append("Per check: passes/samples and 95% Wilson interval")
        checks = check_rows(results)
        width = max((len(c[0]) for c in checks), default=0)
        lines += [f"  {c.ljust(width)}  {k:>5}  {ci}" for c, k, ci in checks]
    return lines
