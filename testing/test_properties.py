"""Property tests: whatever the input, a result or one clear error, within a time bound.

Inputs come from hypothesis: arbitrary JSON for results.json (replay, regrade),
arbitrary YAML documents and bytes for models.yaml, arbitrary SSE lines for the
throughput client, arbitrary response bodies for the streaming quality client,
and arbitrary text for the grader entry point. Each example has a deadline, so a
super-linear path shows up as a failure, not as a slow suite.
"""

from __future__ import annotations

import json
import tempfile
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from llmbench.cli.regrade import regrade
from llmbench.endpoints import client
from llmbench.endpoints.endpoint import Endpoint
from llmbench.endpoints.registry import RegistryError, load_registry, resolve
from llmbench.runs.reader import RunFileError, changed_prompts, endpoint_of, load_results, sample_count, saved_samples
from llmbench.runs.recorder import SCHEMA
from llmbench.tasks import TASK_NAMES, get_task, grade
from llmbench.throughput.client import RequestRecord, StreamClient

# Hypothesis keeps caches in ./.hypothesis by default; a folder there makes its pytest plugin warn
# in every later run of the repository's own pytest.ini. Keep them out of the checkout.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "llmbench-hypothesis")

PROPERTY = settings(max_examples=60, deadline=timedelta(seconds=10), database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

_scalars = st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True) | st.text(max_size=30)
_json = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=5),
                     max_leaves=25)


# -- results.json ------------------------------------------------------------------------

def _sample_like():
    fields = {"index": st.integers(-2, 3) | _scalars, "prompt_sha256": st.sampled_from(["", "0" * 64]) | _scalars,
              "raw_content": st.text(max_size=200) | _json, "raw_reasoning": _scalars, "answer": _scalars,
              "error": _scalars, "usage": _json, "ttft_s": _scalars, "duration_s": _scalars,
              "finish_reason": _scalars, "source": _json}
    return st.fixed_dictionaries({}, optional=fields) | _json


_results_like = st.fixed_dictionaries(
    {"schema": st.just(SCHEMA) | _scalars,
     "tests": st.dictionaries(st.sampled_from(TASK_NAMES), st.fixed_dictionaries(
         {}, optional={"samples": st.lists(_sample_like(), max_size=3) | _json,
                       "checks": st.dictionaries(st.text(max_size=20), st.fixed_dictionaries(
                           {}, optional={"passed": _scalars, "evidence": _scalars,
                                         "per_sample": st.lists(_json, max_size=2) | _json}) | _json, max_size=3)
                       | _json}) | _json, max_size=3) | _json},
    optional={"model": _json, "sampling": _json, "serving": _json, "demo": _scalars},
)


@PROPERTY
@given(data=_results_like)
def test_any_results_file_is_read_or_refused_in_one_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("run") / "results.json"
    path.write_text(json.dumps(data))
    try:
        loaded = load_results(path)
    except RunFileError as exc:
        assert "\n" not in str(exc)
        return
    # what replay and regrade do with a file that was accepted
    for task in loaded["tests"]:
        saved_samples(loaded, task)
    changed_prompts(loaded)
    endpoint_of(loaded)
    sample_count(loaded)
    regrade(loaded)


@PROPERTY
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_results_file(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("run") / "results.json"
    path.write_bytes(raw)
    with pytest.raises(RunFileError):
        load_results(path)


# -- models.yaml -----------------------------------------------------------------------------

_entry = st.fixed_dictionaries({}, optional={
    "served_name": st.text(max_size=10) | _scalars, "name": _scalars, "api_url": st.just("http://h:1/v1") | _scalars,
    "sampling": st.fixed_dictionaries({}, optional={"temperature": _scalars, "max_tokens": _scalars}) | _json,
    "extra_body": _json, "reasoning": st.sampled_from(["none", "think-tags"]) | _scalars,
    "tp": _scalars, "context": _scalars, "quant": _scalars, "framework": _scalars}) | _json
_registry_like = st.fixed_dictionaries({}, optional={
    "models": st.dictionaries(st.text(max_size=8) | st.integers(0, 9), _entry, max_size=3) | _json,
    "defaults": st.fixed_dictionaries({}, optional={"api_url": _scalars, "sampling": _json}) | _json}) | _json


@PROPERTY
@given(document=_registry_like)
def test_any_models_document_loads_or_is_one_registry_error(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("reg") / "models.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        entries = load_registry(path)
    except RegistryError as exc:
        assert "\n" not in str(exc)
        return
    for alias in entries:
        endpoint, serving = resolve(alias, models_file=path)
        assert isinstance(endpoint.served_name, str) and isinstance(serving, dict)


@PROPERTY
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
def test_any_bytes_as_models_file(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("reg") / "models.yaml"
    path.write_bytes(raw)
    try:
        load_registry(path)
    except RegistryError as exc:
        assert "\n" not in str(exc)


# -- the throughput client's SSE parser ----------------------------------------------------------

class _Response:
    """What ``StreamClient`` reads: status, lines, ``read()``, ``will_close``."""

    status = 200
    will_close = True

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines

    def __iter__(self):
        return iter(self._lines)

    def read(self, *args) -> bytes:
        return b""


class _ScriptedClient(StreamClient):
    def __init__(self, lines: list[bytes]) -> None:
        super().__init__("http://127.0.0.1:9/v1")
        self._lines = lines

    def _send(self, payload: bytes):
        return _Response(self._lines)


_event = (_json.map(lambda v: b"data: " + json.dumps(v).encode() + b"\n")
          | st.fixed_dictionaries({"choices": st.lists(st.fixed_dictionaries({}, optional={
              "delta": _json | st.fixed_dictionaries({}, optional={"content": _scalars, "reasoning_content": _scalars}),
              "finish_reason": _scalars}) | _json, max_size=2), "usage": _json}).map(
              lambda v: b"data: " + json.dumps(v).encode() + b"\n")
          | st.binary(max_size=40)
          | st.just(b"data: [DONE]\n"))


@PROPERTY
@given(lines=st.lists(_event, max_size=8))
def test_any_event_stream_gives_a_record_never_an_exception(lines):
    stream_client = _ScriptedClient(lines)
    record = stream_client.stream(RequestRecord(0, 0, False), stream_client.body("m", "p", 8))
    assert record.error is None or (isinstance(record.error, str) and record.error_kind)
    assert record.output_tokens >= 0 and len(record.chunk_tokens) == len(record.chunk_ns)


# -- the streaming quality client -----------------------------------------------------------

class _BodyServer:
    """Answers every request with the current ``body`` (status 200, SSE content type)."""

    def __init__(self) -> None:
        server = self
        self.body = b""

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def body_server():
    server = _BodyServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@PROPERTY
@given(lines=st.lists(_event, max_size=8))
# a non-text content (a bool) once reached the answer's join
@example(lines=[b'data: {"choices": [{"finish_reason": null, "delta": {"content": true}}], "usage": null}\n',
                b"data: null\n"])
def test_any_response_body_gives_the_quality_client_a_result(body_server, lines):
    body_server.body = b"\n".join(lines)
    endpoint = Endpoint(alias="m", name="m", served_name="m", api_url=body_server.url, request_timeout=5.0)
    result = client.chat(endpoint, "p")
    assert isinstance(result.content, str) and isinstance(result.reasoning, str)
    assert result.error is None or "\n" not in result.error


# -- the grader entry point ------------------------------------------------------------------

_markdown_bits = st.sampled_from([
    "\n", "\n\n", "```python\n", "```\n", "```diff\n", "@@ def _listen\n", "-", "+", "# ", "## Fix\n", "- ", "1. ",
    "| a | b |\n", "`", "**", "<think>", "</think>", "e.g. ", ". ", "? ", "self.socket", "_listen", "__init__",
    "pplns_window", "window_size", "job_id", "current_job", "Decimal", "float", "SQL", "not thread-safe",
    "{\"bug\": \"", "\"}", "[", "]", " ", "x", "é", "\t", "\x00",
])


@settings(PROPERTY, max_examples=80)
@given(task=st.sampled_from(TASK_NAMES), pieces=st.lists(_markdown_bits | st.text(max_size=20), max_size=120),
       reasoning=st.none() | st.text(max_size=50))
def test_any_text_gets_one_verdict_per_check(task, pieces, reasoning):
    verdicts = grade(task, "".join(pieces), reasoning)
    assert list(verdicts) == get_task(task).check_ids
    assert all(isinstance(v.passed, bool) and isinstance(v.evidence, str) for v in verdicts.values())
