"""Shared fixtures for the harness's own tests."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import pytest

# pytester restores sys.modules after every in-process run: the openai SDK is
# imported here, before the first snapshot, so a later run cannot re-import it
# and end up with two copies of its classes.
import llmbench.endpoints.client  # noqa: F401
from llmbench.endpoints.endpoint import Endpoint

REPO = Path(__file__).resolve().parents[1]
# What the self-tests must leave exactly as they found it (no .pyc, no scratch files).
UNTOUCHED = (REPO / "fixtures", REPO / "tests", REPO / "serve", REPO / "patches")
_SNAPSHOT = pytest.StashKey[dict]()


def _tree(roots) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns)
            for root in roots for p in root.rglob("*") if p.is_file()}


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        session.config.stash[_SNAPSHOT] = _tree(UNTOUCHED)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_SNAPSHOT, None)
    if before is None:
        return
    after = _tree(UNTOUCHED)
    changed = sorted(set(before) ^ set(after) | {p for p in before.keys() & after.keys() if before[p] != after[p]})
    if changed:
        session.config.get_terminal_writer().line(
            "self-tests changed the repository: " + ", ".join(changed[:10]), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def sim():
    """One built-in server for read-only client tests."""
    from llmbench.sim.server import start_background

    handle = start_background(instant=True)
    yield handle
    handle.stop()


@pytest.fixture
def start_sim():
    """Start a fresh built-in server with options; stopped after the test."""
    from llmbench.sim.server import start_background

    handles = []

    def start(**options):
        handle = start_background(**options)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        handle.stop()


@pytest.fixture
def endpoint_for():
    def make(handle, **changes) -> Endpoint:
        base = Endpoint(alias="demo", name="demo", served_name="demo", api_url=handle.base_url,
                        max_tokens=64, request_timeout=30.0, demo=True)
        return dataclasses.replace(base, **changes)

    return make


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bench(pytester):
    """A pytester dir holding the real benchmark modules (tests/quality) and pytest.ini."""
    for source in sorted((REPO / "tests" / "quality").glob("test_*.py")):
        pytester.path.joinpath(source.name).write_text(source.read_text())
    pytester.path.joinpath("pytest.ini").write_text(
        "[pytest]\naddopts = -p no:cacheprovider\nmarkers =\n    llmbench: benchmark\n"
    )
    return pytester
