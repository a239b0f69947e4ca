"""The server's Prometheus /metrics beside the client's figures: parsing, the sim's page, sweeps."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from llmbench.sim.server import start_background
from llmbench.throughput import servermetrics
from llmbench.throughput.client import RequestRecord, StreamClient

VLLM = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
vllm:num_requests_running{engine="1",model_name="m"} 2.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} 4.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
# HELP vllm:generation_tokens_total Number of generation tokens processed.
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="m"} 1000.0
# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="0.3",model_name="m"} 1.0
vllm:e2e_request_latency_seconds_count{model_name="m"} 1.0
vllm:e2e_request_latency_seconds_sum{model_name="m"} 0.2
"""
SGLANG = """\
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="m"} 7.0
# TYPE sglang:num_queue_reqs gauge
sglang:num_queue_reqs{model_name="m"} 1.0
# TYPE sglang:token_usage gauge
sglang:token_usage{model_name="m"} 0.5
# TYPE sglang:generation_tokens_total counter
sglang:generation_tokens_total{model_name="m"} 42.0
"""
LLAMA = """\
# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 46
# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.
# TYPE llamacpp:tokens_predicted_total counter
llamacpp:tokens_predicted_total 200
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 1
# HELP llamacpp:requests_deferred Number of requests deferred.
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred 0
"""


@pytest.mark.parametrize("page,expected", [
    (VLLM, {"running": 5.0, "waiting": 4.0, "kv_cache_usage": 0.25, "generation_tokens_total": 1000.0}),
    (SGLANG, {"running": 7.0, "waiting": 1.0, "kv_cache_usage": 0.5, "generation_tokens_total": 42.0}),
    (LLAMA, {"running": 1.0, "waiting": 0.0, "generation_tokens_total": 200.0, "prompt_tokens_total": 46.0}),
])
def test_each_servers_page_maps_to_the_same_quantities(page, expected):
    assert servermetrics.parse(page) == expected


def test_metrics_url_sits_beside_the_api():
    assert servermetrics.metrics_url("http://h:8000/v1") == "http://h:8000/metrics"
    assert servermetrics.metrics_url("http://h:8000/v1/") == "http://h:8000/metrics"


def test_probe_says_why_there_are_no_metrics():
    assert "http://127.0.0.1:9/metrics" in servermetrics.probe("http://127.0.0.1:9/metrics")
    with start_background(capacity_curve="1:1000") as sim:
        assert servermetrics.probe(f"{sim.root_url}/metrics") is None
        assert "HTTP 404" in servermetrics.probe(f"{sim.root_url}/nothing")


def test_summary_and_second_truth_over_the_same_span():
    ms = 1_000_000
    # server counter: 100 tokens per 100 ms; the client got 1 token every ms from 0 to 1000 ms
    samples = [(t * ms, {"generation_tokens_total": float(t), "running": 4.0 if 200 <= t <= 800 else 1.0})
               for t in range(0, 1001, 100)]
    record = RequestRecord(0, 0, False, start_ns=0, chunk_ns=[t * ms for t in range(1, 1001)],
                           chunk_tokens=[1] * 1000, output_tokens=1000)
    out = servermetrics.summarize(samples, [record], {"start_ns": 150 * ms, "end_ns": 850 * ms}, "u")
    assert out["samples"] == 11 and out["series"]["t_s"][:2] == [0.0, 0.1]
    assert out["running_mean"] == 4.0 and out["running_max"] == 4.0     # gauges over the window's readings
    assert out["generation_tokens_delta"] == 1000.0                      # counters over the level
    truth = out["second_truth"]
    assert truth["start_ns"] == 200 * ms and truth["end_ns"] == 800 * ms
    assert truth["server_tok_s"] == pytest.approx(1000) and truth["client_tok_s"] == pytest.approx(1000)
    assert servermetrics.summarize([], [], None, "u") == {"url": "u", "samples": 0, "failed_readings": 0}


def test_sim_metrics_show_running_and_waiting_requests():
    with start_background(capacity_curve="1:100", max_streams=1) as sim:
        def one():
            client = StreamClient(sim.base_url)
            client.stream(RequestRecord(0, 0, False), client.body("demo", "hi", 30))
        threads = [threading.Thread(target=one) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.15)
        busy = servermetrics.fetch(f"{sim.root_url}/metrics")
        for t in threads:
            t.join()
        idle = servermetrics.fetch(f"{sim.root_url}/metrics")
        truth = sim.stats()
    assert busy["running"] == 1 and busy["waiting"] == 2 and busy["kv_cache_usage"] == 1.0
    assert idle["running"] == 0 and idle["waiting"] == 0
    assert idle["generation_tokens_total"] == 90 == sum(r["tokens"] for r in truth["requests"])


def _sweep(*args):
    return subprocess.run([sys.executable, "-m", "llmbench", "sweep", "--model", "demo", *args],
                          capture_output=True, text=True, timeout=180)


def test_sweep_puts_the_server_series_beside_the_clients_figures(tmp_path):
    proc = _sweep("--levels", "1,4", "--max-tokens", "64", "--min-seconds", "2.5", "--capacity-curve", "1:300,4:800",
                  "--max-streams", "3", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    assert sweep["server_metrics"]["available"] and sweep["server_metrics"]["url"].endswith("/metrics")
    one, four = sweep["levels"]
    for lv in (one, four):
        m = lv["server_metrics"]
        assert m["samples"] >= 5 and len(m["series"]["t_s"]) == len(m["series"]["running"]) == m["samples"]
        truth = m["second_truth"]
        assert truth["span_s"] >= 1.0
        assert truth["client_tok_s"] == pytest.approx(truth["server_tok_s"], rel=0.03)
        assert lv["aggregate_tok_s"] == pytest.approx(truth["server_tok_s"], rel=0.03)
        assert m["generation_tokens_delta"] == lv["output_tokens"] + lv["warmup_requests"] * 64
    # 4 clients on 3 slots: one always waits
    assert one["server_metrics"]["running_max"] == 1 and one["server_metrics"]["waiting_max"] == 0
    assert four["server_metrics"]["running_max"] == 3 and four["server_metrics"]["waiting_max"] >= 1
    assert "server /metrics: running mean" in proc.stdout
    md = (tmp_path / "scaling.md").read_text()
    assert "### Server metrics (http://127.0.0.1:" in md and "server tok/s (counter)" in md


def test_sweep_without_server_metrics_says_so_and_goes_on(tmp_path):
    proc = _sweep("--levels", "1", "--max-tokens", "8", "--min-seconds", "0", "--capacity-curve", "1:1000",
                  "--metrics-url", "http://127.0.0.1:9/metrics", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "no server metrics (http://127.0.0.1:9/metrics:" in proc.stdout
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    assert sweep["server_metrics"]["available"] is False and "server_metrics" not in sweep["levels"][0]
