"""The run's results.json, kept on the controller and rewritten as results arrive."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from llmbench.runs.answer_store import Sample, atomic_write_json
from llmbench.runs.stats import wilson_interval
from llmbench.tasks import TASK_NAMES, get_task

SCHEMA = "llmbench.results/1"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunRecorder:
    """Collects samples and check verdicts; every change is written atomically."""

    def __init__(self, path: Path, header: dict) -> None:
        self.path = Path(path)
        self.data = {
            "schema": SCHEMA,
            "kind": "quality",
            **header,
            "status": "running",
            "status_reason": None,
            "started_at": now_iso(),
            "finished_at": None,
            "tests": {},
            "totals": {"score": 0.0, "max": 0, "percent": 0.0},
        }
        self.write()

    def write(self) -> None:
        atomic_write_json(self.path, self.data)

    def _test(self, task_name: str) -> dict:
        tests = self.data["tests"]
        if task_name not in tests:
            task = get_task(task_name)
            tests[task_name] = {"title": task.title, "difficulty": task.difficulty,
                                "max": 0, "checks_total": len(task.checks), "score": 0.0,
                                "samples": [], "checks": {}}
            # keep the seed's order whatever order the checks finish in
            self.data["tests"] = {k: tests[k] for k in TASK_NAMES if k in tests}
        return self.data["tests"][task_name]

    def add_samples(self, task_name: str, samples: list[Sample]) -> None:
        test = self._test(task_name)
        known = {s["index"] for s in test["samples"]}
        for sample in samples:
            if sample.index not in known:
                test["samples"].append(sample.as_dict())
        test["samples"].sort(key=lambda s: s["index"])

    def add_check(self, task_name: str, check_id: str, per_sample: list[dict], passed: bool) -> None:
        test = self._test(task_name)
        n = len(per_sample)
        passes = sum(1 for v in per_sample if v["passed"])
        low, high = wilson_interval(passes, n)
        test["checks"][check_id] = {
            "passed": passed,
            "evidence": per_sample[0]["evidence"] if per_sample else "",
            "execution": per_sample[0].get("execution") if per_sample else None,   # sample 0's fix run
            "passes": passes, "n": n,
            "rate": passes / n if n else 0.0,
            "ci95": [round(low, 4), round(high, 4)],
            "per_sample": per_sample,
        }
        order = get_task(task_name).check_ids
        test["checks"] = {c: test["checks"][c] for c in order if c in test["checks"]}
        test["max"] = len(test["checks"])  # checks that ran (-k may select a few)
        test["score"] = round(sum(c["rate"] for c in test["checks"].values()), 4)
        self._totals()
        self._judge_disagreements()
        self.write()

    def _judge_disagreements(self) -> None:
        if not self.data.get("judge"):
            return
        listed = []
        for test in self.data["tests"].values():
            for check_id, check in test["checks"].items():
                for index, verdict in enumerate(check["per_sample"]):
                    judge = verdict.get("judge") or {}
                    if judge.get("passed") is not None and judge["passed"] != verdict["passed"]:
                        listed.append({"check": check_id, "sample": index, "rule": verdict["passed"],
                                       "judge": judge["passed"], "judge_reason": judge.get("reason", ""),
                                       "rule_evidence": verdict["evidence"]})
        self.data["judge"]["disagreements"] = listed

    def _totals(self) -> None:
        score = sum(t["score"] for t in self.data["tests"].values())
        maximum = sum(len(t["checks"]) for t in self.data["tests"].values())
        self.data["totals"] = {"score": round(score, 4), "max": maximum,
                               "percent": round(100.0 * score / maximum, 1) if maximum else 0.0}

    def finish(self, status: str, reason: str | None = None) -> None:
        self.data["status"] = status
        self.data["status_reason"] = reason
        self.data["finished_at"] = now_iso()
        self.write()
