"""Behavioural probes of the payment task: each payout paid once, no injection,
money exact to the satoshi, no reset to ``pending`` after the coins may have left.

The candidate ``PaymentProcessor`` runs against a sqlite file built here and a fake
wallet RPC that can delay, fail before sending or fail after sending.

What a run can judge, and what it cannot:

* a candidate whose SQL names columns or tables the fixture's database lacks (its own
  schema, e.g. an ``amount_sat`` column) cannot run on that database: every probe
  reports ``error`` ("cannot be probed"), never a failed fix;
* a half-applied money change (``calculate_fee`` returns ``Decimal``, the unchanged
  caller subtracts it from a float) stops the payment round with a float/Decimal
  ``TypeError``: the race and atomicity probes report ``error`` for it (their fixes
  are not what broke), the money probe judges it where the answer changed code;
* money is judged where the answer changed it (``.changed.json`` in the candidate folder
  lists the changed definitions; without it, everywhere).
"""

import json
import logging
import os
import re
import sqlite3
import tempfile
import threading
import time
from decimal import Context, Decimal

import _harness
from _harness import Probe, expect

SAT = Decimal("0.00000001")
SAT_PER_BTC = 100_000_000


class JSONRPCException(Exception):
    """What bitcoind's wallet answers when it refuses a payment."""


class FakeWallet:
    """``sendtoaddress`` of a bitcoind wallet: records what was really sent."""

    def __init__(self, delay=0.0, fail_before=None, fail_after=None):
        self.delay = delay
        self.slow = {}                  # address -> extra seconds before sending
        self.fail_before = fail_before  # exception raised before anything is sent
        self.fail_after = fail_after    # exception raised after the coins left
        self.sent = []
        self.lock = threading.Lock()

    def sendtoaddress(self, address, amount, *args, **kwargs):
        if self.delay or address in self.slow:
            time.sleep(self.delay + self.slow.get(address, 0.0))
        if self.fail_before is not None:
            raise self.fail_before
        with self.lock:
            self.sent.append((address, amount))
            txid = "%064x" % len(self.sent)
        if self.fail_after is not None:
            raise self.fail_after
        return txid

    def __getattr__(self, name):
        # other wallet calls a fix might make (getbalance, validateaddress ...)
        def call(*args, **kwargs):
            if name == "validateaddress":
                return {"isvalid": True}
            if name == "getbalance":
                return Decimal("1000")
            return None
        return call


_SCHEMA = re.compile(r"no such column: \S+|no such table: \S+|has no column named \S+")
# the answer's own SQL does not run (another check's fix done wrong: `%s`, `'?'`)
_BROKEN_SQL = re.compile(r'near "[^"]*": syntax error|unrecognized token: \S+|Incorrect number of bindings supplied[^.]*'
                         r'|parameters are of unsupported type')   # `(payout_id)` where sqlite3 wants a sequence
_MIXED = re.compile(r"unsupported operand type\(s\) for .{1,3}: '(float|decimal\.Decimal)' and '(float|decimal\.Decimal)'"
                    r"|'<' not supported between instances of 'decimal.Decimal' and 'float'"
                    # the new Decimal money bound into a statement: sqlite3 takes no Decimal
                    r"|type 'decimal\.Decimal' is not supported")


def _problem_text(exc):
    return f"{type(exc).__name__}: {exc}" if exc is not None else ""


def _cannot_judge(texts, mixed_money=True, broken_sql=True):
    """CandidateError when the run stopped on another schema, on half-applied money code, or
    (``broken_sql``: for the checks that are not the SQL one) on the answer's own broken SQL."""
    for text in texts:
        if not text:
            continue
        if _SCHEMA.search(text):
            raise _harness.CandidateError("cannot be probed: the candidate's SQL expects another database schema "
                                          f"than the program's ({_SCHEMA.search(text).group(0)})")
        if broken_sql and _BROKEN_SQL.search(text):
            raise _harness.CandidateError("cannot be judged: the payment round stops on the answer's own SQL "
                                          f"({_BROKEN_SQL.search(text).group(0)})")
        if mixed_money and _MIXED.search(text):
            raise _harness.CandidateError("cannot be judged: the payment round stops on the answer's money change "
                                          f"(float mixed with Decimal, or Decimal bound into SQL: {_MIXED.search(text).group(0)})")


def _changed(ctx):
    """The definitions the answer changed (``candidate/.changed.json``), or None: all."""
    path = os.path.join(ctx.candidate_dir, ".changed.json")
    try:
        with open(path, encoding="utf-8") as fh:
            return set(json.load(fh))
    except (OSError, ValueError):
        return None


def _judged(changed, *methods):
    return changed is None or any(f"PaymentProcessor.{m}" in changed for m in methods)


class _RecordingCursor(sqlite3.Cursor):
    def execute(self, sql, *args, **kwargs):
        _STATEMENTS.append(str(sql))
        return super().execute(sql, *args, **kwargs)

    def executemany(self, sql, *args, **kwargs):
        _STATEMENTS.append(str(sql))
        return super().executemany(sql, *args, **kwargs)


class _RecordingConnection(sqlite3.Connection):
    """Records the SQL text of every statement (the values bound as parameters are not in it)."""

    def cursor(self, factory=None):
        return super().cursor(factory or _RecordingCursor)

    def execute(self, sql, *args, **kwargs):
        _STATEMENTS.append(str(sql))
        return super().execute(sql, *args, **kwargs)

    def executemany(self, sql, *args, **kwargs):
        _STATEMENTS.append(str(sql))
        return super().executemany(sql, *args, **kwargs)

    def executescript(self, sql):
        _STATEMENTS.append(str(sql))
        return super().executescript(sql)


_STATEMENTS = []


def _record_sql():
    real = sqlite3.connect

    def connect(*args, **kwargs):
        kwargs.setdefault("factory", _RecordingConnection)
        return real(*args, **kwargs)
    sqlite3.connect = connect


def import_check(ctx):
    module = ctx.load("payment_processor")
    ctx.cls(module, "PaymentProcessor")
    return "PaymentProcessor imports"


def _db(rows):
    path = os.path.join(tempfile.mkdtemp(prefix="payment-"), "payouts.sqlite3")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")   # readers never wait for the workers' writes
    conn.execute(
        "CREATE TABLE payouts (id INTEGER PRIMARY KEY AUTOINCREMENT, block_height INTEGER,"
        " address TEXT NOT NULL, amount REAL NOT NULL, fee REAL, txid TEXT,"
        " status TEXT NOT NULL DEFAULT 'pending', paid_at INTEGER)")
    conn.executemany("INSERT INTO payouts (block_height, address, amount, status) VALUES (800000, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return path


def _statuses(path):
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT id, status FROM payouts").fetchall())
    finally:
        conn.close()


def _recorded(path):
    """(txid, fee) of the one payout row."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT txid, fee FROM payouts").fetchone()
    finally:
        conn.close()


def _processor(ctx, db_path, wallet, **kwargs):
    module = ctx.load("payment_processor")
    cls = ctx.cls(module, "PaymentProcessor")
    try:
        return cls(db_path, wallet, **kwargs)
    except TypeError as exc:
        raise _harness.CandidateError(f"PaymentProcessor(db_path, wallet) cannot be built: {exc}") from exc


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + repr(record.exc_info[1]) + " " + str(record.exc_info[1])
        self.messages.append((record.levelno, text))


def _capture_logs():
    handler = _Records()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    return handler


# -- race ---------------------------------------------------------------------

def probe_each_payout_paid_once(ctx):
    # the first payout is slow at the wallet: while one worker waits on it, the others
    # finish the rest of the queue; a worker that then walks on through its stale list
    # must not pay those rows again, and no two workers may take the same row
    payouts = 16
    db = _db([(f"bc1qminer{n:02d}", 0.01 + n / 1000, "pending") for n in range(payouts)])
    wallet = FakeWallet(delay=0.002)
    wallet.slow = {"bc1qminer00": 0.15}
    processor = _processor(ctx, db, wallet)
    logs = _capture_logs()
    barrier = threading.Barrier(4)
    errors = []

    def worker():
        barrier.wait()
        try:
            processor.process_pending_payments()
        except Exception as exc:  # a worker round may fail; double pays are what matter
            errors.append(exc)

    threads = [threading.Thread(target=worker, name=f"payout-{n}") for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(3.0)
    expect(not any(t.is_alive() for t in threads), f"four workers did not finish {payouts} payouts within 3 s")
    _cannot_judge([_problem_text(e) for e in errors] + [text for _, text in logs.messages])
    counts = {}
    for address, _amount in wallet.sent:
        counts[address] = counts.get(address, 0) + 1
    doubles = sorted(a for a, c in counts.items() if c > 1)
    expect(not doubles, f"four workers on one queue paid {len(doubles)} of {payouts} payouts more than once "
                        f"(e.g. {doubles[0] if doubles else ''} x{counts.get(doubles[0], 0) if doubles else 0})")
    missing = payouts - len(counts)
    expect(missing == 0, f"{missing} of {payouts} payouts were never paid"
                         + (f" (a worker raised {errors[0]!r})" if errors else ""))
    statuses = _statuses(db)
    expect(all(s == "paid" for s in statuses.values()),
           f"rows not marked paid after payment: {sorted(set(statuses.values()))}")
    return f"four concurrent workers paid each of {payouts} payouts exactly once"


# -- SQL injection ------------------------------------------------------------

def probe_history_not_injectable(ctx):
    # either place of the contract fixes the check: the history is judged when the answer
    # changed it (or gave the whole file); otherwise the payment's own statements are
    changed = _changed(ctx)
    if not _judged(changed, "get_payment_history") and _judged(changed, "_execute_payment"):
        return _payment_statements_bound(ctx)
    db = _db([("bc1qalice", 0.5, "paid"), ("bc1qalice", 0.25, "paid"), ("bc1qbob", 1.0, "paid"),
              ("o'hara.pool", 0.125, "paid")])
    processor = _processor(ctx, db, FakeWallet())
    _record_sql()
    attack = "x' OR '1'='1"
    try:
        rows = processor.get_payment_history(attack)
    except sqlite3.Error as exc:
        _cannot_judge([_problem_text(exc)], broken_sql=False)
        raise _harness.ProbeFailed(f"get_payment_history({attack!r}) put the address into the SQL: {exc}") from None
    rows = list(rows or [])
    expect(not rows, f"get_payment_history({attack!r}) returned {len(rows)} rows of other addresses")
    try:
        own = list(processor.get_payment_history("bc1qalice") or [])
        quoted = list(processor.get_payment_history("o'hara.pool") or [])
    except sqlite3.Error as exc:
        raise _harness.ProbeFailed(f"an address with a quote breaks the query: {exc}") from exc
    expect(len(own) == 2, f"get_payment_history('bc1qalice') returned {len(own)} rows, not its 2")
    expect(len(quoted) == 1, f"an address with a quote returned {len(quoted)} rows, not its 1")
    # the contract's fix is parameters: an address escaped or formatted into the SQL text is not one
    inlined = [sql for sql in _STATEMENTS if "hara.pool" in sql or "bc1qalice" in sql]
    expect(not inlined, "the address is written into the SQL text (escaped or formatted), not bound as a "
                        f"parameter: {inlined[0][:120] if inlined else ''}")
    return f"{attack!r} returns nothing; each address gets exactly its own rows, bound as a parameter"


_PAYOUT_ID_IN_SQL = re.compile(r"\bid\s*=\s*'?\d|'[0-9a-f]{64}'")


def _payment_statements_bound(ctx):
    """The answer changed ``_execute_payment`` only: its statements bind the payout id and
    txid. Still formatted, the run cannot tell: the answer's SQL fix may be the history's,
    given in prose."""
    processor = _processor(ctx, _db([("bc1qminer", 0.29, "pending")]), FakeWallet())
    _record_sql()
    try:
        processor.process_pending_payments()
    except sqlite3.Error as exc:
        _cannot_judge([_problem_text(exc)], broken_sql=False)
        raise _harness.ProbeFailed(f"the payment's statements fail: {exc}") from None
    updates = [sql for sql in _STATEMENTS if sql.lstrip().upper().startswith("UPDATE")]
    expect(updates, "the payment never updated its row")
    formatted = [sql for sql in updates if _PAYOUT_ID_IN_SQL.search(sql)]
    if formatted:
        raise _harness.CandidateError("cannot be judged: the answer changed _execute_payment but still formats "
                                      f"the payout id into its SQL ({formatted[0][:100]}), and left "
                                      "get_payment_history as it was")
    return f"_execute_payment binds the payout id in its {len(updates)} UPDATE statement(s)"


# -- money --------------------------------------------------------------------

# the probe's own sums are exact whatever context the candidate set for this thread
# (`getcontext().prec = 8` at import would round the expectations the way it rounds the money)
_WIDE = Context(prec=60)


def _in_sats(btc):
    return _WIDE.multiply(Decimal(btc), SAT_PER_BTC)


def _satoshis(value, what):
    """Exact satoshis of a money value: Decimal and str exactly, float by its shortest repr,
    int as satoshis when the BTC value cannot be whole."""
    if isinstance(value, bool) or value is None:
        raise _harness.ProbeFailed(f"{what} is {value!r}, not an amount")
    if isinstance(value, int):
        return Decimal(value), "sat"
    if isinstance(value, float):
        exact = Decimal(repr(value))
    elif isinstance(value, (Decimal, str)):
        exact = Decimal(value)
    else:
        raise _harness.ProbeFailed(f"{what} is a {type(value).__name__}, not an amount")
    return _in_sats(exact), "btc"


def _expect_btc(value, expected, what, floats_allowed=False):
    if isinstance(value, float) and not floats_allowed:
        raise _harness.ProbeFailed(f"{what} is the float {value!r}: the money is still float arithmetic "
                                   "(Decimal or integer base units keep it exact)")
    sats, _unit = _satoshis(value, what)
    want = _in_sats(expected)
    expect(sats == sats.to_integral_value(),
           f"{what} is {value!r}: not a whole number of satoshis ({sats} sat)")
    expect(sats == want, f"{what} is {value!r}, expected exactly {expected} BTC")


def _fee_exact_in_other_units(processor, amount, fee):
    """Whether the fee is exact for the amount as Decimal BTC, or as integer satoshis (an
    answer that moved the money to base units takes and returns satoshis)."""
    for given, unit in ((Decimal(repr(amount)), "btc"), (int(_in_sats(repr(amount))), "sat")):
        try:
            result = processor.calculate_fee(given)
        except (TypeError, ValueError, ArithmeticError):
            continue
        if unit == "btc":
            if isinstance(result, (Decimal, str)) and Decimal(result) == Decimal(fee):
                return True
        elif isinstance(result, int) and not isinstance(result, bool) and result == _in_sats(fee):
            return True
    return False


def _check_batch(processor, in_satoshis):
    unit = (lambda btc: int(round(btc * 100_000_000))) if in_satoshis else (lambda btc: btc)
    balances = [("bc1qa", 0.1)] * 10 + [("bc1qb", 0.2), ("bc1qb", 0.1), ("bc1qc", 0.0007), ("bc1qc", 0.0003),
                                        ("bc1qd", 0.0004), ("bc1qd", 0.0005)]
    totals = processor.batch_payments([(address, unit(amount)) for address, amount in balances])
    expect(isinstance(totals, dict), f"batch_payments returned {type(totals).__name__}, not a dict")
    expected = {"bc1qa": "1.0", "bc1qb": "0.3", "bc1qc": "0.001"}
    for address, total in expected.items():
        expect(address in totals, f"batch_payments dropped {address} whose total {total} BTC reaches min_payout 0.001")
        if in_satoshis:
            expect(totals[address] == unit(float(total)) and not isinstance(totals[address], float),
                   f"batch total of {address} is {totals[address]!r}, not {unit(float(total))} satoshis")
        else:
            _expect_btc(totals[address], total, f"batch total of {address}")
    expect("bc1qd" not in totals, "batch_payments kept bc1qd whose 0.0009 BTC is below min_payout")


def probe_money_exact_to_satoshi(ctx):
    # judged where the answer changed the code: a fee fixed in calculate_fee is judged
    # there, whatever the unchanged batch_payments still does
    changed = _changed(ctx)
    judged = []
    processor = _processor(ctx, _db([]), FakeWallet(), fee_percent=0.5, min_payout=0.001)
    fees_need_the_path = False
    fee_changed = _judged(changed, "calculate_fee")
    if fee_changed:
        # fees that need no rounding: any exact method gets them to the satoshi. A fee exact
        # only for Decimal amounts is right when the program hands it Decimals: then the
        # payment path below decides, whatever the answer changed
        # (one fee reaches the eighth decimal: a fee quantized to seven places misses it)
        for amount, fee in ((0.29, "0.00145"), (1.13, "0.00565"), (0.57, "0.00285"), (12345.6789, "61.7283945"),
                            (0.246914, "0.00123457")):
            try:
                _expect_btc(processor.calculate_fee(amount), fee, f"calculate_fee({amount})")
            except (_harness.ProbeFailed, TypeError, ValueError, ArithmeticError) as in_btc:
                # (a fee that takes integer satoshis may refuse the float BTC amount outright)
                fees_need_the_path = True
                if _fee_exact_in_other_units(processor, amount, fee):
                    continue
                raise in_btc
        judged.append("fees")
    if _judged(changed, "batch_payments"):
        try:
            _check_batch(processor, in_satoshis=False)
        except _harness.ProbeFailed as in_btc:
            # an answer that moved balances to integer satoshis ("for address, amount_sat in
            # balances") is judged in its own unit
            try:
                _check_batch(processor, in_satoshis=True)
            except Exception:
                raise in_btc from None
        judged.append("batch totals")
    if fee_changed or _judged(changed, "_execute_payment", "process_pending_payments", "_send_payment"):
        # the amount the wallet is asked to send: amount minus fee, exact (a float is what
        # JSON-RPC carries, so an exact float is accepted here). A changed fee is paid through
        # the payment path as the program has it: a Decimal fee the unchanged caller takes
        # from the row's float stops every payout
        db = _db([("bc1qminer", 0.29, "pending")])
        wallet = FakeWallet()
        processor = _processor(ctx, db, wallet, fee_percent=0.5, min_payout=0.001)
        logs = _capture_logs()
        try:
            processor.process_pending_payments()
        except (sqlite3.OperationalError, sqlite3.ProgrammingError) as exc:
            _cannot_judge([_problem_text(exc)], mixed_money=False)
            if fee_changed and "type 'decimal.Decimal' is not supported" in str(exc):
                # the new Decimal fee goes into a statement sqlite3 runs on the way: every payout stops
                raise _harness.ProbeFailed(f"sqlite3 cannot bind the new Decimal money: every payout stops on {exc}") from None
            raise
        except TypeError as exc:
            # the fee is exact only for Decimals and the path hands it the row's float: the
            # answer's money fix stops short of the payment, which is this check's failure
            if fees_need_the_path and _MIXED.search(str(exc)):
                raise _harness.ProbeFailed("calculate_fee is exact only for Decimal amounts and the payment path "
                                           f"hands it the float amount: the payout stops on {exc}") from None
            if fee_changed and _MIXED.search(str(exc)):
                raise _harness.ProbeFailed("the payment path mixes the row's float amount with the new fee: "
                                           f"every payout stops on {exc}") from None
            raise
        _cannot_judge([text for _, text in logs.messages], mixed_money=False)
        expect(len(wallet.sent) == 1, f"one pending payout led to {len(wallet.sent)} wallet sends"
               + next((f" ({text})" for level, text in logs.messages if level >= logging.WARNING), ""))
        _expect_btc(wallet.sent[0][1], "0.28855", "the amount sent for 0.29 BTC minus a 0.5% fee",
                    floats_allowed=True)
        # the money the answer records after the send must go into the row too (sqlite3 takes no
        # Decimal): a row put back to pending is paid again
        status = next(iter(_statuses(db).values()))
        expect(status != "pending", "the payout was sent, then its row went back to 'pending' (it is paid again)"
               + next((f": {text}" for level, text in logs.messages if level >= logging.WARNING), ""))
        # (a Decimal fee that sqlite3 cannot bind leaves the sent payout without its record)
        txid, fee = _recorded(db)
        expect(txid == "%064x" % 1 and fee is not None,
               f"the payout was sent, but its row never recorded the txid and fee (status {status!r})"
               + next((f": {text}" for level, text in logs.messages if level >= logging.WARNING), ""))
        judged.append("the amount sent")
    expect(judged, "the answer changed none of calculate_fee, batch_payments and the payment path")
    return f"{', '.join(judged)} exact to the satoshi"


# -- atomicity ----------------------------------------------------------------

def _run_round(processor):
    try:
        processor.process_pending_payments()
        return None
    except Exception as exc:
        return exc


def _visible(error, logs, marker):
    """The wallet's own error reached the caller or a WARNING+ log line."""
    if error is not None and (marker in str(error) or marker in repr(error)
                              or (error.__cause__ is not None and marker in str(error.__cause__))
                              or (error.__context__ is not None and marker in str(error.__context__))):
        return True
    return any(level >= logging.WARNING and marker in text for level, text in logs.messages)


def probe_error_after_send_keeps_row(ctx):
    marker = "connection reset after broadcast 7f3a"
    db = _db([("bc1qminer", 0.29, "pending")])
    wallet = FakeWallet(fail_after=ConnectionResetError(104, marker))
    processor = _processor(ctx, db, wallet)
    logs = _capture_logs()
    error = _run_round(processor)
    if not wallet.sent:
        _cannot_judge([_problem_text(error)] + [text for _, text in logs.messages])
    expect(len(wallet.sent) == 1, f"the payout was sent {len(wallet.sent)} times in one round")
    status = _statuses(db)[1]
    expect(status != "pending", "a wallet error after the coins were sent reset the row to 'pending' "
                                "(the next round pays it again)")
    wallet.fail_after = None
    _run_round(processor)
    expect(len(wallet.sent) == 1, f"the next round paid the already-sent payout again ({len(wallet.sent)} sends)")
    expect(_visible(error, logs, marker), "the wallet error after sending was swallowed: it neither "
                                          "propagated nor reached a warning/error log line")
    return f"after a wallet error that followed the send the row stays '{status}' and the error is reported"


def probe_wallet_error_visible(ctx):
    marker = "Insufficient funds (code -6) 91c2"
    db = _db([("bc1qminer", 0.29, "pending")])
    wallet = FakeWallet(fail_before=JSONRPCException(marker))
    processor = _processor(ctx, db, wallet)
    logs = _capture_logs()
    error = _run_round(processor)
    if marker not in _problem_text(error) and not any(marker in text for _, text in logs.messages):
        _cannot_judge([_problem_text(error)] + [text for _, text in logs.messages])
    expect(not wallet.sent, "the wallet refused, yet a send was recorded")
    expect(_visible(error, logs, marker), "the wallet's own error ('Insufficient funds ...') was swallowed: it "
                                          "neither propagated nor reached a warning/error log line")
    return "a wallet refusal reaches the caller or the log with its own message"


PROBES = [
    Probe("payment.race_condition", "each_payout_paid_once", probe_each_payout_paid_once, timeout=5.0),
    Probe("payment.sql_injection", "history_not_injectable", probe_history_not_injectable),
    Probe("payment.float_precision", "money_exact_to_satoshi", probe_money_exact_to_satoshi),
    Probe("payment.atomicity", "error_after_send_keeps_row", probe_error_after_send_keeps_row),
    Probe("payment.atomicity", "wallet_error_visible", probe_wallet_error_visible),
]

if __name__ == "__main__":
    _harness.main("payment", PROBES, import_check, __file__)
