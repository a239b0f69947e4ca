"""PPLNS (pay per last N shares) reward distribution.

When the pool finds a block, the reward (minus the pool fee) is split between
the workers who submitted the last N shares, in proportion to the difficulty of
the shares each of them submitted.
"""

import json
import logging
import sqlite3
import time

log = logging.getLogger(__name__)

SATOSHI_PER_COIN = 100_000_000


class PPLNSManager:
    def __init__(self, config, db_path, rpc):
        self.config = config
        self.db_path = db_path
        self.rpc = rpc
        self.pool_fee_percent = config.get("pool_fee_percent", 1.0)
        self.pool_address = config["pool_address"]
        self.share_window = config["pplns_window"]

    @classmethod
    def from_file(cls, path, db_path, rpc):
        with open(path) as fh:
            return cls(json.load(fh), db_path, rpc)

    def _connect(self):
        return sqlite3.connect(self.db_path, timeout=30)

    def record_share(self, worker, difficulty):
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO shares (worker, difficulty, created_at) VALUES (?, ?, ?)",
                (worker, int(difficulty), int(time.time())),
            )

    def _last_shares(self, conn, limit):
        return conn.execute(
            "SELECT worker, difficulty FROM shares ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()

    def calculate_payouts(self, block_reward_sat, block_height):
        """Split a block reward (in satoshis) between the workers of the last N shares."""
        window_size = int(self.share_window)

        with self._connect() as conn:
            shares = self._last_shares(conn, window_size)

        if not shares:
            log.warning("block %s: no shares in window, reward kept by pool", block_height)
            return {self.pool_address: block_reward_sat}

        weights = {}
        for worker, difficulty in shares:
            weights[worker] = weights.get(worker, 0) + difficulty
        total_weight = sum(weights.values())

        fee_sat = block_reward_sat * int(self.pool_fee_percent * 100) // 10_000
        distributable = block_reward_sat - fee_sat

        payouts = {}
        for worker, weight in weights.items():
            payouts[worker] = distributable * weight // total_weight
        # integer division leaves a few satoshis of dust: the pool keeps them with the fee
        payouts[self.pool_address] = payouts.get(self.pool_address, 0) + block_reward_sat - sum(payouts.values())

        log.info(
            "block %s: %d shares from %d workers, %d sat distributed",
            block_height, len(shares), len(weights), distributable,
        )
        return payouts

    def save_payouts(self, block_height, payouts):
        with self._connect() as conn:
            conn.executemany(
                "INSERT INTO payouts (block_height, address, amount_sat, status) VALUES (?, ?, ?, 'pending')",
                [(block_height, address, amount) for address, amount in payouts.items() if amount > 0],
            )

    def get_worker_stats(self, worker):
        """The worker's part of the current window, for the dashboard."""
        with self._connect() as conn:
            shares = self._last_shares(conn, self.share_window)
        mine = [difficulty for name, difficulty in shares if name == worker]
        total = sum(difficulty for _, difficulty in shares)
        return {
            "worker": worker,
            "shares_in_window": len(mine),
            "window_shares": len(shares),
            "window_limit": self.share_window,
            "estimated_share": (sum(mine) / total) if total else 0.0,
        }
