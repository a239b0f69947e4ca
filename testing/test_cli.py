"""The ``llmbench`` command line: grade, prompt, dispatch and errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from llmbench.tasks import TASK_NAMES, get_task


def llmbench(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmbench", *args], capture_output=True, text=True,
                          input=stdin, timeout=120)


@pytest.mark.parametrize("task", TASK_NAMES)
def test_grade_prints_every_check_and_an_echo_passes_none(task, tmp_path):
    answer = tmp_path / "echo.md"
    answer.write_text(get_task(task).prompt())
    run = llmbench("grade", task, str(answer))
    assert run.returncode == 0, run.stderr
    verdicts = json.loads(run.stdout)
    assert list(verdicts) == get_task(task).check_ids
    # the shape outside validation reads, plus what decided each verdict and the fix run
    assert all({"passed", "evidence", "kind", "execution"} <= set(v) <= {"passed", "evidence", "kind", "rule", "execution"}
               for v in verdicts.values())
    assert all(set(v["execution"]) >= {"status", "probe", "detail"} for v in verdicts.values())
    assert [c for c, v in verdicts.items() if v["passed"]] == []


def test_grade_reference_answer_with_think_block_passes_all(tmp_path):
    task = get_task("stratum")
    answer = tmp_path / "a.md"
    answer.write_text("<think>the byte order of previousblockhash in _build_header</think>\n" + task.reference_answer())
    verdicts = json.loads(llmbench("grade", "stratum", str(answer)).stdout)
    assert all(v["passed"] for v in verdicts.values()), verdicts


def test_grade_reasoning_only_findings_fail(tmp_path):
    task = get_task("stratum")
    answer = tmp_path / "a.md"
    answer.write_text(f"<think>{task.reference_answer()}</think>\nI found some issues; see above.")
    verdicts = json.loads(llmbench("grade", "stratum", str(answer)).stdout)
    assert not any(v["passed"] for v in verdicts.values())


def test_grade_empty_answer_says_so(tmp_path):
    answer = tmp_path / "a.md"
    answer.write_text("<think>all tokens spent thinking")
    verdicts = json.loads(llmbench("grade", "zmq", str(answer)).stdout)
    assert {v["evidence"] for v in verdicts.values()} == {"no final answer: all output was reasoning"}


def test_grade_reads_stdin():
    run = llmbench("grade", "zmq", "-", stdin=get_task("zmq").reference_answer())
    assert run.returncode == 0 and all(v["passed"] for v in json.loads(run.stdout).values())


@pytest.mark.parametrize("args", [("grade",), ("grade", "nosuchtask", "x.md"), ("grade", "zmq")])
def test_grade_bad_arguments_exit_2(args):
    run = llmbench(*args)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr


def test_grade_missing_file_exit_2(tmp_path):
    run = llmbench("grade", "zmq", str(tmp_path / "missing.md"))
    assert run.returncode == 2
    assert run.stderr.startswith("llmbench: cannot read") and "Traceback" not in run.stderr


@pytest.mark.parametrize("task", TASK_NAMES)
def test_prompt_prints_exactly_what_the_suite_sends(task):
    run = llmbench("prompt", task)
    assert run.returncode == 0
    assert run.stdout.rstrip("\n") == get_task(task).prompt().rstrip("\n")


def test_unknown_command_and_help():
    run = llmbench("frobnicate")
    assert run.returncode == 2 and "unknown command 'frobnicate'" in run.stderr
    help_run = llmbench("--help")
    assert help_run.returncode == 0
    for command in ("grade", "prompt", "sim", "sweep", "report", "serve", "patches", "regrade"):
        assert f"  {command}" in help_run.stdout


def test_version_is_the_packages_version():
    from importlib.metadata import version

    from llmbench import __version__

    run = llmbench("--version")
    assert run.returncode == 0
    assert run.stdout == f"llmbench {__version__}\n"
    assert version("llmbench") == __version__


@pytest.mark.parametrize("args", [["--help"], ["prompt", "stratum"], ["serve", "list"]])
def test_a_reader_that_leaves_early_is_no_error(args):
    """`llmbench … | head`: the pipe closes before the output is written; no traceback, exit 0."""
    proc = subprocess.Popen([sys.executable, "-m", "llmbench", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert stderr == ""


def test_pytest_help_lists_options_in_one_group(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines([
        "llmbench: LLM quality and throughput benchmark:",
        "*--model=MODEL*",
        "*--api-url=API_URL*",
        "*--api-key=API_KEY*",
        "*--samples=N*",
        "*--results-dir=DIR*",
        "*--replay=RESULTS_JSON*",
        "*--throughput-requests=N*",
    ])
