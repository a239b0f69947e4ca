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
from typing import TYPE_CHECKING, Mapping

import pytest

from llmbench.endpoints import client
from llmbench.endpoints.endpoint import Endpoint
from llmbench.endpoints.gpu import describe_gpus
from llmbench.endpoints.registry import RegistryError, resolve
from llmbench.grading.check import Verdict
from llmbench.grading.controls import control_failures
from llmbench.plugin import NO_MODEL_HINT
from llmbench.plugin.progress import Progress
from llmbench.runs.answer_store import AnswerStore, Sample, atomic_write_json, prompt_sha256
from llmbench.runs.reader import RunFileError, changed_prompts, endpoint_of, load_results, sample_count, saved_samples
from llmbench.runs.recorder import RunRecorder
from llmbench.runs.status import StopSignals, drop_lineless_frames, run_status
from llmbench.tasks import TASK_NAMES, all_tasks, get_task, grade, grade_all_failed
from llmbench.textsafety import for_terminal, guard_terminal_writer, one_line

if TYPE_CHECKING:
    from llmbench.sim.server import SimHandle
    from llmbench.verify import Verifier

USER_PROPERTY = "llmbench"
LAST_RUN_CACHE_KEY = "llmbench/last_run"
# What must match for a stored answer to stand for a new request (a demo server's URL changes every run).
_SAME_REQUEST = ("served_name", "temperature", "max_tokens", "extra_body", "sample_index")


class SessionError(Exception):
    """The run cannot start; the message is one line for the user."""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "model"


_PARAM = re.compile(r"\[([^\]]+)\]$")


def count_checks(nodeids, tasks=TASK_NAMES) -> int:
    """How many of these test ids are checks of these tasks (``test_x[<check id>]``)."""
    known = {c for task in tasks for c in get_task(task).check_ids}
    return sum(1 for nodeid in nodeids if (m := _PARAM.search(nodeid)) and m.group(1) in known)


def _new_run_dir(results_dir: Path, alias: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = results_dir / f"{stamp}-{_slug(alias)}"
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            if not results_dir.is_dir():
                raise SessionError(f"--results-dir {results_dir} is not a folder") from None
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")
        except OSError as exc:  # a file, /dev/null, /proc, no permission
            why = "it is not a folder" if results_dir.exists() and not results_dir.is_dir() else exc.strerror
            raise SessionError(f"cannot create a run folder under --results-dir {results_dir}: {why}") from None


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
        self.replay: dict | None = None
        self.judge: Endpoint | None = None
        self._judged: dict[tuple[str, int, str], dict] = {}
        self._demo_server: SimHandle | None = None
        self._graded: dict[tuple[str, int], Mapping[str, Verdict]] = {}
        self.progress = Progress.for_config(config)
        # --lf/--sw: the last run's answers, reused when they match; found on first use (after the cache plugin)
        self._previous_answers: Path | None | bool = False
        self.verifier: Verifier | None = None   # set with the run folder: fix runs share its cache
        self.stop_signals = StopSignals()
        self.checks_selected: int | None = None   # benchmark checks left after -k/-m (None: not known)
        self._replayed_tasks = TASK_NAMES

    # -- set-up ---------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.endpoint is not None

    @classmethod
    def from_config(cls, config: pytest.Config, api_key: str | None) -> "BenchSession":
        session = cls(config)
        if not (config.getoption("model") or config.getoption("replay")):
            return session
        if session.is_controller:
            session._start_controller(api_key)
            if session.active:
                session.stop_signals.install()
        else:
            session._start_worker(api_key)
        return session

    def _results_root(self) -> Path:
        """``--results-dir``, else ``reports/`` under the rootdir (never the current directory)."""
        given = self.config.getoption("results_dir")
        return Path(given) if given else self.config.rootpath / "reports"

    def _start_controller(self, api_key: str | None) -> None:
        opt = self.config.getoption
        if not self.config.option.collectonly:
            failures = control_failures(all_tasks())
            if failures:
                raise SessionError(
                    "grader controls failed, so no score will be produced: " + "; ".join(failures[:5])
                    + (f" (+{len(failures) - 5} more)" if len(failures) > 5 else "")
                )
        if opt("replay"):
            self._start_replay(opt("replay"))
            return
        endpoint, serving = self._resolve(
            opt("model"), api_url=opt("api_url"), api_key=api_key, models_file=opt("models_file"),
            max_tokens=opt("max_tokens"), temperature=opt("temperature"), request_timeout=opt("request_timeout"),
        )
        if self.config.option.collectonly:  # the model name is checked; no server, run folder or report
            return
        if endpoint.demo and not endpoint.api_url:
            endpoint = dataclasses.replace(endpoint, api_url=self._start_demo_server())
        self._preflight(endpoint)
        self.endpoint = endpoint
        self.serving = {
            "framework": opt("serving_framework") or serving.get("framework"),
            "tp": opt("serving_tp") or serving.get("tp"),
            "quant": opt("serving_quant") or serving.get("quant"),
            "context": opt("serving_context") or serving.get("context"),
            "gpu": opt("serving_gpu") or describe_gpus(),
        }
        self.run_dir = _new_run_dir(self._results_root(), endpoint.alias)
        self._open_store()
        self._default_html_path()
        if opt("judge_model"):
            self.judge, _ = self._resolve(
                opt("judge_model"), api_url=opt("judge_url") or endpoint.api_url, api_key=api_key,
                models_file=opt("models_file"), temperature=0.0, max_tokens=1024,
                request_timeout=opt("request_timeout"),
            )
            self._preflight(self.judge, "judge: ")

    @staticmethod
    def _resolve(model: str, **options) -> tuple[Endpoint, dict]:
        try:
            return resolve(model, **options)
        except RegistryError as exc:
            raise SessionError(str(exc)) from None

    def _preflight(self, endpoint: Endpoint, label: str = "") -> None:
        if self.config.option.collectonly:
            return
        try:
            client.preflight(endpoint)
        except client.PreflightError as exc:
            self.close()
            raise SessionError(f"{label}{exc}") from None

    def _start_replay(self, path: str) -> None:
        """Re-grade a saved run's answers with today's graders; no server is contacted."""
        try:
            data = load_results(path)
        except RunFileError as exc:
            raise SessionError(str(exc)) from None
        if self.config.option.collectonly:
            return
        changed = changed_prompts(data)
        if changed:
            raise SessionError(
                f"cannot replay {', '.join(changed)}: the prompt changed since the answer was recorded, "
                "so the answer belongs to a different question"
            )
        self.endpoint = endpoint_of(data)
        self.serving = data.get("serving") or {}
        self.samples = sample_count(data)
        self.replay = {"source": data["_path"], "source_run_id": data.get("run_id")}
        self._replayed_tasks = tuple(data["tests"])   # a replay can only grade what was recorded
        self.run_dir = _new_run_dir(self._results_root(), f"{self.endpoint.alias}-replay")
        self._open_store()
        assert self.store is not None
        for task in data["tests"]:
            for sample in saved_samples(data, task):
                atomic_write_json(self.store.path(task, sample.index), sample.as_dict())
        self._default_html_path()

    def _default_html_path(self) -> None:
        assert self.run_dir is not None
        if getattr(self.config.option, "htmlpath", "") is None:  # pytest-html present, --html not given
            self.config.option.htmlpath = str(self.run_dir / "report.html")
            self.config.option.self_contained_html = True

    def _start_worker(self, api_key: str | None) -> None:
        shared = self.config.workerinput.get("llmbench")  # type: ignore[attr-defined]  # set by xdist
        if not shared:
            return
        self.endpoint = Endpoint(**shared["endpoint"], api_key=api_key)
        self.serving = shared["serving"]
        self.run_dir = Path(shared["run_dir"])
        self.replay = shared["replay"]
        self.samples = shared["samples"]
        self._previous_answers = Path(shared["previous_answers"]) if shared.get("previous_answers") else None
        if shared.get("judge"):
            self.judge = Endpoint(**shared["judge"], api_key=api_key)
        self._open_store()

    def worker_settings(self) -> dict | None:
        """What a worker needs to join this run (no API key: workers read it from their own options)."""
        if self.endpoint is None:
            return None
        fields = dataclasses.asdict(self.endpoint)
        fields.pop("api_key")
        judge = None
        if self.judge is not None:
            judge = dataclasses.asdict(self.judge)
            judge.pop("api_key")
        return {"endpoint": fields, "serving": self.serving, "run_dir": str(self.run_dir),
                "replay": self.replay, "samples": self.samples, "judge": judge,
                "previous_answers": str(self.previous_answers) if self.previous_answers else None}

    def _start_demo_server(self) -> str:
        from llmbench.sim.server import start_background

        try:
            self._demo_server = start_background()
        except Exception as exc:  # the demo must say why it could not start
            raise SessionError(f"the built-in demo server did not start: {exc}") from None
        return self._demo_server.base_url

    def _open_store(self) -> None:
        assert self.endpoint is not None and self.run_dir is not None
        from llmbench.verify import Verifier

        self.verifier = Verifier(enabled=not self.config.getoption("no_exec"), cache_dir=self.run_dir / "verify")
        timeout = self.endpoint.request_timeout * self.samples + 60
        fetch = self._not_in_replay if self.replay else self._fetch
        self.store = AnswerStore(self.run_dir / "answers", fetch, lock_timeout=timeout,
                                 lock_dir=self.run_dir / ".locks")

    def close(self) -> None:
        self.stop_signals.restore()
        if self._demo_server is not None:
            self._demo_server.stop()
            self._demo_server = None

    def require_endpoint(self) -> Endpoint:
        if self.endpoint is None:
            pytest.skip(NO_MODEL_HINT)
        return self.endpoint

    # -- answers and grading --------------------------------------------------
    @property
    def previous_answers(self) -> Path | None:
        if self._previous_answers is False:
            self._previous_answers = self._find_previous_answers()
        return self._previous_answers  # type: ignore[return-value]

    def _find_previous_answers(self) -> Path | None:
        """With --lf/--sw (which rerun a previous run's failures), that run's answer folder."""
        if self.replay or not self.is_controller:
            return None
        option = self.config.option
        cache = getattr(self.config, "cache", None)
        if cache is None or not (getattr(option, "lf", False) or getattr(option, "stepwise", False)):
            return None
        last = cache.get(LAST_RUN_CACHE_KEY, None)
        folder = Path(last["run_dir"]) / "answers" if isinstance(last, dict) and last.get("run_dir") else None
        return folder if folder is not None and folder.is_dir() else None

    def _fetch(self, task: str, index: int) -> Sample:
        assert self.endpoint is not None
        prompt = get_task(task).prompt()
        source = {**self.endpoint.public_dict(), "temperature": self.endpoint.temperature,
                  "max_tokens": self.endpoint.max_tokens, "extra_body": self.endpoint.extra_body,
                  "sample_index": index}
        stored = self._stored_answer(task, index, prompt_sha256(prompt), source)
        if stored is not None:
            return stored
        label = f"{task} <- {self.endpoint.alias}"
        if self.samples > 1:
            label += f" (sample {index + 1}/{self.samples})"
        request = self.progress.request(label) if self.progress is not None else None
        try:
            result = client.chat(self.endpoint, prompt, on_piece=request.chunk if request else None)
        finally:
            if request is not None:
                request.end()
        return Sample(task, index, prompt_sha256(prompt), result, source)

    def _stored_answer(self, task: str, index: int, prompt_hash: str, source: dict) -> Sample | None:
        """The previous run's answer to the very same request (same prompt, model, sampling), if any."""
        if self.previous_answers is None or self.endpoint is None:
            return None
        previous = AnswerStore.read(self.previous_answers / f"{task}.{index}.json", task)
        if previous is None or previous.result.error or previous.prompt_sha256 != prompt_hash:
            return None
        same_server = self.endpoint.demo or previous.source.get("api_url") == source.get("api_url")
        if not same_server or any(previous.source.get(k) != source.get(k) for k in _SAME_REQUEST):
            return None
        previous.source = {**previous.source, "reused_from": self.previous_answers.parent.name}
        return previous

    def _not_in_replay(self, task: str, index: int) -> Sample:
        pytest.skip(f"the replayed run has no answer for {task} (sample {index + 1})")

    def _verdicts(self, task: str, sample: Sample) -> Mapping[str, Verdict]:
        key = (task, sample.index)
        if key not in self._graded:
            from llmbench import verify

            if sample.result.error:
                reason = f"request failed: {sample.result.error}"
                self._graded[key] = verify.failed_request(task, grade_all_failed(task, reason), reason)
            else:
                verdicts = grade(task, sample.result.content, sample.result.reasoning)
                assert self.verifier is not None
                self._graded[key] = verify.with_execution(task, verdicts, sample.final_answer, self.verifier)
        return self._graded[key]

    def _judge_verdict(self, task: str, sample: Sample, check_id: str) -> dict:
        from llmbench.grading.judge import judge_check

        key = (task, sample.index, check_id)
        if key not in self._judged:
            if sample.result.error or not sample.final_answer.strip():
                self._judged[key] = {"passed": None, "reason": "no answer to judge"}
            else:
                assert self.judge is not None
                check = next(c for c in get_task(task).checks if c.id == check_id)
                self._judged[key] = judge_check(self.judge, check, sample.final_answer).as_dict()
        return self._judged[key]

    def check_passes(self, passes: int, n: int) -> bool:
        if self.pass_rate is None:
            return passes * 2 > n  # majority
        return passes >= self.pass_rate * n - 1e-9

    def grade_check(self, item: pytest.Item, task: str, check_id: str) -> None:
        assert self.store is not None
        samples = [self.store.get(task, i) for i in range(self.samples)]
        per_sample = [self._verdicts(task, s)[check_id].as_dict() for s in samples]
        if self.judge is not None:
            for sample, verdict in zip(samples, per_sample, strict=True):
                verdict["judge"] = self._judge_verdict(task, sample, check_id)
        passes = sum(v["passed"] for v in per_sample)
        passed = self.check_passes(passes, len(per_sample))
        item.user_properties.append(
            (USER_PROPERTY, {"task": task, "check": check_id, "per_sample": per_sample, "passed": passed})
        )
        if not passed:
            evidence = next((v["evidence"] for v in per_sample if not v["passed"]), "")
            rate = f" ({passes}/{len(per_sample)} samples passed)" if len(per_sample) > 1 else ""
            pytest.fail(f"{check_id} failed{rate}: {for_terminal(evidence)}", pytrace=False)

    # -- hooks ------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)  # before the header is printed
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        writer = getattr(reporter, "_tw", None)
        if writer is not None:
            guard_terminal_writer(writer)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.is_controller and self.active and session.items:   # under xdist: _xdist counts
            self.checks_selected = self.count_selected(item.nodeid for item in session.items)

    def count_selected(self, nodeids) -> int:
        return count_checks(nodeids, self._replayed_tasks)

    def _recorder(self) -> RunRecorder:
        # Created with the first quality result: a throughput-only run writes no results.json.
        if self.recorder is None:
            assert self.run_dir is not None
            self.recorder = RunRecorder(self.run_dir / "results.json", self._header())
        return self.recorder

    def _header(self) -> dict:
        e = self.endpoint
        assert e is not None and self.run_dir is not None and self.verifier is not None
        return {
            "run_id": self.run_dir.name,
            "demo": e.demo,
            "replay": self.replay,
            "model": e.public_dict(),
            "sampling": {"temperature": e.temperature, "max_tokens": e.max_tokens,
                         "samples": self.samples, "pass_rate": self.pass_rate or "majority",
                         "extra_body": e.extra_body},
            "serving": self.serving,
            "judge": {"model": self.judge.public_dict(), "disagreements": []} if self.judge else None,
            "execution": {"enabled": self.verifier.enabled, "summary": self.verifier.status_line()},
            "checks_selected": self.checks_selected,
        }

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not (self.is_controller and self.active) or report.when != "call":
            return
        for name, value in report.user_properties:
            if name != USER_PROPERTY:
                continue
            assert isinstance(value, dict) and self.store is not None
            task = value["task"]
            saved = [self.store.saved(task, i) for i in range(self.samples)]
            recorder = self._recorder()
            recorder.add_samples(task, [s for s in saved if s is not None])
            recorder.add_check(task, value["check"], value["per_sample"], value["passed"])

    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        # a signal held back (it landed in a finalizer) stops the run after this test
        pending = self.stop_signals.pending
        if pending is not None and not item.session.shouldstop:
            item.session.shouldstop = pending

    @pytest.hookimpl(tryfirst=True)   # before the terminal reporter spends time rendering the interruption
    def pytest_keyboard_interrupt(self, excinfo) -> None:
        if self.stop_signals.reason is None:
            self.stop_signals.reason = "interrupted (KeyboardInterrupt)"
        self.stop_signals.finishing()
        drop_lineless_frames(excinfo.value)
        if excinfo.value.__traceback__ is not None:   # entries read before the relinking are stale
            excinfo.traceback = type(excinfo.traceback)(excinfo.value.__traceback__)

    @pytest.hookimpl(tryfirst=True)   # before pytest-html renders the status into report.html
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not (self.is_controller and self.active):
            return
        self.stop_signals.finishing()
        stopped = self.stop_signals.reason
        if stopped is None and (session.shouldfail or session.shouldstop):
            stopped = f"stopped early ({session.shouldfail or session.shouldstop})"
        if stopped is None and exitstatus == pytest.ExitCode.INTERRUPTED:
            stopped = "interrupted"
        if self.recorder is None and stopped and self.checks_selected:
            self._recorder()   # stopped before the first check: still say so in results.json
        if self.recorder is not None:
            self.recorder.data["checks_selected"] = self.checks_selected
            self.recorder.finish(*run_status(self.recorder.data, stopped, self.checks_selected))
        if self.store is not None:
            self.store.remove_locks()
        cache = getattr(self.config, "cache", None)
        if not self.replay and cache is not None and self.run_dir is not None:
            cache.set(LAST_RUN_CACHE_KEY, {"run_dir": str(self.run_dir.resolve())})

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        e = self.endpoint
        if e is None:
            return []
        lines = [f"llmbench: model {one_line(e.alias)} (served as {one_line(e.served_name)}) at {one_line(e.api_url)}"
                 + (" [built-in demo server]" if e.demo else "")]
        lines.append(f"llmbench: results -> {one_line(self.run_dir)}")
        if self.verifier is not None:
            lines.append(f"llmbench: {self.verifier.status_line()}")
        if self.replay:
            lines.append(f"llmbench: replaying answers from {one_line(self.replay['source'])} (no server contacted)")
        elif self.samples > 1 and e.temperature == 0:
            lines.append(f"llmbench: WARNING: {self.samples} samples at temperature 0; a deterministic server "
                         "gives identical answers and the intervals mean little (try --temperature 0.7)")
        return lines

    def pytest_terminal_summary(self, terminalreporter, exitstatus: int, config: pytest.Config) -> None:
        from llmbench.runs.summary import render_summary

        if self.recorder is not None:
            for line in render_summary(self.recorder.data):
                terminalreporter.write_line(one_line(line))
            judge = self.recorder.data.get("judge")
            if judge:
                terminalreporter.write_line(self._judge_line(judge))
            identical = [name for name, test in self.recorder.data["tests"].items()
                         if len(test["samples"]) > 1 and len({s["raw_content"] for s in test["samples"]}) == 1]
            if identical:
                terminalreporter.write_line(
                    f"llmbench: WARNING: every sample was identical for {', '.join(identical)}: the server is "
                    "deterministic at these settings, so N samples carry the information of one")
            if self.verifier is not None:
                terminalreporter.write_line(f"llmbench: {self.verifier.status_line()}")
            terminalreporter.write_line(f"llmbench: results written to {self.recorder.path}")
            html = getattr(config.option, "htmlpath", None)
            if html:
                terminalreporter.write_line(f"llmbench: HTML report at {html}")

    def _judge_line(self, judge: dict) -> str:
        name = one_line(judge["model"]["name"])
        assert self.recorder is not None  # a judge line is written only for a recorded run
        verdicts = [v.get("judge") or {} for test in self.recorder.data["tests"].values()
                    for check in test["checks"].values() for v in check["per_sample"]]
        asked = [j for j in verdicts if j.get("reason") != "no answer to judge"]
        failed = [j for j in asked if j.get("passed") is None]
        if asked and len(failed) == len(asked):
            return (f"llmbench: judge {name} gave no verdict on any of {len(asked)} check(s): "
                    f"{one_line(failed[0].get('reason', ''))}")
        line = (f"llmbench: judge {name} disagreed with the rules on {len(judge['disagreements'])} "
                "verdict(s); listed in results.json and the HTML report")
        if failed:
            line += f"; it gave no verdict on {len(failed)} of {len(asked)}"
        return line


__all__ = ["BenchSession", "SessionError"]
