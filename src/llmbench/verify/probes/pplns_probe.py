"""Behavioural probes of the pplns task: the configured ``pplns_window`` decides the window.

A sqlite shares table is laid out so the paid workers reveal the exact window:
the newest ``W`` shares are one share of ``edge`` followed by ``W - 1`` of ``inside``,
everything older belongs to ``outside``. A window of W pays ``edge`` and ``inside``
only; one share too many pays ``outside``, one too few drops ``edge``.
"""

import ast
import json
import os
import sqlite3
import tempfile

import _harness
from _harness import Probe, expect

POOL = "bc1qpool0fee0address0kept0for0dust0and0fee0example"
FIXTURE_WINDOW = 10_000  # the literal of the shipped bug
REWARD_SAT = 625_000_000


class FakeRPC:
    """bitcoind as the PPLNS manager sees it."""

    # mainnet-scale: N × difficulty is far more shares than any configured window, as on a
    # real pool (a fix that caps the query at min(window_size, share_window) reads the config)
    def __init__(self, difficulty=1.4e14):
        self.difficulty = difficulty

    def getdifficulty(self):
        return self.difficulty

    def getblockcount(self):
        return 800_000


def import_check(ctx):
    module = ctx.load("pplns")
    ctx.cls(module, "PPLNSManager")
    return "PPLNSManager imports"


def _shares_db(window):
    path = os.path.join(tempfile.mkdtemp(prefix="pplns-"), "pool.sqlite3")
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE shares (id INTEGER PRIMARY KEY AUTOINCREMENT, worker TEXT NOT NULL,"
        " difficulty INTEGER NOT NULL, created_at INTEGER NOT NULL);"
        "CREATE TABLE payouts (id INTEGER PRIMARY KEY AUTOINCREMENT, block_height INTEGER,"
        " address TEXT, amount_sat INTEGER, status TEXT);")
    total = max(window, FIXTURE_WINDOW) + 2_000   # always some shares older than either window
    conn.execute(
        "INSERT INTO shares (worker, difficulty, created_at) "
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) "
        "SELECT CASE WHEN x <= ? THEN 'outside' WHEN x = ? THEN 'edge' ELSE 'inside' END, "
        "1000, 1700000000 + x FROM n",
        (total, total - window, total - window + 1))
    conn.commit()
    conn.close()
    return path


def _manager(ctx, cls, config, db_path):
    try:
        return cls(config, db_path, FakeRPC())
    except TypeError as exc:
        raise _harness.CandidateError(f"PPLNSManager(config, db_path, rpc) cannot be built: {exc}") from exc


def _window_of(manager, window, label):
    """Run calculate_payouts and tell which window the candidate used."""
    try:
        payouts = manager.calculate_payouts(REWARD_SAT, 800_000)
    except (sqlite3.ProgrammingError, sqlite3.InterfaceError) as exc:
        if "type 'tuple' is not supported" not in str(exc):
            raise
        # `self.share_window = config.get("pplns_window", 10000),`: the trailing comma makes the
        # window a tuple, and no query can bind it
        raise _harness.ProbeFailed(f"{label}: the window the program sets is a tuple (a trailing comma), "
                                   f"and the share query cannot bind it: {exc}") from None
    expect(isinstance(payouts, dict), f"{label}: calculate_payouts returned {type(payouts).__name__}, not a dict")
    paid = {w for w, amount in payouts.items() if w != POOL and amount}
    if "outside" in paid:
        return f"{label}: shares older than the last {window} were paid (window larger than {window})"
    if "edge" not in paid:
        return f"{label}: the oldest share of the last {window} was not paid (window smaller than {window})"
    if "inside" not in paid:
        return f"{label}: the newest {window - 1} shares were not paid"
    total = sum(payouts.values())
    if total != REWARD_SAT:
        return f"{label}: payouts sum to {total} sat, not the block reward {REWARD_SAT}"
    return None


def probe_configured_window_decides(ctx):
    module = ctx.load("pplns")
    cls = ctx.cls(module, "PPLNSManager")
    config_path = os.path.join(ctx.candidate_dir, "pool_config.json")
    with open(config_path) as fh:
        try:
            shipped = json.load(fh)
        except ValueError as exc:
            # the answer's commands rewrote the config (a `//` comment in it): the pool cannot start
            raise _harness.ProbeFailed(f"pool_config.json as the answer leaves it is not JSON ({exc}): "
                                       "the pool cannot read its settings") from None
    shipped_window = int(shipped.get("pplns_window", 50000))
    cases = [(shipped_window, dict(shipped), "shipped pool_config.json")]
    for window in (3_000, 25_000):
        config = dict(shipped)
        config["pplns_window"] = window
        cases.append((window, config, f"pplns_window={window}"))
    checked = []
    for window, config, label in cases:
        db = _shares_db(window)
        if label.startswith("shipped") and hasattr(cls, "from_file"):
            manager = cls.from_file(config_path, db, FakeRPC())
        else:
            manager = _manager(ctx, cls, config, db)
        wrong = _window_of(manager, window, label)
        expect(wrong is None, wrong)
        stats = manager.get_worker_stats("inside") if hasattr(manager, "get_worker_stats") else None
        if isinstance(stats, dict) and "window_limit" in stats:
            expect(stats["window_limit"] == window,
                   f"{label}: get_worker_stats reports window_limit {stats['window_limit']}, not {window}")
        checked.append(str(window))
    # without the key the manager still works with some positive window
    config = {k: v for k, v in shipped.items() if k != "pplns_window"}
    db = _shares_db(3_000)
    try:
        manager = _manager(ctx, cls, config, db)
        payouts = manager.calculate_payouts(REWARD_SAT, 800_000)
    except (KeyError, ValueError):
        default = "a clear error"          # a required key, rejected up front, is a fair choice
    else:
        paid = {w for w, amount in payouts.items() if w != POOL and amount}
        expect(paid, "without pplns_window no share is paid at all")
        default = "a default window"
    return f"windows of {', '.join(checked)} shares paid exactly those shares; no pplns_window: {default}"


def _function_node(tree, class_name, func_name):
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == func_name:
                    return item
    return None


def probe_window_size_not_dead(ctx):
    module = ctx.load("pplns")
    ctx.cls(module, "PPLNSManager")
    with open(os.path.join(ctx.candidate_dir, "pplns.py")) as fh:
        tree = ast.parse(fh.read())
    func = _function_node(tree, "PPLNSManager", "calculate_payouts")
    expect(func is not None, "PPLNSManager has no calculate_payouts method")
    stored = {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    loaded = {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    expect(not ("window_size" in stored and "window_size" not in loaded),
           "calculate_payouts still computes window_size and never uses it")
    if "window_size" in stored:
        return "calculate_payouts computes window_size and uses it"
    return "calculate_payouts no longer computes an unused window_size"


PROBES = [
    Probe(("pplns.config_key_mismatch", "pplns.hardcoded_share_window"),
          "configured_window_decides", probe_configured_window_decides, timeout=5.0),
    Probe("pplns.window_size_unused", "window_size_not_dead", probe_window_size_not_dead),
]

if __name__ == "__main__":
    _harness.main("pplns", PROBES, import_check, __file__)
