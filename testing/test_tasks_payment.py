"""payment task: the fixture has the defects of docs/checks.md, the prompt shows them without naming them."""

from __future__ import annotations

import ast
import py_compile

import pytest

from llmbench.grading.rules import evaluate
from llmbench.paths import buggy_code_dir
from llmbench.tasks import get_task, grade
from llmbench.tasks.payment import SQL
from llmbench.tasks.prompting import read_fixture

TASK = get_task("payment")


def _methods() -> dict[str, ast.FunctionDef]:
    tree = ast.parse(read_fixture("payment_processor.py"))
    klass = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "PaymentProcessor")
    return {n.name: n for n in klass.body if isinstance(n, ast.FunctionDef)}


def _fstring_sql(func: ast.FunctionDef) -> list[str]:
    """Source of every f-string in the function that holds SQL."""
    out = []
    for node in ast.walk(func):
        if isinstance(node, ast.JoinedStr):
            text = ast.unparse(node)
            if any(k in text for k in ("SELECT", "UPDATE", "WHERE")):
                out.append(text)
    return out


def test_fixture_is_valid_python(tmp_path):
    py_compile.compile(str(buggy_code_dir() / "payment_processor.py"), cfile=str(tmp_path / "out.pyc"), doraise=True)


def test_lock_is_created_and_never_used():
    methods = _methods()
    init = ast.unparse(methods["__init__"])
    assert "self.processing = set()" in init and "self.lock = threading.Lock()" in init
    for name, func in methods.items():
        if name != "__init__":
            assert "self.lock" not in ast.unparse(func), name


def test_process_pending_payments_checks_then_adds():
    source = ast.unparse(_methods()["process_pending_payments"])
    check = source.index("if payout_id in self.processing")
    add = source.index("self.processing.add(payout_id)")
    assert check < add


def test_execute_payment_marks_processing_with_fstring_then_sends_and_resets_to_pending():
    func = _methods()["_execute_payment"]
    source = ast.unparse(func)
    assert any("status = 'processing' WHERE id = {payout_id}" in s for s in _fstring_sql(func))
    order = [source.index(s) for s in ("'processing'", "conn.commit()", "self._send_payment(", "'paid'")]
    assert order == sorted(order)
    handler = next(n for n in ast.walk(func) if isinstance(n, ast.ExceptHandler))
    assert "status = 'pending'" in ast.unparse(handler)


def test_send_payment_returns_none_on_any_error():
    func = _methods()["_send_payment"]
    handler = next(n for n in ast.walk(func) if isinstance(n, ast.ExceptHandler))
    assert ast.unparse(handler.type) == "Exception"
    assert ast.unparse(handler.body[0]) == "return None"


def test_money_is_float():
    methods = _methods()
    assert "float(amount)" in ast.unparse(methods["calculate_fee"])
    assert "float(amount)" in ast.unparse(methods["batch_payments"]) and "0.0" in ast.unparse(methods["batch_payments"])
    assert "Decimal" not in read_fixture("payment_processor.py")


def test_payment_history_interpolates_the_address():
    assert any("WHERE address = '{address}'" in s for s in _fstring_sql(_methods()["get_payment_history"]))


def test_fixture_comments_do_not_describe_the_bugs():
    text = read_fixture("payment_processor.py").lower()
    for giveaway in ("injection", "race", "atomic", "precision", "thread-safe", "todo", "fixme", "bug", "unsafe"):
        assert giveaway not in text, giveaway


def test_prompt_contains_the_file_and_names_no_mechanism():
    prompt = TASK.prompt()
    assert prompt == TASK.prompt()
    assert "`payment_processor.py`:" in prompt and read_fixture("payment_processor.py") in prompt
    scenario = prompt.split("`payment_processor.py`:")[0].lower()
    for word in ("race", "inject", "sql", "float", "decimal", "precision", "atomic", "transaction", "lock", "thread", "rounding"):
        assert word not in scenario, word


def test_checks_match_the_contract():
    assert TASK.check_ids == ["payment.race_condition", "payment.sql_injection", "payment.float_precision", "payment.atomicity"]
    assert TASK.difficulty == "expert"


def test_reference_answer_scores_full_marks_and_echo_scores_nothing():
    assert all(v.passed for v in grade("payment", TASK.reference_answer()).values())
    assert not any(v.passed for v in grade("payment", TASK.prompt()).values())


def test_category_names_alone_do_not_pass():
    answer = "1. Race condition in `process_pending_payments`.\n2. Atomicity problem in `_execute_payment`.\n"
    verdicts = grade("payment", answer)
    assert not verdicts["payment.race_condition"].passed
    assert not verdicts["payment.atomicity"].passed


def test_injection_needs_a_parameterized_fix():
    found = "`get_payment_history` interpolates the visitor's address into the SQL with an f-string: SQL injection."
    assert not grade("payment", found)["payment.sql_injection"].passed
    fixed = found + ' Use a `?` placeholder: `conn.execute("... WHERE address = ?", (address,))`.'
    assert grade("payment", fixed)["payment.sql_injection"].passed


def test_a_prose_fix_whose_own_clause_names_only_a_decoy_fixes_the_decoy():
    found = "`get_payment_history` interpolates the visitor's address into the SQL with an f-string: SQL injection. "
    decoy = ("The `SELECT` in `process_pending_payments()` is a raw string query and should go through placeholders "
             "like the rest; the history endpoint only reads.")
    assert not grade("payment", found + decoy)["payment.sql_injection"].passed
    # the fix's own clause names the history query: the decoy in the next clause takes nothing from it
    right = ("The history endpoint should go through placeholders like the rest; the `SELECT` in "
             "`process_pending_payments()` is a constant query.")
    assert grade("payment", found + right)["payment.sql_injection"].passed


def test_denied_injection_fails():
    answer = "There is no SQL injection in `get_payment_history`; the f-string is fine because addresses are validated upstream."
    assert not grade("payment", answer)["payment.sql_injection"].passed


def _race(text: str) -> bool:
    return grade("payment", text)["payment.race_condition"].passed


def test_lock_must_cover_the_membership_check():
    around_add = (
        "```python\n"
        "            with self.lock:\n"
        "                self.processing.add(payout_id)\n"
        "```\n"
    )
    around_check = (
        "```python\n"
        "            with self.lock:\n"
        "                if payout_id in self.processing:\n"
        "                    continue\n"
        "                self.processing.add(payout_id)\n"
        "```\n"
    )
    assert not _race(around_add)
    assert _race(around_check)
    # the test alone under the lock, the add after it: two workers still both pass the test
    check_only = around_check.replace("                self.processing.add(payout_id)\n",
                                      "            self.processing.add(payout_id)\n")
    assert not _race(check_only)


def test_unused_lock_blamed_on_another_function_is_wrong_place():
    answer = (
        "`batch_payments` updates the shared `totals` dict while other workers run; `self.lock` is never "
        "used there, so two threads merging balances can lose updates."
    )
    assert not _race(answer)


def test_race_claim_is_not_the_sql_fix():
    answer = (
        "There's no SQL injection in `get_payment_history`. Fix the double payment: claim the row in SQL "
        "with `WHERE id = ? AND status = 'pending'` and check `rowcount`."
    )
    verdicts = grade("payment", answer)
    assert not verdicts["payment.sql_injection"].passed
    assert verdicts["payment.race_condition"].passed


def test_fix_only_answers_pass_their_checks():
    answer = (
        "```python\n"
        "    def calculate_fee(self, amount):\n"
        "        return (Decimal(str(amount)) * Decimal(str(self.fee_percent)) / 100).quantize(Decimal('1e-8'))\n"
        "\n"
        "    def get_payment_history(self, address, limit=50):\n"
        "        rows = conn.execute('SELECT * FROM payouts WHERE address = ? LIMIT ?', (address, int(limit)))\n"
        "```\n"
    )
    verdicts = grade("payment", answer)
    assert verdicts["payment.float_precision"].passed
    assert verdicts["payment.sql_injection"].passed


def test_rounding_is_not_a_representation_fix():
    answer = "`calculate_fee` uses float, which loses precision. Round more carefully, to whole satoshis."
    assert not grade("payment", answer)["payment.float_precision"].passed


def test_reset_to_pending_called_intended_is_a_denial():
    answer = (
        "The retry after a wallet hiccup is the intended behaviour: `_execute_payment` resets the row to "
        "`pending` in its `except` so the payout is retried. If a payment went out twice, that is the race."
    )
    assert not grade("payment", answer)["payment.atomicity"].passed


def test_labelled_checklist_fails_every_check():
    answer = (
        "- **`process_pending_payments`** – check for race conditions when several workers run in parallel.\n"
        "- **`calculate_fee` / `batch_payments`** – beware of floating-point precision issues; consider Decimal.\n"
        "- **`get_payment_history`** – validate user input and use parameterized queries to prevent SQL injection.\n"
    )
    assert not any(v.passed for v in grade("payment", answer).values())


def test_non_atomic_status_updates_are_not_the_race():
    # round 2: "not atomic" said of _execute_payment's commits is the atomicity finding, not the race
    answer = (
        "**4. Status updates are not atomic.** `_execute_payment` first commits `processing`, then sends "
        "the coins, then writes `paid` in a second commit."
    )
    assert not grade("payment", answer)["payment.race_condition"].passed
    race = "The membership check and the add in `process_pending_payments` are not atomic, so two workers pay one payout."
    assert grade("payment", race)["payment.race_condition"].passed


def test_unused_lock_beside_a_thread_counter_is_not_the_race():
    answer = (
        "`self.lock` is never used, so with four threads the `paid += 1` counter in "
        "`process_pending_payments` is off."
    )
    assert not grade("payment", answer)["payment.race_condition"].passed


def test_transactional_already_denies_atomicity():
    answer = (
        "3. **`_execute_payment` is transactional already.** It marks the row `processing`, commits, "
        "sends, and on any failure puts it back to `pending`, so no payout is ever lost."
    )
    assert not grade("payment", answer)["payment.atomicity"].passed


def test_swallowed_wallet_error_paraphrase_passes_atomicity():
    answer = (
        "`_send_payment` catches every exception and returns `None`, so the actual wallet error is "
        "thrown away."
    )
    assert grade("payment", answer)["payment.atomicity"].passed


def test_decimal_fix_beside_another_function_is_no_fee_fix():
    answer = (
        "`get_payment_history` returns `amount` and `fee` as floats; convert them with "
        "`Decimal(str(row['amount']))` so the page shows exact values."
    )
    assert not grade("payment", answer)["payment.float_precision"].passed
    fee = "`calculate_fee` uses binary floats that cannot represent 0.1 exactly; compute it with `Decimal`."
    assert grade("payment", fee)["payment.float_precision"].passed


def test_precise_enough_denies_the_float_finding():
    answer = "`calculate_fee` is precise enough: `round(..., 8)` keeps satoshi precision, no need for Decimal."
    assert not grade("payment", answer)["payment.float_precision"].passed


def test_float_arithmetic_called_fine_denies_the_float_finding():
    answer = ("`calculate_fee()` rounds to 8 decimals, which is exactly satoshi precision, so the float "
              "arithmetic there is fine. If you want to be extra safe you could also switch to `Decimal`.")
    assert not grade("payment", answer)["payment.float_precision"].passed
    asserted = ("`calculate_fee()` rounds to 8 decimals, but the float arithmetic before the rounding is "
                "inexact: 0.29 * 0.5 / 100 is not representable. Compute it with `Decimal`.")
    assert grade("payment", asserted)["payment.float_precision"].passed


def test_values_never_stored_in_the_table_are_no_float_mechanism():
    stored = ("The mismatch comes from accounting summing `net_amount` values that were never stored; "
              "store `net_amount` in the row as well. If you want, you could also switch to `Decimal`.")
    assert not grade("payment", stored)["payment.float_precision"].passed
    represent = stored.replace("values that were never stored", "floats, which cannot store 0.1 exactly")
    assert grade("payment", represent)["payment.float_precision"].passed


def test_a_table_column_restating_the_report_asserts_no_cause():
    answer = ("| Report | Function | What is wrong | Fix |\n|---|---|---|---|\n"
              "| Fees off by satoshis | `calculate_fee`, `batch_payments` | — | Consider `Decimal` for fee math |\n")
    assert not grade("payment", answer)["payment.float_precision"].passed
    # the same words in the column that says what is wrong are the model's own finding
    stated = answer.replace("| Report | Function |", "| Problem | Function |")
    assert grade("payment", stated)["payment.float_precision"].passed


def test_fee_rounding_called_fine_then_the_symptom_blamed_elsewhere_stays_denied():
    answer = ("The fee rounding is fine: `round(…, 8)` already gives satoshi precision, so floats are OK for fees. "
              "The drift your accounting sees most likely comes from amounts rounded differently on their side. "
              "If you want to be extra safe anyway, you can switch `calculate_fee()` to `Decimal`.")
    assert not grade("payment", answer)["payment.float_precision"].passed
    retracted = answer.replace("The drift your accounting sees most likely comes from amounts rounded differently "
                               "on their side.", "Actually no: the float product drifts before `round()` runs.")
    assert grade("payment", retracted)["payment.float_precision"].passed


def test_a_part_of_a_function_called_fine_denies_only_what_that_part_is():
    sql = ("`_execute_payment()` formats `payout_id` into its `UPDATE` with an f-string, which is injectable; "
           "bind it with `WHERE id = ?` and `(payout_id,)`. ")
    denial = "The `except` block in `_execute_payment()` is fine as it is: the reset to `pending` lets the next round retry."
    verdicts = grade("payment", sql + denial)
    assert verdicts["payment.sql_injection"].passed
    assert not verdicts["payment.atomicity"].passed
    # the whole function called fine denies its SQL too
    whole = sql + "`_execute_payment()` is fine as it is."
    assert not grade("payment", whole)["payment.sql_injection"].passed

    # so does a possessive that names a part of the place by its code
    possessive = sql + "_execute_payment's int(payout_id) cast is correct."
    assert grade("payment", possessive)["payment.sql_injection"].passed
    assert not grade("payment", sql + "_execute_payment's query is correct.")["payment.sql_injection"].passed


def test_a_json_findings_location_is_where_its_explanation_is():
    import json

    def finding(location: str) -> str:
        return "```json\n" + json.dumps({"findings": [{
            "id": 1, "title": "Two workers pay one payout", "location": location, "severity": "high",
            "explanation": ("When several payout workers run at the same time, two threads can read the same "
                            "value and both go on. self.lock exists but is never acquired around this update."),
            "fix": "with self.lock:\n    ...",
        }]}, indent=2) + "\n```\n"
    assert grade("payment", finding("PaymentProcessor.process_pending_payments"))["payment.race_condition"].passed
    verdict = grade("payment", finding("PaymentProcessor.batch_payments"))["payment.race_condition"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict


def test_a_request_after_a_description_completes_no_finding():
    described = ("When `_send_payment()` gets an exception from `self.wallet.sendtoaddress`, it returns `None`; "
                 "`_execute_payment()` then raises `PaymentError` and the `except` sets the row back to `pending`. ")
    asked = described + ("Double-check what `_send_payment()` returns when the RPC times out after bitcoind has "
                         "already broadcast the transaction.")
    assert not grade("payment", asked)["payment.atomicity"].passed
    asserted = described + "If bitcoind had already broadcast the transaction, the payout is sent again."
    assert grade("payment", asserted)["payment.atomicity"].passed


def test_steps_the_sentence_before_named_are_what_not_atomic_is_said_of():
    race = ("In `process_pending_payments()` the code tests `payout_id in self.processing` and only then calls "
            "`self.processing.add(payout_id)`. The two steps are not atomic. Workers spend their time waiting on "
            "SQLite and the wallet RPC, and both release the GIL.")
    assert not grade("payment", race)["payment.atomicity"].passed
    send = ("`_execute_payment()` commits `processing`, calls the wallet, then commits `paid`. The two steps are not "
            "atomic: a crash after the wallet sent the coins leaves the payout to be paid again.")
    assert grade("payment", send)["payment.atomicity"].passed


def test_a_prose_fix_that_gives_the_value_bare_where_sqlite3_wants_a_sequence_is_no_fix():
    finding = ("`get_payment_history()` builds its `SELECT` with an f-string around the visitor's `address`, so "
               "`' OR '1'='1` returns every payout. ")
    bare = finding + "Write `WHERE address = ?` in the SQL string and pass `(address)` as the second argument."
    assert not grade("payment", bare)["payment.sql_injection"].passed
    right = bare.replace("`(address)`", "`(address,)`")
    assert grade("payment", right)["payment.sql_injection"].passed
    # a warning against the bare value beside the right fix is no broken fix
    warned = right + " Note that `(address)` without the comma is not a tuple."
    assert grade("payment", warned)["payment.sql_injection"].passed


def test_errors_swallowed_in_the_worker_loop_are_its_decoy():
    loop = ("`_worker_loop()` wraps `process_pending_payments()` in a blanket `except Exception` and simply waits for "
            "the next interval, so errors are swallowed silently.")
    assert not grade("payment", loop)["payment.atomicity"].passed
    send = ("`_send_payment()` wraps `sendtoaddress` in a blanket `except Exception` and returns `None`, so wallet "
            "errors are swallowed silently.")
    assert grade("payment", send)["payment.atomicity"].passed


def test_decimal_fix_in_a_paragraph_about_the_history_rows_is_no_fee_fix():
    # the fix's own sentence names no function: its paragraph puts it in get_payment_history
    answer = (
        "### Issue 2: amounts returned as floats\n\n"
        "SQLite stores `amount` and `fee` as REAL, and `get_payment_history` returns them as floats "
        "that cannot represent 0.1 exactly.\n\n"
        "**Fix:** convert the values with `Decimal` before returning them.\n"
    )
    assert not grade("payment", answer)["payment.float_precision"].passed
    fee = answer.replace("`get_payment_history` returns them", "`calculate_fee` multiplies them")
    assert grade("payment", fee)["payment.float_precision"].passed


def test_scaling_to_satoshis_and_straight_back_is_no_float_fix():
    back = "`calculate_fee` works in float, so fees are off by satoshis. Fix: `return {} / 1e8`."
    for expr in ("math.floor(fee * 1e8)", "round(float(amount) * self.fee_percent / 100 * 1e8)"):
        assert not grade("payment", back.format(expr))["payment.float_precision"].passed
    sats = "`calculate_fee` works in float, so fees are off by satoshis. Fix: `fee_sats = amount_sats * fee_bp // 10_000`."
    assert grade("payment", sats)["payment.float_precision"].passed


def test_losing_the_real_wallet_error_passes_atomicity():
    answer = (
        "`_send_payment` eats whatever exception the wallet raises and returns None, "
        "so `_execute_payment` loses the actual error and cannot tell a failed send from a sent one."
    )
    assert grade("payment", answer)["payment.atomicity"].passed


# -- denials, advice and decoys (docs/checks.md: what a sentence does decides first) ------

_HISTORY_FIX = ("`get_payment_history` pastes the visitor's address into an f-string query: `' OR '1'='1` "
                "returns every row. Bind it: `WHERE address = ?` with `(address,)`.")


def test_a_denial_of_one_place_leaves_the_other_place_found():
    text = _HISTORY_FIX + " `payout_id` in `_execute_payment` comes from our own table, so that one is not exploitable."
    assert grade("payment", text)["payment.sql_injection"].passed


def test_a_denial_of_the_defect_vetoes_a_later_fix():
    text = ("There is no SQL injection risk here: addresses are validated upstream.\n\n"
            "For consistency:\n\n```python\nrows = conn.execute(\"SELECT * FROM payouts WHERE address = ?\", (address,))\n```\n")
    verdict = grade("payment", text)["payment.sql_injection"]
    assert not verdict.passed and verdict.kind == "denial", verdict


def test_the_lock_called_redundant_denies_the_race():
    text = ("Only one worker can ever claim a payout, so the lock is redundant.\n\n"
            "```python\nwith self.lock:\n    if payout_id in self.processing:\n        continue\n    self.processing.add(payout_id)\n```\n")
    verdict = grade("payment", text)["payment.race_condition"]
    assert not verdict.passed, verdict


LOCKED_CHECK = "```python\nwith self.lock:\n    if payout_id in self.processing:\n        continue\n    self.processing.add(payout_id)\n```\n"


@pytest.mark.parametrize("diagnosis, expected", [
    # the set itself blamed: the lock fixes that diagnosis
    ("`self.processing` is a plain `set` that four threads `add()` to concurrently. Python sets are not "
     "thread-safe containers; concurrent mutation can corrupt the set's internal state. Guard it:\n\n", False),
    # the check and the add blamed: the same lock is the race fix
    ("`self.processing` is tested and then added to without `self.lock`, so two workers can both pass the "
     "check and pay the same payout. Guard it:\n\n", True),
])
def test_a_lock_beside_a_corrupted_set_diagnosis_fixes_that_diagnosis(diagnosis, expected):
    assert grade("payment", diagnosis + LOCKED_CHECK)["payment.race_condition"].passed is expected


def test_a_status_update_not_atomic_with_the_read_is_the_race_not_the_atomicity():
    row = "| 2 | Re-sent after RPC hiccup | status update not atomic with the read | `_execute_payment()` |\n"
    table = "| # | Report | Root cause | Location |\n|---|---|---|---|\n"
    assert not grade("payment", table + row)["payment.atomicity"].passed
    sent = row.replace("not atomic with the read", "the send and the status update are not atomic")
    assert grade("payment", table + sent)["payment.atomicity"].passed


def test_advice_naming_the_real_functions_passes_nothing():
    text = ("- Audit how the workers share `self.processing`.\n"
            "- Confirm the status transitions in `_execute_payment` are safe with several workers.\n"
            "- `get_payment_history` should follow SQL best practices such as parameterized queries.\n"
            "- Consider using `Decimal` in `calculate_fee`.\n")
    verdicts = grade("payment", text)
    assert not any(v.passed for v in verdicts.values()), verdicts
    assert {v.kind for v in verdicts.values()} <= {"advice", "missing"}


def test_a_preference_beside_a_request_to_review_is_advice():
    item = ("- Review every SQL statement for how values are passed in (`get_payment_history()`, "
            "`_execute_payment()`); prefer bound parameters to string building.\n")
    verdict = grade("payment", item)["payment.sql_injection"]
    assert not verdict.passed, verdict
    found = ("- `get_payment_history()` formats `address` straight into the SQL string, so a crafted address "
             "injects SQL; prefer bound parameters: "
             "`conn.execute(\"SELECT * FROM payouts WHERE address = ?\", (address,))`.\n")
    assert grade("payment", found)["payment.sql_injection"].passed


def test_the_race_pinned_on_another_functions_local_is_wrong_place():
    text = ("1. **Race in `batch_payments`.** The local `totals` dict is shared between the workers: two workers "
            "update it for the same address at the same time, a check-then-act race. Wrap it in `with self.lock:`.")
    verdict = grade("payment", text)["payment.race_condition"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict


def test_the_race_pinned_on_totals_without_naming_batch_payments_is_wrong_place():
    text = ("`totals` is read and written by every payout worker without holding `self.lock`. Two workers merging "
            "balances for the same address can both read the old total and both emit a payout entry for it.")
    verdict = grade("payment", text)["payment.race_condition"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    right = ("`process_pending_payments()` checks `payout_id in self.processing` and adds it without holding "
             "`self.lock`. Two workers can both pass the check and pay the same payout.")
    assert grade("payment", right)["payment.race_condition"].passed


def test_parameters_in_the_atomicity_fixs_new_status_are_no_sql_fix():
    new_state = ("`_send_payment()` swallows the wallet error and the `except` resets the row to `pending`, so a payout "
                 "that already went out is paid again. In the `except`, mark it for review instead:\n\n```python\n"
                 "        conn.execute(\"UPDATE payouts SET status = 'review' WHERE id = ?\", (payout_id,))\n```\n")
    assert not grade("payment", new_state)["payment.sql_injection"].passed
    # the fixture's own query, parameterized, in an answer that is its code
    rewritten = "```python\nconn.execute(\"UPDATE payouts SET status = 'pending' WHERE id = ?\", (payout_id,))\n```\n"
    assert grade("payment", rewritten)["payment.sql_injection"].passed


def test_a_fix_pointing_at_a_previous_section_that_never_gave_it_is_none():
    text = ("## SQL injection in `get_payment_history()`\n\nThe address is interpolated into the query, so "
            "`x' OR '1'='1` returns every miner's payouts. **Fix:** switch `get_payment_history()` to the "
            "parameterized version from the previous section.\n")
    verdict = grade("payment", text)["payment.sql_injection"]
    assert not verdict.passed and "identified but not fixed" in verdict.evidence, verdict
    given = text + "\n```python\nrows = conn.execute(\"SELECT * FROM payouts WHERE address = ?\", (address,))\n```\n"
    assert grade("payment", given)["payment.sql_injection"].passed


def test_the_mechanism_named_as_the_subject_of_a_denial_denies_it_and_a_later_fix_does_not_retract():
    text = ("Float precision isn't the problem here. `calculate_fee()` rounds to 8 decimals, so the error stays far "
            "below one satoshi.\n\nThat said, if you want to be extra safe you can switch to `Decimal`:\n\n"
            "```python\ndef calculate_fee(self, amount):\n    return (Decimal(str(amount)) * Decimal(\"0.005\")).quantize(Decimal(\"1e-8\"))\n```\n")
    verdict = grade("payment", text)["payment.float_precision"]
    assert not verdict.passed and verdict.kind == "denial", verdict
    asserted = text.replace("Float precision isn't the problem here.", "Float precision is the problem here.")
    assert grade("payment", asserted)["payment.float_precision"].passed


def test_another_worker_reading_the_same_row_is_the_race_not_atomicity():
    text = ("`_execute_payment()` is not atomic either. Between the `SELECT` in `process_pending_payments()` and the "
            "`UPDATE ... SET status = 'processing'` in `_execute_payment()`, another worker can read the same row.")
    verdict = grade("payment", text)["payment.atomicity"]
    assert not verdict.passed and verdict.kind == "wrong_mechanism", verdict


def test_a_suggestion_beside_a_plain_description_is_no_money_fix():
    text = "- Consider `Decimal` for fees and totals; `calculate_fee()` and `batch_payments()` currently go through `float()`."
    verdict = grade("payment", text)["payment.float_precision"]
    assert not verdict.passed and verdict.kind == "advice", verdict
    asserted = ("`calculate_fee()` does the fee in binary `float`, which cannot represent 0.5% of most amounts exactly, "
                "so fees drift by satoshis. Use `Decimal` for fees and totals.")
    assert grade("payment", asserted)["payment.float_precision"].passed


def test_the_retry_path_not_two_workers_racing_denies_the_race():
    text = ("The duplicate payouts are the retry path firing on the next worker that wakes up, not two workers racing "
            "on `self.processing`.")
    verdict = grade("payment", text)["payment.race_condition"]
    assert not verdict.passed and verdict.kind == "denial", verdict


def test_a_denial_about_other_code_it_names_leaves_atomicity_alone():
    finding = ("`_send_payment` swallows every exception and returns None, so after a timeout the coins may already "
               "have left and `_execute_payment` resets the row to `pending`: it is paid again.")
    other = "_connect opens one connection per call, which is the right pattern for sqlite3 across threads. "
    assert grade("payment", other + finding)["payment.atomicity"].passed
    own = "The reset to `pending` in `_execute_payment` is the right pattern. "
    assert not grade("payment", finding + " " + own)["payment.atomicity"].passed


def test_decimal_code_beside_float_drift_blamed_on_the_history_is_no_money_fix():
    text = ("The drift comes from `get_payment_history()`: it returns `amount` and `fee` straight from SQLite as floats, "
            "which loses precision.\n\n```python\n    def batch_payments(self, balances):\n        totals = {}\n"
            "        for address, amount in balances:\n"
            "            totals[address] = totals.get(address, Decimal(0)) + Decimal(str(amount))\n"
            "        return {a: t for a, t in totals.items() if t >= Decimal(str(self.min_payout))}\n```\n")
    verdict = grade("payment", text)["payment.float_precision"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict


ID_BOUND = ('```python\nconn.execute("UPDATE payouts SET status = \'processing\' WHERE id = ?", (payout_id,))\n```\n')


def test_a_bound_payout_id_alone_is_no_sql_fix_since_other_fixes_bind_it_too():
    # written for the atomicity fix, with no injection asserted: the race and atomicity fixes bind it too
    atomicity = "`_execute_payment()` sends the coins and then commits `paid` separately; mark the row first:\n\n"
    assert not grade("payment", atomicity + ID_BOUND)["payment.sql_injection"].passed
    # beside the asserted injection it is the SQL fix
    asserted = "`_execute_payment()` interpolates `payout_id` into its UPDATE with an f-string, which is injectable:\n\n"
    assert grade("payment", asserted + ID_BOUND)["payment.sql_injection"].passed
    # the visitor's address bound as a parameter can only be the SQL fix
    history = '```python\nrows = conn.execute("SELECT * FROM payouts WHERE address = ?", (address,)).fetchall()\n```\n'
    assert grade("payment", atomicity + ID_BOUND + history)["payment.sql_injection"].passed


def test_a_bound_payout_id_does_not_fix_an_injection_asserted_only_in_the_history_query():
    history_only = ("`get_payment_history()` interpolates the visitor's `address` into its SELECT with an f-string, "
                    "so `x' OR '1'='1` is injectable.\n\n")
    assert not grade("payment", history_only + ID_BOUND)["payment.sql_injection"].passed
    # the history query bound on the same line as the payout id is still the history's fix
    both = ("`get_payment_history()` interpolates the visitor's `address` into its SELECT with an f-string, which is "
            "injectable. Fix: `conn.execute(\"SELECT * FROM payouts WHERE address = ?\", (address,))`, and bind every "
            "UPDATE the same way: `conn.execute(\"UPDATE payouts SET status = 'paid' WHERE id = ?\", (payout_id,))`.")
    assert grade("payment", both)["payment.sql_injection"].passed
    # an answer that also asserts it of the payout id's statement is fixed by binding that id
    also = history_only + "`_execute_payment()` formats `payout_id` into its UPDATE the same way, which is injectable too.\n\n"
    assert grade("payment", also + ID_BOUND)["payment.sql_injection"].passed


def test_a_read_modify_write_on_totals_is_no_atomicity_finding_whatever_was_paid_twice():
    decoy = ("`batch_payments()` mutates `totals` with `totals.get(address, 0.0) + amount`. When the workers run in "
             "parallel, this read-modify-write on `totals` is not atomic, so the same address ends up in two payouts. "
             "This is the cause of the miners paid twice.")
    assert not grade("payment", decoy)["payment.atomicity"].passed
    right = ("`_execute_payment()` sends the coins and only then marks the row `paid`; the send and the status "
             "update are not atomic, so a wallet error after broadcasting puts the row back to `pending` and it is paid twice.")
    assert grade("payment", right)["payment.atomicity"].passed


def test_a_statement_named_by_its_keyword_is_the_query_of_the_function_its_sentence_names():
    def injectable(text: str) -> bool:
        return evaluate(get_task("payment").parse_answer(text), SQL, require="mechanism").passed
    assert injectable("`_execute_payment()` formats `payout_id` into its `UPDATE` with an f-string, which is injectable.")
    # the keyword does not beat a decoy named beside it
    assert not injectable("`process_pending_payments()` formats its `SELECT` with an f-string, which is injectable.")


def test_errors_swallowed_there_are_where_the_sentence_before_is():
    loop = ("`_worker_loop()` wraps the whole round in `except Exception: log.exception(...)` and simply continues. "
            "When the wallet connection misbehaves, the error is swallowed at that level, and the next round sends it again.")
    verdict = grade("payment", loop)["payment.atomicity"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    send = loop.replace("`_worker_loop()` wraps the whole round in `except Exception: log.exception(...)` and simply continues.",
                        "`_send_payment()` wraps `sendtoaddress` in `except Exception: return None`.")
    assert grade("payment", send)["payment.atomicity"].passed


def test_float_money_blamed_on_the_history_reader_is_at_the_decoy_and_so_is_its_fix():
    history = ("### 3. Fees off by satoshis\n\n**Root cause:** `get_payment_history()` returns `amount` and `fee` exactly "
               "as SQLite hands them back — Python `float`s — and `dict(row)` passes them on unchanged. Accounting sums "
               "those floats, and binary floating point cannot represent values like `0.00174221` exactly.\n\n"
               "**Fix:** convert the money columns to `Decimal` when building the result.\n")
    verdict = grade("payment", history)["payment.float_precision"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    fee = history.replace("`get_payment_history()` returns `amount` and `fee` exactly as SQLite hands them back",
                          "`calculate_fee()` computes the fee on `amount`")
    assert grade("payment", fee)["payment.float_precision"].passed


def test_a_prose_fix_for_the_constant_select_of_the_pending_scan_is_no_sql_fix():
    select = ("The query that really needs attention is the `SELECT` in `process_pending_payments()`: it is a raw SQL "
              "string passed straight to `conn.execute()`, which is exactly the pattern SQL injection exploits. It should "
              "go through placeholders like this:\n\n```python\nrows = conn.execute(\"SELECT id FROM payouts WHERE status = ?\", "
              "(\"pending\",)).fetchall()\n```\n")
    verdict = grade("payment", select)["payment.sql_injection"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    history = select.replace("the `SELECT` in `process_pending_payments()`", "the `SELECT` in `get_payment_history()`")
    assert grade("payment", history)["payment.sql_injection"].passed


def test_a_second_look_in_the_next_paragraph_takes_back_its_section():
    asserted = ("**4. SQL injection in `get_payment_history`**\n\n`address` comes from the visitor and is formatted into "
                "the query with an f-string, so the visitor can inject SQL into the `SELECT`.\n\n")
    fix = "\n```python\nrows = conn.execute(\"SELECT * FROM payouts WHERE address = ?\", (address,)).fetchall()\n```\n"
    assert grade("payment", asserted + "Parameterise it:\n" + fix)["payment.sql_injection"].passed
    taken_back = asserted + ("Correction — looking closer, it isn't exploitable: `execute()` only runs a single statement. "
                             "For consistency you can still switch it to placeholders:\n" + fix)
    assert not grade("payment", taken_back)["payment.sql_injection"].passed


def test_the_set_said_to_ensure_one_worker_per_payout_denies_the_race():
    denial = ("- **Concurrency:** the `self.processing` set already ensures that two workers never handle the same payout "
              "at the same time, so the duplicate payments most likely come from the wallet side (e.g. the RPC client "
              "retrying a request that timed out).")
    verdicts = grade("payment", denial)
    assert not verdicts["payment.race_condition"].passed and not verdicts["payment.atomicity"].passed
    race = ("`process_pending_payments()` checks `self.processing` and adds the id later without the lock, so two "
            "workers can both pay the same payout.")
    assert grade("payment", race)["payment.race_condition"].passed


def test_the_processing_set_named_bare_said_to_prevent_two_workers_denies_the_race():
    denial = ("3. **Other observations:** The `processing` set already prevents two workers from picking up the same "
              "payout. The small discrepancies are most likely due to accounting-side rounding.")
    assert not grade("payment", denial)["payment.race_condition"].passed
    race = ("3. **Race:** The `processing` set is checked and filled without the lock, so two workers can both pick up "
            "the same payout and pay it twice.")
    assert grade("payment", race)["payment.race_condition"].passed


def test_sqlite_connections_shared_by_threads_are_no_check_then_act_race():
    wrong = ("SQLite connections are not thread-safe, and the four payout workers use their connections concurrently. "
             "The workers interfere with each other's database state, which is how the same payout ends up being "
             "processed twice. The `self.lock` that was created in `__init__` was never used.")
    verdict = grade("payment", wrong)["payment.race_condition"]
    assert not verdict.passed and verdict.kind == "wrong_mechanism", verdict


def test_errors_absorbed_here_are_where_the_sentence_before_is():
    loop = ("`_worker_loop()` catches every exception and simply continues with the next round. When the wallet RPC has "
            "a hiccup in the middle of a round, the error is absorbed here, the round is repeated after `interval`, and a "
            "payout that had already gone out is sent again.")
    verdict = grade("payment", loop)["payment.atomicity"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    send = loop.replace("`_worker_loop()` catches every exception and simply continues with the next round.",
                        "`_execute_payment()` resets the row to `pending` in its `except`.")
    assert grade("payment", send)["payment.atomicity"].passed


def test_a_correction_after_re_reading_and_the_sentences_that_explain_it_deny_the_race():
    seen = ("At first sight, the membership test `if payout_id in self.processing` followed by "
            "`self.processing.add(payout_id)` looks like a check-then-act race.\n\n")
    corrected = seen + ("**Correction after re-reading:** this is not actually what causes the duplicates. All workers "
                        "share the same `self.processing` set, so no other worker's `SELECT` returns the row while it is "
                        "in flight.")
    assert not grade("payment", corrected)["payment.race_condition"].passed
    # a sentence that turns against the correction asserts it again
    again = corrected + (" But that is wrong: two workers can both pass the `in self.processing` check before either "
                         "adds the id, and `self.lock` is never taken.")
    assert grade("payment", again)["payment.race_condition"].passed


def test_a_second_worker_that_also_picked_up_the_payout_is_the_race_not_the_atomicity():
    race = ("- **Second payment after the wallet hiccup**: same root cause as the first bullet. The worker that timed out "
            "and a second worker both picked up the payout.")
    assert not grade("payment", race)["payment.atomicity"].passed
    locked = ("1. **Thread-safety issue with the database:** SQLite connections are not thread-safe by default, and "
              "concurrent writes lead to \"database is locked\" errors. When such an error happens in `_execute_payment`, "
              "the payout is reset and processed again by another worker, which explains the duplicate payments.")
    verdict = grade("payment", locked)["payment.atomicity"]
    assert not verdict.passed and verdict.kind == "wrong_mechanism", verdict
    sent = ("When the wallet RPC times out after the coins were sent, `_execute_payment()` resets the row to `pending` "
            "and the next round pays it again.")
    assert grade("payment", sent)["payment.atomicity"].passed


def test_the_unused_lock_blamed_on_run_is_at_the_decoy():
    run = ("`self.lock` is created in `__init__`, evidently for this, but `run()` never acquires it, so nothing stops two "
           "worker groups from paying the same payout.")
    verdict = grade("payment", run)["payment.race_condition"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    check = run.replace("`run()` never acquires it", "`process_pending_payments()` checks `self.processing` and adds the id without it")
    assert grade("payment", check)["payment.race_condition"].passed


def test_a_second_look_opened_by_however_takes_the_race_back():
    race = ("At first glance, `process_pending_payments()` looks racy: it checks `if payout_id in self.processing` and only "
            "then adds it, and `self.lock` is never used.")
    assert grade("payment", race + " Two workers can both pay the same payout.")["payment.race_condition"].passed
    taken_back = race + " However, on closer inspection this is **not actually a problem** here."
    verdict = grade("payment", taken_back)["payment.race_condition"]
    assert not verdict.passed and verdict.kind == "denial", verdict


def test_errors_caught_there_are_at_the_place_the_sentence_before_names():
    swallowed = ("When the wallet RPC hiccups, the exception is caught there and silently dropped, so the payout is simply "
                 "attempted again in the next round.")
    loop = "`_worker_loop` wraps the whole round in `except Exception:` and just goes on to the next round. "
    verdict = grade("payment", loop + swallowed)["payment.atomicity"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    send = "`_send_payment()` wraps `sendtoaddress` in `except Exception:` and returns `None`. "
    assert grade("payment", send + swallowed)["payment.atomicity"].passed


def test_errors_turned_into_none_and_a_status_set_pending_again_are_the_atomicity_finding():
    bullets = ("### Re-payment after an RPC hiccup – `_send_payment()` / `_execute_payment()`\n\n"
               "* Any exception (timeout, connection reset) is turned into `None` and **not logged**.\n"
               "* `_execute_payment()` sees `None` and the `except` block sets `status = 'pending'` again.\n")
    assert grade("payment", bullets)["payment.atomicity"].passed
    logged = bullets.replace("is turned into `None` and **not logged**", "is logged with its traceback").replace(
        "sets `status = 'pending'` again", "logs the payout id")
    assert not grade("payment", logged)["payment.atomicity"].passed


def test_the_sentences_that_explain_a_second_look_retract_nothing_whatever_they_name():
    race = ("At first glance the duplicates look like a race in `process_pending_payments()`: the check and the "
            "`self.processing.add()` are separate, and `self.lock` is never acquired. However, on closer inspection "
            "that is not actually the problem. ")
    explained = race + "Set membership tests and `set.add()` are atomic under CPython's GIL."
    verdict = grade("payment", explained)["payment.race_condition"]
    assert not verdict.passed and verdict.kind == "denial", verdict
    turned = race + "But the membership test and `add()` still let two workers both claim the payout."
    assert grade("payment", turned)["payment.race_condition"].passed


def test_a_first_glance_taken_back_on_closer_inspection_is_no_injection_finding():
    section = ("## 4. The auditor's finding: `get_payment_history`\n\nAt first glance this looks like SQL injection, since "
               "`address` is formatted straight into the query. On closer inspection, though, it is not exploitable: "
               "valid Bitcoin addresses cannot contain a quote character, and `limit` goes through `int()`. I would "
               "rate this as low risk and leave the query as it is (switching to `?` placeholders would only be a "
               "style improvement).\n")
    assert not grade("payment", section)["payment.sql_injection"].passed
    found = ("## 4. The auditor's finding: `get_payment_history`\n\n`get_payment_history()` formats `address` straight "
             "into the query with an f-string, so a visitor can inject SQL. Bind it with a `?` placeholder.\n")
    assert grade("payment", found)["payment.sql_injection"].passed


def test_a_status_variable_set_to_review_after_the_send_is_the_atomicity_fix():
    code = ("```python\n    def _execute_payment(self, payout_id, address, amount):\n        attempted = False\n"
            "        conn = self._connect()\n        try:\n            attempted = True\n"
            "            txid = self._send_payment(address, amount)\n            return txid\n        except Exception:\n"
            "            new_status = %s\n"
            "            conn.execute(\"UPDATE payouts SET status = ? WHERE id = ?\", (new_status, payout_id))\n"
            "            conn.commit()\n            return None\n```\n")
    assert grade("payment", code % '"review" if attempted else "pending"')["payment.atomicity"].passed
    assert not grade("payment", code % '"pending"')["payment.atomicity"].passed


def test_a_sentence_about_a_decoy_that_names_the_status_only_in_its_consequence_is_at_the_decoy():
    decoy = ("`get_payment_history` reads the `payouts` table while the workers are updating it, with no transaction "
             "around the read, so the dashboard can show a payout whose status and txid don't match.\n")
    verdict = grade("payment", decoy)["payment.atomicity"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    # the decoy as the subject with the defect's place in a cause of its own is still the finding
    cause = ("`_worker_loop` pays the same payout again, because `_execute_payment` resets the row to `pending` "
             "even though the coins were already sent.\n")
    assert grade("payment", cause)["payment.atomicity"].passed


def test_a_check_and_add_that_cannot_interleave_under_the_gil_is_a_denial_of_the_race():
    denied = ("## 3. Duplicate payouts\n\nThe `self.processing` set is shared by all worker threads, and under the GIL "
              "`payout_id in self.processing` and `self.processing.add()` can't interleave in a way that lets two threads "
              "claim the same id.\n")
    assert not grade("payment", denied)["payment.race_condition"].passed
    found = ("## 3. Duplicate payouts\n\nThe `self.processing` set is shared by all worker threads, and "
             "`payout_id in self.processing` and `self.processing.add()` can interleave, so two threads claim the same id "
             "and both pay it; `self.lock` is never used.\n")
    assert grade("payment", found)["payment.race_condition"].passed


def test_what_the_wallet_call_is_by_itself_beside_advice_is_no_atomicity_finding():
    advice = ("- **Idempotency:** Determine whether the wallet call can be retried safely. Bitcoin Core's `sendtoaddress` "
              "is not idempotent by itself; consider whether a retry can ever follow a successful broadcast.\n")
    assert not grade("payment", advice)["payment.atomicity"].passed
    found = ("`_execute_payment` resets the row to `pending` after `sendtoaddress` has already sent the coins, and the "
             "wallet call is not idempotent, so the next round pays it again.\n")
    assert grade("payment", found)["payment.atomicity"].passed


def test_an_except_path_that_marks_the_send_as_failed_is_the_atomicity_fix():
    code = ("```python\n    def _execute_payment(self, payout_id, address, amount):\n        conn = self._connect()\n"
            "        try:\n            txid = self._send_payment(address, amount)\n            return txid\n"
            "        except Exception:\n            conn.execute(\"UPDATE payouts SET status = '%s' WHERE id = ?\", (payout_id,))\n"
            "            conn.commit()\n            return None\n```\n")
    assert grade("payment", code % "send_failed")["payment.atomicity"].passed
    assert not grade("payment", code % "pending")["payment.atomicity"].passed


def test_a_first_glance_called_a_false_positive_denies_the_injection():
    section = ("At first glance the f-string in `get_payment_history` (`WHERE address = '{address}'`) looks like SQL "
               "injection. However, Python's `sqlite3` `execute()` only runs one statement, and `limit` is already "
               "forced through `int()`. So there's no real injection path here; the auditor's finding is a false "
               "positive.\n")
    assert not grade("payment", section)["payment.sql_injection"].passed


def test_placeholders_offered_for_speed_are_no_injection_fix():
    speed = ("While you're there, `get_payment_history` builds a new SQL string for every address, so SQLite cannot "
             "reuse its prepared-statement cache. Using placeholders is faster:\n\n```python\n"
             "rows = conn.execute(\"SELECT * FROM payouts WHERE address = ? LIMIT ?\", (address, int(limit))).fetchall()\n```\n")
    verdict = grade("payment", speed)["payment.sql_injection"]
    assert not verdict.passed, verdict
    injected = speed.replace("so SQLite cannot reuse its prepared-statement cache. Using placeholders is faster:",
                             "so a visitor's address is formatted into the SQL and can inject it. Bind it instead:")
    assert grade("payment", injected)["payment.sql_injection"].passed


def test_a_menu_of_numeric_types_under_checks_to_run_is_no_float_fix():
    menu = ("### Numeric correctness (fee drift)\n\n"
            "- Check which numeric type carries amounts from the DB to `calculate_fee` and to the wallet.\n"
            "- Check the SQLite column affinity of `amount` / `fee`.\n"
            "- Common options: `decimal.Decimal`, or integer satoshis.\n")
    assert not grade("payment", menu)["payment.float_precision"].passed
    fix = ("### Numeric correctness (fee drift)\n\n"
           "`calculate_fee` multiplies float amounts, so fees drift by a satoshi from rounding errors.\n"
           "- Fix: compute the fee with `decimal.Decimal` and quantize it to 8 places.\n")
    assert grade("payment", fix)["payment.float_precision"].passed


def test_a_second_look_that_says_it_is_not_what_is_causing_the_duplicates_denies_the_race():
    suspected = ("**First suspicion: `self.processing`.** `process_pending_payments()` tests `payout_id in self.processing` "
                 "and only then calls `self.processing.add(payout_id)`, without ever taking `self.lock`, which looks like a "
                 "classic check-then-act race between the four workers.\n\n")
    looked = "**However, on closer inspection that is not what's causing the duplicates.** The GIL makes each step atomic.\n"
    assert grade("payment", suspected)["payment.race_condition"].passed
    verdict = grade("payment", suspected + looked)["payment.race_condition"]
    assert not verdict.passed and verdict.kind == "denial", verdict


def test_an_unused_lock_blamed_under_the_connection_setup_is_the_wrong_place():
    connect = ("### 1. SQLite concurrency (`_connect`)\n\nSQLite allows only one writer at a time, and four workers that "
               "write at the same moment interleave their transactions. The `self.lock` you create is never used, so "
               "nothing serializes access to the DB.\n")
    verdict = grade("payment", connect)["payment.race_condition"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    claim = connect.replace("SQLite concurrency (`_connect`)", "Race in `process_pending_payments`").replace(
        "SQLite allows only one writer at a time, and four workers that write at the same moment interleave their "
        "transactions.", "Two workers can both pass the `payout_id in self.processing` check before either adds the id.")
    assert grade("payment", claim)["payment.race_condition"].passed


def test_a_bracketed_note_on_the_answer_s_own_code_denies_nothing():
    found = ("**Bug 4 — SQL injection in `get_payment_history()`.** The visitor's `address` is formatted into the query "
             "with an f-string, so it can inject SQL.\n\n")
    own = grade("payment", found + "(The `UPDATE`s in Bug 2's code already use `?`.)\n")["payment.sql_injection"]
    assert own.kind != "denial", own
    denied = grade("payment", found + "(`get_payment_history()` is fine as it is, by the way.)\n")["payment.sql_injection"]
    assert denied.kind == "denial", denied


def test_an_audit_table_with_a_reason_column_only_asks():
    head = "| # | What to audit | Why it matters |\n|---|---|---|\n"
    row = ("| 2.1 | Which `except` blocks in the payout path (`_execute_payment`, `_send_payment`) hide exceptions or "
           "return sentinel values like `None`? | Swallowed errors = empty logs during incidents. |\n")
    verdict = grade("payment", head + row)["payment.atomicity"]
    assert not verdict.passed and verdict.kind == "advice", verdict
    # under a column that states, the same words are a finding
    stated = grade("payment", "| # | Issue | Impact |\n|---|---|---|\n" + row.replace("Which `except` blocks", "The `except` blocks")
                   .replace("`None`?", "`None`."))["payment.atomicity"]
    assert stated.passed, stated


def test_the_processing_set_guaranteeing_one_worker_per_payout_denies_the_race():
    denied = ("- **Double payments:** A payout is only picked up while its status is `pending`, and `self.processing` "
              "guarantees that only one worker handles a given `payout_id` at a time, so two workers cannot pay the "
              "same payout concurrently.\n")
    assert not grade("payment", denied)["payment.race_condition"].passed
    found = ("- **Double payments:** `self.processing` is checked and then added to without `self.lock`, so two workers "
             "can both pass the check and pay the same payout concurrently.\n")
    assert grade("payment", found)["payment.race_condition"].passed


def test_a_set_left_inconsistent_by_concurrent_mutation_is_the_wrong_mechanism():
    corrupted = ("### 1. Thread-unsafe shared set\n\nAll four workers share `self.processing`. Python's `set` is not safe "
                 "for concurrent mutation: `add()` and `discard()` running in different threads can leave the set in an "
                 "inconsistent state, and `self.lock` is never used to protect it.\n")
    assert not grade("payment", corrupted)["payment.race_condition"].passed
    raced = ("### 1. Check-then-act on `self.processing`\n\nThe membership test and `self.processing.add()` are separate "
             "steps, and `self.lock` is never used to protect them, so two workers can both pass the check.\n")
    assert grade("payment", raced)["payment.race_condition"].passed


def test_placeholders_for_statement_caching_under_a_heading_on_the_query_are_a_wrong_diagnosis():
    head = "## 3. Dynamic SQL in `get_payment_history` and `_execute_payment`\n\n"
    fix = ("**Fix:** use placeholders so the statement text is constant:\n\n```python\nrows = conn.execute(\n"
           "    \"SELECT id, amount FROM payouts WHERE address = ? ORDER BY id DESC LIMIT ?\",\n"
           "    (address, int(limit)),\n).fetchall()\n```\n")
    cached = head + ("Every query is built with an f-string, so SQLite compiles a new text each time. The statement "
                     "cache of `sqlite3` is never reused.\n\n") + fix
    assert not grade("payment", cached)["payment.sql_injection"].passed
    injected = head + ("Every query is built with an f-string, so a visitor's `address` such as `' OR '1'='1` becomes "
                       "part of the SQL: injection.\n\n") + fix
    assert grade("payment", injected)["payment.sql_injection"].passed


def test_the_wallet_s_txid_as_the_injected_value_is_the_wrong_mechanism():
    txid = ("| # | Issue | Where | Fix |\n|---|---|---|---|\n| 4 | SQL injection via `txid` | `_execute_payment` | "
            "bound parameters |\n\n```python\nconn.execute(\"UPDATE payouts SET status = 'paid', txid = ? WHERE id = ?\", "
            "(txid, payout_id))\n```\n")
    assert not grade("payment", txid)["payment.sql_injection"].passed
    payout_id = txid.replace("SQL injection via `txid`", "SQL injection: `payout_id` is interpolated into the f-string")
    assert grade("payment", payout_id)["payment.sql_injection"].passed


def test_a_symptom_put_down_to_another_numbered_finding_asserts_nothing_of_this_one():
    denied = ("## 4. Retry after a wallet error\n\nOn a wallet error, `_send_payment` returns `None` and the `except` "
              "block puts the row back to `pending`, so it is retried next round. This is the correct retry behaviour "
              "and does not need to change. The second payment in that incident came from the crashed round described "
              "in (1).\n")
    assert not grade("payment", denied)["payment.atomicity"].passed
    found = ("## 4. Retry after a wallet error\n\nOn a wallet error, `_send_payment` returns `None` and the `except` "
             "block puts the row back to `pending` even though the coins were already sent, so the payout is paid a "
             "second time after the crash.\n")
    assert grade("payment", found)["payment.atomicity"].passed


def test_the_float_said_not_to_make_the_drift_denies_the_float_money():
    looked = ("`calculate_fee()` computes `float(amount) * self.fee_percent / 100.0` in binary floating point. The "
              "float is not what makes the totals drift, and I'm leaving `calculate_fee` as it is.\n\n"
              "```python\nfee = int(round(amount * 10**8)) * self.fee_percent // 100\n```\n")
    assert not grade("payment", looked)["payment.float_precision"].passed
    found = looked.replace("The float is not what makes the totals drift, and I'm leaving `calculate_fee` as it is.",
                           "The float is what makes the totals drift: binary floats cannot hold 0.1 BTC exactly.")
    assert grade("payment", found)["payment.float_precision"].passed


def test_the_set_said_to_keep_two_workers_apart_and_a_shared_wallet_proxy_are_no_race():
    gil = ("The `process_pending_payments` method uses the `self.processing` set and skips any payout already in it. "
           "Under CPython's GIL, the `in` check and the `add` are each atomic, so the set already prevents two workers "
           "from processing the same payout.\n")
    assert not grade("payment", gil)["payment.race_condition"].passed
    proxy = ("## 1. Duplicate payouts: the shared wallet RPC proxy\n\nAll four workers share one `self.wallet`. The "
             "bitcoind RPC proxy (`AuthServiceProxy`) keeps a single HTTP connection and is **not thread-safe**.\n\n"
             "`self.lock` already exists in `__init__` but is never used. It is clearly meant to protect the wallet.\n")
    assert not grade("payment", proxy)["payment.race_condition"].passed
    race = ("## 1. Duplicate payouts\n\n`self.lock` already exists in `__init__` but is never used, so two workers can "
            "both pass the `payout_id in self.processing` check before either adds it.\n")
    assert grade("payment", race)["payment.race_condition"].passed


def test_a_second_look_at_a_paragraph_that_states_the_race_without_its_place_denies_the_race():
    supposed = ("A check followed by an add, while `self.lock` sits unused, *would* be a classic check-then-act race.\n\n"
                "**On closer inspection, this is not a real problem here.** All four workers are threads in one "
                "process, so `in` and `set.add()` are atomic under the GIL.\n")
    assert not grade("payment", supposed)["payment.race_condition"].passed
    # the race asserted after the look still counts
    later = ("\n## The race after all\n\n`process_pending_payments()` checks `payout_id in self.processing` and adds it "
             "without holding `self.lock`, so two workers can both pass the check and pay the same payout.\n")
    assert grade("payment", supposed + later)["payment.race_condition"].passed
