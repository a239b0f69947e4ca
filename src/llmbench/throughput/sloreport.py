"""The SLO and workload parts of a sweep's scaling.md and plot (concurrency and rate sweeps alike)."""

from __future__ import annotations


def _load(key: str, value) -> str:
    return f"C={value}" if key == "concurrency" else f"{value:g} req/s"


def headline_line(sweep: dict) -> list[str]:
    """The headline bullet: the highest load that meets the SLO (nothing without an SLO)."""
    slo = sweep.get("slo")
    if not slo:
        return []
    key = "rate" if sweep.get("mode") == "rate" else "concurrency"
    best = sweep.get(f"slo_max_{key}")
    if best is None:
        return [f"* Highest {key} meeting the SLO ({slo['text']}): **none of the levels tried**"]
    return [f"* Highest {key} meeting the SLO ({slo['text']}): **{_load(key, best)}**, goodput "
            f"{sweep['slo_goodput_tok_s']:.0f} tok/s ({sweep['slo_goodput_req_s']:.2f} req/s)"]


def table(sweep: dict) -> list[str]:
    if not sweep.get("slo"):
        return []
    key = "rate" if sweep.get("mode") == "rate" else "concurrency"
    out = ["", f"### Goodput under the SLO ({sweep['slo']['text']})", "",
           f"| {'Rate' if key == 'rate' else 'C'} | good / measured | attainment | goodput req/s | goodput tok/s | meets SLO | missed |",
           "|---:|---:|---:|---:|---:|:-:|---|"]
    for lv in sweep["levels"]:
        s = lv.get("slo")
        if not s:
            continue
        missed = ", ".join(f"{k} {n}" for k, n in sorted(s["violations"].items())) or "-"
        out.append(f"| {lv[key]:g} | {s['good']} / {s['measured']} | {100 * s['attainment']:.0f}% | "
                   f"{s['goodput_req_s']:.2f} | {s['goodput_tok_s']:.0f} | {'yes' if s['met'] else 'no'} | {missed} |")
    return out


def mark_plot(ax, sweep: dict, xs: list, levels: list[dict]) -> None:
    """Goodput tok/s beside the aggregate, and a line at the highest load meeting the SLO."""
    if not sweep.get("slo"):
        return
    key = "rate" if sweep.get("mode") == "rate" else "concurrency"
    ax.plot(xs, [(lv.get("slo") or {}).get("goodput_tok_s", 0) for lv in levels], "D-.", color="tab:green",
            label="goodput tok/s (SLO)")
    best = sweep.get(f"slo_max_{key}")
    if best is not None:
        ax.axvline(best, color="tab:green", linestyle=":", alpha=0.8, label=f"meets SLO up to {_load(key, best)}")


def workload_line(sweep: dict) -> list[str]:
    """What the requests were and their achieved lengths (first level with requests)."""
    from llmbench.throughput.workload import lengths_line

    for lv in sweep.get("levels") or ():
        if lv.get("requests") and (line := lengths_line(lv)):
            return [f"* {line[0].upper()}{line[1:]}"]
    return []


def output_desc(sweep: dict) -> str:
    """``512 output tokens``, or the drawn/replayed lengths when the workload sets them."""
    workload = (sweep.get("spec") or {}).get("workload") or {}
    if workload.get("output_tokens"):
        return f"output tokens {workload['output_tokens']}"
    if workload.get("prompts"):
        return f"output tokens from the prompts (else {sweep['max_tokens']})"
    return f"{sweep['max_tokens']} output tokens"
