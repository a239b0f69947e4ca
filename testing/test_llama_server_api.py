"""The raw llama.cpp ``llama-server`` on the generated tiny model, through the openai SDK.

These pin down the behaviour the harness relies on (and the quirks it must
handle) so a llama.cpp upgrade that changes them fails here first.
"""

from __future__ import annotations

import pytest
from realserver.tinymodel import EOS_ID

openai = pytest.importorskip("openai")

pytest_plugins = ("llama_helpers",)
pytestmark = pytest.mark.llama

FORCE_EOS = {"logit_bias": {str(EOS_ID): 100}}


@pytest.fixture(scope="module")
def client(llama_server):
    return openai.OpenAI(base_url=llama_server.api_url, api_key="unused", max_retries=0, timeout=60)


def _stream(client, model: str, max_tokens: int, **extra):
    chunks = list(client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Find the bug: def f(x): return x / 0"}],
        max_tokens=max_tokens, stream=True, stream_options={"include_usage": True},
        extra_body={"cache_prompt": False, **extra},
    ))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    usage_chunks = [c for c in chunks if c.usage is not None]
    return chunks, pieces, finish, usage_chunks


def test_stream_sends_one_token_per_chunk_then_usage_and_timings(client, llama_server):
    chunks, pieces, finish, usage_chunks = _stream(client, llama_server.alias, 24)
    assert len(pieces) == 24, "each generated token arrives in its own chunk"
    assert finish == ["length"]
    assert len(usage_chunks) == 1 and usage_chunks[0] is chunks[-1], "usage comes once, in the last chunk"
    last = chunks[-1]
    assert last.choices == []
    assert last.usage.completion_tokens == 24
    timings = last.model_extra["timings"]
    assert timings["predicted_n"] == 24
    # The server's prompt count is split into evaluated + reused-from-cache tokens.
    assert timings["prompt_n"] + timings.get("cache_n", 0) == last.usage.prompt_tokens
    assert timings["prompt_ms"] > 0 and timings["predicted_ms"] > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_eos_is_never_sampled_so_every_answer_is_max_tokens(client, llama_server, seed):
    """The tiny model's design: without ignore_eos, at temperature 1, still exactly max_tokens."""
    _, pieces, finish, usage_chunks = _stream(client, llama_server.alias, 200, temperature=1.0, seed=seed)
    assert usage_chunks[0].usage.completion_tokens == 200
    assert len(pieces) == 200
    assert finish == ["length"]


def test_eos_token_is_counted_in_completion_tokens(client, llama_server):
    """Quirk: an answer ended by EOS reports the EOS as a completion token (no text for it)."""
    _, pieces, finish, usage_chunks = _stream(client, llama_server.alias, 16, **FORCE_EOS)
    assert pieces == []
    assert finish == ["stop"]
    assert usage_chunks[0].usage.completion_tokens == 1


def test_ignore_eos_is_honoured(client, llama_server):
    _, pieces, finish, usage_chunks = _stream(client, llama_server.alias, 16, ignore_eos=True, **FORCE_EOS)
    assert len(pieces) == 16
    assert finish == ["length"]
    assert usage_chunks[0].usage.completion_tokens == 16


def test_min_tokens_is_accepted_but_ignored(client, llama_server):
    """Quirk: vLLM's min_tokens is silently ignored, so only ignore_eos forces a length."""
    _, pieces, finish, usage_chunks = _stream(client, llama_server.alias, 16, min_tokens=16, **FORCE_EOS)
    assert finish == ["stop"]
    assert usage_chunks[0].usage.completion_tokens == 1


def test_any_model_name_is_answered_but_only_the_alias_is_listed(client, llama_server):
    """Quirk: the request's model field is not checked; /v1/models lists the --alias."""
    _, pieces, _, _ = _stream(client, "no-such-model", 4)
    assert len(pieces) == 4
    assert [m.id for m in client.models.list()] == [llama_server.alias]
