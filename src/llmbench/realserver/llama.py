"""Find, start, health-check and stop llama.cpp's C++ ``llama-server``.

The binary comes from ``scripts/build_llama_server.sh`` (cached under
``${LLMBENCH_CACHE:-~/.cache/llmbench}/llama-server-<version>/``), or from
``$LLMBENCH_LLAMA_SERVER``. Nothing here imports pytest: the session fixture in
``testing/llama_helpers.py`` and any script can use it.

A server runs in its own session (process group) so a Ctrl-C in the test run
does not race our own shutdown, and it is stopped by PID. The PID's start time
is recorded alongside it so a recycled PID is never signalled by mistake.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
BUILD_SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "build_llama_server.sh"
DEFAULT_ALIAS = "tiny-llama"


class LlamaServerError(RuntimeError):
    """The server could not be found, started or reached; the message says why."""


def cache_root() -> Path:
    return Path(os.environ.get("LLMBENCH_CACHE") or Path.home() / ".cache" / "llmbench")


def cached_binary(version: str = LLAMA_CPP_PYTHON_VERSION) -> Path:
    return cache_root() / f"llama-server-{version}" / "llama-server"


def find_binary() -> Path | None:
    """``$LLMBENCH_LLAMA_SERVER``, else the cached build, else none.

    A ``llama-server`` on PATH is deliberately not picked up: its version (and so
    its quirks) would be unknown. Point ``LLMBENCH_LLAMA_SERVER`` at it to use it.
    """
    explicit = os.environ.get("LLMBENCH_LLAMA_SERVER")
    if explicit:
        path = Path(explicit)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    path = cached_binary()
    return path if path.is_file() and os.access(path, os.X_OK) else None


def build_binary(timeout: float = 1800.0) -> Path:
    """Run the build script (idempotent; minutes on a cold cache) and return the binary."""
    if not BUILD_SCRIPT.is_file():
        raise LlamaServerError(f"build script not found at {BUILD_SCRIPT}")
    proc = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--version", LLAMA_CPP_PYTHON_VERSION],
        capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise LlamaServerError(f"building llama-server failed: {tail}")
    return Path(proc.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_start_time(pid: int) -> int | None:
    """Kernel start time of ``pid`` (clock ticks since boot), or None if it is gone/zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    if fields[0] == "Z":
        return None
    return int(fields[19])


def http_get_json(url: str, timeout: float = 2.0) -> tuple[int, dict]:
    """GET ``url``: (status, parsed JSON body or {}). Status 0 when unreachable."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    except (OSError, urllib.error.URLError):
        return 0, {}
    try:
        return status, json.loads(body or b"{}")
    except ValueError:
        return status, {}


@dataclass
class LlamaServer:
    """A running ``llama-server``; serialisable so other processes can share it."""

    pid: int
    port: int
    alias: str
    n_parallel: int
    ctx_size: int
    model_path: str
    log_path: str
    start_time: int | None = None
    host: str = "127.0.0.1"
    extra_args: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The OpenAI-compatible root, what ``--api-url`` and the ``openai`` SDK take."""
        return self.base_url + "/v1"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "LlamaServer":
        return cls(**json.loads(text))

    def is_alive(self) -> bool:
        started = process_start_time(self.pid)
        return started is not None and (self.start_time is None or started == self.start_time)

    def healthy(self) -> bool:
        status, body = http_get_json(self.base_url + "/health", timeout=1.0)
        return status == 200 and body.get("status") == "ok"

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM by PID, SIGKILL if it lingers. Safe to call twice or on a dead server."""
        if not self.is_alive():
            return
        _signal(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(self.pid)
            if not self.is_alive():
                return
            time.sleep(0.05)
        _signal(self.pid, signal.SIGKILL)
        for _ in range(100):
            _reap(self.pid)
            if not self.is_alive():
                return
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL now: the crash the failure-mode tests need."""
        if self.is_alive():
            _signal(self.pid, signal.SIGKILL)
            for _ in range(100):
                _reap(self.pid)
                if not self.is_alive():
                    return
                time.sleep(0.02)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    """Collect our own child's exit status so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: its parent (or init) reaps it


def start_server(
    binary: str | Path,
    model_path: str | Path,
    *,
    log_path: str | Path,
    alias: str = DEFAULT_ALIAS,
    n_parallel: int = 4,
    ctx_per_slot: int = 16384,
    threads: int = 1,
    extra_args: list[str] | None = None,
    port: int | None = None,
    health_timeout: float = 60.0,
) -> LlamaServer:
    """Start ``llama-server`` on a free loopback port and wait for ``GET /health``.

    ``-c`` is the total context, split evenly across the ``-np`` slots, so it is
    ``ctx_per_slot * n_parallel``. One thread is the default: the model is tiny,
    the machine shared, and a thread per core only adds contention.
    """
    extra = list(extra_args or [])
    ctx_size = ctx_per_slot * n_parallel
    attempts = 1 if port else 3  # a free port can be taken between probe and bind
    last_error = ""
    for _ in range(attempts):
        chosen = port or free_port()
        cmd = [
            str(binary), "-m", str(model_path), "--alias", alias,
            "--host", "127.0.0.1", "--port", str(chosen),
            "-np", str(n_parallel), "-c", str(ctx_size),
            "-t", str(threads), "-tb", str(threads),
            "--no-webui", *extra,
        ]
        log = open(log_path, "ab")
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise LlamaServerError(f"cannot run {binary}: {exc}") from exc
        finally:
            log.close()
        server = LlamaServer(
            pid=proc.pid, port=chosen, alias=alias, n_parallel=n_parallel,
            ctx_size=ctx_size, model_path=str(model_path), log_path=str(log_path),
            start_time=process_start_time(proc.pid), extra_args=extra,
        )
        deadline = time.monotonic() + health_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if server.healthy():
                return server
            time.sleep(0.05)
        last_error = server.log_tail()
        exited = proc.poll() is not None
        server.stop()
        if not exited:
            raise LlamaServerError(f"llama-server not healthy after {health_timeout:.0f}s: {last_error}")
    raise LlamaServerError(f"llama-server exited at start: {last_error}")
