"""Human-readable figures of open-loop (rate) levels and sweeps: terminal lines, markdown, plot."""

from __future__ import annotations

from pathlib import Path

from llmbench.throughput import repeat, servermetrics, sloreport


def _ms(value) -> str:
    return "-" if value is None else f"{value * 1000:.1f}"


def _num(value, fmt: str = ".2f") -> str:
    return "-" if value is None else format(value, fmt)


def rate_lines(level: dict) -> list[str]:
    """The open-loop lines under a level's usual ones."""
    lag = level.get("send_lag_s") or {}
    growth = level.get("ttft_growth") or {}
    lines = [f"offered {level['rate']:g} req/s ({level.get('arrival', 'constant')}), sent at "
             f"{_num(level.get('achieved_rate'))} req/s; in flight max {level.get('in_flight_max')}, "
             f"mean {_num(level.get('in_flight_mean'), '.1f')}",
             f"send lag behind schedule  p50 {_ms(lag.get('p50'))} ms  p99 {_ms(lag.get('p99'))} ms  "
             f"max {_ms(lag.get('max'))} ms"]
    if growth.get("first_quarter_p50_s") is not None:
        lines.append(f"TTFT p50 first quarter {_ms(growth['first_quarter_p50_s'])} ms, last quarter "
                     f"{_ms(growth['last_quarter_p50_s'])} ms"
                     + (": a queue is building (the server is not keeping up)" if growth["queue_building"] else ""))
    return lines


def rate_markdown(sweep: dict) -> str:
    name = sweep["model"].get("name") or sweep["model"].get("alias") or "model"
    levels = sweep["levels"]
    out = [f"# Throughput by request rate: {name}", ""]
    out.append(f"* API: `{sweep['api_url']}`; {sloreport.output_desc(sweep)} per request; "
               f"{sweep.get('arrival', 'constant')} arrivals; started {sweep['started_at']}")
    if sweep.get("peak_tok_s") is not None:
        out.append(f"* Peak t/s: **{sweep['peak_tok_s']:.0f} @ {sweep['peak_rate']:g} req/s**")
    out += sloreport.headline_line(sweep) + sloreport.workload_line(sweep)
    if sweep.get("latency_break_rate") is not None:
        out.append(f"* Latency breaks at **{sweep['latency_break_rate']:g} req/s** ({sweep['break_reason']}); "
                   f"highest rate before it: {_num(sweep.get('max_rate_before_break'), 'g')} req/s")
    else:
        out.append("* Latency did not break up to the highest rate tried")
    out += ["", "### Load and throughput", "",
            "| Rate (req/s) | sent req/s | done req/s | tok/s | in flight mean | in flight max | send lag p99 ms | requests | errors |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for lv in levels:
        lag = (lv.get("send_lag_s") or {}).get("p99")
        out.append("| " + " | ".join([
            f"{lv['rate']:g}", _num(lv.get("achieved_rate")), _num(lv.get("requests_per_s")),
            f"{lv['aggregate_tok_s']:.0f}" if lv["requests"] else "-", _num(lv.get("in_flight_mean"), ".1f"),
            str(lv.get("in_flight_max", "-")), _ms(lag), str(lv["requests"]), str(lv["errors"])]) + " |")
    out += ["", "### Latency (milliseconds)", "",
            "| Rate | TTFT p50 | TTFT p90 | TTFT p99 | TTFT p50 first → last quarter | ITL p50 | ITL p99 | TPOT p50 | E2E p50 |",
            "|---:|---:|---:|---:|:--:|---:|---:|---:|---:|"]
    for lv in levels:
        g = lv.get("ttft_growth") or {}
        trend = (f"{_ms(g.get('first_quarter_p50_s'))} → {_ms(g.get('last_quarter_p50_s'))}"
                 + (" (queueing)" if g.get("queue_building") else ""))
        out.append("| " + " | ".join([
            f"{lv['rate']:g}", _ms(lv["ttft_s"]["p50"]), _ms(lv["ttft_s"]["p90"]), _ms(lv["ttft_s"]["p99"]), trend,
            _ms(lv["itl_s"]["p50"]), _ms(lv["itl_s"]["p99"]), _ms(lv["tpot_s"]["p50"]), _ms(lv["e2e_s"]["p50"])]) + " |")
    out += sloreport.table(sweep) + repeat.table(sweep) + servermetrics.table(sweep)
    errors = [lv for lv in levels if lv["errors"]]
    if errors:
        out += ["", "### Errors", ""]
        for lv in errors:
            out.append(f"* {lv['rate']:g} req/s: {lv['errors']} {lv.get('error_kinds', {})} "
                       + "; ".join(f"`{e}`" for e in lv.get("error_examples", [])[:2]))
    return "\n".join(out) + "\n"


def rate_png(sweep: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [lv for lv in sweep["levels"] if lv["requests"]]
    rates = [lv["rate"] for lv in levels]
    if servermetrics.has_series(levels):
        fig, (ax, panel) = plt.subplots(2, 1, figsize=(7, 6), dpi=110, sharex=True, height_ratios=[3, 1.3])
    else:
        fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
        panel = None
    ax.plot(rates, [lv["aggregate_tok_s"] for lv in levels], "o-", color="tab:blue", label="output tok/s")
    sloreport.mark_plot(ax, sweep, rates, levels)
    repeat.error_bars(ax, rates, levels)
    if panel is not None:
        servermetrics.plot(ax, panel, rates, levels)
    ax.set_xlabel("offered load (requests/s)")
    ax.set_ylabel("output tok/s", color="tab:blue")
    ax.grid(True, alpha=0.3)
    ax2 = ax.twinx()
    for key, style, label in (("p50", "s--", "TTFT p50"), ("p99", "^:", "TTFT p99")):
        ax2.plot(rates, [(lv["ttft_s"][key] or 0) * 1000 for lv in levels], style, color="tab:red", label=label)
    ax2.set_ylabel("TTFT (ms)", color="tab:red")
    if sweep.get("latency_break_rate") is not None:
        ax.axvline(sweep["latency_break_rate"], color="gray", linestyle="--", alpha=0.7,
                   label=f"latency breaks ({sweep['latency_break_rate']:g} req/s)")
    name = sweep["model"].get("name") or sweep["model"].get("alias") or "model"
    ax.set_title(f"Throughput by request rate: {name}")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
