"""Where each Python check's fix lives: the fixture functions a fix for it must change.

An answer "carries runnable code for a check's place" when its candidate program
changes at least one of these, or adds a function that handles the check's state
(``STATE``: a pruner of ``recent_shares`` started from anywhere in the program). A new
helper that nothing calls does not count: where it runs is left to the prose, and
the run would judge the fixture's unchanged code. Another new helper only counts once
a listed function calls it, which changes that function. HiveOS checks
have no entry: their place is the answer's shell as a whole.
"""

from __future__ import annotations

import difflib
import re

PLACES: dict[str, tuple[str, ...]] = {
    "zmq.socket_crosses_threads": ("ZMQListener.__init__", "ZMQListener.start", "ZMQListener._listen", "ZMQListener.stop"),
    "zmq.fix_socket_in_thread": ("ZMQListener.__init__", "ZMQListener.start", "ZMQListener._listen", "ZMQListener.stop"),
    # (a window read in the query helper is judged by the run: callers pass share_window)
    "pplns.hardcoded_share_window": ("PPLNSManager", "PPLNSManager.__init__", "PPLNSManager.calculate_payouts",
                                     "PPLNSManager.get_worker_stats", "PPLNSManager._last_shares"),
    "pplns.window_size_unused": ("PPLNSManager.calculate_payouts", "PPLNSManager._last_shares"),
    # (a key read only for the dashboard is a change the run judges: payouts keep the literal)
    "pplns.config_key_mismatch": ("PPLNSManager", "PPLNSManager.__init__", "PPLNSManager.from_file",
                                  "PPLNSManager.calculate_payouts", "PPLNSManager._last_shares",
                                  "PPLNSManager.get_worker_stats"),
    "payment.race_condition": ("PaymentProcessor.process_pending_payments", "PaymentProcessor._execute_payment",
                               "PaymentProcessor._worker_loop"),
    "payment.sql_injection": ("PaymentProcessor.get_payment_history", "PaymentProcessor._execute_payment"),
    "payment.float_precision": ("PaymentProcessor.calculate_fee", "PaymentProcessor.batch_payments",
                                "PaymentProcessor._execute_payment"),
    "payment.atomicity": ("PaymentProcessor._execute_payment", "PaymentProcessor._send_payment"),
    "stratum.byte_order": ("StratumServer._build_header", "stratum_prevhash"),
    "stratum.info_leak": ("StratumServer._submit_block",),
    "stratum.stale_job": ("StratumServer._validate_share", "StratumServer._compute_merkle",
                          "StratumServer.broadcast_job", "StratumServer._handle_submit", "StratumServer._build_header"),
    "stratum.memory_leak": ("StratumServer._handle_submit", "StratumServer.broadcast_job", "StratumServer._validate_share"),
    # the params are unpacked in _handle_submit before _validate_share sees them: a change
    # confined to _validate_share cannot be this check's fix
    "stratum.input_validation": ("StratumServer._handle_submit", "StratumServer._dispatch"),
}


# what the lines the answer's code adds must mention for that code to be this check's
# fix: a change to calculate_payouts that never reads pplns_window carries no config
# fix, a validation fragment placed in _handle_submit no memory fix (the fix for this
# check may be given in prose, beside a code block for another one)
NEEDS: dict[str, re.Pattern[str]] = {
    "pplns.config_key_mismatch": re.compile(r"pplns_window"),
    "stratum.memory_leak": re.compile(r"recent_shares|maxlen|popitem|prune|expire|evict", re.I),
    "stratum.input_validation": re.compile(r"params|fromhex|int\(\s*\w+\s*,\s*16|ValueError|TypeError|KeyError|IndexError"),
    # the contract's money fix is Decimal or integer base units: `round(amount - fee, 8)` on
    # floats may send one probed amount exactly, and is still float money
    "payment.float_precision": re.compile(r"\bDecimal\b|sats?\b|satoshi|\bCOIN\b|quantize|\b1e8\b|10\s*\*\*\s*8|100_?000_?000", re.I),
}


def added_lines(original: str, patched: str) -> str:
    """The lines ``patched`` has that ``original`` does not."""
    # unified_diff, not ndiff: ndiff also compares the changed lines character by character
    diff = difflib.unified_diff(original.splitlines(), patched.splitlines(), n=0, lineterm="")
    return "\n".join(line[1:] for line in diff if line.startswith("+") and not line.startswith("+++"))

# the main class's attributes (``self.NAME``) that are the check's state
STATE: dict[str, tuple[str, ...]] = {
    "stratum.memory_leak": ("recent_shares",),
    "payment.race_condition": ("processing",),
}


def touches_place(check_id: str, changed: frozenset[str], added_state: frozenset[str] = frozenset(),
                  program: str | None = None) -> bool:
    """Whether a candidate that changed these definitions (and whose new functions use
    ``added_state``; ``program``: the lines its code adds) gives code for the check's place."""
    if program is not None and check_id in NEEDS and not NEEDS[check_id].search(program):
        return False
    places = PLACES.get(check_id)
    if places is None:
        return bool(changed)
    return bool(set(places) & set(changed)) or bool(set(STATE.get(check_id, ())) & set(added_state))


# what a code block's lines must mention to be part of this check's fix when the splice
# could not place them (a fragment whose place only the prose gives): the run of a program
# without them cannot judge the fix. A header line with ``bytes.fromhex`` is no part of an
# input check, and a config read only for the dashboard is judged with the rest of the program
FRAGMENT_OF: dict[str, re.Pattern[str]] = {
    "zmq.fix_socket_in_thread": re.compile(r"\.socket\(|\bsock\.|\bself\.socket\b"),
    "stratum.memory_leak": NEEDS["stratum.memory_leak"],
    "stratum.input_validation": re.compile(r"\bparams\b|_reply_error\(|\bisinstance\(|\bexcept\b"),
    # (the claim a worker makes on the row; a lock around the check alone still pays twice when run)
    "payment.race_condition": re.compile(r"\browcount\b|\bAND\s+status\s*=\s*(?:'pending'|\?)"),
}
# the same for assignments only the prose gives a function: also the money a caller passes on in
# satoshis ("`_execute_payment()` then works on `amount_sat = to_sat(amount)`"). A money block
# the splice could not place counts only when it converts what a caller hands on ("at the top
# of `_execute_payment()`:" over `amount_sats = to_sats(amount)`): other money code placed beside
# it fails on its own.
_CALLER_MONEY = re.compile(r"\b\w*_sats?\s*=\s*\w*to_sats?\(|\bamount\s*=\s*Decimal\(")
FRAGMENT_OF["payment.float_precision"] = _CALLER_MONEY
PROSE_CHANGE_OF: dict[str, re.Pattern[str]] = {
    **FRAGMENT_OF,
    "payment.float_precision": re.compile(r"\bDecimal\b|_sats?\b|\bsatoshis?\b|SAT_PER|\bCOIN\b|quantize|\bint\("),
}


# what an in-place edit (a `sed -i` command, a patch script's `replace`) that matched nothing
# must mention to be this check's fix: the program lacks it
EDIT_OF: dict[str, re.Pattern[str]] = {
    **FRAGMENT_OF,
    **NEEDS,
    "stratum.info_leak": re.compile(r"\blog(?:ger|ging)?\.\w+\(|\bblock_hex\b"),
    "stratum.byte_order": re.compile(r"previousblockhash|\bprev_?hash\b"),
}


def concerns(check_id: str, code: str, in_prose: bool = False) -> bool:
    """Whether lines of code the splice could not place (``in_prose``: that only the prose
    gives) are part of this check's fix."""
    pattern = (PROSE_CHANGE_OF if in_prose else FRAGMENT_OF).get(check_id)
    return pattern is not None and bool(pattern.search(code))
