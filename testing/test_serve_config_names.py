"""`serve plan` on configs that name the MLP differently, and absurd GPU counts: a plan or one clear line."""

from __future__ import annotations

import json

import pytest

from llmbench.cli import serve as serve_cli
from llmbench.paths import serve_dir
from llmbench.serve import modelspec

BASE = {"hidden_size": 1024, "num_attention_heads": 16, "num_hidden_layers": 4, "vocab_size": 32000}


@pytest.mark.parametrize("key", ["intermediate_size", "ffn_dim", "ffn_hidden_size", "n_inner", "d_ff"])
def test_the_dense_mlp_is_counted_whatever_the_config_calls_it(key):
    spec = modelspec.from_dict({**BASE, key: 4096})
    assert spec.intermediate == 4096


def test_gpt2_null_n_inner_means_four_times_the_width():
    assert modelspec.from_dict({**BASE, "n_inner": None}).intermediate == 4 * 1024


def test_a_config_without_any_mlp_width_is_one_clear_line(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(BASE))
    code = serve_cli.main(["plan", str(path), "--gpus", "2", "--gpu-mem-gib", "16"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no dense MLP width" in err and "ffn_dim" in err


def test_ffn_dim_weighs_as_much_as_intermediate_size(tmp_path, capsys):
    """The same model, its MLP named two ways, gets the same weight figure (not one without its MLP)."""
    sizes = []
    for key in ("intermediate_size", "ffn_dim"):
        path = tmp_path / f"{key}.json"
        path.write_text(json.dumps({**BASE, key: 4096}))
        assert serve_cli.main(["plan", str(path), "--gpus", "2", "--gpu-mem-gib", "16", "--json"]) == 0
        sizes.append(capsys.readouterr().out)
    assert sizes[0] == sizes[1].replace("ffn_dim", "intermediate_size")


def test_absurd_gpu_counts_are_refused_in_one_line(capsys):
    config = str(serve_dir() / "configs" / "qwen3-32b.json")
    code = serve_cli.main(["plan", config, "--gpus", "100000", "--gpu-mem-gib", "16"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--gpus must be at most 256" in err
