"""The unified-diff applier and the `llmbench patches` CLI on small synthetic trees."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from llmbench.cli import patches as patches_cli
from llmbench.patching import unidiff

ORIGINAL = "".join(f"line {i}\n" for i in range(1, 31))
CHANGED = ORIGINAL.replace("line 10\n", "line ten\nline ten and a half\n").replace("line 25\n", "")


def make_diff(old: str, new: str, path: str = "vllm/mod.py", header: str = "vllm-versions: 0.14.0\n") -> str:
    body = difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{path}", f"b/{path}")
    return header + "\n" + "".join(body)


def test_apply_and_reverse_round_trip() -> None:
    patch = unidiff.parse(make_diff(ORIGINAL, CHANGED))
    assert patch.header == {"vllm-versions": "0.14.0"}
    (fp,) = patch.files
    assert fp.path == "vllm/mod.py" and len(fp.hunks) == 2
    assert unidiff.apply_hunks(ORIGINAL, fp.hunks) == CHANGED
    assert unidiff.apply_hunks(CHANGED, fp.hunks, reverse=True) == ORIGINAL
    assert unidiff.status(ORIGINAL, fp) == ("applies", "")
    assert unidiff.status(CHANGED, fp) == ("already applied", "")


def test_hunks_are_found_when_lines_moved() -> None:
    fp = unidiff.parse(make_diff(ORIGINAL, CHANGED)).files[0]
    shifted = "new first line\nanother\n" + ORIGINAL
    assert unidiff.apply_hunks(shifted, fp.hunks) == "new first line\nanother\n" + CHANGED


def test_a_changed_context_line_does_not_apply_and_says_where() -> None:
    fp = unidiff.parse(make_diff(ORIGINAL, CHANGED)).files[0]
    drifted = ORIGINAL.replace("line 9\n", "line nine\n")
    state, reason = unidiff.status(drifted, fp)
    assert state == "does not apply"
    assert "hunk 1" in reason and "line nine" in reason and "line 9" in reason


def test_crlf_files_keep_their_line_endings() -> None:
    fp = unidiff.parse(make_diff(ORIGINAL, CHANGED)).files[0]
    crlf = ORIGINAL.replace("\n", "\r\n")
    assert unidiff.apply_hunks(crlf, fp.hunks) == CHANGED.replace("\n", "\r\n")


@pytest.mark.parametrize("text, message", [
    ("just words\n", "no file"),
    ("--- a/x\nnot plus\n", "not followed"),
    ("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n", "truncated"),
])
def test_malformed_patches_are_refused(text: str, message: str) -> None:
    with pytest.raises(unidiff.PatchError, match=message):
        unidiff.parse(text)


# --- the CLI ------------------------------------------------------------------


@pytest.fixture
def fake_tree(tmp_path: Path) -> tuple[Path, Path]:
    tree = tmp_path / "site"
    (tree / "vllm").mkdir(parents=True)
    (tree / "vllm" / "__init__.py").write_text("")
    (tree / "vllm" / "_version.py").write_text("__version__ = version = '0.14.0'\n")
    (tree / "vllm" / "mod.py").write_text(ORIGINAL)
    pdir = tmp_path / "patches"
    pdir.mkdir()
    (pdir / "0001-demo.diff").write_text(make_diff(ORIGINAL, CHANGED))
    return tree, pdir


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = patches_cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_apply_keeps_a_backup_and_is_idempotent(fake_tree, capsys) -> None:
    tree, pdir = fake_tree
    base = ["--vllm-dir", str(tree), "--patches-dir", str(pdir)]
    assert run(capsys, "apply", *base)[1].endswith("0001-demo: applied\n")
    assert (tree / "vllm" / "mod.py").read_text() == CHANGED
    assert (tree / "vllm" / "mod.py.llmbench-orig").read_text() == ORIGINAL
    code, out, _ = run(capsys, "apply", *base)
    assert code == 0 and "0001-demo: already applied" in out
    assert (tree / "vllm" / "mod.py").read_text() == CHANGED
    assert run(capsys, "revert", *base)[0] == 0
    assert (tree / "vllm" / "mod.py").read_text() == ORIGINAL
    code, out, _ = run(capsys, "revert", *base)
    assert code == 0 and "not applied" in out


def test_check_reports_a_patch_that_does_not_apply(fake_tree, capsys) -> None:
    tree, pdir = fake_tree
    (tree / "vllm" / "mod.py").write_text(ORIGINAL.replace("line 11\n", "line eleven\n"))
    code, out, _ = run(capsys, "check", "--vllm-dir", str(tree), "--patches-dir", str(pdir))
    assert code == 1
    assert "0001-demo: does not apply (hunk 1 does not match" in out


def test_other_versions_are_refused_unless_forced(fake_tree, capsys) -> None:
    tree, pdir = fake_tree
    (tree / "vllm" / "_version.py").write_text("__version__ = version = '0.15.1'\n")
    base = ["--vllm-dir", str(tree), "--patches-dir", str(pdir)]
    code, out, err = run(capsys, "apply", *base)
    assert code == 2 and out.startswith("vLLM 0.15.1")
    assert err.count("\n") == 1 and err.startswith("llmbench: these patches are for vLLM 0.14.0, found 0.15.1")
    assert (tree / "vllm" / "mod.py").read_text() == ORIGINAL
    code, out, _ = run(capsys, "check", *base)  # check only warns
    assert code == 0 and "warning:" in out and "0001-demo: applies" in out
    assert run(capsys, "apply", "--force", *base)[0] == 0
    assert (tree / "vllm" / "mod.py").read_text() == CHANGED


def test_version_from_dist_info_when_no_version_file(fake_tree, capsys) -> None:
    tree, pdir = fake_tree
    (tree / "vllm" / "_version.py").unlink()
    (tree / "vllm-0.14.0.dist-info").mkdir()
    (tree / "vllm-0.14.0.dist-info" / "METADATA").write_text("Name: vllm\nVersion: 0.14.0\n")
    code, out, _ = run(capsys, "check", "--vllm-dir", str(tree), "--patches-dir", str(pdir))
    assert code == 0 and out.startswith("vLLM 0.14.0")


def test_a_missing_vllm_dir_is_one_line(tmp_path, capsys) -> None:
    code, out, err = run(capsys, "check", "--vllm-dir", str(tmp_path / "nowhere"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("llmbench: no vllm package in")


def test_shipped_patches_have_headers() -> None:
    for lp in patches_cli.load_patches():
        header = lp.patch.header
        assert lp.versions == ["0.14.0"], lp.name
        assert header["fixes"] and header["applies-to"] and header["file"] == lp.patch.files[0].path
