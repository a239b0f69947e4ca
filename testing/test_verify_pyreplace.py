"""Python patch scripts in answers: their ``str.replace`` edits read and applied, never run."""

from __future__ import annotations

import pytest

from llmbench.tasks.prompting import read_fixture
from llmbench.verify.candidate import NoCandidate, build_candidate
from llmbench.verify.pyreplace import UnknownScript, apply_replacements, replace_edits

SCRIPT = '''from pathlib import Path

p = Path("pplns.py")
src = p.read_text()
src = src.replace(
    "self.share_window = 10000",
    "self.share_window = int(config.get('pplns_window', 10000))")
src = src.replace("a", "b", 1).replace("c", "d")
p.write_text(src)
'''


def test_replacements_are_read_in_the_order_python_applies_them():
    [(name, edits)] = replace_edits(SCRIPT, {"pplns.py"})
    assert name == "pplns.py"
    assert edits == [("self.share_window = 10000", "self.share_window = int(config.get('pplns_window', 10000))", -1),
                     ("a", "b", 1), ("c", "d", -1)]
    assert apply_replacements("a a c", [("a", "b", 1), ("c", "d", -1)]) == ("b a d", [])


def test_a_replacement_that_finds_nothing_is_reported_idle():
    text, idle = apply_replacements("x = 1\n", [("x = 1\n", "x = 2\n", -1), ("y = 1", "y = 2", -1)])
    assert text == "x = 2\n" and idle == ["replace('y = 1', 'y = 2')"]


def test_scripts_that_patch_no_task_file_or_edit_it_otherwise():
    assert replace_edits(SCRIPT.replace('"pplns.py"', '"notes.txt"'), {"pplns.py"}) == []
    assert replace_edits(SCRIPT.replace("p.write_text(src)", "print(src)"), {"pplns.py"}) == []   # never written back
    assert replace_edits("this is not python (", {"pplns.py"}) == []
    with pytest.raises(UnknownScript):
        replace_edits(SCRIPT.replace('src = src.replace("a", "b", 1)', 'src = re.sub("a", "b", src)'), {"pplns.py"})
    with pytest.raises(UnknownScript):
        replace_edits(SCRIPT.replace('"c", "d"', 'old, new'), {"pplns.py"})


def test_an_answer_patched_by_a_heredoc_script_runs_as_the_script_leaves_it():
    script = SCRIPT.replace('src = src.replace("a", "b", 1).replace("c", "d")\n', "")
    answer = f"```bash\ncp pplns.py pplns.py.bak\npython3 - <<'EOF'\n{script}EOF\n```\n"
    built = build_candidate("pplns", answer)
    assert "int(config.get('pplns_window', 10000))" in built.files["pplns.py"]
    assert built.changed == {"PPLNSManager.__init__"} and built.written and not built.idle_edits
    # a replacement whose text is not in the file changes nothing, and says so
    idle = answer.replace("self.share_window = 10000", "self.share_window=10000", 1)
    built = build_candidate("pplns", idle)
    assert "self.share_window = 10000" in read_fixture("pplns.py")
    assert any("share_window=10000" in edit for edit in built.idle_edits)


def test_an_edit_that_breaks_the_file_is_the_program_and_no_crash():
    broken = SCRIPT.replace('src = src.replace("a", "b", 1).replace("c", "d")', 'src = src.replace("class ", "dlass ")')
    built = build_candidate("pplns", f"```bash\npython3 - <<'EOF'\n{broken}EOF\n```\n")
    assert "dlass PPLNSManager" in built.files["pplns.py"]
    assert "PPLNSManager.calculate_payouts" in built.changed and "does not parse" in built.notes[0]


def test_a_script_the_answer_writes_and_then_runs_is_followed_too():
    script = ('path = "pplns.py"\nsrc = open(path).read()\nsrc = src.replace("self.share_window = 10000", '
              '"self.share_window = int(config.get(\'pplns_window\', 10000))")\nopen(path, "w").write(src)\n')
    ran = f"```bash\ncat > /tmp/fix.py << 'EOF'\n{script}EOF\npython3 /tmp/fix.py\n```\n"
    assert "int(config.get('pplns_window', 10000))" in build_candidate("pplns", ran).files["pplns.py"]
    # written and never run, or opened for reading only: no edit
    assert isinstance(build_candidate("pplns", ran.replace("python3 /tmp/fix.py\n", "")), NoCandidate)
    assert replace_edits(script.replace('open(path, "w")', "open(path)"), {"pplns.py"}) == []
