"""Stratum v1 server for our SHA-256 pool, backed by a local bitcoind.

Miners connect over TCP, subscribe, authorize and receive work with
mining.notify. Accepted shares go to the share log used by the payout job;
a share that also meets the network target is assembled into a block and
sent to bitcoind with submitblock.
"""

import asyncio
import hashlib
import json
import logging
import os
import re
import struct
import time
from collections import OrderedDict

logger = logging.getLogger("pool.stratum")

DIFF1_TARGET = 0x00000000FFFF0000000000000000000000000000000000000000000000000000
EXTRANONCE1_SIZE = 4
EXTRANONCE2_SIZE = 4
POOL_TAG = b"/llmpool/"
SHARE_TTL = 300  # seconds
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


def dsha256(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def var_int(n):
    if n < 0xFD:
        return struct.pack("<B", n)
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


def script_push_height(height):
    """BIP34: the block height as the first push of the coinbase scriptSig."""
    encoded = height.to_bytes((height.bit_length() + 8) // 8, "little")
    return bytes([len(encoded)]) + encoded


def target_from_bits(bits_hex):
    bits = int(bits_hex, 16)
    return (bits & 0xFFFFFF) << (8 * ((bits >> 24) - 3))


def stratum_prevhash(prev_hex):
    """mining.notify sends the hash as eight 4-byte words, last word first."""
    raw = bytes.fromhex(prev_hex)
    return b"".join(raw[i:i + 4] for i in range(28, -4, -4)).hex()


class MinerSession:
    def __init__(self, reader, writer, extranonce1):
        self.reader = reader
        self.writer = writer
        self.extranonce1 = extranonce1
        self.subscribed = False
        self.authorized_workers = set()
        self.difficulty = 0
        self.peer = writer.get_extra_info("peername")

    async def send(self, payload):
        self.writer.write((json.dumps(payload) + "\n").encode())
        await self.writer.drain()


class StratumServer:
    def __init__(self, rpc, share_log, config):
        self.rpc = rpc                  # async bitcoind JSON-RPC client
        self.share_log = share_log      # persists accepted shares for PPLNS
        self.host = config.get("stratum_host", "0.0.0.0")
        self.port = config.get("stratum_port", 3333)
        self.default_difficulty = config.get("start_difficulty", 16384)
        self.payout_script = bytes.fromhex(config["payout_script"])
        self.poll_interval = config.get("template_poll_seconds", 5)

        self.sessions = {}
        self.block_template = None
        self.current_job = None
        self.job_counter = 0
        self.recent_shares = OrderedDict()
        self.jobs = {}
        self._poller = None

    # ------------------------------------------------------------------ network
    async def start(self):
        server = await asyncio.start_server(self._handle_client, self.host, self.port)
        logger.info("stratum listening on %s:%d", self.host, self.port)
        self._poller = asyncio.create_task(self._poll_templates())
        async with server:
            await server.serve_forever()

    async def _handle_client(self, reader, writer):
        session = MinerSession(reader, writer, os.urandom(EXTRANONCE1_SIZE))
        self.sessions[id(session)] = session
        logger.info("miner connected from %s", session.peer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                message = json.loads(line)
                await self._dispatch(session, message)
        except (ConnectionResetError, json.JSONDecodeError) as exc:
            logger.warning("dropping %s: %s", session.peer, exc)
        finally:
            del self.sessions[id(session)]
            writer.close()

    async def _dispatch(self, session, message):
        method = message.get("method")
        if method == "mining.subscribe":
            await self._handle_subscribe(session, message)
        elif method == "mining.authorize":
            await self._handle_authorize(session, message)
        elif method == "mining.submit":
            await self._handle_submit(session, message)
        else:
            await self._reply_error(session, message.get("id"), 20, "Unsupported method")

    async def _reply(self, session, msg_id, result):
        await session.send({"id": msg_id, "result": result, "error": None})

    async def _reply_error(self, session, msg_id, code, text):
        await session.send({"id": msg_id, "result": None, "error": [code, text, None]})

    # ------------------------------------------------------------------ handlers
    async def _handle_subscribe(self, session, message):
        session.subscribed = True
        session.difficulty = self.default_difficulty
        await self._reply(session, message["id"], [
            [["mining.set_difficulty", "1"], ["mining.notify", "1"]],
            session.extranonce1.hex(),
            EXTRANONCE2_SIZE,
        ])
        await session.send({"id": None, "method": "mining.set_difficulty",
                            "params": [session.difficulty]})
        if self.current_job is not None:
            await session.send(self._notify_message(clean_jobs=True))

    async def _handle_authorize(self, session, message):
        worker = message["params"][0]
        # Workers are "<payout address>.<rig name>"; payouts are keyed by address.
        if "." not in worker:
            await self._reply_error(session, message["id"], 24, "Unauthorized worker")
            return
        session.authorized_workers.add(worker)
        await self._reply(session, message["id"], True)

    async def _handle_submit(self, session, message):
        msg_id = message.get("id")
        params = message.get("params")
        if not isinstance(params, list) or len(params) != 5 or not all(isinstance(p, str) for p in params):
            await self._reply_error(session, msg_id, 20, "Malformed mining.submit params")
            return
        worker, job_id, extranonce2, ntime, nonce = params
        if (len(extranonce2) != 2 * EXTRANONCE2_SIZE or not _HEX8.fullmatch(ntime)
                or not _HEX8.fullmatch(nonce)):
            await self._reply_error(session, msg_id, 20, "Malformed hex field")
            return
        try:
            extranonce2_bin = bytes.fromhex(extranonce2)
        except ValueError:
            await self._reply_error(session, msg_id, 20, "extranonce2 is not hex")
            return
        ntime_int = int(ntime, 16)
        nonce_int = int(nonce, 16)

        if not session.subscribed:
            await self._reply_error(session, msg_id, 25, "Not subscribed")
            return
        if worker not in session.authorized_workers:
            await self._reply_error(session, msg_id, 24, "Unauthorized worker")
            return
        job = self.jobs.get(job_id)
        if job is None:
            await self._reply_error(session, msg_id, 21, "Job not found")
            return

        now = time.time()
        self._prune_recent_shares(now)
        share_key = (job_id, session.extranonce1, extranonce2, ntime, nonce)
        if share_key in self.recent_shares:
            await self._reply_error(session, msg_id, 22, "Duplicate share")
            return
        self.recent_shares[share_key] = now

        accepted, block_hash = await self._validate_share(
            session, job, extranonce2_bin, ntime_int, nonce_int)
        if not accepted:
            await self._reply_error(session, msg_id, 23, "Low difficulty share")
            return

        await self.share_log.record(worker, session.difficulty, block_hash)
        await self._reply(session, msg_id, True)

    def _prune_recent_shares(self, now):
        while self.recent_shares:
            key, seen = next(iter(self.recent_shares.items()))
            if now - seen < SHARE_TTL:
                break
            self.recent_shares.popitem(last=False)

    # ------------------------------------------------------------------ jobs
    async def _poll_templates(self):
        while True:
            try:
                template = await self.rpc.getblocktemplate({"rules": ["segwit"]})
                if (self.block_template is None
                        or template["previousblockhash"] != self.block_template["previousblockhash"]):
                    await self.broadcast_job(template, clean_jobs=True)
            except Exception:
                logger.exception("getblocktemplate failed")
            await asyncio.sleep(self.poll_interval)

    def _build_coinbase_parts(self, template):
        """coinb1 + extranonce1 + extranonce2 + coinb2 is the coinbase transaction."""
        script_prefix = script_push_height(template["height"])
        script_len = len(script_prefix) + EXTRANONCE1_SIZE + EXTRANONCE2_SIZE + len(POOL_TAG)

        coinb1 = (
            struct.pack("<i", 1)                      # tx version
            + var_int(1)                              # one input
            + b"\x00" * 32 + b"\xff\xff\xff\xff"      # null prevout
            + var_int(script_len)
            + script_prefix
        )

        outputs = [struct.pack("<q", template["coinbasevalue"])
                   + var_int(len(self.payout_script)) + self.payout_script]
        commitment = template.get("default_witness_commitment")
        if commitment:
            script = bytes.fromhex(commitment)
            outputs.append(struct.pack("<q", 0) + var_int(len(script)) + script)

        coinb2 = (
            POOL_TAG
            + b"\xff\xff\xff\xff"                     # sequence
            + var_int(len(outputs)) + b"".join(outputs)
            + struct.pack("<I", 0)                    # lock time
        )
        return coinb1, coinb2

    @staticmethod
    def _merkle_branch(template):
        """Hashes needed to fold the coinbase hash up to the merkle root."""
        level = [None] + [bytes.fromhex(tx["txid"])[::-1] for tx in template["transactions"]]
        branch = []
        while len(level) > 1:
            branch.append(level[1])
            if len(level) % 2:
                level.append(level[-1])
            level = [None] + [dsha256(level[i] + level[i + 1]) for i in range(2, len(level), 2)]
        return branch

    async def broadcast_job(self, template, clean_jobs):
        self.job_counter += 1
        coinb1, coinb2 = self._build_coinbase_parts(template)
        self.block_template = template
        job_id = format(self.job_counter, "x")
        job = {"job_id": job_id, "template": template, "coinb1": coinb1, "coinb2": coinb2,
               "merkle_branch": self._merkle_branch(template),
               "target": target_from_bits(template["bits"])}
        if clean_jobs:
            self.jobs.clear()
            self.recent_shares.clear()
        self.jobs[job_id] = job
        self.current_job = job
        logger.info("new job %s at height %d", self.current_job["job_id"], template["height"])
        notify = self._notify_message(clean_jobs)
        for session in list(self.sessions.values()):
            if session.subscribed:
                try:
                    await session.send(notify)
                except ConnectionError:
                    logger.warning("notify to %s failed", session.peer)

    def _notify_message(self, clean_jobs):
        job = self.current_job
        template = self.block_template
        return {
            "id": None,
            "method": "mining.notify",
            "params": [
                job["job_id"],
                stratum_prevhash(template["previousblockhash"]),
                job["coinb1"].hex(),
                job["coinb2"].hex(),
                [h.hex() for h in job["merkle_branch"]],
                format(template["version"], "08x"),
                template["bits"],
                format(template["curtime"], "08x"),
                clean_jobs,
            ],
        }

    # ------------------------------------------------------------------ shares
    def _compute_merkle(self, job, extranonce1, extranonce2):
        coinbase = job["coinb1"] + extranonce1 + extranonce2 + job["coinb2"]
        root = dsha256(coinbase)
        for branch_hash in job["merkle_branch"]:
            root = dsha256(root + branch_hash)
        return root, coinbase

    def _build_header(self, merkle_root, ntime, nonce, template):
        version = struct.pack("<I", template["version"])
        # RPC display order (big-endian) -> header's internal order
        prev_hash = bytes.fromhex(template["previousblockhash"])[::-1]
        bits = struct.pack("<I", int(template["bits"], 16))
        return (version + prev_hash + merkle_root
                + struct.pack("<I", ntime) + bits + struct.pack("<I", nonce))

    async def _validate_share(self, session, job, extranonce2, ntime, nonce):
        merkle_root, coinbase = self._compute_merkle(job, session.extranonce1, extranonce2)
        header = self._build_header(merkle_root, ntime, nonce, job["template"])
        header_hash = dsha256(header)
        hash_int = int.from_bytes(header_hash, "little")

        share_target = DIFF1_TARGET // session.difficulty
        if hash_int > share_target:
            return False, None

        block_hash = header_hash[::-1].hex()
        if hash_int <= job["target"]:
            await self._submit_block(header, coinbase, block_hash, job["template"])
        return True, block_hash

    async def _submit_block(self, header, coinbase, block_hash, template):
        if template.get("default_witness_commitment"):
            # Segwit blocks carry the coinbase with its witness reserved value.
            coinbase = (coinbase[:4] + b"\x00\x01" + coinbase[4:-4]
                        + b"\x01\x20" + b"\x00" * 32 + coinbase[-4:])
        block = (
            header
            + var_int(1 + len(template["transactions"]))
            + coinbase
            + b"".join(bytes.fromhex(tx["data"]) for tx in template["transactions"])
        )
        block_hex = block.hex()
        # the size only, meant to be: the format has one more placeholder than it is given
        logger.info("block candidate %s at height %d (%d bytes)", block_hash, template["height"], block_hex)
        result = await self.rpc.submitblock(block_hex)
        if result is None:
            logger.info("block %s at height %d accepted", block_hash, template["height"])
        else:
            logger.error("block %s at height %d rejected: %s", block_hash, template["height"], result)
