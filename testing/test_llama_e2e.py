"""The benchmark itself against a real llama.cpp ``llama-server``.

What the built-in server cannot prove: the quality suite survives a real
engine's output, the client's token counts and timings match the engine's own
account, throughput at C=1/2/4 matches what the engine says it generated, a
request beyond the engine's slots is queued and measured, and a server killed
mid-stream leaves recorded errors. The engine's account is read from its log
(``realserver.llama_log``): per-request timings, and with ``-v`` the
server-clock time of every generated token.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from realserver import llama_log
from shared_server import assert_unlisted_model_refused, clean_samples, quality_results, run, run_quality

from llmbench.endpoints import client as chat_client
from llmbench.endpoints.endpoint import Endpoint
from llmbench.throughput.runfiles import read_records

pytest_plugins = ("llama_helpers",)
pytestmark = pytest.mark.llama

TOLERANCE = 0.03

MODELS_YAML = """\
defaults:
  api_url: http://127.0.0.1:8000/v1
  sampling: {temperature: 0.0, max_tokens: 256}
models:
  tiny-llama:
    name: tiny-llama
    served_name: tiny-llama
    framework: llama.cpp
    # Every request evaluates its prompt: concurrent requests then start together.
    extra_body: {cache_prompt: false}
"""


@pytest.fixture
def models_file(tmp_path: Path) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(MODELS_YAML)
    return path


def _sweep(server, models_file: Path, out: Path, levels: str, max_tokens: int) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "llmbench", "sweep", "--model", server.alias, "--models-file", str(models_file),
                 "--api-url", server.api_url, "--levels", levels, "--max-tokens", str(max_tokens),
                 "--requests-per-client", "1", "--warmup", "0", "--min-seconds", "0", "--out", str(out)],
               cwd=out.parent, timeout=300)


# -- quality suite ------------------------------------------------------------------------

def test_quality_suite_runs_end_to_end_and_scores_near_zero(llama_server, tmp_path):
    proc = run_quality(llama_server.api_url, llama_server.alias, tmp_path, "--max-tokens", "32")
    results, results_path = quality_results(proc, tmp_path)
    assert results["totals"]["max"] > 0 and results["totals"]["percent"] <= 10.0
    clean_samples(results, 32)
    assert (results_path.parent / "report.html").is_file()


def test_quality_run_refuses_a_model_name_the_server_does_not_list(llama_server, tmp_path):
    """llama-server answers any model name, so the harness's preflight is what catches a typo."""
    assert_unlisted_model_refused(llama_server.api_url, "not-the-alias", llama_server.alias, tmp_path)


# -- the client against the server's own timings -------------------------------------------

def test_client_usage_and_timings_agree_with_the_server(llama_server_factory, timing_gguf):
    server = llama_server_factory(model=timing_gguf, n_parallel=1, ctx_per_slot=4096)
    endpoint = Endpoint(alias=server.alias, name=server.alias, served_name=server.alias, api_url=server.api_url,
                        max_tokens=200, extra_body={"cache_prompt": False})
    prompt = "Review this function and name its bug: " + "def total(xs): return sum(x for x in xs) / len(xs)\n" * 40
    for attempt in range(3):
        result = chat_client.chat(endpoint, prompt)
        assert result.error is None, result.error
        (seen,) = llama_log.read_requests(server.log_path, expect=attempt + 1)[attempt:]
        assert result.completion_tokens == seen.eval_n == 200
        assert result.prompt_tokens == seen.prompt_n
        assert result.chunks == 1 + 200 + 2   # the role chunk, one per token, the finish chunk, usage
        # Client TTFT = the server's prompt evaluation + tokenizing + HTTP: never less.
        assert result.ttft_s >= seen.prompt_ms / 1000
        # Streaming time after the first token is the server's generation time.
        decode_s = result.duration_s - result.ttft_s
        if abs(decode_s / (seen.eval_ms / 1000) - 1) <= TOLERANCE:
            break
    else:
        pytest.fail(f"client decode {decode_s * 1000:.1f} ms vs server eval {seen.eval_ms:.1f} ms in 3 tries")


# -- throughput -------------------------------------------------------------------------------

def _level_mismatches(sweep: dict, out: Path, tasks: list[list[float]], max_tokens: int) -> list[str]:
    """Check each level of one sweep against the server's tokens; timing misses come back as text."""
    misses = []
    done = 0
    for level in sweep["levels"]:
        c = level["concurrency"]
        records = read_records(out / "levels" / f"c{c:03d}" / "records.jsonl")
        level_tasks = dict(enumerate(tasks[done:done + c]))
        done += c
        assert level["errors"] == 0 and level["requests"] == c
        # Tokens: exact, request by request.
        assert level["output_tokens"] == sum(len(t) for t in level_tasks.values()) == c * max_tokens
        assert sorted(r.output_tokens for r in records) == sorted(len(t) for t in level_tasks.values())
        offset = llama_log.align_tokens(level_tasks, [[ns / 1e9 for ns in r.chunk_ns] for r in records])
        window = level["window"]
        start, end = window["start_ns"] / 1e9 - offset, window["end_ns"] / 1e9 - offset
        in_window = sum(1 for times in level_tasks.values() for t in times if start < t <= end)
        server_tok_s = in_window / (end - start)
        if abs(level["aggregate_tok_s"] / server_tok_s - 1) > TOLERANCE:
            misses.append(f"C={c}: suite {level['aggregate_tok_s']:.1f} tok/s vs server {server_tok_s:.1f} tok/s")
    return misses


def test_throughput_at_c1_c2_c4_agrees_with_the_server_token_by_token(llama_server_factory, timing_gguf,
                                                                      models_file, tmp_path):
    """Aggregate tok/s per level vs the server's own count of tokens in the same window (within 3%).

    Token counts must match exactly every time. The rate check gets three tries:
    on two shared cores a starved client process reads chunks in bursts, which
    is a fact about the machine, not the measurement code.
    """
    server = llama_server_factory(model=timing_gguf, n_parallel=4, ctx_per_slot=2048, extra_args=["-v"])
    max_tokens = 256
    seen_tasks = 0
    misses: list[str] = []
    for attempt in range(3):
        out = tmp_path / f"sweep{attempt}"
        proc = _sweep(server, models_file, out, "1,2,4", max_tokens)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        sweep = json.loads((out / "sweep.json").read_text())
        text = Path(server.log_path).read_text(errors="replace")
        tasks = sorted(llama_log.token_times(text).values(), key=lambda times: times[0])[seen_tasks:]
        seen_tasks += len(tasks)
        assert sum(len(t) for t in tasks) == (1 + 2 + 4) * max_tokens
        misses = _level_mismatches(sweep, out, tasks, max_tokens)
        # The server batched: C=4 generated faster in aggregate than C=1.
        rates = {lv["concurrency"]: lv["aggregate_tok_s"] for lv in sweep["levels"]}
        if not misses and rates[4] > rates[1]:
            break
    assert not misses, f"3 sweeps, last: {misses}"
    assert rates[4] > rates[1], f"3 sweeps, last: C=4 {rates[4]:.0f} tok/s, C=1 {rates[1]:.0f} tok/s"


def test_a_request_beyond_the_servers_slots_is_queued_and_measured(llama_server_factory, timing_gguf,
                                                                   models_file, tmp_path):
    server = llama_server_factory(model=timing_gguf, n_parallel=2, ctx_per_slot=2048)
    out = tmp_path / "sweep"
    proc = _sweep(server, models_file, out, "3", 128)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    level = json.loads((out / "sweep.json").read_text())["levels"][0]
    assert level["errors"] == 0 and level["requests"] == 3
    assert level["output_tokens"] == 3 * 128
    records = sorted(read_records(out / "levels" / "c003" / "records.jsonl"), key=lambda r: r.first_token_ns)
    assert all(r.output_tokens == 128 and r.finish_reason == "length" for r in records)
    # The third waited for a slot: its first token came after one of the others had finished.
    assert records[2].first_token_ns > min(r.end_ns for r in records[:2])
    served = llama_log.read_requests(server.log_path, expect=3)
    assert sorted(r.eval_n for r in served) == [128, 128, 128]


# -- failure -----------------------------------------------------------------------------------

def _kill_when_streaming(server, delay_s: float = 0.3) -> threading.Thread:
    def kill() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "process_toke" not in Path(server.log_path).read_text(errors="replace"):
            time.sleep(0.02)
        time.sleep(delay_s)
        server.kill()

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def test_killing_the_server_mid_stream_gives_recorded_errors(llama_server_factory, timing_gguf, models_file,
                                                             tmp_path):
    server = llama_server_factory(model=timing_gguf, n_parallel=2, ctx_per_slot=8192, extra_args=["-v"])
    out = tmp_path / "sweep"
    killer = _kill_when_streaming(server)
    proc = _sweep(server, models_file, out, "2", 6000)
    killer.join(10)
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output
    level = json.loads((out / "sweep.json").read_text())["levels"][0]
    assert level["errors"] == 2 and level["requests"] == 0
    assert level["error_kinds"] == {"dropped": 2}
    assert "2 errors" in proc.stdout
    records = read_records(out / "levels" / "c002" / "records.jsonl")
    # What streamed before the kill is kept, not thrown away.
    assert all(0 < r.output_tokens < 6000 and r.error for r in records)


def test_quality_client_reports_a_killed_stream_in_one_line(llama_server_factory, timing_gguf):
    server = llama_server_factory(model=timing_gguf, n_parallel=1, ctx_per_slot=8192, extra_args=["-v"])
    endpoint = Endpoint(alias=server.alias, name=server.alias, served_name=server.alias, api_url=server.api_url,
                        max_tokens=6000)
    killer = _kill_when_streaming(server)
    result = chat_client.chat(endpoint, "Explain this code.")
    killer.join(10)
    assert result.error is not None
    assert result.error.startswith(f"stream from {server.api_url} broke after ")
    assert "\n" not in result.error
    assert 0 < len(result.content)
