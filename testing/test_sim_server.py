"""The built-in server: OpenAI shapes, engine options, its truth, fault injection, lifecycle."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from throughput_helpers import FAST_CURVE, chat, request_body

from llmbench.sim.engine import CapacityCurve, parse_curve
from llmbench.sim.server import start_background
from llmbench.tasks import get_task


@pytest.fixture(scope="module")
def sim():
    with start_background(capacity_curve=FAST_CURVE, served_name="my/model") as handle:
        yield handle


def _read_until_closed(resp) -> None:
    while resp.readline():
        pass


def _content(events) -> str:
    return "".join(e["choices"][0]["delta"].get("content") or "" for e in events
                   if isinstance(e, dict) and e["choices"])


def test_models_lists_demo_and_served_names(sim):
    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=10)
    conn.request("GET", "/v1/models")
    ids = [m["id"] for m in json.loads(conn.getresponse().read())["data"]]
    assert ids == ["demo", "my/model"]


def test_stream_has_openai_chunk_shape_usage_and_done(sim):
    status, events = chat(sim, request_body(max_tokens=7, ignore_eos=True, model="any-name"))
    assert status == 200
    assert events[-1] == "[DONE]"
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(e["object"] == "chat.completion.chunk" and e["model"] == "any-name" for e in events[:-1])
    token_chunks = [e for e in events[1:-1] if e["choices"] and e["choices"][0]["delta"].get("content")]
    assert len(token_chunks) == 7
    finish = [e["choices"][0]["finish_reason"] for e in events[:-1] if e["choices"] and e["choices"][0]["finish_reason"]]
    assert finish == ["length"]
    usage = events[-2]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 7


def test_no_usage_chunk_unless_asked(sim):
    _, events = chat(sim, request_body(max_tokens=3, stream_options={}))
    assert not any(isinstance(e, dict) and "usage" in e for e in events)


def test_non_streaming_answer(sim):
    status, body = chat(sim, request_body(max_tokens=5, stream=False))
    assert status == 200
    assert body["object"] == "chat.completion"
    assert body["usage"]["completion_tokens"] == 5
    assert len(body["choices"][0]["message"]["content"]) == 5 * 4


def test_tokens_per_chunk_and_continuous_usage():
    with start_background(capacity_curve=FAST_CURVE, tokens_per_chunk=3) as handle:
        _, events = chat(handle, request_body(max_tokens=10, ignore_eos=True,
                                              stream_options={"include_usage": True, "continuous_usage_stats": True}))
    token_chunks = [e for e in events[1:-1] if e["choices"] and e["choices"][0]["delta"].get("content")]
    assert [len(e["choices"][0]["delta"]["content"]) // 4 for e in token_chunks] == [3, 3, 3, 1]
    assert [e["usage"]["completion_tokens"] for e in token_chunks] == [3, 6, 9, 10]


def test_natural_length_honours_ignore_eos_and_min_tokens():
    with start_background(capacity_curve=FAST_CURVE, natural_length=4) as handle:
        _, plain = chat(handle, request_body(max_tokens=12))
        _, forced = chat(handle, request_body(max_tokens=12, ignore_eos=True))
        _, minimum = chat(handle, request_body(max_tokens=12, min_tokens=9))
    assert plain[-2]["usage"]["completion_tokens"] == 4
    assert forced[-2]["usage"]["completion_tokens"] == 12
    assert minimum[-2]["usage"]["completion_tokens"] == 9


def test_strict_params_rejects_ignore_eos():
    with start_background(capacity_curve=FAST_CURVE, strict_params=True) as handle:
        status, body = chat(handle, request_body(ignore_eos=True))
        ok_status, _ = chat(handle, request_body())
    assert status == 400 and "ignore_eos" in body["error"]["message"]
    assert ok_status == 200


def test_reasoning_part_streams_first(sim):
    _, events = chat(sim, request_body(max_tokens=200, sim={"reasoning": True}))
    kinds = [k for e in events[1:-1] if e["choices"] for k in e["choices"][0]["delta"] if k != "role"]
    assert kinds[0] == "reasoning_content" and "content" in kinds
    assert kinds.index("content") > max(i for i, k in enumerate(kinds) if k == "reasoning_content") - 1


def test_task_prompt_gets_its_reference_answer(sim):
    task = get_task("zmq")
    prompt, reference = task.prompt(), task.reference_answer()
    _, events = chat(sim, request_body(prompt, max_tokens=8192))
    assert _content(events) == reference


def test_unknown_prompt_gets_filler(sim):
    _, events = chat(sim, request_body("not a task prompt", max_tokens=6, ignore_eos=True))
    assert len(_content(events)) == 24


@pytest.mark.parametrize("mode", ["http500", "drop_midstream", "no_usage"])
def test_fault_injection_per_request(sim, mode):
    body = request_body(max_tokens=40, ignore_eos=True, sim={"fail": mode})
    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=10)
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if mode == "http500":
        assert resp.status == 500 and json.loads(resp.read())["error"]["code"] == 500
        return
    assert resp.status == 200
    if mode == "drop_midstream":
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            resp.read()
        return
    text = resp.read().decode()
    assert "[DONE]" in text and '"usage"' not in text


def test_stall_sends_headers_then_nothing(sim):
    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=0.5)
    conn.request("POST", "/v1/chat/completions", json.dumps(request_body(sim={"fail": "stall"})),
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200
    resp.readline()   # the role chunk
    with pytest.raises(TimeoutError):
        _read_until_closed(resp)
    conn.close()


def test_server_wide_fault_every_nth_request():
    with start_background(capacity_curve=FAST_CURVE, fail="http500", fail_every=2) as handle:
        statuses = [chat(handle, request_body(max_tokens=2))[0] for _ in range(4)]
    assert statuses == [200, 500, 200, 500]


def test_stats_report_what_was_emitted(sim):
    sim.reset()
    t0 = time.monotonic_ns()
    chat(sim, request_body(max_tokens=9, ignore_eos=True))
    chat(sim, request_body(max_tokens=4, ignore_eos=True))
    stats = sim.stats(chunks=True, from_ns=t0, to_ns=time.monotonic_ns())
    assert stats["tokens_emitted"] == 13
    assert [r["tokens"] for r in stats["requests"]] == [9, 4]
    assert stats["window"]["tokens"] == 13
    first = stats["requests"][0]
    assert first["arrival_ns"] < first["first_token_ns"] <= first["end_ns"]
    assert sum(first["chunk_tokens"]) == 9 and first["outcome"] == "finished"
    assert max(n for _, n in stats["active_timeline"]) == 1


def test_capacity_curve_interpolates_and_is_flat_beyond():
    curve = CapacityCurve()
    assert curve(1) == 205 and curve(32) == 1628 and curve(64) == 1628
    assert curve(3) == pytest.approx((327 + 571) / 2)
    assert CapacityCurve("2:100,4:300")(1) == 50


@pytest.mark.parametrize("text", ["", "1:0", "x:1", "1-200"])
def test_bad_capacity_curve_is_rejected(text):
    with pytest.raises(ValueError, match=r"STREAMS:TOK_S"):
        parse_curve(text)


def test_cli_errors_are_one_line():
    proc = subprocess.run([sys.executable, "-m", "llmbench", "sim", "--capacity-curve", "1:abc"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("llmbench: ")


def test_stop_leaves_no_process():
    handle = start_background()
    pid = handle.proc.pid
    handle.stop()
    assert handle.proc.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_sim_exits_when_its_parent_dies(tmp_path):
    script = ("import sys, time; from llmbench.sim.server import start_background\n"
              "h = start_background(); print(h.proc.pid, flush=True); time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    sim_pid = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(sim_pid, 0)
        except ProcessLookupError:
            return
        try:   # reap it if it became our zombie
            os.waitpid(sim_pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    os.kill(sim_pid, signal.SIGKILL)
    pytest.fail("the sim outlived its parent")
