"""Pays out confirmed miner balances from the pool wallet.

Several payout workers run ``process_pending_payments`` in parallel so a slow
wallet call does not hold up the whole queue.
"""

import logging
import sqlite3
import threading
import time
from decimal import Decimal, ROUND_DOWN

log = logging.getLogger(__name__)

SAT = Decimal("0.00000001")


class PaymentError(Exception):
    pass


class PaymentProcessor:
    def __init__(self, db_path, wallet, fee_percent=0.5, min_payout=0.001, workers=4):
        self.db_path = db_path
        self.wallet = wallet            # bitcoind wallet RPC proxy
        self.fee_percent = fee_percent
        self.min_payout = min_payout
        self.workers = workers
        self.processing = set()
        self.lock = threading.Lock()
        self._stop = threading.Event()

    def _connect(self):
        conn = sqlite3.connect(self.db_path, timeout=30)
        conn.row_factory = sqlite3.Row
        return conn

    # -- scheduling ---------------------------------------------------------
    def run(self, interval=60):
        threads = [
            threading.Thread(target=self._worker_loop, args=(interval,), name=f"payout-{n}", daemon=True)
            for n in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        return threads

    def stop(self):
        self._stop.set()

    def _worker_loop(self, interval):
        while not self._stop.is_set():
            try:
                self.process_pending_payments()
            except Exception:
                log.exception("payout round failed")
            self._stop.wait(interval)

    # -- payouts ------------------------------------------------------------
    def _claim(self, conn, payout_id):
        cur = conn.execute(
            "UPDATE payouts SET status = 'processing' WHERE id = ? AND status = 'pending'",
            (payout_id,),
        )
        conn.commit()
        return cur.rowcount == 1          # False: another worker already owns this payout

    def process_pending_payments(self):
        conn = self._connect()
        try:
            rows = conn.execute(
                "SELECT id, address, amount FROM payouts WHERE status = 'pending' ORDER BY id"
            ).fetchall()
        finally:
            conn.close()

        paid = 0
        for row in rows:
            payout_id = row["id"]
            with self.lock:
                if payout_id in self.processing:
                    continue
                self.processing.add(payout_id)
            try:
                if self._execute_payment(payout_id, row["address"], row["amount"]):
                    paid += 1
            finally:
                with self.lock:
                    self.processing.discard(payout_id)
        if paid:
            log.info("paid %d payouts", paid)
        return paid

    def _execute_payment(self, payout_id, address, amount):
        amount = Decimal(str(amount))
        fee = self.calculate_fee(amount)
        net_amount = amount - fee
        conn = self._connect()
        try:
            if not self._claim(conn, payout_id):
                return None
            try:
                txid = self.wallet.sendtoaddress(address, net_amount)   # errors propagate, nothing swallowed
            except ConnectionError:
                # outcome unknown: the coins may have left; a human reconciles with the wallet
                conn.execute("UPDATE payouts SET status = 'unknown' WHERE id = ?", (payout_id,))
                conn.commit()
                raise
            except Exception:
                # the wallet refused the payment: nothing was sent, safe to retry later
                conn.execute("UPDATE payouts SET status = 'pending' WHERE id = ?", (payout_id,))
                conn.commit()
                raise
            conn.execute(
                "UPDATE payouts SET status = 'paid', txid = ?, fee = ?, paid_at = ? WHERE id = ?",
                (txid, str(fee), int(time.time()), payout_id),
            )
            conn.commit()       # if this fails the row stays 'processing', never 'pending'
            log.info("payout %s: %s to %s (txid %s)", payout_id, net_amount, address, txid)
            return txid
        finally:
            conn.close()

    # -- money --------------------------------------------------------------
    def calculate_fee(self, amount):
        fee_as_float = round(float(amount) * self.fee_percent / 100.0, 8)
        return Decimal(fee_as_float)

    def batch_payments(self, balances):
        """Merge per-block balances into one payout per address, dropping dust below min_payout."""
        totals = {}
        for address, amount in balances:
            totals[address] = totals.get(address, Decimal(0)) + Decimal(amount)
        return {a: t for a, t in totals.items() if t >= Decimal(str(self.min_payout))}

    # -- dashboard ----------------------------------------------------------
    def get_payment_history(self, address, limit=50):
        conn = self._connect()
        try:
            rows = conn.execute(
                "SELECT id, amount, fee, txid, status, paid_at FROM payouts "
                "WHERE address = ? ORDER BY id DESC LIMIT ?",
                (address, int(limit)),
            ).fetchall()
            return [dict(row) for row in rows]
        finally:
            conn.close()
