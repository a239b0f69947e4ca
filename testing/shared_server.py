"""One real server shared by a whole test run, even under pytest-xdist; private ones per test.

How the shared server survives xdist: every worker's base temp dir lives under
one run directory (``tmp_path_factory.getbasetemp().parent``). Under a
``filelock`` in that directory a state file records the server (PID, PID start
time, port) and the set of workers leasing it. The first worker to need it
starts it; later ones read the port and join the lease; each worker leaves the
lease at its session end, and whichever worker leaves last stops the server by
PID (the start time guards against a recycled PID). The server runs in its own
process session so it outlives the worker that happened to start it. Without
xdist there is no sharing: the session starts and stops its own server.

Engine-neutral: each engine's module (llama_helpers, vllm_helpers) passes its start function and
server class (a :class:`realserver.process.ServerProcess`). At the
end: the quality-suite run every engine's end-to-end tests make against it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from filelock import FileLock
from realserver.process import ServerProcess

S = TypeVar("S", bound=ServerProcess)


def next_log_path(log_dir: Path, stem: str) -> Path:
    """``log_dir/<stem>-<n>.log`` for the next unused n (the directory is made if needed)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    n = len(list(log_dir.glob(f"{stem}-*.log")))
    return log_dir / f"{stem}-{n}.log"


def start_or_fail(start: Callable[..., S], error: type[Exception], *args, **kwargs) -> S:
    """``start(*args, **kwargs)``; the engine's ``error`` fails the test in one line, no traceback."""
    try:
        return start(*args, **kwargs)
    except error as exc:
        pytest.fail(str(exc), pytrace=False)


class SharedServerLease:
    """One server leased by several xdist workers; the last to leave stops it.

    ``name`` names the state file (``<name>.json``) and its lock.
    """

    def __init__(self, directory: Path, worker: str, server_cls: type[S], name: str) -> None:
        self.directory = directory
        self.worker = worker
        self.server_cls = server_cls
        self.state_path = directory / f"{name}.json"
        self.lock = FileLock(str(directory / f"{name}.lock"))

    def _read(self) -> dict:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}

    def _write(self, state: dict) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.state_path)

    def acquire(self, start: Callable[[], S]) -> S:
        with self.lock:
            state = self._read()
            server = self.server_cls.from_json(state["server"]) if state.get("server") else None
            if server is None or not (server.is_alive() and server.healthy()):
                if server is not None:
                    server.stop()
                server = start()
                state = {"server": server.to_json(), "users": []}
            state["users"] = sorted(set(state["users"]) | {self.worker})
            self._write(state)
            return server

    def release(self) -> None:
        with self.lock:
            state = self._read()
            users = set(state.get("users", [])) - {self.worker}
            if users:
                state["users"] = sorted(users)
                self._write(state)
                return
            if state.get("server"):
                self.server_cls.from_json(state["server"]).stop()
            self.state_path.unlink(missing_ok=True)


@contextmanager
def shared_server(tmp_path_factory: pytest.TempPathFactory, server_cls: type[S], prefix: str,
                  start: Callable[[Path], S]) -> Iterator[tuple[S, Path]]:
    """For a session fixture: ``with shared_server(...) as (server, log_dir)``.

    ``start(log_dir)`` starts a server logging there. ``prefix`` names the
    directory (``<prefix>-shared``) and the state file (``<prefix>-server.json``).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        log_dir = tmp_path_factory.mktemp(f"{prefix}-shared")
        server = start(log_dir)
        try:
            yield server, log_dir
        finally:
            server.stop()
        return
    shared_dir = tmp_path_factory.getbasetemp().parent / f"{prefix}-shared"
    shared_dir.mkdir(exist_ok=True)
    lease = SharedServerLease(shared_dir, worker, server_cls, f"{prefix}-server")
    server = lease.acquire(lambda: start(shared_dir))
    try:
        yield server, shared_dir
    finally:
        lease.release()


@contextmanager
def private_servers(start: Callable[..., S]) -> Iterator[Callable[..., S]]:
    """Wrap ``start`` so every server it starts is stopped on leaving (a per-test factory)."""
    started: list[S] = []

    def tracked(*args, **kwargs) -> S:
        server = start(*args, **kwargs)
        started.append(server)
        return server

    try:
        yield tracked
    finally:
        for server in started:
            server.stop()


# -- the benchmark's quality run against a real server (what every engine's e2e test does) ----------

REPO = Path(__file__).resolve().parents[1]


def run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def run_quality(api_url: str, model: str, results_dir: Path, *args: str,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """``pytest tests/quality`` from the repository against ``api_url``, results into ``results_dir``."""
    return run([sys.executable, "-m", "pytest", "tests/quality", "--model", model, "--api-url", api_url,
                *args, "--results-dir", str(results_dir), "-p", "no:cacheprovider", "-q"], cwd=REPO, timeout=timeout)


def quality_results(proc: subprocess.CompletedProcess, results_dir: Path) -> tuple[dict, Path]:
    """The one complete ``results.json`` of a run that may have failed tests but crashed nowhere."""
    output = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1), output[-3000:]   # tests may fail; nothing may crash
    assert "Traceback" not in output and "INTERNAL" not in output
    (results_path,) = results_dir.glob("*/results.json")
    results = json.loads(results_path.read_text())
    assert results["status"] == "complete"
    return results, results_path


def clean_samples(results: dict, max_tokens: int) -> dict[str, dict]:
    """Every test's first sample, checked: no error, exactly ``max_tokens`` generated, a sane TTFT."""
    samples = {}
    for name, test in results["tests"].items():
        sample = samples[name] = test["samples"][0]
        assert sample["error"] is None, (name, sample["error"])
        assert sample["usage"]["completion_tokens"] == max_tokens, name
        assert sample["finish_reason"] == "length", name
        assert sample["ttft_s"] is not None and 0 < sample["ttft_s"] <= sample["duration_s"], name
    return samples


def assert_unlisted_model_refused(api_url: str, wrong_model: str, served: str, results_dir: Path) -> None:
    """The quality run's preflight stops at once, naming what the server does serve, and writes no results."""
    proc = run_quality(api_url, wrong_model, results_dir, timeout=120)
    assert proc.returncode not in (0, 1)
    assert f"it serves: {served}" in proc.stdout + proc.stderr
    assert not list(results_dir.glob("*/results.json"))
