"""``llmbench report`` end to end: files written, tables, plots, ranking beside the reference, escaping."""

from __future__ import annotations

import re

import pytest
from leaderboard_helpers import full_marks, write_quality_run, write_sweep

from llmbench.cli.report import main
from llmbench.leaderboard.markdown import md_text

PNG = b"\x89PNG\r\n\x1a\n"


def report(tmp_path, *extra):
    out = tmp_path / "out"
    rc = main([str(tmp_path / "reports"), "--out", str(out), *extra])
    return rc, out


def md_section(md: str, title: str) -> str:
    return md.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def md_rows(section: str) -> list[list[str]]:
    lines = [ln for ln in section.splitlines() if ln.startswith("| ")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in lines[1:]]


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "reports"
    write_quality_run(root, "20261120-demo", alias="demo", name="demo-model", quant=None, tp=1, framework="sim",
                      context=4096, gpu=None, demo=True, passes={**full_marks(), "stratum": [4], "hiveos": [6]})
    write_sweep(root, "20261120-demo-sweep", alias="demo", name="demo-model", quant=None, tp=1, framework="sim",
                context=4096, gpu=None, levels={1: 40.0, 2: 75.0, 4: 130.0, 8: 190.0})
    return root


def test_report_writes_both_pages_all_tables_and_both_plots(tmp_path, runs, capsys):
    rc, out = report(tmp_path, "--with-reference")
    assert rc == 0, capsys.readouterr().err
    for name in ("leaderboard.md", "leaderboard.html", "quality_vs_throughput.png", "scaling.png"):
        assert (out / name).is_file(), name
    assert (out / "scaling.png").read_bytes().startswith(PNG)
    md = (out / "leaderboard.md").read_text()
    page = (out / "leaderboard.html").read_text()
    for title in ("Model Rankings", "Category Winners", "Detailed Test Results", "Throughput Scaling", "Runs and Hardware"):
        assert f"## {title}" in md and title in page
    assert "](quality_vs_throughput.png)" in md and "](scaling.png)" in md
    assert page.count('src="data:image/png;base64,') == 2
    assert "keyword grader" in md and "keyword grader" in page
    assert "published" in md


def test_user_row_ranks_among_published_rows_and_is_marked_demo(tmp_path, runs):
    rc, out = report(tmp_path, "--with-reference")
    assert rc == 0
    rows = md_rows(md_section((out / "leaderboard.md").read_text(), "Model Rankings"))
    names = [r[1] for r in rows]
    assert len(rows) == 17
    # 19/22 = 86.4%: between Seed-OSS (90.9%) and Qwen3-30B-A3B-Thinking (81.8%).
    demo = next(i for i, n in enumerate(names) if n.startswith("demo-model"))
    assert "Seed-OSS-36B" in names[demo - 1] and "Qwen3-30B-A3B-Thinking" in names[demo + 1]
    assert "*(demo)*" in names[demo] and "*(published)*" not in names[demo]
    assert rows[demo][2:] == ["—", "1", "86.4% (19/22)", "40", "190 @ C=8", "4K", "sim"]
    # The published rows keep the seed's order around it.
    assert [n.split(" *(")[0] for n in names[:4]] == ["Devstral-2-123B", "Nemotron-3-Nano-30B",
                                                       "Qwen3-Coder-30B-A3B", "GLM-4.7-Flash"]


def test_a_fast_user_row_at_100_percent_goes_before_the_first_slower_published_row(tmp_path):
    root = tmp_path / "reports"
    write_quality_run(root, "q", alias="mine", name="Mine-7B", gpu="1x RTX 4090")
    write_sweep(root, "s", alias="mine", name="Mine-7B", gpu="1x RTX 4090", levels={1: 90.0, 32: 800.0})
    rc, out = report(tmp_path, "--with-reference")
    assert rc == 0
    names = [r[1].split(" *(")[0] for r in md_rows(md_section((out / "leaderboard.md").read_text(), "Model Rankings"))]
    # Devstral-2 (300 t/s) is the first published 100% row with a lower peak than 800.
    assert names[:5] == ["Mine-7B", "Devstral-2-123B", "Nemotron-3-Nano-30B", "Qwen3-Coder-30B-A3B", "GLM-4.7-Flash"]


def test_without_reference_only_user_rows_and_plain_rule(tmp_path):
    root = tmp_path / "reports"
    for name, peak, stratum in (("A-1B", 500.0, 5), ("B-2B", 900.0, 5), ("C-3B", 2000.0, 0)):
        write_quality_run(root, f"q-{name}", alias=name, name=name, passes={**full_marks(), "stratum": [stratum]})
        write_sweep(root, f"s-{name}", alias=name, name=name, levels={1: peak / 10, 16: peak})
    rc, out = report(tmp_path)
    assert rc == 0
    md = (out / "leaderboard.md").read_text()
    assert [r[1] for r in md_rows(md_section(md, "Model Rankings"))] == ["B-2B", "A-1B", "C-3B"]
    assert "published" not in md_section(md, "Model Rankings")
    winners = {r[0]: r for r in md_rows(md_section(md, "Category Winners"))}
    assert winners["Best Throughput"][1] == "B-2B"          # C-3B is fastest but below 90%
    assert winners["Smallest Model ≥ 90%"][1] == "A-1B"
    scaling = md_rows(md_section(md, "Throughput Scaling"))
    assert [r[0] for r in scaling] == ["1", "16"]
    assert scaling[1][1:] == ["**900**", "**500**", "**2000**"]


def test_detailed_table_shows_per_test_scores_and_blanks_for_missing_tests(tmp_path):
    root = tmp_path / "reports"
    write_quality_run(root, "q", passes={"zmq": [1], "stratum": [5, 4]})
    rc, out = report(tmp_path)
    assert rc == 0
    [row] = md_rows(md_section((out / "leaderboard.md").read_text(), "Detailed Test Results"))
    # Stratum ran twice (5 and 4 of 5): mean and its 95% interval, clipped to 0..5.
    assert row == ["Qwen3-Coder-30B-A3B", "1/2", "4.5/5 \\[0–5\\]", "5.5/7"]


def test_hostile_strings_are_escaped_in_markdown_and_html_and_do_not_break_plots(tmp_path):
    root = tmp_path / "reports"
    evil = '<script>alert(1)</script> | [x](javascript:alert(1)) $\\frac{1}{0}$ <img src=x onerror=alert(1)>'
    write_quality_run(root, "q", alias="evil", name=evil, gpu='"><b>gpu</b>', framework="<i>vllm</i>",
                      test_titles={"zmq": "<svg onload=alert(1)>"})
    write_sweep(root, "s", alias="evil", name=evil, gpu='"><b>gpu</b>', framework="<i>vllm</i>")
    rc, out = report(tmp_path)
    assert rc == 0
    page = (out / "leaderboard.html").read_text()
    for raw in ("<script>alert", "<img src=x", "<svg", "<b>gpu", "<i>vllm", 'href="javascript'):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = (out / "leaderboard.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert not re.search(r"(?<!\\)\]\(javascript", md) and r"\[x\](javascript" in md
    # The table still has 9 columns: the '|' in the name is escaped.
    assert len(md_rows(md_section(md, "Model Rankings"))[0]) == 9
    assert (out / "quality_vs_throughput.png").read_bytes().startswith(PNG)


def test_md_text_escapes_table_and_link_syntax():
    assert md_text("a|b [c](d) *e* <f>\nnext") == r"a\|b \[c\](d) \*e\* &lt;f&gt; next"


def test_all_flag_lists_every_run(tmp_path):
    root = tmp_path / "reports"
    write_quality_run(root, "q1", started_at="2026-11-01T00:00:00+00:00")
    write_quality_run(root, "q2", started_at="2026-11-02T00:00:00+00:00")
    assert report(tmp_path)[0] == 0
    assert len(md_rows(md_section((tmp_path / "out" / "leaderboard.md").read_text(), "Model Rankings"))) == 1
    assert report(tmp_path, "--all")[0] == 0
    assert len(md_rows(md_section((tmp_path / "out" / "leaderboard.md").read_text(), "Model Rankings"))) == 2


def test_reference_alone_reproduces_the_seed_ranking_in_the_page(tmp_path):
    (tmp_path / "reports").mkdir()
    rc, out = report(tmp_path, "--with-reference")
    assert rc == 0
    rows = md_rows(md_section((out / "leaderboard.md").read_text(), "Model Rankings"))
    assert [r[0] for r in rows] == [str(i) for i in range(1, 17)]
    assert rows[0][1].startswith("Devstral-2-123B") and rows[-1][1].startswith("GPT-OSS-20B")
    assert rows[4][4] == "95.5% (21/22)" and rows[4][6] == "1071 @ C=32" and rows[4][7] == "131K"


# --- failures: one line on stderr, non-zero exit ------------------------------------

def test_missing_path_is_one_clear_line(tmp_path, capsys):
    rc = main([str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith("llmbench: ") and "does not exist" in err


def test_no_runs_is_one_clear_line_suggesting_the_reference(tmp_path, capsys):
    (tmp_path / "reports").mkdir()
    rc, _ = report(tmp_path)
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("llmbench: ") and "--with-reference" in err and err.count("\n") == 1


def test_broken_run_file_is_skipped_with_a_warning(tmp_path, capsys):
    root = tmp_path / "reports"
    write_quality_run(root, "good")
    (root / "bad").mkdir()
    (root / "bad" / "results.json").write_text("{truncated")
    rc, out = report(tmp_path)
    err = capsys.readouterr().err
    assert rc == 0 and "skipping" in err and "bad" in err and "not valid JSON" in err
    assert (out / "leaderboard.html").is_file()


def test_out_path_that_is_a_file_is_refused(tmp_path, runs, capsys):
    (tmp_path / "file").write_text("x")
    rc = main([str(runs), "--out", str(tmp_path / "file")])
    assert rc == 2 and "is a file" in capsys.readouterr().err


def test_dispatcher_routes_report(tmp_path, runs):
    from llmbench.cli import main as llmbench

    assert llmbench(["report", str(runs), "--out", str(tmp_path / "o2")]) == 0
    assert (tmp_path / "o2" / "leaderboard.md").is_file()


def test_partial_runs_rank_after_full_ones_and_win_nothing(tmp_path):
    root = tmp_path / "reports"
    write_quality_run(root, "q-full", alias="full", name="Full-7B", passes={**full_marks(), "stratum": [3]})
    write_quality_run(root, "q-part", alias="part", name="Part-1B", passes={"zmq": [2]})   # 2/2 = 100%
    rc, out = report(tmp_path)
    assert rc == 0
    md = (out / "leaderboard.md").read_text()
    rows = md_rows(md_section(md, "Model Rankings"))
    assert [r[1] for r in rows] == ["Full-7B", "Part-1B *(partial: 2 checks)*"]
    winners = {r[0]: r[1] for r in md_rows(md_section(md, "Category Winners"))}
    assert winners["Best Quality"] == "Full-7B" and "Part-1B" not in " ".join(winners.values())


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and err.startswith("llmbench: report: ")
