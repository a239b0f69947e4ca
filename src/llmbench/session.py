"""The run's state: endpoint, run folder, answers, results; one object per process.

On the controller it resolves the model, starts the built-in server for
``--model demo``, checks the server before any test (one clear line when it
cannot serve), and records results as reports arrive. On an xdist worker it
takes the controller's resolved settings from ``workerinput`` and only fetches
and grades answers.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path

import pytest

from llmbench import client, grading
from llmbench.answers import AnswerStore, Sample, prompt_sha256
from llmbench.collector import RunRecorder
from llmbench.endpoint import Endpoint
from llmbench.gpu import describe_gpus
from llmbench.registry import RegistryError, resolve
from llmbench.tasks import TASK_NAMES, get_task
from llmbench.tasks.base import Verdict

SESSION_KEY = pytest.StashKey["BenchSession"]()
NO_MODEL_HINT = "llmbench: no --model given; try `pytest --model demo` (built-in server) or `--model NAME --api-url URL`"
USER_PROPERTY = "llmbench"


class SessionError(Exception):
    """The run cannot start; the message is one line for the user."""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "model"


def _new_run_dir(results_dir: Path, alias: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = results_dir / f"{stamp}-{_slug(alias)}"
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")


class BenchSession:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.is_controller = not hasattr(config, "workerinput")
        self.endpoint: Endpoint | None = None
        self.serving: dict = {}
        self.run_dir: Path | None = None
        self.store: AnswerStore | None = None
        self.recorder: RunRecorder | None = None
        self.samples = config.getoption("samples")
        self.pass_rate = config.getoption("pass_rate")
        self._demo_server = None
        self._graded: dict[tuple[str, int], dict[str, Verdict]] = {}
        self._skipped_for_no_model = 0

    # -- set-up ---------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.endpoint is not None

    @classmethod
    def from_config(cls, config: pytest.Config, api_key: str | None) -> "BenchSession":
        session = cls(config)
        if not config.getoption("model"):
            return session
        if session.is_controller:
            session._start_controller(api_key)
        else:
            session._start_worker(api_key)
        return session

    def _start_controller(self, api_key: str | None) -> None:
        opt = self.config.getoption
        try:
            endpoint, serving = resolve(
                opt("model"), api_url=opt("api_url"), api_key=api_key, models_file=opt("models_file"),
                max_tokens=opt("max_tokens"), temperature=opt("temperature"), request_timeout=opt("request_timeout"),
            )
        except RegistryError as exc:
            raise SessionError(str(exc)) from None
        if endpoint.demo and not endpoint.api_url:
            endpoint = dataclasses.replace(endpoint, api_url=self._start_demo_server())
        if not self.config.option.collectonly:
            try:
                client.preflight(endpoint)
            except client.PreflightError as exc:
                self.close()
                raise SessionError(str(exc)) from None
        self.endpoint = endpoint
        self.serving = {
            "framework": opt("framework") or serving.get("framework"),
            "tp": opt("tp") or serving.get("tp"),
            "quant": opt("quant_method") or serving.get("quant"),
            "context": opt("context") or serving.get("context"),
            "gpu": opt("gpu") or describe_gpus(),
        }
        self.run_dir = _new_run_dir(Path(opt("results_dir")), endpoint.alias)
        self._open_store()
        if getattr(self.config.option, "htmlpath", "") is None:  # pytest-html present, --html not given
            self.config.option.htmlpath = str(self.run_dir / "report.html")
            self.config.option.self_contained_html = True

    def _start_worker(self, api_key: str | None) -> None:
        shared = self.config.workerinput.get("llmbench")
        if not shared:
            return
        self.endpoint = Endpoint(**shared["endpoint"], api_key=api_key)
        self.serving = shared["serving"]
        self.run_dir = Path(shared["run_dir"])
        self._open_store()

    def worker_settings(self) -> dict | None:
        """What a worker needs to join this run (no API key: workers read it from their own options)."""
        if not self.active:
            return None
        fields = dataclasses.asdict(self.endpoint)
        fields.pop("api_key")
        return {"endpoint": fields, "serving": self.serving, "run_dir": str(self.run_dir)}

    def _start_demo_server(self) -> str:
        from llmbench.sim.server import start_background

        try:
            self._demo_server = start_background()
        except Exception as exc:  # the demo must say why it could not start
            raise SessionError(f"the built-in demo server did not start: {exc}") from None
        return self._demo_server.base_url

    def _open_store(self) -> None:
        timeout = self.endpoint.request_timeout * self.samples + 60
        self.store = AnswerStore(self.run_dir / "answers", self._fetch, lock_timeout=timeout)

    def close(self) -> None:
        if self._demo_server is not None:
            self._demo_server.stop()
            self._demo_server = None

    def require_endpoint(self) -> Endpoint:
        if self.endpoint is None:
            pytest.skip(NO_MODEL_HINT)
        return self.endpoint

    # -- answers and grading --------------------------------------------------
    def _fetch(self, task: str, index: int) -> Sample:
        prompt = get_task(task).prompt()
        result = client.chat(self.endpoint, prompt)
        source = {**self.endpoint.public_dict(), "temperature": self.endpoint.temperature,
                  "max_tokens": self.endpoint.max_tokens, "extra_body": self.endpoint.extra_body,
                  "sample_index": index}
        return Sample(task, index, prompt_sha256(prompt), result, source)

    def _verdicts(self, task: str, sample: Sample) -> dict[str, Verdict]:
        key = (task, sample.index)
        if key not in self._graded:
            if sample.result.error:
                self._graded[key] = grading.grade_all_failed(task, f"request failed: {sample.result.error}")
            else:
                self._graded[key] = grading.grade(task, sample.result.content, sample.result.reasoning)
        return self._graded[key]

    def check_passes(self, passes: int, n: int) -> bool:
        if self.pass_rate is None:
            return passes * 2 > n  # majority
        return passes >= self.pass_rate * n - 1e-9

    def grade_check(self, item: pytest.Item, task: str, check_id: str) -> None:
        samples = [self.store.get(task, i) for i in range(self.samples)]
        per_sample = [self._verdicts(task, s)[check_id].as_dict() for s in samples]
        passes = sum(v["passed"] for v in per_sample)
        passed = self.check_passes(passes, len(per_sample))
        item.user_properties.append(
            (USER_PROPERTY, {"task": task, "check": check_id, "per_sample": per_sample, "passed": passed})
        )
        if not passed:
            evidence = next((v["evidence"] for v in per_sample if not v["passed"]), "")
            rate = f" ({passes}/{len(per_sample)} samples passed)" if len(per_sample) > 1 else ""
            pytest.fail(f"{check_id} failed{rate}: {evidence}", pytrace=False)

    # -- hooks ------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.active:
            return
        skip = pytest.mark.skip(reason=NO_MODEL_HINT)
        for item in items:
            if {"llmbench_grade", "llmbench_endpoint"} & set(getattr(item, "fixturenames", ())):
                item.add_marker(skip)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.is_controller and self.active:
            self.recorder = RunRecorder(self.run_dir / "results.json", self._header())

    def _header(self) -> dict:
        e = self.endpoint
        return {
            "run_id": self.run_dir.name,
            "demo": e.demo,
            "replay": None,
            "model": e.public_dict(),
            "sampling": {"temperature": e.temperature, "max_tokens": e.max_tokens,
                         "samples": self.samples, "pass_rate": self.pass_rate or "majority",
                         "extra_body": e.extra_body},
            "serving": self.serving,
        }

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.recorder is None or report.when != "call":
            return
        for name, value in report.user_properties:
            if name != USER_PROPERTY:
                continue
            task = value["task"]
            saved = [self.store.saved(task, i) for i in range(self.samples)]
            self.recorder.add_samples(task, [s for s in saved if s is not None])
            self.recorder.add_check(task, value["check"], value["per_sample"], value["passed"])

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.recorder is not None:
            interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
            self.recorder.finish("interrupted" if interrupted else "complete")

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        if not self.active:
            return ["llmbench: no --model: benchmark tests will be skipped"]
        e = self.endpoint
        lines = [f"llmbench: model {e.alias} (served as {e.served_name}) at {e.api_url}"
                 + (" [built-in demo server]" if e.demo else "")]
        lines.append(f"llmbench: results -> {self.run_dir}")
        return lines

    def pytest_terminal_summary(self, terminalreporter, exitstatus: int, config: pytest.Config) -> None:
        from llmbench.summary import render_summary

        if self.recorder is not None:
            for line in render_summary(self.recorder.data):
                terminalreporter.write_line(line)
            terminalreporter.write_line(f"llmbench: results written to {self.recorder.path}")
            html = getattr(config.option, "htmlpath", None)
            if html:
                terminalreporter.write_line(f"llmbench: HTML report at {html}")
        elif self.is_controller and not self.active and self._has_skipped_benchmarks(terminalreporter):
            terminalreporter.write_line(NO_MODEL_HINT)

    @staticmethod
    def _has_skipped_benchmarks(terminalreporter) -> bool:
        for report in terminalreporter.stats.get("skipped", []):
            longrepr = getattr(report, "longrepr", None)
            if isinstance(longrepr, tuple) and NO_MODEL_HINT in str(longrepr[-1]):
                return True
        return False


__all__ = ["BenchSession", "SESSION_KEY", "SessionError", "TASK_NAMES"]
