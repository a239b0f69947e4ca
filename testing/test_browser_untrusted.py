"""Run data is untrusted: with markup in every field, report.html and the leaderboard run no script.

report.html comes from a real run against a server that serves a model named with
markup and answers with markup, under a models.yaml alias and display name with
markup, an endpoint path with markup, and markup in --framework/--quant-method/--gpu
and a --metadata field. The leaderboard is built from run files with markup in every
text field. Both pages are opened in headless Chromium; the payloads must show as text.
"""

from __future__ import annotations

import json

import pytest
import yaml
from browser_helpers import INJECTION_PAYLOADS, Browser, artifact_dir, require_browser
from echo_server import EchoServer
from leaderboard_helpers import full_marks, write_quality_run, write_sweep

from llmbench.cli.report import main as report_main

pytestmark = pytest.mark.browser

PAYLOADS = {**INJECTION_PAYLOADS,
            "close-script": "</script><script>window.__llmbench_injected('close-script')</script>",
            "close-textarea": "</textarea></title><img src=x onerror=\"window.__llmbench_injected('title')\">"}
KEY = "sk-untrusted-test-key-0123456789"


@pytest.fixture(scope="module")
def browser():
    require_browser()
    with Browser() as b:
        yield b


def _clean(page) -> None:
    assert page.injected_calls == [] and page.dialogs == [], (page.injected_calls, page.dialogs)
    assert page.javascript_links == [] and page.external_requests == []
    assert page.page_errors == []


@pytest.mark.parametrize("key", ["img-onerror", "close-script", "attribute-breakout"])
def test_run_report_shows_hostile_names_and_metadata_as_text(browser, bench, key):
    payload = PAYLOADS[key]
    with EchoServer(KEY, error_when=(), served=f"served {payload}", extra=f" answer {payload}") as server:
        models = {"models": {payload: {"name": f"name {payload}", "served_name": f"served {payload}",
                                       "api_url": f"{server.base_url}/{payload}"}}}
        (bench.path / "models.yaml").write_text(yaml.safe_dump(models), encoding="utf-8")
        result = bench.runpytest_subprocess(
            "--model", payload, "--models-file", "models.yaml", "--results-dir", "out", "-k", "zmq",
            "--serving-framework", f"fw {payload}", "--serving-quant", f"q {payload}", "--serving-gpu", f"gpu {payload}",
            "--metadata", "hostile", f"meta {payload}", "--max-tokens", "16")
    report = next((bench.path / "out").glob("*/report.html"))
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    page = browser.check(report, table_selector="#environment", wait_for="#results-table tbody tr",
                         screenshot=artifact_dir() / f"run-report-hostile-{key}.png")
    _clean(page)
    environment = " ".join(" ".join(row) for row in page.table_text)
    assert f"meta {payload}" in environment and payload in environment   # shown, not double-escaped
    data = json.loads(next((bench.path / "out").glob("*/results.json")).read_text())
    assert data["model"]["served_name"] == f"served {payload}"


@pytest.fixture(scope="module")
def hostile_leaderboard(tmp_path_factory):
    """Run files with a payload in every field a leaderboard can show, including the ones rarely set."""
    root = tmp_path_factory.mktemp("untrusted") / "reports"
    for i, payload in enumerate(PAYLOADS.values()):
        path = write_quality_run(root, f"q{i}", alias=payload, name=f"M{i} {payload}", gpu=payload,
                                 framework=payload, quant=payload, answer=payload,
                                 test_titles=dict.fromkeys(full_marks(), payload))
        data = json.loads(path.read_text())
        data["model"].update(served_name=payload, api_url=payload, reasoning=payload)
        data["serving"].update(context=payload, tp=payload)
        data.update(status=payload if i % 2 else "complete", started_at=payload, run_id=payload)
        for test in data["tests"].values():
            for check in test["checks"].values():
                check["evidence"] = payload
        path.write_text(json.dumps(data), encoding="utf-8")
        sweep = write_sweep(root, f"s{i}", alias=payload, name=f"M{i} {payload}", gpu=payload,
                            framework=payload, quant=payload)
        data = json.loads(sweep.read_text())
        data.update(api_url=payload, started_at=payload, run_id=payload, status=payload)
        sweep.write_text(json.dumps(data), encoding="utf-8")
    out = root.parent / "out"
    assert report_main([str(root), "--with-reference", "--out", str(out)]) == 0
    return out / "leaderboard.html"


def test_leaderboard_with_payloads_in_every_field_runs_no_script(browser, hostile_leaderboard):
    page = browser.check(hostile_leaderboard, table_selector="table.sortable",
                         screenshot=artifact_dir() / "leaderboard-untrusted.png")
    _clean(page)
    text = hostile_leaderboard.read_text(encoding="utf-8")
    assert "<script>window.__llmbench_injected" not in text and "<img src=x" not in text
