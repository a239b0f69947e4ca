"""Fixtures that run vLLM's OpenAI server on the CPU with the tiny generated HF model.

Opt-in only. vLLM takes about a minute to start and 3 GB of memory, so these
tests run only when asked for, with ``-m slow`` (any marker expression that
names ``slow`` without ``not slow``) or ``LLMBENCH_RUN_SLOW=1``; otherwise each
skips at once, before anything heavy happens, so a plain ``make test`` is not
slowed even on a machine where vLLM is installed.

When asked for, vLLM must be there: the interpreter from ``$LLMBENCH_VLLM_PYTHON``
or the venv ``scripts/setup_vllm_cpu.sh`` makes. Missing, the tests skip with
the reason (``LLMBENCH_REQUIRE_VLLM=1`` turns that skip into a failure).

Use from a test module with ``pytest_plugins = ("vllm_helpers",)``. Fixtures:

* ``vllm_python``   the interpreter that has vLLM (checked by importing its server).
* ``tiny_hf_model`` the tiny model folder, written once into the cache.
* ``vllm_server``   ONE shared server for the run (under ``pytest -n`` too: the
                    first worker starts it, the last one to leave stops it), held
                    exclusively by one test at a time, so a test that reads the
                    server's ``/metrics`` before and after sees only its own requests.
* ``vllm_server_factory``  private servers for one test (other flags).

The sharing across xdist workers is ``testing/shared_server.py``, as for llama-server.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from realserver import tinyhf, vllm_cpu
from realserver.vllm_cpu import VllmServer, VllmServerError
from shared_server import next_log_path, private_servers, shared_server, start_or_fail

SHARED_MAX_NUM_SEQS = 4


def slow_requested(config: pytest.Config) -> bool:
    if os.environ.get("LLMBENCH_RUN_SLOW") == "1":
        return True
    expr = (config.getoption("markexpr", "") or "").replace("(", " ").replace(")", " ")
    words = expr.split()
    return any(w == "slow" and (i == 0 or words[i - 1] != "not") for i, w in enumerate(words))


def _unavailable(reason: str) -> None:
    if os.environ.get("LLMBENCH_REQUIRE_VLLM") == "1":
        pytest.fail(f"{reason} (LLMBENCH_REQUIRE_VLLM=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def vllm_python(request: pytest.FixtureRequest) -> Path:
    if not slow_requested(request.config):
        pytest.skip("vLLM on CPU is opt-in: run with -m slow (or LLMBENCH_RUN_SLOW=1)")
    python = vllm_cpu.find_python()
    if python is None:
        _unavailable(f"vLLM on CPU not installed at {vllm_cpu.where_python()}: run scripts/setup_vllm_cpu.sh "
                     "(or set LLMBENCH_VLLM_PYTHON=/path/to/python-with-vllm)")
    try:
        vllm_cpu.check_python(python)
    except VllmServerError as exc:
        _unavailable(str(exc))
    return python


@pytest.fixture(scope="session")
def tiny_hf_model(vllm_python: Path) -> Path:
    root = vllm_cpu.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"tiny-hf-seed{tinyhf.DEFAULT_SEED}-r{tinyhf.REVISION}"
    with FileLock(str(path) + ".lock"):
        if not (path / "model.safetensors").is_file():
            try:
                tinyhf.write_tiny_hf(path)
            except ImportError as exc:
                _unavailable(f"the tiny model needs the test extras (pip install -e '.[test]'): {exc}")
    return path


def _start(python: Path, model: Path, log_dir: Path, **kwargs) -> VllmServer:
    return start_or_fail(vllm_cpu.start_server, VllmServerError, python, model,
                         log_path=next_log_path(log_dir, "vllm"), **kwargs)


@pytest.fixture(scope="session")
def _vllm_shared(vllm_python: Path, tiny_hf_model: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[VllmServer, Path]]:
    def start(log_dir: Path) -> VllmServer:
        return _start(vllm_python, tiny_hf_model, log_dir, max_num_seqs=SHARED_MAX_NUM_SEQS)

    with shared_server(tmp_path_factory, VllmServer, "vllm", start) as shared:
        yield shared


@pytest.fixture
def vllm_server(_vllm_shared: tuple[VllmServer, Path]) -> Iterator[VllmServer]:
    """The shared server (``--max-num-seqs 4``, served as ``tiny-hf``, 32768 context), this test's alone while it runs."""
    server, directory = _vllm_shared
    with FileLock(str(directory / "vllm-in-use.lock")):
        if not server.is_alive():
            pytest.fail(f"the shared vLLM server died: {server.log_tail()}", pytrace=False)
        yield server


@pytest.fixture
def vllm_server_factory(vllm_python: Path, tiny_hf_model: Path, tmp_path: Path) -> Iterator[Callable[..., VllmServer]]:
    """Start private servers for this test: ``start(**start_server_kwargs)``."""
    def start(**kwargs) -> VllmServer:
        return _start(vllm_python, tiny_hf_model, tmp_path / "vllm-logs", **kwargs)

    with private_servers(start) as tracked:
        yield tracked
