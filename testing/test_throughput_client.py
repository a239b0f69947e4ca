"""The streaming client against the sim's faults: errors and flags, never a crash."""

from __future__ import annotations

import pytest
from throughput_helpers import FAST_CURVE

from llmbench.sim.server import start_background
from llmbench.throughput.client import RequestRecord, StreamClient
from llmbench.throughput.loop import LoadSpec, run_client


@pytest.fixture(scope="module")
def sim():
    with start_background(capacity_curve=FAST_CURVE, tokens_per_chunk=3) as handle:
        yield handle


def _one(url, sim_opts=None, max_tokens=20, timeout=10.0, client=None):
    client = client or StreamClient(url, timeout=timeout)
    extra = {"sim": sim_opts} if sim_opts else {}
    return client.stream(RequestRecord(0, 0, False), client.body("demo", "hi", max_tokens, extra))


def test_exact_tokens_from_usage_with_multi_token_chunks(sim):
    r = _one(sim.base_url, max_tokens=20)
    assert r.ok and r.output_tokens == 20 and r.tokens_source == "usage"
    assert r.chunk_tokens == [3] * 6 + [2]
    assert r.first_token_ns == r.chunk_ns[0] and r.start_ns < r.first_token_ns <= r.end_ns
    assert r.finish_reason == "length" and r.eos_control


def test_per_chunk_usage_is_used_when_offered(sim):
    client = StreamClient(sim.base_url)
    body = client.body("demo", "hi", 10, per_chunk_usage=True)
    r = client.stream(RequestRecord(0, 0, False), body)
    assert r.tokens_source == "usage_per_chunk" and r.chunk_tokens == [3, 3, 3, 1]


def test_connection_is_reused(sim):
    client = StreamClient(sim.base_url)
    for _ in range(3):
        assert _one(sim.base_url, client=client).ok
    assert client.conn is not None


def test_http_500_is_an_error_record(sim):
    r = _one(sim.base_url, {"fail": "http500"})
    assert not r.ok and r.error_kind == "http" and "HTTP 500" in r.error


def test_dropped_stream_keeps_partial_tokens(sim):
    r = _one(sim.base_url, {"fail": "drop_midstream"}, max_tokens=30)
    assert not r.ok and r.error_kind == "dropped"
    assert 0 < r.output_tokens < 30 and r.tokens_source == "counted"


def test_missing_usage_is_counted_and_flagged(sim):
    r = _one(sim.base_url, {"fail": "no_usage"}, max_tokens=12)
    assert r.ok and r.tokens_source == "counted" and r.output_tokens == 4   # 4 chunks of 3


def test_stall_becomes_a_timeout(sim):
    r = _one(sim.base_url, {"fail": "stall"}, timeout=0.3)
    assert not r.ok and r.error_kind == "timeout"


def test_refused_connection_is_an_error():
    r = _one("http://127.0.0.1:9/v1")
    assert not r.ok and r.error_kind == "connect"


def test_server_without_ignore_eos_is_retried_and_recorded():
    with start_background(capacity_curve=FAST_CURVE, strict_params=True, natural_length=5) as handle:
        client = StreamClient(handle.base_url)
        first = _one(handle.base_url, client=client, max_tokens=20)
        second = _one(handle.base_url, client=client, max_tokens=20)
    assert first.ok and not first.eos_control and first.output_tokens == 5
    assert second.ok and not second.eos_control


def test_closed_loop_client_runs_warmup_then_measured(sim):
    spec = LoadSpec(api_url=sim.base_url, model="demo", max_tokens=6, requests=3, warmup=2)
    result = run_client(spec, client=5)
    seqs = [(r["seq"], r["warmup"]) for r in result["records"]]
    assert seqs == [(-1, True), (-2, True), (0, False), (1, False), (2, False)]
    assert all(r["client"] == 5 and r["error"] is None for r in result["records"])
    assert result["cpu_s"] >= 0 and result["eos_control"]


def test_duration_mode_stops_starting_requests(sim):
    spec = LoadSpec(api_url=sim.base_url, model="demo", max_tokens=6, duration_s=0.3, warmup=0)
    result = run_client(spec, client=0)
    assert len(result["records"]) >= 1
