"""Find and read run files (results.json, sweep.json), tolerating older or partial ones.

Run files come from other tools and other versions; a field that is missing or of the
wrong type becomes ``None`` rather than an error. A file that is not JSON, or not a run,
is skipped with a one-line warning.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from llmbench.leaderboard.model import Quality, RunInfo, Setup, TestScore, Throughput
from llmbench.leaderboard.stats import mean_interval

RUN_FILES = ("results.json", "sweep.json")

# The seed's short column labels for its five tests, in its order.
SEED_TESTS = {"zmq": "ZMQ", "pplns": "PPLNS", "payment": "Payment", "stratum": "Stratum", "hiveos": "HiveOS"}


@dataclass
class LoadedRun:
    """One run file, reduced to what a leaderboard row needs."""

    info: RunInfo
    setup: Setup
    alias: str | None
    context: int | None
    reasoning: str | None
    quality: Quality | None = None
    throughput: Throughput | None = None


def find_run_files(roots: list[Path], exclude: Path | None = None) -> list[Path]:
    """Every results.json / sweep.json under the roots (files may be given directly)."""
    found: set[Path] = set()
    skip = exclude.resolve() if exclude else None
    for root in roots:
        if root.is_file():
            found.add(root.resolve())
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath).resolve()
            if skip is not None and (here == skip or skip in here.parents):
                dirnames[:] = []
                continue
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            found.update(here / f for f in filenames if f in RUN_FILES)
    return sorted(found)


def load_registry(path: Path | None) -> dict[str, dict]:
    """alias -> registry entry from models.yaml; empty when it cannot be read."""
    if path is None or not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    models = data.get("models") if isinstance(data, dict) else None
    return {str(k): v for k, v in models.items() if isinstance(v, dict)} if isinstance(models, dict) else {}


def load_run(path: Path, registry: dict[str, dict]) -> LoadedRun:
    """Read one run file; raises ValueError with a short reason when it is not usable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ValueError("not a run file (top level is not an object)")
    kind = data.get("kind") or ("sweep" if path.name == "sweep.json" else "quality")
    if kind == "quality":
        return _load_quality(path, data, registry)
    if kind == "sweep":
        return _load_sweep(path, data, registry)
    raise ValueError(f"unknown run kind {kind!r}")


# --- shared fields ---------------------------------------------------------------

def _text(value: object) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = " ".join(str(value).split())
    return text or None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def parse_context(value: object) -> int | None:
    """Tokens from 32768, "32768" or "32K" (K = 1000, as the seed writes 131K for 131072)."""
    if isinstance(value, str) and value.strip().upper().endswith("K"):
        number = _num(value.strip()[:-1])
        return int(number * 1000) if number is not None else None
    return _int(value)


def _model_and_setup(data: dict, registry: dict[str, dict]) -> tuple[Setup, str | None, int | None, str | None]:
    model = data.get("model")
    if isinstance(model, dict):
        alias = _text(model.get("alias"))
        name = _text(model.get("name"))
        reasoning = _text(model.get("reasoning"))
    else:  # older sweep files: the alias as a plain string
        alias, name, reasoning = _text(model), None, None
    entry = registry.get(alias or "", {})
    name = name or _text(entry.get("name")) or alias or "unknown model"
    reasoning = reasoning or _text(entry.get("reasoning"))
    serving = data.get("serving")
    if not isinstance(serving, dict):
        serving = {}
    setup = Setup(
        model=name,
        quant=_text(serving.get("quant")),
        tp=_int(serving.get("tp")),
        framework=_text(serving.get("framework")),
        gpu=_text(serving.get("gpu")),
    )
    return setup, alias, parse_context(serving.get("context")), reasoning


def _info(path: Path, data: dict, kind: str) -> RunInfo:
    return RunInfo(
        kind=kind,
        path=str(path),
        run_id=_text(data.get("run_id")) or path.parent.name,
        started_at=_text(data.get("started_at")),
        status=_text(data.get("status")),
        demo=data.get("demo") is True,
    )


# --- quality runs ----------------------------------------------------------------

def _check_passes(check: dict) -> list[bool] | None:
    per_sample = check.get("per_sample")
    if isinstance(per_sample, list) and per_sample:
        return [isinstance(s, dict) and s.get("passed") is True for s in per_sample]
    if "passed" in check:
        return [check.get("passed") is True]
    return None


def _load_quality(path: Path, data: dict, registry: dict[str, dict]) -> LoadedRun:
    setup, alias, context, reasoning = _model_and_setup(data, registry)
    tests_data = data.get("tests")
    if not isinstance(tests_data, dict):
        tests_data = {}
    tests: dict[str, TestScore] = {}
    sample_totals: list[float] | None = []
    for test_id, test in tests_data.items():
        if not isinstance(test, dict):
            continue
        checks = [c for c in (test.get("checks") or {}).values() if isinstance(c, dict)] \
            if isinstance(test.get("checks"), dict) else []
        max_points = _int(test.get("max")) or len(checks)
        passes = [p for p in (_check_passes(c) for c in checks) if p is not None]
        n = min((len(p) for p in passes), default=0)
        per_sample = [float(sum(p[i] for p in passes)) for i in range(n)]
        if per_sample and len(passes) == len(checks):
            score, low, high = mean_interval(per_sample, 0, max_points)
        else:
            score, low, high = _num(test.get("score")) or 0.0, None, None
        label = SEED_TESTS.get(test_id) or _text(test.get("title")) or str(test_id)
        tests[str(test_id)] = TestScore(label=label, score=score, max=max_points, low=low, high=high)
        if sample_totals is not None and per_sample and len(passes) == len(checks):
            if not sample_totals:
                sample_totals = [0.0] * len(per_sample)
            if len(per_sample) != len(sample_totals):
                sample_totals = None
            else:
                sample_totals = [a + b for a, b in zip(sample_totals, per_sample, strict=True)]
        else:
            sample_totals = None
    quality = _quality_totals(data.get("totals"), tests, sample_totals or None)
    if quality is None:
        raise ValueError("quality run without results yet")
    from llmbench.verify.scoring import fixes_verified

    quality.fixes_verified = fixes_verified(data)
    return LoadedRun(_info(path, data, "quality"), setup, alias, context, reasoning, quality=quality)


def _quality_totals(totals: object, tests: dict[str, TestScore], sample_totals: list[float] | None) -> Quality | None:
    totals = totals if isinstance(totals, dict) else {}
    max_points = _int(totals.get("max")) or sum(t.max for t in tests.values())
    if not max_points:
        return None
    low: float | None = None
    high: float | None = None
    score: float | None
    if sample_totals:
        score, low, high = mean_interval(sample_totals, 0, max_points)
    else:
        score = _num(totals.get("score"))
        if score is None:
            score = sum(t.score for t in tests.values())
    return Quality(score=score, max=max_points, percent=100.0 * score / max_points,
                   n_samples=len(sample_totals) if sample_totals else 1, low=low, high=high, tests=tests)


# --- throughput sweeps -----------------------------------------------------------

def _load_sweep(path: Path, data: dict, registry: dict[str, dict]) -> LoadedRun:
    setup, alias, context, reasoning = _model_and_setup(data, registry)
    levels: dict[int, float] = {}
    single_from_levels = None
    for level in data.get("levels") or []:
        if not isinstance(level, dict):
            continue
        concurrency, tok_s = _int(level.get("concurrency")), _num(level.get("aggregate_tok_s"))
        if concurrency is None or tok_s is None or concurrency < 1:
            continue
        levels[concurrency] = tok_s
        if concurrency == 1:
            single_from_levels = _num(level.get("per_request_tok_s_mean")) or tok_s
    single = _num(data.get("single_tok_s"))
    peak = _num(data.get("peak_tok_s"))
    peak_c = _int(data.get("peak_concurrency"))
    if peak is None and levels:
        peak_c, peak = max(levels.items(), key=lambda kv: kv[1])
    if single is None:
        single = single_from_levels
    if peak is None and single is None:
        raise ValueError("sweep without any measured level")
    throughput = Throughput(single_tok_s=single, peak_tok_s=peak, peak_concurrency=peak_c,
                            levels=dict(sorted(levels.items())), **_slo_headline(data))
    return LoadedRun(_info(path, data, "sweep"), setup, alias, context, reasoning, throughput=throughput)


def _slo_headline(data: dict) -> dict:
    """The sweep's SLO headline (sweeps without an SLO have none)."""
    slo = data.get("slo")
    if not isinstance(slo, dict) or not isinstance(slo.get("text"), str):
        return {}
    c, rate = _int(data.get("slo_max_concurrency")), _num(data.get("slo_max_rate"))
    best = f"C={c}" if c is not None else (f"{rate:g} req/s" if rate is not None else None)
    return {"slo": slo["text"], "slo_max": best, "slo_goodput_tok_s": _num(data.get("slo_goodput_tok_s"))}
