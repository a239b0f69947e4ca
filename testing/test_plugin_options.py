"""The plugin's scope and options: idle without --model, sentences for bad values,
value-taking options safe in the space form, ``--lf`` without asking the model again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _pytest(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:randomly", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args,message", [
    (["--samples", "0"], "argument --samples: expected a whole number of 1 or more, got 0"),
    (["--throughput-requests", "0"], "argument --throughput-requests: expected a whole number of 1 or more, got 0"),
    (["--max-tokens", "-5"], "argument --max-tokens: expected a whole number of 1 or more, got -5"),
    (["--throughput-warmup", "-1"], "argument --throughput-warmup: expected a whole number of 0 or more, got -1"),
    (["--samples", "two"], "argument --samples: expected a whole number, got 'two'"),
    (["--pass-rate", "1.5"], "argument --pass-rate: expected a rate above 0 and at most 1 (e.g. 0.6), got 1.5"),
    (["--request-timeout", "0"], "argument --request-timeout: expected more than 0 seconds, got 0"),
    (["--temperature", "hot"], "argument --temperature: expected a temperature (a number), got 'hot'"),
])
def test_a_bad_value_is_refused_with_a_sentence(pytester, args, message):
    result = pytester.runpytest_subprocess("--model", "demo", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert "invalid" not in result.stderr.str() and "_" + "positive" not in result.stderr.str()


def test_an_unrelated_project_sees_nothing_of_llmbench(pytester, tmp_path):
    """Installed but not asked: no output, no heavy imports, no files."""
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    pytester.makeconftest(
        "import json, sys\n"
        "def pytest_sessionfinish(session):\n"
        "    heavy = sorted(m for m in ('openai', 'yaml', 'matplotlib', 'filelock', 'llmbench.plugin.session',\n"
        "                               'llmbench.plugin.throughput') if m in sys.modules)\n"
        "    open('heavy.json', 'w').write(json.dumps(heavy))\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = _pytest("-rA", cwd=pytester.path, env={"TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stdout + result.stderr
    ours = [line for line in (result.stdout + result.stderr).splitlines()
            if "llmbench" in line.lower() and not line.startswith(("plugins:", "rootdir:"))]  # pytest's own header
    assert ours == []
    assert json.loads((pytester.path / "heavy.json").read_text()) == []
    assert list(scratch.iterdir()) == []  # no barrier folder
    assert not (pytester.path / "reports").exists()
    # The same run without llmbench leaves the same files behind (pytest's cache, pytest-benchmark's folder).
    with_llmbench = sorted(p.relative_to(pytester.path).as_posix() for p in pytester.path.rglob("*")
                           if "__pycache__" not in p.parts)
    for path in sorted(pytester.path.iterdir(), reverse=True):
        if path.name not in ("test_plain.py", "conftest.py"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    without = _pytest("-rA", "-p", "no:llmbench", cwd=pytester.path, env={"TMPDIR": str(scratch)})
    assert without.returncode == 0
    assert sorted(p.relative_to(pytester.path).as_posix() for p in pytester.path.rglob("*")
                  if "__pycache__" not in p.parts) == with_llmbench


# -- value-taking options in the space form (pytest-dev/pytest#8846) ------------------------------
@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> Path:
    """One real demo run (one check), for --replay."""
    out = tmp_path_factory.mktemp("saved")
    result = _pytest("--model", "demo", "--results-dir", f"{out}", "-k", "stratum.byte_order", "-q", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    return next(out.glob("*/results.json"))


def _collected(result: subprocess.CompletedProcess) -> list[str]:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return sorted(line for line in result.stdout.splitlines() if "::" in line)


@pytest.mark.parametrize("where", ["repository root", "another directory"])
@pytest.mark.parametrize("option", ["--results-dir", "--models-file", "--replay", "--throughput-out"])
def test_space_and_equals_forms_collect_the_same_items(option, where, saved_run, tmp_path):
    values = {"--results-dir": tmp_path, "--models-file": REPO / "models.yaml", "--replay": saved_run,
              "--throughput-out": tmp_path}
    value = str(values[option])
    model = [] if option == "--replay" else ["--model", "demo"]
    if where == "repository root":
        cwd, target = REPO, []
    else:
        cwd, target = tmp_path, [str(REPO / "tests")]
    common = [*target, *model, "--co", "-q", "--results-dir", str(tmp_path / "runs")] if option != "--results-dir" \
        else [*target, *model, "--co", "-q"]
    spaced = _collected(_pytest(*common, option, value, cwd=cwd))
    joined = _collected(_pytest(*common, f"{option}={value}", cwd=cwd))
    assert spaced == joined
    assert len(joined) == 23 and all("tests/" in line for line in joined)


# -- --lf reruns the failed checks from the stored answers -------------------------------------------
def test_last_failed_reruns_failed_checks_without_asking_the_model(pytester, start_sim):
    for source in sorted((REPO / "tests" / "quality").glob("test_*.py")):
        pytester.path.joinpath(source.name).write_text(source.read_text())
    pytester.path.joinpath("pytest.ini").write_text("[pytest]\nmarkers =\n    llmbench: benchmark\n")
    handle = start_sim(instant=True)
    base = ("--model", "demo", "--api-url", handle.base_url, "--results-dir", "out", "-k", "pplns")

    first = pytester.runpytest_subprocess(*base)
    assert first.parseoutcomes().get("failed", 0) == 0
    requests_after_first = len(handle.stats()["requests"])
    assert requests_after_first == 1
    run = max((pytester.path / "out").iterdir())
    stored = run / "answers" / "pplns.0.json"
    answer = json.loads(stored.read_text())
    answer["raw_content"] = answer["answer"] = "The code looks correct to me."
    stored.write_text(json.dumps(answer))

    second = pytester.runpytest_subprocess(*base, "--lf")  # nothing failed yet: all run, from the stored answer
    failed = second.parseoutcomes().get("failed", 0)
    assert failed >= 1
    third = pytester.runpytest_subprocess(*base, "--lf")
    outcomes = third.parseoutcomes()
    assert outcomes.get("failed") == failed and "passed" not in outcomes  # only the failed checks ran
    third.stdout.fnmatch_lines(["*run-last-failure: rerun previous*"])
    assert len(handle.stats()["requests"]) == requests_after_first  # the model was not asked again
    newest = max((pytester.path / "out").iterdir())
    assert json.loads((newest / "answers" / "pplns.0.json").read_text())["source"]["reused_from"]

    fresh = pytester.runpytest_subprocess(*base)  # without --lf/--sw a run asks the model again
    fresh.assert_outcomes(passed=failed + second.parseoutcomes().get("passed", 0))
    assert len(handle.stats()["requests"]) == requests_after_first + 1


def test_collect_only_with_a_model_creates_nothing(tmp_path):
    """Listing the benchmark's tests checks the model name but starts no server and writes no run or report."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    results = tmp_path / "results"
    listed = _pytest(str(REPO / "tests"), "--model", "demo", "--collect-only", "-q", "-p", "no:cacheprovider",
                     f"--results-dir={results}", cwd=tmp_path, env={"TMPDIR": str(scratch)})
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "23 tests collected" in listed.stdout
    assert not results.exists()
    assert list(scratch.iterdir()) == []  # no barrier folder


def test_serving_metadata_options_are_prefixed_and_reach_the_results(pytester):
    for source in sorted((REPO / "tests" / "quality").glob("test_zmq*.py")):
        pytester.path.joinpath(source.name).write_text(source.read_text())
    old = pytester.runpytest_subprocess("--model", "demo", "--tp", "8")
    assert old.ret == pytest.ExitCode.USAGE_ERROR  # generic names are left to other plugins
    run = pytester.runpytest_subprocess("--model", "demo", "-p", "no:cacheprovider", "--results-dir=out",
                                        "--serving-tp", "8", "--serving-gpu", "8x RTX A4000",
                                        "--serving-framework", "vLLM 0.14", "--serving-quant", "AWQ",
                                        "--serving-context", "65536")
    assert run.ret == 0, run.stdout.str()
    results = json.loads(next((pytester.path / "out").glob("*/results.json")).read_text())
    assert results["serving"] == {"framework": "vLLM 0.14", "tp": 8, "quant": "AWQ", "context": 65536,
                                  "gpu": "8x RTX A4000"}
