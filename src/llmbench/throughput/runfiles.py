"""A throughput run's files: ``throughput.json``, ``records.jsonl``, ``benchmark.json``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from llmbench.redact import redact
from llmbench.throughput import benchjson
from llmbench.throughput.client import RequestRecord


def write_json(path: Path, obj) -> None:
    """Atomic: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(redact(json.dumps(obj, indent=2, default=str)) + "\n")
    os.replace(tmp, path)


def write_level(out_dir: Path, level: dict, client_results: list[dict], meta: dict) -> dict[str, Path]:
    """Write one level's run files under ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = [RequestRecord.from_dict(d) for res in client_results for d in res["records"]]
    paths = {"summary": out_dir / "throughput.json", "records": out_dir / "records.jsonl",
             "benchmark": out_dir / "benchmark.json"}
    write_json(paths["summary"], {"kind": "throughput", **meta, "level": level,
                                  "clients": [{k: v for k, v in res.items() if k != "records"} for res in client_results]})
    tmp = paths["records"].with_name(".records.jsonl.tmp")
    with open(tmp, "w") as fh:
        for r in records:
            fh.write(redact(json.dumps(r.as_dict(), separators=(",", ":"))) + "\n")
    os.replace(tmp, paths["records"])
    model = meta.get("model") or {}
    write_json(paths["benchmark"], benchjson.build(level, records, model.get("name") or model.get("alias") or "model"))
    return paths


def read_records(path: Path) -> list[RequestRecord]:
    with open(path) as fh:
        return [RequestRecord.from_dict(json.loads(line)) for line in fh if line.strip()]
