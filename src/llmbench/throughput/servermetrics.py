"""The server's own Prometheus ``/metrics`` during a level: its state beside the client's figures.

vLLM, SGLang and llama-server (``--metrics``) each expose requests running and
waiting, KV-cache usage and token counters under their own names; a sampler
thread reads them every ``interval_s`` with ``prometheus_client``'s text parser
and keeps one series per quantity. The generation-token counter is a second
truth for the aggregate figure: its rise over a span of samples, against the
tokens the client received over the same span.

llama-server adds a request's tokens to its counter when the request ends, so
its counter climbs in steps; the comparison is exact only over spans long
against one request.
"""

from __future__ import annotations

import bisect
import threading
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from llmbench.throughput.aggregate import tokens_in
from llmbench.throughput.client import RequestRecord

# quantity -> sample names that carry it (vLLM, SGLang, llama.cpp)
NAMES = {
    "running": ("vllm:num_requests_running", "sglang:num_running_reqs", "llamacpp:requests_processing"),
    "waiting": ("vllm:num_requests_waiting", "sglang:num_queue_reqs", "llamacpp:requests_deferred"),
    "kv_cache_usage": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage",
                       "llamacpp:kv_cache_usage_ratio"),
    "preemptions_total": ("vllm:num_preemptions_total",),
    "generation_tokens_total": ("vllm:generation_tokens_total", "sglang:generation_tokens_total",
                                "llamacpp:tokens_predicted_total"),
    "prompt_tokens_total": ("vllm:prompt_tokens_total", "sglang:prompt_tokens_total", "llamacpp:prompt_tokens_total"),
}
COUNTERS = ("preemptions_total", "generation_tokens_total", "prompt_tokens_total")
_BY_NAME = {name: quantity for quantity, names in NAMES.items() for name in names}
MIN_SPAN_S = 0.5


def metrics_url(api_url: str) -> str:
    """``http://host:8000/v1`` -> ``http://host:8000/metrics``."""
    return api_url.rstrip("/").removesuffix("/v1") + "/metrics"


def parse(text: str) -> dict[str, float]:
    """The known quantities in a Prometheus text page (samples with several labels are added up)."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            quantity = _BY_NAME.get(sample.name)
            if quantity is not None:
                out[quantity] = out.get(quantity, 0.0) + float(sample.value)
    return out


def fetch(url: str, timeout: float = 5.0) -> dict[str, float]:
    """One reading; raises OSError or ValueError when there is no usable page."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        text = resp.read().decode("utf-8", "replace")
    values = parse(text)
    if not values:
        raise ValueError("no vLLM, SGLang or llama.cpp metrics on the page")
    return values


def probe(url: str) -> str | None:
    """None when ``url`` serves usable metrics, else a one-line reason."""
    try:
        fetch(url)
    except urllib.error.HTTPError as exc:
        return f"{url}: HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{url}: {getattr(exc, 'reason', None) or exc}"
    return None


class Sampler:
    """Reads ``url`` every ``interval_s`` in a thread while the ``with`` block runs."""

    def __init__(self, url: str, interval_s: float = 0.25):
        self.url, self.interval_s = url, interval_s
        self.samples: list[tuple[int, dict[str, float]]] = []   # (monotonic ns at the reading, values)
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Sampler":
        self._read()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)
        self._read()

    def _read(self) -> None:
        try:
            values = fetch(self.url, timeout=max(1.0, 4 * self.interval_s))
        except (OSError, ValueError):
            self.errors += 1
            return
        # the page is made just before it is sent: its arrival is the closer time
        self.samples.append((time.monotonic_ns(), values))

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._read()


def summarize(samples: list[tuple[int, dict]], records: list[RequestRecord], window: dict | None,
              url: str, errors: int = 0) -> dict:
    """A level's server series, gauge peaks and means over the window, counter rises, and the second truth."""
    out: dict = {"url": url, "samples": len(samples), "failed_readings": errors}
    if not samples:
        return out
    t0 = samples[0][0]
    quantities = sorted({q for _, values in samples for q in values})
    out["series"] = {"t_s": [round((t - t0) / 1e9, 4) for t, _ in samples],
                     **{q: [values.get(q) for _, values in samples] for q in quantities}}
    steady = samples
    if window and window.get("start_ns") and window.get("end_ns"):
        inside = [(t, v) for t, v in samples if window["start_ns"] <= t <= window["end_ns"]]
        steady = inside if len(inside) >= 2 else samples
    for q in quantities:
        got = [v[q] for _, v in (samples if q in COUNTERS else steady) if q in v]
        if not got:
            continue
        if q in COUNTERS:
            out[f"{q.removesuffix('_total')}_delta"] = got[-1] - got[0]
        else:
            out[f"{q}_max"], out[f"{q}_mean"] = max(got), sum(got) / len(got)
    out["second_truth"] = second_truth(samples, records, window)
    return out


def second_truth(samples, records: list[RequestRecord], window: dict | None) -> dict | None:
    """The server's generation-token rate and the client's, over the same span of readings in the window."""
    timed = [(t, v["generation_tokens_total"]) for t, v in samples if "generation_tokens_total" in v]
    if window and window.get("start_ns") and window.get("end_ns"):
        inside = [(t, v) for t, v in timed if window["start_ns"] <= t <= window["end_ns"]]
        if len(inside) >= 2 and (inside[-1][0] - inside[0][0]) / 1e9 >= MIN_SPAN_S:
            timed = inside
    if len(timed) < 2 or timed[-1][0] <= timed[0][0]:
        return None
    (a, ga), (b, gb) = timed[0], timed[-1]
    span = (b - a) / 1e9
    measured = [r for r in records if not r.warmup]
    server, client = (gb - ga) / span, tokens_in(measured, a, b) / span
    return {"start_ns": a, "end_ns": b, "span_s": span, "server_tok_s": server, "client_tok_s": client,
            "diff_percent": 100.0 * (client / server - 1.0) if server else None}


def level_line(level: dict) -> str | None:
    m = level.get("server_metrics")
    if not m or not m.get("samples"):
        return None
    parts = []
    for q, label in (("running", "running"), ("waiting", "waiting")):
        if f"{q}_max" in m:
            parts.append(f"{label} mean {m[q + '_mean']:.1f} max {m[q + '_max']:.0f}")
    if "kv_cache_usage_max" in m:
        parts.append(f"KV cache max {100 * m['kv_cache_usage_max']:.0f}%")
    if m.get("preemptions_delta"):
        parts.append(f"{m['preemptions_delta']:.0f} preemptions")
    truth = m.get("second_truth")
    if truth and truth.get("diff_percent") is not None:
        parts.append(f"its token counter {truth['server_tok_s']:.1f} tok/s vs the client's {truth['client_tok_s']:.1f} "
                     f"over the same {truth['span_s']:.1f} s ({truth['diff_percent']:+.2f}%)")
    return "server /metrics: " + "; ".join(parts)


def table(sweep: dict) -> list[str]:
    """scaling.md's server-metrics table (only when the server exposed /metrics)."""
    levels = [lv for lv in sweep.get("levels") or () if (lv.get("server_metrics") or {}).get("samples")]
    if not levels:
        return []
    key = "rate" if sweep.get("mode") == "rate" else "concurrency"

    def num(m, k, fmt=".1f", scale=1.0):
        return "-" if m.get(k) is None else format(m[k] * scale, fmt)

    out = ["", f"### Server metrics ({sweep['server_metrics']['url']})", "",
           f"| {'Rate' if key == 'rate' else 'C'} | running mean | running max | waiting mean | waiting max | KV cache max % "
           "| preemptions | server tok/s (counter) | client tok/s (same span) | diff |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for lv in levels:
        m = lv["server_metrics"]
        t = m.get("second_truth") or {}
        out.append(f"| {lv[key]:g} | {num(m, 'running_mean')} | {num(m, 'running_max', '.0f')} | {num(m, 'waiting_mean')} | "
                   f"{num(m, 'waiting_max', '.0f')} | {num(m, 'kv_cache_usage_max', '.0f', 100)} | "
                   f"{num(m, 'preemptions_delta', '.0f')} | {num(t, 'server_tok_s')} | {num(t, 'client_tok_s')} | "
                   + ("-" if t.get("diff_percent") is None else f"{t['diff_percent']:+.2f}%") + " |")
    return out


def has_series(levels: list[dict]) -> bool:
    return any((lv.get("server_metrics") or {}).get("samples") for lv in levels)


def plot(ax, panel, xs: list, levels: list[dict]) -> None:
    """The server's token rate on the throughput axes; its running/waiting requests in a panel below."""
    truth = [((lv.get("server_metrics") or {}).get("second_truth") or {}).get("server_tok_s") for lv in levels]
    shown = [(x, v) for x, v in zip(xs, truth, strict=True) if v is not None]
    if shown:
        ax.plot([x for x, _ in shown], [v for _, v in shown], "x", color="black", markersize=8,
                label="server's token counter")
    for key, style, label in (("running", "o-", "running (mean)"), ("waiting", "s--", "waiting (mean)")):
        values = [(lv.get("server_metrics") or {}).get(f"{key}_mean") for lv in levels]
        pts = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
        if pts:
            panel.plot([x for x, _ in pts], [v for _, v in pts], style, label=label)
    panel.set_ylabel("server requests")
    panel.grid(True, alpha=0.3)
    panel.legend(loc="upper left", fontsize="small")


def between(samples: list[tuple[int, dict]], start_ns: int, end_ns: int) -> list[tuple[int, dict]]:
    """The readings of one run out of a longer series: those inside it and the one on each side."""
    times = [t for t, _ in samples]
    lo = max(bisect.bisect_left(times, start_ns) - 1, 0)
    hi = min(bisect.bisect_right(times, end_ns) + 1, len(samples))
    return samples[lo:hi]
