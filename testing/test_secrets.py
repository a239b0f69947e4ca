"""The API key never leaves the process, even when the server echoes it; escapes never reach the terminal.

The server (echo_server.py) puts the key, a starred form of it and terminal escape
sequences into its error bodies and into an answer. After a quality + throughput run,
a sweep, and a failed pre-flight check, every written file and all terminal output are
searched for the key, its starred form and the escape characters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from echo_server import EchoServer, masked

from llmbench import redact
from llmbench.textsafety import for_pytest_terminal, for_terminal, one_line

KEY = "sk-proj-Qw3rTy8uIoP4aSdF9gHjKl2zXcVbNm7"
REPO = Path(__file__).resolve().parents[1]
KEY_FORMS = (KEY, masked(KEY), KEY[8:30])
TERMINAL_FORBIDDEN = KEY_FORMS + ("\x1b", "\x9b", "owned-title", "\rOVERWRITTEN")


def _leaks(text: str, forbidden=KEY_FORMS) -> list[str]:
    return [repr(f) for f in forbidden if f in text]


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture(autouse=True)
def _no_secrets_left_behind():
    yield
    redact.forget_all()


def test_redact_replaces_the_key_and_its_starred_forms_by_value():
    redact.add_secret(KEY)
    text = f"Incorrect API key provided: {KEY}. Also {masked(KEY)}, sk-p•••••bNm7 and sk-...VbNm7"
    assert redact.redact(text) == ("Incorrect API key provided: [REDACTED]. Also [REDACTED], "
                                   "[REDACTED] and [REDACTED]")
    assert redact.redact("the task...about sk- and ***") == "the task...about sk- and ***"
    assert redact.redact_data({"a": [KEY, {KEY: 1}]}) == {"a": ["[REDACTED]", {"[REDACTED]": 1}]}


def test_a_key_with_characters_json_escapes_is_redacted_from_json_text():
    odd = 'sk-with"quote\\and-backslash-42'
    redact.add_secret(odd)
    assert redact.redact(json.dumps({"error": f"bad key {odd}"})) == '{"error": "bad key [REDACTED]"}'


def test_short_placeholder_keys_are_not_redacted_everywhere():
    redact.add_secret("EMPTY")
    assert redact.redact("EMPTY answers are failures") == "EMPTY answers are failures"


def test_terminal_text_loses_escapes_and_controls_but_keeps_lines():
    text = "a\x1b]0;owned-title\x07b\x1b[2Jc\x9b31md\re\tf\ng\u202eh\x00"
    assert for_terminal(text) == "abc31mde\tf\ngh"
    assert one_line("x\ny\tz") == "x y z"
    # pytest's own colours survive the wide net, nothing else does
    assert for_pytest_terminal("\r\x1b[31mred\x1b[0m\x1b[2J\x1b]0;t\x07\rX") == "\r\x1b[31mred\x1b[0mX"


def test_quality_and_throughput_run_writes_and_prints_no_key(bench):
    bench.makepyfile(test_throughput=(REPO / "tests" / "throughput" / "test_throughput.py").read_text())
    with EchoServer(KEY) as server:
        result = bench.runpytest_subprocess(
            "--model", "echo", "--api-url", server.base_url, "--api-key", KEY, "--results-dir", "out",
            "-k", "zmq or pplns or throughput", "--max-tokens", "16", "--throughput-requests", "1",
            "--throughput-warmup", "0", "-v")
    output = result.stdout.str() + result.stderr.str()
    assert "Incorrect API key provided: [REDACTED]" in output   # the error reached the terminal, redacted
    assert _leaks(output, TERMINAL_FORBIDDEN) == []
    run = next((bench.path / "out").glob("*/"))
    written = {p.relative_to(run).as_posix(): p.read_text(errors="replace") for p in _files(run)}
    assert {"results.json", "report.html", "answers/zmq.0.json", "answers/pplns.0.json",
            "throughput-c1/throughput.json", "throughput-c1/records.jsonl"} <= set(written)
    for name, text in written.items():
        assert _leaks(text) == [], name
    assert "[REDACTED]" in written["answers/pplns.0.json"]      # the answer that repeated the key
    assert "[REDACTED]" in written["throughput-c1/records.jsonl"]  # the throughput error body


def test_sweep_writes_and_prints_no_key(tmp_path):
    env = {**os.environ, "OPENAI_API_KEY": KEY}
    with EchoServer(KEY) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "llmbench", "sweep", "--model", "echo", "--api-url", server.base_url,
             "--levels", "1", "--requests-per-client", "1", "--warmup", "0", "--max-tokens", "8",
             "--out", str(tmp_path / "sweep")],
            capture_output=True, text=True, env=env, timeout=120)
    assert _leaks(proc.stdout + proc.stderr, TERMINAL_FORBIDDEN) == []
    files = _files(tmp_path / "sweep")
    assert any(p.name == "records.jsonl" for p in files)
    for path in files:
        if path.suffix != ".png":
            assert _leaks(path.read_text(errors="replace")) == [], path
    assert any("[REDACTED]" in p.read_text() for p in files if p.name == "records.jsonl")


def test_preflight_error_echoing_the_key_is_one_clean_line(bench):
    with EchoServer(KEY, models_error=True) as server:
        result = bench.runpytest_subprocess("--model", "echo", "--api-url", server.base_url,
                                            "--api-key", KEY, "--results-dir", "out")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret != 0
    assert _leaks(output, TERMINAL_FORBIDDEN) == []
    assert "Traceback" not in output


def test_hostile_model_name_reaches_the_terminal_inert(bench):
    with EchoServer(KEY) as server:
        result = bench.runpytest_subprocess("--model", "evil\x1b]0;owned-title\x07\x1b[2J",
                                            "--api-url", server.base_url, "--results-dir", "out")
    output = result.stdout.str() + result.stderr.str()
    assert "is not served at" in output
    assert _leaks(output, TERMINAL_FORBIDDEN) == []
