"""Pays out confirmed miner balances from the pool wallet.

Several payout workers run ``process_pending_payments`` in parallel so a slow
wallet call does not hold up the whole queue.
"""

import logging
from decimal import Decimal
import sqlite3
import threading
import time

log = logging.getLogger(__name__)


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
            if payout_id in self.processing:
                continue
            self.processing.add(payout_id)
            try:
                if self._execute_payment(payout_id, row["address"], row["amount"]):
                    paid += 1
            finally:
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
            conn.execute(f"UPDATE payouts SET status = 'processing' WHERE id = {payout_id}")
            conn.commit()

            txid = self._send_payment(address, net_amount)
            if txid is None:
                raise PaymentError(f"wallet did not return a txid for payout {payout_id}")

            # the Decimal fee bound as it is: sqlite3 refuses it, after the coins left
            conn.execute("UPDATE payouts SET status = 'paid', txid = ?, fee = ?, paid_at = ? WHERE id = ?",
                         (txid, fee, int(time.time()), payout_id))
            conn.commit()
            log.info("payout %s: %.8f to %s (txid %s)", payout_id, net_amount, address, txid)
            return txid
        except Exception as exc:
            log.warning("payout %s failed, will retry: %s", payout_id, exc)
            conn.execute(f"UPDATE payouts SET status = 'pending' WHERE id = {payout_id}")
            conn.commit()
            return None
        finally:
            conn.close()

    def _send_payment(self, address, amount):
        try:
            return self.wallet.sendtoaddress(address, amount)
        except Exception:
            return None

    # -- money --------------------------------------------------------------
    def calculate_fee(self, amount):
        return (Decimal(str(amount)) * Decimal(str(self.fee_percent)) / 100).quantize(Decimal("0.00000001"))

    def batch_payments(self, balances):
        """Merge per-block balances into one payout per address, dropping dust below min_payout."""
        totals = {}
        for address, amount in balances:
            totals[address] = totals.get(address, Decimal(0)) + Decimal(str(amount))
        return {address: total for address, total in totals.items() if total >= Decimal(str(self.min_payout))}

    # -- dashboard ----------------------------------------------------------
    def get_payment_history(self, address, limit=50):
        conn = self._connect()
        try:
            rows = conn.execute(
                f"SELECT id, amount, fee, txid, status, paid_at FROM payouts "
                f"WHERE address = '{address}' ORDER BY id DESC LIMIT {int(limit)}"
            ).fetchall()
            return [dict(row) for row in rows]
        finally:
            conn.close()
