"""The whole path a user takes: ``pytest --model demo``, ``llmbench sweep``, ``llmbench report``, the page in Chromium.

Also where every writer's file modes are checked: what llmbench writes is meant to
be copied and shared, so it gets the mode ``open()`` would give under the umask.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from browser_helpers import Browser, require_browser

from llmbench import plotting
from llmbench.cli.report import main as report_main

REPO = Path(__file__).resolve().parents[1]
UMASK = 0o022


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([*args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
                          preexec_fn=lambda: os.umask(UMASK))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    work = tmp_path_factory.mktemp("roundtrip")
    reports = work / "reports"
    _run(sys.executable, "-m", "pytest", str(REPO / "tests" / "quality"), "--model", "demo", "-q",
         "-p", "no:randomly", "-p", "no:cacheprovider", f"--results-dir={reports}", cwd=work)
    _run(sys.executable, "-m", "llmbench", "sweep", "--model", "demo", "--levels", "1,2", "--max-tokens", "32",
         "--requests-per-client", "2", "--capacity-curve", "1:400,2:700", "--out", str(reports / "sweep-demo"),
         cwd=work)
    _run(sys.executable, "-m", "llmbench", "report", str(reports), "--out", str(work / "board"), cwd=work)
    return work


def test_every_file_written_has_the_umask_mode(round_trip):
    expected = 0o666 & ~UMASK
    files = [p for p in round_trip.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"results.json", "report.html", "sweep.json", "scaling.md", "leaderboard.html", "leaderboard.md"} <= names
    assert any(p.parent.name == "answers" for p in files)
    wrong = {str(p.relative_to(round_trip)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files
             if stat.S_IMODE(p.stat().st_mode) != expected}
    assert wrong == {}


def test_the_leaderboard_shows_the_demo_runs_quality_and_throughput(round_trip):
    results = json.loads(next((round_trip / "reports").glob("*/results.json")).read_text())
    assert results["totals"]["percent"] == 100.0
    md = (round_trip / "board" / "leaderboard.md").read_text()
    rankings = md.split("## Model Rankings", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in rankings.splitlines() if line.startswith("| ") and "demo" in line.lower())
    assert "100" in row  # quality from results.json
    assert "@ C=" in row  # peak throughput from the sweep


@pytest.mark.browser
def test_the_leaderboard_page_in_chromium(round_trip):
    require_browser()
    with Browser() as browser:
        page = browser.check(round_trip / "board" / "leaderboard.html", table_selector="#table-rankings")
    assert page.console_errors == [] and page.page_errors == []
    assert page.external_requests == []
    header, *rows = page.table_text
    demo = [row for row in rows if any("demo" in cell.lower() for cell in row)]
    assert len(demo) == 1
    cells = dict(zip(header, demo[0], strict=True))
    quality = next(v for k, v in cells.items() if "%" in k or "quality" in k.lower() or "score" in k.lower())
    peak = next(v for k, v in cells.items() if "peak" in k.lower())
    assert "100" in quality
    assert "@ C=" in peak


def test_report_without_matplotlib_says_so_in_one_line_and_writes_the_pages(round_trip, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(plotting, "available", lambda: False)
    out = tmp_path / "board"
    assert report_main([str(round_trip / "reports"), "--out", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"llmbench: report: {plotting.MISSING}"]
    assert sorted(p.name for p in out.iterdir()) == ["leaderboard.html", "leaderboard.md"]
    assert "matplotlib is not installed" in (out / "leaderboard.md").read_text()
