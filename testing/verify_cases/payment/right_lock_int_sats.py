"""Pays out confirmed miner balances from the pool wallet.

Several payout workers run ``process_pending_payments`` in parallel so a slow
wallet call does not hold up the whole queue.
"""

import logging
import sqlite3
import threading
import time

log = logging.getLogger(__name__)

SAT_PER_BTC = 100_000_000


def to_sat(btc):
    """BTC as stored (REAL or text) to integer satoshis, exactly as written."""
    whole, _, frac = repr(btc).partition(".") if isinstance(btc, float) else str(btc).partition(".")
    return int(whole) * SAT_PER_BTC + int((frac + "00000000")[:8] or 0)


def to_btc_str(sat):
    return "%d.%08d" % divmod(sat, SAT_PER_BTC)


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
    def _claim(self, payout_id):
        with self.lock:
            conn = self._connect()
            try:
                row = conn.execute("SELECT status FROM payouts WHERE id = ?", (payout_id,)).fetchone()
                if row is None or row["status"] != "pending":
                    return False
                conn.execute("UPDATE payouts SET status = 'processing' WHERE id = ?", (payout_id,))
                conn.commit()
                return True
            finally:
                conn.close()

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
            if not self._claim(row["id"]):
                continue
            if self._execute_payment(row["id"], row["address"], row["amount"]):
                paid += 1
        return paid

    def _execute_payment(self, payout_id, address, amount):
        amount_sat = to_sat(amount)
        fee_sat = self.fee_sat(amount_sat)
        try:
            txid = self.wallet.sendtoaddress(address, to_btc_str(amount_sat - fee_sat))
        except Exception as exc:
            log.error("payout %s: wallet error, left for review: %s", payout_id, exc)
            self._set(payout_id, "failed")
            raise
        self._set(payout_id, "paid", txid=txid, fee=to_btc_str(fee_sat))
        return txid

    def _set(self, payout_id, status, txid=None, fee=None):
        conn = self._connect()
        try:
            conn.execute("UPDATE payouts SET status = ?, txid = ?, fee = ?, paid_at = ? WHERE id = ?",
                         (status, txid, fee, int(time.time()), payout_id))
            conn.commit()
        finally:
            conn.close()

    # -- money (integer satoshis) -------------------------------------------
    def fee_sat(self, amount_sat):
        basis_points = round(self.fee_percent * 100)
        return amount_sat * basis_points // 10_000

    def calculate_fee(self, amount):
        return self.fee_sat(to_sat(amount))

    def batch_payments(self, balances):
        totals = {}
        for address, amount in balances:
            totals[address] = totals.get(address, 0) + to_sat(amount)
        floor = to_sat(self.min_payout)
        return {a: t for a, t in totals.items() if t >= floor}

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
