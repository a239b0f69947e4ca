"""Factories for run files shaped as docs/results-schema.md says (results.json, sweep.json).

The leaderboard is tested against files written here, not against the producers' code,
so these follow the schema document field by field.
"""

from __future__ import annotations

import json
from pathlib import Path

SEED_MAX = {"zmq": 2, "pplns": 3, "payment": 4, "stratum": 5, "hiveos": 8}
TITLES = {"zmq": "ZMQ Listener", "pplns": "PPLNS Mining Pool", "payment": "Payment System",
          "stratum": "Stratum Protocol", "hiveos": "HiveOS Wrapper"}
GPU = "8x NVIDIA RTX A4000 (16376 MiB)"


def full_marks() -> dict[str, list[int]]:
    return {t: [m] for t, m in SEED_MAX.items()}


def write_quality_run(root: Path, run_id: str, *, alias: str = "qwen3-coder", name: str = "Qwen3-Coder-30B-A3B",
                      quant: str | None = "AWQ", tp: int | None = 4, framework: str | None = "vllm",
                      context: int | None = 32768, gpu: str | None = GPU,
                      started_at: str = "2026-11-20T10:00:00+00:00", status: str = "complete",
                      demo: bool = False, passes: dict[str, list[int]] | None = None,
                      test_titles: dict[str, str] | None = None, answer: str = "The bug is in line 3.") -> Path:
    """passes: test id -> checks passed in each sample (one int per sample)."""
    passes = passes if passes is not None else full_marks()
    n_samples = max((len(v) for v in passes.values()), default=1)
    tests = {}
    for test_id, per_sample in passes.items():
        max_points = SEED_MAX.get(test_id, 3)
        checks = {}
        for c in range(max_points):
            verdicts = [{"passed": c < got, "evidence": f"sample {i}"} for i, got in enumerate(per_sample)]
            n_pass = sum(v["passed"] for v in verdicts)
            checks[f"{test_id}.check{c}"] = {
                "passed": verdicts[0]["passed"], "evidence": verdicts[0]["evidence"],
                "passes": n_pass, "n": len(verdicts), "rate": n_pass / len(verdicts),
                "ci95": [0.0, 1.0], "per_sample": verdicts,
            }
        tests[test_id] = {
            "title": (test_titles or {}).get(test_id, TITLES.get(test_id, test_id)),
            "difficulty": "hard", "max": max_points,
            "score": sum(per_sample) / len(per_sample),
            "samples": [{"index": i, "prompt_sha256": "0" * 64, "answer": answer, "reasoning": "",
                         "raw_content": answer, "usage": {"prompt_tokens": 100, "completion_tokens": 50},
                         "ttft_s": 0.2, "duration_s": 3.0, "finish_reason": "stop", "error": None}
                        for i in range(len(per_sample))],
            "checks": checks,
        }
    score = sum(t["score"] for t in tests.values())
    max_total = sum(t["max"] for t in tests.values())
    data = {
        "schema": "llmbench.results/1", "kind": "quality", "run_id": run_id, "status": status,
        "started_at": started_at, "finished_at": None if status != "complete" else started_at,
        "demo": demo, "replay": None,
        "model": {"alias": alias, "name": name, "served_name": f"org/{name}", "api_url": "http://localhost:8000/v1",
                  "reasoning": "none"},
        "sampling": {"temperature": 0.0, "max_tokens": 8192, "samples": n_samples, "extra_body": {}},
        "serving": {"framework": framework, "tp": tp, "quant": quant, "context": context, "gpu": gpu},
        "tests": tests,
        "totals": {"score": score, "max": max_total, "percent": round(100 * score / max_total, 1) if max_total else 0},
    }
    return _write(root / run_id / "results.json", data)


def write_sweep(root: Path, run_id: str, *, alias: str = "qwen3-coder", name: str | None = "Qwen3-Coder-30B-A3B",
                levels: dict[int, float] | None = None, quant: str | None = "AWQ", tp: int | None = 4,
                framework: str | None = "vllm", context: int | None = 32768, gpu: str | None = GPU,
                started_at: str = "2026-11-20T11:00:00+00:00", model_as_alias_string: bool = False,
                with_serving: bool = True, with_summary: bool = True) -> Path:
    """A sweep.json; ``model_as_alias_string`` / ``with_serving=False`` mimic older files."""
    levels = levels if levels is not None else {1: 180.0, 2: 330.0, 4: 460.0, 8: 590.0, 16: 840.0, 32: 1025.0}
    level_list = [{
        "concurrency": c, "requests": c * 4, "output_tokens": int(tok_s * 10), "duration_s": 10.0,
        "aggregate_tok_s": tok_s, "per_request_tok_s_mean": tok_s / c,
        "ttft_s": {"p50": 0.1, "p90": 0.2, "p99": 0.3}, "tpot_s": {"p50": 0.01, "p90": 0.02, "p99": 0.03},
        "itl_s": {"p50": 0.01, "p90": 0.02, "p99": 0.03}, "e2e_s": {"p50": 2.0, "p90": 3.0, "p99": 4.0},
        "errors": 0,
    } for c, tok_s in sorted(levels.items())]
    data: dict = {"kind": "sweep", "run_id": run_id, "started_at": started_at, "api_url": "http://localhost:8000/v1",
                  "levels": level_list}
    if model_as_alias_string:
        data["model"] = alias
    else:
        data["model"] = {"alias": alias, "name": name, "served_name": f"org/{name}",
                         "api_url": "http://localhost:8000/v1", "reasoning": "none"}
    if with_serving:
        data["serving"] = {"framework": framework, "tp": tp, "quant": quant, "context": context, "gpu": gpu}
    if with_summary and levels:
        peak_c = max(levels, key=levels.get)
        data.update(single_tok_s=levels.get(1), peak_tok_s=levels[peak_c], peak_concurrency=peak_c)
    return _write(root / run_id / "sweep.json", data)


def _write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path
