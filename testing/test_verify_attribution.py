"""Which run says what: a wrong fix fails, an incomplete or unprobeable candidate is an
error (the text verdict stands), and code for a check's place is found where it is.

Hand-written answers, each built on the shipped fixture: the shapes a fix takes
(a function ending in ``...``, a new helper, a method reading an attribute it never
sets, a full file with its own schema, a half-applied money change).
"""

from __future__ import annotations

import json
import textwrap

import pytest
from sandbox_helpers import needs_sandbox, require_sandbox  # noqa: F401 - the fixture needs_sandbox uses
from verify_probes_helpers import by_probe, lay_out, run_probe

from llmbench.tasks.prompting import read_fixture
from llmbench.verify import runner
from llmbench.verify.candidate import NoCandidate, build_candidate
from llmbench.verify.incomplete import broken_by_answer, raised_by_answer, undefined_by_answer
from llmbench.verify.places import touches_place
from llmbench.verify.runner import Verifier

PAYMENT = read_fixture("payment_processor.py")
STRATUM = read_fixture("stratum_server.py")
ZMQ = read_fixture("zmq_listener.py")


def fenced(code: str) -> str:
    return f"```python\n{code.strip(chr(10))}\n```\n"


# -- candidate: where the code goes ------------------------------------------------

SUBMIT_HEAD_THEN_REST = '''
async def _handle_submit(self, session, message):
    msg_id = message.get("id")
    try:
        worker, job_id, extranonce2, ntime, nonce = message["params"]
        extranonce2_bin = bytes.fromhex(extranonce2)
        ntime_int = int(ntime, 16)
        nonce_int = int(nonce, 16)
        if len(extranonce2_bin) != EXTRANONCE2_SIZE or len(ntime) != 8 or len(nonce) != 8:
            raise ValueError("wrong field lengths")
    except (KeyError, TypeError, ValueError):
        await self._reply_error(session, msg_id, 20, "Malformed mining.submit")
        return
    ...
'''


def test_a_function_ending_in_ellipsis_keeps_the_rest_of_the_fixtures_body():
    cand = build_candidate("stratum", fenced(SUBMIT_HEAD_THEN_REST))
    text = cand.files["stratum_server.py"]
    body = text[text.index("async def _handle_submit"):text.index("async def _poll_templates")]
    assert "except (KeyError, TypeError, ValueError):" in body
    # the fixture's statements the snippet does not restate follow, in order
    assert body.index("Not subscribed") < body.index("Duplicate share") < body.index("_validate_share(")
    # those it restates (the unpacking, the hex parsing) are not run twice
    assert body.count("bytes.fromhex(extranonce2)") == 1
    assert body.count('message["params"]') == 1
    assert "StratumServer._handle_submit" in cand.changed
    assert any("rest of it kept" in note for note in cand.notes)


def test_an_ellipsis_inside_a_block_still_leaves_the_function_as_it_was():
    code = SUBMIT_HEAD_THEN_REST.replace("        return\n    ...\n", "        ...\n")
    assert code != SUBMIT_HEAD_THEN_REST
    cand = build_candidate("stratum", fenced(code))
    assert isinstance(cand, NoCandidate)
    assert cand.reason.startswith("no code change")


def test_a_statement_lifted_out_of_a_method_is_not_a_module_constant():
    code = '''
SAT = Decimal("0.00000001")

cur = conn.execute("UPDATE payouts SET status = 'processing' WHERE id = ?", (payout_id,))

def calculate_fee(self, amount):
    return (Decimal(str(amount)) * Decimal(str(self.fee_percent)) / 100).quantize(SAT)
'''
    text = build_candidate("payment", fenced("from decimal import Decimal\n" + code)).files["payment_processor.py"]
    assert 'SAT = Decimal("0.00000001")' in text
    assert "cur = conn.execute" not in text
    compile(text, "payment_processor.py", "exec")


PRUNER = '''
async def _prune_shares(self, ttl=300):
    while True:
        await asyncio.sleep(30)
        cutoff = time.time() - ttl
        for key in [k for k, seen in self.recent_shares.items() if seen < cutoff]:
            del self.recent_shares[key]
'''


def test_a_new_helper_handling_a_checks_state_is_code_for_its_place():
    cand = build_candidate("stratum", fenced(PRUNER))
    assert "recent_shares" in cand.added_state
    assert touches_place("stratum.memory_leak", cand.changed, cand.added_state)
    assert not touches_place("stratum.input_validation", cand.changed, cand.added_state)
    # a helper of something else is not
    other = build_candidate("stratum", fenced(PRUNER.replace("recent_shares", "banned_peers")))
    assert not touches_place("stratum.memory_leak", other.changed, other.added_state)


# -- incomplete candidates ---------------------------------------------------------

def test_a_name_neither_the_answer_nor_the_fixture_defines_makes_the_candidate_incomplete():
    candidate = ZMQ.replace("self.socket.setsockopt(zmq.RCVTIMEO, rcv_timeout_ms)",
                            "self.socket.setsockopt(zmq.RCVTIMEO, self.rcv_timeout_ms)")
    detail = "thread zmq-listener died: AttributeError: 'ZMQListener' object has no attribute 'rcv_timeout_ms'"
    # the fixture has a parameter of that name, not an attribute: the answer's own gap
    assert undefined_by_answer(detail, [ZMQ], [candidate]) == "rcv_timeout_ms"
    assert undefined_by_answer("NameError: name 'closing' is not defined", [PAYMENT], [PAYMENT]) == "closing"


def test_a_wrong_code_exception_at_a_line_the_answer_wrote_is_the_fixs_failure():
    pplns = read_fixture("pplns.py")
    written = pplns.replace("self.share_window = 10000", 'self.share_window = int(config.get("pplns_window", self.share_window))')
    line = next(i for i, text in enumerate(written.splitlines(), 1) if "pplns_window" in text)
    detail = (f"candidate raised AttributeError: 'PPLNSManager' object has no attribute 'share_window' "
              f"(pplns.py:{line} in __init__)")
    assert raised_by_answer(detail, {"pplns.py": pplns}, {"pplns.py": written})
    # the same exception at a line the fixture already had: the answer's change elsewhere, not this line
    kept = next(i for i, text in enumerate(written.splitlines(), 1) if "self.n_factor" in text)
    assert not raised_by_answer(detail.replace(f":{line} ", f":{kept} "), {"pplns.py": pplns}, {"pplns.py": written})
    # a NameError says the fragment lacks its context, not that it is wrong
    assert not raised_by_answer(f"candidate raised NameError: name 'x' is not defined (pplns.py:{line} in __init__)",
                                {"pplns.py": pplns}, {"pplns.py": written})


def test_a_prune_mutating_the_dict_it_iterates_is_the_fixs_failure():
    written = STRATUM.replace("        self.recent_shares[share_key] = time.time()\n",
                              "        self.recent_shares[share_key] = time.time()\n"
                              "        for key in self.recent_shares:\n            del self.recent_shares[key]\n")
    line = next(i for i, text in enumerate(written.splitlines(), 1) if "del self.recent_shares[key]" in text)
    detail = f"candidate raised RuntimeError: OrderedDict mutated during iteration (stratum_server.py:{line} in _handle_submit)"
    assert raised_by_answer(detail, {"stratum_server.py": STRATUM}, {"stratum_server.py": written})


def test_a_kept_call_that_no_longer_fits_the_parameters_the_answer_changed_is_the_fixs_failure():
    written = STRATUM.replace("def _build_header(self, ", "def _build_header(self, job, ")
    assert written != STRATUM
    call = next(i for i, text in enumerate(written.splitlines(), 1) if "self._build_header(" in text)
    detail = (f"candidate raised TypeError: StratumServer._build_header() missing 1 required positional argument: "
              f"'nonce' (stratum_server.py:{call} in _validate_share)")
    assert raised_by_answer(detail, {"stratum_server.py": STRATUM}, {"stratum_server.py": written})
    # the same mismatch with the parameters as they were is no change of the answer's
    assert not raised_by_answer(detail, {"stratum_server.py": STRATUM}, {"stratum_server.py": STRATUM})


def test_a_new_call_that_assumes_parameters_the_answer_never_gives_is_an_incomplete_candidate():
    written = STRATUM.replace("self._build_header(merkle_root, ntime, nonce)", "self._build_header(job, merkle_root, ntime, nonce)")
    assert written != STRATUM
    call = next(i for i, text in enumerate(written.splitlines(), 1) if "self._build_header(job, " in text)
    detail = (f"candidate raised TypeError: StratumServer._build_header() takes 4 positional arguments but 5 were "
              f"given (stratum_server.py:{call} in _validate_share)")
    assert not raised_by_answer(detail, {"stratum_server.py": STRATUM}, {"stratum_server.py": written})
    # with the parameters changed to match another call, the new line's mismatch is the fix's failure
    changed = written.replace("def _build_header(self, ", "def _build_header(self, job, template, ")
    assert raised_by_answer(detail, {"stratum_server.py": STRATUM}, {"stratum_server.py": changed})


def test_a_name_the_fixture_defines_and_the_answer_removed_is_the_fixs_failure():
    detail = "AttributeError: 'ZMQListener' object has no attribute '_dispatch'"
    assert undefined_by_answer(detail, [ZMQ], [ZMQ.replace("def _dispatch", "def _handle")]) is None
    # a name the answer defines somewhere (set too late, in another method) is its bug too
    sets_late = PAYMENT.replace("    def stop(self):\n", "    def stop(self):\n        self.fee_bp = 50\n")
    assert undefined_by_answer("AttributeError: 'PaymentProcessor' object has no attribute 'fee_bp'",
                               [PAYMENT], [sets_late]) is None
    assert undefined_by_answer("TypeError: unsupported operand", [PAYMENT], [PAYMENT]) is None
    # a library object without the attribute is the program misusing it, not a gap in the answer
    assert undefined_by_answer("AttributeError: 'NoneType' object has no attribute 'fetchall'",
                               [PAYMENT], [PAYMENT]) is None


def test_a_crash_on_a_name_the_original_program_set_in_time_is_the_fixs_failure():
    # the socket made in `_listen` while `start()`, kept as it was, still connects it first
    moved = ZMQ.replace("        self.socket = self.context.socket(zmq.SUB)\n", "").replace(
        "    def _listen(self):\n", "    def _listen(self):\n        self.socket = self.context.socket(zmq.SUB)\n")
    detail = "candidate raised AttributeError: 'ZMQListener' object has no attribute 'socket' (zmq_listener.py:42 in start)"
    assert broken_by_answer(detail, [ZMQ], [moved]) == "socket"
    # not set anywhere any more: maybe a part of __init__ the answer did not show (an error, not a failure)
    gone = ZMQ.replace("        self.socket = self.context.socket(zmq.SUB)\n", "")
    assert broken_by_answer(detail, [ZMQ], [gone]) is None
    # a name the original never had is the answer's gap (incomplete), not a broken program
    assert broken_by_answer(detail.replace("'socket'", "'rcv_timeout_ms'"), [ZMQ], [moved]) is None
    assert broken_by_answer("NameError: name 'amount' is not defined", [PAYMENT], [PAYMENT]) is None


# -- payment probes: what each check's criterion asks -------------------------------

def _payment(tmp_path, text, changed=None):
    scratch = lay_out(tmp_path, "payment", text)
    if changed is not None:
        (scratch / "candidate" / ".changed.json").write_text(json.dumps(changed))
    return scratch


QUOTE_ESCAPED = PAYMENT.replace(
    "    def get_payment_history(self, address, limit=50):\n        conn = self._connect()\n",
    "    def get_payment_history(self, address, limit=50):\n        address = str(address).replace(\"'\", \"''\")\n"
    "        conn = self._connect()\n")
ROUNDED_FLOATS = PAYMENT.replace(
    "totals[address] = totals.get(address, 0.0) + float(amount)",
    "totals[address] = round(totals.get(address, 0.0) + float(amount), 8)")
FEE_ONLY = PAYMENT.replace(
    "        return round(float(amount) * self.fee_percent / 100.0, 8)",
    "        return (Decimal(str(amount)) * Decimal(str(self.fee_percent)) / 100).quantize(Decimal('0.00000001'))",
).replace("import logging\n", "import logging\nfrom decimal import Decimal\n")
OWN_SCHEMA = PAYMENT.replace("SELECT id, address, amount FROM payouts", "SELECT id, address, amount_sat FROM payouts")
# balances moved to integer satoshis ("for address, amount_sat in balances"), and a wrong
# version that truncates each amount to whole satoshis on the way in
SATOSHI_BATCH = PAYMENT.replace(
    "totals[address] = totals.get(address, 0.0) + float(amount)", "totals[address] = totals.get(address, 0) + int(amount)",
).replace("if total >= self.min_payout}", "if total >= int(self.min_payout * 100_000_000)}")
# a right money fix beside the SQL fix done wrong (`%s`, which sqlite3 refuses)
BARE_PARAM_BESIDE_FEE = FEE_ONLY.replace(
    'conn.execute(f"UPDATE payouts SET status = \'processing\' WHERE id = {payout_id}")',
    'conn.execute("UPDATE payouts SET status = \'processing\' WHERE id = ?", (payout_id))',
).replace("net_amount = amount - fee", "net_amount = Decimal(str(amount)) - fee")
PERCENT_S_BESIDE_FEE = FEE_ONLY.replace(
    'conn.execute(f"UPDATE payouts SET status = \'processing\' WHERE id = {payout_id}")',
    'conn.execute("UPDATE payouts SET status = \'processing\' WHERE id = %s", (payout_id,))',
).replace("net_amount = amount - fee", "net_amount = Decimal(str(amount)) - fee")


def test_quote_escaping_is_not_the_parameters_the_contract_asks_for(tmp_path):
    payload = run_probe(_payment(tmp_path, QUOTE_ESCAPED), "payment", checks=["payment.sql_injection"])
    status, detail = by_probe(payload)["history_not_injectable"]
    assert status == "failed"
    assert "not bound as a parameter" in detail


def test_float_money_rounded_to_8_places_is_still_float_money(tmp_path):
    payload = run_probe(_payment(tmp_path, ROUNDED_FLOATS, ["PaymentProcessor.batch_payments"]), "payment",
                        checks=["payment.float_precision"])
    status, detail = by_probe(payload)["money_exact_to_satoshi"]
    assert status == "failed"
    assert "is the float" in detail


def test_a_fee_made_decimal_is_paid_through_the_unchanged_path_and_costs_no_other_check(tmp_path):
    payload = run_probe(_payment(tmp_path, FEE_ONLY, ["PaymentProcessor.calculate_fee"]), "payment")
    results = by_probe(payload)
    # the fee is exact, and the unchanged caller subtracts it from the row's float: no payout goes out
    status, detail = results["money_exact_to_satoshi"]
    assert status == "failed"
    assert detail.startswith("the payment path mixes the row's float amount with the new fee")
    # the caller converting the amount too makes it a working fix
    both = FEE_ONLY.replace("net_amount = amount - fee", "net_amount = Decimal(str(amount)) - fee").replace(
        "fee = {fee}", "fee = '{fee}'")
    whole = by_probe(run_probe(_payment(tmp_path / "both", both, ["PaymentProcessor.calculate_fee",
                                                                  "PaymentProcessor._execute_payment"]),
                               "payment", checks=["payment.float_precision"]))
    assert whole["money_exact_to_satoshi"] == ("passed", "fees, the amount sent exact to the satoshi"), whole
    # the mixed money is not the race or atomicity fix's fault
    for probe in ("each_payout_paid_once", "error_after_send_keeps_row"):
        assert results[probe][0] == "error", results[probe]
        assert "float mixed with Decimal" in results[probe][1]
    # without the list of changes the money is judged everywhere, and the batch totals fail
    strict = by_probe(run_probe(lay_out(tmp_path / "strict", "payment", FEE_ONLY), "payment",
                                checks=["payment.float_precision"]))
    assert strict["money_exact_to_satoshi"][0] == "failed"


def test_batch_totals_kept_in_integer_satoshis_are_judged_in_satoshis(tmp_path):
    assert SATOSHI_BATCH != PAYMENT
    payload = run_probe(_payment(tmp_path, SATOSHI_BATCH, ["PaymentProcessor.batch_payments"]), "payment",
                        checks=["payment.float_precision"])
    assert by_probe(payload)["money_exact_to_satoshi"] == ("passed", "batch totals exact to the satoshi")
    # the fixture's float totals fail in either unit
    failed = run_probe(_payment(tmp_path / "float", PAYMENT, ["PaymentProcessor.batch_payments"]), "payment",
                       checks=["payment.float_precision"])
    assert by_probe(failed)["money_exact_to_satoshi"][0] == "failed"


@pytest.mark.parametrize("broken, words", [
    (PERCENT_S_BESIDE_FEE, "syntax error"),
    # `(payout_id)` where sqlite3 wants a sequence: it raises instead of logging
    (BARE_PARAM_BESIDE_FEE, "parameters are of unsupported type"),
])
def test_the_payment_path_stopped_by_the_answers_own_broken_sql_cannot_judge_the_money(tmp_path, broken, words):
    assert broken != FEE_ONLY
    payload = run_probe(_payment(tmp_path, broken, ["PaymentProcessor.calculate_fee",
                                                    "PaymentProcessor._execute_payment"]),
                        "payment", checks=["payment.float_precision"])
    status, detail = by_probe(payload)["money_exact_to_satoshi"]
    assert status == "error", detail
    assert detail.startswith("cannot be judged: the payment round stops on the answer's own SQL") and words in detail


def test_a_candidate_with_its_own_schema_cannot_be_probed(tmp_path):
    payload = run_probe(_payment(tmp_path, OWN_SCHEMA), "payment", checks=["payment.race_condition"])
    status, detail = by_probe(payload)["each_payout_paid_once"]
    assert status == "error"
    assert detail.startswith("cannot be probed: the candidate's SQL expects another database schema")
    assert "amount_sat" in detail


# -- through the runner, in the sandbox ---------------------------------------------

@pytest.fixture(autouse=True)
def fresh_cache():
    runner._MEMORY.clear()
    yield
    runner._MEMORY.clear()


@needs_sandbox
def test_a_pruner_never_started_and_a_try_missing_valueerror_fail_their_runs():
    wrong = fenced(PRUNER) + "\n" + fenced(SUBMIT_HEAD_THEN_REST.replace("(KeyError, TypeError, ValueError)",
                                                                         "(KeyError, TypeError)"))
    runs = Verifier().run("stratum", wrong)
    assert runs["stratum.memory_leak"]["status"] == "failed", runs["stratum.memory_leak"]
    assert "never pruned" in runs["stratum.memory_leak"]["detail"]
    assert runs["stratum.input_validation"]["status"] == "failed", runs["stratum.input_validation"]


@needs_sandbox
def test_a_try_catching_valueerror_with_the_rest_kept_passes_its_run():
    runs = Verifier().run("stratum", fenced(SUBMIT_HEAD_THEN_REST))
    assert runs["stratum.input_validation"]["status"] == "passed", runs["stratum.input_validation"]


# a listener that reads the timeout from `self.rcv_timeout_ms`, which the fixture never sets
LISTEN_READING_TIMEOUT = '''
def _listen(self):
    socket = self.context.socket(zmq.SUB)
    socket.setsockopt(zmq.RCVTIMEO, self.rcv_timeout_ms)
    socket.connect(self.endpoint)
    socket.setsockopt(zmq.SUBSCRIBE, b"hashblock")
    socket.setsockopt(zmq.SUBSCRIBE, b"rawblock")
    while self.running:
        try:
            frames = socket.recv_multipart()
        except zmq.Again:
            continue
        self._dispatch(frames)
    socket.close()
'''


@needs_sandbox
def test_a_snippet_using_an_attribute_set_only_in_prose_is_an_error_not_a_failed_fix():
    run = Verifier().run("zmq", fenced(LISTEN_READING_TIMEOUT))["zmq.fix_socket_in_thread"]
    assert run["status"] == "error", run
    assert run["detail"].startswith("the answer's code is incomplete: it uses 'rcv_timeout_ms'")


@needs_sandbox
def test_an_attribute_the_whole_init_the_answer_gives_never_sets_is_its_fix_failing():
    # the same _listen beside the answer's whole __init__, which keeps the timeout nowhere
    init = ZMQ[ZMQ.index("    def __init__"):ZMQ.index("    def on(")]
    listen = textwrap.indent(LISTEN_READING_TIMEOUT, "    ")
    answer = fenced("class ZMQListener:\n" + init + "\n" + listen)
    assert build_candidate("zmq", answer).whole_inits == frozenset({"ZMQListener"})
    run = Verifier().run("zmq", answer)["zmq.fix_socket_in_thread"]
    assert run["status"] == "failed", run
    assert "the whole __init__ it gives never sets" in run["detail"]
    # an __init__ given with its rest elided leaves the gap to what it did not show
    elided = fenced("class ZMQListener:\n    def __init__(self, endpoint, rcv_timeout_ms=1000):\n"
                    "        self.endpoint = endpoint\n        # ... rest unchanged\n" + listen)
    assert build_candidate("zmq", elided).whole_inits == frozenset()


PPLNS = read_fixture("pplns.py")


def heredoc(name: str, body: str) -> str:
    return f"```bash\ncat > {name} << 'EOF'\n{body.rstrip(chr(10))}\nEOF\n```\n"


def test_a_file_a_heredoc_writes_is_exactly_its_body():
    stub = PPLNS.split("    @classmethod")[0] + "    # ... the rest unchanged ...\n"
    built = build_candidate("pplns", heredoc("pplns.py", stub))
    assert built.written and built.files["pplns.py"] == stub
    assert "PPLNSManager.from_file" in built.changed   # gone, as the command leaves the file
    # through a script's positional parameter with the module as its default
    script = f"```bash\nTARGET=\"${{1:-pplns.py}}\"\ncat > \"$TARGET\" << 'EOF'\n{stub.rstrip(chr(10))}\nEOF\n```\n"
    assert build_candidate("pplns", script).files["pplns.py"] == stub
    # a heredoc writing another file is not the program
    other = build_candidate("pplns", heredoc("notes.py", stub))
    assert isinstance(other, NoCandidate) or not other.written


@needs_sandbox
def test_what_a_heredoc_written_file_lacks_the_program_lacks():
    fixed = PPLNS.replace("self.share_window = 10000", "self.share_window = int(config.get('pplns_window', 10000))")
    stub = fixed.split("    @classmethod")[0] + "    # ... the rest unchanged ...\n"
    run = Verifier().run("pplns", heredoc("pplns.py", stub))["pplns.config_key_mismatch"]
    assert run["status"] == "failed" and "all the program has" in run["detail"], run
    whole = Verifier().run("pplns", heredoc("pplns.py", fixed))["pplns.config_key_mismatch"]
    assert whole["status"] == "passed", whole


@needs_sandbox
def test_an_attribute_the_prose_takes_out_that_the_program_still_uses_fails_the_fix():
    payouts = ("    def calculate_payouts(self, block_reward_sat, block_height):\n"
               "        window = int(self.config.get(\"pplns_window\", 10000))\n"
               "        with self._connect() as conn:\n            shares = self._last_shares(conn, window)\n"
               "        ...\n")
    told = fenced(payouts) + "\nYou can delete `self.share_window` from `__init__` afterwards.\n"
    built = build_candidate("pplns", told)
    assert built.prose_removed == frozenset({"share_window"})
    run = Verifier().run("pplns", told)["pplns.config_key_mismatch"]
    assert run["status"] == "failed" and "takes 'share_window' out of the program" in run["detail"], run
    # with the attribute kept, the same fix is judged on the window it pays
    assert Verifier().run("pplns", fenced(payouts))["pplns.config_key_mismatch"]["status"] != "error"


CLAIM_FRAGMENT = ("```python\ncur = conn.execute(\n    \"UPDATE payouts SET status = 'processing' WHERE id = ? AND status = 'pending'\",\n"
                  "    (payout_id,),\n)\nif cur.rowcount != 1:\n    return None\n```\n")


def _with_locked_check() -> str:
    """process_pending_payments as shipped, its check and add under `self.lock`."""
    source = PAYMENT[PAYMENT.index("    def process_pending_payments"):PAYMENT.index("    def _execute_payment")]
    old = ("            if payout_id in self.processing:\n                continue\n"
           "            self.processing.add(payout_id)\n")
    assert old in source
    return source.replace(old, "            with self.lock:\n" + textwrap.indent(old, "    "))


@needs_sandbox
def test_a_claim_the_splice_cannot_place_leaves_the_race_unjudged_unless_a_placed_lock_is_the_fix():
    fee = fenced("    def _execute_payment(self, payout_id, address, amount):\n        fee = self.calculate_fee(amount)\n"
                 "        ...\n")
    alone = Verifier().run("payment", fee + "\nClaim the row first:\n\n" + CLAIM_FRAGMENT)["payment.race_condition"]
    assert alone["status"] != "failed", alone
    beside = Verifier().run("payment", fenced(_with_locked_check()) + "\nConsider also:\n\n" + CLAIM_FRAGMENT)
    assert beside["payment.race_condition"]["status"] == "failed", beside["payment.race_condition"]
