"""Behavioural probes of the stratum task.

The candidate ``StratumServer`` is started with ``start()`` on a loopback port with a
fake bitcoind (``getblocktemplate`` never answers, so jobs come only from the probe's
``broadcast_job`` calls; ``submitblock`` records the block) and a fake share log. A
miner written here speaks stratum to it and builds headers the way a real miner does,
so the hash the pool records for a share can be compared with the true one.
"""

import ast
import asyncio
import contextlib
import hashlib
import inspect
import json
import logging
import os
import socket
import struct
import time as real_time

import _harness
from _harness import Probe, expect

WORKER = "bc1qminerpayoutaddress0000000000000000000.rig1"
PAYOUT_SCRIPT = "0014" + "ab" * 20
ACCEPT_ALL = (1 << 256) - 1     # share target with difficulty 1: every share meets it
STEP = 2.0                      # seconds any single exchange may take

# Block 125552 (domain facts): the header the pool must hash like the network does.
B125552 = {
    "version": 1,
    "previousblockhash": "00000000000008a3a41b85b8b29ad444def299fee21793cd8b9e567eab02cd81",
    "merkleroot": "2b12fcf1b09288fcaff797d71e950e71ae42b91e8bdb2304758dfcffc2b620e3",
    "curtime": 1305998791,
    "bits": "1a44b9f2",
    "nonce": 2504433986,
    "hash": "00000000000000001e8d6829a8a21adc5d38d0a473b144b6765798e61f98bd1d",
}


def dsha256(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def true_header(template, merkle_root, ntime, nonce):
    """The 80-byte header as Bitcoin defines it (little-endian fields, internal hash order)."""
    return (struct.pack("<I", template["version"])
            + bytes.fromhex(template["previousblockhash"])[::-1]
            + merkle_root
            + struct.pack("<I", ntime)
            + struct.pack("<I", int(template["bits"], 16))
            + struct.pack("<I", nonce))


# the probe's own header builder must reproduce the real block before it judges anyone
assert dsha256(true_header(B125552, bytes.fromhex(B125552["merkleroot"])[::-1],
                           B125552["curtime"], B125552["nonce"]))[::-1].hex() == B125552["hash"]


def make_template(prev, height=125552, bits="1a44b9f2", curtime=1305998791, value=5_000_000_000, txs=0):
    transactions = []
    for n in range(txs):
        data = bytes([n + 1]) * 120
        transactions.append({"data": data.hex(), "txid": dsha256(data)[::-1].hex(), "fee": 1000})
    return {"version": 1, "previousblockhash": prev, "height": height, "bits": bits,
            "curtime": curtime, "coinbasevalue": value, "transactions": transactions}


class FakeRPC:
    """bitcoind: submitblock records. Jobs come from the probe: getblocktemplate never answers,
    unless ``current`` is set, the template the probe broadcast last (the poller then finds
    the tip unchanged and goes on with whatever else its loop does, such as pruning)."""

    def __init__(self, log_records=None):
        self.blocks = []
        self.log_records = log_records
        self.records_at_submit = []
        self.current = None
        self._served = None

    def serve(self, template):
        self.current = template
        if self._served is not None:
            self._served.set()

    async def getblocktemplate(self, *args, **kwargs):
        if self.current is None:
            self._served = self._served or asyncio.Event()
            await self._served.wait()
        return json.loads(json.dumps(self.current))

    async def submitblock(self, block_hex, *args):
        self.blocks.append(block_hex)
        if self.log_records is not None:
            self.records_at_submit.append(len(self.log_records))
        return None

    def __getattr__(self, name):
        async def call(*args, **kwargs):
            return None
        return call


class ShareLog:
    def __init__(self):
        self.shares = []

    async def record(self, worker, difficulty, block_hash=None, *args, **kwargs):
        self.shares.append((worker, block_hash))

    def __getattr__(self, name):
        async def call(*args, **kwargs):
            return None
        return call


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def import_check(ctx):
    module = ctx.load("stratum_server")
    ctx.cls(module, "StratumServer")
    return "StratumServer imports"


class Pool:
    """The candidate server, started on loopback inside the running event loop."""

    def __init__(self, ctx, log_records=None):
        self.module = ctx.load("stratum_server")
        cls = ctx.cls(self.module, "StratumServer")
        if hasattr(self.module, "DIFF1_TARGET"):
            self.module.DIFF1_TARGET = ACCEPT_ALL
        self.rpc = FakeRPC(log_records)
        self.share_log = ShareLog()
        self.port = free_port()
        config = {"stratum_host": "127.0.0.1", "stratum_port": self.port, "start_difficulty": 1,
                  "payout_script": PAYOUT_SCRIPT, "template_poll_seconds": 3600}
        try:
            self.server = cls(self.rpc, self.share_log, config)
        except TypeError as exc:
            raise _harness.CandidateError(f"StratumServer(rpc, share_log, config) cannot be built: {exc}") from exc
        self.task = None
        self.candidate_dir = ctx.candidate_dir
        self.raised = []
        handler = getattr(self.server, "_handle_client", None)
        if inspect.iscoroutinefunction(handler):
            # what made the pool drop a session, for the report of the closed connection
            async def recorded(reader, writer):
                try:
                    return await handler(reader, writer)
                except Exception as exc:
                    self.raised.append(exc)
                    raise
            self.server._handle_client = recorded

    def why_closed(self):
        """' (connection closed: the pool raised …)', or ' (connection closed)'."""
        if not self.raised:
            return " (connection closed)"
        return f" (connection closed: the pool raised {_harness.describe_exception(self.raised[-1], self.candidate_dir)})"

    async def start(self):
        self.task = asyncio.ensure_future(self.server.start())
        deadline = real_time.monotonic() + STEP
        while real_time.monotonic() < deadline:
            if self.task.done():
                exc = self.task.exception()
                raise _harness.CandidateError("start() ended: " + (
                    _harness.describe_exception(exc, None) if exc else "returned without serving"))
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.01)
        raise _harness.CandidateError("start() never listened on its configured port")

    async def job(self, template, clean_jobs=True, poller_sees_it=False):
        await self.server.broadcast_job(template, clean_jobs)
        if poller_sees_it:
            self.rpc.serve(template)


class Miner:
    """A stratum client that keeps every notify and answers replies by id."""

    def __init__(self):
        self.jobs = {}
        self.last_job = None
        self.replies = {}
        self.next_id = 10
        self.closed = False
        self.pool = None

    def closed_note(self):
        """What to add to a missing reply: why the pool closed the connection, if it did."""
        if not self.closed:
            return ""
        return self.pool.why_closed() if self.pool else " (connection closed)"

    async def connect(self, port):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.listener = asyncio.ensure_future(self._read())
        result = await self.call("mining.subscribe", ["probe-miner/1.0"])
        expect(isinstance(result, list) and len(result) >= 3, f"mining.subscribe answered {result!r}")
        self.extranonce1 = bytes.fromhex(result[1])
        self.extranonce2_size = int(result[2])
        authorized = await self.call("mining.authorize", [WORKER, "x"])
        expect(authorized is True, f"mining.authorize answered {authorized!r}")

    async def _read(self):
        while True:
            line = await self.reader.readline()
            if not line:
                self.closed = True
                return
            message = json.loads(line)
            if message.get("method") == "mining.notify":
                params = message["params"]
                self.jobs[params[0]] = params
                self.last_job = params[0]
            elif message.get("id") is not None:
                self.replies[message["id"]] = message

    async def request(self, method, params):
        """Send one request; the full reply, or None when the pool closed the connection or kept silent."""
        self.next_id += 1
        msg_id = self.next_id
        self.writer.write((json.dumps({"id": msg_id, "method": method, "params": params}) + "\n").encode())
        await self.writer.drain()
        deadline = real_time.monotonic() + STEP
        while msg_id not in self.replies and not self.closed and real_time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        return self.replies.get(msg_id)

    async def call(self, method, params):
        reply = await self.request(method, params)
        expect(reply is not None, f"no reply to {method}" + self.closed_note())
        return reply.get("result")

    async def wait_job(self, count):
        deadline = real_time.monotonic() + STEP
        while len(self.jobs) < count and real_time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        expect(len(self.jobs) >= count, f"expected {count} mining.notify messages, got {len(self.jobs)}")

    def share(self, job_id, template, nonce, extranonce2=None):
        """(submit params, true block hash) for a share of job ``job_id`` built on ``template``."""
        params = self.jobs[job_id]
        coinb1, coinb2, branch = bytes.fromhex(params[2]), bytes.fromhex(params[3]), params[4]
        extranonce2 = extranonce2 if extranonce2 is not None else b"\x00" * (self.extranonce2_size - 1) + b"\x01"
        root = dsha256(coinb1 + self.extranonce1 + extranonce2 + coinb2)
        for step in branch:
            root = dsha256(root + bytes.fromhex(step))
        ntime = template["curtime"]
        header = true_header(template, root, ntime, nonce)
        submit = [WORKER, job_id, extranonce2.hex(), "%08x" % ntime, "%08x" % nonce]
        return submit, dsha256(header)[::-1].hex(), header


def run_async(body, ctx, limit):
    async def wrapped():
        return await asyncio.wait_for(body(ctx), timeout=limit)
    try:
        return asyncio.run(wrapped())
    except asyncio.TimeoutError:
        raise _harness.ProbeFailed(f"the exchange with the pool did not finish within {limit:g} s (no reply?)") from None


async def _pool_and_miner(ctx, template, log_records=None):
    pool = Pool(ctx, log_records)
    await pool.start()
    await pool.job(template, True)
    miner = Miner()
    miner.pool = pool
    await miner.connect(pool.port)
    await miner.wait_job(1)
    return pool, miner


def _recorded_hash(pool, before):
    new = pool.share_log.shares[before:]
    return new[-1][1] if new else None


def _direct_header_hash(server, template):
    """Block 125552's own header through the candidate's ``_build_header``, when its
    signature is one this probe can fill: (merkle_root, ntime, nonce[, template or job])."""
    build = getattr(server, "_build_header", None)
    if not callable(build):
        return None
    try:
        names = list(inspect.signature(build).parameters)
    except (TypeError, ValueError):
        return None
    root = bytes.fromhex(B125552["merkleroot"])[::-1]
    values = [root, B125552["curtime"], B125552["nonce"]]
    for name in names[3:]:
        if "template" in name:
            values.append(template)
        elif "job" in name:
            values.append({"template": template, "block_template": template, "job_id": "1"})
        else:
            return None
    if len(names) < 3:
        return None
    server.block_template = template
    header = build(*values)
    if not isinstance(header, (bytes, bytearray)) or len(header) != 80:
        return None
    return dsha256(bytes(header))[::-1].hex()


async def _byte_order(ctx):
    template = make_template(B125552["previousblockhash"])
    pool, miner = await _pool_and_miner(ctx, template)
    submit, truth, _ = miner.share(miner.last_job, template, B125552["nonce"])
    before = len(pool.share_log.shares)
    result = await miner.call("mining.submit", submit)
    expect(result is True, f"a share meeting the share target was answered {result!r}")
    got = _recorded_hash(pool, before)
    expect(got == truth, f"on block 125552's prev hash and bits the pool hashed the share to {got}, "
                         f"the miner's header hashes to {truth} (prev hash or bits not in header byte order)")
    direct = _direct_header_hash(pool.server, template)
    if direct is None:
        return f"a share on block 125552's fields hashes to the miner's {truth[:16]}... (header self-check passed)"
    expect(direct == B125552["hash"], f"_build_header on block 125552's fields hashes to {direct}, "
                                      f"not the block's hash {B125552['hash']}")
    return f"_build_header gives block 125552's hash {B125552['hash'][:24]}...; a share on its fields hashes as the miner's"


async def _stale_job(ctx):
    prev = "00000000000000000002a7c4c1e48d76c5a37902165a270156b7a8d72728a054"
    job_a = make_template(prev, height=800_000, bits="17053894", curtime=1690000000, value=625_000_000)
    job_b = make_template(prev, height=800_000, bits="17053894", curtime=1690000030, value=626_000_000, txs=2)
    with _fixed_extranonce1():
        pool, miner = await _pool_and_miner(ctx, job_a)
        first = miner.last_job
        await pool.job(job_b, False)
        await miner.wait_job(2)
        second = miner.last_job
        expect(second != first, "the replacing job reused the old job id")
        submit, truth, _ = miner.share(second, job_b, 12346)
        before = len(pool.share_log.shares)
        result = await miner.call("mining.submit", submit)
        got = _recorded_hash(pool, before)
        expect(result is True and got is not None, f"a share for the current job {second} was answered {result!r}")
        # a pool that builds headers otherwise (the byte order check's defect) is held to its
        # own hash of the replaced job's share, taken by a pool where that job is still current
        own = got != truth
        submit, truth, _ = miner.share(first, job_a, 12345)
        if own:
            alone, alone_miner = await _pool_and_miner(ctx, job_a)
            before = len(alone.share_log.shares)
            expect(await alone_miner.call("mining.submit", submit) is True,
                   f"in a pool where job {first} is still current, its share was refused")
            truth = _recorded_hash(alone, before)
        before = len(pool.share_log.shares)
        result = await miner.call("mining.submit", submit)
        expect(result is True, f"a share for the job just replaced (clean_jobs=false) was answered {result!r}")
        got = _recorded_hash(pool, before)
        expect(got == truth, f"a share for the replaced job {first} was validated against another job "
                             f"(pool hash {got}, the job's header hashes to {truth}"
                             + (" as this pool builds headers)" if own else ")"))
    return (f"shares for the replaced job {first} and the current job {second} each hash against their own job"
            + (" (as this pool builds its headers)" if own else ""))


@contextlib.contextmanager
def _fixed_extranonce1():
    """Every pool of this probe hands the miner the same extranonce1, so two pools hash one
    share alike."""
    urandom = os.urandom
    os.urandom = lambda n: bytes(range(1, n + 1))
    try:
        yield
    finally:
        os.urandom = urandom


async def _unknown_job(ctx):
    template = make_template("00000000000000000002a7c4c1e48d76c5a37902165a270156b7a8d72728a054",
                             height=800_000, bits="17053894", curtime=1690000000)
    pool, miner = await _pool_and_miner(ctx, template)
    submit, _, _ = miner.share(miner.last_job, template, 777)
    submit[1] = "deadbeef"
    reply = await miner.request("mining.submit", submit)
    expect(reply is not None, "no reply to a share for an unknown job id" + miner.closed_note())
    expect(reply.get("result") is not True and reply.get("error"),
           f"a share for the unknown job id 'deadbeef' was answered {reply.get('result')!r} "
           f"with error {reply.get('error')!r}")
    return f"a share for an unknown job id is rejected with error {reply['error']!r}"


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        try:
            self.records.append((record.levelno, record.getMessage()))
        except Exception:
            # a record whose arguments do not fit its format: logging's handleError prints
            # the message and every argument to stderr, which the log service keeps too
            self.records.append((record.levelno, f"{record.msg} (logging error; arguments: {record.args!r})"))


async def _info_leak(ctx):
    handler = _Records()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    prev = "0000000000000000000177c9b3a61c3ba8f6e8a1b14a2a9dc2f3e23a6b7a1e5d"
    template = make_template(prev, height=800_001, bits="2100ffff", curtime=1690000600, txs=3)
    template["default_witness_commitment"] = "6a24aa21a9ed" + "11" * 32
    pool, miner = await _pool_and_miner(ctx, template, handler.records)
    submit, _, header = miner.share(miner.last_job, template, 4242)
    reply = await miner.request("mining.submit", submit)
    expect(reply is not None, "no reply to mining.submit" + miner.closed_note())
    if not pool.rpc.blocks and reply.get("error"):
        # (the answer's own checks refused a valid share, a length check comparing hex digits
        # with bytes: no block was built, so what the log would hold cannot be seen)
        raise _harness.CandidateError(f"cannot be judged: the pool refused a valid share with error {reply['error']!r} "
                                      f"before building the block")
    expect(pool.rpc.blocks, f"a share meeting the network target was not submitted with submitblock "
                            f"(reply {reply.get('result')!r})")
    block_hex = pool.rpc.blocks[0]
    cut = pool.rpc.records_at_submit[0]
    header_hex = block_hex[:160]
    # at any level: a block demoted to DEBUG is written whenever debug logging is on
    for level, text in handler.records[:cut]:
        where = "" if level >= logging.INFO else f" (at {logging.getLevelName(level)})"
        expect(block_hex not in text, f"the whole block hex is logged before submitblock{where}: " + text[:120])
        expect(header_hex not in text, f"the solved block's header hex is logged before submitblock{where}: " + text[:120])
    # (after submitblock the block is public: the contract lets a fix move the log there)
    return f"the block went to submitblock ({len(block_hex) // 2} bytes) and its hex was not logged before it"


async def _malformed(ctx):
    template = make_template("00000000000000000002a7c4c1e48d76c5a37902165a270156b7a8d72728a054",
                             height=800_000, bits="17053894", curtime=1690000000)
    pool, miner = await _pool_and_miner(ctx, template)
    good, _, _ = miner.share(miner.last_job, template, 99)
    en2 = good[2]
    cases = [
        ("4 params", good[:4]),
        ("3 params", good[:3]),
        ("params null", None),
        ("non-hex nonce", good[:4] + ["zzzzzzzz"]),
        ("non-hex ntime", good[:3] + ["xyz01234", good[4]]),
        ("odd-length extranonce2", good[:2] + [en2[:-1]] + good[3:]),
        ("number as nonce", good[:4] + [12345678]),
    ]
    # hex of the wrong length parses, and the program as shipped takes it without raising:
    # the contract asks for the input that raises, so a length check is not required
    # (a reply is: the session must not die on them)
    lengths = [
        ("short extranonce2", good[:2] + [en2[:2]] + good[3:]),
        ("long extranonce2", good[:2] + [en2 + "00"] + good[3:]),
        ("short nonce", good[:4] + ["1234"]),
    ]
    for label, params in lengths:
        reply = await miner.request("mining.submit", params)
        expect(reply is not None, f"submit with {label}: no reply" + (", the pool dropped the session" if miner.closed else ""))
    for label, params in cases:
        reply = await miner.request("mining.submit", params)
        expect(reply is not None, f"submit with {label}: no reply" + (", the pool dropped the session" if miner.closed else ""))
        expect(reply.get("result") is not True and reply.get("error"),
               f"submit with {label}: answered {reply.get('result')!r} without a stratum error")
    fine, _, _ = miner.share(miner.last_job, template, 100)
    result = await miner.call("mining.submit", fine)
    expect(result is True, f"after the malformed submits a valid share was answered {result!r}")
    return (f"{len(cases)} malformed submits got stratum errors, {len(lengths)} of the wrong length a reply, "
            "and the session still accepts shares")


class _VirtualTime:
    """``time`` for the candidate module with a clock the probe moves forward."""

    def __init__(self, real):
        self._real = real
        self.offset = 0.0

    def time(self):
        return self._real.time() + self.offset

    def monotonic(self):
        return self._real.monotonic() + self.offset

    def __getattr__(self, name):
        return getattr(self._real, name)


class _FastAsyncio:
    """``asyncio`` for the candidate module whose long sleeps last a moment (a pruning loop runs)."""

    def __getattr__(self, name):
        return getattr(asyncio, name)

    @staticmethod
    async def sleep(delay, result=None):
        return await asyncio.sleep(min(delay, 0.001), result)


MEMORY_SUBMITS = 100_000
SHARES_PER_JOB = 1_000
SECONDS_PER_JOB = 60.0
# a submit that walks the whole state slows down as the state grows: past this many wall
# seconds (and SLOW_MIN_JOBS jobs) the jobs go on with a trickle of shares, still a minute
# apart, for TRICKLE_JOBS jobs; a prune by age then drops the early jobs' shares and a size
# cap holds the state, a state never pruned keeps growing (a quiet gap longer than the age would let a prune that only
# looks at the newest entry pass)
MEMORY_WALL_BUDGET = 6.0
SLOW_MIN_JOBS = 5
# ... and only when the jobs left, at the pace of the last one, would end past this many wall
# seconds: a busy machine that still gets through them all judges the run in full
MEMORY_RUN_LIMIT = 10.0
TRICKLE_JOBS = 80
TRICKLE_SHARES = 15
LONG_JOB_STEP = 25.0         # seconds between the shares of the long job
LONG_JOB_STEPS = 288         # two hours


def _state_size(obj, depth=0, seen=None):
    """Entries held in the containers reachable from the server's attributes."""
    seen = seen if seen is not None else set()
    if id(obj) in seen or depth > 4:
        return 0
    seen.add(id(obj))
    if isinstance(obj, (str, bytes, int, float, bool)) or obj is None:
        return 0
    if isinstance(obj, dict):
        return len(obj) + sum(_state_size(v, depth + 1, seen) for v in list(obj.values())[:200])
    if isinstance(obj, (list, set, frozenset, tuple)) or type(obj).__name__ == "deque":
        items = list(obj)
        return len(items) + sum(_state_size(v, depth + 1, seen) for v in items[:200])
    if hasattr(obj, "__dict__") and depth == 0:
        return sum(_state_size(v, depth + 1, seen) for k, v in vars(obj).items() if k != "sessions")
    return 0


def _size_cap(ctx, module, server):
    """The size bound the candidate puts on ``recent_shares`` (``len(self.recent_shares) > N``,
    ``deque(maxlen=N)``), as a number, or None. A bound above this probe's submits cannot
    show in its run."""
    if getattr(getattr(server, "recent_shares", None), "maxlen", None):
        return server.recent_shares.maxlen
    try:
        with open(os.path.join(ctx.candidate_dir, "stratum_server.py"), encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Compare) and isinstance(node.left, ast.Call)
                and getattr(node.left.func, "id", None) == "len" and node.left.args
                and isinstance(node.left.args[0], ast.Attribute) and node.left.args[0].attr == "recent_shares"):
            continue
        bound = node.comparators[0]
        if isinstance(bound, ast.Constant) and isinstance(bound.value, int):
            return bound.value
        name = bound.attr if isinstance(bound, ast.Attribute) else getattr(bound, "id", None)
        value = getattr(server, name, None) if name else None
        value = getattr(module, name, None) if value is None and name else value
        if isinstance(value, int):
            return value
    return None


def _lower_named_cap(ctx, module, server):
    """A size bound named by a constant (``MAX_RECENT_SHARES = 200_000``) and too high for
    this probe's submits is lowered to one they pass, so the run sees the cap work, the
    prune's order and the duplicate check beside it; a literal bound is left as it is."""
    cap = _size_cap(ctx, module, server)
    if cap is None or cap < 2 * MEMORY_SUBMITS:
        return
    lowered = MEMORY_SUBMITS * 3 // 4
    for owner in (server, type(server), module):
        for name, value in list(vars(owner).items()):
            if value == cap and isinstance(value, int) and not name.startswith("__"):
                setattr(owner, name, lowered)


async def _memory(ctx):
    pool = Pool(ctx)
    module = pool.module
    clock = _VirtualTime(real_time)
    if getattr(module, "time", None) is real_time:
        module.time = clock
    elif callable(getattr(module, "time", None)):
        module.time = clock.time
    if callable(getattr(module, "monotonic", None)):
        module.monotonic = clock.monotonic
    if getattr(module, "asyncio", None) is asyncio:
        module.asyncio = _FastAsyncio()
    await pool.start()
    server = pool.server
    session_cls = getattr(module, "MinerSession", None)
    expect(session_cls is not None, "no MinerSession class to attach a miner to")

    class Writer:
        def __init__(self):
            self.job = None
            self.replies = {}

        def write(self, data):
            for line in data.splitlines():
                if b"mining.notify" in line:
                    message = json.loads(line)
                    if message.get("method") == "mining.notify":
                        self.job = message["params"][0]
                elif b'"result"' in line:
                    message = json.loads(line)
                    self.replies[message.get("id")] = message

        async def drain(self):
            pass

        def get_extra_info(self, name, default=None):
            return ("127.0.0.1", 40000) if name == "peername" else default

        def close(self):
            pass

        def is_closing(self):
            return False

    writer = Writer()
    session = session_cls(None, writer, b"\x00\x00\x00\x01")
    sessions = getattr(server, "sessions", None)
    if isinstance(sessions, dict):
        sessions[id(session)] = session
    await server._dispatch(session, {"id": 1, "method": "mining.subscribe", "params": []})
    await server._dispatch(session, {"id": 2, "method": "mining.authorize", "params": [WORKER, "x"]})
    _lower_named_cap(ctx, module, server)
    sizes = {}
    jobs = MEMORY_SUBMITS // SHARES_PER_JOB
    msg_id = 3
    started = real_time.monotonic()

    async def submit_jobs(first, count, budget=None, per_job=SHARES_PER_JOB):
        """Submit ``per_job`` shares on each of ``count`` jobs; the jobs made (fewer when
        ``budget`` wall seconds have run out and the rest would end past MEMORY_RUN_LIMIT)."""
        nonlocal msg_id
        took = []
        for job_number in range(first, first + count):
            began = real_time.monotonic()
            prev = "%064x" % (job_number + 1)
            # (the template poller runs, as on a live pool: a prune in its loop counts)
            await pool.job(make_template(prev, height=800_000 + job_number, bits="17053894",
                                         curtime=1690000000 + job_number * 600), True, poller_sees_it=True)
            expect(writer.job is not None, "broadcast_job sent no mining.notify to the subscribed miner")
            job_id = writer.job
            for n in range(per_job):
                await server._dispatch(session, {"id": msg_id, "method": "mining.submit",
                                                 "params": [WORKER, job_id, "00000001", "64c6d3c0", "%08x" % n]})
                msg_id += 1
            clock.offset += SECONDS_PER_JOB
            await asyncio.sleep(0.002)       # let a pruning task the server started run
            made = job_number + 1 - first
            took.append(real_time.monotonic() - began)
            if budget is not None:
                sizes[job_number + 1] = _state_size(server)
                elapsed = real_time.monotonic() - started
                if made < count and made >= SLOW_MIN_JOBS and elapsed > budget \
                        and elapsed + (count - made) * took[-1] > MEMORY_RUN_LIMIT:
                    return made
            elif job_number + 1 in (jobs // 2, jobs):
                sizes[job_number + 1] = _state_size(server)
        return count

    made = await submit_jobs(0, jobs, budget=MEMORY_WALL_BUDGET)
    _some_submit_stored(writer, range(3, msg_id))
    if made < jobs:
        return await _judged_on_a_trickle(ctx, module, server, session, writer, clock, made, sizes, submit_jobs)
    half, full = sizes[jobs // 2], sizes[jobs]
    shares = len(getattr(server, "recent_shares", ()) or ())
    cap = _size_cap(ctx, module, server)
    grew = full - half >= MEMORY_SUBMITS // 20
    if grew and cap is not None and MEMORY_SUBMITS // 2 + MEMORY_SUBMITS // 20 <= cap < 2 * MEMORY_SUBMITS:
        # a cap the state reaches only late in the run (at 100000 the last half still grows):
        # go on past it and see whether it holds
        await submit_jobs(jobs, (cap - MEMORY_SUBMITS) // SHARES_PER_JOB + 2)
        held = len(getattr(server, "recent_shares", ()) or ())
        # (a prune before the insert, or once a job, overshoots by a share or a job's shares)
        expect(held <= cap + SHARES_PER_JOB, f"recent_shares holds {held} entries after {msg_id - 3} submits, past "
                            f"its cap of {cap}: the cap never applies")
        await _duplicate_still_refused(server, session, writer, msg_id, clock)
        return f"recent_shares is capped at {cap} entries and held {held} after more submits than that"
    await _duplicate_still_refused(server, session, writer, msg_id, clock)
    if grew and cap is not None and cap >= 2 * MEMORY_SUBMITS and shares <= cap:
        raise _harness.CandidateError(f"cannot be judged: recent_shares is capped at {cap} entries, more than the "
                                      f"{MEMORY_SUBMITS} submits this probe makes")
    expect(not grew,
           f"the server's state grew from {half} to {full} entries over the last {MEMORY_SUBMITS // 2} submits "
           f"(recent_shares holds {shares}): never pruned")
    return (f"{MEMORY_SUBMITS} submits over {jobs} jobs ({SECONDS_PER_JOB:g} s apart): state {half} entries at "
            f"half-way, {full} at the end; recent_shares holds {shares}")


# replies that come after a share was stored (or from a check that does not depend on it)
_AFTER_STORING = {22, 23}


def _some_submit_stored(writer, ids):
    """A bound can only be judged on shares the server took in: when it refused every submit
    before the duplicate check (a length check that rejects every valid share), nothing
    reached ``recent_shares`` and its growth says nothing."""
    for msg_id in ids:
        error = (writer.replies.get(msg_id) or {}).get("error")
        code = error.get("code") if isinstance(error, dict) else error[0] if isinstance(error, list) and error else None
        if not error or code in _AFTER_STORING:
            return
    if ids:
        raise _harness.CandidateError(f"cannot be judged: the pool refused all {len(ids)} submits before storing "
                                      f"any (first reply {writer.replies[ids[0]]['error']!r}), so no share reached "
                                      f"recent_shares")


async def _judged_on_a_trickle(ctx, module, server, session, writer, clock, made, sizes, submit_jobs):
    """The judgement when submits slow down as the state grows: after ``made`` full jobs the
    jobs go on, a minute apart, with TRICKLE_SHARES shares each."""
    before = sizes[made]
    await submit_jobs(made, TRICKLE_JOBS, per_job=TRICKLE_SHARES)
    after = _state_size(server)
    submitted = made * SHARES_PER_JOB + TRICKLE_JOBS * TRICKLE_SHARES
    shares = len(getattr(server, "recent_shares", ()) or ())
    cap = _size_cap(ctx, module, server)
    # (a prune by age shrinks the state, a size cap it has reached holds it: both stop the growth)
    grew = after - before >= TRICKLE_JOBS * TRICKLE_SHARES // 2
    # (a bound that forgets the keys the duplicate check needs fails, whatever its cap)
    await _duplicate_still_refused(server, session, writer, 10 ** 9, clock)
    if grew and cap is not None and shares <= cap:
        raise _harness.CandidateError(f"cannot be judged: recent_shares is capped at {cap} entries, more than the "
                                      f"{submitted} submits this probe made before its submits slowed down")
    span = (made + TRICKLE_JOBS) * SECONDS_PER_JOB / 60
    expect(not grew,
           f"each submit slowed down as the state grew, and over {span:g} minutes of jobs the state went from "
           f"{before} to {after} entries (recent_shares holds {shares} of {submitted} submits): never pruned")
    return (f"submits slowed down as the state grew; over {span:g} minutes of jobs the state went from {before} to "
            f"{after} entries of {submitted} submits (recent_shares holds {shares})")


async def _duplicate_still_refused(server, session, writer, msg_id, clock):
    """A bound that keeps the duplicate check working: the same share sent twice in a row is
    refused the second time (a prune that empties the dict on every submit bounds it too),
    and again a minute later, after another share."""
    session.difficulty = 1e-12          # every share meets the share target: the reply tells
    params = [WORKER, writer.job, "00000002", "64c6d3c0", "0badf00d"]
    replies = []
    for offset in (0, 1):
        await server._dispatch(session, {"id": msg_id + offset, "method": "mining.submit", "params": list(params)})
        replies.append(writer.replies.get(msg_id + offset))
    first, second = replies
    if first is None or first.get("result") is not True:
        return                          # the share itself is refused: the duplicate cannot be told apart
    expect(second is not None and second.get("result") is not True,
           "the same share sent twice in a row was accepted twice: the pruning drops the keys the duplicate "
           "check needs")
    # the same job goes on for two hours: a prune by age must forget the first share before one
    # sent a minute after it (``popitem()`` takes the newest: once the oldest key is due it
    # empties everything, keys not yet due with it)
    clock.offset += 60.0
    later = [WORKER, writer.job, "00000003", "64c6d3c0", "0badf00d"]
    await server._dispatch(session, {"id": msg_id + 2, "method": "mining.submit", "params": list(later)})
    msg_id += 3
    for step in range(1, LONG_JOB_STEPS + 1):
        clock.offset += LONG_JOB_STEP
        fresh = [WORKER, writer.job, "00000004", "64c6d3c0", "%08x" % step]
        await server._dispatch(session, {"id": msg_id, "method": "mining.submit", "params": fresh})
        await asyncio.sleep(0.002)      # a pruning task the server started runs
        dropped = []
        for offset, share in ((1, later), (2, params)):
            await server._dispatch(session, {"id": msg_id + offset, "method": "mining.submit", "params": list(share)})
            reply = writer.replies.get(msg_id + offset)
            dropped.append(reply is not None and reply.get("result") is True)
        msg_id += 3
        later_dropped, first_dropped = dropped
        expect(not later_dropped, f"{step * LONG_JOB_STEP / 60:.0f} min into one job, a share was forgotten "
                                  f"{'as early as' if first_dropped else 'before'} one sent a minute before it: "
                                  "the pruning drops keys that are not yet due")
        if first_dropped:
            return


def _probe(body, limit=_harness.PROBE_TIMEOUT * 0.9):
    def probe(ctx):
        return run_async(body, ctx, limit)
    return probe


PROBES = [
    # the 100k-submit run (about 3 s of CPU) goes first so the short probes use the other
    # core meanwhile; its limit leaves room for a machine shared with other work
    Probe("stratum.memory_leak", "recent_shares_bounded", _probe(_memory, 14.0), timeout=15.0),
    Probe("stratum.byte_order", "share_hash_block_125552", _probe(_byte_order)),
    Probe("stratum.info_leak", "no_block_hex_logged_before_submit", _probe(_info_leak)),
    Probe("stratum.stale_job", "share_for_replaced_job", _probe(_stale_job)),
    Probe("stratum.stale_job", "unknown_job_rejected", _probe(_unknown_job)),
    Probe("stratum.input_validation", "malformed_submit_error_reply", _probe(_malformed)),
]

if __name__ == "__main__":
    _harness.main("stratum", PROBES, import_check, __file__)
