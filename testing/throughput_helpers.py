"""Shared pieces of the sim/throughput self-tests."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
THROUGHPUT_TEST = REPO / "tests" / "throughput" / "test_throughput.py"

# A pytester project registers the throughput plugin itself (as the entry
# module does with --model) and points llmbench_endpoint at a sim.
CONFTEST = '''
import os, pytest
from llmbench.endpoints.endpoint import Endpoint
from llmbench.plugin import throughput as tp

def pytest_configure(config):
    if not config.pluginmanager.has_plugin("llmbench-throughput"):
        config.pluginmanager.register(tp.make_plugin(config), "llmbench-throughput")

@pytest.fixture(scope="session")
def llmbench_endpoint():
    return Endpoint(alias="simtest", name="simtest", served_name="demo", api_url=os.environ["SIM_URL"],
                    demo=True, request_timeout=float(os.environ.get("SIM_TIMEOUT", "30")))
'''

# Fast enough for seconds-long tests, still a real curve.
FAST_CURVE = "1:2000,2:3000,4:4000"


def chat(handle, body: dict, timeout: float = 30.0):
    """POST to the sim; returns (status, [parsed SSE events or the JSON body])."""
    conn = http.client.HTTPConnection(handle.host, handle.port, timeout=timeout)
    try:
        conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    if not body.get("stream") or resp.status != 200:
        return resp.status, json.loads(raw)
    events = []
    for line in raw.decode().splitlines():
        if line.startswith("data: "):
            data = line[6:]
            events.append(data if data == "[DONE]" else json.loads(data))
    return resp.status, events


def request_body(prompt: str = "hello", max_tokens: int = 8, **extra) -> dict:
    body = {"model": "demo", "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
            "stream": True, "stream_options": {"include_usage": True}}
    body.update(extra)
    return body
