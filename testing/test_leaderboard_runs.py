"""Reading run files and joining them into rows (runs.py, merge.py)."""

from __future__ import annotations

import json

import pytest
from leaderboard_helpers import full_marks, write_quality_run, write_sweep

from llmbench.leaderboard.merge import merge_runs
from llmbench.leaderboard.runs import find_run_files, load_registry, load_run
from llmbench.paths import default_models_file


@pytest.fixture(scope="module")
def registry():
    return load_registry(default_models_file())


def load_all(root, registry, all_runs=False):
    return merge_runs([load_run(p, registry) for p in find_run_files([root])], all_runs=all_runs)


def test_quality_and_sweep_of_one_setup_join_into_one_row(tmp_path, registry):
    write_quality_run(tmp_path, "q1")
    write_sweep(tmp_path, "s1")
    [row] = load_all(tmp_path, registry)
    assert row.name == "Qwen3-Coder-30B-A3B"
    assert row.quality.percent == 100.0 and row.quality.score == 22
    assert (row.single, row.peak, row.throughput.peak_concurrency) == (180.0, 1025.0, 32)
    assert {s.kind for s in row.sources} == {"quality", "sweep"}


@pytest.mark.parametrize("field,value", [("quant", "GPTQ"), ("tp", 8), ("framework", "sglang"), ("gpu", "1x RTX 4090")])
def test_a_different_serving_field_keeps_runs_apart(tmp_path, registry, field, value):
    write_quality_run(tmp_path, "q1")
    write_sweep(tmp_path, "s1", **{field: value})
    rows = load_all(tmp_path, registry)
    assert len(rows) == 2
    assert sorted(r.quality is None for r in rows) == [False, True]


def test_old_sweep_with_alias_string_and_no_serving_joins_and_gets_display_name(tmp_path, registry):
    write_quality_run(tmp_path, "q1")
    write_sweep(tmp_path, "s-old", model_as_alias_string=True, with_serving=False)
    [row] = load_all(tmp_path, registry)
    assert row.name == "Qwen3-Coder-30B-A3B"      # alias -> registry display name
    assert row.peak == 1025.0 and row.quality is not None


def test_sweep_alone_with_missing_serving_fields_is_a_row_with_blanks(tmp_path, registry):
    write_sweep(tmp_path, "s1", alias="my-local-model", name=None, model_as_alias_string=True, with_serving=False,
                with_summary=False, levels={1: 50.0, 4: 150.0, 2: 90.0})
    [row] = load_all(tmp_path, registry)
    assert row.name == "my-local-model"
    assert row.setup.quant is None and row.setup.tp is None and row.setup.gpu is None
    # Summary fields absent: derived from the levels.
    assert (row.single, row.peak, row.throughput.peak_concurrency) == (50.0, 150.0, 4)
    assert list(row.throughput.levels) == [1, 2, 4]


def test_newest_run_wins_per_setup_unless_all(tmp_path, registry):
    write_quality_run(tmp_path, "old", started_at="2026-11-01T10:00:00+00:00",
                      passes={**full_marks(), "stratum": [3]})
    write_quality_run(tmp_path, "new", started_at="2026-11-02T10:00:00+00:00")
    [row] = load_all(tmp_path, registry)
    assert row.sources[0].run_id == "new" and row.quality.score == 22
    rows = load_all(tmp_path, registry, all_runs=True)
    assert sorted(r.quality.score for r in rows) == [20, 22]


def test_complete_run_beats_a_newer_interrupted_one(tmp_path, registry):
    write_quality_run(tmp_path, "done", started_at="2026-11-01T10:00:00+00:00")
    write_quality_run(tmp_path, "crashed", started_at="2026-11-03T10:00:00+00:00", status="interrupted",
                      passes={"zmq": [2]})
    [row] = load_all(tmp_path, registry)
    assert row.sources[0].run_id == "done"


def test_with_all_a_sweep_joins_the_quality_run_closest_in_time(tmp_path, registry):
    write_quality_run(tmp_path, "q-nov01", started_at="2026-11-01T10:00:00+00:00")
    write_quality_run(tmp_path, "q-nov10", started_at="2026-11-10T10:00:00+00:00")
    write_sweep(tmp_path, "s-nov09", started_at="2026-11-09T10:00:00+00:00")
    rows = load_all(tmp_path, registry, all_runs=True)
    joined = {r.sources[0].run_id: r.throughput is not None for r in rows}
    assert joined == {"q-nov01": False, "q-nov10": True}


def test_repeated_samples_give_means_and_intervals(tmp_path, registry):
    passes = {**full_marks(), "stratum": [5, 4, 3], "hiveos": [8, 8, 8], "zmq": [2, 2, 2],
              "pplns": [3, 3, 3], "payment": [4, 4, 4]}
    write_quality_run(tmp_path, "q3", passes=passes)
    [row] = load_all(tmp_path, registry)
    q = row.quality
    assert q.n_samples == 3
    assert q.score == pytest.approx(21.0)               # totals 22, 21, 20
    assert q.low < 21.0 < q.high and q.low >= 0 and q.high <= 22
    stratum = q.tests["stratum"]
    assert stratum.score == pytest.approx(4.0) and stratum.low < 4.0 < stratum.high <= 5
    assert q.tests["zmq"].low == q.tests["zmq"].high == 2    # no spread, no width


def test_deselected_tests_shrink_the_maximum(tmp_path, registry):
    write_quality_run(tmp_path, "q", passes={"zmq": [1], "stratum": [5]})
    [row] = load_all(tmp_path, registry)
    assert (row.quality.score, row.quality.max) == (6, 7)
    assert set(row.quality.tests) == {"zmq", "stratum"}


@pytest.mark.parametrize("content,reason", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not a run file"),
    (json.dumps({"kind": "quality", "tests": {}, "totals": {}}), "without results"),
    (json.dumps({"kind": "sweep", "levels": []}), "without any measured level"),
    (json.dumps({"kind": "mystery"}), "unknown run kind"),
])
def test_unusable_files_raise_a_short_reason(tmp_path, registry, content, reason):
    path = tmp_path / "r" / "results.json"
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(ValueError, match=reason):
        load_run(path, registry)


def test_wrong_types_in_fields_become_blanks_not_crashes(tmp_path, registry):
    path = write_sweep(tmp_path, "s")
    data = json.loads(path.read_text())
    data["serving"] = {"tp": "eight", "quant": ["AWQ"], "context": "lots", "gpu": {"x": 1}}
    data["levels"].append({"concurrency": "x", "aggregate_tok_s": None})
    path.write_text(json.dumps(data))
    run = load_run(path, registry)
    assert (run.setup.tp, run.setup.quant, run.setup.gpu, run.context) == (None, None, None, None)
    assert run.throughput.peak_tok_s == 1025.0


def test_discovery_skips_the_output_folder_and_other_files(tmp_path):
    write_quality_run(tmp_path, "q")
    write_sweep(tmp_path / "leaderboard", "copy")
    (tmp_path / "q" / "other.json").write_text("{}")
    found = find_run_files([tmp_path], exclude=tmp_path / "leaderboard")
    assert [p.name for p in found] == ["results.json"]


def test_same_alias_joins_even_when_producers_word_the_name_differently(tmp_path, registry):
    write_quality_run(tmp_path, "q", alias="demo", name="demo (built-in server)", gpu=None, quant=None, tp=None)
    write_sweep(tmp_path, "s", alias="demo", name="demo", gpu=None, quant=None, tp=None)
    [row] = load_all(tmp_path, registry)
    assert row.name == "demo (built-in server)" and row.quality and row.throughput


def test_different_models_never_join(tmp_path, registry):
    write_quality_run(tmp_path, "q", alias="a", name="Model-A")
    write_sweep(tmp_path, "s", alias="b", name="Model-B")
    assert len(load_all(tmp_path, registry)) == 2
