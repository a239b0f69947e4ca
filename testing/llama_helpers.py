"""Fixtures that run a real llama.cpp ``llama-server`` on a generated tiny model.

Use from a test module with ``pytest_plugins = ("llama_helpers",)`` (or list it
in ``testing/conftest.py``). Fixtures:

* ``llama_binary``   the ``llama-server`` path, or the test is skipped with the reason
                     (``LLMBENCH_REQUIRE_LLAMA=1``, set in CI, turns that skip into a failure).
* ``tiny_gguf``      the tiny model, generated once into the cache.
* ``llama_server``   ONE shared server for the whole run, even under ``pytest -n``.
* ``llama_server_factory``  private servers for one test (kill tests, ``-np`` variants).

How the shared server survives xdist (a lease in a state file that the last
worker out stops) is in ``testing/shared_server.py``, shared with vLLM's helpers.

Building: set ``LLMBENCH_BUILD_LLAMA=1`` to let the fixture run
``scripts/build_llama_server.sh`` (about 5 minutes on 2 cores, once, under a
lock so parallel workers do not build twice); otherwise build it beforehand.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from realserver import llama as llama_mod
from realserver.llama import LlamaServer, LlamaServerError
from shared_server import next_log_path, private_servers, shared_server, start_or_fail

# Bump when tinymodel.py changes what it writes, so a stale cached model is not reused.
TINY_MODEL_REVISION = 1
SHARED_N_PARALLEL = 4


def _unavailable(reason: str) -> None:
    if os.environ.get("LLMBENCH_REQUIRE_LLAMA") == "1":
        pytest.fail(f"{reason} (LLMBENCH_REQUIRE_LLAMA=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def llama_binary() -> Path:
    binary = llama_mod.find_binary()
    if binary is None and os.environ.get("LLMBENCH_BUILD_LLAMA") == "1":
        root = llama_mod.cache_root()
        root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(root / "llama-build.lock")):
            binary = llama_mod.find_binary()
            if binary is None:
                try:
                    binary = llama_mod.build_binary()
                except (LlamaServerError, OSError) as exc:
                    _unavailable(str(exc))
    if binary is None:
        where = os.environ.get("LLMBENCH_LLAMA_SERVER") or llama_mod.cached_binary()
        _unavailable(
            f"llama-server not found at {where}: run scripts/build_llama_server.sh "
            "(or set LLMBENCH_BUILD_LLAMA=1, or LLMBENCH_LLAMA_SERVER=/path/to/llama-server)"
        )
    return binary


@pytest.fixture(scope="session")
def tiny_gguf() -> Path:
    try:
        from realserver import tinymodel
    except ImportError as exc:  # pragma: no cover - the module itself imports nothing heavy
        _unavailable(f"cannot import the tiny model writer: {exc}")
    root = llama_mod.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"tiny-llama-seed{tinymodel.DEFAULT_SEED}-r{TINY_MODEL_REVISION}.gguf"
    with FileLock(str(path) + ".lock"):
        if not path.is_file():
            try:
                tinymodel.write_tiny_gguf(path)
            except ImportError as exc:
                _unavailable(f"the tiny model needs the test extras (pip install -e '.[test]'): {exc}")
    return path


@pytest.fixture(scope="session")
def timing_gguf(tiny_gguf: Path) -> Path:
    """A wider model (256 wide, 4 layers, ~15 MB) for timing checks.

    The tiny model makes a token in well under a millisecond, which is below the
    client's own per-chunk cost; this one takes about 1-3 ms, so what is measured
    is the server, not the client.
    """
    from realserver import tinymodel

    path = tiny_gguf.with_name(f"timing-llama-seed{tinymodel.DEFAULT_SEED}-r{TINY_MODEL_REVISION}.gguf")
    with FileLock(str(path) + ".lock"):
        if not path.is_file():
            tinymodel.write_tiny_gguf(path, shape=tinymodel.TIMING)
    return path


def _start(binary: Path, model: Path, log_dir: Path, **kwargs) -> LlamaServer:
    return start_or_fail(llama_mod.start_server, LlamaServerError, binary, model,
                         log_path=next_log_path(log_dir, "llama-server"), **kwargs)


@pytest.fixture(scope="session")
def llama_server(llama_binary: Path, tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """The shared server: ``-np 4``, alias ``tiny-llama``, 16384 tokens of context per slot (the quality prompts reach ~12.5K).

    Tests must not kill it or depend on being its only client; use
    ``llama_server_factory`` for that.
    """
    def start(log_dir: Path) -> LlamaServer:
        return _start(llama_binary, tiny_gguf, log_dir, n_parallel=SHARED_N_PARALLEL)

    with shared_server(tmp_path_factory, LlamaServer, "llama", start) as (server, _):
        yield server


@pytest.fixture
def llama_server_factory(llama_binary: Path, tiny_gguf: Path, tmp_path: Path) -> Iterator[Callable[..., LlamaServer]]:
    """Start private servers for this test: ``start(model=None, **start_server_kwargs)``."""
    def start(model: Path | None = None, **kwargs) -> LlamaServer:
        return _start(llama_binary, model or tiny_gguf, tmp_path / "llama-logs", **kwargs)

    with private_servers(start) as tracked:
        yield tracked
