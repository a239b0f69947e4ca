"""The runner: scratch layout, one sandboxed probe run per answer, per-check statuses."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from sandbox_helpers import needs_sandbox, require_sandbox  # noqa: F401 - the fixture needs_sandbox uses

from llmbench.tasks import get_task
from llmbench.tasks.prompting import read_fixture
from llmbench.verify import runner, sandbox
from llmbench.verify.runner import Verifier

TEST_PROBES = Path(__file__).resolve().parent / "verify_probes"

SQL_FIX = '''```python
def get_payment_history(self, address, limit=50):
    conn = self._connect()
    try:
        rows = conn.execute("SELECT * FROM payouts WHERE address = ? ORDER BY id DESC LIMIT ?", (address, int(limit))).fetchall()
        return [dict(row) for row in rows]
    finally:
        conn.close()
```
'''
SQL_FORMAT = SQL_FIX.replace('"SELECT * FROM payouts WHERE address = ? ORDER BY id DESC LIMIT ?", (address, int(limit))',
                             '"SELECT * FROM payouts WHERE address = \'%s\'" % address')


@pytest.fixture(autouse=True)
def fresh_cache():
    runner._MEMORY.clear()
    yield
    runner._MEMORY.clear()


def probes_with(tmp_path: Path, task: str, body: str) -> Path:
    folder = tmp_path / "probes"
    folder.mkdir(exist_ok=True)
    (folder / f"{task}_probe.py").write_text(textwrap.dedent(body))
    return folder


@needs_sandbox
def test_a_right_fix_passes_and_a_wrong_one_fails_with_the_probes_assertion():
    verifier = Verifier(probes_dir=TEST_PROBES)
    right = verifier.run("payment", SQL_FIX)["payment.sql_injection"]
    assert right == {"status": "passed", "probe": "history_is_parameterised",
                     "detail": "an injected address returns nothing", "candidate": "splice from code block 1"}
    wrong = verifier.run("payment", SQL_FORMAT)["payment.sql_injection"]
    assert wrong["status"] == "failed"
    assert wrong["detail"] == "the history of x' OR '1'='1 returned 2 row(s) of other addresses"


@needs_sandbox
def test_code_for_another_place_is_no_code_for_this_check():
    runs = Verifier(probes_dir=TEST_PROBES).run("payment", SQL_FIX)
    fees = runs["payment.float_precision"]
    assert fees["status"] == "no_code"
    assert fees["detail"].startswith("the answer's code changes none of calculate_fee, batch_payments, _execute_payment")
    assert runs["payment.race_condition"]["status"] == "unavailable"   # the test probes have none for it


@needs_sandbox
def test_no_code_at_all_and_a_syntax_error():
    verifier = Verifier(probes_dir=TEST_PROBES)
    runs = verifier.run("payment", "Bind the address with a ? placeholder in get_payment_history.")
    assert {r["status"] for r in runs.values()} == {"no_code"}
    broken = verifier.run("payment", "```python\ndef get_payment_history(self, address:\n    pass\n```\n")
    assert {r["status"] for r in broken.values()} == {"error"}
    assert broken["payment.sql_injection"]["detail"].startswith("no runnable fix: SyntaxError line 1 (code block 1)")


@needs_sandbox
def test_code_that_cannot_even_be_parsed_is_an_error_verdict():
    nul = "```python\ndef get_payment_history(self, address):\n    return '\x00'\x00\n```\n"
    runs = Verifier(probes_dir=TEST_PROBES).run("payment", nul)
    assert {r["status"] for r in runs.values()} == {"error"}


def test_a_missing_probe_is_unavailable_not_a_crash(tmp_path):
    runs = Verifier(probes_dir=tmp_path).run("stratum", get_task("stratum").reference_answer())
    assert set(runs) == set(get_task("stratum").check_ids)
    assert {r["status"] for r in runs.values()} == {"unavailable"}
    assert "stratum_probe.py is missing" in runs["stratum.byte_order"]["detail"]


def test_no_exec_and_an_unavailable_sandbox_run_nothing(monkeypatch):
    ran = []
    monkeypatch.setattr(sandbox, "run", lambda *a, **k: ran.append(a))
    off = Verifier(probes_dir=TEST_PROBES, enabled=False)
    assert {r["detail"] for r in off.run("payment", SQL_FIX).values()} == {"execution turned off (--no-exec)"}
    assert "off (--no-exec)" in off.status_line()
    monkeypatch.setattr(sandbox, "unavailable_reason", lambda: "user namespaces are disabled")
    runs = Verifier(probes_dir=TEST_PROBES).run("payment", SQL_FIX)
    assert {r["status"] for r in runs.values()} == {"unavailable"}
    assert runs["payment.sql_injection"]["detail"] == "sandbox unavailable: user namespaces are disabled"
    assert Verifier(probes_dir=TEST_PROBES).status_line() == \
        "fix runs: skipped, the sandbox is unavailable: user namespaces are disabled"
    assert not ran


@needs_sandbox
def test_a_probe_that_prints_no_json_or_hangs_is_an_error(tmp_path):
    crash = probes_with(tmp_path, "payment", "import sys\nprint('starting')\nraise SystemExit('probe blew up')\n")
    runs = Verifier(probes_dir=crash).run("payment", SQL_FIX)
    assert runs["payment.sql_injection"]["status"] == "error"
    assert runs["payment.sql_injection"]["detail"] == "the probe printed no result (exit 1): probe blew up"
    runner._MEMORY.clear()
    hang = probes_with(tmp_path, "payment", "while True:\n    pass\n")
    slow = Verifier(probes_dir=hang, limits=sandbox.Limits(wall_seconds=1.5))
    detail = slow.run("payment", SQL_FIX)["payment.sql_injection"]
    assert detail["status"] == "error" and detail["detail"].startswith("the probe run was stopped after")


@needs_sandbox
def test_a_check_passes_only_when_all_its_probes_pass_and_sees_the_contract_layout(tmp_path):
    probe = '''
    import json, os, sys
    listing = sorted(os.listdir("candidate"))
    patched = "WHERE address = ?" in open("candidate/payment_processor.py").read()
    results = [
        {"check": "payment.sql_injection", "probe": "layout", "status": "passed" if listing == %r else "failed",
         "detail": " ".join(listing)},
        {"check": "payment.sql_injection", "probe": "patched", "status": "passed" if patched else "failed",
         "detail": "patched file in place" if patched else "\\x1b[31mnot patched\\x1b[0m"},
        {"check": "payment.float_precision", "probe": "env", "status": "failed",
         "detail": os.environ["HOME"].replace(os.getcwd(), "SCRATCH") + " " + os.environ["TMPDIR"].replace(os.getcwd(), "SCRATCH")},
    ]
    print("noise before the result")
    print(json.dumps({"task": "payment", "results": results}))
    ''' % sorted([".changed.json"] + [p.name for p in (Path(__file__).parents[1] / "fixtures" / "buggy_code").iterdir()
                                       if p.name != "__pycache__"])
    folder = probes_with(tmp_path, "payment", probe)
    fee_fix = SQL_FIX + "\n```python\ndef calculate_fee(self, amount):\n    return Decimal(str(amount))\n```\n"
    runs = Verifier(probes_dir=folder).run("payment", fee_fix)
    assert runs["payment.sql_injection"]["status"] == "passed", runs["payment.sql_injection"]
    assert runs["payment.sql_injection"]["probe"] == "layout, patched"
    assert runs["payment.float_precision"]["detail"] == "SCRATCH/home SCRATCH/tmp"
    runner._MEMORY.clear()
    unpatched = Verifier(probes_dir=folder).run("payment", SQL_FORMAT)["payment.sql_injection"]
    assert unpatched["status"] == "failed" and unpatched["probe"] == "patched"
    assert unpatched["detail"] == "[31mnot patched [0m"      # control characters never reach a terminal


@needs_sandbox
def test_a_probe_that_saw_the_fix_fail_decides_over_one_that_could_not_judge(tmp_path):
    probe = """
    import json
    results = [
        {"check": "payment.sql_injection", "probe": "stuck", "status": "error", "detail": "the probe timed out"},
        {"check": "payment.sql_injection", "probe": "rows", "status": "failed", "detail": "rows of other addresses"},
        {"check": "payment.float_precision", "probe": "stuck", "status": "error", "detail": "the probe timed out"},
        {"check": "payment.float_precision", "probe": "fees", "status": "passed", "detail": "fees exact"},
    ]
    print(json.dumps({"task": "payment", "results": results}))
    """
    runs = Verifier(probes_dir=probes_with(tmp_path, "payment", probe)).run(
        "payment", SQL_FIX + "\n```python\ndef calculate_fee(self, amount):\n    return amount\n```\n")
    assert (runs["payment.sql_injection"]["status"], runs["payment.sql_injection"]["probe"]) == ("failed", "rows")
    # with nothing failed, one probe that could not judge leaves the check unjudged
    assert (runs["payment.float_precision"]["status"], runs["payment.float_precision"]["probe"]) == ("error", "stuck")


@needs_sandbox
def test_one_sandbox_run_per_answer(monkeypatch, tmp_path):
    calls = []
    real = sandbox.run

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(sandbox, "run", counting)
    verifier = Verifier(probes_dir=TEST_PROBES, cache_dir=tmp_path / "cache")
    first = verifier.run("payment", SQL_FIX)
    assert verifier.run("payment", SQL_FIX) == first
    assert len(calls) == 1
    runner._MEMORY.clear()   # another process (an xdist worker) reads the run folder's cache
    assert verifier.run("payment", SQL_FIX) == first and len(calls) == 1
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1   # and a .lock beside it
    json.loads(next((tmp_path / "cache").glob("*.json")).read_text())


@needs_sandbox
def test_hiveos_answer_sh_runs_with_a_scratch_home():
    runs = Verifier(probes_dir=TEST_PROBES).run("hiveos", get_task("hiveos").reference_answer())
    assert runs["hiveos.manifest"]["status"] == "passed"
    quoted_tilde = get_task("hiveos").reference_answer().replace("mkdir -p ~/Downloads/ethminer\ncd ~/Downloads/ethminer",
                                                                 'DIR="~/Downloads/ethminer"\nmkdir -p "$DIR"\ncd "$DIR"')
    assert quoted_tilde != get_task("hiveos").reference_answer()
    runner._MEMORY.clear()
    wrong = Verifier(probes_dir=TEST_PROBES).run("hiveos", quoted_tilde)
    assert wrong["hiveos.directory"]["status"] == "failed"   # the files landed in ./~/Downloads/ethminer


def test_the_test_probes_only_use_the_standard_library():
    for probe in TEST_PROBES.rglob("*.py"):
        assert "llmbench" not in probe.read_text(), probe
    shutil.which("python3") or pytest.skip("no python3")


@needs_sandbox
@pytest.mark.parametrize("task", ["zmq", "pplns", "payment", "stratum", "hiveos"])
def test_the_shipped_probes_pass_every_check_of_the_reference_answer_as_built(task):
    """What `make demo` shows: each reference answer, built into its candidate, passes its probes."""
    if not (runner.PROBES_DIR / f"{task}_probe.py").is_file():
        pytest.skip(f"no shipped probe for {task}")
    runs = Verifier().run(task, get_task(task).reference_answer())
    assert {c: r["status"] for c, r in runs.items()} == dict.fromkeys(get_task(task).check_ids, "passed"), runs


@needs_sandbox
def test_an_in_place_edit_that_matches_nothing_fails_the_check_it_was_for():
    finding = "`pplns_window` is never read: the code only knows `share_window`, a different name.\n\n"
    noop = (finding + "```bash\nsed -i 's/self.share_window=10000/self.share_window = int(config.get(\"pplns_window\", 10000))/'"
            " pplns.py\nsed -i '/window_size = int(net_diff/d' pplns.py\n```\n")
    run = Verifier().run("pplns", noop)["pplns.config_key_mismatch"]
    assert run["status"] == "failed" and "matches no line" in run["detail"], run
    right = noop.replace("share_window=10000", "share_window = 10000")
    assert Verifier().run("pplns", right)["pplns.config_key_mismatch"]["status"] == "passed"


@needs_sandbox
def test_the_configured_key_read_only_for_the_dashboard_is_judged_by_the_run():
    stats = ("```python\n    def get_worker_stats(self, worker):\n        window = int(self.config.get(\"pplns_window\", "
             "self.share_window))\n        with self._connect() as conn:\n            shares = self._last_shares(conn, window)\n"
             "        mine = [d for name, d in shares if name == worker]\n        total = sum(d for _, d in shares)\n"
             "        return {\"worker\": worker, \"shares_in_window\": len(mine), \"window_shares\": len(shares),\n"
             "                \"window_limit\": window, \"estimated_share\": (sum(mine) / total) if total else 0.0}\n```\n")
    run = Verifier().run("pplns", stats)["pplns.config_key_mismatch"]
    assert run["status"] == "failed", run
    init = "```python\n        self.share_window = int(config.get(\"pplns_window\", 10000))\n```\n"
    lead = "In `__init__`, replace the literal with:\n\n"
    assert Verifier().run("pplns", lead + init + stats)["pplns.config_key_mismatch"]["status"] == "passed"


@needs_sandbox
def test_a_file_the_shell_leaves_unparsable_fails_the_checks_of_its_code():
    fixed = read_fixture("payment_processor.py").replace(
        "f\"WHERE address = '{address}' ORDER BY id DESC LIMIT {int(limit)}\"",
        "\"WHERE address = ? ORDER BY id DESC LIMIT ?\", (address, int(limit))")
    assert fixed != read_fixture("payment_processor.py")
    closed = f"```bash\ncat > payment_processor.py <<-'EOF'\n{fixed}EOF\npython3 -m py_compile payment_processor.py\n```\n"
    assert Verifier().run("payment", closed)["payment.sql_injection"]["status"] == "passed"
    # `<<-` strips tabs only: "  EOF" is body text, and so is the rest of the block
    unclosed = closed.replace("\nEOF\n", "\n  EOF\n")
    run = Verifier().run("payment", unclosed)["payment.sql_injection"]
    assert run["status"] == "failed" and "import failed" in run["detail"], run


@needs_sandbox
def test_a_log_edit_that_matches_nothing_fails_the_block_log_check():
    finding = "`_submit_block()` logs `block_hex`, the whole block, at INFO before `submitblock`: anyone reading the logs sees it.\n\n"
    one_line = ("```bash\nsed -i 's/logger.info(\"block candidate %s at height %d: %s\", block_hash, template\\[\"height\"\\], "
                "block_hex)/logger.info(\"block %s\", block_hash)/' stratum_server.py\n```\n")
    run = Verifier().run("stratum", finding + one_line)["stratum.info_leak"]
    assert run["status"] == "failed" and "matches no line" in run["detail"], run
    matching = ("```bash\nsed -i 's/ at height %d: %s\",/ at height %d\",/; s/template\\[\"height\"\\], block_hex)/"
                "template[\"height\"])/' stratum_server.py\n```\n")
    assert Verifier().run("stratum", finding + matching)["stratum.info_leak"]["status"] == "passed"


_NEW_VALIDATE = '''```python
async def _validate_share(self, session, job, extranonce2, ntime, nonce):
    merkle_root, coinbase = self._compute_merkle(job, session.extranonce1, extranonce2)
    header = self._build_header(job, merkle_root, ntime, nonce)
    header_hash = dsha256(header)
    hash_int = int.from_bytes(header_hash, "little")
    if hash_int > DIFF1_TARGET // session.difficulty:
        return False, None
    block_hash = header_hash[::-1].hex()
    if hash_int <= job["target"]:
        await self._submit_block(header, coinbase, block_hash)
    return True, block_hash

def _compute_merkle(self, job, extranonce1, extranonce2):
    root = dsha256(job["coinb1"] + extranonce1 + extranonce2 + job["coinb2"])
    for branch_hash in job["merkle_branch"]:
        root = dsha256(root + branch_hash)
    return root, job["coinb1"] + extranonce1 + extranonce2 + job["coinb2"]

def _build_header(self, job, merkle_root, ntime, nonce):
    template = job["template"]
    return (struct.pack("<I", template["version"]) + bytes.fromhex(template["previousblockhash"])[::-1]
            + merkle_root + struct.pack("<I", ntime) + bytes.fromhex(template["bits"])[::-1] + struct.pack("<I", nonce))
```
'''
_CALLER_FRAGMENT = '''```python
# _handle_submit, before validating
job = self.jobs.get(job_id)
if job is None:
    await self._reply_error(session, msg_id, 21, "Job not found")
    return
accepted, block_hash = await self._validate_share(
    session, job, extranonce2_bin, ntime_int, nonce_int)
```
'''


@needs_sandbox
def test_a_type_error_beside_an_unplaced_caller_of_a_changed_function_cannot_judge_the_fix():
    # the splice cannot place the fragment that calls the new _validate_share, so the program
    # keeps the old call with a job id where a job goes: what stops the run is that caller
    fixed = read_fixture("stratum_server.py").split("    async def _submit_block")[1].split("\n    async def ")[0].split("\n    def ")[0]
    fixed = "    async def _submit_block" + fixed.replace(
        'logger.info("block candidate %s at height %d: %s",\n                    block_hash, template["height"], block_hex)',
        'logger.info("block candidate %s at height %d", block_hash, template["height"])')
    assert "block_hex)" not in fixed.split("submitblock")[0]
    log = ("`_submit_block()` logs `block_hex`, the whole block, at INFO before `submitblock`, and the contractors "
           "reading the log service see it. Log only the hash:\n\n```python\n" + textwrap.dedent(fixed) + "```\n\n")
    run = Verifier().run("stratum", log + _NEW_VALIDATE + _CALLER_FRAGMENT)["stratum.info_leak"]
    assert run["status"] == "error" and "calls _validate_share() with the parameters the answer gave it" in run["detail"], run
    assert "the pool raised TypeError" in run["detail"], run
    # with no caller of its own left out, the program the answer gave is what failed
    alone = Verifier().run("stratum", log + _NEW_VALIDATE)["stratum.info_leak"]
    assert alone["status"] == "failed" and "the pool raised TypeError" in alone["detail"], alone
