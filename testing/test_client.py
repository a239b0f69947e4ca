"""The streaming client against the built-in server: metrics, reasoning, failures."""

from __future__ import annotations

import pytest

from llmbench.endpoints import client
from llmbench.tasks import get_task


def test_streams_answer_with_usage_and_ttft(sim, endpoint_for):
    result = client.chat(endpoint_for(sim), "say something", max_tokens=32)
    assert result.error is None
    assert result.content.strip()
    assert result.completion_tokens == 32 and result.prompt_tokens >= 1
    assert 0 < result.ttft_s <= result.duration_s
    assert result.finish_reason == "length"


def test_task_prompt_gets_reference_answer(sim, endpoint_for):
    task = get_task("zmq")
    result = client.chat(endpoint_for(sim, max_tokens=8192), task.prompt())
    assert result.content.strip() == task.reference_answer().strip()


def test_reasoning_field_is_split_from_content(start_sim, endpoint_for):
    handle = start_sim(reasoning=True, instant=True)
    task = get_task("zmq")
    result = client.chat(endpoint_for(handle, max_tokens=8192), task.prompt())
    assert result.reasoning.strip()
    assert result.reasoning not in result.content
    assert result.content.strip() == task.reference_answer().strip()


@pytest.mark.parametrize("mode, expected", [
    ("http500", "HTTP 500"),
    ("drop_midstream", "broke after"),
])
def test_failures_become_one_line_errors(sim, endpoint_for, mode, expected):
    result = client.chat(endpoint_for(sim, extra_body={"sim": {"fail": mode}}), "hello", max_tokens=64)
    assert result.error is not None and expected in result.error
    assert "\n" not in result.error


def test_missing_usage_leaves_counts_unknown(sim, endpoint_for):
    result = client.chat(endpoint_for(sim, extra_body={"sim": {"fail": "no_usage"}}), "hello", max_tokens=16)
    assert result.error is None
    assert result.completion_tokens is None and result.content


def test_stalled_stream_times_out(start_sim, endpoint_for):
    handle = start_sim(fail="stall", stall_s=30)
    result = client.chat(endpoint_for(handle, request_timeout=1.0), "hello")
    assert result.error is not None and "timed out after 1s" in result.error
    assert result.duration_s < 10


def test_preflight_lists_what_is_served(sim, endpoint_for):
    assert "demo" in client.preflight(endpoint_for(sim))
    with pytest.raises(client.PreflightError, match=r"model 'nope' is not served at .*; it serves: demo"):
        client.preflight(endpoint_for(sim, served_name="nope", alias="nope"))


def test_preflight_on_a_server_that_is_down(endpoint_for, closed_port, sim):
    down = endpoint_for(sim, api_url=f"http://127.0.0.1:{closed_port}/v1")
    with pytest.raises(client.PreflightError, match="cannot reach http://127.0.0.1"):
        client.preflight(down, timeout=3)


def test_api_key_is_not_in_errors(start_sim, endpoint_for):
    handle = start_sim(fail="http500")
    result = client.chat(endpoint_for(handle, api_key="sk-very-secret"), "hello")
    assert "sk-very-secret" not in (result.error or "")
