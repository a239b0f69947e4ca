"""Structural rules of the graders, each with the answer that must pass and the one beside
it that must fail: a description is no finding, a pronoun denies what came before, the next
sentence may take a denial back, code offered by advice is advice, and a sentence lends its
subject along with its place."""

from __future__ import annotations

import pytest

from llmbench.tasks import grade


def passed(task: str, text: str, check_id: str) -> bool:
    return grade(task, text)[check_id].passed


CROSSING = "zmq.socket_crosses_threads"
LISTEN_FIX = """
```python
def _listen(self):
    sock = self.context.socket(zmq.SUB)
    sock.connect(self.endpoint)
    for topic in TOPICS:
        sock.setsockopt(zmq.SUBSCRIBE, topic)
    while self.running:
        self._dispatch(sock.recv_multipart())
    sock.close()
```
"""



@pytest.mark.parametrize("text, expected", [
    ("Here is how the listener works: the SUB socket is created in `__init__`, connected in `start()` "
     "and then read by `_listen()` on the listener thread.", False),
    ("The SUB socket is created in `__init__` and connected in `start()` on the main thread, but it is "
     "read by `_listen()` on the listener thread.", True),
    ("The SUB socket is created in `__init__` and read by `_listen()` on the listener thread, which is "
     "the bug: ZeroMQ sockets are not thread-safe.", True),
])
def test_a_description_of_the_code_is_a_finding_only_when_it_says_something_is_wrong(text, expected):
    assert passed("zmq", text, CROSSING) is expected


UNUSED = "In `calculate_payouts`, `window_size` is computed but never used by the query."


def test_a_pronoun_denial_denies_what_the_sentence_before_named():
    assert passed("pplns", UNUSED, "pplns.window_size_unused")
    assert not passed("pplns", UNUSED + " This is harmless leftover code.", "pplns.window_size_unused")
    # a pronoun that explains is no denial
    assert passed("pplns", UNUSED + " This is why changing `pplns_n` did nothing.", "pplns.window_size_unused")


def test_a_pronoun_denial_after_a_pronoun_sentence_denies_what_the_sentence_before_both_named():
    computed = "`calculate_payouts` computes `window_size = int(net_diff * self.n_factor)`. It is not used by the query."
    assert passed("pplns", computed, "pplns.window_size_unused")
    assert not passed("pplns", computed + " This is harmless leftover code.", "pplns.window_size_unused")
    # a pronoun that explains is still no denial
    assert passed("pplns", computed + " This is why changing `pplns_n` did nothing.", "pplns.window_size_unused")


HAND_OFF = ("* The SUB socket is created in `__init__` and connected in `start()` on the main thread, but it is "
            "read by `_listen()` on the listener thread.\n")


def test_a_demonstrative_denial_in_the_next_list_item_denies_what_the_item_before_named():
    assert passed("zmq", HAND_OFF + LISTEN_FIX, CROSSING)
    denied = HAND_OFF + "* That hand-off is fine: `Thread.start()` is a full memory barrier.\n"
    assert not passed("zmq", denied + LISTEN_FIX, CROSSING)
    assert not passed("zmq", denied + LISTEN_FIX, "zmq.fix_socket_in_thread")
    # an item of another list, after a paragraph between, does not go on from it
    apart = HAND_OFF + "\nThe context is shared too.\n\n* That is fine: contexts are thread-safe.\n"
    assert passed("zmq", apart + LISTEN_FIX, CROSSING)


NUMBERED_HAND_OFF = ("1. **Socket ownership.** The socket is created in `__init__` and connected in `start()` on the "
                     "main thread, then read in `_listen()` on the background thread.\n")


def test_a_demonstrative_denial_in_the_next_numbered_item_denies_what_the_item_before_named():
    # each numbered item opens a section of its own; the next one still goes on from it
    denied = NUMBERED_HAND_OFF + "2. That hand-off is fine: `Thread.start()` is a memory barrier.\n"
    assert not passed("zmq", denied + LISTEN_FIX, CROSSING)
    assert not passed("zmq", denied + LISTEN_FIX, "zmq.fix_socket_in_thread")
    # the same item saying what is wrong with it asserts
    broken = NUMBERED_HAND_OFF + "2. That hand-off is the bug: two threads end up using one socket.\n"
    assert passed("zmq", broken + LISTEN_FIX, CROSSING)
    # a heading between the items: the item after it goes on from nothing before
    apart = NUMBERED_HAND_OFF + "\n## Other notes\n\n2. That is fine: contexts are thread-safe.\n"
    assert passed("zmq", apart + LISTEN_FIX, CROSSING)


def test_a_denial_keeps_its_force_beside_a_clause_about_the_fix():
    denial = UNUSED + " This is harmless dead code; I removed it in the fix below for clarity."
    assert not passed("pplns", denial, "pplns.window_size_unused")
    # what the fix leaves behind denies nothing
    assert passed("pplns", UNUSED + " With the fix below it is harmless.", "pplns.window_size_unused")


HARDCODED = "`self.share_window = 10000` is a magic number."


@pytest.mark.parametrize("after, expected", [
    (" Hard-coding the window is fine for now, but a named constant reads better.", False),
    (" Hard-coding it hides the 50,000 from `pool_config.json`.", True),
    (" A hard-coded retry count elsewhere would be fine.", True),
])
def test_the_defects_own_mechanism_called_fine_denies_the_place_before(after, expected):
    assert passed("pplns", HARDCODED, "pplns.hardcoded_share_window")
    assert passed("pplns", HARDCODED + after, "pplns.hardcoded_share_window") is expected


@pytest.mark.parametrize("opening, expected", [
    ("At first glance the socket handling in `start()` looks fine. But it isn't fine.", True),
    ("At first glance the socket handling in `start()` looks fine.", False),
])
def test_the_next_sentence_can_take_a_denial_back(opening, expected):
    # a fix never retracts a denial; "But it isn't fine" right after it does
    assert passed("zmq", opening + "\n" + LISTEN_FIX, "zmq.fix_socket_in_thread") is expected


def test_code_offered_by_advice_is_advice_and_by_a_finding_is_its_fix():
    soft = "If you want to be on the safe side, you could consider moving the setup into the listener thread, something like:"
    look = "Make sure the thread that connects the socket is the one that reads it. For example:"
    asserted = ("ZeroMQ sockets are not thread-safe, but this socket is created in `__init__` and read by "
                "`_listen()` on another thread. Create it in the listener thread:")
    assert not passed("zmq", soft + "\n" + LISTEN_FIX, "zmq.fix_socket_in_thread")
    assert not passed("zmq", look + "\n" + LISTEN_FIX, "zmq.fix_socket_in_thread")
    assert passed("zmq", asserted + "\n" + LISTEN_FIX, "zmq.fix_socket_in_thread")


def test_the_reason_for_a_request_to_look_is_part_of_the_request():
    advice = ("Double-check the byte order of `previousblockhash` in `_build_header()`. Bitcoin mixes big-endian "
              "and little-endian representations, so it's easy to get wrong.")
    assert not passed("stratum", advice, "stratum.byte_order")


def test_a_sentence_lends_its_subject_with_its_place():
    decoy = ("`stratum_prevhash()` only reorders the eight words of `previousblockhash`. "
             "The conversion should reverse all 32 bytes.")
    assert not passed("stratum", decoy, "stratum.byte_order")
    right = ("`_build_header()` takes `previousblockhash` as bitcoind returns it. "
             "It should reverse all 32 bytes, since the header stores the hash little-endian.")
    assert passed("stratum", right, "stratum.byte_order")


def test_a_denial_is_about_the_place_that_is_its_subject():
    finding = ("The SUB socket is created in `__init__` on the main thread but read by `_listen()` on the "
               "listener thread. ")
    other_subject = "ZMQ sockets are not thread-safe: each socket must belong to one thread (only the `zmq.Context` is safe to share)."
    own_subject = "Sharing the SUB socket between the two threads this way is fine."
    assert passed("zmq", finding + other_subject, CROSSING)
    assert not passed("zmq", finding + own_subject, CROSSING)


def test_saying_the_code_can_stay_as_it_is_denies_it():
    reversal = "`_build_header` must byte-reverse `previousblockhash`, since the header stores it little-endian."
    stay = "`prev_hash` and `bits` are already in big-endian hex from bitcoind, so they can stay as they are."
    assert passed("stratum", reversal, "stratum.byte_order")
    assert not passed("stratum", stay, "stratum.byte_order")


def test_reading_the_key_into_the_difficulty_multiplier_is_no_config_fix():
    diagnosis = "The configured `pplns_window` is never read: the code calls its window `share_window`. "
    right = diagnosis + "\n```python\nself.share_window = int(config.get(\"pplns_window\", 10000))\n```\n"
    wrong = diagnosis + "\n```python\nself.n_factor = config.get(\"pplns_window\", 2)\n```\n"
    assert passed("pplns", right, "pplns.config_key_mismatch")
    assert not passed("pplns", wrong, "pplns.config_key_mismatch")


def test_separate_steps_are_the_race_only_when_they_are_the_check_and_the_claim():
    race = ("`process_pending_payments` tests `payout_id in self.processing` and adds it in two separate steps, "
            "so two workers can both pay the same payout.")
    commits = ("`_execute_payment` commits `processing`, calls the wallet, and commits `paid` in separate steps.")
    assert passed("payment", race, "payment.race_condition")
    assert not passed("payment", commits, "payment.race_condition")


@pytest.mark.parametrize("text, expected", [
    # the clause's own subject is the configured key, not window_size
    ("`window_size` is derived from the difficulty only, so the value you set as `pplns_window` is ignored.", False),
    ("`window_size` is derived from the difficulty, and it is ignored by the query in `calculate_payouts`.", True),
    # an aside in parentheses is not the subject
    ("In `calculate_payouts` a difficulty-scaled figure (`window_size`, from `getdifficulty()` times `n_factor`) "
     "is worked out and then dropped on the floor.", True),
])
def test_a_mechanism_counts_for_the_name_its_own_clause_says_it_of(text, expected):
    assert passed("pplns", text, "pplns.window_size_unused") is expected


def test_a_mechanism_that_qualifies_a_name_is_said_of_that_name():
    text = "`window_size` is computed but the query uses the hard-coded `share_window`."
    assert passed("pplns", text, "pplns.hardcoded_share_window")
    assert not passed("pplns", "`calculate_payouts` reads `share_window` and the hard-coded `window_size`.",
                      "pplns.hardcoded_share_window")


@pytest.mark.parametrize("heading, expected", [
    ("**Bug 1: `window_size` is hard-coded**", False),
    ("**Bug 1: the payout window**", True),
])
def test_a_heading_that_states_a_wrong_mechanism_binds_the_sentences_under_it(heading, expected):
    body = ("In `calculate_payouts()` the window is supposed to be `window_size`, but that window is effectively "
            "a fixed number: whatever the pool config says, it ends up as the same 10,000-share window.")
    assert passed("pplns", f"{heading}\n\n{body}\n", "pplns.hardcoded_share_window") is expected


@pytest.mark.parametrize("said, expected", [
    ("In `calculate_payouts()`, `window_size` is effectively a fixed 10,000-share window: it never looks at "
     "`pool_config.json`. The value you configure is ignored.", False),
    ("In `calculate_payouts()`, `window_size` is computed from the difficulty and then ignored: the query "
     "uses `share_window`.", True),
])
def test_window_size_called_a_fixed_window_is_the_swapped_windows(said, expected):
    assert passed("pplns", said, "pplns.window_size_unused") is expected


def test_a_heading_topic_the_sentence_explains_is_no_wrong_mechanism():
    text = ("### Megabyte log lines from `_submit_block`\n\n`_submit_block` formats the full `block_hex` into an "
            "INFO message before submitting it. The log is also readable by outside contractors, so the block data "
            "ends up in a third-party service.\n\nFix: drop the hex and log only the hash:\n\n```python\n"
            "logger.info(\"block candidate %s at height %d\", block_hash, template[\"height\"])\n```\n")
    assert passed("stratum", text, "stratum.info_leak")


@pytest.mark.parametrize("text, expected", [
    ("- Make sure `recent_shares` is pruned at some point. An `OrderedDict` makes it easy to evict old entries.", False),
    ("- `recent_shares` grows without bound: nothing ever removes entries. An `OrderedDict` makes it easy to "
     "evict old entries.", True),
])
def test_a_prose_fix_beside_a_request_to_look_is_that_request(text, expected):
    assert passed("stratum", text, "stratum.memory_leak") is expected


@pytest.mark.parametrize("text, expected", [
    ("- Old-firmware tracebacks: add tests that send malformed `mining.submit` params and check that "
     "`_handle_submit` answers with an error.", "advice"),
    ("- Refused block: verify the byte order of `previousblockhash` in `_build_header`.", "advice"),
    ("- Refused block: `_build_header` copies `previousblockhash` without reversing it.", "assertion"),
    ("- Memory growth is unbounded: `recent_shares` is never pruned.", "assertion"),
])
def test_a_short_topic_before_a_colon_does_not_turn_advice_into_an_assertion(text, expected):
    from llmbench.grading.acts import classify
    assert classify(text) == expected


ZMQ_SETUP = ("`self.socket` is created in `__init__` and connected in `start()` on the main thread, but "
             "`_listen()` reads it on the listener thread.")


@pytest.mark.parametrize("text, expected", [
    (ZMQ_SETUP, True),
    (ZMQ_SETUP + " That is not the problem here: the GIL serializes the calls.", False),
    (ZMQ_SETUP + " Creating it before the thread starts is a one-time hand-over, and after that only the "
                 "listener thread uses it.", False),
    # the context is thread-safe: the same sentence about it is no finding
    ("`self.context = zmq.Context()` is created in `__init__` on the main thread, and then the background "
     "thread started in `start()` keeps using that context through the socket.", False),
])
def test_zmq_crossing_denied_or_pinned_on_the_context(text, expected):
    assert passed("zmq", text, CROSSING) is expected


ZMQ_RULE = "ZeroMQ sockets are not thread-safe: a socket must be used by one thread only.\n\n"
IN_THREAD = """    def _listen(self):
        self.socket = self.context.socket(zmq.SUB)
        self.socket.connect(self.endpoint)
{subscribe_here}        while self.running:
            self._dispatch(self.socket.recv_multipart())
"""


@pytest.mark.parametrize("start_body, stop_body, expected", [
    ("", "        self.running = False\n        self.thread.join(timeout=5)\n        self.socket.close()\n", True),
    ("        for topic in TOPICS:\n            self.socket.setsockopt(zmq.SUBSCRIBE, topic)\n", "        self.running = False\n", False),
    ("", "        self.running = False\n        self.socket.close()\n        self.thread.join(timeout=5)\n", False),
])
def test_a_fix_that_still_uses_the_socket_from_the_caller_fails(start_body, stop_body, expected):
    subscribe = "" if start_body else "        for topic in TOPICS:\n            self.socket.setsockopt(zmq.SUBSCRIBE, topic)\n"
    code = ("```python\n    def start(self):\n        self.running = True\n        self.thread.start()\n" + start_body
            + IN_THREAD.format(subscribe_here=subscribe) + "\n    def stop(self):\n" + stop_body + "```\n")
    assert passed("zmq", ZMQ_RULE + "Create the socket in the listener thread:\n\n" + code, "zmq.fix_socket_in_thread") is expected


PPLNS_N_DECOY = ("`__init__` reads `self.n_factor = config.get('pplns_n', 2)`, but the key in `pool_config.json` is "
                 "`pplns_window`. This is the config mismatch: the code reads `pplns_n` where it should read "
                 "`pplns_window`.\n\n```python\n        self.n_factor = config.get('pplns_window', 2)\n```\n")


@pytest.mark.parametrize("check_id", ["pplns.hardcoded_share_window", "pplns.config_key_mismatch"])
def test_the_configured_window_read_into_the_difficulty_multiplier_fixes_nothing(check_id):
    assert not passed("pplns", PPLNS_N_DECOY, check_id)
    right = ("`self.share_window = 10000` is hard-coded, and the configured `pplns_window` is never read.\n\n"
             "```python\n        self.share_window = int(config.get('pplns_window', 10000))\n```\n")
    assert passed("pplns", right, check_id)


def test_a_pronoun_clause_about_the_place_itself_counts():
    assert passed("pplns", "`calculate_payouts()` computes `window_size`, and it is never used by the query.",
                  "pplns.window_size_unused")


def test_a_pronoun_clause_is_said_of_its_sentences_subject():
    text = ("`calculate_payouts()` computes `window_size` and never uses it. This is harmless: a leftover.\n\n"
            "`pplns_n` only feeds `n_factor`, which only feeds `window_size`, so it has no effect on payouts.")
    assert not passed("pplns", text, "pplns.window_size_unused")


@pytest.mark.parametrize("text, expected", [
    ("The membership test and the `add` are not atomic, so two threads can both go on to `_execute_payment`, "
     "which sends the coins twice.", False),
    ("`_execute_payment` commits 'processing', sends, then commits 'paid': the send and the status update are not "
     "atomic, so a crash after `sendtoaddress` leaves the row to be paid again.", True),
])
def test_the_races_non_atomic_check_is_not_the_payment_steps(text, expected):
    assert passed("payment", text, "payment.atomicity") is expected


@pytest.mark.parametrize("body, expected", [
    ("The header must use the same word-swapped encoding as the notify, with each 4-byte word swapped.", False),
    ("`_build_header` copies `previousblockhash` in display order; the header needs all 32 bytes reversed.", True),
])
def test_a_heading_finding_is_read_with_the_section_that_explains_it(body, expected):
    text = f"### 1. `_build_header`: previous hash in the wrong order\n\n{body}\n"
    assert passed("stratum", text, "stratum.byte_order") is expected


def test_so_that_opens_a_clause_that_hangs_on_the_request_before_it():
    from llmbench.grading.acts import classify
    assert classify("You could consider creating the socket inside `_listen()` so that the thread that "
                    "receives also owns it, something like:") == "advice"
    assert classify("The socket is created in `__init__`, so the listener thread uses a socket it does not own.") == "assertion"


GENERAL_FACT = "ZeroMQ sockets are generally not thread-safe, which is worth keeping in mind with pyzmq code."


@pytest.mark.parametrize("second, expected", [
    ("You could consider creating the socket inside `_listen()` so that the thread that receives also owns it, "
     "something like:", False),
    ("`ZMQListener` creates `self.socket` in `__init__` and reads it in `_listen()` on another thread.", True),
])
def test_a_mechanism_whose_place_comes_only_from_advice_is_the_reason_for_that_advice(second, expected):
    text = f"{GENERAL_FACT} {second}\n\n```python\ndef _listen(self):\n    sock = self.context.socket(zmq.SUB)\n" \
           "    sock.connect(self.endpoint)\n    sock.setsockopt(zmq.SUBSCRIBE, b'hashblock')\n    while self.running:\n" \
           "        self._dispatch(sock.recv_multipart())\n```\n"
    assert passed("zmq", text, "zmq.fix_socket_in_thread") is expected


def test_a_denial_in_a_parenthesised_aside_is_about_the_aside():
    text = ("`self.socket` is created in `__init__` and connected in `start()` on the main thread, but read in "
            "`_listen()` on the listener thread: ZMQ sockets aren't thread-safe (sharing the Context is OK).")
    assert passed("zmq", text, CROSSING)
    # the same words outside the aside deny the socket's crossing
    assert not passed("zmq", text.replace(" (sharing the Context is OK).", ". Sharing the socket this way is fine."),
                      CROSSING)


@pytest.mark.parametrize("diagnosis, expected", [
    ("The SUB socket itself is handled correctly. The real problem is the ZeroMQ context: `self.context = "
     "zmq.Context()` is created in `__init__` on the main thread, but `stop()` terminates it while the listener "
     "thread still uses it.", False),
    ("ZeroMQ sockets are not thread-safe: `self.socket` is created in `__init__` on the main thread but read "
     "by `_listen()` on the listener thread.", True),
])
def test_a_fix_beside_a_denial_of_the_socket_or_a_wrong_diagnosis_fails(diagnosis, expected):
    code = ("\n\n```python\n    def _listen(self):\n        self.socket = self.context.socket(zmq.SUB)\n"
            "        self.socket.connect(self.endpoint)\n        for topic in TOPICS:\n"
            "            self.socket.setsockopt(zmq.SUBSCRIBE, topic)\n        while self.running:\n"
            "            self._dispatch(self.socket.recv_multipart())\n```\n")
    verdicts = grade("zmq", diagnosis + code)
    assert verdicts[CROSSING].passed is expected
    assert verdicts["zmq.fix_socket_in_thread"].passed is expected


def test_a_general_recommendation_is_soft_advice():
    text = "For money, `decimal.Decimal` is generally recommended over `float`."
    assert not passed("payment", text, "payment.float_precision")
    assert passed("payment", "`calculate_fee` computes money in `float`, which loses satoshis to rounding. " + text,
                  "payment.float_precision")


def test_a_reset_called_intended_denies_the_payment_steps_only():
    text = ("`get_payment_history` builds its SQL with an f-string, so the address is injectable; use "
            "`\"WHERE address = ?\"` with `(address,)`. The reset to `pending` in the `except` branch of "
            "`_execute_payment()` is intended: it lets the next round retry a payment whose send failed.")
    verdicts = grade("payment", text)
    assert verdicts["payment.sql_injection"].passed and not verdicts["payment.atomicity"].passed


def test_a_function_of_the_program_names_where_not_what():
    text = ("`__init__` sets the PPLNS window to a fixed 10,000 instead of taking it from the configuration, "
            "so editing `pool_config.json` can't change it.")
    assert passed("pplns", text, "pplns.hardcoded_share_window")
    # unless the function is the check's decoy: the query helper is not where the literal lives
    assert not passed("pplns", "`_last_shares` caps the PPLNS window at a fixed 10,000.", "pplns.hardcoded_share_window")


def test_a_bold_lead_stating_a_wrong_mechanism_binds_its_paragraph():
    body = ("The window that `calculate_payouts()` relies on is a fixed number: the code pins the payout window "
            "at 10,000 shares, so changing the configuration cannot move it.")
    assert not passed("pplns", "**Bug 1 — `window_size` is hard-coded.** " + body, "pplns.hardcoded_share_window")
    assert passed("pplns", "**Bug 1 — the payout window.** " + body, "pplns.hardcoded_share_window")


SQL_EXAMPLE = """
```python
conn.execute("SELECT id, amount FROM payouts WHERE address = ? LIMIT ?", (address, int(limit)))
```
"""


def test_code_under_a_request_and_its_continuation_is_advice():
    advice = ("- Make sure `get_payment_history()` is parameterized, since the address comes from a public "
              "endpoint. Something like:\n" + SQL_EXAMPLE + "\n- The same applies to the `UPDATE` statements in "
              "`_execute_payment()`.\n")
    assert not passed("payment", advice, "payment.sql_injection")
    finding = ("- `get_payment_history()` puts the address into its SQL with an f-string, so it is injectable. "
               "Use parameters:\n" + SQL_EXAMPLE)
    assert passed("payment", finding, "payment.sql_injection")


def test_a_mechanism_said_only_in_a_request_clause_is_advice():
    asked = ("Resetting a row to `pending` in `_execute_payment()` is a strong decision, so confirm it is only "
             "done when you are certain no coins already left the wallet.")
    assert not passed("payment", asked, "payment.atomicity")
    asserted = ("`_execute_payment()` resets the row to `pending` even when the coins already left the wallet, "
                "so confirm the wallet's state before retrying.")
    assert passed("payment", asserted, "payment.atomicity")


def test_a_test_to_add_is_no_fix():
    text = "- Add a test that runs `process_pending_payments()` from several threads against the same database."
    assert not passed("payment", text, "payment.race_condition")


def test_a_pronoun_clause_continues_the_decoy_of_the_sentence_before():
    decoy = ("`stratum_prevhash()` only reorders the 4-byte words of `previousblockhash`. That is not a byte "
             "reversal: the conversion should reverse all 32 bytes, otherwise miners hash a header whose "
             "previous-block field is scrambled.")
    assert not passed("stratum", decoy, "stratum.byte_order")
    header = ("`_build_header()` packs `previousblockhash` exactly as the RPC returns it. That is the wrong byte "
              "order: the header needs all 32 bytes reversed.")
    assert passed("stratum", header, "stratum.byte_order")


def test_a_list_items_lead_is_read_with_the_explanation_under_it():
    item = ("- Bug: Header prev hash in wrong endianness.\n  Function: _build_header.\n  Explanation: {why}\n"
            "  Fix: prev_hash = bytes.fromhex(self.block_template['previousblockhash'])[::-1].\n")
    wrong = item.format(why="The block header expects the previous block hash in big-endian order, and "
                            "getblocktemplate returns previousblockhash in little-endian order.")
    assert not passed("stratum", wrong, "stratum.byte_order")
    right = item.format(why="getblocktemplate returns previousblockhash in display (big-endian) order, but the "
                            "header stores it little-endian, so the 32 bytes must be reversed.")
    assert passed("stratum", right, "stratum.byte_order")


def test_a_reversal_of_another_header_field_is_no_prev_hash_fix():
    merkle = ("In `_build_header()` the byte order is wrong. Fix:\n```python\n"
              "header = version + prev_hash + merkle_root[::-1] + struct.pack('<I', ntime) + bits\n```\n")
    assert not passed("stratum", merkle, "stratum.byte_order")
    prev = merkle.replace("prev_hash + merkle_root[::-1]", "prev_hash[::-1] + merkle_root")
    assert passed("stratum", prev, "stratum.byte_order")


def test_a_log_call_is_judged_with_the_arguments_on_its_next_lines():
    code = ("Here is `_submit_block()` with a shorter log line:\n```python\n"
            "def _submit_block(self, block_hex, block_hash):\n"
            "    logger.debug(\"block candidate %s at height %d: %s\",\n                 {args})\n```\n")
    assert not passed("stratum", code.format(args="block_hash, height, block_hex"), "stratum.info_leak")
    assert passed("stratum", code.format(args="block_hash, height"), "stratum.info_leak")


def test_log_volume_and_a_row_left_in_processing_are_wrong_mechanisms():
    volume = ("The `logger.info` in `_submit_block()` that prints `block_hex` produces a line of over a megabyte; "
              "hosted log services cap line sizes and bill by volume. Truncate long records so one block "
              "candidate can't blow up the log.")
    assert not passed("stratum", volume, "stratum.info_leak")
    stuck = ("### Commit before the wallet call in `_execute_payment()`\n\n`_execute_payment()` commits "
             "`processing` before calling the wallet. If the worker dies meanwhile, the row is left in "
             "`processing` forever and is never picked up again, so that miner is never paid.\n")
    assert not passed("payment", stuck, "payment.atomicity")
    double = stuck.replace("so that miner is never paid", "and the `except` resets it to `pending` after the "
                                                        "coins were sent, so it is paid twice")
    assert passed("payment", double, "payment.atomicity")


def test_the_subscription_racing_the_first_receive_is_not_the_crossing():
    joiner = ("**Bug 1 – subscriptions race the first receive (slow joiner).** `start()` connects `self.socket` "
              "and sets the `SUBSCRIBE` options, but then immediately starts `_listen()`, which begins reading "
              "before the subscription has propagated.")
    assert not passed("zmq", joiner, CROSSING)


def test_a_place_after_before_or_after_is_not_the_denials_subject():
    fix = ("ZeroMQ sockets are not thread-safe, and `self.socket` is set up in `start()` on the caller's thread "
           "but read in `_listen()` on the listener thread. Create it in the thread:\n" + LISTEN_FIX)
    timed = fix + "\nRegistering callbacks with `on()` before `start()` is fine."
    assert passed("zmq", timed, "zmq.fix_socket_in_thread")
    denied = fix + "\nThe threading in `start()` is fine."
    assert not passed("zmq", denied, "zmq.fix_socket_in_thread")


def test_a_rule_stated_as_must_does_not_hide_the_finding_after_it():
    text = ("ZeroMQ sockets are not thread-safe: each socket must be used by exactly one thread. In `ZMQListener`, "
            "`self.socket` is created in `__init__()` and connected in `start()` on the caller's thread. However, "
            "the socket is then read in `_listen()`, which runs on a separate daemon thread.")
    assert grade("zmq", text)[CROSSING].kind == "finding"


def test_an_aside_between_dashes_is_not_the_clauses_subject():
    denied = ("`self.share_window = 10000` on its own is just a sensible fallback default, and that line is fine. "
              "`window_size` is computed but never used by the query: `_last_shares()` is called with "
              "`self.share_window`. So `pplns_n` {aside} can't change anything.")
    # the dashes hold an aside: what cannot change anything is `pplns_n`, not `share_window`
    assert not passed("pplns", denied.format(aside="— the other PPLNS setting you tuned —"),
                      "pplns.hardcoded_share_window")



def test_a_request_quoting_the_programs_code_is_a_request_to_look():
    quoted = ("With four workers running `process_pending_payments()`, make sure the test on `self.processing` and "
              "the `self.processing.add(payout_id)` happen under `self.lock`, so no two workers work on one payout.")
    assert not passed("payment", quoted, "payment.race_condition")
    new_code = ("Two workers can both pass the `payout_id in self.processing` test before either adds the id. Wrap "
                "the test and the add in `with self.lock:` so no two workers work on one payout.")
    assert passed("payment", new_code, "payment.race_condition")


@pytest.mark.parametrize("text, check", [
    ("For the fee totals, compare `calculate_fee()` output against a `Decimal` computation on real payouts.",
     "payment.float_precision"),
    ("For the repeated payout after the RPC hiccup, check what `_send_payment()` returns when `sendtoaddress` "
     "times out, and what `_execute_payment()` does with the row then.", "payment.atomicity"),
])
def test_a_measurement_to_run_is_no_finding_and_no_fix(text, check):
    assert not passed("payment", text, check)


def test_a_conclusion_is_read_with_the_wrong_mechanism_just_before_it():
    stuck = ("`_execute_payment()` commits `processing` before the wallet call. If the worker dies, the `SELECT` in "
             "`process_pending_payments()` only picks up `pending` rows, so that miner is never paid. "
             "The status change and the payment are not atomic.")
    verdicts = grade("payment", stuck)
    assert not verdicts["payment.atomicity"].passed and not verdicts["payment.race_condition"].passed


@pytest.mark.parametrize("placeholder, passes", [("?", True), (":address", True), ("'?'", False), ("%s", False)])
def test_only_sqlite3s_own_unquoted_placeholders_fix_the_injection(placeholder, passes):
    text = ("`get_payment_history()` builds its SQL with an f-string, so the address is injectable. Bind it:\n"
            "```python\ndef get_payment_history(self, address, limit=50):\n"
            f"    rows = conn.execute(\"SELECT * FROM payouts WHERE address = {placeholder}\", (address,)).fetchall()\n```\n")
    assert passed("payment", text, "payment.sql_injection") is passes


def test_an_sql_placeholder_does_not_end_a_sentence():
    race_fix = ("Make the DB claim conditional: UPDATE payouts SET status='processing' WHERE id=? AND status='pending', "
                "proceeding only if cursor.rowcount == 1.")
    assert not passed("payment", race_fix, "payment.sql_injection")


def test_a_sentence_naming_the_code_before_it_continues_that_decoy():
    decoy = ("`stratum_prevhash()` only reorders the 4-byte words of `previousblockhash`. Bitcoin stores the previous "
             "block hash fully byte-reversed, so this half-conversion gives a prevhash bitcoind rejects.")
    assert not passed("stratum", decoy, "stratum.byte_order")
    header = ("`_build_header()` packs `previousblockhash` as the RPC returns it. Bitcoin stores the previous block "
              "hash fully byte-reversed in the header, so the 32 bytes must be reversed there.")
    assert passed("stratum", header, "stratum.byte_order")


def test_a_fact_that_becomes_true_is_no_statement_about_the_fix():
    denial = ("Logging `block_hex` in `_submit_block()` is harmless: the block becomes public the moment bitcoind "
              "relays it. To keep lines small, log just the hash:\n```python\n"
              "        logger.info(\"block candidate %s at height %d\", block_hash, template[\"height\"])\n```\n")
    assert not passed("stratum", denial, "stratum.info_leak")


def test_a_denial_of_the_context_is_no_denial_of_the_socket():
    text = ("`self.socket` is created in `__init__` and connected in `start()` on the caller's thread, but `_listen()` "
            "receives on it in the listener thread; ZeroMQ sockets are not thread-safe.\n"
            "- Creating `self.context` in `__init__` is correct: a Context may be shared between threads.")
    assert passed("zmq", text, CROSSING)
    denied = text.replace("- Creating `self.context` in `__init__` is correct: a Context may be shared between threads.",
                          "- `self.socket` is fine as it is.")
    assert not passed("zmq", denied, CROSSING)


def test_a_method_call_in_a_diagnosis_is_no_instruction_to_read_the_key():
    said = ("The attribute holding the window is called `share_window`, and no `config.get()` maps the "
            "file's `pplns_window` onto it, so the 50,000 never enters the program.")
    assert not passed("pplns", "The query's `LIMIT` caps the window. " + said, "pplns.hardcoded_share_window")
    told = "Fix: read `pplns_window` from the config into `self.share_window`."
    assert passed("pplns", told, "pplns.hardcoded_share_window")


def test_a_decoy_named_in_words_is_the_subject_of_its_clause():
    said = ("`calculate_payouts()` builds `window_size` but then hands `self.share_window` to `_last_shares()`, "
            "so the difficulty-based window never takes effect.")
    assert not passed("pplns", said, "pplns.hardcoded_share_window")
    assert passed("pplns", said.replace("the difficulty-based window", "the configured window"),
                  "pplns.hardcoded_share_window")


@pytest.mark.parametrize("said, expected", [
    ("Make sure the key names in `pool_config.json` and in the constructor line up (`pplns_window`) — a typo "
     "there fails silently.", False),
    ("The config key is `pplns_window` but the code reads `share_window`: a typo that fails silently.", True),
])
def test_a_typo_that_would_fail_is_no_typo_found(said, expected):
    code = "\n\n```python\nself.share_window = int(config.get('pplns_window', 10000))\n```\n"
    advice = "\n\n- Consider reading `share_window` from the config; you could do something like"
    assert passed("pplns", said + advice + code, "pplns.config_key_mismatch") is expected


HISTORY_INJECTABLE = ("`get_payment_history` interpolates the visitor's address into the SELECT with an f-string, "
                      "so `x' OR 1=1 --` returns every row. Fix: use a parameterized query.\n\n")


@pytest.mark.parametrize("placeholder, expected", [("?", True), (":address", True), ("%s", False), ("'?'", False)])
def test_a_prose_fix_means_the_code_it_comes_with(placeholder, expected):
    code = (f'```python\nrows = conn.execute(\n    "SELECT * FROM payouts WHERE address = {placeholder} LIMIT 50",\n'
            '    (address,),\n).fetchall()\n```\n')
    assert passed("payment", HISTORY_INJECTABLE + code, "payment.sql_injection") is expected


def test_amounts_read_back_from_real_columns_are_no_place_of_the_float_arithmetic():
    said = ("`get_payment_history` returns amount and fee straight from SQLite REAL columns as Python floats, "
            "so totals drift by satoshis. Convert them with `Decimal` when building the rows.")
    assert not passed("payment", said, "payment.float_precision")
    said = ("`calculate_fee` multiplies float amounts, so fees drift by satoshis. Compute it with `Decimal` "
            "and quantize to 8 places.")
    assert passed("payment", said, "payment.float_precision")


@pytest.mark.parametrize("consequence, expected", [
    ("If the worker is killed between the commits, the row stays in `processing` forever and that miner is never paid.",
     False),
    ("If the wallet times out after sending, the except branch resets the row to `pending` and it is paid again.", True),
    # the gap the claim means, named by the next sentence: the race's
    ("Between the `SELECT` in `process_pending_payments` and the `UPDATE`, another worker can read the same row.",
     False),
    ("Between the send and the `paid` commit, a wallet timeout resets the row to `pending`, so it is paid again.",
     True),
])
def test_a_conclusion_is_read_with_the_consequence_the_next_sentence_draws(consequence, expected):
    said = ("`_execute_payment()` commits `status = 'processing'`, then calls the wallet, then commits `paid`. "
            "These steps are not atomic. ")
    assert passed("payment", said + consequence, "payment.atomicity") is expected


def test_a_claim_made_without_checking_the_status_is_the_race_not_atomicity():
    said = ("`_execute_payment()` sets `status = 'processing'` without checking what the status was, so the DB write "
            "and the decision to pay are not atomic.")
    assert not passed("payment", said, "payment.atomicity")
    said = ("`_execute_payment()` commits `processing`, sends, and on a timeout after sending resets the row to "
            "`pending`: the send and the status are not atomic, so the payout is paid again.")
    assert passed("payment", said, "payment.atomicity")


def test_a_pronoun_sentence_calling_other_code_safe_denies_nothing_of_the_sentence_before():
    said = ("The socket is created and connected in `start()` on the main thread but read by `_listen()` on the "
            "listener thread. ")
    assert passed("zmq", said + "It calls `context.term()`, which is safe from any thread.", CROSSING)
    assert not passed("zmq", said + "It is safe from any thread.", CROSSING)


def test_two_sentences_read_together_are_also_read_with_the_sentence_before_them():
    said = ("In `start()` the code calls `connect()`, sends the `SUBSCRIBE` options, and immediately launches "
            "`_listen()`, which starts calling `recv_multipart()` right away. Any `hashblock` published by bitcoind "
            "in that window is silently dropped by the publisher.")
    slow_joiner = ("PUB/SUB in ZeroMQ has a well-known property: a subscriber that has just connected does not "
                   "receive anything until its subscription has propagated to the publisher. ")
    assert not passed("zmq", "## 1. Subscription race on start-up\n\n" + slow_joiner + said, CROSSING)
    threads = "ZeroMQ sockets are not thread-safe, and this one is set up on the main thread. "
    assert passed("zmq", "## 1. The socket crosses threads\n\n" + threads + said, CROSSING)


@pytest.mark.parametrize("said, expected", [
    ("ZeroMQ sockets are not thread-safe, and this one is created in `__init__` but read in `_listen()`. "
     "Move it into the thread:", True),
    ("The socket is created in `__init__` and read in `_listen()`. That hand-off is fine: `start()` finishes "
     "before the thread starts. ZeroMQ sockets are not thread-safe in general; to be self-contained:", False),
])
def test_the_move_into_the_thread_fixes_nothing_the_answer_calls_fine(said, expected):
    assert passed("zmq", said + "\n" + LISTEN_FIX, "zmq.fix_socket_in_thread") is expected


def test_a_checks_own_denial_about_a_decoy_it_names_denies_nothing_here():
    said = ("`_execute_payment()` commits `processing`, calls the wallet, and when the RPC times out after sending "
            "its except branch resets the row to `pending`, so the payout is paid again. ")
    decoy = "`process_pending_payments()` reads the pending rows once per round, which is the intended design."
    assert passed("payment", said + decoy, "payment.atomicity")
    assert not passed("payment", said + "Resetting the row to `pending` is the intended behaviour.", "payment.atomicity")
    assert not passed("payment", said + "Resetting to pending on failure is the usual retry pattern.", "payment.atomicity")
    assert not passed("payment", said + "The `except` block that sets the row back to `'pending'` is the correct retry "
                                        "behaviour.", "payment.atomicity")


def test_a_bare_value_where_sqlite3_wants_a_sequence_is_no_fix():
    code = ('```python\nrows = conn.execute(\n    "SELECT * FROM payouts "\n    "WHERE address = ? LIMIT 50",\n'
            '    (address{comma}),\n).fetchall()\n```\n')
    assert passed("payment", HISTORY_INJECTABLE + code.format(comma=","), "payment.sql_injection")
    assert not passed("payment", HISTORY_INJECTABLE + code.format(comma=""), "payment.sql_injection")


def test_a_prose_fix_pointing_to_one_given_elsewhere_is_none():
    said = ("`get_payment_history()` interpolates the visitor's `address` into the SQL text, so `' OR '1'='1` "
            "changes the query. ")
    assert not passed("payment", said + "Fix: the parameterized query as described above.", "payment.sql_injection")
    assert passed("payment", said + "Fix: use a parameterized query with `WHERE address = ?`.", "payment.sql_injection")
    # a reasoning block the reader never sees is elsewhere too
    pointer = ("Move the socket's whole lifetime into the listener thread: replace `_listen()` and `stop()` with the "
               "corrected versions from my analysis above.")
    assert not passed("zmq", HAND_OFF + "ZeroMQ sockets are not thread-safe. " + pointer, "zmq.fix_socket_in_thread")
    assert passed("zmq", HAND_OFF + "ZeroMQ sockets are not thread-safe. " + LISTEN_FIX, "zmq.fix_socket_in_thread")


def test_the_race_check_called_not_atomic_is_no_atomicity_finding():
    said = ("`_execute_payment()` is not atomic: because the `in self.processing` check in "
            "`process_pending_payments()` is not atomic, two workers enter `_execute_payment()` for the same id.")
    assert not passed("payment", said, "payment.atomicity")


def test_a_rule_for_how_the_code_should_be_is_no_finding():
    rule = ("Each check-and-claim of a payout must happen under `self.lock` (or atomically in the database) — a "
            "membership test and an insert are never safe as two steps when four workers run.")
    assert not passed("payment", rule, "payment.race_condition")
    finding = ("Two workers can both pass the `payout_id in self.processing` test before either adds the id, so "
               "both pay it. ")
    assert passed("payment", finding + rule, "payment.race_condition")


def test_a_wrong_diagnosis_takes_its_defect_cue_from_its_paragraph():
    blamed = ("`self.context = zmq.Context()` is created in `__init__`, i.e. in the main thread, and then the listener "
              "thread works through that context. Creating it in one thread and driving it from another is not safe.")
    assert not passed("zmq", blamed + "\n" + LISTEN_FIX, CROSSING)
    described = ("`self.context = zmq.Context()` is created in `__init__`, i.e. in the main thread, and then the "
                 "listener thread works through that context.\n\nThe socket, though, is not thread-safe and crosses "
                 "from `start()` to `_listen()`.")
    assert passed("zmq", described + "\n" + LISTEN_FIX, CROSSING)


def test_a_window_joining_a_denial_to_the_next_sentence_does_not_retract_it():
    denied = ("The `except` block in `_execute_payment()` that sets the row back to `'pending'` is the correct retry "
              "behaviour. The \"paid again after a hiccup\" report is the same race as above, and goes away with that fix.")
    assert not passed("payment", denied, "payment.atomicity")
    # a later sentence that asserts the defect on its own does retract it
    retracted = ("The `except` block in `_execute_payment()` that sets the row back to `'pending'` is the correct retry "
                 "behaviour. But when the wallet times out after the coins were sent, that reset pays the row again.")
    assert passed("payment", retracted, "payment.atomicity")


def test_the_lead_in_to_the_paragraphs_code_can_state_the_wrong_mechanism():
    said = ("The header mixes byte orders: `version`, `ntime` and `nonce` are packed little-endian while `prev_hash` "
            "is taken as big-endian hex. ")
    code = "\n\n```python\nversion = struct.pack(\">I\", self.block_template[\"version\"])\n```\n"
    wrong = said + "Since hashes are compared as big-endian numbers, the header should be built big-endian throughout:"
    assert not passed("stratum", wrong + code, "stratum.byte_order")
    right = said + "Inside the header it must be in internal order, the byte-reverse of the RPC hex:"
    assert passed("stratum", right + code, "stratum.byte_order")


def test_a_lead_in_that_is_the_checks_own_fix_states_no_wrong_mechanism():
    said = ("`_submit_block()` logs `block_hex`, the complete serialized block, at INFO *before* calling `submitblock`. "
            "That ships a valid, unsubmitted block to a log service contractors can read. ")
    code = '\n\n```python\nlogger.info("block candidate %s at height %d", block_hash, template["height"])\n```\n'
    assert passed("stratum", said + "Log only the hash, height and size:" + code, "stratum.info_leak")
    # (a lead-in that is no fix does: test_the_lead_in_to_the_paragraphs_code_can_state_the_wrong_mechanism)


def test_a_sentence_continuing_the_block_data_by_pronoun_completes_the_leak():
    said = ("`block_hex` is the entire serialized block, often 1-2 MB of hex in one line. It is shipped to the hosted "
            "log service before `submitblock` is called, so anyone with log access sees the block first. "
            "Log only the block hash.")
    verdict = grade("stratum", said)["stratum.info_leak"]
    assert verdict.passed and verdict.kind == "finding", verdict   # read as a finding, not as a fix alone
    # the same two sentences about the size alone are no leak
    size = ("`block_hex` is the entire serialized block, often 1-2 MB of hex in one line. It fills the disk of the "
            "hosted log service. Log only the block hash.")
    assert not passed("stratum", size, "stratum.info_leak")


def test_a_job_being_replaced_is_how_a_pool_works_not_a_finding():
    described = ("When `broadcast_job()` replaces `self.current_job`, miners keep submitting work for the previous "
                 "job for a moment.")
    assert not passed("stratum", described, "stratum.stale_job")
    lost = ("When `broadcast_job()` replaces `self.current_job`, the previous job is not kept by id, so shares "
            "submitted for it are validated against the new job.")
    assert passed("stratum", lost, "stratum.stale_job")


def test_a_table_rows_where_column_is_what_its_bug_cell_speaks_of():
    table = "| # | Where | Bug |\n|---|---|---|\n| 3 | {where} | Computed from `getdifficulty() * n_factor`, never used by the query. |\n"
    assert passed("pplns", table.format(where="`calculate_payouts()`: `window_size`"), "pplns.window_size_unused")
    # a decoy in the Where column is still the decoy
    assert not passed("pplns", table.format(where="`n_factor`"), "pplns.window_size_unused")


def test_a_value_in_code_is_no_subject_a_mechanism_is_said_of():
    said = ("Any wallet error, including a read timeout after bitcoind broadcast the transaction, is converted to "
            "`None` and the original exception is discarded.")
    assert passed("payment", said, "payment.atomicity")
    # a decoy in code still is one
    decoy = ("`get_payment_history()` is converted to dicts and the original exception is discarded.")
    assert not passed("payment", decoy, "payment.atomicity")


def test_a_denial_taken_back_in_its_own_sentence_denies_nothing():
    said = ("At first I thought `self.share_window = 10000` was just a sensible default that the config would "
            "replace, but it isn't: it's hard-coded and overrides `pool_config.json`.")
    assert passed("pplns", said, "pplns.hardcoded_share_window")
    kept = "`self.share_window = 10000` is just a sensible default that the config would replace."
    assert not passed("pplns", kept, "pplns.hardcoded_share_window")


def test_a_subjectless_sentence_after_the_programs_line_is_said_of_it():
    shown = "In `calculate_payouts()`:\n\n```python\nwindow_size = int(net_diff * self.n_factor)\n```\n\n"
    assert passed("pplns", shown + "is computed and never used by the query.", "pplns.window_size_unused")
    # after a line of the answer's own, there is nothing to continue
    own = "In `calculate_payouts()`:\n\n```python\nwindow = compute_window()\n```\n\n"
    assert not passed("pplns", own + "is computed and never used by the query.", "pplns.window_size_unused")


@pytest.mark.parametrize("said", [
    "These two steps are not atomic, and `self.lock` is never acquired, so two workers can both see the id as "
    "free and both call `_execute_payment()` for the same payout.",
    "The status transition in `_execute_payment()` is not atomic: another worker can read the same pending row "
    "between the SELECT and the UPDATE.",
    "| 1 | same payout paid twice | `process_pending_payments()` | a non-atomic check-then-act; both workers pay |",
])
def test_the_race_told_as_non_atomic_is_no_atomicity_finding(said):
    assert not passed("payment", said, "payment.atomicity")


def test_a_table_row_about_the_send_and_its_status_is_the_atomicity_finding():
    row = ("| 2 | paid again after a hiccup | `_execute_payment()` | a wallet timeout after the coins were sent resets "
           "the row to `pending`, so it is paid again |")
    assert passed("payment", row, "payment.atomicity")


def test_a_prose_reply_beside_the_params_blamed_on_a_decoy_fixes_the_decoy():
    decoy = ("`_handle_authorize()` indexes `message[\"params\"][0]` without checking that `params` exists, which "
             "raises for rigs that send `\"params\": []`. Reply with an error instead.")
    assert not passed("stratum", decoy, "stratum.input_validation")
    own = ("`_handle_submit()` unpacks `message[\"params\"]` without checking its length, which raises for rigs that "
           "send four params. Reply with an error instead.")
    assert passed("stratum", own, "stratum.input_validation")


def test_precise_as_the_chain_allows_goes_on_with_the_denial_not_against_it():
    denied = ("Float precision isn't the problem here. `calculate_fee()` rounds to 8 decimals, which is exactly satoshi "
              "resolution, so each fee is as precise as the chain allows.")
    assert not passed("payment", denied + " You could also switch `batch_payments()` to `Decimal`.", "payment.float_precision")
    retracted = ("Float precision isn't the problem here, I thought. But `calculate_fee()` multiplies floats, so fees "
                 "are imprecise by a satoshi. Use `Decimal`.")
    assert passed("payment", retracted, "payment.float_precision")


def test_a_view_taken_back_is_neither_a_wrong_diagnosis_nor_a_denial():
    said = ("The megabyte line from `_submit_block()` looks like a harmless verbosity issue that log rotation would "
            "solve. But it isn't harmless: `block_hex` is the complete solved block, and it is logged *before* "
            "`submitblock` is called, so every contractor who reads the logs receives a valid block first.\n\n"
            "```python\nlogger.info(\"block candidate %s at height %d\", block_hash, template[\"height\"])\n```\n")
    verdict = grade("stratum", said)["stratum.info_leak"]
    assert verdict.passed and verdict.kind == "finding", verdict
    kept = said.replace("But it isn't harmless: `block_hex`", "`block_hex`")
    assert not passed("stratum", kept, "stratum.info_leak")


def test_the_listener_thread_named_by_its_name_is_the_other_side():
    said = ("Here `self.socket` is connected and subscribed in `start()` on the caller's thread, but "
            "`recv_multipart()` runs on the `zmq-listener` thread.")
    assert passed("zmq", said, CROSSING)
    # the name between a place and "is fine" is no other subject: the hand-off is what is called fine
    denied = ("Creating and connecting the socket in `start()` and then handing it to the `zmq-listener` thread is "
              "fine: `Thread.start()` acts as a full memory barrier.")
    assert not passed("zmq", said + " " + denied + "\n" + LISTEN_FIX, CROSSING)


def test_a_denial_of_a_numbered_point_denies_what_that_point_named():
    said = ("**1. Socket created on one thread, used on another.** The SUB socket is created in `__init__` and "
            "connected in `start()` on the main thread, but `recv_multipart()` runs on the listener thread.\n\n"
            "**2. Slow callbacks stall reception.** `_dispatch()` calls `refresh_template()` inline.\n\n")
    assert passed("zmq", said, CROSSING)
    assert not passed("zmq", said + "On reflection, point 1 on its own is harmless: the hand-off is legal.", CROSSING)
    # a denial of another point leaves this one
    assert passed("zmq", said + "On reflection, point 2 on its own is harmless.", CROSSING)


def test_a_sentence_opening_on_a_decoy_is_about_the_decoy():
    decoy = ("`_notify_message()` always reads `self.current_job` and `self.block_template` instead of the job that "
             "was actually broadcast, so some miners get a notify that mixes the old job id with the new template.")
    assert not passed("stratum", decoy, "stratum.stale_job")
    own = ("`_validate_share()` always reads `self.current_job` instead of the job named by `job_id`, so shares for "
           "the job just replaced are validated against the new one.")
    assert passed("stratum", own, "stratum.stale_job")


SUMMARY_ROW = ("## Summary\n\n| # | Location | Problem |\n|---|---|---|\n"
               "| 3 | `_execute_payment()` | status changes in separate commits |\n")


@pytest.mark.parametrize("section, expected", [
    # the numbered section explains the row by a row left in `processing`: the row goes with it
    ("## 3. Status updates are not transactional\n\nIf the worker crashes after the first commit, the row is "
     "left in `processing` forever and that miner is never paid.\n\n", False),
    # the same section explaining the send and the status update apart: the row asserts it
    ("## 3. Status updates are not transactional\n\n`_execute_payment()` sends the coins and only then "
     "commits `paid`; when the RPC raises after broadcasting, the row goes back to `pending` and is sent "
     "again.\n\n", True),
])
def test_a_summary_row_is_read_with_the_section_of_its_number(section, expected):
    assert passed("payment", section + SUMMARY_ROW, "payment.atomicity") is expected
    # a row numbered for no section stands alone
    assert passed("payment", SUMMARY_ROW.replace("| 3 |", "| 7 |"), "payment.atomicity")


def test_a_section_that_also_gives_the_right_mechanism_is_not_explained_away_by_a_wrong_one():
    heading = "## 3. The complete block is written to the log before it is submitted\n\n"
    size = "`block_hex` is the entire serialized block, easily 1–2 MB of hex. That explains the megabyte-long log line.\n\n"
    leak = "More importantly it's a confidentiality problem: the logs go to a hosted service read by contractors.\n\n"
    fix = ('Log the hash and height, after submission:\n\n```python\nresult = await self.rpc.submitblock(block_hex)\n'
           'logger.info("submitted block %s at height %d: %s", block_hash, template["height"], result)\n```\n\n')
    row = fix + "## Summary\n\n| # | Location | Problem |\n|---|---|---|\n| 3 | `_submit_block` | full `block_hex` logged before `submitblock` |\n"
    assert passed("stratum", heading + size + leak + row, "stratum.info_leak")
    # a row whose section gives both a row left in `processing` and the send apart from its status
    stuck = ("## 3. Status updates are not transactional\n\nIf the worker crashes after the first commit, the row is "
             "left in `processing` forever and that miner is never paid.\n")
    both = stuck + ("`_execute_payment()` sends the coins and only then commits `paid`; when the RPC raises after "
                    "broadcasting, the row goes back to `pending` and is sent again.\n\n")
    assert passed("payment", both + SUMMARY_ROW, "payment.atomicity")
    assert not passed("payment", stuck + "\n" + SUMMARY_ROW, "payment.atomicity")
