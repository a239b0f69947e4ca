"""Workloads: token lengths (fixed, drawn, calibrated), shared prefix, replayed prompts, the coding set."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from throughput_helpers import FAST_CURVE

from llmbench.sim.server import start_background
from llmbench.throughput import workload
from llmbench.throughput.loop import LoadSpec, run_client
from llmbench.throughput.workload import Lengths, WorkloadError, WorkloadSpec, build_plan, parse_lengths


@pytest.fixture(scope="module")
def sim():
    with start_background(capacity_curve=FAST_CURVE) as handle:
        yield handle


def test_lengths_parse_fixed_and_distributions():
    assert parse_lengths("512") == Lengths(512)
    assert parse_lengths("mean=512,stdev=128,min=64,max=2048") == Lengths(512, 128.0, 64, 2048)


@pytest.mark.parametrize("text", ["0", "stdev=3", "mean=10,max=5,min=8", "mean=ten", "mean=10,median=3", "-5"])
def test_bad_lengths_are_refused(text):
    with pytest.raises(WorkloadError):
        parse_lengths(text)


def test_drawn_lengths_are_seeded_clipped_and_spread():
    dist = parse_lengths("mean=100,stdev=50,min=20,max=150")
    a = [dist.draw(random.Random(1)) for _ in range(1)] + [dist.draw(r) for r in [random.Random(2)] for _ in range(999)]
    b = [dist.draw(random.Random(1)) for _ in range(1)] + [dist.draw(r) for r in [random.Random(2)] for _ in range(999)]
    assert a == b and min(a) == 20 and max(a) == 150 and len(set(a)) > 50


def test_prompts_file_reads_prompt_and_messages(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "hello", "max_tokens": 7}\n\n'
                    '{"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]}\n')
    items = workload.read_prompts(str(path))
    assert items[0] == ("hello", 7) and items[1][0][0]["role"] == "system" and items[1][1] is None
    plan = build_plan(WorkloadSpec(prompts=str(path)), "unused", 33)
    assert [mt for _, mt in plan.items] == [7, 33]


@pytest.mark.parametrize("line,why", [
    ("not json", ":1: not a JSON object"), ('{"max_tokens": 3}', "needs a non-empty"),
    ('{"prompt": "x", "max_tokens": 0}', "max_tokens must be"), ('{"messages": [{"content": "x"}]}', "messages must be"),
])
def test_bad_prompts_file_names_the_line(tmp_path, line, why):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(WorkloadError, match=why):
        workload.read_prompts(str(path))


def test_shipped_coding_set_is_made_from_the_projects_material():
    shipped = [json.loads(line) for line in workload.CODING_FILE.read_text(encoding="utf-8").splitlines()]
    assert shipped == workload.coding_traffic()     # scripts/make_coding_traffic.py rewrites it
    assert len(shipped) >= 30 and len({len(i["prompt"]) for i in shipped}) > 5
    assert any("stratum_server.py" in i["prompt"] for i in shipped)


def test_calibration_reads_the_servers_token_count(sim):
    # the built-in server counts a token per 4 characters of the messages
    cal = workload.calibrate(sim.base_url, "demo")
    assert cal["tokens_per_char"] == pytest.approx(0.25) and cal["overhead_tokens"] == pytest.approx(0, abs=0.5)


def test_fixed_input_length_is_met_and_the_prefix_is_shared(sim):
    ws = WorkloadSpec(input_tokens="200", prefix_tokens=50, output_tokens="mean=12,stdev=4,min=4,max=20", seed=3)
    spec = LoadSpec(api_url=sim.base_url, model="demo", requests=6, warmup=0, workload=ws.as_dict())
    result = run_client(spec, client=0)
    records = result["records"]
    assert all(r["error"] is None for r in records)
    assert all(abs(r["prompt_tokens"] - 200) <= 1 for r in records)
    assert [r["output_tokens"] for r in records] == [r["max_tokens"] for r in records]
    assert len({r["max_tokens"] for r in records}) > 1
    plan = build_plan(ws, "x", 10, result["workload"]["calibration"])
    prefix = plan.items[0][0][:200]
    assert all(p.startswith(prefix) for p, _ in plan.items) and len({p for p, _ in plan.items}) > 100


def test_clients_take_different_items():
    plan = build_plan(WorkloadSpec(prompts="coding"), "x", 10)
    taken = [plan.item(client, seq, 3) for seq in range(4) for client in range(3)]
    assert len({p for p, _ in taken}) == 12


def test_sweep_replays_the_coding_set_and_reports_achieved_lengths(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "llmbench", "sweep", "--model", "demo", "--levels", "2",
                           "--prompts", "coding", "--output-tokens", "32", "--min-seconds", "1",
                           "--capacity-curve", "1:1000,2:1600", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    level = sweep["levels"][0]
    assert level["workload"]["source"] == "coding" and level["requests"] >= 8 and level["errors"] == 0
    assert level["lengths"]["output_tokens"]["mean"] == 32 and level["lengths"]["input_tokens"]["n"] == level["requests"]
    assert level["lengths"]["input_tokens"]["p90"] > level["lengths"]["input_tokens"]["p50"] > 100
    md = (tmp_path / "scaling.md").read_text()
    assert "Workload: the shipped coding requests" in md and "output tokens 32 per request" in md
    assert level["aggregate_tok_s"] == pytest.approx(level["engine_truth"]["window_tok_s"], rel=0.03)


def test_sweep_refuses_a_bad_prompts_file_in_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n")
    proc = subprocess.run([sys.executable, "-m", "llmbench", "sweep", "--model", "demo", "--prompts", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "bad.jsonl:1: needs a non-empty" in proc.stderr
    assert proc.stderr.count("\n") == 1
