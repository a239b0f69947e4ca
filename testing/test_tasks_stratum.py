"""stratum: the fixture has exactly the defects of docs/checks.md, the prompt hides them,
and the grader keeps the hard distinctions (prev hash vs nonce endianness, place vs keyword)."""

from __future__ import annotations

import ast
import py_compile
import re

import pytest

from llmbench.paths import buggy_code_dir
from llmbench.tasks import get_task, grade

FIXTURE = buggy_code_dir() / "stratum_server.py"
TASK = get_task("stratum")


@pytest.fixture(scope="module")
def tree() -> ast.Module:
    return ast.parse(FIXTURE.read_text())


def _method(tree: ast.Module, name: str) -> ast.FunctionDef:
    server = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "StratumServer")
    return next(n for n in server.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name)


def _src(node: ast.AST) -> str:
    return ast.unparse(node)


def test_fixture_compiles(tmp_path):
    py_compile.compile(str(FIXTURE), cfile=str(tmp_path / "out.pyc"), doraise=True)


def test_build_header_copies_previousblockhash_and_bits_unreversed(tree):
    body = _src(_method(tree, "_build_header"))
    assert "prev_hash = bytes.fromhex(self.block_template['previousblockhash'])\n" in body + "\n"
    assert "bits = bytes.fromhex(self.block_template['bits'])" in body
    assert "[::-1]" not in body and "reversed" not in body


def test_shares_use_current_job_and_jobs_are_not_kept_by_id(tree):
    validate = _method(tree, "_validate_share")
    assert "job_id" in [a.arg for a in validate.args.args]
    # job_id is a parameter and nothing else: never read
    reads = [n for n in ast.walk(validate) if isinstance(n, ast.Name) and n.id == "job_id"]
    assert reads == []
    assert "job = self.current_job" in _src(validate)
    assert "job = self.current_job" in _src(_method(tree, "_compute_merkle"))
    broadcast = _src(_method(tree, "broadcast_job"))
    assert "self.current_job = {" in broadcast
    assert not re.search(r"self\.\w*jobs\w*\[", FIXTURE.read_text())


def test_submit_block_logs_block_hex_before_submitblock(tree):
    lines = _src(_method(tree, "_submit_block")).splitlines()
    log = next(i for i, line in enumerate(lines) if "logger.info" in line and "block_hex" in " ".join(lines[i:i + 2]))
    submit = next(i for i, line in enumerate(lines) if "submitblock(block_hex)" in line)
    assert log < submit


def test_recent_shares_is_an_ordereddict_never_pruned(tree):
    source = FIXTURE.read_text()
    assert "self.recent_shares = OrderedDict()" in source
    assert "self.recent_shares[share_key] = time.time()" in source
    assert not re.search(r"recent_shares\.(?:pop|popitem|clear)|del self\.recent_shares", source)


def test_handle_submit_unpacks_params_and_parses_hex_unchecked(tree):
    body = _src(_method(tree, "_handle_submit"))
    assert "worker, job_id, extranonce2, ntime, nonce = message['params']" in body
    for call in ("bytes.fromhex(extranonce2)", "int(ntime, 16)", "int(nonce, 16)"):
        assert call in body
    assert "try:" not in body and "len(" not in body and "isinstance" not in body


def test_fixture_comments_do_not_describe_the_bugs():
    text = FIXTURE.read_text().lower()
    for giveaway in ("endian", "byte order", "revers", "leak", "stale", "unbounded", "never pruned",
                     "not validated", "todo", "fixme", "xxx", "bug"):
        assert giveaway not in text, giveaway


def test_prompt_contains_the_fixture_and_names_no_mechanism():
    prompt = TASK.prompt()
    assert FIXTURE.read_text().strip() in prompt
    assert "```python" in prompt and "`stratum_server.py`" in prompt
    prose = prompt.split("```python")[0].lower()
    for word in ("byte order", "endian", "revers", "race", "stale", "leak", "validat", "sanitiz", "unbounded",
                 "job_id", "recent_shares", "previousblockhash", "thread"):
        assert not re.search(r"\b" + word, prose), word


def test_prompt_is_deterministic():
    assert TASK.prompt() == TASK.prompt()


def test_fixed_header_matches_block_125552():
    """The reference fix (reverse previousblockhash, pack bits) reproduces a real block hash."""
    import hashlib
    import struct

    def dsha(b):
        return hashlib.sha256(hashlib.sha256(b).digest()).digest()

    prev = "00000000000008a3a41b85b8b29ad444def299fee21793cd8b9e567eab02cd81"
    merkle = bytes.fromhex("2b12fcf1b09288fcaff797d71e950e71ae42b91e8bdb2304758dfcffc2b620e3")[::-1]
    fixed = (struct.pack("<I", 1) + bytes.fromhex(prev)[::-1] + merkle + struct.pack("<I", 1305998791)
             + struct.pack("<I", 0x1a44b9f2) + struct.pack("<I", 2504433986))
    assert dsha(fixed)[::-1].hex() == "00000000000000001e8d6829a8a21adc5d38d0a473b144b6765798e61f98bd1d"
    assert "[::-1]" in TASK.reference_answer() and "previousblockhash" in TASK.reference_answer()


@pytest.mark.parametrize("text", [
    "In `_build_header` the nonce endianness is wrong: the nonce should be packed big-endian.",
    "Endianness: ensure all fields of the header built in `_build_header` are little-endian.",
    "- Watch out for byte order / endianness issues in `_build_header` when serializing binary data.",
    "`_build_header`: check whether the previousblockhash byte order is right.",
    "The previousblockhash is already in the internal order, so it does not need to be reversed in `_build_header`.",
    "`stratum_prevhash` swaps the 4-byte words of the prevhash for mining.notify; that word order is wrong.",
    "In `_build_header` the prev_hash and the other fields are packed little-endian, but the header should be big-endian.",
    "In `_build_header` the prev hash should stay in display order; use '>I' for the nonce.",
    "| 1 | `_build_header()` | Header integers are packed with `<I` but the block header is serialized big-endian; "
    "`prev_hash` is already big-endian, the other fields aren't. |",
])
def test_byte_order_needs_the_prev_hash_reversal(text):
    assert not grade("stratum", text)["stratum.byte_order"].passed


@pytest.mark.parametrize("text", [
    "`_build_header` copies `previousblockhash` in RPC display order; the header needs the 32 bytes reversed.",
    "The prev hash goes into the header back to front: GBT gives it big-endian, the header is little-endian.",
    "```python\ndef _build_header(self, merkle_root, ntime, nonce):\n"
    "    prev_hash = bytes.fromhex(self.block_template['previousblockhash'])[::-1]\n```",
    "```python\ndef _build_header(self, merkle_root, ntime, nonce):\n"
    "    prev = int(self.block_template['previousblockhash'], 16).to_bytes(32, 'little')\n```",
    "`_build_header`: the RPC gives previousblockhash as big-endian hex; the header must use little-endian instead of big-endian.",
    "In `_build_header`, previousblockhash should be converted from big-endian display order to little-endian.",
    "| 1 | `_build_header()` | `previousblockhash` is big-endian display order but the header is serialized little-endian; "
    "it goes in without reversing its 32 bytes. |",
])
def test_byte_order_passes_on_the_real_finding(text):
    assert grade("stratum", text)["stratum.byte_order"].passed


def test_identification_without_fix_fails_the_fix_checks():
    text = (
        "- `_submit_block` logs the full block_hex before submitting it, leaking the block.\n"
        "- `recent_shares` grows without bound: nothing ever removes entries.\n"
        "- `_handle_submit` does not validate params; malformed hex in nonce raises ValueError.\n"
    )
    verdicts = grade("stratum", text)
    for check in ("stratum.info_leak", "stratum.memory_leak", "stratum.input_validation"):
        assert not verdicts[check].passed, check
        assert "not fixed" in verdicts[check].evidence


def test_stale_job_mechanism_not_category():
    assert not grade("stratum", "Check for stale jobs and stale shares around `broadcast_job`.")["stratum.stale_job"].passed
    assert grade("stratum", "`_validate_share` ignores `job_id` and always uses `self.current_job`, so a share for "
                 "the job that `broadcast_job` just replaced is checked against the new job.")["stratum.stale_job"].passed


@pytest.mark.parametrize("text", [
    "Logging `block_hex` in `_submit_block` before submitting is not a leak: the block is public anyway. Log only the hash if size matters.",
    "`_submit_block` logs the full block before submitting it, which is harmless. Log only the hash to save space.",
])
def test_info_leak_denials(text):
    assert not grade("stratum", text)["stratum.info_leak"].passed


def test_input_validation_is_not_share_validation():
    text = ("`_validate_share` doesn't check the nonce against the network target before submitting. "
            "Return an error to the miner when it fails.")
    assert not grade("stratum", text)["stratum.input_validation"].passed


# -- fix-only policy: a fix at the defect that can only mean it passes ----------

def _fixed_file(*edits: tuple[str, str]) -> str:
    """The fixture with edits applied, given back bare (a corrected-file-only answer)."""
    text = FIXTURE.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return "```python\n" + text + "```\n"


_SUBMIT_LOG = ('''        logger.info("block candidate %s at height %d: %s",
                    block_hash, template["height"], block_hex)
        result = await self.rpc.submitblock(block_hex)''')
_HEX_PARSE = ('''        extranonce2_bin = bytes.fromhex(extranonce2)
        ntime_int = int(ntime, 16)
        nonce_int = int(nonce, 16)''')


def test_bare_code_fixes_pass_the_identify_and_fix_checks():
    text = _fixed_file(
        (_SUBMIT_LOG, '''        result = await self.rpc.submitblock(block_hex)
        logger.info("block candidate %s at height %d submitted", block_hash, template["height"])'''),
        ("        self.recent_shares[share_key] = time.time()\n",
         "        self.recent_shares[share_key] = time.time()\n"
         "        while len(self.recent_shares) > 100000:\n            self.recent_shares.popitem(last=False)\n"),
        (_HEX_PARSE, '''        try:
            extranonce2_bin = bytes.fromhex(extranonce2)
            ntime_int = int(ntime, 16)
            nonce_int = int(nonce, 16)
        except ValueError:
            await self._reply_error(session, msg_id, 20, "Malformed submit")
            return'''),
    )
    result = grade("stratum", text)
    for check in ("stratum.info_leak", "stratum.memory_leak", "stratum.input_validation"):
        assert result[check].passed, (check, result[check].evidence)


def test_bare_code_that_does_not_remove_the_defect_fails():
    text = _fixed_file(
        # another log line of _submit_block rewritten, the whole block still logged before submitting
        ('logger.info("block %s accepted by bitcoind", block_hash)',
         'logger.info("block %s (height %d) accepted", block_hash, template["height"])'),
        # a new empty dict in __init__ bounds nothing
        ("self.recent_shares = OrderedDict()", "self.recent_shares = {}"),
        # the exception is swallowed, the miner gets no error reply
        (_HEX_PARSE, '''        try:
            extranonce2_bin = bytes.fromhex(extranonce2)
            ntime_int = int(ntime, 16)
            nonce_int = int(nonce, 16)
        except ValueError:
            return'''),
    )
    result = grade("stratum", text)
    for check in ("stratum.info_leak", "stratum.memory_leak", "stratum.input_validation"):
        assert not result[check].passed, (check, result[check].evidence)


def test_bare_unified_diff_fix_counts_at_its_function():
    diff = ("```diff\n--- a/stratum_server.py\n+++ b/stratum_server.py\n@@ -262,3 +262,3 @@\n"
            "     def _build_header(self, merkle_root, ntime, nonce):\n"
            "         version = struct.pack(\"<I\", self.block_template[\"version\"])\n"
            "-        prev_hash = bytes.fromhex(self.block_template[\"previousblockhash\"])\n"
            "+        prev_hash = bytes.fromhex(self.block_template[\"previousblockhash\"])[::-1]\n```\n")
    assert grade("stratum", diff)["stratum.byte_order"].passed


def test_validation_that_only_closes_the_connection_has_no_error_reply():
    text = ("`_handle_submit` unpacks `message[\"params\"]` without checking its length, and `int(nonce, 16)` "
            "raises ValueError on non-hex input, which kills the session. Wrap the parsing in "
            "try/except (ValueError, TypeError) and close the connection gracefully.")
    assert not grade("stratum", text)["stratum.input_validation"].passed
    assert grade("stratum", text.replace("close the connection gracefully", "reply with error 20"))["stratum.input_validation"].passed


def test_stratum_word_swap_is_not_the_header_byte_reversal():
    wrong = ("`_notify_message` sends the previous hash through `stratum_prevhash()`, which swaps the order of the "
             "eight 4-byte words, but `_build_header` uses the raw `previousblockhash` without that word swap.")
    assert not grade("stratum", wrong)["stratum.byte_order"].passed
    right = ("`stratum_prevhash` swaps the 4-byte words for the miners, but `_build_header` needs the full 32-byte "
             "reversal of `previousblockhash` into little-endian order.")
    assert grade("stratum", right)["stratum.byte_order"].passed


@pytest.mark.parametrize("text", [
    "**The parent-block pointer in the 80-byte header is written back to front.** `_build_header` splices "
    "`previousblockhash` in as-is; flip the 32 bytes end for end.",
    "Inside the header of `_build_header`, `previousblockhash` lives with its 32 bytes in the opposite sequence.",
])
def test_byte_order_paraphrases(text):
    assert grade("stratum", text)["stratum.byte_order"].passed


def test_info_leak_paraphrase_with_prose_fix():
    text = ("`_submit_block` formats the complete serialized block into an info line prior to calling "
            "`submitblock`. Emit only the block hash and height, and do it after submitblock returns.")
    assert grade("stratum", text)["stratum.info_leak"].passed


# --- answers from the second validation round ---------------------------------------

def _passed(text: str, check: str) -> bool:
    return grade("stratum", text)[f"stratum.{check}"].passed


def test_job_lookup_reply_is_not_the_malformed_input_reply():
    """'reply with error 21 if missing' belongs to the job lookup: it validates no params or hex."""
    text = ("**`_handle_client`** only catches `ConnectionResetError`; any other exception from `_handle_submit` "
            "drops the miner with a traceback.\n\n**`_validate_share`** ignores `job_id`. Keep jobs in "
            "`self.jobs`, look up `self.jobs.get(job_id)` in `_handle_submit`, reply with error 21 if missing.")
    assert not _passed(text, "input_validation")
    assert _passed(text, "stale_job")


def test_error_20_reply_call_for_bad_params_is_the_validation_fix():
    finding = ("5. _handle_submit: `worker, job_id, ... = message[\"params\"]` + bytes.fromhex / int(x,16) w/ no "
               "checks -> ValueError -> dc + traceback.\n   fix: ")
    assert _passed(finding + "check len == 5 and hex; on fail `await self._reply_error(session, msg_id, 20, "
                             "\"bad params\")` and return.", "input_validation")
    assert not _passed(finding + "on an unknown job `await self._reply_error(session, msg_id, 21, \"job not found\")`.",
                       "input_validation")


@pytest.mark.parametrize("text", [
    "`_validate_share` and `_compute_merkle`: neither honours the `job_id` that accompanies the submission; both use `self.current_job`.",
    "`_validate_share`/`_compute_merkle`: use `self.current_job`, not the submitted `job_id` → store jobs by id and look them up.",
])
def test_stale_job_paraphrases(text):
    assert _passed(text, "stale_job")


def test_code_the_next_sentence_leaves_to_the_reader_is_an_example_not_a_fix():
    example = ("`_validate_share()` reads `self.current_job`. Many pools keep a small map of recent jobs keyed by id, "
               "something like:\n\n```python\nself.jobs[job_id] = job\n```\n\n")
    verdict = grade("stratum", example + "Consider whether that pattern fits here.\n")["stratum.stale_job"]
    assert not verdict.passed and verdict.kind == "advice", verdict
    # beside an asserted finding, the same code is its fix
    asserted = ("`_validate_share()` ignores the submitted `job_id` and validates every share against "
                "`self.current_job`, so shares for the job just replaced are rejected. Keep jobs by id:\n\n"
                "```python\nself.jobs[job_id] = job\n```\n\nConsider whether that pattern fits here.\n")
    assert grade("stratum", asserted)["stratum.stale_job"].passed


def test_another_part_of_submit_block_called_correct_does_not_deny_the_block_log():
    leak = ("`_submit_block()` logs the entire `block_hex` at INFO before `submitblock`, so contractors reading the "
            "log service get the block first. Log only the block hash and height there. ")
    assert grade("stratum", leak + "The segwit coinbase re-serialization in `_submit_block()` looks correct.")[
        "stratum.info_leak"].passed
    for whole in ("The logging in `_submit_block()` is fine.", "Everything in `_submit_block()` is fine.",
                  "`_submit_block()` is fine."):
        verdict = grade("stratum", leak + whole)["stratum.info_leak"]
        assert not verdict.passed and verdict.kind == "denial", (whole, verdict)


def test_fine_as_is_verdict_on_current_job_is_a_denial():
    text = ("`_validate_share` uses `self.current_job`, which is always the newest job, so shares are validated "
            "against up-to-date work; that's the correct behaviour and no change is needed there.")
    assert not _passed(text, "stale_job")


@pytest.mark.parametrize("text", [
    "The spike after a new block is normal: `current_job` is always the latest job, which is what shares should "
    "be validated against.",
    "`current_job` is always the latest job, which is what shares should be validated against.",
])
def test_the_spike_called_normal_or_the_current_job_called_right_is_a_denial(text):
    assert not _passed(text, "stale_job")
    asserted = ("The spike after a new block comes from `_validate_share`: `current_job` is always the latest job, "
                "so a share for the job just replaced is validated against the wrong one.")
    assert _passed(asserted, "stale_job")


def test_duplicates_kept_in_the_job_bound_recent_shares():
    text = ("Every share key is inserted into `self.recent_shares` and never removed, so it grows forever.\n\n"
            "```python\nshare_key = (session.extranonce1, extranonce2, ntime, nonce)\n"
            "if share_key in job[\"seen\"]:\n    return\njob[\"seen\"].add(share_key)\n```\n")
    assert _passed(text, "memory_leak")
    prose = ("`recent_shares` is never pruned and grows without bound. Store the seen share keys inside each job "
             "so they are dropped with the job.")
    assert _passed(prose, "memory_leak")


def test_removing_block_hex_from_that_message_is_a_fix():
    text = ("`_submit_block` puts the whole serialised block, `block_hex`, into an INFO message before submitblock "
            "is called, so contractors reading the logs see it. Remove `block_hex` from that message.")
    assert _passed(text, "info_leak")
    assert not _passed(text.replace(" Remove `block_hex` from that message.", ""), "info_leak")


def test_vague_bound_is_no_fix():
    issue = "`recent_shares` grows without bound because entries are never pruned. "
    assert not _passed(issue + "Fix: Consider using a bounded structure.", "memory_leak")
    assert _passed(issue + "Fix: Consider evicting entries older than 5 minutes.", "memory_leak")


def test_table_row_with_code_fixes():
    header = "| Bug | Where | Why | Fix |\n|---|---|---|---|\n"
    memory = "| Dedup map never shrinks | `recent_shares` | one entry per share forever → OOM | `popitem(last=False)` entries older than 300 s |\n"
    inputs = ("| Unchecked params | `_handle_submit` | wrong param count → `ValueError` on unpack, non-hex → `ValueError` "
              "from `int(nonce, 16)` | check `len(params) == 5` + hex format, reply `[20, \"Malformed submit\", None]` |\n")
    verdicts = grade("stratum", header + memory + inputs)
    assert verdicts["stratum.memory_leak"].passed and verdicts["stratum.input_validation"].passed
    advice = header + "| Memory | `recent_shares` | may grow | Ensure caches have bounded growth |\n"
    assert not grade("stratum", advice)["stratum.memory_leak"].passed


def test_capping_the_jobs_map_does_not_bound_recent_shares():
    text = ("`recent_shares` grows forever.\n\n```python\n    async def broadcast_job(self, template, clean_jobs):\n"
            "        self.jobs[job_id] = job\n        while len(self.jobs) > 16:\n            self.jobs.popitem(last=False)\n```\n")
    assert not _passed(text, "memory_leak")


def test_demoting_the_block_log_to_debug_is_no_fix():
    # the whole block is still logged whenever DEBUG is on: neither moved nor limited
    issue = "`_submit_block` logs the full block hex, which produces very large log lines. "
    assert not _passed(issue + "Consider lowering the log level of that message to `DEBUG`.", "info_leak")
    code = ("```python\n    async def _submit_block(self, header, coinbase, block_hash):\n"
            "        logger.debug(\"block %s: %s\", block_hash, block_hex)\n"
            "        result = await self.rpc.submitblock(block_hex)\n```\n")
    assert not _passed(issue + "\n\n" + code, "info_leak")
    leak = "`_submit_block` logs the full block hex before submitblock, so whoever reads the shipped logs sees the block first. "
    assert _passed(leak + "Log only the block hash and height.", "info_leak")


def test_the_block_log_as_a_log_size_problem_is_the_wrong_mechanism():
    size_only = "`_submit_block` logs the full block hex, which produces very large log lines. "
    verdict = grade("stratum", size_only + "Log only the block hash and height.")["stratum.info_leak"]
    assert not verdict.passed and verdict.kind == "wrong_mechanism", verdict


def test_retyping_recent_shares_as_a_set_is_no_bound():
    issue = "### Memory leak in `recent_shares`\n\n`recent_shares` is never cleaned up, so memory grows.\n\n"
    retype = "Use a set, lighter than an OrderedDict:\n\n```python\nself.recent_shares = set()\nself.recent_shares.add(share_key)\n```\n"
    assert not _passed(issue + retype, "memory_leak")
    reset = "Reset it on every new block:\n\n```python\nself.recent_shares = set()\n```\n"
    assert _passed(issue + reset, "memory_leak")
    in_def = ("```python\n    async def broadcast_job(self, template, clean_jobs):\n"
              "        if clean_jobs:\n            self.recent_shares = {}\n```\n")
    assert _passed(issue + in_def, "memory_leak")


def test_a_duplicate_map_reset_on_new_jobs_is_no_stale_job_finding():
    memory = ("## 3. `recent_shares` — memory growth\n\nEach submit adds a key to `self.recent_shares` and nothing removes it.\n\n"
              "Fix: since shares for replaced jobs can't be valid anymore, reset the map whenever a job with "
              "`clean_jobs=True` is broadcast.\n")
    assert not _passed(memory, "stale_job")
    assert _passed(memory, "memory_leak")
    jobs = "`broadcast_job` overwrites the only job, and old jobs are not kept in a map by job id.\n"
    assert _passed(jobs, "stale_job")


def test_endianness_conversion_phrasings_and_their_denials():
    assert _passed("`_build_header`: `prev_hash` needs endianness conversion (big → little endian) before hashing.", "byte_order")
    for denial in ("`_build_header`: `prev_hash` needs no endianness conversion.",
                   "In `_build_header`, `prev_hash` does not need any endianness conversion, only `bits` does.",
                   "Endianness conversion of `prev_hash` in `_build_header` is unnecessary."):
        assert not _passed(denial, "byte_order"), denial


def test_whatever_job_is_current_is_the_stale_job_mechanism():
    text = ("`_validate_share()` validates every share against whatever job is current at the time, "
            "not the job the miner actually worked on (`job_id`).")
    assert _passed(text, "stale_job")
    assert not _passed("`_validate_share` picks whatever job is current; that is fine because clean_jobs is always true.", "stale_job")


def test_a_dotted_name_does_not_cut_a_prose_fix_short():
    text = ("`_handle_submit` doesn't validate its input: a short `params` list or a non-hex nonce throws and the "
            "miner gets disconnected. Check the params and send back a `mining.submit` error (code 20) instead.")
    assert _passed(text, "input_validation")
    assert not _passed(text.replace(" Check the params and send back a `mining.submit` error (code 20) instead.", ""),
                       "input_validation")


def test_a_paragraph_that_concludes_with_the_big_endian_header_fails_byte_order():
    text = ("In `_build_header()` the version, ntime and nonce are packed little-endian, while `previousblockhash` and "
            "`bits` are taken from the template as big-endian hex. The header ends up as a mix of byte orders. Bitcoin "
            "serializes header integers in network byte order, so the header should be built big-endian throughout.")
    verdict = grade("stratum", text)["stratum.byte_order"]
    assert not verdict.passed and verdict.kind == "wrong_mechanism", verdict
    right = text.replace("Bitcoin serializes header integers in network byte order, so the header should be built "
                         "big-endian throughout.", "So `previousblockhash` must be byte-reversed before it is packed.")
    assert _passed(right, "byte_order")


def test_forgetting_the_submits_own_key_is_no_memory_bound():
    finding = "`recent_shares` keeps every share key forever and is never pruned, so memory grows without bound.\n\n"
    own_key = finding + "```python\n        finally:\n            self.recent_shares.pop(share_key, None)\n```\n"
    verdict = grade("stratum", own_key)["stratum.memory_leak"]
    assert not verdict.passed and "does it wrong" in verdict.evidence, verdict
    by_age = finding + ("```python\n        cutoff = time.time() - 600\n        while self.recent_shares and "
                        "next(iter(self.recent_shares.values())) < cutoff:\n"
                        "            self.recent_shares.popitem(last=False)\n```\n")
    assert _passed(by_age, "memory_leak")


def test_the_block_log_explained_by_its_size_in_the_next_sentence_is_the_wrong_mechanism():
    text = ("`_submit_block()` includes `block_hex` in an INFO message. A full block serializes to 1-2 MB of hex, which "
            "exceeds the maximum record size of most log services.\n\n```python\n        logger.info(\"block %s at height %d\", "
            "block_hash, template[\"height\"])\n```\n")
    verdict = grade("stratum", text)["stratum.info_leak"]
    assert not verdict.passed and verdict.kind == "wrong_mechanism", verdict


def test_the_current_job_named_in_the_memory_section_is_no_stale_job_finding():
    text = ("Keys only matter while their job can still be submitted; since every broadcast is `clean_jobs=True`, only "
            "the current job's keys are needed.")
    assert not _passed(text, "stale_job")
    assert _passed("`_validate_share()` checks every submitted share against the current job only, whatever `job_id` "
                   "the miner sent.", "stale_job")


def test_the_block_hex_demoted_to_debug_beside_a_hash_only_line_is_no_leak_fix():
    finding = "`_submit_block()` writes the entire `block_hex` at INFO before `submitblock`, leaking the solved block.\n\n"
    demoted = finding + ("```python\n        logger.info(\"block candidate %s at height %d\", block_hash, template[\"height\"])\n"
                         "        logger.debug(\"block candidate hex: %s\", block_hex)\n```\n")
    assert not _passed(demoted, "info_leak")
    hash_only = finding + "```python\n        logger.info(\"block candidate %s at height %d\", block_hash, template[\"height\"])\n```\n"
    assert _passed(hash_only, "info_leak")


def test_the_rpc_order_called_little_endian_with_code_names_in_backticks_is_the_wrong_mechanism():
    text = ("`getblocktemplate` gives `previousblockhash` in little-endian order, while the header in `_build_header()` "
            "wants it big-endian, so it must be reversed.")
    assert not _passed(text, "byte_order")


def test_growth_said_not_to_come_from_recent_shares_denies_it():
    denied = ("The memory growth is not coming from `recent_shares`: each entry is a small tuple and a float. "
              "Independently of that, cap `recent_shares` so it can't grow forever:\n\n"
              "```python\n        while len(self.recent_shares) > 200_000:\n            self.recent_shares.popitem(last=False)\n```\n")
    assert not grade("stratum", denied)["stratum.memory_leak"].passed
    asserted = denied.replace("is not coming from", "is coming from")
    assert grade("stratum", asserted)["stratum.memory_leak"].passed


def test_recent_shares_called_not_the_leak_denies_it():
    fix = "\n\n```python\n        while len(self.recent_shares) > 200_000:\n            self.recent_shares.popitem(last=False)\n```\n"
    denied = ("`recent_shares` is not the leak: its keys start with `job_id`, so it only holds live jobs. "
              "The growth is more likely in `share_log`. Optional hardening:" + fix)
    assert not grade("stratum", denied)["stratum.memory_leak"].passed
    asserted = ("`recent_shares` is the leak: every share key is added and nothing ever removes one, so it grows "
                "forever. Bound it:" + fix)
    assert grade("stratum", asserted)["stratum.memory_leak"].passed


def test_removing_the_log_call_the_sentence_before_names_fixes_the_leak():
    finding = ("**5. `_submit_block()` — full block written to logs before submit**\n\n"
               "`block_hex` (the whole block) goes into an INFO line before `submitblock`, so the block candidate "
               "ends up on the contractor-readable log service. ")
    assert grade("stratum", finding + "Remove that `logger.info(...)` call.")["stratum.info_leak"].passed
    assert not grade("stratum", finding + "Keep that `logger.info(...)` call.")["stratum.info_leak"].passed


def test_stale_shares_called_intended_deny_the_stale_job():
    denied = ("Not a bug. Shares that arrive for the previous `job_id` after `broadcast_job()` are expected to be "
              "rejected, so validating against `self.current_job` is intended.")
    assert not grade("stratum", denied)["stratum.stale_job"].passed
    purpose = ("`_validate_share()` checks the share against `self.current_job`, which is intended to be the job the "
               "miner worked on, but a share for the job just replaced is validated against the new one.")
    assert grade("stratum", purpose)["stratum.stale_job"].passed


def test_an_interpreter_session_and_its_lead_in_are_no_fix():
    finding = ("`self.recent_shares[share_key] = time.time()` runs on every submit and nothing deletes from "
               "`recent_shares`, so it grows forever. Some form of eviction is needed. ")
    repl = (finding + "For illustration, this is how a TTL cache behaves:\n\n```python\n>>> from cachetools import TTLCache\n"
            ">>> c = TTLCache(maxsize=3, ttl=60)\n```\n")
    assert not grade("stratum", repl)["stratum.memory_leak"].passed
    fix = (finding + "Evict the oldest entries:\n\n```python\nwhile len(self.recent_shares) > 200_000:\n"
           "    self.recent_shares.popitem(last=False)\n```\n")
    assert grade("stratum", fix)["stratum.memory_leak"].passed


def test_a_changelog_line_about_the_corrected_code_is_no_finding():
    changelog = "1. **Header** — reversal added for the previous block hash and `bits` in `_build_header`."
    assert not grade("stratum", changelog)["stratum.byte_order"].passed
    finding = ("1. **Header** — `_build_header` packs `previousblockhash` in RPC display order; it must be "
               "byte-reversed to the header's internal order.")
    assert grade("stratum", finding)["stratum.byte_order"].passed



def test_byte_orders_said_to_differ_are_settled_by_the_direction_the_section_gives():
    mixed = ("### Bug 1 — Header endianness\n\n`_build_header()` mixes byte orders: `version`, `ntime` and `nonce` are "
             "packed little-endian, while `prev_hash` comes from the RPC as big-endian hex and is inserted with "
             "`bytes.fromhex()`, so the block is refused.\n\n")
    wrong = grade("stratum", mixed + "The block header is serialized big-endian, like the RPC values.\n")["stratum.byte_order"]
    assert not wrong.passed and wrong.kind == "wrong_mechanism", wrong
    right = mixed + "The header needs the 32 bytes of `previousblockhash` reversed, in internal order.\n"
    assert grade("stratum", right)["stratum.byte_order"].passed
    assert grade("stratum", mixed)["stratum.byte_order"].passed


def test_a_denial_just_before_a_fix_block_vetoes_it_whichever_line_of_the_block_is_the_fix():
    denial = ("`_handle_submit()` is fine for those rigs: `_handle_client()` already catches `JSONDecodeError`. "
              "The traceback is that warning. The disconnect is the intended behaviour.\n\n"
              "Optional hardening, so that a bad submit gets an error instead of a drop:\n\n")
    block = ("```python\n        params = message.get(\"params\")\n"
             "        if not isinstance(params, list) or len(params) != 5:\n"
             "            await self._reply_error(session, message.get(\"id\"), 20, \"Malformed submit\")\n"
             "            return\n```\n")
    verdict = grade("stratum", denial + block)["stratum.input_validation"]
    assert not verdict.passed and verdict.kind == "denial", verdict
    asserted = denial.replace("`_handle_submit()` is fine for those rigs", "`_handle_submit()` crashes on a short params list")
    asserted = asserted.replace("The disconnect is the intended behaviour.", "That drops the miner.")
    assert grade("stratum", asserted + block)["stratum.input_validation"].passed


def test_the_prev_hash_said_to_be_in_the_form_the_header_expects_is_a_denial():
    merkle = ("### 1. Merkle root in the wrong byte order (`_build_header`)\n\nBitcoin represents hashes in reversed byte "
              "order, so the merkle root has to be reversed before it is placed in the header; the previous block hash "
              "coming from `getblocktemplate` is already in the form the header expects.")
    assert not grade("stratum", merkle)["stratum.byte_order"].passed
    right = ("In `_build_header()`, `previousblockhash` comes from the RPC in display (big-endian) order and is packed "
             "without reversing it; the header needs it byte-reversed.")
    assert grade("stratum", right)["stratum.byte_order"].passed


def test_a_block_log_whose_content_is_called_not_sensitive_is_no_leak_finding():
    cost = ("`_submit_block()` logs `block_hex`, the whole block, before `submitblock`. The content itself isn't "
            "sensitive — a block is public once broadcast — the problem is the cost of writing it. Log only the hash and height.")
    assert not grade("stratum", cost)["stratum.info_leak"].passed
    leak = cost.replace("The content itself isn't sensitive — a block is public once broadcast — the problem is the cost "
                        "of writing it.", "Anyone who reads the logs sees the block before the network does.")
    assert "Log only the hash" in leak
    assert grade("stratum", leak)["stratum.info_leak"].passed


def test_a_byte_order_section_that_rewrites_the_notify_helper_is_at_the_decoy():
    section = ("## 2. Previous block hash has the wrong byte order\n\nBitcoin hashes are displayed in reversed byte order "
               "compared to their internal representation. `stratum_prevhash()` only reverses the order of the eight "
               "4-byte words.\n\nSo the miners receive a previous hash that is neither display order nor internal order.\n\n"
               "**Fix:** reverse all 32 bytes:\n\n```python\ndef stratum_prevhash(prev_hex):\n"
               "    return bytes.fromhex(prev_hex)[::-1].hex()\n```\n")
    assert not grade("stratum", section)["stratum.byte_order"].passed
    header = section.replace("```python\ndef stratum_prevhash(prev_hex):\n    return bytes.fromhex(prev_hex)[::-1].hex()\n```\n",
                             "```python\n    def _build_header(self, merkle_root, ntime, nonce):\n"
                             "        prev_hash = bytes.fromhex(self.block_template[\"previousblockhash\"])[::-1]\n```\n")
    assert grade("stratum", header)["stratum.byte_order"].passed


def test_a_change_in_a_json_item_placed_at_a_decoy_that_names_it_again_is_made_there():
    item = ('```json\n{"bugs": [{"symptom": "reject spike after every new block", "location": "StratumServer._notify_message()", '
            '"fix": "Build the notify once per job in broadcast_job() and cache it: self.notify_cache[job_id] = '
            'self._notify_message(clean_jobs); send the cached message instead of rebuilding it from self.current_job."}]}\n```\n')
    verdict = grade("stratum", item)["stratum.stale_job"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    placed = ('```json\n{"bugs": [{"symptom": "reject spike after every new block", "location": "StratumServer._validate_share()", '
              '"cause": "_validate_share() checks every share against self.current_job instead of the job named by job_id, so '
              'shares for the replaced job are rejected.", "fix": "Keep jobs in self.jobs by job_id and look the submitted one up."}]}\n```\n')
    assert grade("stratum", placed)["stratum.stale_job"].passed


def test_what_the_miners_build_their_header_on_is_the_notify_field():
    miners = ("With the current code the miners build their header on top of a previous-block hash that is neither the "
              "display order nor the internal order, so `stratum_prevhash()` must reverse all 32 bytes.")
    assert not grade("stratum", miners)["stratum.byte_order"].passed
    pool = ("With the current code `_build_header()` builds the header on a `previousblockhash` that is still in "
            "display order; the header needs it byte-reversed.")
    assert grade("stratum", pool)["stratum.byte_order"].passed


def test_duplicate_detection_keyed_on_the_job_id_is_no_per_job_bound():
    keyed = ("3. **Duplicate detection is keyed on the job id (`recent_shares`):** the share key includes `job_id`, so a "
             "miner can resubmit the same nonce under a new job id.\n   - **Fix:** remove `job_id` from the key.")
    assert not grade("stratum", keyed)["stratum.memory_leak"].passed
    per_job = ("`recent_shares` grows without bound because nothing ever removes a key. Keep the seen shares inside each "
               "job, so they go when the job is dropped.")
    assert grade("stratum", per_job)["stratum.memory_leak"].passed


def test_a_stale_job_in_a_report_item_located_at_the_poller_is_at_the_decoy():
    item = ('{"findings": [{"location": "StratumServer.%s", "symptom": "reject rate jumps after each new block", '
            '"cause": "Until the next poll the miners keep hashing on the stale job for the old block, and those shares '
            'are rejected once the new job is broadcast."}]}')
    verdict = grade("stratum", item % "_poll_templates")["stratum.stale_job"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    judged = item.replace("are rejected once the new job is broadcast", "are checked against current_job, not the job "
                          "their job_id names, so they are rejected once the new job is broadcast")
    assert grade("stratum", judged % "_validate_share")["stratum.stale_job"].passed


def test_a_params_guard_shorter_than_the_five_unpacked_fails_the_fix():
    finding = ("`_handle_submit` unpacks `message[\"params\"]` into five names and calls `bytes.fromhex` with no checks, "
               "so a malformed submit raises and the connection dies.\n\n")
    guard = ("```python\nparams = message.get(\"params\")\nif not isinstance(params, list) or len(params) < %d:\n"
             "    await self._reply_error(session, msg_id, 20, \"Malformed params\")\n    return\n"
             "worker, job_id, extranonce2, ntime, nonce = params[:5]\n```\n")
    assert grade("stratum", finding + guard % 5)["stratum.input_validation"].passed
    assert not grade("stratum", finding + guard % 4)["stratum.input_validation"].passed


def test_a_log_fix_is_read_with_the_paragraph_that_says_who_reads_the_log():
    heading = "### 3. The one-megabyte log line\n\n"
    cause = ("**Root cause:** `_submit_block` logs `block_hex` at INFO before calling `submitblock`, and it goes "
             "straight to the hosted log service the contractors can read.\n\n")
    fix = "**Fix:** remove `block_hex` from that log call and log only the block hash, the height and the size in bytes.\n"
    assert grade("stratum", heading + cause + fix)["stratum.info_leak"].passed
    size_only = "**Root cause:** `_submit_block` logs `block_hex` at INFO: a one-megabyte line that bloats the disk.\n\n"
    assert not grade("stratum", heading + size_only + fix)["stratum.info_leak"].passed


def test_what_the_answer_first_suspected_asserts_nothing():
    suspected = ("I first suspected that `_validate_share` ignores its `job_id` argument and always validates against "
                 "`self.current_job`. However, `broadcast_job` is only called with `clean_jobs=True`, so nothing needs "
                 "to change.\n")
    assert not grade("stratum", suspected)["stratum.stale_job"].passed
    found = ("`_validate_share` ignores its `job_id` argument and always validates against `self.current_job`, so "
             "shares for the job just replaced are rejected.\n")
    assert grade("stratum", found)["stratum.stale_job"].passed
    turned = ("At first I thought `_validate_share` was fine, but it isn't: it ignores its `job_id` argument and always "
              "validates against `self.current_job`.\n")
    assert grade("stratum", turned)["stratum.stale_job"].passed


def test_a_change_to_make_right_after_the_finding_is_no_cause_of_it():
    item = ("5. **Info leak in `_submit_block`** – the whole serialized block (`block_hex`) is logged at INFO before "
            "`submitblock`. That's the megabyte line in your hosted logs, readable by contractors. %s\n")
    assert grade("stratum", item % "Log hash/height/size only.")["stratum.info_leak"].passed
    # a next sentence that states a cause does bind it: the size alone is the wrong one
    size = ("5. **Block log in `_submit_block`** – `block_hex` is logged at INFO, a megabyte every time. "
            "The log line is huge and fills the disk.\n")
    assert not grade("stratum", size)["stratum.info_leak"].passed


def test_a_second_look_that_says_it_cannot_be_the_cause_takes_the_finding_back():
    note = ("## Note on `_build_header`\n\nAt first I suspected `_build_header()`, because `previousblockhash` is packed "
            "without reversing it to little-endian. But on reflection this can't be the cause: if the header were built "
            "in the wrong byte order, every share would be rejected. %s\n")
    assert not grade("stratum", note % "So I would leave it as is.")["stratum.byte_order"].passed
    assert not grade("stratum", note % "")["stratum.byte_order"].passed
    found = ("## `_build_header`\n\n`_build_header()` copies `previousblockhash` without reversing it to little-endian, "
             "so the header hashes to the wrong value and bitcoind refuses the block.\n")
    assert grade("stratum", found)["stratum.byte_order"].passed


def test_rejects_blamed_on_a_difficulty_change_are_the_wrong_mechanism():
    blamed = ("`_validate_share()` checks shares with `session.difficulty` as it is now. Stratum miners apply a new "
              "`mining.set_difficulty` only to the next job, so shares that were found under the previous job but "
              "arrive after the difficulty has changed are checked against the wrong target.\n")
    verdict = grade("stratum", blamed)["stratum.stale_job"]
    assert not verdict.passed and verdict.kind == "wrong_mechanism", verdict
    right = ("`_validate_share()` ignores the `job_id` the miner sends and checks every share against "
             "`self.current_job`, so shares found under the previous job are checked against the new one and rejected.\n")
    assert grade("stratum", right)["stratum.stale_job"].passed


def test_a_reply_said_in_words_beside_the_asserted_defect_is_the_validation_fix_s_reply():
    cause = ("The cause is in `_handle_submit`, which unpacks `message[\"params\"]` into exactly five names, which raises "
             "an exception if the miner sends fewer or more parameters, and the miner is disconnected.\n\n")
    fix = ("Fix: in `_handle_submit`, check that `params` is a list of at least five strings. If any check fails, send "
           "a stratum error reply (code 20, \"other\") for that request id and keep the connection open.\n")
    assert _passed(cause + fix, "input_validation")
    silent = fix.replace(" If any check fails, send a stratum error reply (code 20, \"other\") for that request id and "
                         "keep the connection open.", " If any check fails, drop the request.")
    assert not _passed(cause + silent, "input_validation")
    # the same suggestion with no defect asserted is advice
    assert not _passed(fix, "input_validation")
    # a wish is no reply, even where it words the defect itself
    wish = ("- Ideally `_handle_submit()` would reply with a stratum error (code 20) on malformed params instead of "
            "letting exceptions escape.\n")
    assert not _passed(wish, "input_validation")


def test_a_second_look_at_the_byte_order_is_no_look_at_the_input_parser_it_names():
    supposed = ("## 5. Byte order of the previous block hash?\n\nAt first I thought `_build_header` had an endianness bug: "
                "`previousblockhash` is taken with `bytes.fromhex(...)` and not reversed, while the header normally stores "
                "hashes in little-endian order.\n\nHowever, looking more carefully, this is actually consistent. "
                "Reversing it in `_build_header` as well would make the pool's header differ from the miner's.\n\n")
    inputs = ("## 3. Tracebacks\n\n`_handle_submit` unpacks `params` into five names and calls `bytes.fromhex(extranonce2)`, "
              "which raise on malformed input from old firmware. **Fix:** validate first and reply with a stratum error "
              "(code 20).\n\n")
    assert not _passed(supposed, "byte_order")
    assert _passed(inputs + supposed, "input_validation")
    # "consistent with" a symptom denies nothing
    assert _passed("`_build_header` uses `previousblockhash` as the RPC gives it, without reversing the bytes: the header "
                   "carries it in the wrong byte order, which is consistent with the refused block.", "byte_order")


def test_a_lead_alone_on_its_line_is_explained_by_the_paragraph_under_it():
    lead = "1. **Incorrect byte order of the previous block hash**\n\n"
    helper = ("   The function `stratum_prevhash()` reverses the order of the eight 4-byte words instead of reversing the "
              "whole hash, so the miners receive a wrongly ordered prevhash.\n")
    assert not grade("stratum", lead + helper)["stratum.byte_order"].passed
    header = ("   `_build_header()` packs `previousblockhash` as the RPC gives it, big-endian, while the header needs it "
              "byte-reversed (little-endian).\n")
    assert grade("stratum", lead + header)["stratum.byte_order"].passed


def test_a_header_said_to_go_in_network_byte_order_settles_the_byte_orders_the_wrong_way():
    mixed = ("`_build_header` packs `version`, `ntime` and `nonce` with `struct.pack(\"<I\", ...)` (little-endian) while "
             "`prev_hash` and `bits` are taken from big-endian hex strings. The header therefore mixes two byte orders.")
    network = "The Bitcoin block header is transmitted over the network, and network byte order is big-endian. " + mixed
    assert not grade("stratum", network + "\n")["stratum.byte_order"].passed
    reversed_ = mixed + " `previousblockhash` must be byte-reversed, since the header stores it little-endian.\n"
    assert grade("stratum", reversed_)["stratum.byte_order"].passed


def test_a_block_log_called_misleading_is_a_wrong_mechanism_beside_its_move():
    head = "**5. Block logged before submission in `_submit_block`**\n\n"
    move = "Move the log after the call:\n\n```python\nresult = await self.rpc.submitblock(block_hex)\nlogger.info(\"block %s submitted\", block_hash)\n```\n"
    misleading = head + ("The block candidate is logged before `submitblock` is called. If the RPC call fails, the logs "
                         "show a candidate that was never submitted, which is misleading. ") + move
    assert not grade("stratum", misleading)["stratum.info_leak"].passed
    claims = head + ("The block candidate is logged before `submitblock` is called. If the RPC call raises, the log "
                     "claims a candidate that was never actually submitted. ") + move
    assert not grade("stratum", claims)["stratum.info_leak"].passed
    leaked = head + ("The block candidate, `block_hex` in full, is logged before `submitblock` is called, so the "
                     "contractors reading the log service see the solved block before the network does. ") + move
    assert grade("stratum", leaked)["stratum.info_leak"].passed


def test_a_second_look_after_a_bold_label_is_at_the_paragraph_before_it():
    problem = ("### 1. Block header byte order (`_build_header`)\n\n**Problem.** `prev_hash = bytes.fromhex("
               "self.block_template[\"previousblockhash\"])` copies the hash into the header without reversing it. "
               "Bitcoin headers store hashes in little-endian order, so this produces a wrong header.\n\n")
    taken_back = "**Correction.** On closer inspection this is not a bug. The byte order is consistent on both sides.\n"
    assert _passed(problem, "byte_order")
    assert not _passed(problem + taken_back, "byte_order")
    # a look at a paragraph about another defect takes nothing of the byte order back
    other = ("### 1. Jobs\n\n`_validate_share()` receives `job_id` but never uses it, so shares for the old job are "
             "checked against the new one.\n\n" + taken_back + "\n### 2. Header\n\n`_build_header()` copies "
             "`previousblockhash` without reversing it: the header needs `bytes.fromhex(prev)[::-1]`.\n")
    assert _passed(other, "byte_order")


def test_a_heading_s_stale_jobs_sit_where_the_location_line_under_it_says():
    heading = ("### Bug 2: Stale jobs because templates are only refreshed on a new prevhash (→ reject spikes)\n\n"
               "**Location:** `%s`\n\nA new job is only broadcast when the previous block hash changes.\n")
    verdict = grade("stratum", heading % "_poll_templates()")["stratum.stale_job"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict
    assert _passed(heading % "_validate_share()", "stale_job")


def test_the_ignored_job_id_called_a_dead_parameter_to_remove_is_the_wrong_mechanism():
    dead = ("## 2. `_validate_share`: unused `job_id`\n\n`_validate_share(self, session, job_id, extranonce2, ntime, "
            "nonce)` never reads `job_id`. Dead parameters like this are misleading for maintainers: remove it from "
            "the signature and from the call in `_handle_submit`.\n")
    verdict = grade("stratum", dead)["stratum.stale_job"]
    assert not verdict.passed and verdict.kind == "wrong_mechanism", verdict
    found = ("## 2. `_validate_share`: unused `job_id`\n\n`_validate_share(self, session, job_id, extranonce2, ntime, "
             "nonce)` never reads `job_id`, so a share for the previous job is checked against the new one and "
             "rejected. Keep the jobs in `self.jobs` by id and look the submitted one up.\n")
    assert _passed(found, "stale_job")


@pytest.mark.parametrize("why, passes", [
    ("Formatting that record synchronously blocks the event loop and delays the submission, which increases "
     "orphan risk.", False),
    ("Writing it stalls the event loop, which delays the block submission.", False),
    ("Anyone who can read the hosted logs sees the solved block before the network does.", True),
])
def test_the_block_log_explained_by_the_sentence_after_it(why, passes):
    item = ("- Title: block logged before submission; Location: StratumServer._submit_block. Cause: The full "
            "block_hex is formatted into a log record before submitblock is awaited. " + why
            + " Log after submitblock returns, and only the block hash.\n")
    assert _passed(item, "info_leak") is passes


def test_the_ignored_job_id_as_a_job_never_issued_to_the_session_is_the_wrong_mechanism():
    item = ("- Location: StratumServer._handle_submit / _validate_share. Cause: job_id sent by the miner is never "
            "checked against the jobs that were sent to that session, so a miner can submit shares for a job id that "
            "was never issued to it (or another session's job) and they are credited.\n")
    verdict = grade("stratum", item)["stratum.stale_job"]
    assert not verdict.passed and verdict.kind == "wrong_mechanism", verdict
    right = ("- Location: StratumServer._validate_share. Cause: job_id sent by the miner is never checked: every share "
             "is validated against `self.current_job`, so shares for the job a new block just replaced are rejected.\n")
    assert _passed(right, "stale_job")
