"""pplns task: the fixture has the defects of docs/checks.md, the prompt shows them without naming them."""

from __future__ import annotations

import ast
import json
import py_compile

from llmbench.paths import buggy_code_dir
from llmbench.tasks import get_task, grade
from llmbench.tasks.prompting import read_fixture

TASK = get_task("pplns")


def _methods() -> dict[str, ast.FunctionDef]:
    tree = ast.parse(read_fixture("pplns.py"))
    klass = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "PPLNSManager")
    return {n.name: n for n in klass.body if isinstance(n, ast.FunctionDef)}


def _names_loaded(func: ast.FunctionDef) -> set[str]:
    return {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def test_fixture_is_valid_python_and_json(tmp_path):
    py_compile.compile(str(buggy_code_dir() / "pplns.py"), cfile=str(tmp_path / "out.pyc"), doraise=True)
    assert json.loads(read_fixture("pool_config.json"))["pplns_window"] == 50000


def test_share_window_is_the_literal_10000_and_n_factor_reads_pplns_n():
    init = _methods()["__init__"]
    assigns = {ast.unparse(n.targets[0]): n.value for n in ast.walk(init) if isinstance(n, ast.Assign)}
    literal = assigns["self.share_window"]
    assert isinstance(literal, ast.Constant) and literal.value == 10000
    assert ast.unparse(assigns["self.n_factor"]) == "config.get('pplns_n', 2)"


def test_window_size_is_computed_in_calculate_payouts_and_never_used():
    calc = _methods()["calculate_payouts"]
    stored = [n for n in ast.walk(calc) if isinstance(n, ast.Name) and n.id == "window_size" and isinstance(n.ctx, ast.Store)]
    assert len(stored) == 1
    assert ast.unparse(next(n.value for n in ast.walk(calc) if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "window_size")) == "int(net_diff * self.n_factor)"
    assert "window_size" not in _names_loaded(calc)
    assert "self._last_shares(conn, self.share_window)" in ast.unparse(calc)


def test_get_worker_stats_also_uses_share_window():
    assert "self.share_window" in ast.unparse(_methods()["get_worker_stats"])


def test_pplns_window_is_never_read_by_the_code():
    assert "pplns_window" not in read_fixture("pplns.py")


def test_other_config_keys_match_the_code():
    """Only pplns_window may be ignored: every other key the code reads exists in the config."""
    config = json.loads(read_fixture("pool_config.json"))
    for key in ("pool_fee_percent", "pool_address"):
        assert key in config and key in read_fixture("pplns.py")


def test_fixture_comments_do_not_describe_the_bugs():
    text = read_fixture("pplns.py").lower()
    for giveaway in ("hard-coded", "hardcoded", "unused", "todo", "fixme", "bug", "ignored", "mismatch"):
        assert giveaway not in text, giveaway


def test_prompt_contains_both_files_and_names_no_mechanism():
    prompt = TASK.prompt()
    assert prompt == TASK.prompt()
    for name in ("pplns.py", "pool_config.json"):
        assert f"`{name}`:" in prompt and read_fixture(name) in prompt
    scenario = prompt.split("`pplns.py`:")[0].lower()
    for word in ("hard-coded", "hardcoded", "literal", "unused", "never read", "share_window", "window_size", "pplns_window", "ignored", "mismatch"):
        assert word not in scenario, word


def test_checks_match_the_contract():
    assert TASK.check_ids == ["pplns.hardcoded_share_window", "pplns.window_size_unused", "pplns.config_key_mismatch"]
    assert TASK.difficulty == "hard"


def test_reference_answer_scores_full_marks_and_echo_scores_nothing():
    assert all(v.passed for v in grade("pplns", TASK.reference_answer()).values())
    assert not any(v.passed for v in grade("pplns", TASK.prompt()).values())


def test_key_mismatch_needs_the_fix_that_reads_pplns_window():
    found = "The configured `pplns_window` is never read: the code calls it `share_window`."
    assert not grade("pplns", found)["pplns.config_key_mismatch"].passed
    fixed = found + "\n\n```python\n        self.share_window = int(config.get('pplns_window', 10000))\n```\n"
    verdicts = grade("pplns", fixed)
    assert verdicts["pplns.config_key_mismatch"].passed
    assert verdicts["pplns.hardcoded_share_window"].passed  # the config read can only mean the literal was wrong


def test_unused_claim_about_another_variable_does_not_count():
    answer = "`block_height` in `calculate_payouts` is never used except in a log line."
    assert not grade("pplns", answer)["pplns.window_size_unused"].passed
    assert grade("pplns", "`window_size` in `calculate_payouts` is never used.")["pplns.window_size_unused"].passed


def test_diff_deleting_window_size_is_its_fix():
    answer = (
        "```diff\n"
        "@@ def calculate_payouts(self, block_reward_sat, block_height):\n"
        "-        net_diff = self.rpc.getdifficulty()\n"
        "-        window_size = int(net_diff * self.n_factor)\n"
        "         with self._connect() as conn:\n"
        "```\n"
    )
    assert grade("pplns", answer)["pplns.window_size_unused"].passed
    # the same line deleted from another function is no fix
    elsewhere = answer.replace("def calculate_payouts(self, block_reward_sat, block_height)", "def get_worker_stats(self, worker)")
    assert not grade("pplns", elsewhere)["pplns.window_size_unused"].passed


def test_reading_pplns_window_alone_passes_the_mismatch_check():
    # fix-only policy: the config read can only mean the unread key
    answer = "```python\n        self.share_window = int(config.get(\"pplns_window\", 10000))\n```\n"
    verdicts = grade("pplns", answer)
    assert verdicts["pplns.config_key_mismatch"].passed
    assert verdicts["pplns.hardcoded_share_window"].passed
    assert not verdicts["pplns.window_size_unused"].passed


def test_default_value_denial_is_not_a_finding():
    answer = (
        "- `self.share_window = 10000` in `__init__` is not a hard-coding problem — it is only the "
        "default window, a sensible fallback value."
    )
    assert not grade("pplns", answer)["pplns.hardcoded_share_window"].passed


def test_checklist_with_function_names_fails_but_quoted_code_counts():
    checklist = (
        "1. **`__init__`** — avoid hard-coded values; load all tunables from configuration.\n"
        "2. **`calculate_payouts`** — remove unused variables.\n"
    )
    assert not any(v.passed for v in grade("pplns", checklist).values())
    concrete = "- `__init__`: avoid hard-coding `self.share_window = 10000`; it overrides the configuration."
    assert grade("pplns", concrete)["pplns.hardcoded_share_window"].passed


def test_renaming_the_json_key_is_not_reading_pplns_window():
    # round 2: the mismatch is seen, but the code still reads no key at all
    answer = (
        "`pool_config.json` says `pplns_window` while the class calls it `share_window`; because the names "
        "don't match, your 50000 is never read.\n\n**Fix:** rename the key in `pool_config.json`:\n\n"
        "```json\n  \"share_window\": 50000,\n```\n"
    )
    assert not grade("pplns", answer)["pplns.config_key_mismatch"].passed


def test_window_size_blamed_on_get_worker_stats_is_wrong_place():
    answer = "`get_worker_stats()` never uses `window_size`, so the dashboard shows the old limit."
    assert not grade("pplns", answer)["pplns.window_size_unused"].passed
    right = "`calculate_payouts()` computes `window_size` and never uses it: the query takes `self.share_window`."
    assert grade("pplns", right)["pplns.window_size_unused"].passed


def test_swapped_windows_earn_neither_check():
    # round 4: the hard-coding pinned on window_size, the dead value pinned on share_window;
    # the config fix still passes the key check, but not the hard-coded one on its own
    answer = (
        "`window_size` is hard-coded at 10000, so the configured window is ignored.\n\n"
        "`share_window` is calculated from the network difficulty but then never used.\n\n"
        "```python\nself.share_window = config.get('pplns_window', 10000)\n```\n"
    )
    verdicts = grade("pplns", answer)
    assert not verdicts["pplns.hardcoded_share_window"].passed
    assert not verdicts["pplns.window_size_unused"].passed


def test_bare_config_fix_still_passes_hardcoded_window():
    answer = "```python\nself.share_window = int(config.get('pplns_window', 10000))\n```\n"
    assert grade("pplns", answer)["pplns.hardcoded_share_window"].passed


def test_the_window_read_in_the_query_helper_is_a_fix_at_a_wrong_place():
    text = ("```python\n    def _last_shares(self, conn, limit=None):\n"
            "        limit = limit or int(self.config.get(\"pplns_window\", 10000))\n"
            "        return conn.execute(\"SELECT worker, difficulty FROM shares ORDER BY id DESC LIMIT ?\", (limit,)).fetchall()\n```\n")
    verdict = grade("pplns", text)["pplns.hardcoded_share_window"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    in_init = "```python\n        self.share_window = int(config.get(\"pplns_window\", 10000))\n```\n"
    assert grade("pplns", in_init)["pplns.hardcoded_share_window"].passed


def test_a_fix_beside_the_hard_coding_blamed_on_the_query_helper_fixes_that_helper():
    fix = "```python\n        self.share_window = int(config.get(\"pplns_window\", 10000))\n```\n"
    blamed = ("The query's `LIMIT` in `_last_shares()` is a hard ceiling on the PPLNS window that overrides the "
              "configuration.\n\n" + fix)
    verdict = grade("pplns", blamed)["pplns.hardcoded_share_window"]
    assert not verdict.passed and verdict.rule == "wrong diagnosis", verdict
    assert grade("pplns", fix)["pplns.hardcoded_share_window"].passed   # the fix alone can mean nothing else


def test_a_heading_that_swaps_the_windows_voids_the_fix_alone():
    fix = "```python\n        self.share_window = int(config.get(\"pplns_window\", 10000))\n```\n"
    swapped = "## Bug 1: `window_size` is hard-coded\n\nIt never follows the configuration.\n\n## Fix\n\n" + fix
    verdict = grade("pplns", swapped)["pplns.hardcoded_share_window"]
    assert not verdict.passed and verdict.rule == "windows swapped", verdict


def test_a_literal_called_a_reasonable_default_is_denied_even_beside_the_key_fix():
    text = ("Note: `self.share_window = 10000` in `__init__` is not itself a problem - 10,000 shares is a perfectly "
            "reasonable default.\n\n```python\n        self.share_window = int(config.get(\"pplns_window\", 10000))\n```\n")
    verdict = grade("pplns", text)["pplns.hardcoded_share_window"]
    assert not verdict.passed and verdict.kind == "denial", verdict


def test_a_pronoun_after_the_programs_line_shown_in_a_block_is_said_of_that_line():
    shown = ("In `PPLNSManager.__init__` the window is a constant:\n\n```python\nself.share_window = 10000\n```\n"
             "It's hard-coded, so whatever you write in `pool_config.json` is overridden by this literal.\n")
    verdict = grade("pplns", shown)["pplns.hardcoded_share_window"]
    assert verdict.passed and verdict.kind == "finding", verdict


def test_a_mechanism_said_of_the_fixed_code_is_no_finding():
    answer = ("`get_worker_stats()` can keep calling `self._last_shares(conn, self.share_window)`; the helper now "
              "overrides the argument with the configured value, so the dashboard follows the config too.")
    assert not grade("pplns", answer)["pplns.hardcoded_share_window"].passed
    asserted = ("`self.share_window = 10000` in `__init__` overrides the configured value, so the 50,000 in "
                "`pool_config.json` never takes effect.")
    assert grade("pplns", asserted)["pplns.hardcoded_share_window"].passed


def test_leftover_code_called_harmless_after_its_finding_denies_it():
    finding = "2. `calculate_payouts()` computes `window_size = int(net_diff * self.n_factor)` and never uses it. "
    denied = finding + "That's just leftover dead code and harmless — delete it."
    assert not grade("pplns", denied)["pplns.window_size_unused"].passed
    kept = finding + "That's leftover code and not harmless: the window was meant to follow it."
    assert grade("pplns", kept)["pplns.window_size_unused"].passed
    # "normal and harmless" of what the sentence before said is no verdict on dead code
    normal = finding + "That is normal and harmless here, because the query never needed it."
    assert grade("pplns", normal)["pplns.window_size_unused"].passed


def test_a_table_row_calling_window_size_fixed_swaps_the_windows():
    row = "| # | Problem | Effect |\n|---|---|---|\n| 1 | `window_size` fixed at 10,000 | config change ignored |\n"
    assert not grade("pplns", row)["pplns.window_size_unused"].passed
    right = row.replace("`window_size` fixed at 10,000", "`window_size` computed, never used by the query")
    assert grade("pplns", right)["pplns.window_size_unused"].passed


def test_window_size_never_handed_to_the_query_is_unused():
    answer = ("`calculate_payouts()` computes `window_size = int(net_diff * self.n_factor)`, but `window_size` is never "
              "handed to `_last_shares()`; the query is sized by `self.share_window` instead.")
    assert grade("pplns", answer)["pplns.window_size_unused"].passed
    handed = answer.replace("is never handed to", "is handed to").replace("the query is sized by `self.share_window` "
                                                                          "instead", "that is the window")
    assert not grade("pplns", handed)["pplns.window_size_unused"].passed



def test_a_method_named_with_its_class_is_where_the_mechanism_happens():
    said = ("`self.share_window` is set in `PPLNSManager.__init__` to the literal `10000`. The config is never "
            "consulted for it.")
    assert grade("pplns", said)["pplns.hardcoded_share_window"].passed
    # a decoy named with its class is still the decoy
    decoy = "`PPLNSManager._last_shares` caps every query at the literal `10000`."
    assert not grade("pplns", decoy)["pplns.hardcoded_share_window"].passed


def test_a_window_the_query_never_uses_is_the_unused_window_size():
    said = ("In `calculate_payouts()` the line `window_size = int(net_diff * self.n_factor)` computes a "
            "difficulty-based window that the query never uses; the call below it passes `self.share_window`.")
    assert grade("pplns", said)["pplns.window_size_unused"].passed
    # the query using it is no finding
    used = said.replace("that the query never uses", "that the query then uses")
    assert not grade("pplns", used)["pplns.window_size_unused"].passed


def test_a_sentence_after_the_shown_line_speaks_of_that_line_not_of_a_name_further_on():
    shown = ("In `calculate_payouts()`:\n\n```python\nwindow_size = int(net_diff * self.n_factor)\n```\n\n"
             "is computed and never used — the query on the next lines is `self._last_shares(conn, self.share_window)`.\n")
    assert grade("pplns", shown)["pplns.window_size_unused"].passed


def test_a_sentence_after_another_shown_line_speaks_of_that_line():
    other = "In `__init__`:\n\n```python\nself.share_window = 10000\n```\n\nis computed and never used — nothing reads it.\n"
    assert not grade("pplns", other)["pplns.window_size_unused"].passed


def test_a_hypothetical_after_a_description_asserts_nothing_across_the_two_sentences():
    described = "The dashboard value `window_limit` comes from `self.share_window`. "
    hypothetical = described + "If `self.share_window` is a fixed literal in your build, it would override your JSON."
    verdict = grade("pplns", hypothetical)["pplns.hardcoded_share_window"]
    assert not verdict.passed, verdict
    said = described + "It is a fixed literal in `__init__`, so it overrides your JSON's `pplns_window`."
    assert grade("pplns", said)["pplns.hardcoded_share_window"].passed


def test_a_summary_row_is_read_with_the_heading_of_its_section_too():
    def answer(heading: str) -> str:
        return (f"## 2. {heading}\n\n```python\nwindow_size = int(net_diff * self.n_factor)\n```\n\n"
                "No matter how you set `pplns_n`, the payout ends up computed over 10,000 shares.\n\n"
                "## Summary\n\n| # | Location | Issue |\n|---|---|---|\n"
                "| 2 | `calculate_payouts()`: `window_size` | `window_size` unused by the query |\n")
    swapped = grade("pplns", answer("`window_size` is effectively a fixed 10,000-share window"))["pplns.window_size_unused"]
    assert not swapped.passed and swapped.kind == "wrong_mechanism", swapped
    assert grade("pplns", answer("`window_size` is computed and then ignored"))["pplns.window_size_unused"].passed



def test_the_window_read_in_the_query_helper_or_only_for_the_dashboard_is_no_config_fix():
    diagnosis = ("The configured `pplns_window` is never read: the code only knows `share_window`.\n\n")
    helper = diagnosis + ("```python\n    def _last_shares(self, conn, limit=None):\n"
                          "        limit = int(self.config.get(\"pplns_window\", limit or 10000))\n"
                          "        return conn.execute(\"SELECT worker, difficulty FROM shares ORDER BY id DESC LIMIT ?\", "
                          "(limit,)).fetchall()\n```\n")
    verdict = grade("pplns", helper)["pplns.config_key_mismatch"]
    assert not verdict.passed and "_last_shares(), a wrong place" in verdict.evidence, verdict
    dashboard = diagnosis + '```python\n            "window_limit": int(self.config.get("pplns_window", 10000)),\n```\n'
    assert not grade("pplns", dashboard)["pplns.config_key_mismatch"].passed
    init = diagnosis + '```python\n        self.share_window = int(config.get("pplns_window", 10000))\n```\n'
    assert grade("pplns", init)["pplns.config_key_mismatch"].passed


def test_a_sentence_ending_in_a_colon_is_about_the_program_line_it_shows():
    shown = ("The window is hard-coded:\n\n```python\nself.share_window = 10000\n```\n\n"
             "Because of this, the value in `pool_config.json` is never used.")
    assert grade("pplns", shown)["pplns.hardcoded_share_window"].passed
    # a new line shown after it is a change, not the subject
    new = shown.replace("self.share_window = 10000", "self.window_limit = 10000")
    assert not grade("pplns", new)["pplns.hardcoded_share_window"].passed


def test_a_prose_fix_after_a_place_that_opens_its_sentence_reads_the_configured_key():
    finding = ("The configuration defines the setting as `pplns_window`, while the code uses its own name, `share_window`, "
               "and nowhere looks up `pplns_window`.\n\n")
    fix = "- In the constructor, take the window size from the `pplns_window` entry of the configuration.\n"
    assert grade("pplns", finding + fix)["pplns.config_key_mismatch"].passed
    assert not grade("pplns", finding)["pplns.config_key_mismatch"].passed
    # the diagnosis alone in the same shape is no fix
    said = "- In the constructor, the window size never comes from the `pplns_window` entry of the configuration.\n"
    assert not grade("pplns", finding + said)["pplns.config_key_mismatch"].passed


def test_a_one_line_fix_under_a_json_code_key_is_code():
    report = ('```json\n{"bugs": [{"location": "PPLNSManager.__init__", "description": "pool_config.json provides the '
              'window as pplns_window, but the code never reads that key.", "fix": "self.share_window = '
              'int(config.get(\\"pplns_window\\", 10000))"}]}\n```\n')
    answer = TASK.parse_answer(report)
    fix_lines = [u for u in answer.units if u.kind == "code"]
    assert [u.text for u in fix_lines] == ['self.share_window = int(config.get("pplns_window", 10000))']
    assert grade("pplns", report)["pplns.config_key_mismatch"].passed
    # prose under the same key stays prose
    prose = report.replace('self.share_window = int(config.get(\\"pplns_window\\", 10000))', "read pplns_window from the config")
    assert not [u for u in TASK.parse_answer(prose).units if u.kind == "code"]


def test_a_correction_under_a_heading_takes_back_what_the_heading_names():
    section = ("### 2. `window_size` is never used\n\nIn `calculate_payouts()` the code computes\n\n```python\n"
               "window_size = int(net_diff * self.n_factor)\n```\n\nand then ignores it.\n\n")
    assert grade("pplns", section)["pplns.window_size_unused"].passed
    corrected = section + "**Correction:** on a second look this isn't actually a bug."
    assert not grade("pplns", corrected)["pplns.window_size_unused"].passed


def test_setting_the_attribute_from_the_configured_key_is_the_config_fix_in_prose():
    finding = "The code never looks up `pplns_window`; the window lives under another name, `share_window`.\n\n"
    fix = "- In the constructor, set `share_window` from the `pplns_window` entry of the configuration.\n"
    assert grade("pplns", finding + fix)["pplns.config_key_mismatch"].passed
    said = "- In the constructor, `share_window` is never set from the `pplns_window` entry of the configuration.\n"
    assert not grade("pplns", finding + said)["pplns.config_key_mismatch"].passed


def test_struck_through_text_is_taken_back_by_its_writer():
    heading = ("## 2. `window_size` is never used\n\nIn `calculate_payouts()` the code computes "
               "`window_size = int(net_diff * self.n_factor)` and the query ignores it.\n")
    assert grade("pplns", heading)["pplns.window_size_unused"].passed
    struck = ("## 2. ~~`window_size` is never used~~\n\n~~In `calculate_payouts()` the code computes "
              "`window_size = int(net_diff * self.n_factor)` and the query ignores it.~~\n")
    assert not grade("pplns", struck)["pplns.window_size_unused"].passed


def test_a_second_look_after_the_code_it_flagged_takes_the_heading_back():
    section = ("## 2. `window_size` is never used\n\nI first flagged this line in `calculate_payouts()`:\n\n"
               "```python\nwindow_size = int(net_diff * self.n_factor)\n```\n\n")
    assert grade("pplns", section)["pplns.window_size_unused"].passed
    looked_again = section + "On a second look this isn't actually a bug: it is only an estimate of N.\n"
    assert not grade("pplns", looked_again)["pplns.window_size_unused"].passed


def test_replacing_the_literal_by_a_lookup_of_the_key_is_the_config_fix_in_prose():
    finding = "`pplns_window` is never read: the code only knows `share_window`, a different name.\n\n"
    fix = "- In the constructor, replace the literal 10000 by a lookup of the `pplns_window` key in the configuration.\n"
    assert grade("pplns", finding + fix)["pplns.config_key_mismatch"].passed
    unchanged = "- In the constructor, replace nothing: the lookup of the `pplns_window` key can wait.\n"
    assert not grade("pplns", finding + unchanged)["pplns.config_key_mismatch"].passed
    # (a dot inside inline code ends no sentence)
    dotted = ("- In `__init__`, replace the literal assignment of `self.share_window` with a lookup of the `pplns_window` "
              "key in the `config` dictionary, converted to `int`.\n")
    assert grade("pplns", finding + dotted)["pplns.config_key_mismatch"].passed


def test_a_read_quoted_as_missing_is_no_fix():
    missing = ("`self.share_window = 10000` sits in `__init__`. Your config stores the window under `pplns_window`, "
               "but there is no `config.get(\"pplns_window\")` anywhere.\n")
    assert not grade("pplns", missing)["pplns.hardcoded_share_window"].passed
    fixed = missing + "\n```python\nself.share_window = int(config.get(\"pplns_window\", 10000))\n```\n"
    assert grade("pplns", fixed)["pplns.hardcoded_share_window"].passed


def test_a_heading_on_the_hard_coded_share_window_places_the_literal_under_it():
    section = ("### 1. Hard-coded share window in `__init__`\n\n```python\nself.share_window = 10000\n```\n\n"
               "- **Cause:** The window is a literal constant, so it overrides whatever is in `pool_config.json`.\n")
    assert grade("pplns", section)["pplns.hardcoded_share_window"].passed
    neutral = section.replace("Hard-coded share window", "The share window").replace(
        "- **Cause:** The window is a literal constant, so it overrides whatever is in `pool_config.json`.\n",
        "- It holds the number of shares in the window.\n")
    assert not grade("pplns", neutral)["pplns.hardcoded_share_window"].passed


def test_a_read_the_code_never_performs_is_no_fix():
    said = ("The class keeps the window in `share_window` and never performs a `config.get(\"pplns_window\")`, "
            "so the configured key is never read.\n")
    assert not grade("pplns", said)["pplns.config_key_mismatch"].passed
    done = said + "\n```python\nself.share_window = int(config.get(\"pplns_window\", 10000))\n```\n"
    assert grade("pplns", done)["pplns.config_key_mismatch"].passed


def test_a_correction_on_re_reading_that_calls_it_used_denies_it():
    section = ("### Issue 3: `window_size` appears unused\n\nIn `calculate_payouts()`, `window_size = int(net_diff * "
               "self.n_factor)` is computed but never passed to the query.\n\n")
    assert grade("pplns", section)["pplns.window_size_unused"].passed
    corrected = section + ("**Correction:** on re-reading the method, `window_size` is not dead code: the weighting step "
                           "relies on it, so it is used and should be left as it is.\n")
    verdict = grade("pplns", corrected)["pplns.window_size_unused"]
    assert not verdict.passed and verdict.kind == "denial", verdict


def test_a_literal_that_does_not_depend_on_the_config_is_the_hard_coded_window():
    finding = ("In `PPLNSManager.__init__`, the line `self.share_window = 10000` assigns a constant. It does not depend "
               "on `config` at all.\n")
    assert grade("pplns", finding)["pplns.hardcoded_share_window"].passed
    # the same words said of the dashboard method are about it, not the literal
    dashboard = ("### 1. `get_worker_stats()` ignores the configured window\n\n"
                 "The dashboard reads its numbers from `get_worker_stats()`. That method builds its result from a fixed "
                 "window instead of the configured `pplns_window`. That is why it still says `window_limit: 10000`.\n")
    verdict = grade("pplns", dashboard)["pplns.hardcoded_share_window"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict


def test_a_rewritten_calculate_payouts_without_the_window_size_line_is_its_fix():
    source = read_fixture("pplns.py")
    start = source.index("    def calculate_payouts(")
    end = source.index("\n    def ", start + 10)
    method = source[start:end].rstrip() + "\n"
    dropped = "\n".join(line for line in method.splitlines()
                        if "window_size" not in line and "net_diff" not in line) + "\n"
    assert grade("pplns", f"```python\n{dropped}```\n")["pplns.window_size_unused"].passed
    # the method as it was, or only its opening lines, is no such fix
    assert not grade("pplns", f"```python\n{method}```\n")["pplns.window_size_unused"].passed
    opening = "\n".join(dropped.splitlines()[:5]) + "\n"
    assert not grade("pplns", f"```python\n{opening}```\n")["pplns.window_size_unused"].passed


def test_a_literal_assigned_as_a_constant_and_a_constructor_read_given_in_words():
    finding = "`self.share_window = 10000` is assigned as a constant.\n"
    assert grade("pplns", finding)["pplns.hardcoded_share_window"].passed
    told = ("**Your config key is never looked up.** No line of the class reads `pplns_window`. The fix is to initialise "
            "`share_window` in the constructor from the `pplns_window` entry of the config dict, keeping 10000 only as "
            "the fallback.\n")
    assert grade("pplns", told)["pplns.config_key_mismatch"].passed
    missing = told.replace(" The fix is to initialise `share_window` in the constructor from the `pplns_window` entry of "
                           "the config dict, keeping 10000 only as the fallback.", "")
    assert not grade("pplns", missing)["pplns.config_key_mismatch"].passed


def test_a_fix_label_then_the_place_then_the_read_is_the_config_fix_in_prose():
    told = ("- **Config key never read.** `pool_config.json` calls the setting `pplns_window`; the class never reads that "
            "key. Fix: in `__init__`, take the value of `pplns_window` from the config dict (default 10000, cast to int) "
            "and assign it to `share_window`.\n")
    assert grade("pplns", told)["pplns.config_key_mismatch"].passed
    described = told.replace("Fix: in `__init__`, take the value", "In `__init__`, nobody takes the value")
    assert not grade("pplns", described)["pplns.config_key_mismatch"].passed


def test_window_size_said_unused_by_the_dashboard_is_the_wrong_function():
    dashboard = "`window_size` is never used for the dashboard statistics, so what the dashboard shows is the fixed window.\n"
    assert not grade("pplns", dashboard)["pplns.window_size_unused"].passed
    payouts = "`calculate_payouts()` computes `window_size` and never uses it: the query takes `self.share_window`.\n"
    assert grade("pplns", payouts)["pplns.window_size_unused"].passed


def test_a_table_row_marked_ok_denies_its_place():
    table = ("## Things that are fine\n\n| Item | Status | Note |\n|------|--------|------|\n"
             "| `self.share_window = 10000` | ✅ OK | Just an upper bound on rows fetched from SQLite; it does not override "
             "any config value. |\n")
    verdict = grade("pplns", table)["pplns.hardcoded_share_window"]
    assert not verdict.passed and verdict.kind == "denial", verdict
    flagged = table.replace("| ✅ OK | Just an upper bound on rows fetched from SQLite; it does not override any config value. |",
                            "| ❌ Bug | A hard-coded literal that overrides the `pplns_window` in the config. |")
    assert grade("pplns", flagged)["pplns.hardcoded_share_window"].passed


def test_a_row_that_puts_window_size_in_get_worker_stats_is_the_wrong_function():
    head = "| # | Where | What's wrong | Why it matters | Fix |\n|---|---|---|---|---|\n"
    there = head + ("| 2 | `get_worker_stats()` | Computes `window_size = int(net_diff * self.n_factor)` but then ignores it "
                    "and queries `self.share_window` | Dashboard shows `window_limit: 10000` instead of the real window | "
                    "Return `window_size` as `window_limit` |\n\n"
                    "```python\ndef get_worker_stats(self, worker):\n    net_diff = self.rpc.getdifficulty()\n"
                    "    window_size = int(net_diff * self.n_factor)\n    return {\"worker\": worker, \"window_limit\": window_size}\n```\n")
    assert not grade("pplns", there)["pplns.window_size_unused"].passed
    here = head + "| 2 | `calculate_payouts()` | `window_size` is computed but never used | Payouts ignore it | Drop it |\n"
    assert grade("pplns", here)["pplns.window_size_unused"].passed


def test_a_second_look_denies_what_its_explanation_opens_on_not_every_place_it_names():
    hard = ("### Bug 1: `share_window` is hard-coded\n\n`self.share_window = 10000` is a literal, so the `pplns_window` "
            "in the config is overridden.\n\n")
    unused = ("### Bug 3: `window_size` is never used\n\n`calculate_payouts()` computes `window_size` and then queries "
              "`self.share_window` shares instead of `window_size`.\n\n")
    looked = ("On closer inspection, though, this is not actually a bug: `window_size` is the difficulty-based N, while "
              "`share_window` is the number of rows the query fetches.\n")
    verdicts = grade("pplns", hard + unused + looked)
    assert verdicts["pplns.hardcoded_share_window"].passed
    assert not verdicts["pplns.window_size_unused"].passed
    # opening on the hard-coded window, the same look denies it
    on_share_window = looked.replace("`window_size` is the difficulty-based N, while `share_window` is",
                                     "`share_window` is only an upper bound, while `window_size` is")
    assert not grade("pplns", hard + on_share_window)["pplns.hardcoded_share_window"].passed


def test_a_value_that_does_not_come_from_the_config_is_the_defect_not_a_denial():
    said = ("`self.share_window = 10000` is a constant. It does not come from the config, so it overrides the 50,000 "
            "you set.\n")
    assert grade("pplns", said)["pplns.hardcoded_share_window"].passed
    # what a symptom does not come from is still a denial
    denied = ("`self.share_window = 10000` is a constant. The stale dashboard figure is not coming from "
              "`self.share_window`; it is a caching layer.\n")
    assert not grade("pplns", denied)["pplns.hardcoded_share_window"].passed


def test_a_literal_assigned_instead_of_being_taken_from_the_config_is_the_hard_coded_window():
    said = ("In `PPLNSManager.__init__`, the attribute `share_window` is assigned the number 10000 directly instead of "
            "being taken from the configuration.\n")
    assert grade("pplns", said)["pplns.hardcoded_share_window"].passed
    # what a reader might expect, not what the code does
    asked = "In `PPLNSManager.__init__`, check whether `share_window` is taken from the configuration.\n"
    assert not grade("pplns", asked)["pplns.hardcoded_share_window"].passed


def test_changing_the_constructor_so_that_it_reads_the_key_is_the_config_fix_in_prose():
    found = ("Your configuration stores the window under `pplns_window`. The class reads `pool_fee_percent` and "
             "`pplns_n` from the configuration, but never `pplns_window`.\n\n")
    told = ("Change the constructor so that it reads the `pplns_window` key from the configuration, keeping 10,000 "
            "only as the fallback, and store it in `share_window`.\n")
    assert grade("pplns", found + told)["pplns.config_key_mismatch"].passed
    assert not grade("pplns", found)["pplns.config_key_mismatch"].passed
    # a change that leaves the key unread is no such fix
    other = "Change the constructor so that it logs the window it uses.\n"
    assert not grade("pplns", found + other)["pplns.config_key_mismatch"].passed


def test_a_row_whose_where_column_is_the_dashboard_method_blames_the_wrong_function():
    head = "| # | Location | Problem | Effect |\n|---|---|---|---|\n"
    there = head + ("| 3 | `get_worker_stats()` | `window_size` is computed from the network difficulty and `pplns_n` "
                    "but is never applied | Changing `pplns_n` does not change the dashboard |\n")
    assert not grade("pplns", there)["pplns.window_size_unused"].passed
    here = there.replace("`get_worker_stats()`", "`calculate_payouts()`")
    assert grade("pplns", here)["pplns.window_size_unused"].passed


def test_an_audit_checklist_item_with_a_rule_about_unused_values_finds_nothing():
    item = ("- [ ] In `calculate_payouts()`, trace every local (`net_diff`, `window_size`, …) to where it is consumed; "
            "a value that is computed but never reaches the SQL query has no effect.\n")
    assert not grade("pplns", item)["pplns.window_size_unused"].passed
    said = ("- In `calculate_payouts()`, `window_size` is computed but never reaches the SQL query, so it has no "
            "effect.\n")
    assert grade("pplns", said)["pplns.window_size_unused"].passed


def test_removing_window_size_from_the_dashboard_method_blames_the_wrong_function():
    there = "- ✅ Remove the unused `window_size` from `get_worker_stats()`\n"
    assert not grade("pplns", there)["pplns.window_size_unused"].passed
    here = "- ✅ Remove the unused `window_size` from `calculate_payouts()`\n"
    assert grade("pplns", here)["pplns.window_size_unused"].passed


def test_a_fix_label_in_bold_before_a_qualified_place_still_leads_the_config_fix_in_prose():
    found = "Your file sets `pplns_window`, but nothing in `pplns.py` looks that key up.\n\n"
    told = ("**Fix:** in `PPLNSManager.__init__`, replace the literal assignment of `share_window` with a lookup of "
            "the `pplns_window` entry of `config`, converted to `int`, keeping 10000 only as the fallback.\n")
    assert grade("pplns", found + told)["pplns.config_key_mismatch"].passed
    # a diagnosis under the same label is no fix
    said = "**Fix:** in `PPLNSManager.__init__`, the `pplns_window` entry of `config` is never looked up.\n"
    assert not grade("pplns", found + said)["pplns.config_key_mismatch"].passed


def test_a_magic_number_to_give_a_name_is_a_readability_problem_not_the_override():
    named = ("**1. Magic number in `__init__`**\n\n`self.share_window = 10000` is an unexplained magic number buried in "
             "the constructor. Give it a name at module level so it is documented and easy to find.\n")
    assert not grade("pplns", named)["pplns.hardcoded_share_window"].passed
    overrides = ("**1. Magic number in `__init__`**\n\n`self.share_window = 10000` is a magic number that overrides the "
                 "`pplns_window` you set in the config.\n")
    assert grade("pplns", overrides)["pplns.hardcoded_share_window"].passed


def test_share_window_called_a_constant_is_the_hard_coded_window():
    said = ("In `PPLNSManager.__init__`:\n\n```python\nself.share_window = 10000\n```\n\n`share_window` is a constant. "
            "`pool_config.json` defines `pplns_window`, but the code never reads a key with that name.\n")
    assert grade("pplns", said)["pplns.hardcoded_share_window"].passed
    # the difficulty-based window called a constant is the windows swapped
    swapped = "`window_size` is a constant 10000, so the pool ignores the configured window.\n"
    assert not grade("pplns", swapped)["pplns.hardcoded_share_window"].passed


def test_a_code_comment_noting_a_removal_takes_no_denial_back():
    denied = ("In `calculate_payouts()` the variable `window_size = int(net_diff * self.n_factor)` is computed and never "
              "used afterwards. This is harmless: it does not influence the payout calculation. You can remove it:\n\n"
              "```python\n        net_diff = self.rpc.getdifficulty()\n        # window_size removed (unused)\n```\n")
    verdict = grade("pplns", denied)["pplns.window_size_unused"]
    assert not verdict.passed and verdict.kind == "denial", verdict
    found = denied.replace("This is harmless: it does not influence the payout calculation.",
                           "So `pplns_n` has no effect on the payouts.")
    assert grade("pplns", found)["pplns.window_size_unused"].passed
