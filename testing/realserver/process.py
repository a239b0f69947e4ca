"""What every real inference server the tests run has in common, whatever the engine.

A server is a detached process (its own session, so a Ctrl-C in the test run
does not race our own shutdown) listening on a free loopback port, writing to
a log file, and ready once an HTTP health path answers 200. It is recorded as a
:class:`ServerProcess`, which round-trips through JSON so other processes
(pytest-xdist workers) can share it, and it is stopped by PID: the PID's start
time is recorded with it so a recycled PID is never signalled by mistake.

The engine modules (``llama``, ``vllm_cpu``) keep only what differs: the
command line, the health check's body, how the process tree is signalled.
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
from collections.abc import Callable
from dataclasses import KW_ONLY, asdict, dataclass, field
from pathlib import Path
from typing import Self, TypeVar

LOOPBACK = "127.0.0.1"


def cache_root() -> Path:
    return Path(os.environ.get("LLMBENCH_CACHE") or Path.home() / ".cache" / "llmbench")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
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


def reap(pid: int) -> None:
    """Collect our own child's exit status so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: its parent (or init) reaps it


@dataclass
class ServerProcess:
    """A running server; serialisable so other processes can share it.

    Subclasses add their engine's fields and may override :meth:`health_ok`
    (what a 200 from :attr:`HEALTH_PATH` must also say) and, for a process
    tree, :meth:`_signal` and :meth:`_gone`.
    """

    HEALTH_PATH = "/health"
    STOP_TIMEOUT = 10.0   # seconds between SIGTERM and SIGKILL
    POLL_S = 0.05

    pid: int
    port: int
    log_path: str
    _: KW_ONLY
    start_time: int | None = None
    host: str = LOOPBACK
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
    def from_json(cls, text: str) -> Self:
        return cls(**json.loads(text))

    def is_alive(self) -> bool:
        started = process_start_time(self.pid)
        return started is not None and (self.start_time is None or started == self.start_time)

    def healthy(self) -> bool:
        status, body = http_get_json(self.base_url + self.HEALTH_PATH, timeout=1.0)
        return status == 200 and self.health_ok(body)

    def health_ok(self, body: dict) -> bool:
        """Whether a 200 health answer's JSON body says ready (any body, by default)."""
        return True

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM, SIGKILL if it lingers past ``timeout``. Safe to call twice or on a dead server."""
        if not self.is_alive():
            return
        self._signal(signal.SIGTERM)
        if self._wait_gone(self.STOP_TIMEOUT if timeout is None else timeout):
            return
        self._signal(signal.SIGKILL)
        self._wait_gone(5.0)

    def kill(self) -> None:
        """SIGKILL now: the crash the failure-mode tests need."""
        if self.is_alive():
            self._signal(signal.SIGKILL)
            self._wait_gone(5.0)

    def _signal(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def _gone(self) -> bool:
        return not self.is_alive()

    def _wait_gone(self, timeout: float) -> bool:
        """Wait until :meth:`_gone`; True if it is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reap(self.pid)
            if self._gone():
                return True
            time.sleep(self.POLL_S)
        return False


S = TypeVar("S", bound=ServerProcess)


def start_and_wait(
    command: Callable[[int], list[str]],
    make_server: Callable[..., S],
    *,
    log_path: str | Path,
    name: str,
    error: type[Exception],
    port: int | None = None,
    attempts: int = 3,
    retry_on: str | None = None,
    health_timeout: float = 60.0,
    poll_s: float = 0.05,
    env: dict[str, str] | None = None,
) -> S:
    """Start ``command(port)`` detached, logging to ``log_path``, and wait until it is healthy.

    Without a fixed ``port`` a free one is picked, up to ``attempts`` times: a
    free port can be taken between probe and bind. ``retry_on`` (lower case)
    limits the retries to an early exit whose log tail says it. ``make_server``
    gets ``pid``, ``port`` and ``start_time`` and returns the record. Failures
    raise ``error`` with the log's tail; a server that is not healthy in time is
    stopped first.
    """
    last_error = ""
    for _ in range(1 if port else attempts):
        chosen = port or free_port()
        argv = command(chosen)
        log = open(log_path, "ab")
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env=env,
            )
        except OSError as exc:
            raise error(f"cannot run {argv[0]}: {exc}") from exc
        finally:
            log.close()
        server = make_server(pid=proc.pid, port=chosen, start_time=process_start_time(proc.pid))
        deadline = time.monotonic() + health_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if server.healthy():
                return server
            time.sleep(poll_s)
        last_error = server.log_tail()
        exited = proc.poll() is not None
        server.stop()
        if not exited:
            raise error(f"{name} not healthy after {health_timeout:.0f}s: {last_error}")
        if retry_on is not None and retry_on not in last_error.lower():
            break
    raise error(f"{name} exited at start: {last_error}")
