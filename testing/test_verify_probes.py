"""The behavioural probes of llmbench.verify: each fails on the shipped bug, passes on
right fixes of several shapes, and catches the wrong fixes that read right.

The probe scripts run in a plain subprocess with a scratch laid out as in the verify
contract (no sandbox here: every candidate below is written by hand in
testing/verify_cases/).
"""

import shutil

import pytest
from verify_probes_helpers import by_probe, case_text, lay_out, run_probe

from llmbench.tasks.prompting import read_fixture

PROBES_OF = {
    "zmq": {"socket_ops_on_listener_thread", "stop_ends_cleanly", "stop_closes_on_listener_thread"},
    "pplns": {"configured_window_decides", "window_size_not_dead"},
    "payment": {"each_payout_paid_once", "history_not_injectable", "money_exact_to_satoshi",
                "error_after_send_keeps_row", "wallet_error_visible"},
    "stratum": {"share_hash_block_125552", "no_block_hex_logged_before_submit", "share_for_replaced_job",
                "unknown_job_rejected", "recent_shares_bounded", "malformed_submit_error_reply"},
    "hiveos": {"files_in_downloads_ethminer", "files_written_whole", "manifest_sets_name_version",
               "flight_sheet_reaches_ethminer", "no_miner_variables", "h_config_exports_settings",
               "h_run_execs_ethminer", "h_stats_prints_json", "h_stats_queries_3333", "ethminer_api_on_3333"},
}

# HiveOS ships jq and the HiveOS answers here use it in h-stats.sh; the probe runs what the
# machine has. `make system-deps` must install jq for these cases to run in CI.
NEEDS_JQ = {"right_reference.sh", "right_argjson.sh", "right_netcat.sh", "wrong_jq_arg.sh"}


def _require_jq(task, case):
    if task == "hiveos" and case in NEEDS_JQ and shutil.which("jq") is None:
        pytest.skip("jq is not installed (HiveOS ships it; install it with the system packages)")


CHECKS_OF = {
    "zmq": {"zmq.socket_crosses_threads", "zmq.fix_socket_in_thread"},
    "pplns": {"pplns.hardcoded_share_window", "pplns.window_size_unused", "pplns.config_key_mismatch"},
    "payment": {"payment.race_condition", "payment.sql_injection", "payment.float_precision", "payment.atomicity"},
    "stratum": {"stratum.byte_order", "stratum.info_leak", "stratum.stale_job", "stratum.memory_leak",
                "stratum.input_validation"},
    "hiveos": {"hiveos.heredocs", "hiveos.manifest", "hiveos.custom_vars", "hiveos.h_config",
               "hiveos.h_run_exec", "hiveos.h_stats_json", "hiveos.directory", "hiveos.api_port"},
}


@pytest.mark.parametrize("task", sorted(PROBES_OF))
def test_every_probe_fails_on_the_shipped_bug(tmp_path, task):
    # hiveos has no fixture code: the control is an answer that creates nothing
    payload = run_probe(lay_out(tmp_path, task, "" if task == "hiveos" else None), task)
    assert payload["task"] == task
    results = by_probe(payload)
    assert set(results) == PROBES_OF[task]
    assert {r["check"] for r in payload["results"]} == CHECKS_OF[task]
    for name, (status, detail) in results.items():
        assert status == "failed", (name, status, detail)
        assert detail and "\n" not in detail


RIGHT = [
    ("zmq", "right_reference.py"),            # socket made in _listen, stop() terms the context
    ("zmq", "right_poller.py"),               # Poller with a timeout, a stop event, the thread closes its socket
    ("zmq", "right_orphan_socket_in_init.py"),  # __init__ still makes a socket nobody connects nor reads
    ("pplns", "right_reference.py"),          # pplns_window with a default, window_size removed
    ("pplns", "right_window_size_used.py"),   # pplns_window required, window_size kept and used
    ("payment", "right_reference.py"),        # atomic UPDATE ... WHERE status='pending', Decimal(str(...))
    ("payment", "right_lock_int_sats.py"),    # a lock around a status re-read, integer satoshis
    ("stratum", "right_reference.py"),        # jobs by id cleared on clean_jobs, TTL pruning, explicit validation
    ("stratum", "right_capped_try.py"),       # bounded job map, size cap, try/except with length checks
    ("stratum", "right_pruning_task.py"),     # a pruning task started by start()
    ("stratum", "right_prune_in_poller.py"),  # share keys pruned by age in the template poller's loop
    ("stratum", "right_block_logged_after_submit.py"),  # the block hex logged, but after submitblock
    ("hiveos", "right_reference.sh"),         # the reference answer's shell
    ("hiveos", "right_argjson.sh"),           # h-stats built with jq --argjson from shell variables
    ("hiveos", "right_netcat.sh"),            # h-stats asks the API with nc -w, as HiveOS's own scripts do
]


@pytest.mark.parametrize("task,case", RIGHT, ids=[f"{t}-{c}" for t, c in RIGHT])
def test_every_probe_passes_on_a_right_fix(tmp_path, task, case):
    _require_jq(task, case)
    payload = run_probe(lay_out(tmp_path, task, case_text(task, case)), task)
    results = by_probe(payload)
    assert set(results) == PROBES_OF[task]
    failing = {name: r for name, r in results.items() if r[0] != "passed"}
    assert not failing


WRONG = [
    # (task, case, check to run, probe that must fail, words its detail must hold)
    ("zmq", "wrong_connect_in_start.py", "zmq.fix_socket_in_thread",
     "socket_ops_on_listener_thread", "connect runs in the caller's thread"),
    ("zmq", "wrong_closes_in_stop.py", "zmq.socket_crosses_threads",
     "stop_closes_on_listener_thread", "closed from thread"),
    ("zmq", "wrong_text_subscribe.py", "zmq.fix_socket_in_thread",
     "socket_ops_on_listener_thread", "unicode not allowed, use setsockopt_string"),
    ("zmq", "wrong_target_called.py", "zmq.fix_socket_in_thread",
     "socket_ops_on_listener_thread", "start() did not return within 1 s"),
    # ZMQ_CONFLATE keeps one message part: bitcoind's three-part notifications never arrive whole
    ("zmq", "wrong_conflate_multipart.py", "zmq.fix_socket_in_thread",
     "socket_ops_on_listener_thread", "notifications did not reach the callbacks"),
    ("pplns", "wrong_defaults_win.py", "pplns.config_key_mismatch",
     "configured_window_decides", "window smaller than 50000"),
    ("pplns", "wrong_difficulty_window.py", "pplns.config_key_mismatch",
     "configured_window_decides", "shipped pool_config.json"),
    ("pplns", "wrong_window_size_still_dead.py", "pplns.window_size_unused",
     "window_size_not_dead", "never uses it"),
    ("payment", "wrong_decimal_of_float.py", "payment.float_precision",
     "money_exact_to_satoshi", "not a whole number of satoshis"),
    ("payment", "wrong_decimal_bound_after_send.py", "payment.float_precision",
     "money_exact_to_satoshi", "went back to 'pending'"),
    ("payment", "wrong_percent_format.py", "payment.sql_injection",
     "history_not_injectable", "rows of other addresses"),
    ("payment", "wrong_lock_only_the_set.py", "payment.race_condition",
     "each_payout_paid_once", "more than once"),
    ("payment", "wrong_still_resets_pending.py", "payment.atomicity",
     "error_after_send_keeps_row", "reset the row to 'pending'"),
    ("stratum", "wrong_pruner_never_started.py", "stratum.memory_leak",
     "recent_shares_bounded", "never pruned"),
    ("stratum", "wrong_prune_pops_newest.py", "stratum.memory_leak",
     "recent_shares_bounded", "the pruning drops keys that are not yet due"),
    ("stratum", "wrong_try_misses_valueerror.py", "stratum.input_validation",
     "malformed_submit_error_reply", "dropped the session"),
    ("stratum", "wrong_bits_not_reversed.py", "stratum.byte_order",
     "share_hash_block_125552", "byte order"),
    ("stratum", "wrong_header_logged_first.py", "stratum.info_leak",
     "no_block_hex_logged_before_submit", "logged before submitblock"),
    ("stratum", "wrong_block_logged_at_debug.py", "stratum.info_leak",
     "no_block_hex_logged_before_submit", "logged before submitblock (at DEBUG)"),
    # a format its arguments do not fit: logging's error report prints the block to stderr
    ("stratum", "wrong_block_in_a_logging_error.py", "stratum.info_leak",
     "no_block_hex_logged_before_submit", "logging error"),
    ("stratum", "wrong_validates_current_job.py", "stratum.stale_job",
     "share_for_replaced_job", "validated against another job"),
    ("hiveos", "wrong_quoted_tilde.sh", "hiveos.directory",
     "files_in_downloads_ethminer", "folder literally named '~'"),
    ("hiveos", "wrong_jq_arg.sh", "hiveos.h_stats_json",
     "h_stats_prints_json", "hs is a str"),
    ("hiveos", "wrong_single_quoted_json.sh", "hiveos.h_stats_json",
     "h_stats_prints_json", "output is not JSON"),
    ("hiveos", "wrong_netcat_no_timeout.sh", "hiveos.h_stats_json",
     "h_stats_prints_json", "did not finish within 6 s"),
    ("hiveos", "wrong_no_exec.sh", "hiveos.h_run_exec",
     "h_run_execs_ethminer", "not in its place with exec"),
    ("hiveos", "wrong_screen.sh", "hiveos.h_run_exec",
     "h_run_execs_ethminer", "under screen"),
    ("hiveos", "wrong_miner_vars.sh", "hiveos.custom_vars",
     "no_miner_variables", "$MINER_URL"),
    ("hiveos", "wrong_miner_vars.sh", "hiveos.custom_vars",
     "flight_sheet_reaches_ethminer", "do not carry CUSTOM_URL"),
    ("hiveos", "wrong_unterminated_heredoc.sh", "hiveos.heredocs",
     "files_written_whole", "swallowed the next heredoc"),
    ("hiveos", "wrong_no_api_port.sh", "hiveos.api_port",
     "ethminer_api_on_3333", "without its API on port 3333"),
    ("hiveos", "wrong_stats_port.sh", "hiveos.api_port",
     "h_stats_queries_3333", "never asked ethminer's API on 127.0.0.1:3333"),

    ("hiveos", "wrong_manifest_name.sh", "hiveos.manifest",
     "manifest_sets_name_version", "not 'ethminer'"),
]


@pytest.mark.parametrize("task,case,check,probe,words", WRONG,
                         ids=[f"{w[0]}-{w[1]}-{w[3]}" for w in WRONG])
def test_a_wrong_fix_that_reads_right_fails_its_probe(tmp_path, task, case, check, probe, words):
    _require_jq(task, case)
    payload = run_probe(lay_out(tmp_path, task, case_text(task, case)), task, checks=[check])
    assert {r["check"] for r in payload["results"]} == {check}
    status, detail = by_probe(payload)[probe]
    assert status == "failed", detail
    assert words in detail



def reference_with(old: str, new: str) -> str:
    """The right hiveos answer with one change (the change must apply)."""
    answer = case_text("hiveos", "right_reference.sh")
    assert old in answer
    return answer.replace(old, new, 1)


def test_an_inner_heredoc_with_the_outer_delimiter_stops_the_paste(tmp_path):
    # the inner `EOF` closes h-stats.sh's heredoc; the `)` after it is a syntax error
    answer = reference_with("cat > h-stats.sh << 'EOF'\n#!/usr/bin/env bash\n",
                            "cat > h-stats.sh << 'EOF'\n#!/usr/bin/env bash\nBANNER=$(cat << EOF\nethminer stats\nEOF\n)\n")
    payload = run_probe(lay_out(tmp_path, "hiveos", answer), "hiveos", checks=["hiveos.heredocs"])
    status, detail = by_probe(payload)["files_written_whole"]
    assert status == "failed" and "stop at a bash syntax error" in detail, detail


REFERENCE_EXEC = 'exec ./ethminer -U $ETHMINER_POOLS --api-port "$ETHMINER_API_PORT" $ETHMINER_EXTRA_ARGS\n'


def _exec_line_probe(tmp_path, old: str, new: str, check: str, probe: str) -> tuple[str, str]:
    """(status, detail) of one probe on the right hiveos answer with its exec line changed."""
    answer = reference_with(REFERENCE_EXEC, REFERENCE_EXEC.replace(old, new))
    return by_probe(run_probe(lay_out(tmp_path, "hiveos", answer), "hiveos", checks=[check]))[probe]


def test_the_host_card_numbers_passed_to_cuda_devices_miss_the_cards_cuda_renumbers(tmp_path):
    status, detail = _exec_line_probe(tmp_path / "host", "-U ", "-U --cuda-devices ${CUDA_VISIBLE_DEVICES//,/ } ",
                                      "hiveos.h_run_exec", "h_run_execs_ethminer")
    assert status == "failed" and "--cuda-devices 1 3" in detail, detail
    # the visible cards by CUDA's own numbering select what HiveOS chose
    status, detail = _exec_line_probe(tmp_path / "visible", "-U ", "-U --cuda-devices 0 1 ",
                                      "hiveos.h_run_exec", "h_run_execs_ethminer")
    assert status == "passed", detail


def test_a_sent_payout_whose_row_cannot_record_its_decimal_fee_fails_the_money_check(tmp_path):
    # the paid UPDATE cannot bind the Decimal fee; the row goes to 'review' instead of back to pending
    answer = case_text("payment", "wrong_decimal_bound_after_send.py").replace(
        "UPDATE payouts SET status = 'pending' WHERE id = {payout_id}", "UPDATE payouts SET status = 'review' WHERE id = {payout_id}")
    assert "status = 'review'" in answer
    payload = run_probe(lay_out(tmp_path, "payment", answer), "payment", checks=["payment.float_precision"])
    status, detail = by_probe(payload)["money_exact_to_satoshi"]
    assert status == "failed" and "never recorded the txid and fee (status 'review')" in detail, detail



def test_a_decimal_fee_sqlite3_cannot_bind_before_the_send_fails_the_money_check(tmp_path):
    # the fee bound into the claim, outside the try: the error stops every payout
    answer = case_text("payment", "wrong_decimal_bound_after_send.py").replace(
        "        net_amount = amount - fee\n        conn = self._connect()\n",
        "        net_amount = amount - fee\n        conn = self._connect()\n"
        "        conn.execute(\"UPDATE payouts SET fee = ? WHERE id = ?\", (fee, payout_id))\n", 1)
    assert "SET fee = ? WHERE id" in answer
    payload = run_probe(lay_out(tmp_path, "payment", answer), "payment", checks=["payment.float_precision"])
    status, detail = by_probe(payload)["money_exact_to_satoshi"]
    assert status == "failed" and "sqlite3 cannot bind the new Decimal money" in detail, detail


def test_a_window_made_a_tuple_by_a_trailing_comma_fails_the_window_checks(tmp_path):
    tupled = read_fixture("pplns.py").replace("self.share_window = 10000",
                                              "self.share_window = config.get(\"pplns_window\", 10000),")
    assert "10000)," in tupled
    payload = run_probe(lay_out(tmp_path, "pplns", tupled), "pplns", checks=["pplns.config_key_mismatch"])
    status, detail = by_probe(payload)["configured_window_decides"]
    assert status == "failed" and "a tuple (a trailing comma)" in detail, detail


def test_settings_h_run_uses_must_be_exported_unless_it_sources_h_config(tmp_path):
    unsourced = reference_with(". ./h-config.sh\n", "")
    payload = run_probe(lay_out(tmp_path / "exported", "hiveos", unsourced), "hiveos", checks=["hiveos.h_config"])
    status, detail = by_probe(payload)["h_config_exports_settings"]
    assert status == "passed", detail
    unexported = unsourced.replace("export ETHMINER_POOLS\n", "", 1)
    payload = run_probe(lay_out(tmp_path / "unexported", "hiveos", unexported), "hiveos", checks=["hiveos.h_config"])
    status, detail = by_probe(payload)["h_config_exports_settings"]
    assert status == "failed" and "ETHMINER_POOLS, which h-config.sh sets without export" in detail, detail


def test_a_setting_h_run_reads_that_h_config_exports_under_another_name_fails(tmp_path):
    status, detail = _exec_line_probe(tmp_path / "renamed", "$ETHMINER_POOLS", '-P "$ETHMINER_POOL"',
                                      "hiveos.h_config", "h_config_exports_settings")
    assert status == "failed" and "$ETHMINER_POOL, which neither h-config.sh nor h-run.sh sets" in detail, detail
    # a name with a default in h-run.sh needs nothing from h-config.sh
    status, detail = _exec_line_probe(tmp_path / "defaulted", "--api-port", "${ETHMINER_OPTS:-} --api-port",
                                      "hiveos.h_config", "h_config_exports_settings")
    assert status == "passed", detail


REFERENCE_CONFIG = case_text("hiveos", "right_reference.sh").split("cat > h-config.sh << 'EOF'\n", 1)[1].split("EOF\n", 1)[0]


def _with_config(body: str, delimiter: str = "'EOF'") -> str:
    return reference_with(f"cat > h-config.sh << 'EOF'\n{REFERENCE_CONFIG}EOF\n", f"cat > h-config.sh << {delimiter}\n{body}EOF\n")


def test_settings_h_run_reads_exported_empty_by_an_expanding_heredoc_are_still_exported(tmp_path):
    # `<< EOF` expands the flight sheet while the file is written: the names h-run.sh reads are
    # exported, empty (the heredoc and CUSTOM_* checks judge the values)
    body = ('export ETHMINER_POOLS="$CUSTOM_URL"\nexport ETHMINER_API_PORT="$CUSTOM_API"\n'
            'export ETHMINER_EXTRA_ARGS="$CUSTOM_USER_CONFIG"\n')
    payload = run_probe(lay_out(tmp_path / "expanded", "hiveos", _with_config(body, "EOF")), "hiveos", checks=["hiveos.h_config"])
    status, detail = by_probe(payload)["h_config_exports_settings"]
    assert status == "passed" and "ETHMINER_POOLS" in detail and "empty here" in detail, detail
    # empty names h-run.sh never reads are no settings of it
    other = body.replace("ETHMINER_", "ETM_")
    payload = run_probe(lay_out(tmp_path / "unread", "hiveos", _with_config(other, "EOF")), "hiveos", checks=["hiveos.h_config"])
    status, detail = by_probe(payload)["h_config_exports_settings"]
    assert status == "failed" and "exports no setting" in detail, detail


def test_a_setting_whose_value_word_splitting_respaces_still_reaches_ethminer(tmp_path):
    # "--api-port 3333  -P …": the doubled space is gone from ethminer's argv
    body = REFERENCE_CONFIG.replace("export ETHMINER_EXTRA_ARGS", 'export ETHMINER_POOLS="--api-port 3333 $ETHMINER_POOLS  "\nexport ETHMINER_EXTRA_ARGS')
    answer = _with_config(body).replace('--api-port "$ETHMINER_API_PORT" ', "")
    payload = run_probe(lay_out(tmp_path, "hiveos", answer), "hiveos", checks=["hiveos.h_config"])
    status, detail = by_probe(payload)["h_config_exports_settings"]
    assert status == "passed" and "ETHMINER_POOLS" in detail, detail


def test_files_a_probe_writes_by_sourcing_are_not_the_answers(tmp_path):
    # h-config.sh's heredoc never closes ("  EOF"), so it swallows the command writing
    # h-run.sh: sourcing h-config.sh writes h-run.sh, the answer's paste does not
    answer = reference_with('export ETHMINER_EXTRA_ARGS="$CUSTOM_USER_CONFIG"\nEOF\n',
                            'export ETHMINER_EXTRA_ARGS="$CUSTOM_USER_CONFIG"\n  EOF\n')
    payload = run_probe(lay_out(tmp_path, "hiveos", answer), "hiveos",
                        checks=["hiveos.h_config", "hiveos.h_run_exec", "hiveos.api_port"])
    results = by_probe(payload)
    for probe in ("h_run_execs_ethminer", "ethminer_api_on_3333"):
        status, detail = results[probe]
        assert status == "failed" and "h-run.sh was not created" in detail, (probe, detail)


def test_a_syntax_error_is_an_error_verdict_for_every_probe(tmp_path):
    payload = run_probe(lay_out(tmp_path, "zmq", "import zmq\nclass ZMQListener(:\n    pass\n"), "zmq")
    for status, detail in by_probe(payload).values():
        assert status == "error"
        assert detail == "import failed: SyntaxError line 2 in zmq_listener.py: invalid syntax"


def test_a_missing_class_is_an_error_verdict_naming_the_class(tmp_path):
    text = case_text("payment", "right_reference.py").replace("class PaymentProcessor:", "class Payments:")
    payload = run_probe(lay_out(tmp_path, "payment", text), "payment")
    assert {s for s, _ in by_probe(payload).values()} == {"error"}
    assert all("no class PaymentProcessor" in d for _, d in by_probe(payload).values())


def test_an_endless_loop_at_import_is_stopped(tmp_path):
    payload = run_probe(lay_out(tmp_path, "pplns", "while True:\n    pass\n"), "pplns")
    for status, detail in by_probe(payload).values():
        assert status == "error"
        assert "importing the candidate timed out" in detail


def test_an_endless_loop_in_a_method_costs_only_the_probes_that_call_it(tmp_path):
    text = case_text("payment", "right_reference.py").replace(
        '    def get_payment_history(self, address, limit=50):\n',
        '    def get_payment_history(self, address, limit=50):\n        while True:\n            pass\n')
    payload = run_probe(lay_out(tmp_path, "payment", text), "payment")
    results = by_probe(payload)
    assert results["history_not_injectable"][0] == "error"
    assert "the probe timed out" in results["history_not_injectable"][1]
    assert {name for name, r in results.items() if r[0] == "passed"} == PROBES_OF["payment"] - {"history_not_injectable"}


def test_a_crash_inside_the_candidate_is_an_error_with_its_place(tmp_path):
    text = case_text("payment", "right_reference.py").replace(
        "    def calculate_fee(self, amount):\n",
        "    def calculate_fee(self, amount):\n        raise RuntimeError('fee table missing')\n")
    payload = run_probe(lay_out(tmp_path, "payment", text), "payment", checks=["payment.float_precision"])
    status, detail = by_probe(payload)["money_exact_to_satoshi"]
    assert status == "error"
    assert "RuntimeError: fee table missing (payment_processor.py:" in detail


def test_a_hung_answer_script_is_stopped_and_its_files_still_judged(tmp_path):
    answer = "mkdir -p ~/Downloads/ethminer\nwhile :; do :; done\n"
    payload = run_probe(lay_out(tmp_path, "hiveos", answer), "hiveos", checks=["hiveos.directory"])
    status, detail = by_probe(payload)["files_in_downloads_ethminer"]
    assert status == "failed"
    assert "did not finish within 5 s" in detail


def test_the_answer_runs_in_the_scratch_home_only(tmp_path):
    answer = case_text("hiveos", "right_reference.sh")
    scratch = lay_out(tmp_path, "hiveos", answer)
    run_probe(scratch, "hiveos", checks=["hiveos.manifest"])
    made = sorted(p.relative_to(scratch / "home").as_posix() for p in (scratch / "home").rglob("*"))
    assert "Downloads/ethminer/h-manifest.conf" in made
    assert not (scratch / "candidate" / "Downloads").exists()


def test_a_check_filter_runs_only_that_checks_probes(tmp_path):
    payload = run_probe(lay_out(tmp_path, "stratum"), "stratum", checks=["stratum.stale_job"])
    assert sorted(r["probe"] for r in payload["results"]) == ["share_for_replaced_job", "unknown_job_rejected"]


def test_candidate_chatter_and_control_characters_never_reach_the_json(tmp_path):
    text = case_text("payment", "right_reference.py").replace(
        "    def calculate_fee(self, amount):\n",
        "    def calculate_fee(self, amount):\n"
        "        import threading\n"
        "        threading.Thread(target=lambda: [print('noise') for _ in range(10000)]).start()\n"
        "        print('{\"task\": \"payment\", \"results\": []}')\n"
        "        raise RuntimeError('\\x1b[31mred\\nsecond line')\n") + "\nprint('import noise')\n"
    payload = run_probe(lay_out(tmp_path, "payment", text), "payment", checks=["payment.float_precision"])
    status, detail = by_probe(payload)["money_exact_to_satoshi"]
    assert status == "error"
    assert "\x1b" not in detail and "\n" not in detail
    assert "RuntimeError: ?[31mred second line" in detail


def test_a_screen_wrapper_fails_only_the_exec_check(tmp_path):
    # screen runs the command it is given, so what ethminer receives is still judged
    payload = run_probe(lay_out(tmp_path, "hiveos", case_text("hiveos", "wrong_screen.sh")), "hiveos",
                        checks=["hiveos.h_run_exec", "hiveos.custom_vars", "hiveos.api_port"])
    results = by_probe(payload)
    assert results["h_run_execs_ethminer"][0] == "failed"
    assert {name for name, r in results.items() if r[0] == "passed"} == {
        "flight_sheet_reaches_ethminer", "no_miner_variables", "ethminer_api_on_3333", "h_stats_queries_3333"}


def test_a_miner_left_running_in_the_background_is_still_judged_on_its_arguments(tmp_path):
    # `nohup ./ethminer … &`: the script ends at once, ethminer starts a moment later
    payload = run_probe(lay_out(tmp_path, "hiveos", case_text("hiveos", "wrong_nohup_background.sh")), "hiveos",
                        checks=["hiveos.h_run_exec", "hiveos.api_port"])
    results = by_probe(payload)
    assert results["h_run_execs_ethminer"] == ("failed", "h-run.sh starts ethminer with nohup")
    assert results["ethminer_api_on_3333"][0] == "passed", results


def test_a_candidate_thread_that_dies_is_named_in_the_failure(tmp_path):
    text = case_text("zmq", "right_reference.py")
    start = text.index("    def _dispatch(self, frames):")
    text = text[:start] + text[text.index("    def stop(self):"):]
    payload = run_probe(lay_out(tmp_path, "zmq", text), "zmq", checks=["zmq.fix_socket_in_thread"])
    status, detail = by_probe(payload)["socket_ops_on_listener_thread"]
    assert status == "failed"
    assert "notifications did not reach the callbacks" in detail
    assert "thread zmq-listener died: AttributeError: 'ZMQListener' object has no attribute '_dispatch'" in detail


def test_close_from_stop_is_shown_beside_the_diagnosis_and_leaves_the_fix_to_the_contract(tmp_path):
    # the contract's fix is create, connect and subscribe in the thread; close is established
    # by its own probe, attached to the diagnosis check (shown, not scored)
    payload = run_probe(lay_out(tmp_path, "zmq", case_text("zmq", "wrong_closes_in_stop.py")), "zmq")
    results = by_probe(payload)
    assert results["stop_closes_on_listener_thread"][0] == "failed"
    assert results["socket_ops_on_listener_thread"][0] == "passed"
    assert results["stop_ends_cleanly"][0] == "passed"
    fix_probes = {r["probe"] for r in payload["results"] if r["check"] == "zmq.fix_socket_in_thread"}
    assert "stop_closes_on_listener_thread" not in fix_probes


def test_a_window_capped_at_the_difficulty_window_reads_the_config_as_a_real_pool_would(tmp_path):
    # at mainnet difficulty N × D shares is far beyond any configured window: the min is the configured one
    capped = read_fixture("pplns.py").replace(
        "self.share_window = 10000", "self.share_window = int(config.get(\"pplns_window\", 10000))").replace(
        "self._last_shares(conn, self.share_window)\n\n        if not shares", "self._last_shares(conn, min(window_size, self.share_window))\n\n        if not shares", 1)
    assert "min(window_size" in capped
    payload = run_probe(lay_out(tmp_path, "pplns", capped), "pplns", checks=["pplns.config_key_mismatch"])
    status, detail = by_probe(payload)["configured_window_decides"]
    assert status == "passed", detail
    # the difficulty window alone is no configured window
    alone = capped.replace("min(window_size, self.share_window)", "window_size")
    payload = run_probe(lay_out(tmp_path / "alone", "pplns", alone), "pplns", checks=["pplns.config_key_mismatch"])
    assert by_probe(payload)["configured_window_decides"][0] == "failed"


def test_the_race_cannot_be_judged_when_the_money_change_cannot_be_bound(tmp_path):
    answer = case_text("payment", "wrong_decimal_bound_after_send.py")
    payload = run_probe(lay_out(tmp_path, "payment", answer), "payment", checks=["payment.race_condition"])
    status, detail = by_probe(payload)["each_payout_paid_once"]
    assert status == "error" and "Decimal bound into SQL" in detail, (status, detail)


def test_an_exported_array_is_read_by_h_config_whatever_h_run_makes_of_it(tmp_path):
    arrays = reference_with('ETHMINER_POOLS=""\n', 'POOL_ARGS=(-P "$CUSTOM_URL" -u "$CUSTOM_TEMPLATE" -p "$CUSTOM_PASS")\n'
                            'export POOL_ARGS\nETHMINER_POOLS=""\n')
    arrays = arrays.replace("  ETHMINER_POOLS+=", "  : ", 1)
    payload = run_probe(lay_out(tmp_path, "hiveos", arrays), "hiveos", checks=["hiveos.custom_vars"])
    status, detail = by_probe(payload)["flight_sheet_reaches_ethminer"]
    assert status == "passed" and "reads CUSTOM_URL" in detail, detail
    # a scalar that drops the pass is not all three
    scalar = arrays.replace('-p "$CUSTOM_PASS")', ')', 1)
    payload = run_probe(lay_out(tmp_path / "scalar", "hiveos", scalar), "hiveos", checks=["hiveos.custom_vars"])
    assert by_probe(payload)["flight_sheet_reaches_ethminer"][0] == "failed"


def test_an_exit_in_h_config_is_its_own_failure_not_h_runs(tmp_path):
    ended = reference_with('export ETHMINER_EXTRA_ARGS="$CUSTOM_USER_CONFIG"\nEOF\n',
                           'export ETHMINER_EXTRA_ARGS="$CUSTOM_USER_CONFIG"\nexit 0\nEOF\n')
    ended = ended.replace("\n. ./h-config.sh\n", "\n", 1)   # (the paste itself must go on)
    payload = run_probe(lay_out(tmp_path, "hiveos", ended), "hiveos", checks=["hiveos.h_run_exec", "hiveos.h_config"])
    status, detail = by_probe(payload)["h_run_execs_ethminer"]
    assert status == "error" and "ends the shell" in detail, (status, detail)
    assert by_probe(payload)["h_config_exports_settings"][0] == "failed"


def test_a_file_only_named_is_judged_by_its_own_check_not_by_how_the_others_were_written(tmp_path):
    answer = case_text("hiveos", "right_reference.sh")
    start = answer.index("cat > h-config.sh << 'EOF'")
    end = answer.index("\nEOF\n", start) + len("\nEOF\n")
    without = answer[:start] + answer[end:]
    assert "h-config.sh" in without and "cat > h-config.sh" not in without
    payload = run_probe(lay_out(tmp_path, "hiveos", without), "hiveos", checks=["hiveos.heredocs", "hiveos.h_config"])
    assert by_probe(payload)["files_written_whole"][0] == "passed", by_probe(payload)["files_written_whole"]
    assert by_probe(payload)["h_config_exports_settings"][0] == "failed"


def test_a_bound_cannot_be_judged_when_every_submit_is_refused_before_it_is_stored(tmp_path):
    # a length check comparing hex digits with bytes refuses every valid share with error 20:
    # nothing reaches recent_shares, so its staying small says nothing of the bound
    right = case_text("stratum", "right_reference.py")
    refusing = right.replace("len(extranonce2) != 2 * EXTRANONCE2_SIZE", "len(extranonce2) != EXTRANONCE2_SIZE")
    assert refusing != right
    payload = run_probe(lay_out(tmp_path, "stratum", refusing), "stratum", checks=["stratum.memory_leak"])
    status, detail = by_probe(payload)["recent_shares_bounded"]
    assert status == "error" and "refused all" in detail and "before storing any" in detail, detail


def test_a_miner_variable_named_only_in_a_comment_is_no_use(tmp_path):
    config = "cat > h-config.sh << 'EOF'\n#!/usr/bin/env bash\n"
    commented = reference_with(config, config + "# (Built-in miners use $MINER_URL - not set for custom miners.)\n")
    status, detail = by_probe(run_probe(lay_out(tmp_path / "comment", "hiveos", commented), "hiveos",
                                        checks=["hiveos.custom_vars"]))["no_miner_variables"]
    assert status == "passed", detail
    used = reference_with(config, config + "POOL_FALLBACK=$MINER_URL\n")
    status, detail = by_probe(run_probe(lay_out(tmp_path / "used", "hiveos", used), "hiveos",
                                        checks=["hiveos.custom_vars"]))["no_miner_variables"]
    assert status == "failed" and "$MINER_URL" in detail, detail


def test_the_block_log_cannot_be_judged_when_a_valid_share_is_refused_before_the_block(tmp_path):
    right = case_text("stratum", "right_reference.py")
    refusing = right.replace("len(extranonce2) != 2 * EXTRANONCE2_SIZE", "len(extranonce2) != EXTRANONCE2_SIZE")
    payload = run_probe(lay_out(tmp_path, "stratum", refusing), "stratum", checks=["stratum.info_leak"])
    status, detail = by_probe(payload)["no_block_hex_logged_before_submit"]
    assert status == "error" and "refused a valid share" in detail, detail


def test_asking_ethminer_for_its_version_is_not_the_miner_s_start(tmp_path):
    config = "cat > h-config.sh << 'EOF'\n#!/usr/bin/env bash\n"
    asks = reference_with(config, config + 'MINER_VER=$("$(dirname "${BASH_SOURCE[0]}")/ethminer" --version '
                                           "2>/dev/null | head -n1)\n")
    results = by_probe(run_probe(lay_out(tmp_path / "asks", "hiveos", asks), "hiveos",
                                 checks=["hiveos.h_run_exec", "hiveos.api_port"]))
    assert results["h_run_execs_ethminer"][0] == "passed", results
    assert results["ethminer_api_on_3333"][0] == "passed", results
    # a miner started from h-config.sh, with arguments, is a start (h-run.sh's exec comes second)
    starts = reference_with(config, config + '"$(dirname "${BASH_SOURCE[0]}")/ethminer" -U\n')
    results = by_probe(run_probe(lay_out(tmp_path / "starts", "hiveos", starts), "hiveos",
                                 checks=["hiveos.h_run_exec"]))
    assert results["h_run_execs_ethminer"][0] == "failed", results


def test_a_config_the_pool_cannot_parse_fails_the_configured_window(tmp_path):
    fixed = read_fixture("pplns.py").replace("self.share_window = 10000",
                                             "self.share_window = int(config.get(\"pplns_window\", 10000))")
    scratch = lay_out(tmp_path / "commented", "pplns", fixed)
    config = scratch / "candidate" / "pool_config.json"
    config.write_text(config.read_text().replace("{", "{\n  // the PPLNS window", 1))
    status, detail = by_probe(run_probe(scratch, "pplns", checks=["pplns.config_key_mismatch"]))["configured_window_decides"]
    assert status == "failed" and "not JSON" in detail, detail
    status, detail = by_probe(run_probe(lay_out(tmp_path / "valid", "pplns", fixed), "pplns",
                                        checks=["pplns.config_key_mismatch"]))["configured_window_decides"]
    assert status == "passed", detail


@pytest.mark.parametrize("places, fee_wrong", [("0.0000001", True), ("0.00000001", False)])
def test_a_fee_quantized_short_of_the_satoshi_fails_the_money_check(tmp_path, places, fee_wrong):
    fee = ("def calculate_fee(self, amount):\n        from decimal import Decimal, ROUND_HALF_UP\n"
           "        return (Decimal(str(amount)) * Decimal(str(self.fee_percent)) / Decimal(100))"
           f".quantize(Decimal(\"{places}\"), rounding=ROUND_HALF_UP)")
    fixed = read_fixture("payment_processor.py").replace(
        "def calculate_fee(self, amount):\n        return round(float(amount) * self.fee_percent / 100.0, 8)", fee)
    assert fee in fixed
    got, detail = by_probe(run_probe(lay_out(tmp_path, "payment", fixed), "payment",
                                     checks=["payment.float_precision"]))["money_exact_to_satoshi"]
    # (the unchanged batch totals still fail on their floats: the fee is judged first)
    assert got == "failed" and ("calculate_fee(0.246914)" in detail) is fee_wrong, detail
