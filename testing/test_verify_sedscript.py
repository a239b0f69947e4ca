"""``sed -i`` commands in answers: split as the shell splits them, applied as sed applies them."""

from __future__ import annotations

import pytest

from llmbench.tasks.prompting import read_fixture
from llmbench.verify.candidate import build_candidate
from llmbench.verify.sedscript import UnknownEdit, apply_sed, apply_sed_idle, sed_edits


def test_substitutions_and_deletions_apply_line_by_line_in_order():
    text = "a = 1\nb = a + 1\nc = 3\n"
    assert apply_sed(text, ["s/a/x/", "/^c = /d"]) == "x = 1\nb = x + 1\n"
    assert apply_sed(text, ["s/a/x/g"]) == "x = 1\nb = x + 1\nc = 3\n"
    # & and groups in the replacement, \n a new line
    assert apply_sed("n = 5", [r"s/\(n\) = \([0-9]\)/\1 = \2 + &/"]) == "n = 5 + n = 5"
    assert apply_sed("x = 1", [r"s/x = 1/x = 1\ny = 2/"]) == "x = 1\ny = 2"


def test_basic_regular_expressions_keep_their_own_meaning():
    # [...] is a bracket expression: `["height"]` matches one character, not the text
    assert apply_sed('x["height"]', ['s/x["height"]/h/']) == 'x["height"]'
    assert apply_sed('x["height"]', [r's/x\["height"\]/h/']) == "h"
    # + ? ( ) are literal in a basic expression
    assert apply_sed("f(a+b)", ["s/f(a+b)/g/"]) == "g"


def test_the_shell_removes_inner_double_quotes_from_a_double_quoted_script():
    line = 'sed -i "s/self.share_window = 10000/self.share_window = int(config.get("pplns_window", 10000))/" pplns.py'
    [(name, scripts)] = sed_edits(line, {"pplns.py"})
    assert name == "pplns.py" and "config.get(pplns_window, 10000)" in scripts[0]
    # only in-place edits of the task's files count
    assert sed_edits("sed 's/a/b/' pplns.py", {"pplns.py"}) == []
    assert sed_edits("sed -i 's/a/b/' notes.txt", {"pplns.py"}) == []
    with pytest.raises(UnknownEdit):
        apply_sed("x", ["y/abc/xyz/"])


def test_an_answer_patched_by_sed_runs_as_its_commands_leave_it():
    answer = ("```bash\nsed -i \"s/self.share_window = 10000/self.share_window = int(config.get(\"pplns_window\", 10000))/\""
              " pplns.py\nsed -i '/window_size = int(net_diff \\* self.n_factor)/d' pplns.py\n```\n")
    built = build_candidate("pplns", answer)
    text = built.files["pplns.py"]
    assert built.written and "int(config.get(pplns_window, 10000))" in text and "window_size =" not in text
    quoted = ("```bash\nsed -i 's/self.share_window = 10000/self.share_window = int(config.get(\"pplns_window\", 10000))/'"
              " pplns.py\n```\n")
    assert 'config.get("pplns_window", 10000)' in build_candidate("pplns", quoted).files["pplns.py"]
    assert read_fixture("pplns.py").count("window_size =") == 1


def test_a_sed_command_among_others_on_its_line_is_found():
    line = "cp pplns.py pplns.py.bak && sed -i 's/10000/50000/' pplns.py; echo patched"
    assert sed_edits(line, {"pplns.py"}) == [("pplns.py", ["s/10000/50000/"])]
    assert sed_edits("sudo sed -i 's/a/b/' /opt/pool/pplns.py", {"pplns.py"}) == [("pplns.py", ["s/a/b/"])]
    with pytest.raises(UnknownEdit):
        sed_edits("sed -n -i 's/a/b/' pplns.py", {"pplns.py"})


def test_an_expression_sed_would_reject_is_an_unknown_edit_and_no_crash():
    for script in (r"s/\(a/b/", r"s/a/\2/"):
        with pytest.raises(UnknownEdit):
            apply_sed("a", [script])
    built = build_candidate("pplns", "```bash\nsed -i 's/\\(share_window/x/' pplns.py\n```\n")
    assert "sed command it cannot follow" in built.reason


def test_a_command_that_matches_no_line_is_reported_idle():
    text, idle = apply_sed_idle("a = 1\nb = 2\n", ["s/a = 1/a = 3/; s/a=1/a=4/", "/^c/d"])
    assert text == "a = 3\nb = 2\n" and idle == ["s/a=1/a=4/", "/^c/d"]
    built = build_candidate("pplns", "```bash\nsed -i 's/self.share_window=10000/self.share_window = 5/' pplns.py\n```\n")
    assert built.idle_edits == ("s/self.share_window=10000/self.share_window = 5/",) and not built.changed
    matched = build_candidate("pplns", "```bash\nsed -i 's/self.share_window = 10000/self.share_window = 5/' pplns.py\n```\n")
    assert matched.idle_edits == () and matched.changed == {"PPLNSManager.__init__"}
