"""Open-loop load: arrival schedules, the asyncio client against the sim's faults, rate-level figures."""

from __future__ import annotations

import asyncio
import statistics
from itertools import pairwise

import pytest
from throughput_helpers import FAST_CURVE

from llmbench.sim.server import start_background
from llmbench.throughput import arrivals
from llmbench.throughput.asyncclient import AsyncStreamClient
from llmbench.throughput.client import RequestRecord
from llmbench.throughput.loop import LoadSpec, run_client
from llmbench.throughput.ratelevel import in_flight, latency_break, summarize_rate_level, ttft_growth

MS = 1_000_000


# -- schedules ---------------------------------------------------------------------------
def test_constant_arrivals_are_evenly_spaced_and_split_clients_interleave():
    assert arrivals.schedule(4, 3) == [0, 0.25, 0.5]
    a = arrivals.schedule(10, 3, client=0, clients=2)
    b = arrivals.schedule(10, 3, client=1, clients=2)
    assert sorted(a + b) == pytest.approx([0, 0.1, 0.2, 0.3, 0.4, 0.5])


def test_poisson_arrivals_are_seeded_and_have_the_asked_rate():
    one = arrivals.schedule(20, 4000, "poisson", seed=7)
    assert one == arrivals.schedule(20, 4000, "poisson", seed=7)
    assert one != arrivals.schedule(20, 4000, "poisson", seed=8)
    gaps = [b - a for a, b in pairwise(one)]
    assert statistics.mean(gaps) == pytest.approx(1 / 20, rel=0.05)
    # exponential gaps: the standard deviation equals the mean (constant arrivals would give 0)
    assert statistics.stdev(gaps) == pytest.approx(1 / 20, rel=0.1)


def test_level_length_is_the_longer_of_requests_and_min_seconds():
    assert arrivals.count_for(rate=10, requests=4, min_seconds=2) == 20
    assert arrivals.count_for(rate=10, requests=40, min_seconds=2) == 40
    assert arrivals.count_for(rate=10, requests=40, duration_s=1) == 10


@pytest.mark.parametrize("rate,arrival", [(0, "constant"), (-1, "constant"), (1, "bursty")])
def test_bad_schedules_are_refused(rate, arrival):
    with pytest.raises(ValueError, match="rate must be above 0|arrival must be one of"):
        arrivals.schedule(rate, 3, arrival)


# -- the asyncio client ------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim():
    with start_background(capacity_curve=FAST_CURVE, tokens_per_chunk=3) as handle:
        yield handle


def _one(url, sim_opts=None, max_tokens=20, timeout=10.0):
    async def go():
        client = AsyncStreamClient(url, timeout=timeout)
        extra = {"sim": sim_opts} if sim_opts else {}
        try:
            return await client.stream(RequestRecord(0, 0, False), client.body("demo", "hi", max_tokens, extra))
        finally:
            await client.close()
    return asyncio.run(go())


def test_async_client_reads_exact_tokens_like_the_blocking_one(sim):
    r = _one(sim.base_url, max_tokens=20)
    assert r.ok and r.output_tokens == 20 and r.tokens_source == "usage" and r.http_status == 200
    assert r.chunk_tokens == [3] * 6 + [2] and r.prompt_tokens >= 1
    assert r.start_ns < r.first_token_ns == r.chunk_ns[0] <= r.end_ns


def test_async_client_reuses_connections(sim):
    async def go():
        client = AsyncStreamClient(sim.base_url)
        records = [await client.stream(RequestRecord(0, i, False), client.body("demo", "hi", 5)) for i in range(3)]
        idle = len(client.idle)
        await client.close()
        return records, idle
    records, idle = asyncio.run(go())
    assert all(r.ok for r in records) and idle == 1


@pytest.mark.parametrize("fault,kind", [("http500", "http"), ("drop_midstream", "dropped"), ("empty", "empty")])
def test_async_client_faults_are_error_records(sim, fault, kind):
    r = _one(sim.base_url, {"fail": fault}, max_tokens=30)
    assert not r.ok and r.error_kind == kind and r.end_ns is not None


def test_async_client_stall_is_a_timeout(sim):
    r = _one(sim.base_url, {"fail": "stall"}, timeout=0.3)
    assert not r.ok and r.error_kind == "timeout"


def test_async_client_refused_connection_is_an_error():
    r = _one("http://127.0.0.1:9/v1")
    assert not r.ok and r.error_kind == "connect"


def test_async_client_retries_without_ignore_eos_when_refused():
    with start_background(capacity_curve=FAST_CURVE, strict_params=True, natural_length=5) as handle:
        r = _one(handle.base_url, max_tokens=20)
    assert r.ok and not r.eos_control and r.output_tokens == 5


def test_open_loop_client_keeps_the_schedule_and_records_lag(sim):
    spec = LoadSpec(api_url=sim.base_url, model="demo", max_tokens=6, requests=10, warmup=1, rate=50)
    result = run_client(spec, client=0)
    measured = [r for r in result["records"] if not r["warmup"]]
    assert len(measured) == 10 and all(r["error"] is None for r in measured)
    scheduled = [r["scheduled_ns"] for r in measured]
    assert [(b - a) / MS for a, b in pairwise(scheduled)] == pytest.approx([20] * 9, abs=0.01)
    assert all(0 <= r["start_ns"] - r["scheduled_ns"] < 50 * MS for r in measured)


def test_open_loop_level_survives_failed_and_empty_requests():
    with start_background(capacity_curve=FAST_CURVE, fail="empty", fail_every=2) as handle:
        spec = LoadSpec(api_url=handle.base_url, model="demo", max_tokens=6, requests=6, warmup=0, rate=40)
        result = run_client(spec, client=0)
    level = summarize_rate_level(40, "constant", [result], 6)
    assert level["requests"] == 3 and level["errors"] == 3 and level["error_kinds"] == {"empty": 3}
    assert level["output_tokens"] == 18


# -- rate-level figures on hand-made records ---------------------------------------------
def rec(seq, scheduled, start, first, end, tokens=4, error=None) -> RequestRecord:
    step = (end - first) / max(tokens - 1, 1)
    chunks = [int((first + i * step) * MS) for i in range(tokens)]
    return RequestRecord(client=0, seq=seq, warmup=False, scheduled_ns=scheduled * MS, start_ns=start * MS,
                         first_token_ns=chunks[0] if chunks else None, end_ns=end * MS, chunk_ns=chunks, chunk_tokens=[1] * tokens,
                         output_tokens=tokens, error=error, error_kind="http" if error else None)


def test_in_flight_counts_overlapping_requests():
    records = [rec(0, 0, 0, 5, 100), rec(1, 10, 10, 15, 50), rec(2, 20, 20, 25, 30), rec(3, 200, 200, 205, 300)]
    peak, mean = in_flight(records)
    assert peak == 3
    assert mean == pytest.approx((100 + 40 + 10 + 100) / 300)


def test_ttft_growth_sees_a_building_queue():
    steady = [rec(i, 10 * i, 10 * i, 10 * i + 5, 10 * i + 9) for i in range(8)]
    queued = [rec(i, 10 * i, 10 * i, 10 * i + 5 + 20 * i, 10 * i + 30 + 20 * i) for i in range(8)]
    assert ttft_growth(steady)["queue_building"] is False
    g = ttft_growth(queued)
    assert g["queue_building"] is True and g["last_quarter_p50_s"] > g["first_quarter_p50_s"]


def test_rate_level_uses_the_sending_span_and_reports_lag():
    records = [rec(i, 100 * i, 100 * i + lag, 100 * i + lag + 10, 100 * i + lag + 40)
               for i, lag in enumerate([0, 1, 2, 30])]
    level = summarize_rate_level(10, "constant", [{"records": [r.as_dict() for r in records], "cpu_s": 0}], 4)
    assert level["mode"] == "rate" and level["window"]["kind"] == "sending"
    assert level["window"]["start_ns"] == 0 and level["window"]["end_ns"] == 330 * MS
    assert level["achieved_rate"] == pytest.approx(3 / 0.330)
    assert level["send_lag_s"]["max"] == pytest.approx(0.030)
    # tokens in (0, 330 ms]: the first three requests' 12 tokens
    assert level["aggregate_tok_s"] == pytest.approx(12 / 0.330)


def test_rate_level_of_only_errors_does_not_crash():
    records = [rec(0, 0, 0, 0, 1, tokens=0, error="HTTP 500: x")]
    level = summarize_rate_level(1, "constant", [{"records": [r.as_dict() for r in records], "cpu_s": 0}], 4)
    assert level["requests"] == 0 and level["errors"] == 1 and level["aggregate_tok_s"] == 0
    assert latency_break([level]) == {"latency_break_rate": None, "max_rate_before_break": None, "break_reason": None}


def _level(rate, p50, queue=False):
    return {"rate": rate, "requests": 10, "ttft_s": {"p50": p50},
            "ttft_growth": {"queue_building": queue, "first_quarter_p50_s": p50, "last_quarter_p50_s": 3 * p50}}


def test_latency_breaks_where_ttft_doubles_or_a_queue_builds():
    assert latency_break([_level(1, 0.050), _level(2, 0.055), _level(4, 0.200)])["latency_break_rate"] == 4
    by_queue = latency_break([_level(1, 0.050), _level(2, 0.055, queue=True), _level(4, 0.200)])
    assert by_queue["latency_break_rate"] == 2 and by_queue["max_rate_before_break"] == 1
    assert "queueing" in by_queue["break_reason"]
    assert latency_break([_level(1, 0.050), _level(2, 0.060)])["latency_break_rate"] is None
