"""Exact metric definitions on hand-made records (no server, no timing)."""

from __future__ import annotations

import pytest

from llmbench.throughput import metrics
from llmbench.throughput.aggregate import steady_window, summarize_level, tokens_in
from llmbench.throughput.client import RequestRecord, attribute_tokens

MS = 1_000_000


def rec(client=0, start=0, chunks=(), tokens=None, error=None, warmup=False, seq=0) -> RequestRecord:
    chunks = [c * MS for c in chunks]
    r = RequestRecord(client=client, seq=seq, warmup=warmup, start_ns=start * MS,
                      first_token_ns=chunks[0] if chunks else None,
                      end_ns=(chunks[-1] if chunks else start * MS) + MS,
                      chunk_ns=chunks, chunk_tokens=list(tokens or [1] * len(chunks)))
    r.output_tokens = sum(r.chunk_tokens)
    if error:
        r.error, r.error_kind = error, "http"
    return r


def test_ttft_tpot_e2e_follow_the_issue_definitions():
    r = rec(start=0, chunks=[100, 110, 120, 130])    # end 131 ms
    assert metrics.ttft_s(r) == pytest.approx(0.100)
    assert metrics.e2e_s(r) == pytest.approx(0.131)
    assert metrics.tpot_s(r) == pytest.approx((0.131 - 0.100) / 3)
    assert metrics.tok_s(r) == pytest.approx(4 / 0.131)


def test_itl_counts_a_k_token_chunk_as_k_tokens():
    r = rec(chunks=[10, 20, 50], tokens=[1, 2, 3])
    assert metrics.itl_s(r) == pytest.approx([0.005, 0.005, 0.01, 0.01, 0.01])


def test_single_token_request_has_no_tpot():
    assert metrics.tpot_s(rec(chunks=[5])) is None


def test_percentiles_interpolate_like_numpy():
    s = metrics.summarize([4.0, 1.0, 3.0, 2.0])
    assert s["p50"] == pytest.approx(2.5) and s["p90"] == pytest.approx(3.7) and s["mean"] == 2.5
    assert metrics.summarize([])["p50"] is None


@pytest.mark.parametrize("chars,total,expected", [
    ([4, 4, 4], 3, [1, 1, 1]),
    ([12, 4], 4, [3, 1]),
    ([5, 5, 2], 5, [2, 2, 1]),
    ([0, 0], 4, [2, 2]),
])
def test_attribute_tokens_adds_up(chars, total, expected):
    assert attribute_tokens(chars, total) == expected


def test_steady_window_runs_from_last_first_token_to_first_last_token():
    a = rec(client=0, start=0, chunks=[10, 20, 30, 40, 50])
    b = rec(client=1, start=15, chunks=[25, 35, 45, 55, 65])
    assert steady_window([a, b]) == (25 * MS, 50 * MS)
    # tokens in (25, 50]: a: 30, 40, 50; b: 35, 45
    assert tokens_in([a, b], 25 * MS, 50 * MS) == 5


def test_level_excludes_warmup_and_counts_errors():
    results = [
        {"client": 0, "cpu_s": 0.1, "eos_control": True, "records": [
            rec(0, 0, [1, 2], warmup=True, seq=-1).as_dict(),
            rec(0, 10, [20, 30, 40, 50]).as_dict(),
            rec(0, 51, [], error="HTTP 500: boom", seq=1).as_dict()]},
        {"client": 1, "cpu_s": 0.1, "eos_control": True, "records": [
            rec(1, 12, [22, 32, 42, 52]).as_dict()]},
    ]
    level = summarize_level(2, results, max_tokens=4)
    assert level["requests"] == 2 and level["errors"] == 1 and level["warmup_requests"] == 1
    assert level["error_kinds"] == {"http": 1}
    assert level["output_tokens"] == 8
    assert level["window"]["kind"] == "steady"
    assert level["window"]["start_ns"] == 22 * MS and level["window"]["end_ns"] == 50 * MS
    assert level["aggregate_tok_s"] == pytest.approx(5 / 0.028)
    assert level["short_requests"] == 0


def test_level_without_overlap_falls_back_to_the_whole_run():
    results = [{"client": 0, "cpu_s": 0, "records": [rec(0, 0, [5]).as_dict()]},
               {"client": 1, "cpu_s": 0, "records": [rec(1, 10, [20]).as_dict()]}]
    level = summarize_level(2, results, max_tokens=1)
    assert level["window"]["kind"] == "whole_run"
    assert level["aggregate_tok_s"] == pytest.approx(2 / 0.021)


def test_level_with_only_errors_has_zero_throughput():
    results = [{"client": 0, "cpu_s": 0, "records": [rec(0, 0, [], error="HTTP 500: x").as_dict()]}]
    level = summarize_level(1, results, max_tokens=8)
    assert level["requests"] == 0 and level["errors"] == 1 and level["aggregate_tok_s"] == 0
    assert level["ttft_s"]["p50"] is None


def test_a_bursty_level_falls_back_to_the_whole_run_rate():
    """Chunks delivered in one burst shrink the steady window to nothing: don't trust it."""
    from llmbench.throughput.aggregate import summarize_level
    from llmbench.throughput.client import RequestRecord

    s = 1_000_000_000
    def record(client, start, burst_at):
        # 100 tokens all arrive within 1 ms at ``burst_at`` after a 10 s request
        chunks = [burst_at + i * 10_000 for i in range(100)]
        return RequestRecord(client=client, seq=0, warmup=False, start_ns=start, first_token_ns=chunks[0],
                             end_ns=start + 10 * s, chunk_ns=chunks, chunk_tokens=[1] * 100,
                             output_tokens=100).as_dict()

    results = [{"records": [record(0, 0, 9 * s)], "cpu_s": 0.1},
               {"records": [record(1, 0, 9 * s + 500_000)], "cpu_s": 0.1}]
    level = summarize_level(2, results, max_tokens=100)
    assert level["window"]["kind"] == "whole_run"
    assert "steady window covered only" in level["window"]["reason"]
    assert level["aggregate_tok_s"] == level["aggregate_tok_s_whole_run"] == 20.0
