"""What an answer's prose says to take out of a function is taken out of the candidate."""

from __future__ import annotations

import ast
import json

import pytest

from llmbench.tasks.prompting import read_fixture
from llmbench.verify.candidate import Candidate, build_candidate
from llmbench.verify.prose_edits import apply_removals, removal_instructions, sentences_of

ZMQ_FUNCTIONS = {"__init__", "start", "stop", "_listen", "_dispatch", "on"}
LISTEN = ("    def _listen(self):\n        with self.context.socket(zmq.SUB) as sock:\n"
          "            sock.setsockopt(zmq.RCVTIMEO, self.rcv_timeout_ms)\n            sock.connect(self.endpoint)\n"
          "            for topic in TOPICS:\n                sock.setsockopt(zmq.SUBSCRIBE, topic)\n"
          "            while self.running:\n                try:\n                    frames = sock.recv_multipart()\n"
          "                except zmq.ContextTerminated:\n                    break\n                self._dispatch(frames)\n")


def fenced(code: str) -> str:
    return f"```python\n{code.strip(chr(10))}\n```\n"


def method_source(text: str, cls: str, name: str) -> str:
    owner = next(n for n in ast.parse(text).body if isinstance(n, ast.ClassDef) and n.name == cls)
    return ast.unparse(next(n for n in owner.body if getattr(n, "name", None) == name))


@pytest.mark.parametrize("sentence, expected", [
    ("Remove the socket lines from `__init__` (keep `self.rcv_timeout_ms = rcv_timeout_ms`) and the "
     "`connect`/`SUBSCRIBE` lines from `start()`, then:",
     [("__init__", [("socket", False)]), ("start", [("connect", False), ("SUBSCRIBE", False)])]),
    ("start(): remove socket.connect() and the SUBSCRIBE loop",
     [("start", [("socket.connect()", False), ("SUBSCRIBE", True)])]),
    ("__init__: remove the three self.socket lines, store self.rcv_timeout_ms = rcv_timeout_ms",
     [("__init__", [("self.socket", False)])]),
    ('(delete the `logger.info("block candidate ...", block_hex)` call; the other lines carry the hash).',
     [(None, [('logger.info("block candidate ...", block_hex)', False)])]),
    ("together with removing the `self.socket = …` / `setsockopt` lines from `__init__` and the "
     "`connect`/`SUBSCRIBE` lines from `start()`.",
     [("__init__", [("self.socket = …", False), ("setsockopt", False)]), ("start", [("connect", False), ("SUBSCRIBE", False)])]),
])
def test_instructions_to_take_code_out_are_read_with_their_function(sentence, expected):
    assert removal_instructions(sentences_of(sentence), ZMQ_FUNCTIONS | {"_submit_block"}) == expected


@pytest.mark.parametrize("sentence", [
    "Do not remove the `self.socket.close()` call from `stop()`.",
    "There is no need to drop the lock from `stop()`.",
    "Why not remove the socket lines from `__init__`?",
    "Drop it from the log line; log the hash after the RPC:",      # names no code
    "Remove the socket lines from `helper()`.",                   # no such function
    "Remove the stale entries from the dict in `start()`.",       # words, not code of the function
    "Not removing the `connect` lines from `start()` keeps the bug.",
    "Call `topic.strip()` in `_dispatch()` before the lookup.",   # a method named strip, no verb
])
def test_what_is_no_instruction_to_take_code_out_takes_nothing(sentence):
    fixture = read_fixture("zmq_listener.py")
    found = removal_instructions(sentences_of(sentence), ZMQ_FUNCTIONS)
    assert apply_removals(fixture, "ZMQListener", found) == (fixture, [])


def test_the_prose_removals_beside_a_new_listener_leave_no_socket_outside_the_thread():
    answer = (fenced(LISTEN) + "\nRemove the socket lines from `__init__` (keep `self.rcv_timeout_ms = rcv_timeout_ms`) "
              "and the `connect`/`SUBSCRIBE` lines from `start()`.\n")
    built = build_candidate("zmq", answer)
    assert isinstance(built, Candidate)
    text = built.files["zmq_listener.py"]
    init, start = method_source(text, "ZMQListener", "__init__"), method_source(text, "ZMQListener", "start")
    assert "self.socket" not in init and "self.rcv_timeout_ms = rcv_timeout_ms" in init
    assert "connect" not in start and "SUBSCRIBE" not in start and "self.thread.start()" in start
    assert {"ZMQListener.__init__", "ZMQListener.start"} <= built.changed
    # the same code with no such sentence leaves both as they were
    kept = build_candidate("zmq", fenced(LISTEN)).files["zmq_listener.py"]
    assert "self.socket = self.context.socket(zmq.SUB)" in method_source(kept, "ZMQListener", "__init__")


def test_a_json_report_s_list_of_changes_is_applied_and_a_labelled_line_is_no_code():
    answer = json.dumps({"bugs": [{"fix": "Optional: socket.setsockopt(zmq.RCVHWM, 1000)"}], "fixed_code": {
        "changes": ["__init__: remove the three self.socket lines, store self.rcv_timeout_ms = rcv_timeout_ms",
                    "start(): remove socket.connect() and the SUBSCRIBE loop"],
        "_listen": LISTEN}})
    built = build_candidate("zmq", answer)
    assert isinstance(built, Candidate)
    text = built.files["zmq_listener.py"]
    ast.parse(text)
    assert "Optional" not in text and "import socket" not in text
    assert "self.socket" not in method_source(text, "ZMQListener", "__init__")
    assert "self.rcv_timeout_ms = rcv_timeout_ms" in method_source(text, "ZMQListener", "__init__")
    start = method_source(text, "ZMQListener", "start")
    assert "connect" not in start and "for topic" not in start


def test_a_quoted_call_with_its_middle_left_out_goes_from_the_one_function_that_makes_it():
    header = fenced('        prev_hash = bytes.fromhex(self.block_template["previousblockhash"])[::-1]\n')
    answer = (header + "\nLog the hash after the RPC:\n\n" + fenced("        result = await self.rpc.submitblock(block_hex)\n")
              + '\n(delete the `logger.info("block candidate ...", block_hex)` call).\n')
    built = build_candidate("stratum", answer)
    assert isinstance(built, Candidate)
    submit = method_source(built.files["stratum_server.py"], "StratumServer", "_submit_block")
    assert "block candidate" not in submit and "submitblock(block_hex)" in submit


def test_a_call_inside_a_try_goes_and_the_try_stays():
    fixture = read_fixture("payment_processor.py")
    found = removal_instructions(sentences_of(
        "(and drop the initial `UPDATE … SET status = 'processing'` from `_execute_payment()`, since the row is claimed)."),
        {"_execute_payment"})
    program, changed = apply_removals(fixture, "PaymentProcessor", found)
    execute = method_source(program, "PaymentProcessor", "_execute_payment")
    assert changed == ["PaymentProcessor._execute_payment"]
    assert "SET status = 'processing'" not in execute and "try:" in execute and "_send_payment" in execute


def test_an_argument_taken_out_of_a_call_removes_no_statement():
    assert removal_instructions(sentences_of("Delete `block_hex` from that log call:"), {"_submit_block"}) == []
