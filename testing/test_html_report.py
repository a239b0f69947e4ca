"""The pytest-html run report: model output and names show as text, never run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser_helpers import INJECTION_PAYLOADS, artifact_dir, check_page, require_browser

HOSTILE = "\n".join(INJECTION_PAYLOADS.values())


def _hostile_run(bench) -> Path:
    """A saved run whose model name and zmq answer carry every injection payload."""
    bench.runpytest_subprocess("--model", "demo", "--results-dir", "out", "-k", "zmq")
    saved = sorted((bench.path / "out").glob("*/results.json"))[-1]
    data = json.loads(saved.read_text())
    data["model"]["name"] = "evil " + INJECTION_PAYLOADS["script"]
    sample = data["tests"]["zmq"]["samples"][0]
    sample["raw_content"] = (
        "The socket is created in __init__ but `_listen` uses it from another thread "
        + INJECTION_PAYLOADS["img-onerror"] + "\n\n" + HOSTILE + "\n" + sample["raw_content"]
    )
    sample["raw_reasoning"] = HOSTILE
    saved.write_text(json.dumps(data))
    return saved


@pytest.fixture
def hostile_report(bench) -> Path:
    saved = _hostile_run(bench)
    result = bench.runpytest_subprocess("--replay", str(saved), "--results-dir", "replayed")
    assert result.ret in (0, 1), result.stdout.str()
    return next((bench.path / "replayed").glob("*/report.html"))


def test_report_source_has_no_live_markup_from_the_model(hostile_report):
    html = hostile_report.read_text()
    for payload in INJECTION_PAYLOADS.values():
        assert payload not in html, payload
    assert "&lt;script&gt;" in html or "&amp;lt;script&amp;gt;" in html


@pytest.mark.browser
def test_report_in_a_browser_runs_no_injected_script(hostile_report):
    require_browser()

    def expand_everything(page):
        for toggle in page.query_selector_all(".collapsible td, #show_all_details"):
            try:
                toggle.click(timeout=1_000)
            except Exception:
                pass

    result = check_page(hostile_report, interact=expand_everything,
                        screenshot=artifact_dir() / "run-report-injection.png")
    assert not result.injected_script_ran, result.injected_calls + result.dialogs
    assert not result.external_requests
    assert not result.page_errors, result.page_errors
