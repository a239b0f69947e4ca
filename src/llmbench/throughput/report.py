"""Human-readable throughput figures: terminal lines, ``scaling.md``, ``scaling.png``."""

from __future__ import annotations

from pathlib import Path

from llmbench.throughput import repeat, servermetrics, sloreport


def _ms(summary: dict, key: str) -> str:
    v = summary.get(key) if summary else None
    return "-" if v is None else f"{v * 1000:.1f}"


def _pcts(summary: dict) -> str:
    return "  ".join(f"{k} {_ms(summary, k):>8} ms" for k in ("p50", "p90", "p99", "mean"))


def level_lines(level: dict, truth: dict | None = None) -> list[str]:
    w = level["window"]
    lines = [
        f"aggregate {level['aggregate_tok_s']:.1f} tok/s over the {w['kind'].replace('_', ' ')} window "
        f"({w['duration_s']:.2f} s, {w['tokens']} tokens); whole run {level['aggregate_tok_s_whole_run']:.1f} tok/s",
        f"requests {level['requests']} ok, {level['errors']} errors"
        + (f" {level['error_kinds']}" if level["errors"] else "")
        + f"; {level['requests_per_s']:.2f} req/s; {level['output_tokens']} output tokens",
    ]
    if w.get("reason"):
        lines.insert(1, f"  (whole-run rate used: {w['reason']})")
    if level.get("per_request_tok_s_mean") is not None:
        lines.append(f"per-request {level['per_request_tok_s_mean']:.1f} tok/s (mean)")
    for key, label in (("ttft_s", "TTFT"), ("tpot_s", "TPOT"), ("itl_s", "ITL "), ("e2e_s", "E2E ")):
        lines.append(f"{label}  {_pcts(level[key])}")
    if level["short_requests"]:
        lines.append(f"note: {level['short_requests']} requests stopped before max_tokens={level['max_tokens']}")
    if not level["eos_control"]:
        lines.append("note: the server rejected ignore_eos/min_tokens; requests may stop early")
    if level["counted_tokens_requests"]:
        lines.append(f"note: {level['counted_tokens_requests']} requests had no usage: tokens counted one per chunk")
    if level.get("client_cpu_percent_of_machine") is not None:
        lines.append(f"client CPU {level['client_cpu_s']:.2f} s ({level['client_cpu_percent_of_machine']:.1f}% of the machine)")
    if level.get("mode") == "rate":
        from llmbench.throughput.ratereport import rate_lines

        lines += rate_lines(level)
    if level.get("workload"):
        from llmbench.throughput.workload import lengths_line

        if (line := lengths_line(level)) is not None:
            lines.append(line)
    if (line := servermetrics.level_line(level)) is not None:
        lines.append(line)
    if level.get("slo"):
        from llmbench.throughput.slo import level_line

        lines.append(level_line(level))
    if truth and truth.get("window_tok_s"):
        diff = 100.0 * (level["aggregate_tok_s"] / truth["window_tok_s"] - 1.0)
        lines.append(f"built-in engine's own count over the window: {truth['window_tok_s']:.1f} tok/s ({diff:+.2f}%)")
    return lines


def scaling_markdown(sweep: dict) -> str:
    name = sweep["model"].get("name") or sweep["model"].get("alias") or "model"
    levels = sweep["levels"]
    peak_c = sweep.get("peak_concurrency")
    out = [f"# Throughput scaling: {name}", ""]
    out.append(f"* API: `{sweep['api_url']}`; {sloreport.output_desc(sweep)} per request; "
               f"started {sweep['started_at']}")
    if sweep.get("single_tok_s") is not None:
        out.append(f"* Single t/s (C=1): **{sweep['single_tok_s']:.0f}**")
    if sweep.get("peak_tok_s") is not None:
        out.append(f"* Peak t/s: **{sweep['peak_tok_s']:.0f} @ C={peak_c}**")
    out += sloreport.headline_line(sweep) + sloreport.workload_line(sweep)
    sat = sweep.get("saturation_concurrency")
    out.append("* Saturation (first level where doubling adds under 5% or the next level is slower): "
               + (f"C={sat}" if sat is not None else "not reached"))
    out += ["", "### Throughput Scaling (tokens/second)", "",
            f"| Concurrency | {name} |", "|:-----------:|:--------:|"]
    for lv in levels:
        value = f"{lv['aggregate_tok_s']:.0f}" if lv["requests"] else "-"
        if lv["concurrency"] == peak_c:
            out.append(f"| **{lv['concurrency']}** | **{value}** |")
        else:
            out.append(f"| {lv['concurrency']} | {value} |")
    out += ["", "### Latency (milliseconds)", "",
            "| C | per-stream t/s | TTFT p50 | TTFT p90 | TTFT p99 | ITL p50 | ITL p90 | ITL p99 | TPOT p50 | E2E p50 | requests | errors |",
            "|:-:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for lv in levels:
        per = lv.get("per_request_tok_s_mean")
        out.append("| " + " | ".join([
            str(lv["concurrency"]), "-" if per is None else f"{per:.1f}",
            _ms(lv["ttft_s"], "p50"), _ms(lv["ttft_s"], "p90"), _ms(lv["ttft_s"], "p99"),
            _ms(lv["itl_s"], "p50"), _ms(lv["itl_s"], "p90"), _ms(lv["itl_s"], "p99"),
            _ms(lv["tpot_s"], "p50"), _ms(lv["e2e_s"], "p50"), str(lv["requests"]), str(lv["errors"]),
        ]) + " |")
    out += sloreport.table(sweep) + repeat.table(sweep) + servermetrics.table(sweep)
    errors = [lv for lv in levels if lv["errors"]]
    if errors:
        out += ["", "### Errors", ""]
        for lv in errors:
            out.append(f"* C={lv['concurrency']}: {lv['errors']} {lv.get('error_kinds', {})} "
                       + "; ".join(f"`{e}`" for e in lv.get("error_examples", [])[:2]))
    return "\n".join(out) + "\n"


def scaling_png(sweep: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [lv for lv in sweep["levels"] if lv["requests"]]
    cs = [lv["concurrency"] for lv in levels]
    if servermetrics.has_series(levels):
        fig, (ax, panel) = plt.subplots(2, 1, figsize=(7, 6), dpi=110, sharex=True, height_ratios=[3, 1.3])
    else:
        fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
        panel = None
    ax.plot(cs, [lv["aggregate_tok_s"] for lv in levels], "o-", color="tab:blue", label="aggregate tok/s")
    sloreport.mark_plot(ax, sweep, cs, levels)
    repeat.error_bars(ax, cs, levels)
    if panel is not None:
        servermetrics.plot(ax, panel, cs, levels)
    ax.set_xscale("log", base=2)
    ax.set_xticks(cs or [1])
    ax.set_xticklabels([str(c) for c in cs] or ["1"])
    ax.set_xlabel("concurrency (streams)")
    ax.set_ylabel("aggregate output tok/s", color="tab:blue")
    ax.grid(True, alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(cs, [lv.get("per_request_tok_s_mean") or 0 for lv in levels], "s--", color="tab:orange",
             label="per-stream tok/s")
    ax2.set_ylabel("per-stream tok/s", color="tab:orange")
    name = sweep["model"].get("name") or sweep["model"].get("alias") or "model"
    ax.set_title(f"Throughput scaling: {name}")
    handles, labels = ax.get_legend_handles_labels()
    handles2, labels2 = ax2.get_legend_handles_labels()
    ax.legend(handles + handles2, labels + labels2, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
