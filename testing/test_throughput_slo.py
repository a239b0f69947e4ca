"""SLOs: parsing, which requests are good, goodput, and the highest level that meets them."""

from __future__ import annotations

import pytest

from llmbench.throughput import slo
from llmbench.throughput.client import RequestRecord

MS = 1_000_000


def rec(start=0, first=100, gaps=(10, 10, 10), error=None, warmup=False) -> RequestRecord:
    chunks = [first]
    for g in gaps:
        chunks.append(chunks[-1] + g)
    return RequestRecord(client=0, seq=0, warmup=warmup, start_ns=start * MS, first_token_ns=first * MS,
                         end_ns=chunks[-1] * MS, chunk_ns=[c * MS for c in chunks], chunk_tokens=[1] * len(chunks),
                         output_tokens=len(chunks), error=error, error_kind="http" if error else None)


def test_parse_reads_units_and_attainment():
    s = slo.parse("ttft=500ms, itl=50ms,e2e=2s,tpot=0.04,attainment=95%")
    assert s.limits == {"ttft": 0.5, "itl": 0.05, "e2e": 2.0, "tpot": 0.04}
    assert s.attainment == 0.95
    assert slo.parse("ttft=250us").limits["ttft"] == pytest.approx(0.00025)
    assert slo.parse("e2e=1s").attainment == slo.DEFAULT_ATTAINMENT


@pytest.mark.parametrize("text,why", [
    ("ttft", "NAME=VALUE"), ("latency=5ms", "unknown limit"), ("ttft=fast", "duration"),
    ("attainment=90%", "at least one limit"), ("ttft=1s,attainment=150%", "at most 100%"),
])
def test_parse_refuses_bad_text_with_a_reason(text, why):
    with pytest.raises(slo.SloError, match=why):
        slo.parse(text)


def test_each_limit_judges_its_own_figure():
    r = rec(start=0, first=100, gaps=(10, 10, 10))        # TTFT 100 ms, ITL 10 ms, E2E 130 ms
    assert slo.violations(r, slo.parse("ttft=100ms,itl=10ms,e2e=130ms,tpot=10ms")) == []
    assert slo.violations(r, slo.parse("ttft=99ms")) == ["ttft"]
    assert slo.violations(r, slo.parse("e2e=129ms")) == ["e2e"]
    assert slo.violations(r, slo.parse("tpot=9ms")) == ["tpot"]
    assert slo.violations(r, slo.parse("itl=9ms")) == ["itl"]


def test_itl_limit_tolerates_one_stall_but_not_a_slow_stream():
    one_stall = rec(gaps=[10] * 19 + [200])
    slow = rec(gaps=[30] * 20)
    limit = slo.parse("itl=20ms")
    assert slo.violations(one_stall, limit) == [] and slo.violations(slow, limit) == ["itl"]


def test_failed_requests_are_never_good():
    assert slo.violations(rec(error="HTTP 500: x"), slo.parse("e2e=10s")) == ["error"]


def test_goodput_and_attainment_of_a_level():
    records = [rec(first=50), rec(first=50), rec(first=50), rec(first=400), rec(error="HTTP 500: x"),
               rec(first=10, warmup=True)]
    s = slo.parse("ttft=100ms,attainment=60%")
    out = slo.evaluate(records, s, duration_s=2.0)
    assert out["good"] == 3 and out["measured"] == 5 and out["attainment"] == pytest.approx(0.6)
    assert out["met"] is True
    assert out["goodput_req_s"] == pytest.approx(1.5) and out["goodput_tok_s"] == pytest.approx(3 * 4 / 2.0)
    assert out["violations"] == {"ttft": 1, "error": 1}
    assert slo.evaluate(records, slo.parse("ttft=100ms,attainment=61%"), 2.0)["met"] is False
    assert slo.evaluate([], s, 1.0)["met"] is False


def test_best_level_is_the_highest_that_meets_it():
    def lv(c, met, tok):
        return {"concurrency": c, "slo": {"met": met, "goodput_tok_s": tok, "goodput_req_s": tok / 100}}
    levels = [lv(1, True, 100), lv(2, True, 180), lv(4, False, 150), lv(8, True, 90)]
    assert slo.best_level(levels, "concurrency") == {"slo_max_concurrency": 8, "slo_goodput_tok_s": 90,
                                                     "slo_goodput_req_s": 0.9}
    assert slo.best_level([lv(1, False, 0)], "concurrency")["slo_max_concurrency"] is None
