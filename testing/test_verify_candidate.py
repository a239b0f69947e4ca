"""Candidate programs: full file, AST splice, unified diff (fuzzy), HiveOS answer.sh."""

from __future__ import annotations

import ast
import subprocess

import pytest

from llmbench.grading.parsed_answer import Answer
from llmbench.patching import unidiff
from llmbench.tasks import get_task, grade
from llmbench.tasks.prompting import read_fixture
from llmbench.verify.candidate import Candidate, NoCandidate, build_candidate
from llmbench.verify.shellscript import build_shell_candidate, create_file_commands
from llmbench.verify.splice import splice

PAYMENT = read_fixture("payment_processor.py")
PARAM_HISTORY = '''
def get_payment_history(self, address, limit=50):
    conn = self._connect()
    try:
        rows = conn.execute(
            "SELECT id, amount, fee, txid, status, paid_at FROM payouts WHERE address = ? ORDER BY id DESC LIMIT ?",
            (address, int(limit)),
        ).fetchall()
        return [dict(row) for row in rows]
    finally:
        conn.close()
'''


def fenced(code: str, label: str = "python") -> str:
    return f"```{label}\n{code.strip(chr(10))}\n```\n"


def method_source(text: str, cls: str, name: str) -> str:
    tree = ast.parse(text)
    owner = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    return ast.unparse(next(n for n in owner.body if getattr(n, "name", None) == name))


# -- splice -------------------------------------------------------------------------
def test_a_method_given_as_a_top_level_function_replaces_the_method_and_nothing_else():
    result = splice(PAYMENT, PARAM_HISTORY, "PaymentProcessor")
    assert "WHERE address = ?" in method_source(result.text, "PaymentProcessor", "get_payment_history")
    # every other line of the fixture is kept byte for byte
    untouched = PAYMENT.split("    def get_payment_history")[0]
    assert result.text.startswith(untouched)


def test_a_class_block_replaces_its_methods_adds_helpers_imports_and_constants_and_skips_elided_ones():
    snippet = '''
from decimal import Decimal, ROUND_DOWN
import logging

SAT = Decimal("0.00000001")

class PaymentProcessor:
    def calculate_fee(self, amount):
        return (Decimal(str(amount)) * Decimal(str(self.fee_percent)) / 100).quantize(SAT, rounding=ROUND_DOWN)

    def _claim(self, conn, payout_id):
        return conn.execute("UPDATE payouts SET status = 'processing' WHERE id = ? AND status = 'pending'", (payout_id,)).rowcount == 1

    def process_pending_payments(self):
        ...  # unchanged
'''
    result = splice(PAYMENT, snippet, "PaymentProcessor")
    tree = ast.parse(result.text)
    assert "from decimal import Decimal, ROUND_DOWN" in result.text
    assert result.text.count("import logging") == 1            # already there: not added twice
    assert any(isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "SAT" for n in tree.body)
    assert "quantize" in method_source(result.text, "PaymentProcessor", "calculate_fee")
    assert "_claim" in [n.name for c in tree.body if isinstance(c, ast.ClassDef) for n in c.body if hasattr(n, "name")]
    assert method_source(result.text, "PaymentProcessor", "process_pending_payments") == \
        method_source(PAYMENT, "PaymentProcessor", "process_pending_payments")
    assert any("process_pending_payments" in note for note in result.notes)


def test_a_self_fragment_under_a_method_comment_goes_into_that_method():
    result = splice(read_fixture("stratum_server.py"), "# in __init__\nself.jobs = {}\n", "StratumServer")
    assert "self.jobs = {}" in method_source(result.text, "StratumServer", "__init__")
    # the original statements stay, in their order, and the signature is the original's
    original = method_source(read_fixture("stratum_server.py"), "StratumServer", "__init__")
    assert method_source(result.text, "StratumServer", "__init__").startswith(original.rstrip("\n").split("\n")[0])


def test_a_self_fragment_without_a_method_comment_is_not_spliced():
    for snippet in ("self.jobs = {}\n", "# the job table\nself.jobs = {}\n"):
        result = splice(read_fixture("stratum_server.py"), snippet, "StratumServer")
        assert result.text == read_fixture("stratum_server.py")


def test_a_bare_attribute_assignment_replaces_the_one_statement_that_sets_it():
    snippet = 'self.share_window = int(config.get("pplns_window", 10000))\n'
    result = splice(read_fixture("pplns.py"), snippet, "PPLNSManager")
    init = method_source(result.text, "PPLNSManager", "__init__")
    assert "self.share_window = int(config.get('pplns_window', 10000))" in init and "self.share_window = 10000" not in init
    # an attribute the class never sets has no statement to replace
    assert splice(read_fixture("pplns.py"), "self.window = 5\n", "PPLNSManager").text == read_fixture("pplns.py")


def test_imports_at_the_margin_above_methods_at_class_indentation_are_spliced():
    snippet = ("from decimal import Decimal\n\n    def calculate_fee(self, amount):\n"
               "        return Decimal(str(amount)) * Decimal(str(self.fee_percent)) / 100\n")
    result = splice(PAYMENT, snippet, "PaymentProcessor")
    assert "from decimal import Decimal" in result.text
    assert "Decimal(str(amount))" in method_source(result.text, "PaymentProcessor", "calculate_fee")


def test_a_module_constant_at_the_margin_above_methods_is_spliced_too():
    snippet = ("SATS = 100_000_000\n\n    def to_sats(self, btc):\n        return round(Decimal(str(btc)) * SATS)\n")
    result = splice(PAYMENT, snippet, "PaymentProcessor")
    assert "SATS = 100_000_000" in result.text
    assert "SATS" in method_source(result.text, "PaymentProcessor", "to_sats")
    # a statement at the margin that is neither an import nor a constant leaves the snippet as written
    with pytest.raises(SyntaxError):
        splice(PAYMENT, "print('hi')\n\n    def to_sats(self, btc):\n        return btc\n", "PaymentProcessor")


def test_methods_at_class_indentation_after_a_module_level_helper_are_the_class_methods():
    snippet = ("def to_decimal(value):\n    return Decimal(str(value))\n\n"
               "    def calculate_fee(self, amount):\n"
               "        return to_decimal(amount) * to_decimal(self.fee_percent) / 100\n")
    result = splice(PAYMENT, snippet, "PaymentProcessor")
    assert "to_decimal(amount)" in method_source(result.text, "PaymentProcessor", "calculate_fee")
    helper = next(n for n in ast.parse(result.text).body if getattr(n, "name", None) == "to_decimal")
    assert [type(stmt) for stmt in helper.body] == [ast.Return]
    # a nested function the helper really uses (before its return) stays inside it
    closure = ("def to_decimal(value):\n    def inner(self):\n        return self\n"
               "    return Decimal(str(value))\n")
    kept = splice(PAYMENT, closure, "PaymentProcessor")
    assert "calculate_fee(self, amount):\n        return round(float(amount)" in kept.text
    assert "def inner(self)" in ast.unparse(next(n for n in ast.parse(kept.text).body
                                                 if getattr(n, "name", None) == "to_decimal"))


def test_a_function_ending_with_the_originals_middle_keeps_the_rest_of_it():
    stratum = read_fixture("stratum_server.py")
    top = ('async def _handle_submit(self, session, message):\n    msg_id = message.get("id")\n'
           '    params = message.get("params")\n    if not isinstance(params, list) or len(params) != 5:\n'
           '        await self._reply_error(session, msg_id, 20, "Bad params")\n        return\n'
           '    worker, job_id, extranonce2, ntime, nonce = params\n'
           '    if not session.subscribed:\n        await self._reply_error(session, msg_id, 25, "Not subscribed")\n'
           '        return\n')
    assert "if not session.subscribed" in stratum
    result = splice(stratum, top, "StratumServer")
    body = method_source(result.text, "StratumServer", "_handle_submit")
    assert "Bad params" in body and "recent_shares" in body   # the original's rest follows the new top


def test_a_bare_try_wrapping_original_lines_unchanged_takes_their_place():
    stratum = read_fixture("stratum_server.py")
    guard = ("try:\n    extranonce2_bin = bytes.fromhex(extranonce2)\n    ntime_int = int(ntime, 16)\n"
             "    nonce_int = int(nonce, 16)\nexcept ValueError:\n"
             "    await self._reply_error(session, msg_id, 20, 'Malformed share')\n    return\n")
    body = method_source(splice(stratum, guard, "StratumServer").text, "StratumServer", "_handle_submit")
    assert "except ValueError" in body
    # beside other bare lines it is part of a change that cannot all be placed: nothing is placed
    assert splice(stratum, "params = message.get('params')\n" + guard, "StratumServer").text == stratum


def test_a_same_named_method_goes_to_the_class_whose_signature_matches():
    snippet = "def __init__(self, reader, writer, extranonce1):\n    self.reader = reader\n    self.marker = 1\n"
    result = splice(read_fixture("stratum_server.py"), snippet, "StratumServer")
    assert "self.marker = 1" in method_source(result.text, "MinerSession", "__init__")
    assert "self.marker" not in method_source(result.text, "StratumServer", "__init__")


# -- choosing a candidate ------------------------------------------------------------------
def test_splice_candidate_records_its_blocks_and_the_changed_functions():
    answer = "The history query is injectable.\n\n" + fenced("print('usage')") + "\n" + fenced(PARAM_HISTORY)
    candidate = build_candidate("payment", answer)
    assert isinstance(candidate, Candidate)
    assert (candidate.kind, candidate.blocks) == ("splice", (2,))
    assert candidate.changed == {"PaymentProcessor.get_payment_history"}
    assert candidate.describe() == "splice from code block 2"


LISTEN_WITH_OWN_TIMEOUT = '''
def _listen(self):
    sock = self.context.socket(zmq.SUB)
    sock.setsockopt(zmq.RCVTIMEO, self.rcv_timeout_ms)
    sock.connect(self.endpoint)
'''


def test_an_init_assignment_given_in_prose_joins_init_when_the_code_reads_it_and_nothing_sets_it():
    answer = (fenced(LISTEN_WITH_OWN_TIMEOUT) + "\nIn `__init__`, drop the three `self.socket…` lines and keep the "
              "timeout for the thread: `self.rcv_timeout_ms = rcv_timeout_ms`.\n")
    candidate = build_candidate("zmq", answer)
    assert isinstance(candidate, Candidate)
    assert "self.rcv_timeout_ms = rcv_timeout_ms" in method_source(candidate.files["zmq_listener.py"], "ZMQListener", "__init__")
    assert "self.socket" not in method_source(candidate.files["zmq_listener.py"], "ZMQListener", "__init__")
    # a sentence naming a line of __init__ to remove takes it out and adds nothing
    quoted = fenced(LISTEN_WITH_OWN_TIMEOUT) + "\nRemove `self.socket = self.context.socket(zmq.SUB)` from `__init__`.\n"
    init = method_source(build_candidate("zmq", quoted).files["zmq_listener.py"], "ZMQListener", "__init__")
    original = method_source(read_fixture("zmq_listener.py"), "ZMQListener", "__init__")
    assert init == original.replace("\n    self.socket = self.context.socket(zmq.SUB)", "")
    # nor does an assignment in a sentence that does not name __init__
    elsewhere = fenced(LISTEN_WITH_OWN_TIMEOUT) + "\nThe timeout could be `self.rcv_timeout_ms = 500`.\n"
    assert "rcv_timeout_ms = 500" not in build_candidate("zmq", elsewhere).files["zmq_listener.py"]


def test_a_fragment_restating_a_line_then_setting_an_attribute_set_below_rewrites_it_unless_told_to_add():
    fragment = fenced("        self.n_factor = config.get('pplns_n', 2)\n"
                      "        self.share_window = int(config.get(\"pplns_window\", 10000))")
    init = method_source(build_candidate("pplns", "Read the key in `__init__()`:\n\n" + fragment).files["pplns.py"],
                         "PPLNSManager", "__init__")
    assert "self.share_window = 10000" not in init and "pplns_window" in init
    # "add" it after that line: inserted, and the literal below still wins
    added = build_candidate("pplns", "Right after the `n_factor` line, add:\n\n" + fragment).files["pplns.py"]
    init = method_source(added, "PPLNSManager", "__init__")
    assert init.index("pplns_window") < init.index("self.share_window = 10000")


def test_a_closing_comment_that_keeps_the_remaining_checks_keeps_the_rest_of_the_method():
    head = read_fixture("stratum_server.py").split("    async def _handle_submit(self, session, message):\n")[1]
    snippet = ("    async def _handle_submit(self, session, message):\n        msg_id = message.get(\"id\")\n"
               "        params = message.get(\"params\")\n        if not isinstance(params, list) or len(params) != 5:\n"
               "            await self._reply_error(session, msg_id, 20, \"Invalid params\")\n            return\n"
               "        # remaining checks unchanged; drop the later parsing lines\n")
    text = build_candidate("stratum", fenced(snippet)).files["stratum_server.py"]
    body = text.split("    async def _handle_submit(self, session, message):\n")[1]
    assert "Invalid params" in body
    last_original = [line for line in head.split("\n    async def ")[0].splitlines() if line.strip()][-1]
    assert last_original in body.split("\n    async def ")[0]


def test_a_with_block_given_anew_before_an_elision_replaces_the_originals():
    snippet = ("    def calculate_payouts(self, block_reward_sat, block_height):\n"
               "        with self._connect() as conn:\n"
               "            shares = self._last_shares(conn, self._window())\n        ...\n")
    body = method_source(build_candidate("pplns", fenced(snippet)).files["pplns.py"], "PPLNSManager", "calculate_payouts")
    assert body.count("_last_shares(") == 1 and "self._window()" in body
    assert "if not shares:" in body   # the rest of the original is kept


def test_a_full_corrected_file_is_used_whole():
    fixed = PAYMENT.replace("float(amount) * self.fee_percent / 100.0", "amount * self.fee_percent / 100")
    candidate = build_candidate("payment", "Corrected file:\n\n" + fenced(fixed))
    assert isinstance(candidate, Candidate)
    assert candidate.kind == "full_file" and candidate.files == {"payment_processor.py": fixed}
    assert candidate.changed == {"PaymentProcessor.calculate_fee"}


def test_the_most_complete_candidate_wins_when_an_answer_gives_several():
    diff_one = ("--- a/payment_processor.py\n+++ b/payment_processor.py\n@@ -115,2 +115,2 @@\n"
                "     def calculate_fee(self, amount):\n"
                "-        return round(float(amount) * self.fee_percent / 100.0, 8)\n"
                "+        return amount * self.fee_percent / 100\n")
    two_functions = PARAM_HISTORY + "\ndef calculate_fee(self, amount):\n    return amount * self.fee_percent / 100\n"
    candidate = build_candidate("payment", fenced(diff_one, "diff") + "\n" + fenced(two_functions))
    assert candidate.kind == "splice" and len(candidate.changed) == 2
    candidate = build_candidate("payment", fenced(diff_one, "diff") + "\n" + fenced(PARAM_HISTORY.replace("?", "'%s'")))
    # the diff and the splice each change one function: the diff is preferred on a tie
    assert candidate.kind == "diff" and candidate.blocks == (1,)


def test_a_syntax_error_is_a_verdict_not_a_crash():
    broken = "def get_payment_history(self, address):\n    rows = conn.execute(\"SELECT …\", (address,)\n    return rows\n"
    result = build_candidate("payment", fenced(broken))
    assert isinstance(result, NoCandidate) and result.syntax_error
    assert result.reason.startswith("no runnable fix: SyntaxError line 2 (code block 1)")


def test_no_code_and_echoed_code_are_no_candidate():
    assert build_candidate("payment", "Use parameters in get_payment_history.").reason == "no code in the answer"
    echo = build_candidate("payment", fenced(PAYMENT))
    assert isinstance(echo, NoCandidate) and not echo.syntax_error


# -- diffs ----------------------------------------------------------------------------
SQL_DIFF_LINES = [
    "@@ -126,7 +126,8 @@ class PaymentProcessor:",
    "     def get_payment_history(self, address, limit=50):",
    "         conn = self._connect()",
    "         try:",
    "             rows = conn.execute(",
    '-                f"SELECT id, amount, fee, txid, status, paid_at FROM payouts "',
    "-                f\"WHERE address = '{address}' ORDER BY id DESC LIMIT {int(limit)}\"",
    '+                "SELECT id, amount, fee, txid, status, paid_at FROM payouts "',
    '+                "WHERE address = ? ORDER BY id DESC LIMIT ?",',
    "+                (address, int(limit)),",
    "             ).fetchall()",
]


def test_a_diff_only_answer_builds_a_diff_candidate():
    answer = fenced("--- a/payment_processor.py\n+++ b/payment_processor.py\n" + "\n".join(SQL_DIFF_LINES), "diff")
    candidate = build_candidate("payment", answer)
    assert candidate.kind == "diff" and candidate.changed == {"PaymentProcessor.get_payment_history"}
    assert "WHERE address = ? ORDER BY id DESC LIMIT ?" in candidate.files["payment_processor.py"]


def test_fuzzy_context_wrong_line_numbers_counts_and_a_changed_context_line_still_apply():
    lines = list(SQL_DIFF_LINES)
    lines[0] = "@@ -3,2 +3,9 @@"                                       # wrong numbers and counts
    lines[2] = "        conn = self._connect()   # reused"               # a context line that differs
    lines[3] = "     try:"                                              # whitespace that differs
    candidate = build_candidate("payment", fenced("\n".join(lines), "diff"))
    assert isinstance(candidate, Candidate), candidate
    fixed = candidate.files["payment_processor.py"]
    assert "WHERE address = ? ORDER BY" in fixed and "WHERE address = '{address}'" not in fixed
    assert "        conn = self._connect()\n        try:\n" in fixed   # the file's own context lines kept


def test_unidiff_fuzz_is_bounded():
    text = "a\nb\nc\nd\ne\n"
    hunks = unidiff.parse_lenient("@@\n x\n b\n-c\n+C\n d\n y\n")[0].hunks
    with pytest.raises(unidiff.PatchError):
        unidiff.apply_hunks(text, hunks)
    assert unidiff.apply_hunks(text, hunks, fuzz=1) == "a\nb\nC\nd\ne\n"
    far = unidiff.parse_lenient("@@\n x\n z\n b\n-c\n+C\n d\n")[0].hunks
    with pytest.raises(unidiff.PatchError):
        unidiff.apply_hunks(text, far, fuzz=1)


def test_a_diff_that_does_not_apply_is_an_error():
    answer = fenced("@@ -1,2 +1,2 @@\n def nowhere():\n-    return 1\n+    return 2\n", "diff")
    result = build_candidate("payment", answer)
    assert isinstance(result, NoCandidate) and result.syntax_error and "does not apply" in result.reason


# -- the prose grader reads diffs --------------------------------------------------------
def test_bare_hunks_take_their_function_from_the_fixture_and_plus_lines_are_novel():
    prompt = get_task("payment").prompt()
    answer = Answer(fenced("\n".join(["@@ -1 +1 @@"] + SQL_DIFF_LINES[5:]), "diff"), prompt)
    removed = [u for u in answer.units if u.removed]
    added = [u for u in answer.units if u.kind == "code" and not u.removed]
    assert removed and all(u.func == "get_payment_history" for u in removed)
    assert any(u.novel and "WHERE address = ?" in u.text for u in added)
    assert all(u.func == "get_payment_history" for u in added)


def test_a_second_bare_hunk_does_not_inherit_the_first_hunks_function():
    prompt = get_task("payment").prompt()
    text = fenced("@@ def calculate_fee(self, amount):\n-        return round(float(amount) * self.fee_percent / 100.0, 8)\n"
                  "+        return amount\n@@\n"
                  "             rows = conn.execute(\n-                f\"WHERE address = '{address}' ORDER BY id DESC LIMIT {int(limit)}\"\n"
                  "+                \"WHERE address = ?\", (address,)\n", "diff")
    units = [u for u in Answer(text, prompt).units if u.kind == "code"]
    assert [u.func for u in units if "address" in u.text or "rows" in u.text] == ["get_payment_history"] * 3


def test_a_diff_only_sql_fix_passes_its_text_check_and_a_wrong_function_does_not():
    answer = fenced("\n".join(["@@ -1 +1 @@"] + SQL_DIFF_LINES[5:]), "diff")
    assert grade("payment", answer)["payment.sql_injection"].passed
    # the same added lines in a hunk whose old code is calculate_fee's: not the history query's fix
    elsewhere = fenced("@@\n     def calculate_fee(self, amount):\n-        return round(float(amount) * self.fee_percent / 100.0, 8)\n"
                       + "\n".join(SQL_DIFF_LINES[7:10]), "diff")
    assert not grade("payment", elsewhere)["payment.sql_injection"].passed


# -- HiveOS answer.sh ------------------------------------------------------------------
def run_script(script: str, home) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], cwd=home, env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=10)


def test_answer_sh_keeps_shell_blocks_in_order_and_turns_labelled_files_into_heredocs(tmp_path):
    answer = (
        "```bash\nmkdir -p ~/Downloads/ethminer\ncd ~/Downloads/ethminer\n```\n\n"
        "### `~/Downloads/ethminer/h-manifest.conf`\n"
        "```ini\nCUSTOM_NAME=\"ethminer\"\nCUSTOM_VERSION=\"1.0\"\nEOF\n```\n\n"
        "```json\n{\"hs\": [1]}\n```\n"
        "```bash\necho done > ~/marker\n```\n"
    )
    candidate = build_shell_candidate(answer)
    assert candidate.blocks == (1, 2, 4)
    result = run_script(candidate.script, tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = tmp_path / "Downloads" / "ethminer" / "h-manifest.conf"
    # the file's text lands byte for byte, even a line that reads "EOF"
    assert manifest.read_text() == 'CUSTOM_NAME="ethminer"\nCUSTOM_VERSION="1.0"\nEOF\n'
    assert (tmp_path / "marker").read_text() == "done\n"


def test_a_hiveos_diff_against_dev_null_creates_its_files(tmp_path):
    answer = fenced("--- /dev/null\n+++ b/~/Downloads/ethminer/h-run.sh\n@@ -0,0 +1,2 @@\n"
                    "+#!/usr/bin/env bash\n+exec ethminer --api-port 3333 \"$@\"\n", "diff")
    candidate = build_shell_candidate(answer)
    assert run_script(candidate.script, tmp_path).returncode == 0
    made = tmp_path / "Downloads" / "ethminer" / "h-run.sh"
    assert made.read_text() == '#!/usr/bin/env bash\nexec ethminer --api-port 3333 "$@"\n'


def test_create_file_commands_quote_the_path_but_expand_home(tmp_path):
    script = create_file_commands("~/odd dir/$(touch pwned)/f.sh", "x\n")
    assert run_script(script, tmp_path).returncode == 0
    assert (tmp_path / "odd dir" / "$(touch pwned)" / "f.sh").read_text() == "x\n"
    assert not (tmp_path / "pwned").exists()


def test_no_shell_at_all_is_no_candidate():
    assert build_shell_candidate("Use HiveOS's custom miner support.") is None


def test_an_answer_given_as_json_has_its_code_found():
    import json

    answer = json.dumps({"bugs": [{"function": "get_payment_history", "fix": PARAM_HISTORY}]})
    candidate = build_candidate("payment", answer)
    assert isinstance(candidate, Candidate) and candidate.changed == {"PaymentProcessor.get_payment_history"}
    shell = json.dumps({"commands": "mkdir -p ~/Downloads/ethminer\ncd ~/Downloads/ethminer\necho ok > h-run.sh"})
    assert "echo ok > h-run.sh" in build_shell_candidate(shell).script


def test_a_json_value_its_key_calls_a_method_s_head_keeps_the_rest_of_the_method():
    import json

    head = ('    def calculate_payouts(self, block_reward_sat, block_height):\n'
            '        """Split a block reward (in satoshis) between the workers of the last N shares."""\n'
            '        with self._connect() as conn:\n            shares = self._last_shares(conn, self.share_window)\n')
    built = build_candidate("pplns", json.dumps({"fix": {"replace_calculate_payouts_head": head}}))
    payouts = method_source(built.files["pplns.py"], "PPLNSManager", "calculate_payouts")
    assert "window_size" not in payouts and "distributable" in payouts
    # under any other key the value is the whole method
    whole = build_candidate("pplns", json.dumps({"fix": {"replace_calculate_payouts": head}}))
    assert "distributable" not in method_source(whole.files["pplns.py"], "PPLNSManager", "calculate_payouts")


def test_an_unlabelled_block_of_methods_copied_at_class_indentation_is_python():
    init = ('    def __init__(self, config, db_path, rpc):\n        self.config = config\n        self.db_path = db_path\n'
            '        self.rpc = rpc\n        self.pool_fee_percent = config.get("pool_fee_percent", 1.0)\n'
            '        self.pool_address = config["pool_address"]\n        self.n_factor = config.get(\'pplns_n\', 2)\n'
            '        self.share_window = int(config["pplns_window"])\n')
    built = build_candidate("pplns", fenced(init, label=""))
    assert isinstance(built, Candidate) and built.changed == frozenset({"PPLNSManager.__init__"})
    # an unlabelled block of plain text is still no code
    assert isinstance(build_candidate("pplns", fenced("    restart the pool after editing the config", label="")), NoCandidate)


def test_a_fragment_at_the_margin_that_quotes_one_class_line_is_placed_after_it():
    stratum = read_fixture("stratum_server.py")
    anchor = "self.recent_shares[share_key] = time.time()"
    assert stratum.count(anchor) == 1
    snippet = ("MAX_RECENT_SHARES = 200_000\n\n# _handle_submit()\n" + anchor + "\n"
               "while len(self.recent_shares) > MAX_RECENT_SHARES:\n    self.recent_shares.popitem(last=False)\n")
    result = splice(stratum, snippet, "StratumServer")
    handler = method_source(result.text, "StratumServer", "_handle_submit")
    assert "self.recent_shares[share_key] = time.time()\n    while len(self.recent_shares) > MAX_RECENT_SHARES" in handler
    assert "MAX_RECENT_SHARES = 200000" in ast.unparse(ast.parse(result.text))
    # a run whose first line the class does not have is placed nowhere
    unknown = snippet.replace(anchor, "self.recent_shares[key] = now")
    assert "while len(self.recent_shares)" not in splice(stratum, unknown, "StratumServer").text


def test_a_quoted_call_with_elided_arguments_anchors_the_lines_after_its_whole_statement():
    stratum = read_fixture("stratum_server.py")
    snippet = "accepted, block_hash = await self._validate_share(...)\nself.recent_shares.clear()\n"
    handler = method_source(splice(stratum, snippet, "StratumServer").text, "StratumServer", "_handle_submit")
    # after the call's second line, at the statement's own indentation
    assert "session, job_id, extranonce2_bin, ntime_int, nonce_int)\n    self.recent_shares.clear()\n    if not accepted" in handler
    # a call prefix the class does not have anchors nothing
    other = snippet.replace("_validate_share", "_check_share")
    assert "self.recent_shares.clear()" not in splice(stratum, other, "StratumServer").text



def test_new_lines_after_several_quoted_class_lines_go_after_the_last_of_them():
    stratum = read_fixture("stratum_server.py")
    snippet = ("        async with server:\n            await server.serve_forever()\n"
               "            self._prune_recent_shares()\n")
    start = method_source(splice(stratum, snippet, "StratumServer").text, "StratumServer", "start")
    # inside the `async with`, after the call that never returns: the prune never runs
    assert "async with server:\n        await server.serve_forever()\n        self._prune_recent_shares()" in start
    # quoted lines the class does not have in that order place nothing
    swapped = snippet.replace("async with server:", "async with self.lock:")
    assert "_prune_recent_shares" not in splice(stratum, swapped, "StratumServer").text


def test_restated_local_lines_of_one_method_replace_their_namesakes():
    stratum = read_fixture("stratum_server.py")
    snippet = ('prev_hash = bytes.fromhex(self.block_template["previousblockhash"])[::-1]\n'
               'bits = bytes.fromhex(self.block_template["bits"])[::-1]\n')
    header = method_source(splice(stratum, snippet, "StratumServer").text, "StratumServer", "_build_header")
    assert header.count("[::-1]") == 2 and header.count("prev_hash = ") == 1 and header.count("bits = ") == 1
    # beside a line the class does not assign, the run is no restatement and replaces nothing
    mixed = snippet + "reversed_bits = bits[::-1]\n"
    assert "[::-1]" not in method_source(splice(stratum, mixed, "StratumServer").text, "StratumServer", "_build_header")



def test_a_dict_entry_given_alone_replaces_the_entry_with_its_key():
    pplns = read_fixture("pplns.py")
    stats = method_source(splice(pplns, '            "window_limit": self.pplns_window,\n', "PPLNSManager").text,
                          "PPLNSManager", "get_worker_stats")
    assert "'window_limit': self.pplns_window" in stats and "'window_limit': self.share_window" not in stats
    # a key the class does not write is placed nowhere (and does not parse as a fix)
    with pytest.raises(SyntaxError):
        splice(pplns, '"window_max": self.pplns_window,\n', "PPLNSManager")


def test_lines_after_the_line_a_lead_in_names_by_what_it_sets_are_added_there():
    pplns = read_fixture("pplns.py")
    line = "self.pplns_window = int(config.get(\"pplns_window\", 10000))\n"
    init = method_source(splice(pplns, line, "PPLNSManager", adds=True,
                                lead="In `__init__`, after the `n_factor` line, add the configured window:").text,
                         "PPLNSManager", "__init__")
    assert init.index("self.n_factor") < init.index("self.pplns_window") < init.index("self.share_window")
    # a name no line of the class sets does not place it after the `n_factor` line
    other = splice(pplns, line, "PPLNSManager", adds=True, lead="In `__init__`, after the `fee_ratio` line, add:").text
    assert "self.n_factor = config.get('pplns_n', 2)\n        self.pplns_window" not in other



def test_new_lines_under_a_comment_that_quotes_the_class_line_they_follow_go_after_it():
    stratum = read_fixture("stratum_server.py")
    snippet = ("# _handle_submit(), after self.recent_shares[share_key] = time.time()\n"
               "        if len(self.recent_shares) > 1000:\n            self.recent_shares.popitem()\n")
    handler = method_source(splice(stratum, snippet, "StratumServer").text, "StratumServer", "_handle_submit")
    assert "self.recent_shares[share_key] = time.time()\n    if len(self.recent_shares) > 1000:" in handler
    # a comment quoting no line of the class places nothing (the indented lines alone do not parse)
    other = snippet.replace("self.recent_shares[share_key] = time.time()", "self.recent_shares[key] = now")
    with pytest.raises(SyntaxError):
        splice(stratum, other, "StratumServer")


PRUNE_FRAGMENT = ("cutoff = time.time() - 600\n"
                  "while self.recent_shares and next(iter(self.recent_shares.values())) < cutoff:\n"
                  "    self.recent_shares.popitem(last=False)\n")


@pytest.mark.parametrize("lead", [
    "Before the duplicate check in `_handle_submit()`, add:",
    "Each submit adds a key. At the top of `_handle_submit`, add:",
    "and in `_handle_submit`, before the duplicate check:",
])
def test_a_bare_fragment_the_lead_in_puts_first_in_a_method_goes_at_its_top(lead):
    stratum = read_fixture("stratum_server.py")
    result = splice(stratum, PRUNE_FRAGMENT, "StratumServer", lead=lead)
    handler = method_source(result.text, "StratumServer", "_handle_submit")
    assert handler.index("cutoff = time.time() - 600") < handler.index("msg_id = message")


@pytest.mark.parametrize("lead, snippet", [
    # a place after something, or no method named: not the top
    ("After the duplicate check in `_handle_submit()`, add:", PRUNE_FRAGMENT),
    ("Before the duplicate check, add:", PRUNE_FRAGMENT),
    # a local the method sets on the way does not exist at its top
    ("Before the duplicate check in `_handle_submit()`, add:",
     "if len(self.recent_shares) > 100000 and share_key not in self.recent_shares:\n    self.recent_shares.popitem(last=False)\n"),
    # a restated line of the method is a rewrite, not an addition
    ("At the top of `_handle_submit()`, add:", "msg_id = message['id']\nself.recent_shares.clear()\n"),
    # and so is a new value of a local the method sets further down
    ("and at the top of `_handle_submit()`:", "msg_id = None\nself.recent_shares.clear()\n"),
])
def test_a_bare_fragment_is_not_put_at_a_method_top_the_lead_in_does_not_give_or_it_cannot_run_at(lead, snippet):
    stratum = read_fixture("stratum_server.py")
    assert splice(stratum, snippet, "StratumServer", lead=lead).text == stratum


PRUNER = ("```python\nSHARE_TTL = 600\n\ndef _prune_recent_shares(self):\n    cutoff = time.time() - SHARE_TTL\n"
          "    while self.recent_shares and next(iter(self.recent_shares.values())) < cutoff:\n"
          "        self.recent_shares.popitem(last=False)\n```\n\n")


def test_a_call_the_prose_puts_at_the_top_of_a_method_is_placed_there():
    built = build_candidate("stratum", PRUNER + "Call `self._prune_recent_shares()` at the top of `_handle_submit`.\n")
    handler = method_source(built.files["stratum_server.py"], "StratumServer", "_handle_submit")
    assert handler.split("\n")[1].strip() == "self._prune_recent_shares()"
    assert "StratumServer._handle_submit" in built.changed
    # a call to a helper the answer did not add, or with no place at the top, is left alone
    for words in ("Call `self._reply_error(session, 1, 20, 'x')` at the top of `_handle_submit`.",
                  "Call `self._prune_recent_shares()` from `_handle_submit`."):
        built = build_candidate("stratum", PRUNER + words + "\n")
        assert "StratumServer._handle_submit" not in built.changed, words


WINDOW_FROM_CONFIG = "        self.share_window = int(config.get(\"pplns_window\", 10000))\n"


def test_a_line_the_lead_in_puts_after_a_quoted_line_is_added_there_not_in_place_of_its_namesake():
    pplns = read_fixture("pplns.py")
    lead = "In `__init__`, right after the line `self.pool_address = config[\"pool_address\"]`, add:"
    init = method_source(splice(pplns, WINDOW_FROM_CONFIG, "PPLNSManager", adds=True, lead=lead).text, "PPLNSManager", "__init__")
    # added after the quoted line; the literal further down still runs (and overrides it)
    assert init.index("self.pool_address = ") < init.index("pplns_window") < init.index("self.share_window = 10000")
    # without a quoted line the one assignment of the attribute is replaced
    replaced = method_source(splice(pplns, WINDOW_FROM_CONFIG, "PPLNSManager", lead="In `__init__`:").text, "PPLNSManager", "__init__")
    assert "self.share_window = 10000" not in replaced and "pplns_window" in replaced
    # a quote of no class line places nothing there
    unknown = lead.replace("self.pool_address", "self.pool_addr")
    assert "self.share_window = 10000" not in method_source(
        splice(pplns, WINDOW_FROM_CONFIG, "PPLNSManager", adds=True, lead=unknown).text, "PPLNSManager", "__init__")


FEE_BODY = ('        fee = Decimal(str(amount)) * Decimal(str(self.fee_percent)) / 100\n'
            '        return fee.quantize(Decimal("0.00000001"))\n')


def test_a_block_under_make_the_body_of_a_function_becomes_its_whole_body():
    payment = read_fixture("payment_processor.py")
    result = splice(payment, FEE_BODY, "PaymentProcessor", lead="and make the body of `calculate_fee()`:")
    fee = method_source(result.text, "PaymentProcessor", "calculate_fee")
    assert fee.startswith("def calculate_fee(self, amount):") and "Decimal(str(self.fee_percent))" in fee
    assert "round(" not in fee
    # without that lead-in the lines are placed nowhere
    assert splice(payment, FEE_BODY, "PaymentProcessor", lead="Compute the fee like this:").text == payment
    # a function the program does not have gets no body
    assert splice(payment, FEE_BODY, "PaymentProcessor", lead="make the body of `compute_fee()`:").text == payment


INIT_FROM_CONFIG = ("    def __init__(self, config, db_path, rpc):\n        self.config = config\n        self.db_path = db_path\n"
                    "        self.rpc = rpc\n        self.pool_fee_percent = config.get(\"pool_fee_percent\", 1.0)\n"
                    "        self.pool_address = config[\"pool_address\"]\n        self.n_factor = config.get('pplns_n', 2)\n"
                    "        self.share_window = int(config.get(\"pplns_window\", 10000))\n")


def test_prose_after_a_block_that_goes_on_in_another_function_keeps_nothing_of_this_one():
    elsewhere = fenced(INIT_FROM_CONFIG) + "\nand in `calculate_payouts()` remove the two unused lines:\n"
    built = build_candidate("pplns", elsewhere)
    assert "self.share_window = 10000" not in built.files["pplns.py"]
    # the same words about this function keep its later lines
    here = fenced(INIT_FROM_CONFIG.replace("        self.share_window = int(config.get(\"pplns_window\", 10000))\n", "")
                  + "        window = int(config.get(\"pplns_window\", 10000))\n") + "\nthen delete the old lines after it.\n"
    kept = build_candidate("pplns", here)
    assert "self.share_window = 10000" in kept.files["pplns.py"]


def test_a_head_given_before_an_elision_drops_the_assignments_it_leaves_out_before_its_last_restated_line():
    pplns = read_fixture("pplns.py")
    head = ("def calculate_payouts(self, block_reward_sat, block_height):\n"
            "    \"\"\"Split a block reward (in satoshis) between the workers of the last N shares.\"\"\"\n"
            "    with self._connect() as conn:\n        shares = self._last_shares(conn, self.share_window)\n"
            "    # ... unchanged\n")
    merged = method_source(splice(pplns, head, "PPLNSManager").text, "PPLNSManager", "calculate_payouts")
    assert "window_size" not in merged and "net_diff" not in merged and "payouts[worker]" in merged
    # an assignment the given lines read stays
    reads = head.replace("    with self._connect()", "    window_size = int(net_diff * 3)\n    with self._connect()")
    kept = method_source(splice(pplns, reads, "PPLNSManager").text, "PPLNSManager", "calculate_payouts")
    assert "net_diff = self.rpc.getdifficulty()" in kept


def test_new_lines_over_the_class_lines_they_go_before_are_inserted_there():
    snippet = ("        amount = Decimal(str(amount))\n        fee = self.calculate_fee(amount)\n"
               "        net_amount = amount - fee\n")
    result = splice(PAYMENT, snippet, "PaymentProcessor")
    body = method_source(result.text, "PaymentProcessor", "_execute_payment")
    assert "amount = Decimal(str(amount))\n    fee = self.calculate_fee(amount)\n    net_amount = amount - fee" in body
    # the same line already in another method does not stop it; lines the class has right there add nothing
    fee_too = splice(PAYMENT, "    def calculate_fee(self, amount):\n        amount = Decimal(str(amount))\n"
                              "        return amount * Decimal(str(self.fee_percent)) / 100\n", "PaymentProcessor").text
    assert "amount = Decimal(str(amount))" in method_source(splice(fee_too, snippet, "PaymentProcessor").text,
                                                            "PaymentProcessor", "_execute_payment")
    restated = "        fee = self.calculate_fee(amount)\n        net_amount = amount - fee\n"
    assert splice(PAYMENT, restated, "PaymentProcessor").text == PAYMENT


def test_lines_a_lead_in_says_to_drop_are_removed_from_the_program():
    dropped = ("and in `calculate_payouts()` drop the two unused lines:\n\n"
               + fenced("        net_diff = self.rpc.getdifficulty()\n        window_size = int(net_diff * self.n_factor)\n"))
    built = build_candidate("pplns", fenced(INIT_FROM_CONFIG) + "\n" + dropped)
    payouts = method_source(built.files["pplns.py"], "PPLNSManager", "calculate_payouts")
    assert "window_size" not in payouts and "net_diff" not in payouts
    # the same lines under a lead-in that does not say to remove them change nothing
    shown = dropped.replace("drop the two unused lines:", "these two lines compute the window:")
    kept = build_candidate("pplns", fenced(INIT_FROM_CONFIG) + "\n" + shown)
    assert "window_size = int(net_diff * self.n_factor)" in kept.files["pplns.py"]



STRATUM = read_fixture("stratum_server.py")


def test_a_method_with_an_elision_in_its_middle_keeps_the_original_lines_between_its_two_ends():
    snippet = ('    async def _validate_share(self, session, job, extranonce2, ntime, nonce):\n'
               '        merkle_root, coinbase = self._compute_merkle(session.extranonce1, extranonce2)\n'
               '        header = self._build_header(merkle_root, ntime, nonce)\n'
               '        ...\n'
               '        if hash_int <= job["target"]:\n'
               '            await self._submit_block(header, coinbase, block_hash)\n'
               '        return True, block_hash\n')
    body = method_source(splice(STRATUM, snippet, "StratumServer").text, "StratumServer", "_validate_share")
    # the lines between the two ends stay; `job = self.current_job` is the new parameter's
    assert "hash_int = int.from_bytes(header_hash, 'little')" in body and "share_target" in body
    assert "self.current_job" not in body and body.count("return (True, block_hash)") == 1
    # ends the original does not have: nothing to place the middle between, the method is kept
    unknown = snippet.replace('        if hash_int <= job["target"]:\n            await self._submit_block(header, coinbase, block_hash)\n'
                              '        return True, block_hash\n', '        log.debug("done")\n')
    assert method_source(splice(STRATUM, unknown, "StratumServer").text, "StratumServer", "_validate_share") \
        == method_source(STRATUM, "StratumServer", "_validate_share")


def test_a_method_given_only_with_its_changed_opening_keeps_the_rest_of_the_original():
    opening = ('    async def _validate_share(self, session, job, extranonce2, ntime, nonce):\n'
               '        merkle_root, coinbase = self._compute_merkle(session.extranonce1, extranonce2)\n'
               '        header = self._build_header(merkle_root, ntime, nonce)\n')
    body = method_source(splice(STRATUM, opening, "StratumServer").text, "StratumServer", "_validate_share")
    assert "return (True, block_hash)" in body and "self.current_job" not in body
    # a whole new method that returns its own value replaces the original
    whole = opening + "        return False, None\n"
    assert "share_target" not in method_source(splice(STRATUM, whole, "StratumServer").text, "StratumServer", "_validate_share")


def test_kept_calls_pass_a_renamed_parameter_by_the_name_the_caller_binds():
    callee = fenced('    async def _validate_share(self, session, job, extranonce2, ntime, nonce):\n'
                    '        merkle_root, coinbase = self._compute_merkle(session.extranonce1, extranonce2)\n')
    # the head of the caller, ending on lines of the original: the rest of it (the call) is kept
    caller = fenced('    async def _handle_submit(self, session, message):\n        msg_id = message["id"]\n'
                    '        worker, job_id, extranonce2, ntime, nonce = message["params"]\n'
                    '        job = self.jobs.get(job_id)\n\n        if not session.subscribed:\n'
                    '            await self._reply_error(session, msg_id, 25, "Not subscribed")\n            return\n')
    built = build_candidate("stratum", callee + "\n" + caller)
    assert "session, job, extranonce2_bin, ntime_int, nonce_int)" in built.files["stratum_server.py"], built.notes
    # with no `job` bound in the caller the kept call is left as it is
    alone = build_candidate("stratum", callee)
    assert "session, job_id, extranonce2_bin, ntime_int, nonce_int)" in alone.files["stratum_server.py"]


def test_a_block_of_parts_under_method_comments_is_spliced_part_by_part():
    block = ("# __init__\n        self._shares_lock = asyncio.Lock()\n\n# _handle_submit\n"
             "        share_key = (job_id, session.extranonce1, extranonce2, ntime, nonce)\n"
             "        async with self._shares_lock:\n            if share_key in self.recent_shares:\n"
             "                await self._reply_error(session, msg_id, 22, \"Duplicate share\")\n                return\n"
             "            self.recent_shares[share_key] = time.time()\n")
    built = build_candidate("stratum", fenced(block))
    assert "self._shares_lock = asyncio.Lock()" in method_source(built.files["stratum_server.py"], "StratumServer", "__init__")
    # a block with no method comments that does not parse is still a syntax error
    assert isinstance(build_candidate("stratum", fenced(block.replace("# __init__\n", "").replace("# _handle_submit\n", ""))),
                      NoCandidate)


def test_a_method_ending_inside_a_with_block_over_the_original_lines_keeps_the_rest():
    given = ('    async def _handle_submit(self, session, message):\n'
             '        msg_id = message["id"]\n        worker, job_id, extranonce2, ntime, nonce = message["params"]\n'
             '        share_key = (job_id, session.extranonce1, extranonce2, ntime, nonce)\n'
             '        async with self._shares_lock:\n            if share_key in self.recent_shares:\n'
             '                await self._reply_error(session, msg_id, 22, "Duplicate share")\n                return\n'
             '            self.recent_shares[share_key] = time.time()\n')
    body = method_source(splice(STRATUM, given, "StratumServer").text, "StratumServer", "_handle_submit")
    assert "self._reply(session, msg_id, True)" in body and "async with self._shares_lock" in body


def test_a_module_the_code_uses_and_imports_nowhere_is_imported():
    snippet = ('_HEX8 = re.compile(r"^[0-9a-f]{8}$")\n\n    def _handle_submit(self, session, message):\n'
               '        if not _HEX8.match(message["params"][4]):\n            return\n')
    result = splice(STRATUM, snippet, "StratumServer")
    assert "import re" in result.text.splitlines() and "_HEX8 = re.compile" in result.text
    # a local of that name is no module
    local = snippet.replace("        if not _HEX8", "        re = self.patterns\n        if not _HEX8")
    assert "import re" not in splice(STRATUM, local.replace('_HEX8 = re.compile(r"^[0-9a-f]{8}$")\n\n', ""),
                                     "StratumServer").text.splitlines()


def test_a_quoted_line_then_a_restated_local_replaces_it_even_beside_a_rewritten_namesake():
    answer = (fenced("    def calculate_fee(self, amount):\n        fee = Decimal(str(amount)) * Decimal(str(self.fee_percent)) / 100\n"
                     "        return fee.quantize(Decimal('0.00000001'))\n")
              + "\n`_execute_payment()` must convert the amount too:\n\n"
              + fenced("        fee = self.calculate_fee(amount)\n        net_amount = Decimal(str(amount)) - fee\n"))
    body = method_source(build_candidate("payment", answer).files["payment_processor.py"], "PaymentProcessor", "_execute_payment")
    assert "net_amount = Decimal(str(amount)) - fee" in body and "net_amount = amount - fee" not in body


def test_inline_code_that_quotes_a_call_with_its_arguments_left_out_is_no_change_in_prose():
    thread_fix = fenced("    def _listen(self):\n        sock = self.context.socket(zmq.SUB)\n        sock.connect(self.endpoint)\n")
    quoted = "- `start()` – `self.socket.connect(...)` on the main thread\n\n" + thread_fix
    assert "ZMQListener.start" not in build_candidate("zmq", quoted).prose_only
    # a call the program has nowhere is still a change the prose alone makes
    new = "- `start()` – `self.socket.monitor(...)` on the main thread\n\n" + thread_fix
    assert "ZMQListener.start" in build_candidate("zmq", new).prose_only


def test_a_self_assignment_the_prose_puts_in_init_is_placed_whatever_dots_its_code_holds():
    code = fenced("    def broadcast_job(self, template, clean_jobs):\n        self.jobs[template['height']] = template\n        ...\n")
    built = build_candidate("stratum", code + "\nAdd `self.jobs = {}` in `__init__`.\n")
    assert "self.jobs = {}" in method_source(built.files["stratum_server.py"], "StratumServer", "__init__")


def test_lines_the_prose_takes_out_of_a_function_the_code_leaves_are_a_change_the_program_lacks():
    code = fenced("    def _listen(self):\n        sock = self.context.socket(zmq.SUB)\n        sock.connect(self.endpoint)\n")
    told = code + "\nand remove the `bind`/`XSUBSCRIBE` lines from `start()`.\n"
    assert "bind" in build_candidate("zmq", told).prose_only["ZMQListener.start"]
    # (lines it holds are taken out: the program carries that change)
    applied = build_candidate("zmq", code + "\nand remove the `connect`/`SUBSCRIBE` lines from `start()`.\n")
    assert "ZMQListener.start" in applied.changed and "ZMQListener.start" not in applied.prose_only
    # a function the code itself rewrites carries its own change
    rewritten = told + "\n" + fenced("    def start(self):\n        self.running = True\n")
    assert "ZMQListener.start" not in build_candidate("zmq", rewritten).prose_only


def test_a_drawing_of_the_folder_is_no_shell():
    drawing = "```\n~/Downloads/ethminer/\n├── ethminer   (your binary)\n└── h-run.sh\n```\n"
    commands = "```\nmkdir -p ~/Downloads/ethminer\n```\n"
    candidate = build_shell_candidate(drawing + commands)
    assert candidate is not None and candidate.blocks == (2,) and "├──" not in candidate.script


def test_module_level_lines_over_indented_methods_are_spliced_apart():
    block = ("```\nSATS_PER_BTC = 100_000_000\n\n    def calculate_fee(self, amount):\n"
             "        return int(round(amount * SATS_PER_BTC)) * 5 // 1000\n```\n")
    built = build_candidate("payment", block)
    assert isinstance(built, Candidate), built
    text = built.files["payment_processor.py"]
    assert "\nSATS_PER_BTC = 100_000_000\n" in text and "PaymentProcessor.calculate_fee" in built.changed
    ast.parse(text)
    # a head that opens a block of its own is one snippet, not two
    opened = block.replace("SATS_PER_BTC = 100_000_000\n", "if True:\n")
    assert not isinstance(build_candidate("payment", opened), Candidate)


def test_bare_lines_under_a_lead_in_naming_init_are_set_in_init():
    lines = fenced("        self.jobs = OrderedDict()            # job_id -> job\n        self.recent_shares = OrderedDict()\n")
    built = build_candidate("stratum", "In `__init__`:\n\n" + lines)
    assert isinstance(built, Candidate), built
    init = method_source(built.files["stratum_server.py"], "StratumServer", "__init__")
    assert "self.jobs = OrderedDict()" in init and init.count("self.recent_shares") == 1
    # under a lead-in that names another place, the same lines are not put into __init__
    elsewhere = build_candidate("stratum", "In `broadcast_job()`, after the job is built:\n\n" + lines)
    assert not isinstance(elsewhere, Candidate) or "self.jobs" not in method_source(
        elsewhere.files["stratum_server.py"], "StratumServer", "__init__")


def test_lines_under_a_lead_that_drops_some_and_keeps_the_rest_are_the_new_init():
    listen = fenced("    def _listen(self):\n        sock = self.context.socket(zmq.SUB)\n"
                    "        sock.setsockopt(zmq.RCVTIMEO, self.rcv_timeout_ms)\n        sock.connect(self.endpoint)\n"
                    "        while self.running:\n            self._dispatch(sock.recv_multipart())\n")
    kept = fenced("        self.endpoint = endpoint\n        self.rcv_timeout_ms = rcv_timeout_ms\n        self.context = zmq.Context()\n")
    lead = "In `__init__`, drop the three `self.socket` lines and keep the timeout for the thread:\n\n"
    init = method_source(build_candidate("zmq", listen + lead + kept).files["zmq_listener.py"], "ZMQListener", "__init__")
    assert "self.rcv_timeout_ms = rcv_timeout_ms" in init and "self.socket" not in init
    assert "self.endpoint = endpoint" in init and "self.context = zmq.Context()" in init
    # a lead that only drops lines takes the quoted ones out
    dropped = "In `__init__`, drop these lines:\n\n" + fenced(
        "        self.socket.setsockopt(zmq.RCVTIMEO, rcv_timeout_ms)\n        self.socket.setsockopt(zmq.RCVHWM, 0)\n")
    init = method_source(build_candidate("zmq", listen + dropped).files["zmq_listener.py"], "ZMQListener", "__init__")
    assert "RCVHWM" not in init


def test_bare_lines_a_lead_says_to_add_to_a_method_go_after_what_sets_the_value_they_read():
    lines = fenced('        self.jobs[self.current_job["job_id"]] = self.current_job\n')
    lead = "In `broadcast_job`, add `\"template\": template,` to the job dict and register it:\n\n"
    init = fenced("        self.jobs = {}\n")
    built = build_candidate("stratum", "In `__init__`:\n\n" + init + lead + lines)
    broadcast = method_source(built.files["stratum_server.py"], "StratumServer", "broadcast_job")
    assert broadcast.index("self.current_job = {") < broadcast.index("self.jobs[self.current_job['job_id']] = self.current_job")
    # (and the entry the lead-in adds joins the dict that statement sets)
    assert "'template': template" in broadcast
    # lines that read nothing the method sets are not placed there
    other = fenced("        self.jobs[job_id] = job\n")
    built = build_candidate("stratum", "In `__init__`:\n\n" + init + lead + other)
    assert "self.jobs[job_id]" not in method_source(built.files["stratum_server.py"], "StratumServer", "broadcast_job")


def test_a_container_the_prose_names_and_nothing_assigns_starts_empty_in_init():
    broadcast = fenced("    async def broadcast_job(self, template, clean_jobs):\n        if clean_jobs:\n"
                       "            self.jobs.clear()\n        self.current_job = self._make_job(template)\n"
                       "        self.jobs[self.current_job[\"job_id\"]] = self.current_job\n")
    told = "**Fix:** keep a `self.jobs` dict (`job_id → job`) and look the job up by id:\n\n" + broadcast
    init = method_source(build_candidate("stratum", told).files["stratum_server.py"], "StratumServer", "__init__")
    assert "self.jobs = {}" in init
    # unnamed in prose, or used as an OrderedDict the word "dict" does not give, it is not made up
    untold = "**Fix:** look the job up by id:\n\n" + broadcast
    assert "self.jobs" not in method_source(build_candidate("stratum", untold).files["stratum_server.py"], "StratumServer", "__init__")
    ordered = told.replace("self.jobs.clear()", "self.jobs.popitem(last=False)")
    assert "self.jobs" not in method_source(build_candidate("stratum", ordered).files["stratum_server.py"], "StratumServer", "__init__")


def test_a_module_constant_given_in_prose_joins_the_module_when_the_code_reads_it():
    helper = fenced("    def _expire_shares(self):\n        cutoff = time.time() - SHARE_RETENTION\n"
                    "        while self.recent_shares:\n            key, ts = next(iter(self.recent_shares.items()))\n"
                    "            if ts >= cutoff:\n                break\n            del self.recent_shares[key]\n")
    told = "**Share expiry** (`SHARE_RETENTION = 900` at module level)\n" + helper
    text = build_candidate("stratum", told).files["stratum_server.py"]
    assert "\nSHARE_RETENTION = 900\n" in text
    ast.parse(text)
    # a constant the code does not read, or one it defines itself, is not added
    unread = build_candidate("stratum", "(`MAX_AGE = 900` at module level)\n" + helper)
    assert "MAX_AGE" not in unread.files["stratum_server.py"]
    defined = build_candidate("stratum", told + fenced("SHARE_RETENTION = 600\n"))
    assert defined.files["stratum_server.py"].count("SHARE_RETENTION =") == 1


def test_a_part_under_a_method_comment_after_the_methods_a_block_rewrites_goes_into_that_method():
    block = fenced("from decimal import Decimal\n\ndef calculate_fee(self, amount):\n    return Decimal(str(amount)) / 200\n\n"
                   "# in _execute_payment:\nnet_amount = Decimal(str(amount)) - fee\n")
    built = build_candidate("payment", block)
    text = built.files["payment_processor.py"]
    assert "net_amount = Decimal(str(amount)) - fee" in method_source(text, "PaymentProcessor", "_execute_payment")
    assert {"PaymentProcessor.calculate_fee", "PaymentProcessor._execute_payment"} <= built.changed
    # a comment naming no method of the program is a comment
    plain = block.replace("# in _execute_payment:", "# in the payment path:")
    assert "PaymentProcessor._execute_payment" not in build_candidate("payment", plain).changed


def test_bare_lines_under_a_lead_in_naming_a_method_they_restate_a_line_of_go_into_it():
    lines = fenced("        self.block_template = template\n        if clean_jobs:\n            self.jobs = {}\n"
                   "        self.jobs[self.job_counter] = template\n")
    lead = "In `broadcast_job`, keep the template with the job and register it by id:\n\n"
    built = build_candidate("stratum", lead + lines)
    assert isinstance(built, Candidate) and "StratumServer.broadcast_job" in built.changed, built
    assert "self.jobs[self.job_counter] = template" in method_source(built.files["stratum_server.py"], "StratumServer",
                                                                       "broadcast_job")
    # lines that restate nothing of the method it names are not put into it
    alone = fenced("        if clean_jobs:\n            self.jobs = {}\n")
    other = build_candidate("stratum", lead + alone)
    assert not isinstance(other, Candidate) or "StratumServer.broadcast_job" not in other.changed


def test_a_method_given_from_an_elision_replaces_the_old_lines_between_two_it_restates():
    block = fenced("    async def _submit_block(self, header, coinbase, block_hash):\n"
                   "        # ... block assembly unchanged ...\n        block_hex = block.hex()\n"
                   "        logger.info(\"submitting block %s\", block_hash)\n"
                   "        result = await self.rpc.submitblock(block_hex)\n")
    submit = method_source(build_candidate("stratum", block).files["stratum_server.py"], "StratumServer", "_submit_block")
    assert "submitting block" in submit and "block candidate" not in submit
    assert submit.index("submitting block") < submit.index("submitblock(block_hex)") < submit.index("accepted by bitcoind")


def test_a_fragment_using_a_standard_library_name_gets_its_import():
    fragment = ("    def calculate_fee(self, amount):\n"
                "        fee = Decimal(str(amount)) * Decimal(str(self.fee_percent)) / 100\n"
                "        return fee.quantize(Decimal(\"0.00000001\"), rounding=ROUND_HALF_UP)\n")
    built = build_candidate("payment", fenced(fragment))
    text = built.files["payment_processor.py"]
    assert "from decimal import Decimal" in text and "from decimal import ROUND_HALF_UP" in text
    assert "leaves out added" in " ".join(built.notes)
    compile(text, "payment_processor.py", "exec")
    # the answer's own import is not added twice
    imported = fenced("from decimal import Decimal, ROUND_HALF_UP\n") + fenced(fragment)
    again = build_candidate("payment", imported).files["payment_processor.py"]
    assert again.count("import Decimal") == 1
    # a whole file the answer wrote is all the program has: its missing import stays missing
    whole = read_fixture("payment_processor.py").replace("return round(float(amount) * self.fee_percent / 100.0, 8)",
                                                          "return Decimal(str(amount)) * Decimal(str(self.fee_percent)) / 100")
    assert whole != read_fixture("payment_processor.py")
    full = build_candidate("payment", fenced(whole))
    assert full.kind == "full_file" and "from decimal import" not in full.files["payment_processor.py"]


def test_a_lead_naming_the_class_qualified_init_places_bare_lines_there():
    lead = "In `StratumServer.__init__` add:\n\n" + fenced("        self.jobs = OrderedDict()\n")
    built = build_candidate("stratum", lead)
    init = ast.get_source_segment(built.files["stratum_server.py"], next(
        n for n in ast.walk(ast.parse(built.files["stratum_server.py"]))
        if isinstance(n, ast.FunctionDef) and n.name == "__init__" and "self.recent_shares" in ast.unparse(n)))
    assert "self.jobs = OrderedDict()" in init
    # a lead naming the file is no method: the line is not put into __init__
    other = build_candidate("stratum", "In `stratum_server.py` add:\n\n" + fenced("        self.jobs = OrderedDict()\n"))
    assert isinstance(other, NoCandidate) or "StratumServer.__init__" not in other.changed


def test_a_config_the_answer_s_commands_write_is_the_one_the_program_starts_with():
    fix = fenced("class PPLNSManager:\n    def __init__(self, config, db_path, rpc):\n        ...\n"
                 "        self.share_window = int(config.get(\"pplns_window\", 10000))\n")
    config = '{\n  // the PPLNS window\n  "pplns_window": 50000\n}\n'
    answer = fix + "\n" + fenced(f"cat > pool_config.json << 'EOF'\n{config}EOF", "bash")
    candidate = build_candidate("pplns", answer)
    assert isinstance(candidate, Candidate)
    assert candidate.files["pool_config.json"] == config
    # shown, not written: the shipped config stays
    shown = build_candidate("pplns", fix + "\n" + fenced(config, "json"))
    assert "pool_config.json" not in shown.files
