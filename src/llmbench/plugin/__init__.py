"""The llmbench pytest plugin: the entry module (loaded through the ``pytest11`` entry point).

Thin on purpose: options and wiring live here, the run's state in
``llmbench.plugin.session.BenchSession`` (one object registered in ``pytest_configure``),
xdist-only and pytest-html-only hooks in their own modules, registered only
when those plugins are active.
"""

from __future__ import annotations

import os

import pytest

from llmbench.plugin.session import SESSION_KEY, BenchSession, SessionError


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise ValueError(text)
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmbench", "llmbench: LLM quality and throughput benchmark")
    group.addoption("--model", default=None,
                    help="model alias from models.yaml, a served model name, or 'demo' (built-in server). "
                         "Without it the benchmark tests are skipped.")
    group.addoption("--api-url", default=None,
                    help="OpenAI-compatible base URL (default: the registry's, else http://localhost:8000/v1)")
    group.addoption("--api-key", default=None,
                    help="API key (default: $OPENAI_API_KEY); never written to reports")
    group.addoption("--models-file", default=None, help="model registry (default: models.yaml of llmbench)")
    group.addoption("--max-tokens", type=_positive_int, default=None,
                    help="max tokens per answer (default: the registry's; throughput: 512)")
    group.addoption("--temperature", type=float, default=None, help="sampling temperature (default: the registry's, 0)")
    group.addoption("--request-timeout", type=_positive_float, default=600.0,
                    help="seconds one request may take (default: 600)")
    group.addoption("--results-dir", default="reports", help="where runs are written (default: reports/)")
    group.addoption("--samples", type=_positive_int, default=1,
                    help="answers per test; each check reports k/N with a 95%% interval (default: 1)")
    group.addoption("--pass-rate", type=_rate, default=None,
                    help="a check's pytest case passes when its pass rate reaches this (default: majority)")
    group.addoption("--replay", default=None, metavar="RESULTS_JSON",
                    help="re-grade a saved run's answers with today's graders, without any server")
    group.addoption("--judge-model", default=None,
                    help="also ask this model, per check, whether the answer meets the criterion; "
                         "recorded beside the rule verdict, never scored")
    group.addoption("--judge-url", default=None, help="the judge's base URL (default: --api-url's)")
    group.addoption("--framework", default=None, help="serving framework for the report (default: the registry's)")
    group.addoption("--tp", type=_positive_int, default=None, help="tensor-parallel size for the report")
    group.addoption("--quant-method", default=None, help="quantization for the report (AWQ, GPTQ g32, BF16, …)")
    group.addoption("--context", type=_positive_int, default=None, help="served context length for the report")
    group.addoption("--gpu", default=None, help="GPU description for the report (default: from nvidia-smi)")
    from llmbench.plugin.throughput import add_options

    add_options(group)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "llmbench: a benchmark test; skipped unless --model is given")
    try:
        session = BenchSession.from_config(config, api_key=config.getoption("api_key") or os.environ.get("OPENAI_API_KEY"))
    except SessionError as exc:
        raise pytest.UsageError(f"llmbench: {exc}") from None
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "llmbench-session")
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


@pytest.fixture(scope="session")
def llmbench_endpoint(pytestconfig: pytest.Config):
    """The resolved model endpoint of this run (skips when no --model is given)."""
    return pytestconfig.stash[SESSION_KEY].require_endpoint()


@pytest.fixture
def llmbench_grade(request: pytest.FixtureRequest):
    """``llmbench_grade(task, check_id)``: grade one check of the run's answer(s), failing with the evidence."""
    session: BenchSession = request.config.stash[SESSION_KEY]
    session.require_endpoint()

    def grade_check(task: str, check_id: str) -> None:
        session.grade_check(request.node, task, check_id)

    return grade_check
