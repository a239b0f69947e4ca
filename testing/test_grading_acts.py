"""What a sentence does, decided before any rule: assertion, advice (vague, soft, concrete) or quote."""

from __future__ import annotations

import pytest

from llmbench.grading.acts import (
    ADVICE,
    ASSERTION,
    QUOTE,
    asserted_part,
    classify,
    clauses,
    continues_previous,
    is_soft,
    is_unsettled,
    is_vague,
)


@pytest.mark.parametrize("text", [
    "`window_size` is computed but never used.",
    "Two workers can both pass the `payout_id in self.processing` test.",
    "An attacker could inject SQL through the address.",
    "The socket is created in `__init__`, so create it in `_listen` instead.",
    "TOCTOU race on `self.processing`",
    "Set membership test is not atomic.",
    "Log lines grow by a megabyte per block.",
    "Use of float for money loses precision.",
    "`_validate_share` never verifies the submitted job_id.",
    "`window_size` should be passed to the query but never is.",
    "Float is generally wrong for money here: `calculate_fee` loses satoshis.",
    "It's a race: two workers can both claim the payout.",
    "You might see duplicate payouts when two workers run.",            # a symptom, not a suggestion
    "If the wallet call times out, the row goes back to `pending`.",   # a condition on an assertion
    "In `_listen`, the socket is used from another thread.",            # a scene phrase before an assertion
    "With the lock unused, two workers can pay the same payout.",
    "Independently of the lock, `recent_shares` grows forever.",
    "`_build_header` packs the hash as-is, so miners hash the wrong header.",
    # a reason about this code, then a request: the finding stands
    "`self.socket` is used from two threads, so it is worth moving it into `_listen()`.",
    "The socket is shared with the listener thread, so it is worth confirming who closes it.",
    # "I'd" before a verb of opinion or expectation still asserts
    "I'd say `window_size` is computed but never used.",
    "I'd expect duplicate payouts: two workers can both pass the `payout_id in self.processing` test.",
    # a colon inside inline code ends no clause: "return None" is code, not a request
    "`_send_payment()` wraps `self.wallet.sendtoaddress()` in `except Exception: return None`.",
    # a condition after an assertion is still the assertion's
    "`calculate_fee()` goes through `float()`; if the amount has 8 decimals, the fee loses a satoshi.",
])
def test_assertions(text):
    assert classify(text) == ASSERTION


@pytest.mark.parametrize("text", [
    "Audit how the workers share `self.processing`.",
    "Confirm the status transitions are safe with several workers.",
    "`get_payment_history` should follow SQL best practices such as parameterized queries.",
    "Make sure the socket is not shared.",
    "Double-check that `window_size` is actually passed to `_last_shares`.",
    "Is the daemon thread the right choice for `_listen()`?",
    "- `start()`: verify thread use",
    "Consider bounding `recent_shares` in `_handle_submit`.",
    "Log only the hash.",
    "Fix: move the socket into `_listen`.",
    "previousblockhash must be byte-reversed in `_build_header`.",
    "I'd make the window come from `pplns_window`.",
    "Still, to make operations easier I'd send those rows to a separate state instead.",
    "I would probably move the socket into `_listen()`.",
    "For money it's generally advisable to consider `Decimal` rather than float in `calculate_fee`.",
    "It is usually recommended to hold `self.lock` around the check.",
    "If you want to be on the safe side, you could consider moving the setup into the listener thread:",
    "To be safe, use `Decimal` in `calculate_fee`.",
    "For the fee differences, you might look at using `decimal.Decimal` in `calculate_fee()`.",
    # a scene phrase before the request
    "With four threads running `process_pending_payments()` in parallel, make sure every access is locked.",
    "Before the next release, audit how `self.processing` is shared.",
    "Independently of C, cap `recent_shares` so it can't grow forever:",
    # a short imperative lead is a request, not a topic label
    "- Review `_send_payment()`: it might be worth logging the wallet exception instead of returning `None`.",
    # ", so …" after a request is its purpose
    "Log the wallet exception in `_send_payment()`, so operators can see what the RPC said.",
    # a bold label before the request: the colon inside the markers still ends the label
    "**Note on fees:** consider `Decimal` for `calculate_fee()` if accounting needs exact satoshis.",
    "Something like `Decimal(str(amount)) * Decimal(\"0.005\")` would be a reasonable starting point.",
    # a general fact that only gives the reason for the request it leads to
    "ZeroMQ's guide is strict about one socket per thread, so it is worth confirming that no two threads ever touch it.",
    "Floats cannot hold most decimal fractions, so you should switch `calculate_fee()` to `Decimal`.",
    # "; otherwise …" is the request's purpose
    "- Make sure `self.context.term()` is only reached after every socket is closed; otherwise `term()` can block.",
    "Follow the ZeroMQ threading model (one socket per thread, share only the context).",
    "- It may also be worth running `tracemalloc` for an hour to see which allocation site grows.",
    # a risk drawn from a general fact, not a finding
    "Bitcoin mixes big-endian display hex and little-endian internal order, so it is easy to get `previousblockhash` wrong.",
    "It's also worth adding a test that runs `process_pending_payments()` from several threads against one DB.",
    # what the request may find hangs on it
    "Compare `calculate_fee()` against a `Decimal` computation for last month's payouts; if they disagree, that's your few satoshis.",
])
def test_advice(text):
    assert classify(text) == ADVICE


def test_copied_text_is_a_quote():
    assert classify("self.share_window = 10000", novel=False) == QUOTE


@pytest.mark.parametrize("text, vague, soft", [
    ("Verify that `_build_header` uses the right byte order.", True, False),
    ("`get_payment_history` should follow SQL best practices.", True, False),
    ("Should `broadcast_job` keep older jobs around?", True, False),
    ("Consider using `Decimal` in `calculate_fee`.", False, True),
    ("Consider evicting entries older than 5 minutes.", False, True),
    ("Use a placeholder: `WHERE address = ?`", False, False),
    ("Make sure the check runs under `with self.lock:`", False, False),   # quotes the code to write
    # a function's name is where, not code to write
    ("Make sure `get_payment_history()` is parameterized.", True, True),
    # a state to check, with code as its example: a fix only beside an asserted finding
    ("Make sure `get_payment_history()` is parameterized, e.g. `conn.execute(\"... WHERE address = ?\")`.",
     False, True),
    ("Ideally reply with a stratum error (code 20) rather than letting the exception escape.", False, True),
    ("Reply with a stratum error (code 20) instead of letting the exception escape.", False, False),
    ("It could make sense to expire old entries in `recent_shares`.", False, True),
    ("A payout row should only go back to `pending` when no coins left the wallet.", False, True),
    # a change to make, not a rule: its 32 bytes must go back to front
    ("Its 32 bytes must go back to front.", False, False),
    # a test to add asks how the code behaves, it changes nothing
    ("Add a test that runs `process_pending_payments()` from several threads.", True, False),
    ("Write a regression test where the wallet raises after sending.", True, False),
    # code names around prose are no code: between `_validate_share()` and (`job_id` is prose
    ("Verify that `_validate_share()` validates against the job the miner submitted (`job_id`) rather than "
     "`self.current_job`.", True, False),
    # a check with what the code does when it fails is code to write
    ("Check that params is a list of 5 strings; otherwise reply with stratum error 20 instead of raising.", False, False),
    # a change under a condition the answer never settles, and a recommendation in the first person
    ("If it isn't, wire it to the config, e.g. `self.share_window = config.get(\"pplns_window\", 10000)`", False, True),
    ("I'd suggest adding a check before the unpack and replying with a stratum error rather than raising.", False, True),
    # a code condition is no hedge
    ("Fix: if not isinstance(params, list) or len(params) < 5: reply error 20 and return.", False, False),
    # a state to check with an example, and a change for a cause not yet settled
    ("Make sure `PPLNSManager.__init__` actually takes the window from the config, e.g. "
     "`self.share_window = config.get(\"pplns_window\", 10000)`.", False, True),
    ("If socket ownership turns out to be the issue, the usual pattern is to create the socket inside the thread.",
     False, True),
    # a state to check, with an adverb and a dotted name before it
    ("Make sure `self.share_window` is actually populated from the configuration, e.g. "
     "`self.share_window = config.get(\"pplns_window\", 10000)`.", False, True),
    # a rule about a kind of thing, the program's value one example of it
    ("Avoid magic numbers such as `10000` in constructors; prefer named defaults.", True, False),
    ("Replace the literal `10000` in `__init__` with the configured `pplns_window`.", False, False),
])
def test_vague_and_soft_advice(text, vague, soft):
    assert (is_vague(text), is_soft(text)) == (vague, soft)


def test_sql_placeholder_is_no_question():
    assert classify("WHERE id = ?") == ASSERTION


def test_clauses_split_at_coordinators_not_inside_a_request():
    assert clauses("X is fine: the block is public, but it leaks") == ["X is fine", "the block is public", "it leaks"]
    assert clauses("Make sure that the socket is not shared") == ["Make sure that the socket is not shared"]



def test_an_arrow_between_two_code_names_is_a_call_path_not_a_clause_break():
    path = ("I'd recommend auditing how the submitted `job_id` flows through `_handle_submit()` → "
            "`_validate_share()` and making sure each share is checked.")
    assert len(clauses(path)) == 1 and classify(path) == ADVICE
    # between prose, or prose and code, it still parts two clauses
    assert clauses("The header is wrong → reverse it.") == ["The header is wrong", "reverse it."]
    assert clauses("It is never pruned -> `recent_shares` grows.") == ["It is never pruned", "`recent_shares` grows."]


def test_a_subordinate_clause_does_not_turn_a_request_into_an_assertion():
    assert classify("Consider whether `stop()` is safe while `_listen()` is blocked in `recv`.") == ADVICE
    assert classify("`stop()` closes the socket while `_listen()` is blocked in `recv`.") == ASSERTION


@pytest.mark.parametrize("text", [
    "It could make sense to expire old entries in `recent_shares`.",
    "A good next step would be to add a test that starts and stops the listener in a loop.",
    "Something along these lines for the socket setup could be a starting point:",
])
def test_a_suggested_step_is_advice(text):
    assert classify(text) == ADVICE


def test_a_second_that_object_of_a_request_is_part_of_the_request():
    assert classify("Make sure `get_payment_history()` is parameterized, and that the web layer validates "
                    "the address.") == ADVICE
    assert classify("Make sure `get_payment_history()` is parameterized, and the web layer validates "
                    "nothing.") == ASSERTION


def test_the_asserted_part_blanks_the_request_clauses():
    sentence = ("Resetting a row to `pending` is a strong decision, so confirm it is only done "
                "when no coins left the wallet.")
    asserted = asserted_part(sentence)
    assert len(asserted) == len(sentence)
    assert "strong decision" in asserted and "coins" not in asserted and "confirm" not in asserted
    finding = "The socket is created in `__init__`, so create it in `_listen` instead."
    assert "created in `__init__`" in asserted_part(finding) and "_listen" not in asserted_part(finding)
    assert asserted_part("`window_size` is never used.") == "`window_size` is never used."


@pytest.mark.parametrize("text, continues", [
    ("- The same applies to the `UPDATE` statements in `_execute_payment()`.", True),
    ("Same for `batch_payments()`.", True),
    ("Likewise for the `UPDATE`s.", True),
    ("The same worker can claim the payout twice.", False),
])
def test_a_continuation_extends_the_unit_before(text, continues):
    assert continues_previous(text) is continues


def test_a_hypothetical_asserts_nothing():
    text = ("Since the dashboard still shows `window_limit: 10000`, confirm whether `self.share_window` is ever "
            "populated from `config`, because if it is a fixed literal it would override your JSON.")
    assert "override" not in asserted_part(text)
    assert "override" in asserted_part("`self.share_window` is a fixed literal, so it overrides your JSON.")


@pytest.mark.parametrize("sentence, word", [
    # a condition, a comma, then what would follow
    ("As for the 50,000 setting: if `self.share_window` is a fixed literal in your build, it would override your JSON.",
     "fixed literal"),
    ("If your config loader maps keys elsewhere, it may also be that `pplns_window` is read under another name.",
     "another name"),
    # a condition the answer never settles
    ("If it turns out the value isn't wired to the config, the usual pattern is:", "wired"),
    # "if …, then … would", after a bold title and across an aside with its own comma
    ("**Re-payment after the RPC hiccup.** If `sendtoaddress` can raise after broadcasting (for example when the "
     "response times out), then resetting the row to `pending` in `_execute_payment()` would pay it twice.", "pay it twice"),
])
def test_a_condition_and_what_would_follow_it_assert_nothing(sentence, word):
    assert word not in asserted_part(sentence)


@pytest.mark.parametrize("sentence, word", [
    # what the code does when the condition holds is said outright
    ("If you set `pplns_window` to 50000, the code ignores it, and that would explain the payouts.", "ignores"),
    ("If the JSON says 50000, `share_window` is still 10000 because it is hard-coded.", "hard-coded"),
    ("**Re-payment.** If `sendtoaddress` raises after broadcasting, the row goes back to `pending` and is paid twice.",
     "paid twice"),
])
def test_a_condition_beside_a_plain_statement_keeps_the_statement(sentence, word):
    assert word in asserted_part(sentence)


def test_inline_code_holds_no_clause_boundary():
    said = "`_send_payment()` wraps `self.wallet.sendtoaddress()` in `except Exception: return None`."
    assert asserted_part(said) == said
    # outside code, a colon still ends the clause and the request after it is blanked
    assert "return" not in asserted_part("The wallet call is wrapped: return an error instead.")


def test_a_change_under_if_that_is_what_happened_is_unsettled():
    assert is_unsettled("If that is what happened, park such rows in a `review` status instead, e.g.:")
    assert not is_unsettled("When that happens, the row goes back to `pending`.")


def test_what_a_tool_can_flag_is_a_pointer_to_the_tool():
    assert classify("Linters such as `pyflakes` or `pylint` can flag values that are assigned but not read.") == ADVICE
    assert classify("- Tools like `ruff` (rule F841) will report it.") == ADVICE
    assert classify("`window_size` is assigned but never read.") == ASSERTION


def test_a_choice_left_to_the_reader_is_vague_whatever_options_it_lists():
    item = "- [ ] Decide on one canonical representation for amounts (integer satoshis, `Decimal`, or `float`) and document it."
    assert classify(item) == ADVICE and is_vague(item)
    assert is_vague("Decide on a policy: respond with a stratum error (code 20) vs. drop the connection.")
    # a concrete change stays concrete
    assert not is_vague("Use `Decimal(str(amount))` for every amount.")


@pytest.mark.parametrize("item", [
    "- Common options: `decimal.Decimal`, or integer satoshis.",
    "Possible approaches: a lock around the check, or a conditional `UPDATE`.",
    "Alternatives include: `Decimal` or integer satoshis.",
])
def test_a_menu_of_options_is_a_choice_left_open(item):
    assert classify(item) == ADVICE and is_vague(item)


@pytest.mark.parametrize("item", [
    "- Fix: use `decimal.Decimal` for every amount.",
    "The options dict is never read: `share_window` stays at 10000.",
])
def test_a_change_or_a_statement_about_options_is_no_menu(item):
    assert not is_vague(item)


def test_a_parenthesised_aside_holds_no_clause_boundary():
    assert len(clauses("Use one type for amounts (satoshis; never floats) and round once.")) == 1
    assert len(clauses("Use one type for amounts; never floats.")) == 2


@pytest.mark.parametrize("item, vague", [
    ("- [ ] Query `SELECT COUNT(*) FROM shares` to make sure the table holds more than 10,000 recent shares.", True),
    ("- [ ] Run a linter (`ruff check --select F841`) to make sure nothing else is unused.", True),
    ("Make sure the history query is `SELECT * FROM payouts WHERE address = ?` with `(address,)`.", False),
])
def test_code_that_only_looks_makes_a_request_to_look_no_more_concrete(item, vague):
    assert is_vague(item) is vague


def test_at_first_without_glance_is_a_supposition_too():
    assert classify("At first this looks like an unused variable, since the query below it uses `self.share_window`.") == QUOTE
    assert classify("At first this looks like an unused variable, but it is one: nothing reads `window_size`.") != QUOTE


@pytest.mark.parametrize("item, act", [
    # a request whose other part is a rule about any value of a kind: the reason to look
    ("- [ ] In `calculate_payouts()`, trace every local (`net_diff`, `window_size`, …) to where it is consumed; "
     "a value that is computed but never reaches the SQL query has no effect.", ADVICE),
    ("Check the key names in the code and the JSON; any key that is spelled differently is silently ignored.", ADVICE),
    # a statement about this program's own value asserts
    ("Trace `window_size` to where it is consumed; the value is computed but never reaches the SQL query.", ASSERTION),
    ("Look at `calculate_payouts()`; a `window_size` that is computed there never reaches the query.", ASSERTION),
    # a rule about a kind of thing on its own, with no request beside it, still asserts (as before)
    ("A value that is computed but never reaches the SQL query has no effect, and `window_size` is one.", ASSERTION),
])
def test_a_rule_about_a_kind_of_thing_beside_a_request_asserts_nothing(item, act):
    assert classify(item) == act


def test_prefer_opens_a_request():
    assert classify("Prefer bound parameters to string building.") == ADVICE
    assert classify("The history query prefers string building to bound parameters.") == ASSERTION


def test_tracing_a_value_to_where_it_is_used_is_a_request_to_look():
    assert is_vague("Trace every local to where it is consumed.")
    assert not is_vague("Pass `window_size` to `_last_shares()` instead of `self.share_window`.")


def test_at_first_glance_suspicious_is_a_supposition():
    assert classify("At first glance `calculate_fee` is suspicious: `float(amount) * self.fee_percent` is binary "
                    "floating point.") == QUOTE
    assert classify("`calculate_fee` is suspicious: `float(amount) * self.fee_percent` is binary floating point.") != QUOTE


@pytest.mark.parametrize("item, vague", [
    # a check with what the code does when it fails is code to write, not a request to look
    ("Before using the parameters, check that `params` is a list of five strings; if any check fails, reply with "
     "stratum error 20 and return instead of raising.", False),
    ("Check that `params` is a list of five strings; otherwise reply with stratum error 20.", False),
    # a check with nothing done when it fails only asks to look
    ("Check that `params` is a list of five strings; if any check fails, that explains the tracebacks.", True),
    ("Check that `params` is a list of five strings.", True),
])
def test_a_check_with_the_reply_when_it_fails_is_concrete(item, vague):
    assert is_vague(item) is vague
