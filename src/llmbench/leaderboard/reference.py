"""The seed's published results, shipped as data files under ``reference/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from llmbench.leaderboard.model import Quality, Row, RunInfo, Setup, TestScore, Throughput
from llmbench.leaderboard.runs import parse_context

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
SEED_REFERENCE = REFERENCE_DIR / "seed-8xa4000.yaml"


@dataclass
class Reference:
    path: Path
    provenance: dict
    gpu: str
    rows: list[Row]
    categories: list[dict] = field(default_factory=list)    # the seed's editorial picks
    historical: list[dict] = field(default_factory=list)    # single-GPU tables


def load_reference(path: Path = SEED_REFERENCE) -> Reference:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    tests = data["tests"]
    gpu = data["gpu"]
    info = RunInfo(kind="published", path=str(path), run_id=data["provenance"]["title"],
                   started_at=data["provenance"].get("dates"), status="complete")
    rows = [_row(entry, tests, gpu, info) for entry in data["rows"]]
    return Reference(path=path, provenance=data["provenance"], gpu=gpu, rows=rows,
                     categories=data.get("categories") or [], historical=data.get("historical") or [])


def _row(entry: dict, tests: list[dict], gpu: str, info: RunInfo) -> Row:
    detailed = entry.get("detailed") or {}
    quality = Quality(
        score=float(entry["score"]), max=int(entry["max"]), percent=float(entry["percent"]),
        tests={t["id"]: TestScore(label=t["label"], score=float(detailed[t["id"]]), max=int(t["max"]))
               for t in tests if t["id"] in detailed},
    )
    scaling = {int(c): float(v) for c, v in (entry.get("scaling") or {}).items()}
    throughput = Throughput(single_tok_s=float(entry["single_tok_s"]), peak_tok_s=float(entry["peak_tok_s"]),
                            peak_concurrency=int(entry["peak_concurrency"]), levels=scaling)
    return Row(
        setup=Setup(model=entry["model"], quant=entry.get("quant"), tp=entry.get("tp"),
                    framework=entry.get("framework"), gpu=gpu),
        alias=entry.get("alias"),
        context=parse_context(entry.get("context")),
        published=True,
        published_rank=int(entry["rank"]),
        short_label=entry.get("scaling_label"),
        detailed_label=entry.get("detailed_label"),
        params_b=entry.get("params_b"),
        quality=quality,
        throughput=throughput,
        sources=[info],
    )


def params_by_model(reference: Reference) -> dict[str, float]:
    """Parameter counts the seed states, by lower-cased model name (for a user's rows)."""
    return {r.name.casefold(): float(r.params_b) for r in reference.rows if r.params_b is not None}
