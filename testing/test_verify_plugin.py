"""Fix runs inside a benchmark run: results.json, the terminal line, --no-exec, replay's regrade."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sandbox_helpers import needs_sandbox, require_sandbox  # noqa: F401 - the fixture needs_sandbox uses

from llmbench.cli import regrade
from llmbench.verify import runner
from llmbench.verify.runner import Verifier

TEST_PROBES = Path(__file__).resolve().parent / "verify_probes"
pytestmark = needs_sandbox


@pytest.fixture(autouse=True)
def test_probes(monkeypatch):
    monkeypatch.setattr(runner, "PROBES_DIR", TEST_PROBES)
    runner._MEMORY.clear()
    yield
    runner._MEMORY.clear()


def test_a_demo_run_records_each_checks_fix_run(bench):
    result = bench.runpytest("--model", "demo", "--results-dir", "out", "-k", "payment or zmq or hiveos")
    result.assert_outcomes(passed=14)
    result.stdout.fnmatch_lines(["*llmbench: fix runs: each answer's code runs against behavioural probes*"])
    saved = next((bench.path / "out").glob("*/results.json"))
    data = json.loads(saved.read_text())
    checks = data["tests"]["payment"]["checks"]
    assert checks["payment.sql_injection"]["execution"]["status"] == "passed", checks["payment.sql_injection"]
    assert checks["payment.float_precision"]["per_sample"][0]["execution"]["probe"] == "fees_exact"
    assert checks["payment.race_condition"]["execution"]["status"] == "unavailable"   # no test probe for it
    assert data["execution"]["enabled"] is True
    # every check the test probes cover shows a passed run of the reference fix
    covered = {"zmq.fix_socket_in_thread", "payment.sql_injection", "payment.float_precision",
               "hiveos.manifest", "hiveos.directory"}
    runs = {c: v["execution"]["status"] for t in data["tests"].values() for c, v in t["checks"].items()}
    assert {c for c, status in runs.items() if status == "passed"} == covered
    html = next((bench.path / "out").glob("*/report.html")).read_text()
    assert "Fix run" in html and "history_is_parameterised" in html

    # regrade runs today's probes: a probe that now fails turns the saved pass into a failure
    failing = bench.path / "failing-probes"
    failing.mkdir()
    (failing / "payment_probe.py").write_text(
        'import json\nprint(json.dumps({"task": "payment", "results": [{"check": "payment.sql_injection", '
        '"probe": "strict", "status": "failed", "detail": "still injectable"}]}))\n')
    changes, _ = regrade.regrade(json.loads(saved.read_text()) | {"_path": str(saved)}, Verifier(probes_dir=failing))
    assert [(c["check"], c["before"], c["after"]) for c in changes] == [("payment.sql_injection", True, False)]
    assert changes[0]["after_evidence"].startswith("the fix fails when run (strict): still injectable")


def test_no_exec_runs_nothing_and_says_so(bench):
    result = bench.runpytest("--model", "demo", "--results-dir", "out", "-k", "sql_injection", "--no-exec")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*llmbench: fix runs: off (--no-exec)*"])
    data = json.loads(next((bench.path / "out").glob("*/results.json")).read_text())
    assert data["tests"]["payment"]["checks"]["payment.sql_injection"]["execution"]["detail"] == \
        "execution turned off (--no-exec)"
    assert not list((bench.path / "out").glob("*/verify/*.json"))
