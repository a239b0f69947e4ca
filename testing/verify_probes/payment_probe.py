"""Test probe (contract-following): parameterised history query, exact fee arithmetic."""

import os
import sqlite3
import tempfile
from decimal import Decimal

from _probe_kit import load, main


def _db():
    path = os.path.join(tempfile.mkdtemp(), "pool.sqlite3")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE payouts (id INTEGER PRIMARY KEY, address TEXT, amount REAL, fee REAL, "
                 "txid TEXT, status TEXT, paid_at INTEGER)")
    conn.executemany("INSERT INTO payouts (address, amount, status) VALUES (?, ?, 'paid')",
                     [("alice", 0.5), ("bob", 0.25)])
    conn.commit()
    conn.close()
    return path


def probes(candidate):
    def history_is_parameterised():
        module = load(candidate, "payment_processor")
        processor = module.PaymentProcessor(_db(), wallet=None)
        rows = processor.get_payment_history("x' OR '1'='1")
        assert not rows, f"the history of x' OR '1'='1 returned {len(rows)} row(s) of other addresses"
        assert len(processor.get_payment_history("alice")) == 1, "alice's own history is wrong"
        return "an injected address returns nothing"

    def fees_exact():
        module = load(candidate, "payment_processor")
        processor = module.PaymentProcessor(_db(), wallet=None, fee_percent=0.5)
        fee = processor.calculate_fee(Decimal("0.1"))
        assert Decimal(str(fee)) == Decimal("0.0005"), f"fee of 0.1 at 0.5% is {fee!r}"
        totals = processor.batch_payments([("a", "0.1"), ("a", "0.2")])
        assert Decimal(str(totals["a"])) == Decimal("0.3"), f"0.1 + 0.2 batched to {totals['a']!r}"
        return "fee and batch totals exact"

    yield "payment.sql_injection", "history_is_parameterised", history_is_parameterised
    yield "payment.float_precision", "fees_exact", fees_exact


if __name__ == "__main__":
    main("payment", probes)
