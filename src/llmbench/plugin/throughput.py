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

import json
import shutil
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llmbench.runs.status import throughput_status
from llmbench.throughput.loadoptions import load_spec_fields, summarize_run
from llmbench.throughput.loop import DEFAULT_MAX_TOKENS, DEFAULT_PROMPT, FileBarrier, LoadSpec, run_client
from llmbench.throughput.netbarrier import BarrierServer, NetBarrier, to_controller_clock
from llmbench.throughput.runfiles import write_level

_WORKERINPUT_KEY = "llmbench_throughput"
_REPORT_ATTR = "llmbench_throughput"
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
    """What a throughput test gets: ``run()`` one closed-loop client."""

    def __init__(self, request: pytest.FixtureRequest, index: int, endpoint, barrier: FileBarrier | NetBarrier):
        self.request, self.index, self.endpoint, self.barrier = request, index, endpoint, barrier
        config = request.config
        self.spec = LoadSpec(
            api_url=endpoint.api_url, model=endpoint.served_name, api_key=endpoint.api_key,
            prompt=_prompt(config), max_tokens=_max_tokens(config),
            requests=config.getoption("throughput_requests"), duration_s=config.getoption("throughput_duration"),
            warmup=config.getoption("throughput_warmup"), extra_body=dict(endpoint.extra_body or {}),
            timeout=float(getattr(endpoint, "request_timeout", 600.0) or 600.0),
            per_chunk_usage=config.getoption("throughput_per_chunk_usage"),
            **load_spec_fields(config, concurrency(config)),
        )

    def run(self) -> dict:
        result = run_client(self.spec, self.index, self.barrier)
        if isinstance(self.barrier, NetBarrier):
            to_controller_clock(result, self.barrier.offset_ns)
        result["endpoint"] = self.endpoint.public_dict()
        result["demo"] = bool(getattr(self.endpoint, "demo", False))
        result["spec"] = self.spec.as_dict()
        self.request.node.stash[_RESULT_KEY] = result
        return result


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
        if self.is_worker:
            self.barrier_dir = config.workerinput.get(  # type: ignore[attr-defined]  # set by xdist
                _WORKERINPUT_KEY, {}).get("barrier_dir")
        else:
            self.barrier_dir = tempfile.mkdtemp(prefix="llmbench-barrier-")

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
        barrier = NetBarrier(address, timeout) if address else FileBarrier(self.barrier_dir or "", c, timeout=timeout)
        return ThroughputClient(request, index, endpoint, barrier)

    # -- records travel to the controller on the report ------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call):
        report = yield
        if call.when == "call" and _RESULT_KEY in item.stash:
            setattr(report, _REPORT_ATTR, item.stash[_RESULT_KEY])
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker or report.when != "call":
            return
        result = getattr(report, _REPORT_ATTR, None)
        if result:
            self.results.append(result)

    # -- controller: aggregate, write, print -----------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.is_worker or not self.results:
            return
        c = concurrency(self.config)
        first = self.results[0]
        max_tokens = first["spec"]["max_tokens"]
        self.level = summarize_run(self.config, c, self.results, max_tokens)
        endpoint = first.get("endpoint", {})
        if first.get("demo"):
            self.truth = _sim_truth(endpoint.get("api_url", ""), self.level["window"])
        meta = {
            "started_at": self.started_at, "concurrency": c, "demo": bool(first.get("demo")),
            "model": {k: endpoint.get(k) for k in ("alias", "name", "served_name")},
            "api_url": endpoint.get("api_url"), "spec": first.get("spec"), "engine_truth": self.truth,
        }
        stopped = "interrupted" if exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldfail else None
        meta["status"], meta["status_reason"] = self.status = throughput_status([self.level], stopped)
        self.paths = write_level(self._out_dir(endpoint.get("alias") or "model", c), self.level, self.results, meta)

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
        model = one_line(self.results[0].get("endpoint", {}).get("name") or "model")
        load = (f"rate {self.level['rate']:g} req/s" if self.level.get("mode") == "rate"
                else f"concurrency {self.level['concurrency']}")
        tr.write_sep("=", f"llmbench throughput: {model}, {load}")
        for line in level_lines(self.level, self.truth):
            tr.write_line(line)
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
        if not self.is_worker and self.barrier_dir:
            shutil.rmtree(self.barrier_dir, ignore_errors=True)
        if self.net_barrier is not None:
            self.net_barrier.close()


class XdistThroughputHooks:
    """xdist-only hooks, registered only when xdist is loaded."""

    def __init__(self, plugin: ThroughputPlugin):
        self.plugin = plugin

    def pytest_configure_node(self, node) -> None:
        node.workerinput[_WORKERINPUT_KEY] = {"barrier_dir": self.plugin.barrier_dir,
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
