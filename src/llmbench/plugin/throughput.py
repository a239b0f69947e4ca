"""The throughput part of the pytest plugin: ``-n C`` runs C closed-loop clients.

Each xdist worker runs exactly one ``tests/throughput`` item (the test is
parametrized by client index, one per worker, and xdist's default ``load``
scheduling hands one item to each worker). Clients warm up, meet at a file
barrier, then keep one streaming request in flight. Their records ride on the
test report (``report.llmbench_throughput``), which xdist replays to the
controller; only the controller aggregates and writes
``reports/<run>/{throughput.json,records.jsonl,benchmark.json}`` and prints
the figures. The entry module (``llmbench.plugin``) registers ``make_plugin(config)``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llmbench.plugin.throughput_monitor import LevelMonitor
from llmbench.runs.status import throughput_status
from llmbench.throughput import servermetrics
from llmbench.throughput.client import RequestRecord
from llmbench.throughput.loadoptions import load_spec_fields, summarize_run
from llmbench.throughput.loop import DEFAULT_MAX_TOKENS, DEFAULT_PROMPT, FileBarrier, LoadSpec, run_client
from llmbench.throughput.netbarrier import BarrierServer, NetBarrier, to_controller_clock
from llmbench.throughput.progress import run_folder
from llmbench.throughput.repeat import combine, interval_text
from llmbench.throughput.runfiles import write_level

_WORKERINPUT_KEY = "llmbench_throughput"
_REPORT_ATTR = "llmbench_throughput"
_SETUP_ATTR = "llmbench_throughput_setup"   # on a client's setup report: the level is starting
_RESULT_KEY = pytest.StashKey[dict]()


def concurrency(config: pytest.Config) -> int:
    """Clients in this run: the number of xdist workers, else one."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return int(workerinput.get("workercount", 1))
    n = config.getoption("numprocesses", None) if config.pluginmanager.hasplugin("xdist") else None
    if config.getoption("dist", "no") == "no" and not n:
        return 1
    tx = config.getoption("tx", None) if config.pluginmanager.hasplugin("xdist") else None
    if not n and tx:   # --tx 2*popen --tx ssh=host//python=python3: one worker per spec, times its count
        return sum(int(spec.split("*", 1)[0]) if spec.split("*", 1)[0].isdigit() else 1 for spec in tx)
    return int(n) if isinstance(n, int) and n > 0 else 1


def _max_tokens(config: pytest.Config) -> int:
    value = config.getoption("max_tokens", None)
    return int(value) if value else DEFAULT_MAX_TOKENS


def _prompt(config: pytest.Config) -> str:
    text = config.getoption("throughput_prompt", None)
    if not text:
        return DEFAULT_PROMPT
    if text.startswith("@"):
        try:
            return Path(text[1:]).read_text()
        except OSError as exc:
            raise pytest.UsageError(f"--throughput-prompt: cannot read {text[1:]}: {exc.strerror}") from None
    return text


class ThroughputClient:
    """What a throughput test gets: ``run()`` one closed-loop client (the level ``--repeat`` times)."""

    def __init__(self, request: pytest.FixtureRequest, index: int, endpoint, barrier,
                 plugin: "ThroughputPlugin"):
        self.request, self.index, self.endpoint, self.plugin = request, index, endpoint, plugin
        self.barrier = barrier        # run k (1-based) -> its start line
        config = request.config
        self.repeat = config.getoption("repeat", 1) or 1
        self.spec = LoadSpec(
            api_url=endpoint.api_url, model=endpoint.served_name, api_key=endpoint.api_key,
            prompt=_prompt(config), max_tokens=_max_tokens(config),
            requests=config.getoption("throughput_requests"), duration_s=config.getoption("throughput_duration"),
            warmup=config.getoption("throughput_warmup"), extra_body=dict(endpoint.extra_body or {}),
            timeout=float(getattr(endpoint, "request_timeout", 600.0) or 600.0),
            per_chunk_usage=config.getoption("throughput_per_chunk_usage"),
            **load_spec_fields(config, concurrency(config)),
        )

    def _progress_dir(self, run: int) -> str | None:
        root = self.plugin.progress_dir
        if not root or not os.path.isdir(root):   # none, or a worker on another host
            return None
        if self.repeat == 1:
            return root
        folder = run_folder(root, run)
        os.makedirs(folder, exist_ok=True)
        return folder

    def run(self) -> dict:
        """Every run's result goes to the controller; the test gets one result with all their records."""
        runs = []
        try:
            for k in range(1, self.repeat + 1):
                spec = dataclasses.replace(self.spec, progress_dir=self._progress_dir(k))
                barrier = self.barrier(k)
                result = run_client(spec, self.index, barrier)
                if isinstance(barrier, NetBarrier):
                    to_controller_clock(result, barrier.offset_ns)
                result["endpoint"] = self.endpoint.public_dict()
                result["demo"] = bool(getattr(self.endpoint, "demo", False))
                result["spec"] = self.spec.as_dict()
                result["run"] = k
                runs.append(result)
        finally:
            self.plugin.level_ended_here()
        self.request.node.stash[_RESULT_KEY] = {"runs": runs}
        return {**runs[-1], "records": [rec for r in runs for rec in r["records"]]}


class ThroughputPlugin:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.is_worker = hasattr(config, "workerinput")
        self.results: list[dict] = []
        self.level: dict | None = None
        self.paths: dict | None = None
        self.truth: dict | None = None
        self.status: tuple[str, str | None] | None = None
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.net_barrier: BarrierServer | None = None
        self.monitor: LevelMonitor | None = None
        self.metrics: dict | None = None      # the /metrics URL, whether it answered, and why not
        if self.is_worker:
            given = config.workerinput.get(_WORKERINPUT_KEY, {})  # type: ignore[attr-defined]  # set by xdist
            self.barrier_dir, self.progress_dir = given.get("barrier_dir"), given.get("progress_dir")
        else:
            self.barrier_dir = tempfile.mkdtemp(prefix="llmbench-barrier-")
            self.progress_dir = tempfile.mkdtemp(prefix="llmbench-progress-")

    def client(self, request: pytest.FixtureRequest, index: int) -> ThroughputClient:
        """The ``llmbench_throughput_client`` fixture's value for client ``index``."""
        endpoint = request.getfixturevalue("llmbench_endpoint")
        if _replaying(request.config):
            pytest.skip("throughput is not re-run by --replay: a replay sends no request, "
                        "and the recorded server may be gone")
        c = concurrency(request.config)
        if c > 1 and not self.barrier_dir:
            pytest.fail("throughput: the controller's llmbench plugin did not send a barrier folder", pytrace=False)
        timeout = request.config.getoption("throughput_barrier_timeout")
        address = (getattr(request.config, "workerinput", {}).get(_WORKERINPUT_KEY) or {}).get("barrier_addr")
        net = NetBarrier(address, timeout) if address else None

        def barrier(run: int) -> FileBarrier | NetBarrier:
            """Run k's start line (a file barrier gets a folder per run: its files are never reset)."""
            if net is not None:
                return net
            folder = self.barrier_dir or ""
            return FileBarrier(folder if run == 1 else os.path.join(folder, f"run-{run}"), c, timeout=timeout)

        return ThroughputClient(request, index, endpoint, barrier, self)

    def level_ended_here(self) -> None:
        """A client that ran in this process (no xdist) ends the progress line inside its test."""
        if not self.is_worker and self.monitor is not None:
            self.monitor.stop_line()

    # -- records travel to the controller on the report ------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call):
        report = yield
        if call.when == "call" and _RESULT_KEY in item.stash:
            setattr(report, _REPORT_ATTR, item.stash[_RESULT_KEY])
        client = getattr(item, "funcargs", {}).get("llmbench_throughput_client")
        if call.when == "setup" and isinstance(client, ThroughputClient):
            setattr(report, _SETUP_ATTR, {"api_url": client.endpoint.api_url})
        return report

    @pytest.hookimpl(tryfirst=True)   # the progress line is cleared before pytest prints the result
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return
        setup = getattr(report, _SETUP_ATTR, None)
        if report.when == "setup" and setup and self.monitor is None:
            self._start_monitor(setup.get("api_url") or "")
        if report.when != "call":
            return
        if self.monitor is not None:
            self.monitor.stop_line()
        payload = getattr(report, _REPORT_ATTR, None)
        if payload:
            self.results.append(payload)

    def _start_monitor(self, api_url: str) -> None:
        config = self.config
        c = concurrency(config) * max(1, config.getoption("streams_per_worker", 1) or 1)
        rate = config.getoption("rate", None)
        label = f"throughput, rate {rate:g} req/s" if rate else f"throughput, concurrency {c}"
        url = None
        if config.getoption("server_metrics", "auto") != "off":
            url = config.getoption("metrics_url", None) or servermetrics.metrics_url(api_url)
            reason = servermetrics.probe(url)
            self.metrics = {"url": url, "available": reason is None, "reason": reason}
            url = None if reason else url
        self.monitor = LevelMonitor(config, label, self.progress_dir, config.getoption("repeat", 1) or 1, url,
                                    config.getoption("metrics_interval", 0.25))
        self.monitor.start()

    # -- controller: aggregate, write, print -----------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        samples = self.monitor.stop() if self.monitor is not None else []
        if self.is_worker or not self.results:
            return
        c = concurrency(self.config)
        first = self.results[0]["runs"][0]
        max_tokens = first["spec"]["max_tokens"]
        endpoint = first.get("endpoint", {})
        repeats = min(len(p["runs"]) for p in self.results)
        by_run = [[p["runs"][k] for p in self.results] for k in range(repeats)]
        levels = [self._run_level(c, results, max_tokens, first, samples) for results in by_run]
        self.level = combine(levels)
        self.truth = self.level.get("engine_truth")
        meta = {
            "started_at": self.started_at, "concurrency": c, "demo": bool(first.get("demo")),
            "model": {k: endpoint.get(k) for k in ("alias", "name", "served_name")},
            "api_url": endpoint.get("api_url"), "spec": first.get("spec"), "engine_truth": self.truth,
            "repeat": repeats,
        }
        if self.metrics is not None:
            meta["server_metrics"] = self.metrics
        stopped = "interrupted" if exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldfail else None
        meta["status"], meta["status_reason"] = self.status = throughput_status([self.level], stopped)
        out = self._out_dir(endpoint.get("alias") or "model", c)
        if repeats > 1:
            for k, (level, results) in enumerate(zip(levels, by_run, strict=True), 1):
                run_meta = {**meta, "run": k, "engine_truth": level.get("engine_truth")}
                write_level(out / f"run-{k}", level, results, run_meta)
        self.paths = write_level(out, self.level, [r for results in by_run for r in results], meta)

    def _run_level(self, c: int, results: list[dict], max_tokens: int, first: dict, samples: list) -> dict:
        """One run's level, with the engine's own count and the server's readings over that run."""
        level = summarize_run(self.config, c, results, max_tokens)
        if first.get("demo"):
            truth = _sim_truth(first.get("endpoint", {}).get("api_url", ""), level["window"])
            if truth is not None:
                level["engine_truth"] = truth
        records = [RequestRecord.from_dict(d) for r in results for d in r["records"]]
        if self.monitor is not None and self.monitor.metrics_url and records:
            span = (min(r.start_ns for r in records), max(r.end_ns or r.start_ns for r in records))
            mine = servermetrics.between(samples, *span)
            level["server_metrics"] = servermetrics.summarize(mine, records, level.get("window"),
                                                              self.monitor.metrics_url, self.monitor.sampler.errors
                                                              if self.monitor.sampler else 0)
        return level

    def _out_dir(self, alias: str, c: int) -> Path:
        explicit = self.config.getoption("throughput_out", None)
        if explicit:
            return Path(explicit)
        from llmbench.plugin import SESSION_KEY

        session = self.config.stash.get(SESSION_KEY, None)
        if session is not None and session.run_dir is not None:  # one folder per pytest run
            return session.run_dir / f"throughput-c{c}"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        safe = "".join(ch if ch.isalnum() or ch in "-._" else "-" for ch in alias)
        root = self.config.getoption("results_dir", None) or self.config.rootpath / "reports"
        return Path(root) / f"{stamp}-{safe}-throughput-c{c}"

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.is_worker or self.level is None:
            return
        from llmbench.textsafety import one_line
        from llmbench.throughput.report import level_lines

        tr = terminalreporter
        model = one_line(self.results[0]["runs"][0].get("endpoint", {}).get("name") or "model")
        load = (f"rate {self.level['rate']:g} req/s" if self.level.get("mode") == "rate"
                else f"concurrency {self.level['concurrency']}")
        tr.write_sep("=", f"llmbench throughput: {model}, {load}")
        for line in level_lines(self.level, self.truth):
            tr.write_line(line)
        repeat = self.level.get("repeat")
        if repeat:
            tr.write_line(f"repeated {repeat['n']} times, mean [95% interval]: "
                          f"{interval_text(self.level, ('aggregate_tok_s',), fmt='.1f')} tok/s, "
                          f"TTFT p50 {interval_text(self.level, ('ttft_s', 'p50'), 1000, '.1f')} ms, "
                          f"ITL p50 {interval_text(self.level, ('itl_s', 'p50'), 1000, '.2f')} ms, "
                          f"E2E p50 {interval_text(self.level, ('e2e_s', 'p50'), 1000, '.0f')} ms")
        if self.metrics and not self.metrics["available"]:
            tr.write_line(f"no server metrics ({self.metrics['reason']}); the client's figures only")
        if self.status and self.status[1]:
            tr.write_line(f"status: {self.status[0]}: {self.status[1]}")
        if self.paths:
            tr.write_line(f"files: {self.paths['summary'].parent}/ (throughput.json, records.jsonl, benchmark.json)")

    def net_barrier_address(self) -> str | None:
        """With ``--tx`` workers (possibly on other hosts): the controller's start line over TCP."""
        if not self.config.getoption("tx", None):
            return None
        if self.net_barrier is None:
            host = self.config.getoption("throughput_controller", None)
            self.net_barrier = BarrierServer(concurrency(self.config), "0.0.0.0" if host else "127.0.0.1")
            self.advertised = f"{host or '127.0.0.1'}:{self.net_barrier.address.rsplit(':', 1)[1]}"
        return self.advertised

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.monitor is not None:
            self.monitor.stop()
        if not self.is_worker:
            for folder in (self.barrier_dir, self.progress_dir):
                if folder:
                    shutil.rmtree(folder, ignore_errors=True)
        if self.net_barrier is not None:
            self.net_barrier.close()


class XdistThroughputHooks:
    """xdist-only hooks, registered only when xdist is loaded."""

    def __init__(self, plugin: ThroughputPlugin):
        self.plugin = plugin

    def pytest_configure_node(self, node) -> None:
        node.workerinput[_WORKERINPUT_KEY] = {"barrier_dir": self.plugin.barrier_dir,
                                              "progress_dir": self.plugin.progress_dir,
                                              "barrier_addr": self.plugin.net_barrier_address()}


def make_plugin(config: pytest.Config) -> ThroughputPlugin:
    plugin = ThroughputPlugin(config)
    if config.pluginmanager.hasplugin("xdist") and not plugin.is_worker:
        config.pluginmanager.register(XdistThroughputHooks(plugin), "llmbench-throughput-xdist")
    return plugin


def _replaying(config: pytest.Config) -> bool:
    from llmbench.plugin import SESSION_KEY

    session = config.stash.get(SESSION_KEY, None)
    return bool(session is not None and session.replay)


def _sim_truth(api_url: str, window: dict) -> dict | None:
    """The built-in engine's own count over the same window (demo runs only)."""
    if not window.get("start_ns") or not window.get("end_ns"):
        return None
    root = api_url.rstrip("/").removesuffix("/v1")
    try:
        with urllib.request.urlopen(f"{root}/sim/stats?from_ns={window['start_ns']}&to_ns={window['end_ns']}",
                                    timeout=10) as resp:
            stats = json.load(resp)
        return {"window_tok_s": stats["window"]["tok_s"], "window_tokens": stats["window"]["tokens"],
                "capacity_curve": stats["config"]["capacity_curve"]}
    except (OSError, ValueError, KeyError):
        return None
