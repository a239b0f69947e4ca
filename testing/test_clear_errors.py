"""Bad input and odd servers end in one clear line that names the cause, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from echo_server import EchoServer

from llmbench.cli import regrade
from llmbench.cli import serve as serve_cli
from llmbench.endpoints import client
from llmbench.endpoints.endpoint import Endpoint
from llmbench.endpoints.registry import RegistryError, load_registry
from llmbench.runs.answer_store import prompt_sha256
from llmbench.runs.reader import RunFileError, load_results
from llmbench.runs.recorder import SCHEMA
from llmbench.tasks import get_task

REPO = Path(__file__).resolve().parents[1]


def _one_clean_line(text: str) -> None:
    assert "Traceback" not in text and "Error:" not in text.replace("UsageError", ""), text


# -- models.yaml -------------------------------------------------------------------

def test_models_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_bytes(b"models:\n  m:\n    served_name: caf\xe9\n")
    with pytest.raises(RegistryError, match="not UTF-8 text"):
        load_registry(path)


@pytest.mark.parametrize("text, field", [
    ("defaults:\n  sampling: [1, 2]\nmodels: {}\n", "defaults: field 'sampling' must be a mapping"),
    ("defaults:\n  sampling: hot\nmodels:\n  m: {served_name: x}\n", "field 'sampling' must be a mapping"),
    ("models:\n  m: {served_name: x, sampling: hot}\n", "model 'm': field 'sampling' must be a mapping"),
    ("models:\n  m: {served_name: x, sampling: [0.7]}\n", "model 'm': field 'sampling' must be a mapping"),
    ("models:\n  m: {served_name: x, sampling: {temperature: .nan}}\n", "sampling.temperature"),
])
def test_models_file_with_wrong_sampling_types(tmp_path, text, field):
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(RegistryError, match=field.replace("(", r"\(")):
        load_registry(path)


# -- results.json for replay and regrade ----------------------------------------------

def _results(tmp_path: Path) -> Path:
    task = get_task("zmq")
    answer = task.reference_answer()
    data = {
        "schema": SCHEMA, "kind": "quality", "run_id": "r", "status": "complete",
        "model": {"alias": "m", "name": "m", "served_name": "m", "api_url": "http://x/v1", "reasoning": "none"},
        "sampling": {"temperature": 0.0, "max_tokens": 100, "samples": 1, "extra_body": {}},
        "serving": {}, "tests": {"zmq": {
            "samples": [{"index": 0, "prompt_sha256": prompt_sha256(task.prompt()), "answer": answer,
                         "reasoning": "", "raw_content": answer, "raw_reasoning": "", "usage": {},
                         "ttft_s": 0.1, "duration_s": 1.0, "finish_reason": "stop", "error": None, "source": {}}],
            "checks": {c: {"passed": False, "evidence": "", "per_sample": [{"passed": False, "evidence": ""}]}
                       for c in task.check_ids}}},
    }
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    return path


CORRUPTIONS = {
    "test is a list": (lambda d: d["tests"].__setitem__("zmq", []), "'tests.zmq' must be an object"),
    "samples is an object": (lambda d: d["tests"]["zmq"].__setitem__("samples", {}), "samples' must be a list"),
    "sample is text": (lambda d: d["tests"]["zmq"]["samples"].__setitem__(0, "x"), "samples[0]' must be an object"),
    "index is text": (lambda d: d["tests"]["zmq"]["samples"][0].__setitem__("index", "zero"), "index' must be"),
    "answer is a number": (lambda d: d["tests"]["zmq"]["samples"][0].__setitem__("raw_content", 5), "raw_content"),
    "usage is text": (lambda d: d["tests"]["zmq"]["samples"][0].__setitem__("usage", "many"), "usage"),
    "model is text": (lambda d: d.__setitem__("model", "m"), "'model' must be an object"),
    "sampling is a list": (lambda d: d.__setitem__("sampling", [0.0]), "'sampling' must be an object"),
    "temperature is text": (lambda d: d["sampling"].__setitem__("temperature", "hot"), "sampling.temperature"),
    "check is a number": (lambda d: d["tests"]["zmq"]["checks"].__setitem__("zmq.fix_socket_in_thread", 5),
                          "checks.zmq.fix_socket_in_thread"),
    "per_sample holds numbers": (lambda d: d["tests"]["zmq"]["checks"]["zmq.fix_socket_in_thread"]
                                 .__setitem__("per_sample", [1]), "per_sample"),
}


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_hand_edited_results_file_is_one_line_for_regrade(tmp_path, capsys, name):
    path = _results(tmp_path)
    assert regrade.main([str(path)]) == 0   # the untouched file works
    data = json.loads(path.read_text())
    corrupt, message = CORRUPTIONS[name]
    corrupt(data)
    path.write_text(json.dumps(data))
    with pytest.raises(RunFileError, match=message.replace("[", r"\[")):
        load_results(path)
    capsys.readouterr()
    assert regrade.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "edited by hand" in err


def test_hand_edited_results_file_is_one_line_for_replay(bench, tmp_path):
    path = _results(tmp_path)
    data = json.loads(path.read_text())
    data["tests"]["zmq"]["samples"][0]["index"] = "zero"
    path.write_text(json.dumps(data))
    result = bench.runpytest(f"--replay={path}", "--results-dir=out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*llmbench: *results.json: 'tests.zmq.samples[[]0].index' must be*"])
    _one_clean_line(result.stderr.str())


# -- options ---------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["file", "/dev/null", "/proc"])
def test_results_dir_that_cannot_hold_runs(bench, where):
    target = str(bench.path / "a-file") if where == "file" else where
    if where == "file":
        Path(target).write_text("not a folder")
    result = bench.runpytest("--model", "demo", f"--results-dir={target}", "-k", "zmq")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*cannot create a run folder under --results-dir {target}*"])
    _one_clean_line(result.stderr.str())


@pytest.mark.parametrize("option, value", [("--temperature", "nan"), ("--temperature", "inf"),
                                           ("--request-timeout", "nan"), ("--request-timeout", "inf")])
def test_non_finite_numbers_are_refused_before_any_request(bench, option, value):
    result = bench.runpytest("--model", "demo", option, value, "-k", "zmq")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*argument {option}: expected * (a finite number), got '{value}'*"])


def test_serve_plan_with_a_text_quantization_config(tmp_path, capsys):
    config = json.loads((REPO / "serve" / "configs" / "exaone-4.0-32b.json").read_text())
    config["quantization_config"] = "awq"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert serve_cli.main(["plan", str(path), "--gpus", "2", "--gpu-mem-gib", "24"]) == 2
    assert "field 'quantization_config' must be an object" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_serve_plan_with_a_non_finite_gpu_memory(capsys, value):
    assert serve_cli.main(["plan", "exaone-4.0-32b", "--gpus", "2", "--gpu-mem-gib", value]) == 2
    assert f"--gpu-mem-gib must be a number, got {value}" in capsys.readouterr().err


# -- servers that answer oddly ---------------------------------------------------------------

class _Server:
    """A one-handler HTTP server: ``do_GET``/``do_POST`` from the handler class given."""

    def __init__(self, handler) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _HtmlModels(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b"<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _SlowStream(BaseHTTPRequestHandler):
    """Sends a chunk every 0.2 s, forever: never a read timeout, always too slow in total."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chunk = {"choices": [{"index": 0, "delta": {"content": "word "}, "finish_reason": None}]}
        try:
            for _ in range(100):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass


def test_models_answering_html_says_so():
    server = _Server(_HtmlModels)
    try:
        endpoint = Endpoint(alias="m", name="m", served_name="m", api_url=server.url)
        with pytest.raises(client.PreflightError) as caught:
            client.preflight(endpoint, timeout=5)
    finally:
        server.close()
    message = str(caught.value)
    assert "did not answer with an OpenAI model list (got text/html: '<!DOCTYPE html>" in message
    assert "_set_private_attributes" not in message


def test_answer_slower_than_the_timeout_is_a_timeout():
    server = _Server(_SlowStream)
    try:
        endpoint = Endpoint(alias="m", name="m", served_name="m", api_url=server.url, request_timeout=1.0)
        result = client.chat(endpoint, "hello")
    finally:
        server.close()
    assert result.error == f"timed out after 1s waiting for {server.url}"


def test_judge_that_failed_every_request_is_reported_as_failed(bench):
    with EchoServer("sk-judge-key-0123456789", error_when=("",)) as judge:
        result = bench.runpytest("--model", "demo", "--judge-model", "echo", "--judge-url", judge.base_url,
                                 "--results-dir", "out", "-k", "zmq")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["llmbench: judge echo gave no verdict on any of 2 check(s): "
                                 "judge request failed: HTTP 401*"])
    assert "disagreed" not in result.stdout.str()


def test_sweep_in_which_every_request_failed_exits_non_zero(tmp_path):
    with EchoServer("sk-sweep-key-0123456789") as server:   # every throughput request gets HTTP 401
        proc = subprocess.run(
            [sys.executable, "-m", "llmbench", "sweep", "--model", "echo", "--api-url", server.base_url,
             "--levels", "1,2", "--requests-per-client", "1", "--warmup", "0", "--max-tokens", "8",
             "--out", str(tmp_path / "sweep")],
            capture_output=True, text=True, timeout=120, env={**os.environ, "OPENAI_API_KEY": ""})
    assert proc.returncode == 2
    assert "llmbench: every request failed, so nothing was measured; first error: HTTP 401" in proc.stderr
    _one_clean_line(proc.stderr)


def test_a_connection_error_the_sdk_did_not_wrap_is_still_cannot_reach(monkeypatch):
    class Models:
        def list(self):
            raise ConnectionRefusedError(111, "Connection refused")

    class Client:
        models = Models()

    monkeypatch.setattr(client, "make_client", lambda endpoint, timeout=None: Client())
    endpoint = Endpoint(alias="m", name="m", served_name="m", api_url="http://127.0.0.1:9/v1")
    with pytest.raises(client.PreflightError, match=r"cannot reach http://127.0.0.1:9/v1 \(.*Connection refused\)"):
        client.preflight(endpoint)
