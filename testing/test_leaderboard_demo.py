"""The done-when path: a demo sweep from the real ``llmbench sweep`` beside a quality run and the reference."""

from __future__ import annotations

from leaderboard_helpers import full_marks, write_quality_run

from llmbench.cli import sweep as sweep_cli
from llmbench.cli.report import main as report


def test_demo_sweep_joins_a_demo_quality_run_and_lands_beside_the_reference(tmp_path, capsys):
    reports = tmp_path / "reports"
    assert sweep_cli.main(["--model", "demo", "--levels", "1,2", "--requests-per-client", "1",
                           "--warmup", "0", "--max-tokens", "32", "--out", str(reports / "demo-sweep")]) == 0
    # A demo quality run as docs/results-schema.md describes it.
    write_quality_run(reports, "demo-quality", alias="demo", name="demo (built-in server)", quant=None, tp=None,
                      framework="llmbench-sim", context=None, gpu=None, demo=True,
                      passes={**full_marks(), "stratum": [4]}, started_at="2099-01-01T00:00:00+00:00")
    capsys.readouterr()
    assert report([str(reports), "--with-reference", "--out", str(tmp_path / "lb")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 row(s) from 1 quality run(s) and 1 sweep(s) + published reference")
    md = (tmp_path / "lb" / "leaderboard.md").read_text()
    demo_line = next(ln for ln in md.splitlines() if ln.startswith("| ") and "demo (built-in server)" in ln)
    assert "95.5% (21/22)" in demo_line and "@ C=" in demo_line      # quality and throughput in one row
    for title in ("Model Rankings", "Category Winners", "Detailed Test Results", "Throughput Scaling"):
        assert f"## {title}" in md
    assert (tmp_path / "lb" / "quality_vs_throughput.png").is_file() and (tmp_path / "lb" / "scaling.png").is_file()
