"""zmq task: the fixture has the defect of docs/checks.md, the prompt shows it without naming it."""

from __future__ import annotations

import ast
import py_compile

import pytest

from llmbench.paths import buggy_code_dir
from llmbench.tasks import get_task, grade
from llmbench.tasks.prompting import read_fixture

TASK = get_task("zmq")


def _methods(source: str, cls: str) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(source)
    klass = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    return {n.name: n for n in klass.body if isinstance(n, ast.FunctionDef)}


def _calls(func: ast.FunctionDef) -> list[str]:
    """Dotted names of every call in a function, e.g. 'self.socket.connect'."""
    return [ast.unparse(n.func) for n in ast.walk(func) if isinstance(n, ast.Call)]


@pytest.mark.parametrize("name", ["zmq_listener.py", "pool_server.py"])
def test_fixture_is_valid_python(name, tmp_path):
    py_compile.compile(str(buggy_code_dir() / name), cfile=str(tmp_path / "out.pyc"), doraise=True)


def test_socket_is_created_in_init_and_set_up_in_start():
    methods = _methods(read_fixture("zmq_listener.py"), "ZMQListener")
    init = ast.unparse(methods["__init__"])
    assert "self.context = zmq.Context()" in init
    assert "self.socket = self.context.socket(zmq.SUB)" in init
    start = _calls(methods["start"])
    assert "self.socket.connect" in start
    assert "self.socket.setsockopt" in start and "zmq.SUBSCRIBE" in ast.unparse(methods["start"])
    assert "threading.Thread" in start and "daemon=True" in ast.unparse(methods["start"])
    assert "self._listen" in ast.unparse(methods["start"])


def test_listen_receives_on_the_shared_socket_and_stop_closes_it_from_outside():
    methods = _methods(read_fixture("zmq_listener.py"), "ZMQListener")
    listen = _calls(methods["_listen"])
    assert any(c.startswith("self.socket.recv") for c in listen)
    assert not any(c.endswith(".socket") and "context" in c for c in listen), "the defect needs the socket made outside _listen"
    stop = _calls(methods["stop"])
    assert "self.socket.close" in stop and "self.context.term" in stop


def test_both_topics_are_subscribed():
    source = read_fixture("zmq_listener.py")
    assert 'b"hashblock"' in source and 'b"rawblock"' in source


def test_pool_server_uses_the_listener_from_its_main_thread():
    source = read_fixture("pool_server.py")
    assert "ZMQListener(" in source and "listener.start()" in source and "listener.stop()" in source


def test_fixture_comments_do_not_describe_the_bug():
    text = (read_fixture("zmq_listener.py") + read_fixture("pool_server.py")).lower()
    for giveaway in ("thread-safe", "thread safe", "not safe", "todo", "fixme", "bug", "race"):
        assert giveaway not in text, giveaway


def test_prompt_contains_both_files_and_is_deterministic():
    prompt = TASK.prompt()
    assert prompt == TASK.prompt()
    for name in ("zmq_listener.py", "pool_server.py"):
        assert f"`{name}`:" in prompt
        assert read_fixture(name) in prompt
    assert "find the bug" in prompt.lower() and "fix" in prompt.lower()


def test_prompt_scenario_names_no_mechanism():
    scenario = TASK.prompt().split("`zmq_listener.py`:")[0].lower()
    for word in ("thread", "race", "not safe", "socket", "shared", "concurren"):
        assert word not in scenario, word


def test_checks_match_the_contract():
    assert TASK.check_ids == ["zmq.socket_crosses_threads", "zmq.fix_socket_in_thread"]
    assert TASK.difficulty == "easy"


def test_reference_answer_scores_full_marks_and_echo_scores_nothing():
    assert all(v.passed for v in grade("zmq", TASK.reference_answer()).values())
    assert not any(v.passed for v in grade("zmq", TASK.prompt()).values())


def test_diagnosis_without_fix_passes_only_the_first_check():
    answer = (
        "The SUB socket is created in `__init__` and connected in `start()` on the main thread, but "
        "`_listen` calls recv on it from the background thread. ZeroMQ sockets are not thread-safe."
    )
    verdicts = grade("zmq", answer)
    assert verdicts["zmq.socket_crosses_threads"].passed
    assert not verdicts["zmq.fix_socket_in_thread"].passed


def test_socket_created_in_start_is_not_the_fix():
    answer = (
        "ZeroMQ sockets are not thread-safe; `_listen` uses a socket made on another thread.\n\n"
        "```python\n    def start(self):\n        sub = self.context.socket(zmq.SUB)\n        sub.connect(self.endpoint)\n```\n"
    )
    verdict = grade("zmq", answer)["zmq.fix_socket_in_thread"]
    assert not verdict.passed and "start()" in verdict.evidence
    moved = answer.replace("def start(self)", "def _listen(self)")
    assert grade("zmq", moved)["zmq.fix_socket_in_thread"].passed


_CODE_ONLY_FIX = (
    "```python\n"
    "    def _listen(self):\n"
    "        sock = self.context.socket(zmq.SUB)\n"
    "        sock.connect(self.endpoint)\n"
    "        for topic in TOPICS:\n"
    "            sock.setsockopt(zmq.SUBSCRIBE, topic)\n"
    "```\n"
)


def test_code_only_fix_passes_both_checks():
    # fix-only policy: a fix at its place that can only mean the defect
    verdicts = grade("zmq", _CODE_ONLY_FIX)
    assert verdicts["zmq.socket_crosses_threads"].passed
    assert verdicts["zmq.fix_socket_in_thread"].passed


def test_checklist_item_under_a_function_name_is_not_a_finding():
    answer = (
        "- **`start()`**: verify the connection to the endpoint succeeds and subscriptions are set; "
        "consider thread safety when starting background threads.\n"
        "- **`_listen()`**: handle all ZMQ exceptions and consider whether ZMQ sockets are thread-safe.\n"
    )
    assert not any(v.passed for v in grade("zmq", answer).values())


def test_sub_endpoint_paraphrase_and_ownership_fix():
    answer = (
        "The SUB endpoint is born on whichever thread builds the listener (its constructor) and is then "
        "handed to the worker that reads it in `_listen()`. libzmq endpoints have thread affinity.\n\n"
        "Remedy: let `_listen()` itself build the SUB endpoint, dial the address and register the topics."
    )
    verdicts = grade("zmq", answer)
    assert verdicts["zmq.socket_crosses_threads"].passed
    assert verdicts["zmq.fix_socket_in_thread"].passed


def test_fix_instruction_after_so_passes():
    # round 2: "…not thread-safe, so create, connect and subscribe it inside `_listen`" is an instruction
    answer = (
        "`self.socket` is created on the main thread (`__init__`/`start`) but recv'd on the `_listen` "
        "thread — ZMQ sockets are not thread-safe, so create, connect and subscribe it inside `_listen` instead."
    )
    assert grade("zmq", answer)["zmq.fix_socket_in_thread"].passed
    diagnosis = "ZMQ sockets are not thread-safe, so the socket created in `__init__` breaks when `_listen` uses it."
    assert not grade("zmq", diagnosis)["zmq.fix_socket_in_thread"].passed


def test_rejected_fix_with_gil_excuse_fails():
    answer = (
        "One might argue the SUB socket should be created inside `_listen` instead of `__init__`, but that "
        "is unnecessary here: the GIL serialises every call, and only the listener thread touches "
        "`self.socket`, so sharing it is fine."
    )
    verdicts = grade("zmq", answer)
    assert not any(v.passed for v in verdicts.values())


def test_hedge_naming_only_the_class_is_no_finding():
    answer = "Make sure ZMQ sockets are not shared between threads in ZMQListener."
    assert not grade("zmq", answer)["zmq.socket_crosses_threads"].passed


def test_socket_built_in_start_and_handed_over_is_no_fix():
    # round 4: creating the socket later on the caller's thread still crosses threads
    answer = (
        "ZMQ sockets are not thread-safe: `self.socket` is created in `__init__` but read in `_listen`. "
        "Create the socket in `start()` instead and pass it to the background thread."
    )
    verdicts = grade("zmq", answer)
    assert verdicts["zmq.socket_crosses_threads"].passed
    assert not verdicts["zmq.fix_socket_in_thread"].passed


def test_moving_socket_setup_to_listen_is_the_fix():
    answer = "ZMQ sockets are not thread-safe, so move the socket creation, connect and subscribe calls to `_listen()`."
    assert grade("zmq", answer)["zmq.fix_socket_in_thread"].passed


def test_handover_after_thread_start_described_as_safe_is_a_denial():
    answer = (
        "The socket is connected in `start()` before the thread runs; once `self.thread.start()` "
        "returns only the `_listen` method touches it, which ZeroMQ permits."
    )
    assert not grade("zmq", answer)["zmq.socket_crosses_threads"].passed


def test_a_checklist_table_of_what_to_look_at_asserts_nothing():
    answer = ("| Area | What to look at |\n|---|---|\n"
              "| Thread safety | ZeroMQ objects used from several threads; make sure each socket has a single owner |\n"
              "| Resource cleanup | order of `close()`, `term()` and `join()` |\n")
    verdicts = grade("zmq", answer)
    assert not any(v.passed for v in verdicts.values()), verdicts
    # a table whose columns state the defect still asserts it
    stated = ("| Where | Problem |\n|---|---|\n"
              "| `self.socket` | created in `__init__` on the caller's thread but read in `_listen()` on the "
              "listener thread: two threads use one socket |\n")
    assert grade("zmq", stated)["zmq.socket_crosses_threads"].passed


def test_a_general_fact_that_only_gives_the_reason_for_a_request_is_no_finding():
    answer = ("- Audit how `start()`, `_listen()` and `stop()` share `self.socket`. ZeroMQ's guide is strict about one "
              "socket per thread, so it is worth confirming that no two threads ever touch it.\n"
              "- It could make sense to create the socket inside `_listen()` itself.\n")
    verdicts = grade("zmq", answer)
    assert not any(v.passed for v in verdicts.values()), verdicts


def test_a_neutral_description_is_not_made_a_finding_by_the_next_sentence_about_the_symptoms():
    answer = ("The socket is created in `__init__`, connected and subscribed in `start()`, and read in `_listen()` by "
              "the `zmq-listener` thread. The two reported problems have different causes.")
    assert not grade("zmq", answer)["zmq.socket_crosses_threads"].passed
    consequence = answer.replace("The two reported problems have different causes.",
                                 "That is the problem: two threads use one socket.")
    assert grade("zmq", consequence)["zmq.socket_crosses_threads"].passed


def test_a_description_under_a_heading_that_files_it_as_a_defect_asserts_it():
    body = ("### The socket is set up on one thread and read on another\n\n"
            "`__init__` creates `self.socket` and `start()` connects it on the main thread, then `_listen()` on the "
            "`zmq-listener` thread calls `recv_multipart()` on it. So the socket is used by two threads.\n")
    assert grade("zmq", "## What goes wrong\n\n" + body)["zmq.socket_crosses_threads"].passed
    # the same description under a heading that only walks through the code stays neutral
    assert not grade("zmq", "## How the listener works\n\n" + body)["zmq.socket_crosses_threads"].passed


def test_a_heading_that_blames_the_slow_joiner_lends_no_defect_cue_to_the_description_under_it():
    body = ("In `start()` the socket connects and subscribes, and immediately afterwards the `zmq-listener` thread "
            "begins calling `recv_multipart()`.\n")
    slow = "**Bug 1: slow-joiner race between `start()` and `_listen()`**\n\n" + body
    assert not grade("zmq", slow)["zmq.socket_crosses_threads"].passed
    crossing = "**Bug 1: one socket used by two threads**\n\n" + body
    assert grade("zmq", crossing)["zmq.socket_crosses_threads"].passed


def test_receiving_before_the_subscription_is_delivered_is_the_slow_joiner():
    answer = ("It connects and subscribes on the caller's thread, but `_listen()` starts receiving on the listener "
              "thread straight away, before the subscription has been delivered to bitcoind's publisher.")
    assert not grade("zmq", answer)["zmq.socket_crosses_threads"].passed
    threads = answer.replace(", before the subscription has been delivered to bitcoind's publisher",
                             ": two threads use one socket")
    assert grade("zmq", threads)["zmq.socket_crosses_threads"].passed


def test_the_listener_thread_named_in_a_heading_places_the_single_thread_rule():
    answer = ("**1. Socket shared between the caller's thread and `zmq-listener`**\n\n"
              "A ZeroMQ socket is not thread-safe: only one thread may use it.\n")
    verdict = grade("zmq", answer)["zmq.fix_socket_in_thread"]
    assert verdict.evidence.startswith("identified but not fixed") and "zmq-listener" in verdict.evidence, verdict
    unplaced = grade("zmq", answer.split("\n\n", 1)[1])["zmq.fix_socket_in_thread"]
    assert "without naming where" in unplaced.evidence, unplaced


CONTEXT_FIX_CODE = ("```python\n    def _listen(self):\n        ctx = zmq.Context()\n        sock = ctx.socket(zmq.SUB)\n"
                    "        sock.connect(self.endpoint)\n        for topic in TOPICS:\n"
                    "            sock.setsockopt(zmq.SUBSCRIBE, topic)\n```\n")


def test_code_under_a_heading_that_blames_the_context_fixes_that_diagnosis():
    verdicts = grade("zmq", "### Fix: one context per thread\n\n" + CONTEXT_FIX_CODE)
    assert not any(v.passed for v in verdicts.values()), verdicts
    assert all(v.passed for v in grade("zmq", "### Fix\n\n" + CONTEXT_FIX_CODE).values())


def test_a_list_under_a_lead_that_calls_the_context_the_problem_is_a_wrong_diagnosis_of_the_code_fix():
    listed = ("The listener has a thread-ownership problem with its ZeroMQ **context**.\n\n"
              "- In `ZMQListener.__init__()`, `self.context = zmq.Context()` is created in the main thread.\n"
              "- All of the actual I/O happens in the `zmq-listener` thread started by `start()`.\n\n" + CONTEXT_FIX_CODE)
    verdicts = grade("zmq", listed)
    assert not any(v.passed for v in verdicts.values()), verdicts
    # the same list under a lead that blames nothing is no diagnosis: the code is the fix
    plain = listed.replace("The listener has a thread-ownership problem with its ZeroMQ **context**.", "Where things run:")
    assert all(v.passed for v in grade("zmq", plain).values())


def test_the_slow_joiner_dismissed_as_unrelated_blames_nothing():
    dismissed = ("The PUB/SUB slow joiner (the first notification after connecting may be dropped) is real but unrelated: "
                 "it cannot stop the listener for good.\n\n" + CONTEXT_FIX_CODE)
    assert grade("zmq", dismissed)["zmq.fix_socket_in_thread"].passed
    blamed = ("The problem in `start()` is the PUB/SUB slow joiner: the subscription has not propagated yet.\n\n"
              + CONTEXT_FIX_CODE)
    assert not grade("zmq", blamed)["zmq.fix_socket_in_thread"].passed


def test_code_offered_for_a_cause_not_yet_settled_is_a_suggestion():
    lead = "If socket ownership turns out to be the issue, the usual pattern is to create the socket in the thread, e.g.:\n\n"
    verdicts = grade("zmq", lead + CONTEXT_FIX_CODE.replace("ctx = zmq.Context()\n        sock = ctx", "sock = self.context"))
    assert not any(v.passed for v in verdicts.values()), verdicts


def test_a_handoff_called_fine_denies_the_crossing_whatever_code_names_sit_between():
    text = ("Handing `self.socket` from `start()` to the listener thread is fine: after `start()` returns, only the "
            "`zmq-listener` thread calls `recv_multipart()`.\n\n" + CONTEXT_FIX_CODE.replace("ctx = zmq.Context()\n        sock = ctx", "sock = self.context"))
    verdicts = grade("zmq", text)
    assert not verdicts["zmq.socket_crosses_threads"].passed and verdicts["zmq.socket_crosses_threads"].kind == "denial"
    assert not verdicts["zmq.fix_socket_in_thread"].passed


@pytest.mark.parametrize("diagnosis, expected", [
    # the crossing asserted: the suggested move is the fix
    ("`self.socket` is connected in `start()` on the caller's thread, but `recv_multipart()` runs on the "
     "`zmq-listener` thread. ZeroMQ sockets are not thread-safe. ", True),
    # only the general rule, no crossing asserted: the suggestion stays advice
    ("ZeroMQ sockets are not thread-safe in general. ", False),
])
def test_a_suggested_fix_counts_beside_an_asserted_crossing(diagnosis, expected):
    answer = diagnosis + "You could consider moving the socket into `_listen()`, something like:\n\n" + _CODE_ONLY_FIX
    assert grade("zmq", answer)["zmq.fix_socket_in_thread"].passed is expected


def test_a_part_of_the_context_blamed_for_two_threads_is_the_context_diagnosis():
    blamed = ("Under load the context's mailbox is hit from two threads; occasionally a command is lost, the SUB pipe "
              "is never re-attached, and you get `zmq receive failed`.")
    assert not grade("zmq", blamed)["zmq.socket_crosses_threads"].passed
    # the socket hit from two threads is the crossing
    socket = ("Under load the socket is hit from two threads: `self.socket` is connected in `start()` on the main "
              "thread, but read by `_listen()` on the listener thread.")
    assert grade("zmq", socket)["zmq.socket_crosses_threads"].passed


def test_a_shutdown_that_makes_libzmq_fail_is_no_socket_set_up_on_the_main_thread():
    close = ("However, on closer inspection the hand-over is fine: only `_listen()` uses the socket after `start()`. "
             "Calling `close()` on that same socket from the main thread while it is in use by the listener thread "
             "makes libzmq fail its internal check in `signaler.cpp`.")
    assert not grade("zmq", close)["zmq.socket_crosses_threads"].passed
    made = "The socket is made in `__init__` on the main thread and read by `_listen()` on the listener thread, which is unsafe."
    assert grade("zmq", made)["zmq.socket_crosses_threads"].passed


def test_a_description_is_called_wrong_by_the_next_sentence_about_the_same_thing():
    described = ("`self.socket` is created in `__init__` and connected in `start()` on the main thread, then `_listen()` "
                 "calls `recv_multipart()` on it from the listener thread.")
    assert not grade("zmq", described)["zmq.socket_crosses_threads"].passed
    assert grade("zmq", described + " ZeroMQ sockets are not thread-safe.")["zmq.socket_crosses_threads"].passed
    # a next sentence about something else calls nothing wrong
    assert not grade("zmq", described + " The two reported problems have different causes.")["zmq.socket_crosses_threads"].passed


def test_a_json_report_in_a_fenced_block_of_a_prose_answer_is_read_as_prose():
    report = ('Here is the review as a structured report:\n\n```json\n{"bugs": [{"location": "ZMQListener.__init__ / '
              'ZMQListener.start -> ZMQListener._listen", "title": "Socket used across threads", "description": '
              '"self.socket is created in __init__ and connected in start(), on the caller\'s thread, while '
              'recv_multipart() is called on the listener thread in _listen(). ZeroMQ sockets are not thread-safe."}]}\n```\n')
    assert grade("zmq", report)["zmq.socket_crosses_threads"].passed
    # a JSON block holding no sentences is data, not a report
    data = '```json\n{"endpoint": "tcp://127.0.0.1:28332", "topics": ["hashblock", "rawblock"]}\n```\n'
    assert not grade("zmq", data)["zmq.socket_crosses_threads"].passed


def test_a_heading_that_describes_the_crossing_is_called_wrong_by_its_section():
    heading = "### 1. The socket is set up in one thread and used in another\n\n"
    bullets = ("- `self.socket` is created in `__init__()`; `start()` calls `connect()` on it.\n"
               "- The receiving happens in `_listen()`, on the `zmq-listener` thread.\n\n")
    assert not grade("zmq", heading + bullets)["zmq.socket_crosses_threads"].passed
    assert grade("zmq", heading + bullets + "ZeroMQ sockets are not thread-safe.")["zmq.socket_crosses_threads"].passed
    # a section that calls the hand-over fine denies it
    fine = heading + bullets + "That hand-over is fine: `Thread.start()` is a full memory barrier, so the socket is safe."
    assert not grade("zmq", fine)["zmq.socket_crosses_threads"].passed


def test_a_socket_migration_called_allowed_and_a_main_thread_that_never_touches_it_deny_the_crossing():
    fine = ("**However**, on closer inspection this is actually fine. ZeroMQ allows a socket to be *migrated* from one "
            "thread to another as long as there is a full memory barrier. After `start()` returns, the main thread never "
            "touches the socket again, so the socket is effectively owned by the listener thread.")
    verdicts = grade("zmq", fine)
    assert not verdicts["zmq.socket_crosses_threads"].passed and not verdicts["zmq.fix_socket_in_thread"].passed
    crossing = ("`self.socket` is connected in `start()` on the main thread but read by `_listen()` on the listener "
                "thread; ZeroMQ sockets are not thread-safe.")
    assert grade("zmq", crossing)["zmq.socket_crosses_threads"].passed


def test_the_same_socket_used_by_more_than_one_thread_is_the_crossing_and_any_socket_is_not():
    same = ("Both symptoms come from **the same ZeroMQ socket being used by more than one thread**: `self.socket` is "
            "connected in `start()` and read in `_listen()`. ZeroMQ sockets are not thread-safe.")
    assert grade("zmq", same)["zmq.socket_crosses_threads"].passed
    any_socket = ("The `signaler.cpp` assertion is the classic sign of a socket being touched by more than one thread. "
                  "ZeroMQ sockets are not thread-safe.")
    assert not grade("zmq", any_socket)["zmq.socket_crosses_threads"].passed


def test_a_prose_fix_after_the_place_that_opens_its_sentence_moves_the_socket():
    finding = "ZeroMQ sockets are not thread-safe: `self.socket` is created in `__init__` but read in `_listen()`.\n\n"
    fix = "- At the top of `_listen()`, in the listener thread, create the SUB socket, connect it and subscribe.\n"
    assert grade("zmq", finding + fix)["zmq.fix_socket_in_thread"].passed
    said = "- At the top of `_listen()`, the socket created in `__init__` is read.\n"
    assert not grade("zmq", finding + said)["zmq.fix_socket_in_thread"].passed


def test_one_owner_thread_after_start_denies_the_crossing():
    denial = ("> The socket itself is created in `__init__` and after `start()` only the listener thread ever touches it, "
              "so there is no concurrent access to worry about here.")
    verdict = grade("zmq", denial)["zmq.socket_crosses_threads"]
    assert not verdict.passed and verdict.kind == "denial", verdict
    crossing = ("The socket is created in `__init__` and connected in `start()` on the caller's thread, but `_listen()` "
                "reads it on the listener thread.")
    assert grade("zmq", crossing)["zmq.socket_crosses_threads"].passed


def test_the_context_named_as_what_may_be_shared_is_no_wrong_place():
    answer = ("### Bug 1 – The SUB socket is set up in one thread and used in another\n\n"
              "**Cause:** A ZeroMQ socket is not thread-safe. libzmq expects each socket to be used by a single thread "
              "for its whole life; only the `Context` may be shared between threads.\n\n"
              "### How to fix it\n\n"
              "3. At the beginning of `_listen()`, inside the listener thread, create the SUB socket from `self.context`, "
              "connect it to `self.endpoint` and subscribe to both topics.\n")
    assert grade("zmq", answer)["zmq.fix_socket_in_thread"].passed
    diagnosis = answer.split("### How to fix it")[0]
    assert grade("zmq", diagnosis)["zmq.fix_socket_in_thread"].evidence.startswith("identified but not fixed")
    blamed = diagnosis.replace("only the `Context` may be shared between threads", "the `Context` is shared between threads too")
    verdict = grade("zmq", blamed)["zmq.fix_socket_in_thread"]
    assert not verdict.evidence.startswith("identified") and verdict.kind in ("wrong_place", "wrong_mechanism"), verdict


def test_a_numbered_prose_step_with_an_aside_on_its_place_is_the_fix():
    finding = ("ZeroMQ sockets are not thread-safe: `self.socket` is created in `__init__`, connected in `start()` on the "
               "main thread and read in `_listen()` on the listener thread.\n\n")
    step = ("3. At the beginning of `_listen()` (i.e. inside the listener thread), create the `SUB` socket from the "
            "shared context, connect it to the endpoint, and subscribe to both topics.\n")
    assert grade("zmq", finding + step)["zmq.fix_socket_in_thread"].passed
    told = ("3. At the beginning of `_listen()` (i.e. inside the listener thread), the code calls `recv_multipart()` on "
            "the socket made in `__init__`.\n")
    assert not grade("zmq", finding + told)["zmq.fix_socket_in_thread"].passed


def test_a_second_look_that_calls_the_hand_over_actually_fine_denies_it():
    section = ("### 1. Socket created in the main thread, used in the listener thread?\n\n"
               "`self.socket` is created in `__init__` and connected in `start()` on the main thread, and then "
               "`_listen()` calls `recv_multipart()` on it from the `zmq-listener` thread. ZeroMQ sockets are not "
               "thread-safe.\n\n")
    assert grade("zmq", section)["zmq.socket_crosses_threads"].passed
    looked = section + "**However, on closer inspection this part is actually fine.** The handoff is not the problem.\n"
    verdict = grade("zmq", looked)["zmq.socket_crosses_threads"]
    assert not verdict.passed and verdict.kind == "denial", verdict
    allowed = section + "ZeroMQ allows a socket to be handed over to another thread behind a full memory barrier.\n"
    assert not grade("zmq", allowed)["zmq.socket_crosses_threads"].passed


def test_only_the_listener_thread_from_then_on_and_a_correct_design_deny_the_crossing():
    described = ("The SUB socket is set up in `__init__`/`start()` and then read by the `zmq-listener` thread in "
                 "`_listen()`. ZeroMQ sockets are not thread-safe.\n")
    assert grade("zmq", described)["zmq.socket_crosses_threads"].passed
    denied = ("The SUB socket is set up in `__init__`/`start()` and from then on it is only read by the `zmq-listener` "
              "thread in `_listen()`. There is no concurrent use, so the threading design itself is correct.\n")
    verdict = grade("zmq", denied)["zmq.socket_crosses_threads"]
    assert not verdict.passed and verdict.kind == "denial", verdict


def test_a_note_that_the_socket_is_fine_and_only_the_listener_calls_it_denies_the_crossing():
    note = ("> Note: the ZMQ socket itself is fine. It is set up once in `start()` before the thread exists, and from "
            "then on only the listener thread calls `recv_multipart()`, so there is no concurrent socket access.\n")
    verdict = grade("zmq", note)["zmq.socket_crosses_threads"]
    assert not verdict.passed and verdict.kind == "denial", verdict
    crossing = ("The SUB socket is set up in `start()` on the caller's thread, and from then on the listener thread "
                "calls `recv_multipart()` on it: ZeroMQ sockets are not thread-safe.\n")
    assert grade("zmq", crossing)["zmq.socket_crosses_threads"].passed


def test_the_crossing_explained_by_options_kept_per_thread_is_the_wrong_mechanism():
    crossing = ("The SUB socket is created and configured in `__init__`/`start()` on the main thread, but it is read "
                "in `_listen()` on the background thread. ")
    assert grade("zmq", crossing + "ZeroMQ sockets are not thread-safe.")["zmq.socket_crosses_threads"].passed
    options = crossing + ("Socket options such as `RCVTIMEO` are stored per calling thread in libzmq, so the listener "
                          "runs with no receive timeout.")
    verdict = grade("zmq", options)["zmq.socket_crosses_threads"]
    assert not verdict.passed and verdict.kind == "wrong_mechanism", verdict


def test_a_description_over_a_list_is_called_wrong_by_the_sentence_after_the_list():
    listed = ("The `ZMQListener` shares one ZeroMQ socket between two threads:\n\n"
              "1. **Main thread** — `__init__()` creates `self.socket`, and `start()` connects it.\n"
              "2. **Listener thread** — `_listen()` calls `self.socket.recv_multipart()` in a loop.\n\n")
    verdict = grade("zmq", listed + "ZeroMQ sockets are **not thread-safe**: they must never be used by two threads.\n")
    assert verdict["zmq.socket_crosses_threads"].passed
    assert not grade("zmq", listed + "The callbacks run in the listener thread.\n")["zmq.socket_crosses_threads"].passed


def test_what_the_fixed_program_does_under_a_heading_on_the_fix_denies_nothing():
    finding = ("The `zmq.SUB` socket is created in `__init__()` and connected in `start()` on the main thread, but it is "
               "read by `_listen()` in the `zmq-listener` thread. ZeroMQ sockets are not thread-safe.\n\n")
    results = ("### Why this fixes both symptoms\n\n1. **No more SIGABRT**: the main thread never touches the socket; "
               "`term()` interrupts the blocked `recv`.\n")
    assert grade("zmq", finding + results)["zmq.socket_crosses_threads"].passed
    # the same sentence as a view of the program as it is denies the crossing
    denied = "### The threading\n\nThe main thread never touches the socket after `start()`.\n"
    assert not grade("zmq", denied)["zmq.socket_crosses_threads"].passed


def test_a_changes_list_says_what_the_fixed_program_does_and_a_table_cell_can_deny():
    finding = ("## Issue\n\nThe SUB socket is created in `__init__()` and connected in `start()` on the main thread, but "
               "`_listen()` reads it in the `zmq-listener` thread. ZeroMQ sockets are not thread-safe.\n\n")
    changes = ("## Changes\n\n- `stop()`: sets `running = False`, waits for the thread, then terminates the context. "
               "The main thread never touches the socket.\n")
    assert grade("zmq", finding + changes)["zmq.socket_crosses_threads"].passed
    cell = ("| Area | Verdict |\n|---|---|\n| Socket used from two threads | **OK** – after `start()` the SUB socket is "
            "only ever read by the `zmq-listener` thread, so there is no data race. |\n")
    assert not grade("zmq", cell)["zmq.socket_crosses_threads"].passed


def test_a_prose_fix_that_leaves_connect_and_subscribe_in_start_is_no_fix():
    diagnosis = ("The SUB socket `self.socket` is created in `__init__()` and connected in `start()` on the main thread, "
                 "but read in `_listen()` on the listener thread. ZeroMQ sockets are not thread-safe.\n\n## Fix\n\n")
    moved = "- Create the SUB socket at the top of `_listen()`, so that the object belongs to the listener thread.\n"
    assert grade("zmq", diagnosis + moved)["zmq.fix_socket_in_thread"].passed
    half = moved + ("- `start()` should still perform the `connect()` and set the two `SUBSCRIBE` options, once the "
                    "thread has signalled that the socket exists.\n")
    verdict = grade("zmq", diagnosis + half)["zmq.fix_socket_in_thread"]
    assert not verdict.passed and verdict.kind == "wrong_place", verdict


def test_built_on_one_thread_and_read_on_another_over_a_list_called_unsafe_is_the_crossing():
    listed = ("`ZMQListener` builds its SUB socket on one thread and reads it on another:\n\n"
              "* `start()` → `self.socket.connect(...)` — caller's thread\n"
              "* `_listen()` → `self.socket.recv_multipart()` — `zmq-listener` thread\n\n")
    verdict = grade("zmq", listed + "A ZeroMQ socket is **not thread-safe**.\n")["zmq.socket_crosses_threads"]
    assert verdict.passed and verdict.kind == "finding", verdict
    # the same description called fine is no finding
    assert not grade("zmq", listed + "That hand-off is fine.\n")["zmq.socket_crosses_threads"].passed


def test_two_threads_meeting_only_at_shutdown_is_the_wrong_mechanism_for_the_crossing():
    row = ("| 1 | `stop()` | `self.socket` is closed from the main thread while the `zmq-listener` thread may be blocked in "
           "`recv_multipart()`. The socket ends up being used by two threads at the same time during shutdown. | exit 134 |\n")
    table = "| # | Location | Issue | Impact |\n|---|---|---|---|\n" + row
    verdict = grade("zmq", table)["zmq.socket_crosses_threads"]
    assert not verdict.passed and verdict.kind == "wrong_mechanism", verdict
    set_up = row.replace("`stop()`", "`start()`/`_listen()`").replace(
        "`self.socket` is closed from the main thread while the `zmq-listener` thread may be blocked in `recv_multipart()`.",
        "`self.socket` is connected in `start()` on the main thread but read by the `zmq-listener` thread; ZeroMQ "
        "sockets are not thread-safe.")
    assert grade("zmq", "| # | Location | Issue | Impact |\n|---|---|---|---|\n" + set_up)["zmq.socket_crosses_threads"].passed


def test_a_sentence_opening_on_the_change_speaks_of_the_changed_code():
    said = ("the socket is connected in `start()` on the main thread and read in `_listen()` on the listener thread, so "
            "it is used by two threads at the same time. ZeroMQ sockets are not thread-safe.\n")
    assert grade("zmq", "Today " + said)["zmq.socket_crosses_threads"].passed
    verdict = grade("zmq", "With this change, " + said)["zmq.socket_crosses_threads"]
    assert not verdict.passed, verdict


def test_a_paragraph_wholly_in_parentheses_is_read_not_skipped_as_an_aside():
    stop = ("`stop()` closes the socket from the main thread while the listener thread is blocked in `recv_multipart()`, "
            "and libzmq aborts.\n\n")
    said = "(Creating and connecting the socket in `__init__`/`start()` is fine, by the way — that all happens first.)\n"
    verdict = grade("zmq", stop + said)["zmq.socket_crosses_threads"]
    assert not verdict.passed and verdict.kind == "denial", verdict
    # inline, after a sentence of its paragraph, it is an aside
    inline = stop.rstrip("\n") + " " + said
    assert grade("zmq", inline)["zmq.socket_crosses_threads"].kind != "denial"
    # an aside inside a sentence is still an aside: the sentence's own verdict stands
    aside = ("The socket is connected in `start()` on the main thread (that part is fine on its own) but read in "
             "`_listen()` on the listener thread: ZeroMQ sockets are not thread-safe.\n")
    assert grade("zmq", aside)["zmq.socket_crosses_threads"].passed


def test_a_description_followed_by_the_one_thread_rule_is_the_crossing():
    described = ("`self.socket` is created in `__init__` and `connect()`/`SUBSCRIBE` are done in `start()`, i.e. in the "
                 "caller's thread, while `recv_multipart()` runs in the `zmq-listener` thread started by `start()`.")
    assert not grade("zmq", described + "\n")["zmq.socket_crosses_threads"].passed
    ruled = described + " A ZeroMQ socket must only be used by one thread; only the Context is thread-safe.\n"
    verdict = grade("zmq", ruled)["zmq.socket_crosses_threads"]
    assert verdict.passed and verdict.kind == "finding", verdict


def test_a_listener_called_a_standard_sub_loop_is_not_where_the_shared_state_is():
    intro = ("The listener itself is a standard SUB loop. The problems come from state shared between the ZMQ "
             "listener thread and the rest of the pool without any synchronization.\n\n")
    context = ("`self.context` is created on the main thread and later `stop()` calls `self.context.term()` from "
               "the main thread while the listener thread is still inside it.\n")
    assert not grade("zmq", intro + context)["zmq.socket_crosses_threads"].passed
    # a standard pitfall is still the defect
    pitfall = ("The SUB socket is a standard thread-safety bug here: it is created in `__init__` on the main thread "
               "and then used by `_listen()` on the listener thread, and ZeroMQ sockets are not thread-safe.\n")
    assert grade("zmq", pitfall)["zmq.socket_crosses_threads"].passed
