"""Find, start, health-check and stop llama.cpp's C++ ``llama-server``.

The binary comes from ``scripts/build_llama_server.sh`` (cached under
``${LLMBENCH_CACHE:-~/.cache/llmbench}/llama-server-<version>/``), or from
``$LLMBENCH_LLAMA_SERVER``. Nothing here imports pytest: the session fixture in
``testing/llama_helpers.py`` and any script can use it.

Starting, health-checking and stopping (by PID, guarded by the PID's start
time) are shared with the other engines in :mod:`realserver.process`;
what is llama-server's own is the command line and its ``{"status": "ok"}``.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from realserver.process import ServerProcess, cache_root, start_and_wait

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
BUILD_SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "build_llama_server.sh"
DEFAULT_ALIAS = "tiny-llama"


class LlamaServerError(RuntimeError):
    """The server could not be found, started or reached; the message says why."""


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


@dataclass
class LlamaServer(ServerProcess):
    """A running ``llama-server``; stopped by PID (one process, no children)."""

    alias: str
    n_parallel: int
    ctx_size: int
    model_path: str

    def health_ok(self, body: dict) -> bool:
        return body.get("status") == "ok"


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

    def command(chosen: int) -> list[str]:
        return [
            str(binary), "-m", str(model_path), "--alias", alias,
            "--host", "127.0.0.1", "--port", str(chosen),
            "-np", str(n_parallel), "-c", str(ctx_size),
            "-t", str(threads), "-tb", str(threads),
            "--no-webui", *extra,
        ]

    record = partial(LlamaServer, alias=alias, n_parallel=n_parallel, ctx_size=ctx_size,
                     model_path=str(model_path), log_path=str(log_path), extra_args=extra)
    return start_and_wait(command, record, log_path=log_path, name="llama-server", error=LlamaServerError,
                          port=port, attempts=3, health_timeout=health_timeout, poll_s=0.05)
