"""Per-request figures against the server's own record: ``pytest tests/throughput`` by concurrency and by rate.

The client's TTFT, ITL and E2E percentiles and its aggregate tok/s must match what
the server recorded for the same requests (``truth_helpers`` says how close, and
why), against the built-in engine (``/sim/stats``) and the independent reference
server (``/truth``). The llama-server counterpart is in ``test_throughput_llama.py``.
"""

from __future__ import annotations

import json

import pytest
from reference_server import ReferenceProcess
from throughput_helpers import CONFTEST, THROUGHPUT_TEST
from truth_helpers import REL, compare, measured_truth, window_tok_s

from llmbench.sim.server import start_background
from llmbench.throughput.runfiles import read_records

# per stream 100 tok/s at any load (10 ms a token), 2 tokens a chunk, ~30 ms of prefill
ENGINE = {"capacity_curve": "1:100,2:200,4:400", "tokens_per_chunk": 2, "prefill_tok_s": 1000}
LOADS = {
    "concurrency": ("-n", "2", "--throughput-requests", "4"),
    "rate": ("--rate", "6", "--min-seconds", "1.5", "--throughput-requests", "2"),
}


@pytest.fixture
def run_throughput(pytester, monkeypatch):
    """Run ``pytest tests/throughput`` against ``api_url``: (the level, the client's records)."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_throughput=THROUGHPUT_TEST.read_text())

    def run(api_url: str, load: str, max_tokens: int) -> tuple[dict, list]:
        monkeypatch.setenv("SIM_URL", api_url)
        out = pytester.path / f"out-{load}"
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--max-tokens", str(max_tokens),
                                               "--min-seconds", "0", "--throughput-out", str(out), *LOADS[load])
        result.assert_outcomes(passed=2 if "-n" in LOADS[load] else 1)
        level = json.loads((out / "throughput.json").read_text())["level"]
        assert level["errors"] == 0
        return level, read_records(out / "records.jsonl")

    return run


def _check(level: dict, records: list, requests: list[dict], max_tokens: int) -> list[str]:
    truth = measured_truth(requests, records)
    assert len(truth) == level["requests"] and all(q["tokens"] == max_tokens for q in truth)
    misses = compare(level, truth)
    server_tok_s = window_tok_s(truth, level["window"])
    if abs(level["aggregate_tok_s"] / server_tok_s - 1) > REL:
        misses.append(f"aggregate: client {level['aggregate_tok_s']:.1f} vs server {server_tok_s:.1f} tok/s")
    return misses


@pytest.mark.parametrize("load", sorted(LOADS))
def test_figures_match_the_built_in_engines_record(run_throughput, load):
    with start_background(**ENGINE) as sim:
        level, records = run_throughput(sim.base_url, load, 40)
        requests = sim.stats(chunks=True)["requests"]
    assert _check(level, records, requests, 40) == []


@pytest.mark.parametrize("load", sorted(LOADS))
def test_figures_match_the_reference_servers_record(run_throughput, load):
    # 50 tok/s a stream (20 ms a token, one a chunk), 200 ms before the first token, HTTP/1.0 bodies;
    # a connection per request, accepted and handed to a new thread: its TTFT starts later than the client's
    with ReferenceProcess(rate=50, first_token_delay=0.2) as ref:
        level, records = run_throughput(ref.api_url, load, 30)
        requests = ref.truth()
    assert _check(level, records, requests, 30) == []
