"""The leaderboard page in headless Chromium: loads cleanly, ranks, sorts, never runs injected script."""

from __future__ import annotations

import pytest
from browser_helpers import INJECTION_PAYLOADS, Browser, artifact_dir, require_browser
from leaderboard_helpers import full_marks, write_quality_run, write_sweep

from llmbench.cli.report import main

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    require_browser()
    with Browser() as b:
        yield b


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory):
    """A leaderboard whose run files carry every payload in every text field we render."""
    root = tmp_path_factory.mktemp("hostile") / "reports"
    for i, (key, payload) in enumerate(INJECTION_PAYLOADS.items()):
        name = f"M{i}-{key} {payload}"
        stratum = [5 - (i % 3)]   # 100%, 95.5%, 90.9% ... so rows spread over the ranking
        write_quality_run(root, f"q{i}-{payload}", alias=payload, name=name, gpu=payload, framework=payload,
                          quant=payload, status="interrupted" if i == 0 else "complete",
                          passes={**full_marks(), "stratum": stratum},
                          test_titles={"zmq": payload}, answer=payload,
                          started_at=f"2026-11-2{i}T10:00:00+00:00")
        write_sweep(root, f"s{i}", alias=payload, name=name, gpu=payload, framework=payload, quant=payload,
                    levels={1: 50.0 + i, 8: 300.0 + 100 * i})
    out = root.parent / "out"
    assert main([str(root), "--with-reference", "--out", str(out)]) == 0
    return out / "leaderboard.html"


@pytest.fixture(scope="module")
def plain_page(tmp_path_factory):
    root = tmp_path_factory.mktemp("plain") / "reports"
    write_quality_run(root, "q", passes={**full_marks(), "stratum": [4]})
    write_sweep(root, "s", levels={1: 200.0, 32: 1900.0})
    out = root.parent / "out"
    assert main([str(root), "--with-reference", "--out", str(out)]) == 0
    return out / "leaderboard.html"


def test_page_loads_clean_offline_and_is_screenshotted(browser, plain_page):
    shot = artifact_dir() / "leaderboard.png"
    result = browser.check(plain_page, table_selector="#table-rankings", screenshot=shot)
    assert result.console_errors == [] and result.page_errors == []
    assert result.external_requests == []
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_ranking_table_shows_the_expected_rows_in_order(browser, plain_page):
    result = browser.check(plain_page, table_selector="#table-rankings")
    header, *rows = result.table_text
    assert header[:5] == ["#", "Model", "Quant", "TP", "Quality"]
    assert [r[0] for r in rows] == [str(i) for i in range(1, 18)]
    models = [r[1] for r in rows]
    # 21/22 at 1900 t/s beats every published 95.5% row on peak, so it leads that group.
    assert models[:5] == ["Devstral-2-123B published", "Nemotron-3-Nano-30B published",
                          "Qwen3-Coder-30B-A3B published", "GLM-4.7-Flash published", "Qwen3-Coder-30B-A3B"]
    assert rows[4][4] == "95.5% (21/22)" and rows[4][6] == "1900 @ C=32"
    assert models[-1] == "GPT-OSS-20B published"


def test_clicking_a_header_sorts_the_table(browser, plain_page):
    def sort_by_peak_then_model(page):
        page.click("#table-rankings thead th:nth-child(7) button")

    result = browser.check(plain_page, table_selector="#table-rankings", interact=sort_by_peak_then_model)
    peaks = [float(r[6].split(" @")[0]) for r in result.table_text[1:]]
    assert peaks == sorted(peaks, reverse=True) and peaks[0] == 1900

    def twice(page):
        page.click("#table-rankings thead th:nth-child(2) button")
        page.click("#table-rankings thead th:nth-child(2) button")

    result = browser.check(plain_page, table_selector="#table-rankings", interact=twice)
    names = [r[1].lower() for r in result.table_text[1:]]
    assert names == sorted(names, reverse=True)


def test_injected_markup_renders_as_text_and_never_runs(browser, hostile_page):
    shot = artifact_dir() / "leaderboard-injection.png"
    result = browser.check(hostile_page, table_selector="#table-rankings", screenshot=shot)
    assert result.injected_calls == [] and result.dialogs == []
    assert result.javascript_links == []
    assert result.console_errors == [] and result.page_errors == [] and result.external_requests == []
    cells = " ".join(" ".join(r) for r in result.table_text)
    for payload in INJECTION_PAYLOADS.values():
        assert " ".join(payload.split()) in cells, payload


@pytest.mark.parametrize("table", ["detailed", "scaling", "runs", "winners"])
def test_other_tables_show_payloads_as_text_too(browser, hostile_page, table):
    result = browser.check(hostile_page, table_selector=f"#table-{table}")
    assert not result.injected_script_ran
    text = " ".join(" ".join(r) for r in result.table_text)
    shown = [p for p in INJECTION_PAYLOADS.values() if " ".join(p.split()) in text]
    assert shown, "no hostile model made it into this table"


def test_the_detector_catches_an_unescaped_page(browser, tmp_path):
    """Guard against a check that cannot fail: raw payloads in a page do get caught."""
    raw = tmp_path / "raw.html"
    raw.write_text("<!DOCTYPE html><html><body><table id='t'><tr><td>"
                   + "</td><td>".join(INJECTION_PAYLOADS.values()) + "</td></tr></table></body></html>")
    result = browser.check(raw, table_selector="#t")
    assert {"script", "img", "svg"} <= set(result.injected_calls)
    assert "link" in result.injected_calls and result.javascript_links
    assert result.dialogs == ["alert: xss"]
    assert result.injected_script_ran
