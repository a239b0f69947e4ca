"""The llmbench pytest plugin: the entry module (loaded through the ``pytest11`` entry point).

Thin on purpose, and idle unless asked: it imports only ``pytest`` and the
option definitions (``llmbench.plugin.options``), so a pytest run without
``--model``/``--replay`` prints nothing of llmbench and creates nothing. With
``--model`` the run's state lives in ``llmbench.plugin.session.BenchSession``
(one object registered in ``pytest_configure``); throughput, xdist-only and
pytest-html-only hooks are their own plugins, registered only when needed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from llmbench.plugin import options

if TYPE_CHECKING:
    from llmbench.plugin.session import BenchSession

SESSION_KEY: pytest.StashKey[BenchSession] = pytest.StashKey()
NO_MODEL_HINT = "llmbench: no --model given; try `pytest --model demo` (built-in server) or `--model NAME --api-url URL`"


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser) -> None:
    from llmbench.plugin import pathtrap

    pathtrap.correct(early_config, parser, options.GROUP)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "llmbench: a benchmark test; skipped unless --model is given")
    if not options.is_active(config):
        return
    from llmbench import redact
    from llmbench.plugin.session import BenchSession, SessionError
    from llmbench.textsafety import one_line

    redact.add_secret(config.getoption("api_key"))
    redact.add_environment_secrets()
    try:
        session = BenchSession.from_config(config, api_key=config.getoption("api_key") or os.environ.get("OPENAI_API_KEY"))
    except SessionError as exc:  # may quote a server's reply: redacted, no control characters
        raise pytest.UsageError(f"llmbench: {one_line(exc)}") from None
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "llmbench-session")
    if config.option.collectonly:  # listing tests creates nothing (no barrier folder, run folder or report)
        return
    from llmbench.plugin.throughput import make_plugin

    config.pluginmanager.register(make_plugin(config), "llmbench-throughput")
    if config.pluginmanager.hasplugin("xdist"):
        from llmbench.plugin._xdist import XdistHooks

        config.pluginmanager.register(XdistHooks(session), "llmbench-xdist")
    if config.pluginmanager.hasplugin("html") and session.is_controller and session.active:
        from llmbench.plugin._html import HtmlHooks

        config.pluginmanager.register(HtmlHooks(session), "llmbench-html")


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "llmbench_client_index" in metafunc.fixturenames:
        from llmbench.plugin.throughput import concurrency

        c = concurrency(metafunc.config)
        metafunc.parametrize("llmbench_client_index", list(range(c)), ids=[f"client{i}of{c}" for i in range(c)])


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if config.stash.get(SESSION_KEY, None) is not None or hasattr(config, "workerinput"):
        return
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        if isinstance(longrepr, tuple) and NO_MODEL_HINT in str(longrepr[-1]):
            terminalreporter.write_line(NO_MODEL_HINT)
            return


def _session(config: pytest.Config):
    session = config.stash.get(SESSION_KEY, None)
    if session is None:
        pytest.skip(NO_MODEL_HINT)
    return session


@pytest.fixture(scope="session")
def llmbench_endpoint(pytestconfig: pytest.Config):
    """The resolved model endpoint of this run (skips when no --model is given)."""
    return _session(pytestconfig).require_endpoint()


@pytest.fixture
def llmbench_grade(request: pytest.FixtureRequest):
    """``llmbench_grade(task, check_id)``: grade one check of the run's answer(s), failing with the evidence."""
    session = _session(request.config)
    session.require_endpoint()

    def grade_check(task: str, check_id: str) -> None:
        session.grade_check(request.node, task, check_id)

    return grade_check


@pytest.fixture
def llmbench_client_index() -> int:
    return 0


@pytest.fixture
def llmbench_throughput_client(request: pytest.FixtureRequest, llmbench_client_index: int):
    """One closed-loop streaming client of a throughput run; ``.run()`` it."""
    plugin = request.config.pluginmanager.get_plugin("llmbench-throughput")
    if plugin is None:
        pytest.skip(NO_MODEL_HINT)
    return plugin.client(request, llmbench_client_index)
