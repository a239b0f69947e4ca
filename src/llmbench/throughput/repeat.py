"""``--repeat N``: a level run N times, its headline figures as mean and 95% interval.

The combined level keeps the first run's shape with every headline figure
replaced by the mean over the runs, counts summed, and ``repeat`` holding the
runs' values and each figure's 95% Student-t interval (none for one run).
"""

from __future__ import annotations

import copy

from llmbench.leaderboard.stats import mean_interval

# (path in a level, label) of every headline figure
HEADLINE = (
    (("aggregate_tok_s",), "tok/s"),
    (("aggregate_tok_s_whole_run",), "tok/s whole run"),
    (("requests_per_s",), "req/s"),
    (("per_request_tok_s_mean",), "per-stream tok/s"),
    (("achieved_rate",), "sent req/s"),
    (("ttft_s", "p50"), "TTFT p50"), (("ttft_s", "p90"), "TTFT p90"), (("ttft_s", "p99"), "TTFT p99"),
    (("itl_s", "p50"), "ITL p50"), (("itl_s", "p99"), "ITL p99"),
    (("tpot_s", "p50"), "TPOT p50"), (("e2e_s", "p50"), "E2E p50"),
    (("slo", "attainment"), "SLO attainment"), (("slo", "goodput_tok_s"), "goodput tok/s"),
    (("slo", "goodput_req_s"), "goodput req/s"),
    (("engine_truth", "window_tok_s"), "server's tok/s"),
)
SUMMED = ("requests", "requests_total", "errors", "output_tokens", "short_requests", "client_cpu_s")


def _get(level: dict, path: tuple):
    value: object = level
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _set(level: dict, path: tuple, value) -> None:
    target = level
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def combine(runs: list[dict]) -> dict:
    """One level from N runs of it."""
    level = copy.deepcopy(runs[0])
    if len(runs) == 1:
        return level
    intervals, values = {}, {}
    for path, _ in HEADLINE:
        got = [v for run in runs if (v := _get(run, path)) is not None]
        if not got:
            continue
        mean, lo, hi = mean_interval(got, 0.0, 1.0 if path == ("slo", "attainment") else float("inf"))
        name = ".".join(path)
        _set(level, path, mean)
        values[name] = got
        intervals[name] = [lo, hi]
    for key in SUMMED:
        if all(isinstance(run.get(key), (int, float)) for run in runs):
            level[key] = sum(run[key] for run in runs)
    kinds: dict[str, int] = {}
    for run in runs:
        for kind, n in (run.get("error_kinds") or {}).items():
            kinds[kind] = kinds.get(kind, 0) + n
    level["error_kinds"] = kinds
    if level.get("slo") and runs[0].get("slo"):
        target = runs[0]["slo"].get("target")
        level["slo"]["good"] = sum(run["slo"]["good"] for run in runs)
        level["slo"]["measured"] = sum(run["slo"]["measured"] for run in runs)
        level["slo"]["met"] = all(run["slo"]["met"] for run in runs) if target is None else \
            level["slo"]["attainment"] >= target
    level["repeat"] = {"n": len(runs), "values": values, "ci95": intervals}
    return level


def interval_text(level: dict, path: tuple, scale: float = 1.0, fmt: str = ".0f") -> str:
    """``"1234 [1200–1260]"`` (the mean, then the 95% interval when the level was repeated)."""
    value = _get(level, path)
    if value is None:
        return "-"
    text = format(value * scale, fmt)
    ci = ((level.get("repeat") or {}).get("ci95") or {}).get(".".join(path))
    if ci and ci[0] is not None:
        text += f" [{format(ci[0] * scale, fmt)}–{format(ci[1] * scale, fmt)}]"
    return text


TABLE = ((("aggregate_tok_s",), "tok/s", 1, ".0f"), (("requests_per_s",), "req/s", 1, ".2f"),
         (("ttft_s", "p50"), "TTFT p50 ms", 1000, ".1f"), (("ttft_s", "p99"), "TTFT p99 ms", 1000, ".1f"),
         (("itl_s", "p50"), "ITL p50 ms", 1000, ".1f"), (("e2e_s", "p50"), "E2E p50 ms", 1000, ".0f"),
         (("slo", "goodput_tok_s"), "goodput tok/s", 1, ".0f"))


def table(sweep: dict) -> list[str]:
    """scaling.md's table of means and 95% intervals (only for a sweep run with --repeat)."""
    levels = [lv for lv in sweep.get("levels") or () if (lv.get("repeat") or {}).get("n", 1) > 1]
    if not levels:
        return []
    key = "rate" if sweep.get("mode") == "rate" else "concurrency"
    columns = [c for c in TABLE if any(_get(lv, c[0]) is not None for lv in levels)]
    out = ["", f"### Repeated {levels[0]['repeat']['n']} times: mean [95% interval]", "",
           f"| {'Rate' if key == 'rate' else 'C'} | " + " | ".join(c[1] for c in columns) + " |",
           "|---:|" + "---:|" * len(columns)]
    for lv in levels:
        out.append(f"| {lv[key]:g} | " + " | ".join(interval_text(lv, path, scale, fmt) for path, _, scale, fmt in columns)
                   + " |")
    return out


def error_bars(ax, xs: list, levels: list[dict], path: tuple = ("aggregate_tok_s",)) -> None:
    """The 95% interval of a plotted figure as error bars (nothing for single runs)."""
    lows, highs, keep = [], [], []
    for x, lv in zip(xs, levels, strict=True):
        ci = ((lv.get("repeat") or {}).get("ci95") or {}).get(".".join(path))
        value = _get(lv, path)
        if ci and ci[0] is not None and value is not None:
            keep.append((x, value))
            lows.append(value - ci[0])
            highs.append(ci[1] - value)
    if keep:
        ax.errorbar([k[0] for k in keep], [k[1] for k in keep], yerr=[lows, highs], fmt="none",
                    ecolor="tab:blue", capsize=3, label="95% interval")
