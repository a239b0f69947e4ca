"""The program an answer's fix describes, and what its run judges.

Shapes a fix takes that are not a clean function or a clean file: a whole file that
leaves out a method it still calls, elisions written as comments or as a leading
``...``, a local standing for the attribute it replaces, a new helper whose caller is
given in prose. Then the probes' own reading of such programs: the SQL fix confined
to ``_execute_payment``, fees exact only for Decimal amounts, wrong-length hex, a size
cap the memory probe cannot reach, and HiveOS answers that use sudo, /tmp, the miner
log folder or write only some of the files.

The probe scripts run without the sandbox (``run_probe``) unless the behaviour is the
runner's or the sandbox's own; those tests go through ``Verifier`` and need it.
"""

from __future__ import annotations

import ast
import json

import pytest
from sandbox_helpers import needs_sandbox, require_sandbox  # noqa: F401 - the fixture needs_sandbox uses
from verify_probes_helpers import TARGET, by_probe, case_text, lay_out, run_probe

from llmbench.tasks.prompting import read_fixture
from llmbench.verify import runner
from llmbench.verify.candidate import Candidate, NoCandidate, build_candidate
from llmbench.verify.places import added_lines, concerns, touches_place
from llmbench.verify.runner import Verifier
from llmbench.verify.splice import elisions_as_ellipsis

PAYMENT = read_fixture("payment_processor.py")
PPLNS = read_fixture("pplns.py")
STRATUM = read_fixture("stratum_server.py")
ZMQ = read_fixture("zmq_listener.py")


def fenced(code: str, label: str = "python") -> str:
    return f"```{label}\n{code.strip(chr(10))}\n```\n"


def method(text: str, cls: str, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    owner = next(n for n in ast.parse(text).body if isinstance(n, ast.ClassDef) and n.name == cls)
    return next(n for n in owner.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name)


def body_of(text: str, cls: str, name: str) -> list[str]:
    """The method's statements, one unparsed line each (comments and layout aside)."""
    return [ast.unparse(stmt) for stmt in method(text, cls, name).body]


def without_method(text: str, name: str, next_name: str) -> str:
    start = text.index(f"    def {name}(")
    return text[:start] + text[text.index(f"    def {next_name}("):]


def candidate(task: str, answer: str) -> Candidate:
    built = build_candidate(task, answer)
    assert isinstance(built, Candidate), built
    return built


def probe_answer(tmp_path, task: str, answer: str, checks: list[str]) -> dict:
    """{probe: (status, detail)} of the answer's candidate program, laid out as the runner
    lays it out (the changed files and ``.changed.json``)."""
    built = candidate(task, answer)
    scratch = lay_out(tmp_path, task, built.files.get(TARGET[task]))
    for name, text in built.files.items():
        (scratch / "candidate" / name).write_text(text)
    (scratch / "candidate" / ".changed.json").write_text(json.dumps(sorted(built.changed)))
    return by_probe(run_probe(scratch, task, checks=checks))


@pytest.fixture(autouse=True)
def fresh_cache():
    runner._MEMORY.clear()
    yield
    runner._MEMORY.clear()


# -- a whole file that leaves out a method ---------------------------------------------

ZMQ_FIXED = case_text("zmq", "right_reference.py")


def test_a_whole_file_gets_back_a_method_it_calls_and_leaves_out_but_not_one_nothing_calls():
    built = candidate("zmq", "Corrected file:\n\n" + fenced(without_method(ZMQ_FIXED, "_dispatch", "stop")))
    text = built.files["zmq_listener.py"]
    assert built.kind == "full_file"
    assert ast.dump(method(text, "ZMQListener", "_dispatch")) == ast.dump(method(ZMQ, "ZMQListener", "_dispatch"))
    assert "ZMQListener._dispatch" not in built.changed
    assert built.notes == ["_dispatch() kept from the original: the file calls it and leaves it out"]
    # on() is the callers' API: nothing in the file calls it, so leaving it out is the file's choice
    dropped = candidate("zmq", "Corrected file:\n\n" + fenced(without_method(ZMQ_FIXED, "on", "start")))
    assert "def on(" not in dropped.files["zmq_listener.py"]
    assert "ZMQListener.on" in dropped.changed and dropped.notes == []


@needs_sandbox
def test_the_run_of_a_whole_file_missing_a_called_method_judges_the_fix_it_makes():
    right = "Corrected file:\n\n" + fenced(without_method(ZMQ_FIXED, "_dispatch", "stop"))
    run = Verifier().run("zmq", right)["zmq.fix_socket_in_thread"]
    assert run["status"] == "passed", run
    # a wrong fix in the same shape fails on its own fault, not on the missing method
    wrong = "Corrected file:\n\n" + fenced(without_method(case_text("zmq", "wrong_connect_in_start.py"),
                                                          "_dispatch", "stop"))
    run = Verifier().run("zmq", wrong)["zmq.fix_socket_in_thread"]
    assert run["status"] == "failed", run
    assert "connect runs in the caller's thread" in run["detail"]
    assert "_dispatch" not in run["detail"]


# -- elisions written as comments --------------------------------------------------------

SUBMIT_HEAD = '''
async def _handle_submit(self, session, message):
    msg_id = message.get("id")
    try:
        worker, job_id, extranonce2, ntime, nonce = message["params"]
        extranonce2_bin = bytes.fromhex(extranonce2)
        ntime_int = int(ntime, 16)
        nonce_int = int(nonce, 16)
    except (KeyError, TypeError, ValueError):
        await self._reply_error(session, msg_id, 20, "Malformed mining.submit")
        return
'''
SUBMIT_HEAD_THEN_REST = SUBMIT_HEAD + "    ...\n"


@pytest.mark.parametrize("comment", ["# ... unchanged from here", "# rest as before", "# (rest unchanged)",
                                     "# rest of _handle_submit stays the same", "# ...existing code..."])
def test_a_trailing_elision_comment_merges_like_an_ellipsis(comment):
    with_ellipsis = candidate("stratum", fenced(SUBMIT_HEAD_THEN_REST))
    with_comment = candidate("stratum", fenced(SUBMIT_HEAD + f"    {comment}\n"))
    assert with_comment.files == with_ellipsis.files
    assert with_comment.notes == ["_handle_submit() ends in '...': the rest of it kept as it was"]
    # the merge kept the fixture's checks after the answer's head
    assert "Duplicate share" in ast.unparse(method(with_comment.files["stratum_server.py"], "StratumServer",
                                                   "_handle_submit"))


def test_an_elision_comment_mid_function_keeps_the_original_lines_between_head_and_tail():
    mid = SUBMIT_HEAD + "    # rest as before\n    await self._reply(session, msg_id, True)\n"
    body = ast.unparse(method(candidate("stratum", fenced(mid)).files["stratum_server.py"], "StratumServer", "_handle_submit"))
    # the original's checks come back between the new head and the last line, once each
    assert "Duplicate share" in body and "Not subscribed" in body and body.count("_validate_share(") == 1
    assert body.count("message['params']") == 1 and body.endswith("await self._reply(session, msg_id, True)")
    # a tail the original does not have leaves the function as it was
    unknown = SUBMIT_HEAD + "    # rest as before\n    log.debug('submitted')\n"
    built = build_candidate("stratum", fenced(unknown))
    assert isinstance(built, NoCandidate) and built.reason.startswith("no code change")


@pytest.mark.parametrize("comment", ["# validate params...", "# the remainder goes to the pool",
                                     "# unchanged: the share key is built as before", "# leave the share key unchanged",
                                     "# REST clients resend on timeout"])
def test_an_ordinary_comment_in_the_code_is_not_an_elision(comment):
    code = SUBMIT_HEAD.replace("    try:\n", f"    {comment}\n    try:\n") + \
        "    await self._reply(session, msg_id, True)\n"
    assert elisions_as_ellipsis(code) == code
    built = candidate("stratum", fenced(code))
    text = built.files["stratum_server.py"]
    assert comment in text                                     # spliced as written
    assert body_of(text, "StratumServer", "_handle_submit")[-1] == "await self._reply(session, msg_id, True)"
    assert "Duplicate share" not in ast.unparse(method(text, "StratumServer", "_handle_submit"))


@pytest.mark.parametrize("comment", ["# (delete the three parse lines further down)",
                                     "# continue with the subscribed/authorized/duplicate checks",
                                     "# drop the old parse lines below"])
def test_a_comment_closing_the_function_that_points_on_keeps_the_rest(comment):
    with_ellipsis = candidate("stratum", fenced(SUBMIT_HEAD_THEN_REST))
    assert candidate("stratum", fenced(SUBMIT_HEAD + f"    {comment}\n")).files == with_ellipsis.files


def test_a_comment_pointing_on_in_the_middle_of_the_function_is_no_elision():
    code = SUBMIT_HEAD.replace("    try:\n", "    # parse first, the checks below need the ints\n    try:\n") + \
        "    await self._reply(session, msg_id, True)\n"
    assert elisions_as_ellipsis(code) == code


@pytest.mark.parametrize("prose", ["and delete the later `bytes.fromhex(extranonce2)` / `int(ntime, 16)` lines.",
                                   "Keep the rest of the method as it is."])
def test_prose_after_the_block_saying_the_function_goes_on_keeps_the_rest(prose):
    with_ellipsis = candidate("stratum", fenced(SUBMIT_HEAD_THEN_REST))
    assert candidate("stratum", fenced(SUBMIT_HEAD) + "\n" + prose + "\n").files == with_ellipsis.files
    # other prose after it: the block is the whole method
    whole = candidate("stratum", fenced(SUBMIT_HEAD) + "\nThat is the whole handler now.\n")
    assert "Duplicate share" not in ast.unparse(method(whole.files["stratum_server.py"], "StratumServer",
                                                       "_handle_submit"))


def test_a_new_static_helper_the_snippet_calls_on_self_joins_the_main_class():
    code = '''
@staticmethod
def _parse_submit(params):
    if not isinstance(params, list) or len(params) != 5:
        return None
    return params

async def _handle_submit(self, session, message):
    parsed = self._parse_submit(message.get("params"))
    ...
'''
    text = candidate("stratum", fenced(code)).files["stratum_server.py"]
    assert isinstance(method(text, "StratumServer", "_parse_submit"), ast.FunctionDef)
    assert "\ndef _parse_submit" not in text and "\n@staticmethod" not in text
    plain = candidate("stratum", fenced(code.replace("@staticmethod\n", "").replace("self._parse_submit", "_parse_submit")))
    assert "\ndef _parse_submit(params):" in plain.files["stratum_server.py"]      # a module function


def test_lines_under_an_init_comment_copied_at_their_class_depth_go_into_init():
    code = '''
MAX_JOBS = 16

    # __init__
        self.jobs = OrderedDict()          # job_id -> job

    async def broadcast_job(self, template, clean_jobs):
        self.jobs[format(self.job_counter, "x")] = template
        ...
'''
    text = candidate("stratum", fenced(code)).files["stratum_server.py"]
    assert "self.jobs = OrderedDict()" in body_of(text, "StratumServer", "__init__")
    assert "MAX_JOBS = 16" in text


def test_an_elision_comment_where_no_statement_can_stand_stays_a_comment():
    inside_call = '''
def get_payment_history(self, address, limit=50):
    conn = self._connect()
    try:
        rows = conn.execute(
            # same columns as before, the address bound
            "SELECT id, amount, fee, txid, status, paid_at FROM payouts WHERE address = ? ORDER BY id DESC LIMIT ?",
            (address, int(limit)),
        ).fetchall()
        return [dict(row) for row in rows]
    finally:
        conn.close()
'''
    built = candidate("payment", fenced(inside_call))
    assert built.changed == {"PaymentProcessor.get_payment_history"}
    assert "# same columns as before, the address bound" in built.files["payment_processor.py"]
    # deeper than any block around it: a '...' there would not parse, the comment stays
    misplaced = SUBMIT_HEAD + "            # rest unchanged\n    await self._reply(session, msg_id, True)\n"
    built = candidate("stratum", fenced(misplaced))
    assert "StratumServer._handle_submit" in built.changed


# -- a function starting with '...' ------------------------------------------------------

PPLNS_INIT_LEADING = '''
def __init__(self, config, db_path, rpc):
    ...
    self.window_log = []
    self.share_window = int(config.get("pplns_window", 10000))
    self.pool_fee_percent = float(config.get("pool_fee_percent", 1.0))
'''


def test_a_leading_ellipsis_replaces_the_originals_assignments_in_place_and_appends_the_rest():
    built = candidate("pplns", fenced(PPLNS_INIT_LEADING))
    assert built.notes == ["__init__() starts with '...': its assignments replace the original's"]
    assert body_of(built.files["pplns.py"], "PPLNSManager", "__init__") == [
        "self.config = config",
        "self.db_path = db_path",
        "self.rpc = rpc",
        "self.pool_fee_percent = float(config.get('pool_fee_percent', 1.0))",   # in the original's place
        "self.pool_address = config['pool_address']",
        "self.n_factor = config.get('pplns_n', 2)",
        "self.share_window = int(config.get('pplns_window', 10000))",          # in the original's place
        "self.window_log = []",                                               # new: after them
    ]


def test_a_leading_ellipsis_assignment_to_another_name_leaves_the_original_in_place():
    built = candidate("pplns", fenced(PPLNS_INIT_LEADING.replace("self.share_window =", "self.window =")))
    body = body_of(built.files["pplns.py"], "PPLNSManager", "__init__")
    assert "self.share_window = 10000" in body
    assert body[-2:] == ["self.window_log = []", "self.window = int(config.get('pplns_window', 10000))"]


def test_the_run_judges_the_window_a_leading_ellipsis_sets(tmp_path):
    results = probe_answer(tmp_path / "right", "pplns", fenced(PPLNS_INIT_LEADING), ["pplns.config_key_mismatch"])
    assert results["configured_window_decides"][0] == "passed", results
    wrong = PPLNS_INIT_LEADING.replace("self.share_window =", "self.window =")
    results = probe_answer(tmp_path / "wrong", "pplns", fenced(wrong), ["pplns.config_key_mismatch"])
    assert results["configured_window_decides"][0] == "failed", results


# -- a local in the place of the attribute -----------------------------------------------

LISTEN_WITH_LOCAL = '''
def _listen(self):
    sock = self.context.socket(zmq.SUB)
    sock.setsockopt(zmq.RCVTIMEO, 1000)
    sock.connect(self.endpoint)
    for topic in TOPICS:
        sock.setsockopt(zmq.SUBSCRIBE, topic)
    ...
'''


def test_a_local_bound_like_the_attribute_takes_its_place_in_the_kept_lines():
    built = candidate("zmq", fenced(LISTEN_WITH_LOCAL))
    listen = ast.unparse(method(built.files["zmq_listener.py"], "ZMQListener", "_listen"))
    assert "frames = sock.recv_multipart()" in listen
    assert "self.socket" not in listen
    # the rest of the fixture is untouched: start() still has its own socket
    assert "self.socket.connect(self.endpoint)" in ast.unparse(method(built.files["zmq_listener.py"],
                                                                      "ZMQListener", "start"))


def test_a_local_bound_to_another_expression_leaves_the_attribute_in_the_kept_lines():
    other = LISTEN_WITH_LOCAL.replace("self.context.socket(zmq.SUB)", "zmq.Context.instance().socket(zmq.SUB)")
    built = candidate("zmq", fenced(other))
    listen = ast.unparse(method(built.files["zmq_listener.py"], "ZMQListener", "_listen"))
    assert "frames = self.socket.recv_multipart()" in listen


# -- a new helper and where it runs -------------------------------------------------------

PRUNER = '''
async def _prune_shares(self, ttl=300):
    while True:
        await asyncio.sleep(30)
        cutoff = time.time() - ttl
        for key in [k for k, seen in self.recent_shares.items() if seen < cutoff]:
            del self.recent_shares[key]
'''
START_WITH_PRUNER = '''
async def start(self):
    server = await asyncio.start_server(self._handle_client, self.host, self.port)
    self._poller = asyncio.create_task(self._poll_templates())
    self._pruner = asyncio.create_task(self._prune_shares())
    async with server:
        await server.serve_forever()
'''
SAYS_WHERE = ["Call it from `_handle_submit`.", "Schedule it in start().", "Add the prune and call it on every submit.",
              "Call `self._prune_shares()` from `_handle_submit` when you get to it."]
SAYS_NOTHING_OF_WHERE = ["The pool keeps every share key forever.",
                         "Left alone, the server will run out of memory in a few days.",
                         "`start()` on the main thread never prunes anything."]


@pytest.mark.parametrize("prose", SAYS_NOTHING_OF_WHERE)
def test_a_helper_nothing_calls_counts_for_its_place_when_the_prose_says_nothing_of_where_it_runs(prose):
    built = candidate("stratum", f"{prose}\n\n" + fenced(PRUNER))
    assert touches_place("stratum.memory_leak", built.changed, built.added_state)


@pytest.mark.parametrize("prose", SAYS_WHERE)
def test_a_helper_nothing_calls_is_left_to_the_prose_that_says_where_it_runs(prose):
    built = candidate("stratum", f"{prose}\n\n" + fenced(PRUNER))
    assert not touches_place("stratum.memory_leak", built.changed, built.added_state)


def test_float_money_rounded_on_floats_carries_no_money_fix_whatever_its_run_says():
    rounded = ("fee = round(self.calculate_fee(amount), 8)\nnet_amount = round(amount - fee, 8)\n")
    built = candidate("payment", "In `_execute_payment`, round both:\n\n" + fenced(rounded))
    assert "PaymentProcessor._execute_payment" in built.changed
    added = added_lines(PAYMENT, built.files["payment_processor.py"])
    assert not touches_place("payment.float_precision", built.changed, built.added_state, added)
    decimal = ("fee = self.calculate_fee(Decimal(str(amount)))\nnet_amount = Decimal(str(amount)) - fee\n")
    built = candidate("payment", "In `_execute_payment`:\n\n" + fenced(decimal))
    added = added_lines(PAYMENT, built.files["payment_processor.py"])
    assert touches_place("payment.float_precision", built.changed, built.added_state, added)


def test_a_call_the_prose_puts_at_the_top_of_a_method_makes_the_helper_called():
    built = candidate("stratum", "Call `self._prune_shares()` at the top of `_handle_submit`.\n\n" + fenced(PRUNER))
    assert "StratumServer._handle_submit" in built.changed
    assert touches_place("stratum.memory_leak", built.changed, built.added_state)


def test_a_helper_that_is_called_counts_whatever_the_prose_says():
    task = candidate("stratum", f"{SAYS_WHERE[0]}\n\n" + fenced(PRUNER) + "\n" + fenced(START_WITH_PRUNER))
    assert "recent_shares" in task.added_state
    assert touches_place("stratum.memory_leak", task.changed, task.added_state)
    thread = '''
def _sweep(self):
    while not self._stop.wait(60):
        with self.lock:
            self.processing.clear()

def run(self, interval=60):
    threads = [threading.Thread(target=self._worker_loop, args=(interval,), daemon=True) for _ in range(self.workers)]
    threads.append(threading.Thread(target=self._sweep, daemon=True))
    for thread in threads:
        thread.start()
    return threads
'''
    built = candidate("payment", "Start it from `run()`.\n\n" + fenced(thread))
    assert "processing" in built.added_state
    assert touches_place("payment.race_condition", built.changed, built.added_state)
    # the same helper with nothing starting it is the prose's to place
    alone = candidate("payment", "Start it from `run()`.\n\n" + fenced(thread[:thread.index("def run")]))
    assert not touches_place("payment.race_condition", alone.changed, alone.added_state)


@needs_sandbox
def test_an_uncalled_helper_is_judged_by_the_run_unless_the_prose_says_where_it_runs():
    judged = Verifier().run("stratum", "Prune the share keys:\n\n" + fenced(PRUNER))["stratum.memory_leak"]
    assert judged["status"] == "failed", judged
    assert "never pruned" in judged["detail"]
    placed = Verifier().run("stratum", f"{SAYS_WHERE[0]}\n\n" + fenced(PRUNER))["stratum.memory_leak"]
    assert placed["status"] == "no_code", placed


# -- payment: the SQL fix confined to _execute_payment ----------------------------------------

EXECUTE_BOUND = '''
def _execute_payment(self, payout_id, address, amount):
    fee = self.calculate_fee(amount)
    net_amount = amount - fee
    conn = self._connect()
    try:
        conn.execute("UPDATE payouts SET status = 'processing' WHERE id = ?", (payout_id,))
        conn.commit()
        txid = self._send_payment(address, net_amount)
        if txid is None:
            raise PaymentError(f"wallet did not return a txid for payout {payout_id}")
        conn.execute("UPDATE payouts SET status = 'paid', txid = ?, fee = ?, paid_at = ? WHERE id = ?",
                     (txid, fee, int(time.time()), payout_id))
        conn.commit()
        return txid
    except Exception as exc:
        log.warning("payout %s failed, will retry: %s", payout_id, exc)
        conn.execute("UPDATE payouts SET status = 'pending' WHERE id = ?", (payout_id,))
        conn.commit()
        return None
    finally:
        conn.close()
'''
EXECUTE_STILL_FORMATTED = '''
def _execute_payment(self, payout_id, address, amount):
    fee = self.calculate_fee(amount)
    net_amount = amount - fee
    conn = self._connect()
    try:
        conn.execute(f"UPDATE payouts SET status = 'processing' WHERE id = {payout_id}")
        conn.commit()
        txid = self._send_payment(address, net_amount)
        if txid is None:
            raise PaymentError(f"wallet did not return a txid for payout {payout_id}")
        conn.execute(f"UPDATE payouts SET status = 'paid', txid = '{txid}', fee = {fee}, "
                     f"paid_at = {int(time.time())} WHERE id = {payout_id}")
        conn.commit()
        log.info("payout %s sent", payout_id)
        return txid
    except Exception as exc:
        log.warning("payout %s failed, will retry: %s", payout_id, exc)
        conn.execute(f"UPDATE payouts SET status = 'pending' WHERE id = {payout_id}")
        conn.commit()
        return None
    finally:
        conn.close()
'''
HISTORY_STILL_FORMATTED = '''
def get_payment_history(self, address, limit=50):
    conn = self._connect()
    try:
        rows = conn.execute(
            f"SELECT id, amount, fee, txid, status, paid_at FROM payouts "
            f"WHERE address = '{address}' ORDER BY id DESC LIMIT {int(limit)}"
        ).fetchall()
        return [dict(row) for row in rows][:limit]
    finally:
        conn.close()
'''


def test_the_sql_check_judges_the_payments_statements_when_only_execute_payment_changed(tmp_path):
    bound = probe_answer(tmp_path / "bound", "payment", fenced(EXECUTE_BOUND), ["payment.sql_injection"])
    assert bound["history_not_injectable"] == ("passed", "_execute_payment binds the payout id in its 2 UPDATE "
                                                          "statement(s)")
    formatted = probe_answer(tmp_path / "formatted", "payment", fenced(EXECUTE_STILL_FORMATTED),
                             ["payment.sql_injection"])
    status, detail = formatted["history_not_injectable"]
    assert status == "error"
    assert detail.startswith("cannot be judged: the answer changed _execute_payment but still formats the payout id")


def test_the_sql_check_judges_the_history_when_the_answer_changed_it(tmp_path):
    both = fenced(EXECUTE_BOUND) + "\n" + fenced(HISTORY_STILL_FORMATTED)
    status, detail = probe_answer(tmp_path, "payment", both, ["payment.sql_injection"])["history_not_injectable"]
    assert status == "failed"
    assert "rows of other addresses" in detail


# -- payment: fees exact only for Decimal amounts -------------------------------------------------

FEE_EXACT_FOR_DECIMALS = '''
from decimal import Decimal

def calculate_fee(self, amount):
    return Decimal(amount) * Decimal(str(self.fee_percent)) / 100
'''
EXECUTE_HANDS_DECIMALS = EXECUTE_BOUND.replace(
    "    fee = self.calculate_fee(amount)\n",
    "    amount = Decimal(str(amount))\n    fee = self.calculate_fee(amount)\n").replace(
    "(txid, fee, int(time.time()), payout_id)", "(txid, str(fee), int(time.time()), payout_id)")


def test_fees_exact_only_for_decimals_are_judged_along_the_payment_path(tmp_path):
    hands_decimals = fenced(FEE_EXACT_FOR_DECIMALS) + "\n" + fenced(EXECUTE_HANDS_DECIMALS)
    results = probe_answer(tmp_path / "decimals", "payment", hands_decimals, ["payment.float_precision"])
    assert results["money_exact_to_satoshi"] == ("passed", "fees, the amount sent exact to the satoshi")
    # the fee alone: the unchanged path hands it the float and the payout never goes out
    status, detail = probe_answer(tmp_path / "floats", "payment", fenced(FEE_EXACT_FOR_DECIMALS),
                                  ["payment.float_precision"])["money_exact_to_satoshi"]
    assert status == "failed"
    assert detail.startswith("calculate_fee is exact only for Decimal amounts and the payment path hands it the float")
    # a fee inexact even for Decimal amounts fails where it is computed
    inexact = FEE_EXACT_FOR_DECIMALS.replace("Decimal(amount) * Decimal(str(self.fee_percent)) / 100",
                                             "Decimal(float(amount) * self.fee_percent / 100)")
    status, detail = probe_answer(tmp_path / "inexact", "payment", fenced(inexact) + "\n" +
                                  fenced(EXECUTE_HANDS_DECIMALS), ["payment.float_precision"])["money_exact_to_satoshi"]
    assert status == "failed"
    assert detail.startswith("calculate_fee(0.29)")


def narrowed_decimal_program(prec: int) -> str:
    """The fixture with Decimal fees and amounts, and the thread's decimal context set to
    ``prec`` digits at import (a whole file: the splice does not carry such a line)."""
    return read_fixture("payment_processor.py").replace(
        "import time\n", f"import time\nfrom decimal import Decimal, getcontext\n\ngetcontext().prec = {prec}\n", 1).replace(
        "return round(float(amount) * self.fee_percent / 100.0, 8)",
        "return Decimal(str(amount)) * Decimal(str(self.fee_percent)) / 100", 1).replace(
        "        fee = self.calculate_fee(amount)\n", "        amount = Decimal(str(amount))\n        fee = self.calculate_fee(amount)\n", 1)


def test_a_narrowed_decimal_context_rounds_the_money_and_not_the_probe_s_sums(tmp_path):
    # (the context is the thread's: set by the candidate at import, it would round the probe's
    # own sums the same way and hide the loss)
    status, detail = probe_answer(tmp_path / "prec8", "payment", fenced(narrowed_decimal_program(8)),
                                  ["payment.float_precision"])["money_exact_to_satoshi"]
    assert status == "failed" and detail.startswith("calculate_fee(12345.6789) is Decimal('61.72839"), detail
    status, detail = probe_answer(tmp_path / "prec28", "payment", fenced(narrowed_decimal_program(28)),
                                  ["payment.float_precision"])["money_exact_to_satoshi"]
    assert (status, detail) == ("passed", "fees, the amount sent exact to the satoshi")


def test_a_fee_in_integer_satoshis_that_refuses_a_float_is_judged_in_satoshis(tmp_path):
    caller = EXECUTE_BOUND.replace("    fee = self.calculate_fee(amount)\n    net_amount = amount - fee\n",
                                   "    amount_sats = to_sats(amount)\n    fee = to_btc(self.calculate_fee(amount_sats))\n"
                                   "    net_amount = to_btc(amount_sats) - fee\n").replace(
        "(txid, fee, int(time.time()), payout_id)", "(txid, str(fee), int(time.time()), payout_id)")
    assert "to_sats(amount)" in caller
    whole = fenced(SATOSHI_HELPERS) + "\n" + fenced(SATOSHI_FEE) + "\n" + fenced(caller)
    results = probe_answer(tmp_path / "sats", "payment", whole, ["payment.float_precision"])
    assert results["money_exact_to_satoshi"] == ("passed", "fees, the amount sent exact to the satoshi"), results
    # the same fee beside the unchanged caller: the row's float stops the payout
    status, detail = probe_answer(tmp_path / "fee", "payment", fenced(SATOSHI_HELPERS) + "\n" + fenced(SATOSHI_FEE),
                                  ["payment.float_precision"])["money_exact_to_satoshi"]
    assert status == "failed" and not detail.startswith("candidate raised"), detail


# -- stratum: what a malformed submit must get ---------------------------------------------------

def submit_handler(malformed_reply: str) -> str:
    """A _handle_submit that answers a low-difficulty share with ``result: false`` and no
    error, as some pools do, and malformed params with ``malformed_reply``."""
    return f'''
async def _handle_submit(self, session, message):
    msg_id = message.get("id")
    try:
        worker, job_id, extranonce2, ntime, nonce = message["params"]
        extranonce2_bin = bytes.fromhex(extranonce2)
        ntime_int = int(ntime, 16)
        nonce_int = int(nonce, 16)
    except (KeyError, TypeError, ValueError):
        {malformed_reply}
        return
    if not session.subscribed:
        await self._reply_error(session, msg_id, 25, "Not subscribed")
        return
    if worker not in session.authorized_workers:
        await self._reply_error(session, msg_id, 24, "Unauthorized worker")
        return
    share_key = (job_id, session.extranonce1, extranonce2, ntime, nonce)
    if share_key in self.recent_shares:
        await self._reply_error(session, msg_id, 22, "Duplicate share")
        return
    self.recent_shares[share_key] = time.time()
    accepted, block_hash = await self._validate_share(session, job_id, extranonce2_bin, ntime_int, nonce_int)
    if not accepted:
        await self._reply(session, msg_id, False)
        return
    await self.share_log.record(worker, session.difficulty, block_hash)
    await self._reply(session, msg_id, True)
'''


def test_wrong_length_hex_needs_a_reply_and_unparsable_params_a_stratum_error(tmp_path):
    # short/long extranonce2 and a short nonce parse: answered False without an error, they pass
    errors = submit_handler('await self._reply_error(session, msg_id, 20, "Malformed mining.submit")')
    status, detail = probe_answer(tmp_path / "errors", "stratum", fenced(errors),
                                  ["stratum.input_validation"])["malformed_submit_error_reply"]
    assert status == "passed", detail
    assert "3 of the wrong length a reply" in detail
    # params that do not parse still need a stratum error
    no_error = submit_handler("await self._reply(session, msg_id, False)")
    status, detail = probe_answer(tmp_path / "no_error", "stratum", fenced(no_error),
                                  ["stratum.input_validation"])["malformed_submit_error_reply"]
    assert status == "failed"
    assert detail == "submit with 4 params: answered False without a stratum error"


def capped_submit(cap: str) -> str:
    return f'''
MAX_RECENT_SHARES = {cap}

async def _handle_submit(self, session, message):
    while len(self.recent_shares) > MAX_RECENT_SHARES:
        self.recent_shares.popitem(last=False)
    ...
'''


def test_a_share_cap_above_the_memory_probes_submits_is_lowered_when_named_and_one_below_passes(tmp_path):
    # a named cap above the probe's submits is lowered to one they pass, and judged there
    status, detail = probe_answer(tmp_path / "above", "stratum", fenced(capped_submit("200_000")),
                                  ["stratum.memory_leak"])["recent_shares_bounded"]
    assert status == "passed" and "capped at 75000 entries" in detail, detail
    newest = capped_submit("200_000").replace("popitem(last=False)", "popitem()")
    status, detail = probe_answer(tmp_path / "newest", "stratum", fenced(newest),
                                  ["stratum.memory_leak"])["recent_shares_bounded"]
    assert status == "failed" and "accepted twice" in detail, detail
    # a literal one cannot be lowered: the run cannot judge it
    literal = capped_submit("200_000").replace("> MAX_RECENT_SHARES", "> 200_000")
    status, detail = probe_answer(tmp_path / "literal", "stratum", fenced(literal),
                                  ["stratum.memory_leak"])["recent_shares_bounded"]
    assert status == "error"
    # (more than the submits the probe makes: 100000, or fewer when a loaded machine slows the submits down)
    assert detail.startswith("cannot be judged: recent_shares is capped at 200000 entries, more than the "), detail
    status, detail = probe_answer(tmp_path / "below", "stratum", fenced(capped_submit("10_000")),
                                  ["stratum.memory_leak"])["recent_shares_bounded"]
    assert status == "passed", detail
    # a cap the state reaches only at the end of the run: the probe goes on past it
    status, detail = probe_answer(tmp_path / "at", "stratum", fenced(capped_submit("100_000")),
                                  ["stratum.memory_leak"])["recent_shares_bounded"]
    assert status == "passed" and "capped at 100000 entries and held" in detail, detail
    never = capped_submit("100_000").replace("    while len(", "    while False and len(")
    status, detail = probe_answer(tmp_path / "never", "stratum", fenced(never),
                                  ["stratum.memory_leak"])["recent_shares_bounded"]
    assert status == "failed" and "the cap never applies" in detail, detail


def test_a_prune_that_drops_the_keys_the_duplicate_check_needs_fails_the_bound(tmp_path):
    inverted = '''
async def _handle_submit(self, session, message):
    cutoff = time.time() - 600
    while self.recent_shares:
        oldest = next(iter(self.recent_shares))
        if self.recent_shares[oldest] < cutoff:
            break
        self.recent_shares.popitem(last=False)
    ...
'''
    status, detail = probe_answer(tmp_path / "inverted", "stratum", fenced(inverted),
                                  ["stratum.memory_leak"])["recent_shares_bounded"]
    assert status == "failed"
    assert "the same share sent twice in a row was accepted twice" in detail
    status, detail = probe_answer(tmp_path / "right", "stratum", fenced(inverted.replace("< cutoff", ">= cutoff")),
                                  ["stratum.memory_leak"])["recent_shares_bounded"]
    assert status == "passed", detail


def test_a_prune_whose_submits_slow_down_as_the_state_grows_is_judged_on_a_trickle_of_later_jobs(tmp_path):
    # walks every key on each submit: slow, and only the age decides what goes
    walks_all = '''
async def _handle_submit(self, session, message):
    cutoff = time.time() - 600
    for key, seen in list(self.recent_shares.items()):
        if seen < cutoff:
            del self.recent_shares[key]
    ...
'''
    status, detail = probe_answer(tmp_path / "walks", "stratum", fenced(walks_all),
                                  ["stratum.memory_leak"])["recent_shares_bounded"]
    assert status == "passed" and "submits slowed down as the state grew" in detail, detail
    # walks from the newest entry and stops at once: under steady traffic nothing ever goes
    newest_first = '''
async def _handle_submit(self, session, message):
    now = time.time()
    for key in reversed(list(self.recent_shares)):
        if now - self.recent_shares[key] <= 600:
            break
        del self.recent_shares[key]
    ...
'''
    status, detail = probe_answer(tmp_path / "newest", "stratum", fenced(newest_first),
                                  ["stratum.memory_leak"])["recent_shares_bounded"]
    assert status == "failed" and "each submit slowed down as the state grew" in detail, detail
    # a size cap it has reached holds the state on the trickle: bounded (each submit here is
    # slow for another reason, so the run takes the trickle whatever the machine)
    slow_cap = '''
async def _handle_submit(self, session, message):
    for _ in range(20000):
        pass
    while len(self.recent_shares) > 5000:
        self.recent_shares.popitem(last=False)
    ...
'''
    status, detail = probe_answer(tmp_path / "cap", "stratum", fenced(slow_cap),
                                  ["stratum.memory_leak"])["recent_shares_bounded"]
    assert status == "passed" and "submits slowed down as the state grew" in detail, detail


# -- stratum: where input validation lives -------------------------------------------------------

VALIDATE_SHARE_CHECKS_LENGTHS = '''
async def _validate_share(self, session, job_id, extranonce2, ntime, nonce):
    if len(extranonce2) != EXTRANONCE2_SIZE:
        return False, None
    job = self.current_job
    merkle_root, coinbase = self._compute_merkle(session.extranonce1, extranonce2)
    header = self._build_header(merkle_root, ntime, nonce)
    header_hash = dsha256(header)
    hash_int = int.from_bytes(header_hash, "little")
    share_target = DIFF1_TARGET // session.difficulty
    if hash_int > share_target:
        return False, None
    block_hash = header_hash[::-1].hex()
    if hash_int <= job["target"]:
        await self._submit_block(header, coinbase, block_hash)
    return True, block_hash
'''


def test_input_validation_lives_where_the_params_are_unpacked():
    assert not touches_place("stratum.input_validation", frozenset({"StratumServer._validate_share"}))
    assert touches_place("stratum.input_validation", frozenset({"StratumServer._handle_submit"}))
    assert touches_place("stratum.input_validation", frozenset({"StratumServer._dispatch"}))


@needs_sandbox
def test_a_change_confined_to_validate_share_is_no_code_for_input_validation():
    run = Verifier().run("stratum", fenced(VALIDATE_SHARE_CHECKS_LENGTHS))["stratum.input_validation"]
    assert run["status"] == "no_code", run
    assert run["detail"].startswith("the answer's code changes none of _handle_submit, _dispatch (the probe failed")
    run = Verifier().run("stratum", fenced(SUBMIT_HEAD_THEN_REST))["stratum.input_validation"]
    assert run["status"] == "passed", run


# -- hiveos: how the answer writes its files --------------------------------------------------------

HIVEOS = case_text("hiveos", "right_reference.sh")
FILE_CHECKS = ("hiveos.directory", "hiveos.heredocs", "hiveos.manifest")


def with_sudo_tee(script: str) -> str:
    """The reference answer as written by one who uses sudo: sudo mkdir, sudo tee each file."""
    script = script.replace("mkdir -p ~/Downloads/ethminer\ncd ~/Downloads/ethminer\n", "sudo mkdir -p ~/Downloads/ethminer\n")
    for name in ("h-manifest.conf", "h-config.sh", "h-run.sh", "h-stats.sh"):
        script = script.replace(f"cat > {name} << 'EOF'", f"sudo tee ~/Downloads/ethminer/{name} > /dev/null << 'EOF'")
    return script.replace("chmod +x h-config.sh h-run.sh h-stats.sh",
                          "sudo chmod +x ~/Downloads/ethminer/h-config.sh ~/Downloads/ethminer/h-run.sh "
                          "~/Downloads/ethminer/h-stats.sh")


def test_an_answer_writing_its_files_with_sudo_tee_passes_its_file_probes(tmp_path):
    script = with_sudo_tee(HIVEOS)
    assert "sudo tee ~/Downloads/ethminer/h-run.sh" in script and "cat >" not in script
    results = by_probe(run_probe(lay_out(tmp_path / "sudo", "hiveos", script), "hiveos", checks=FILE_CHECKS))
    assert {name: r[0] for name, r in results.items()} == {
        "files_in_downloads_ethminer": "passed", "files_written_whole": "passed", "manifest_sets_name_version": "passed"}
    # sudo runs the command it is given, nothing more: tee into a folder never made still fails
    no_folder = script.replace("sudo mkdir -p ~/Downloads/ethminer\n", "")
    results = by_probe(run_probe(lay_out(tmp_path / "no_folder", "hiveos", no_folder), "hiveos",
                                 checks=["hiveos.directory"]))
    assert results["files_in_downloads_ethminer"][0] == "failed"


RUN_AND_STATS_ONLY = """mkdir -p ~/Downloads/ethminer
cd ~/Downloads/ethminer

cat > h-run.sh << 'EOF'
#!/usr/bin/env bash
cd "$(dirname "$0")"
exec ./ethminer -U -P "stratum+tcp://${CUSTOM_TEMPLATE}:${CUSTOM_PASS:-x}@${CUSTOM_URL#*://}" --api-port 3333
EOF

""" + HIVEOS[HIVEOS.index("cat > h-stats.sh"):].replace("chmod +x h-config.sh h-run.sh h-stats.sh",
                                                         "chmod +x h-run.sh h-stats.sh")


def test_the_file_probes_judge_the_files_the_answer_writes(tmp_path):
    # "HiveOS makes the manifest and h-config.sh itself", some answers say, and write two files
    assert "h-manifest.conf" not in RUN_AND_STATS_ONLY and "h-config.sh" not in RUN_AND_STATS_ONLY
    results = by_probe(run_probe(lay_out(tmp_path / "two", "hiveos", RUN_AND_STATS_ONLY), "hiveos",
                                 checks=FILE_CHECKS))
    assert results["files_in_downloads_ethminer"] == ("passed", "the 2 files the answer writes exist in "
                                                                "~/Downloads/ethminer")
    assert results["files_written_whole"] == ("passed", "the 2 files the answer writes were written whole in "
                                                        "~/Downloads/ethminer")
    assert results["manifest_sets_name_version"] == ("failed", "h-manifest.conf was not created")
    # a file the script uses and the answer never writes is that file's own check's, not the folder's
    uses_config = RUN_AND_STATS_ONLY.replace('cd "$(dirname "$0")"\n', 'cd "$(dirname "$0")"\n. ./h-config.sh\n')
    assert uses_config != RUN_AND_STATS_ONLY
    results = by_probe(run_probe(lay_out(tmp_path / "uses", "hiveos", uses_config), "hiveos",
                                 checks=["hiveos.directory"]))
    assert results["files_in_downloads_ethminer"][0] == "passed"
    # one of the two written elsewhere is missing from the folder
    elsewhere = RUN_AND_STATS_ONLY.replace("cat > h-stats.sh", "cat > ~/h-stats.sh").replace(
        "chmod +x h-run.sh h-stats.sh", "chmod +x h-run.sh ~/h-stats.sh")
    results = by_probe(run_probe(lay_out(tmp_path / "elsewhere", "hiveos", elsewhere), "hiveos",
                                 checks=["hiveos.directory"]))
    assert results["files_in_downloads_ethminer"] == ("failed", "~/Downloads/ethminer lacks h-stats.sh")


def installer(script: str, run_it: bool) -> str:
    return fenced("cat > /tmp/install-ethminer.sh << 'INSTALL'\n" + script + "INSTALL\n"
                  + ("bash /tmp/install-ethminer.sh\n" if run_it else ""), "bash")


@needs_sandbox
def test_an_installer_written_to_tmp_and_run_passes_its_file_probes():
    runs = Verifier().run("hiveos", installer(HIVEOS, run_it=True))
    for check in FILE_CHECKS:
        assert runs[check]["status"] == "passed", (check, runs[check])
    runs = Verifier().run("hiveos", installer(HIVEOS, run_it=False))
    assert runs["hiveos.directory"]["status"] == "failed", runs["hiveos.directory"]


@needs_sandbox
def test_an_answer_logging_to_the_miner_log_folder_runs_there():
    logged = HIVEOS.replace('exec ./ethminer -U $ETHMINER_POOLS --api-port "$ETHMINER_API_PORT" $ETHMINER_EXTRA_ARGS',
                            'exec ./ethminer -U $ETHMINER_POOLS --api-port "$ETHMINER_API_PORT" $ETHMINER_EXTRA_ARGS '
                            '>> /var/log/miner/custom/ethminer.log 2>&1')
    assert logged != HIVEOS
    run = Verifier().run("hiveos", fenced(logged, "bash"))["hiveos.h_run_exec"]
    assert run["status"] == "passed", run
    # a log folder HiveOS does not have, and the answer never makes, stops h-run.sh
    elsewhere = logged.replace("/var/log/miner/custom/ethminer.log", "/var/log/ethminer/ethminer.log")
    run = Verifier().run("hiveos", fenced(elsewhere, "bash"))["hiveos.h_run_exec"]
    assert run["status"] == "failed", run
    assert "never started ethminer" in run["detail"]


# -- stratum: the stale job apart from the header ---------------------------------------------

JOBS_BY_ID = '''
async def broadcast_job(self, template, clean_jobs):
    ...
    self.jobs = {} if clean_jobs or not hasattr(self, "jobs") else self.jobs
    self.jobs[self.current_job["job_id"]] = (dict(self.current_job), template)

async def _validate_share(self, session, job_id, extranonce2, ntime, nonce):
    saved = (self.current_job, self.block_template)
    self.current_job, self.block_template = self.jobs[job_id]
    try:
        job = self.current_job
        merkle_root, coinbase = self._compute_merkle(session.extranonce1, extranonce2)
        header = self._build_header(merkle_root, ntime, nonce)
        header_hash = dsha256(header)
        hash_int = int.from_bytes(header_hash, "little")
        if hash_int > DIFF1_TARGET // session.difficulty:
            return False, None
        return True, header_hash[::-1].hex()
    finally:
        self.current_job, self.block_template = saved
'''


def test_a_stale_job_fix_is_judged_apart_from_the_header_it_leaves_wrong(tmp_path):
    # the shipped _build_header is left as it is (prev hash not reversed)
    status, detail = probe_answer(tmp_path / "fixed", "stratum", fenced(JOBS_BY_ID),
                                  ["stratum.stale_job"])["share_for_replaced_job"]
    assert status == "passed" and "as this pool builds its headers" in detail, detail
    # the shipped bug is still caught with the same wrong header
    unfixed = JOBS_BY_ID.replace("self.current_job, self.block_template = self.jobs[job_id]",
                                 "self.current_job, self.block_template = saved")
    status, detail = probe_answer(tmp_path / "unfixed", "stratum", fenced(unfixed),
                                  ["stratum.stale_job"])["share_for_replaced_job"]
    assert status == "failed" and "validated against another job" in detail, detail


# -- bare fragments that quote one line of the class ---------------------------------------

def test_a_fragment_quoting_one_class_line_adds_its_new_lines_after_it():
    fragment = '''
MAX_RECENT_SHARES = 10_000

        self.recent_shares[share_key] = time.time()
        while len(self.recent_shares) > MAX_RECENT_SHARES:
            self.recent_shares.popitem(last=False)
'''
    built = candidate("stratum", fenced(fragment))
    body = body_of(built.files["stratum_server.py"], "StratumServer", "_handle_submit")
    at = body.index("self.recent_shares[share_key] = time.time()")
    assert body[at + 1].startswith("while len(self.recent_shares) > MAX_RECENT_SHARES")
    assert "\nMAX_RECENT_SHARES = 10_000\n" in built.files["stratum_server.py"]


@pytest.mark.parametrize("fragment", [
    # restates another line of the class: a rewrite, not an addition
    '''
        self.recent_shares[share_key] = time.time()
        extranonce2_bin = bytes.fromhex(extranonce2)
''',
    # a log line beside the method's own may be meant to replace it
    '''
        result = await self.rpc.submitblock(block_hex)
        logger.info("submitted block %s", block_hash)
''',
])
def test_a_fragment_that_may_rewrite_the_method_is_not_placed(fragment):
    assert isinstance(build_candidate("stratum", fenced(fragment)), NoCandidate)


def test_an_init_comment_copied_as_deep_as_its_lines_goes_into_init():
    code = '''
        # __init__
        self.jobs = {}                       # job_id -> job

    async def broadcast_job(self, template, clean_jobs):
        self.jobs[format(self.job_counter, "x")] = template
        ...
'''
    text = candidate("stratum", fenced(code)).files["stratum_server.py"]
    assert "self.jobs = {}" in body_of(text, "StratumServer", "__init__")


# -- code that quotes the program, and fragments the splice cannot place ------------------------

VALIDATE_SHARE_OPENING = '''
async def _validate_share(self, session, job_id, extranonce2, ntime, nonce):
    job = self.current_job
'''


def test_a_block_quoting_a_functions_opening_lines_leaves_the_function_as_it_was():
    quoted = "`_validate_share()` ignores `job_id`:\n\n" + fenced(VALIDATE_SHARE_OPENING)
    built = build_candidate("stratum", quoted + "\n" + fenced(SUBMIT_HEAD_THEN_REST))
    assert isinstance(built, Candidate)
    assert "StratumServer._validate_share" not in built.changed
    assert "_validate_share() quotes the original's opening lines only: kept as it was" in built.notes
    # alone, it is no code change at all
    assert isinstance(build_candidate("stratum", quoted), NoCandidate)


def test_a_function_cut_short_or_changed_at_its_top_still_replaces_the_original():
    # the same opening with a new line is a fix, however short
    changed = VALIDATE_SHARE_OPENING.replace("job = self.current_job", "job = self.jobs.get(job_id)")
    assert "StratumServer._validate_share" in candidate("stratum", fenced(changed)).changed
    # a function that returns nothing may be cut short by its fix: stop() that only clears the flag
    stop_only_flag = "def stop(self):\n    self.running = False\n"
    assert "ZMQListener.stop" in candidate("zmq", fenced(stop_only_flag)).changed


PER_JOB_KEYS_FRAGMENT = '''
seen = self.recent_shares.setdefault(job_id, set())
share_key = (session.extranonce1, extranonce2, ntime, nonce)
if share_key in seen:
    await self._reply_error(session, msg_id, 22, "Duplicate share")
    return
seen.add(share_key)
'''
DROP_JOB = '''
def _drop_job(self, job_id):
    self.recent_shares.pop(job_id, None)
'''


def test_lines_of_a_block_the_splice_cannot_place_are_recorded_with_their_block():
    answer = fenced(DROP_JOB) + "\nIn `_handle_submit()`, after the job lookup:\n\n" + fenced(PER_JOB_KEYS_FRAGMENT)
    built = candidate("stratum", answer)
    assert built.blocks == (1,)
    [(index, lines)] = built.unplaced
    assert index == 2 and "seen.add(share_key)" in lines
    # every line placed: nothing left over
    assert candidate("stratum", fenced(SUBMIT_HEAD_THEN_REST)).unplaced == ()


def test_only_unplaced_lines_of_the_checks_own_fix_leave_its_run_unjudged():
    assert concerns("stratum.memory_leak", "seen = self.recent_shares.setdefault(job_id, set())")
    assert concerns("stratum.input_validation", "if not isinstance(params, list):")
    assert concerns("zmq.fix_socket_in_thread", "sock = self.context.socket(zmq.SUB)")
    # a header line parses hex and is no input check; a dashboard line is judged with the rest
    assert not concerns("stratum.input_validation", 'prev_hash = bytes.fromhex(self.block_template["previousblockhash"])')
    assert not concerns("pplns.config_key_mismatch", '"window_limit": int(self.config.get("pplns_window", 10000)),')
    assert not concerns("stratum.memory_leak", "if not isinstance(params, list):")


@needs_sandbox
def test_a_run_missing_an_unplaced_fragment_of_the_checks_fix_cannot_judge_it():
    answer = fenced(DROP_JOB) + "\nIn `_handle_submit()`, after the job lookup:\n\n" + fenced(PER_JOB_KEYS_FRAGMENT)
    run = Verifier().run("stratum", answer)["stratum.memory_leak"]
    assert run["status"] == "error", run
    assert run["detail"].startswith("the answer's code for this check is not all in the program: code block 2 "
                                    "could not be placed (the probe failed")
    # the same placed part without the fragment is judged: it prunes nothing
    alone = Verifier().run("stratum", fenced(DROP_JOB))["stratum.memory_leak"]
    assert alone["status"] == "failed", alone


SATOSHI_FEES = '''
SAT_PER_BTC = 100_000_000

def to_sat(btc):
    return int((Decimal(str(btc)) * SAT_PER_BTC).to_integral_value())

def calculate_fee(self, amount_sat):
    return (amount_sat * 50 + 5_000) // 10_000
'''
CALLER_IN_PROSE = ("`_execute_payment()` then works on `amount_sat = to_sat(amount)`, "
                   "`fee_sat = self.calculate_fee(amount_sat)` and sends `Decimal(amount_sat - fee_sat) / SAT_PER_BTC`.")


def test_a_function_changed_only_in_prose_is_recorded_with_what_the_prose_gives_it():
    built = candidate("payment", "from decimal import Decimal\n\n" + fenced(SATOSHI_FEES) + "\n" + CALLER_IN_PROSE)
    assert "PaymentProcessor._execute_payment" not in built.changed
    assert "amount_sat = to_sat(amount)" in built.prose_only["PaymentProcessor._execute_payment"]
    # the program's own lines restated in prose change nothing
    restated = "`_execute_payment()` computes `fee = self.calculate_fee(amount)` and `net_amount = amount - fee`."
    assert candidate("payment", fenced(SATOSHI_FEES) + "\n" + restated).prose_only == {}


def test_a_change_to_another_function_given_as_a_comment_is_recorded_like_prose():
    commented = SATOSHI_FEES + ("\n# batch_payments: totals[address] = totals.get(address, 0) + to_sat(amount)\n"
                                "# _execute_payment: net_sat = amount_sat - fee_sat; send Decimal(net_sat) / SAT_PER_BTC\n")
    built = candidate("payment", "from decimal import Decimal\n\n" + fenced(commented))
    assert built.prose_only["PaymentProcessor._execute_payment"] == "net_sat = amount_sat - fee_sat"
    assert "to_sat(amount)" in built.prose_only["PaymentProcessor.batch_payments"]
    # a comment naming no function of the program, or quoting its own line, gives no change
    plain = SATOSHI_FEES + "\n# amounts: fee = amount * rate\n# _execute_payment: net_amount = amount - fee\n"
    assert candidate("payment", fenced(plain)).prose_only == {}


def test_a_call_the_prose_adds_to_a_function_the_code_also_changed_is_recorded():
    retry = ("def _execute_payment(self, payout_id, address, amount):\n"
             "    fee = self.calculate_fee(amount)\n    net_amount = amount - fee\n    return self._send_payment(address, net_amount)\n")
    told = "(In `_execute_payment`, convert `amount` with `Decimal(str(amount))` before subtracting the fee.)"
    built = candidate("payment", fenced(SATOSHI_FEES) + "\n" + fenced(retry) + "\n" + told)
    assert "PaymentProcessor._execute_payment" in built.changed
    assert built.prose_only["PaymentProcessor._execute_payment"] == "Decimal(str(amount))"
    # what the code already carries, a call naming the program's own function, or a line the
    # function had (inside an f-string) is no missing change
    carried = retry.replace("net_amount = amount - fee", "net_amount = Decimal(str(amount)) - fee")
    named = "`_execute_payment()` raises `PaymentError`, and the `except` sets `status = 'pending'`."
    assert candidate("payment", fenced(carried) + "\n" + told + "\n" + named).prose_only == {}


SATOSHI_HELPERS = ("from decimal import Decimal\n\nSATS_PER_BTC = 100_000_000\n\n\n"
                   "def to_sats(btc) -> int:\n    return int((Decimal(str(btc)) * SATS_PER_BTC).to_integral_value())\n\n\n"
                   "def to_btc(sats: int) -> Decimal:\n    return Decimal(sats) / SATS_PER_BTC\n")
SATOSHI_FEE = ("    def calculate_fee(self, amount_sats: int) -> int:\n"
               "        return int(amount_sats * Decimal(str(self.fee_percent)) / 100)\n")
CALLER_FRAGMENT = ("        amount_sats = to_sats(amount)\n        fee_sats = self.calculate_fee(amount_sats)\n"
                   "        net_amount = to_btc(amount_sats - fee_sats)\n        fee = to_btc(fee_sats)\n")


def test_a_methods_lines_are_no_module_constants():
    built = candidate("payment", fenced(SATOSHI_HELPERS) + "\n" + fenced(SATOSHI_FEE) + "\nand at the top of "
                      "`_execute_payment()`:\n\n" + fenced(CALLER_FRAGMENT))
    program = built.files["payment_processor.py"]
    assert "SATS_PER_BTC = 100_000_000" in program
    assert "\nnet_amount = " not in program and "\nfee = to_btc" not in program
    assert [code for _, code in built.unplaced] == [CALLER_FRAGMENT.replace("        ", "").strip()]
    loop = candidate("payment", fenced(SATOSHI_HELPERS) + "\n" + fenced(SATOSHI_FEE) + "\n"
                     + fenced("paid = 0\nfor row in rows:\n    payout_id = row['id']\n"))
    assert "\npaid = 0" not in loop.files["payment_processor.py"]


@needs_sandbox
def test_a_type_error_beside_the_callers_money_left_unplaced_cannot_judge_the_fix():
    answer = (fenced(SATOSHI_HELPERS) + "\n" + fenced(SATOSHI_FEE) + "\nand at the top of `_execute_payment()`:\n\n"
              + fenced(CALLER_FRAGMENT))
    run = Verifier().run("payment", answer)["payment.float_precision"]
    assert run["status"] == "error", run
    assert run["detail"].startswith("the answer's code for this check is not all in the program: code block 3"), run
    # the same fee without the caller's lines is all the answer gives: the row's float stops it
    alone = Verifier().run("payment", fenced(SATOSHI_HELPERS) + "\n" + fenced(SATOSHI_FEE))["payment.float_precision"]
    assert alone["status"] == "failed", alone


def test_lines_the_prose_says_to_drop_or_elides_are_no_change_it_gives():
    listen = ("def _listen(self):\n    sock = self.context.socket(zmq.SUB)\n    sock.connect(self.endpoint)\n"
              "    while self.running:\n        self._dispatch(sock.recv_multipart())\n")
    dropped = "And drop the two `self.socket = ...` / `setsockopt` lines from `__init__()`."
    assert candidate("zmq", fenced(listen) + "\n" + dropped).prose_only == {}
    added = "In `__init__()`, add `self.stopped = threading.Event()`."
    assert candidate("zmq", fenced(listen) + "\n" + added).prose_only == {
        "ZMQListener.__init__": "self.stopped = threading.Event()"}


@needs_sandbox
def test_a_run_missing_a_change_the_prose_gives_the_checks_place_cannot_judge_it():
    answer = fenced(SATOSHI_FEES) + "\n" + CALLER_IN_PROSE
    run = Verifier().run("payment", answer)["payment.float_precision"]
    assert run["status"] == "error", run
    assert run["detail"].startswith("the answer changes _execute_payment() only in prose")
    # without that sentence the program is all the answer gives, and it fails
    alone = Verifier().run("payment", fenced(SATOSHI_FEES))["payment.float_precision"]
    assert alone["status"] == "failed", alone


def test_a_line_that_updates_an_attribute_replaces_its_update_not_its_initial_value():
    built = candidate("stratum", fenced("self.job_counter = (self.job_counter + 1) & 0xFFFFFFFF"))
    assert built.changed == frozenset({"StratumServer.broadcast_job"})
    assert "self.job_counter = 0" in built.files["stratum_server.py"]
    # a line that sets the attribute afresh replaces its one initial value
    fresh = candidate("pplns", fenced('self.share_window = int(config.get("pplns_window", 10000))'))
    assert fresh.changed == frozenset({"PPLNSManager.__init__"})
    # with no update in the class, a line reading the attribute as its own default replaces the literal
    default = candidate("pplns", fenced('self.share_window = config.get("pplns_window", self.share_window)'))
    assert default.changed == frozenset({"PPLNSManager.__init__"})


def test_a_one_line_local_assignment_replaces_the_one_line_assigning_that_name():
    built = candidate("stratum", fenced('prev_hash = bytes.fromhex(self.block_template["previousblockhash"])[::-1]'))
    assert built.changed == frozenset({"StratumServer._build_header"})
    assert built.unplaced == ()
    # a name the class assigns in several functions has no one place
    several = build_candidate("stratum", fenced("job = self.jobs.get(job_id)"))
    assert isinstance(several, NoCandidate)
    # an example that only shares the name is not that line restated
    example = build_candidate("payment", fenced('fee = (Decimal(str(amount)) * Decimal("0.005")).quantize(Decimal("1e-8"))'))
    assert isinstance(example, NoCandidate)
