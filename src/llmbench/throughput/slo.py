"""Service-level objectives: which requests were good, goodput, and the highest load that meets them.

``--slo ttft=500ms,itl=50ms,e2e=10s,tpot=40ms,attainment=90%`` sets per-request
limits; a request is *good* when it succeeded and meets every limit given:

* ``ttft``  its time to first token;
* ``tpot``  its mean time per output token after the first;
* ``itl``   its 90th-percentile inter-token latency (a few stalls are tolerated,
            a slow stream is not);
* ``e2e``   its whole duration.

A level meets the SLO when at least ``attainment`` (default 90%) of its
measured requests are good (failed requests count as not good). Goodput is the
good requests (and their output tokens) per second of the level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmbench.throughput import metrics
from llmbench.throughput.client import RequestRecord

LIMITS = ("ttft", "tpot", "itl", "e2e")
DEFAULT_ATTAINMENT = 0.9
ITL_PERCENTILE = 90
_UNITS = {"ms": 1e-3, "s": 1.0, "us": 1e-6, "µs": 1e-6, "": 1.0}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s|us|µs)?\s*$")


class SloError(ValueError):
    pass


@dataclass(frozen=True)
class Slo:
    limits: dict[str, float] = field(default_factory=dict)   # seconds
    attainment: float = DEFAULT_ATTAINMENT

    def describe(self) -> str:
        parts = [f"{k} ≤ {_fmt(v)}" for k, v in self.limits.items()]
        return ", ".join(parts) + f"; {100 * self.attainment:g}% of requests"

    def as_dict(self) -> dict:
        return {"limits_s": dict(self.limits), "attainment": self.attainment, "text": self.describe()}


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:g} ms" if seconds < 1 else f"{seconds:g} s"


def parse(text: str) -> Slo:
    """``"ttft=500ms,itl=50ms"`` -> Slo; a bare number is seconds; raises SloError with a one-line reason."""
    limits: dict[str, float] = {}
    attainment = DEFAULT_ATTAINMENT
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep:
            raise SloError(f"expected NAME=VALUE, got {part!r}")
        if key == "attainment":
            percent = value.strip().endswith("%")
            try:
                attainment = float(value.strip().rstrip("%")) / (100.0 if percent else 1.0)
            except ValueError:
                raise SloError(f"attainment wants a share like 90% or 0.9, got {value!r}") from None
            if not 0 < attainment <= 1:
                raise SloError(f"attainment must be above 0 and at most 100%, got {value!r}")
            continue
        if key not in LIMITS:
            raise SloError(f"unknown limit {key!r}; use {', '.join(LIMITS)} or attainment")
        m = _DURATION.match(value)
        if not m:
            raise SloError(f"{key} wants a duration like 500ms or 2s, got {value!r}")
        limits[key] = float(m.group(1)) * _UNITS[m.group(2) or ""]
    if not limits:
        raise SloError("give at least one limit, e.g. ttft=500ms")
    return Slo(limits, attainment)


def violations(record: RequestRecord, slo: Slo) -> list[str]:
    """The limits this request broke (``error`` when it failed); empty when it is good."""
    if not record.ok:
        return ["error"]
    broken = []
    for key, limit in slo.limits.items():
        if key == "ttft":
            value = metrics.ttft_s(record)
        elif key == "tpot":
            value = metrics.tpot_s(record)
        elif key == "e2e":
            value = metrics.e2e_s(record)
        else:
            gaps = sorted(metrics.itl_s(record))
            value = metrics.percentile(gaps, ITL_PERCENTILE) if gaps else None
        if key == "ttft" and value is None:
            broken.append(key)      # no token at all never meets a TTFT limit
        elif value is not None and value > limit:
            broken.append(key)
    return broken


def evaluate(records: list[RequestRecord], slo: Slo, duration_s: float) -> dict:
    """One level's SLO figures over its measured requests."""
    measured = [r for r in records if not r.warmup]
    good = []
    broken: dict[str, int] = {}
    for r in measured:
        v = violations(r, slo)
        if v:
            for key in v:
                broken[key] = broken.get(key, 0) + 1
        else:
            good.append(r)
    share = len(good) / len(measured) if measured else 0.0
    return {
        "text": slo.describe(), "target": slo.attainment, "good": len(good), "measured": len(measured),
        "attainment": share,
        "met": bool(measured) and share >= slo.attainment,
        "goodput_req_s": len(good) / duration_s if duration_s else 0.0,
        "goodput_tok_s": sum(r.output_tokens for r in good) / duration_s if duration_s else 0.0,
        "violations": broken,
    }


def best_level(levels: list[dict], key: str) -> dict:
    """The highest ``key`` (concurrency or rate) whose level met the SLO, with its goodput."""
    met = [lv for lv in levels if (lv.get("slo") or {}).get("met") and lv.get(key) is not None]
    best = max(met, key=lambda lv: lv[key], default=None)
    return {f"slo_max_{key}": best[key] if best else None,
            "slo_goodput_tok_s": best["slo"]["goodput_tok_s"] if best else None,
            "slo_goodput_req_s": best["slo"]["goodput_req_s"] if best else None}


def apply(level: dict, client_results: list[dict], slo: Slo | None) -> dict:
    """Add ``level["slo"]`` from the clients' records (nothing without an SLO)."""
    if slo is not None:
        records = [RequestRecord.from_dict(d) for res in client_results for d in res.get("records") or ()]
        level["slo"] = evaluate(records, slo, level.get("duration_s") or 0.0)
    return level


def level_line(level: dict) -> str:
    s = level["slo"]
    verdict = "met" if s["met"] else "NOT met"
    why = ", ".join(f"{k} {n}" for k, n in sorted(s["violations"].items()))
    return (f"SLO ({s['text']}): {verdict}, {100 * s['attainment']:.0f}% good ({s['good']}/{s['measured']})"
            + (f", missed: {why}" if why else "")
            + f"; goodput {s['goodput_req_s']:.2f} req/s, {s['goodput_tok_s']:.1f} tok/s")
