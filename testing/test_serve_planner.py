"""`llmbench serve plan` reproduces the seed's serving facts from the shipped config.json values.

The configs under serve/configs/ carry the public config fields (provenance in
each file's "_llmbench" key). Every figure below is computed by the planner
from those fields; nothing is looked up per model.
"""

from __future__ import annotations

import json

import pytest

from llmbench.cli import serve as serve_cli
from llmbench.paths import serve_dir
from llmbench.serve import modelspec, planner, quant

GB = 1e9


def plan_json(capsys, *argv: str) -> dict:
    assert serve_cli.main(["plan", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def config(name: str) -> str:
    return str(serve_dir() / "configs" / f"{name}.json")


# The seed's "TP Compatibility Reference": config, the quantization of the ranking, Max TP.
SEED_MAX_TP = [
    ("devstral-2-123b", ["--quant", "awq"], 8),
    ("magistral-small-2509", ["--quant", "bf16"], 8),
    ("magistral-small-2506", ["--quant", "awq"], 8),
    ("qwen3-32b", ["--quant", "awq"], 8),
    ("seed-oss-36b", ["--quant", "awq"], 8),
    ("devstral-small-2-24b", ["--quant", "awq"], 8),
    ("gpt-oss-20b", [], 8),  # MXFP4 from the config's quantization_config
    ("qwen3-30b-a3b", ["--quant", "awq"], 4),
    ("qwen3-coder-30b-a3b", ["--quant", "awq"], 4),
    ("glm-4.7-flash", ["--quant", "awq"], 4),
    ("nanbeige4.1-3b", ["--quant", "bf16"], 4),
    ("exaone-4.0-32b", ["--quant", "gptq", "--group-size", "32"], 8),
]


@pytest.mark.parametrize("name, quant_args, max_tp", SEED_MAX_TP, ids=[m[0] for m in SEED_MAX_TP])
def test_seed_max_tp_column(capsys, name: str, quant_args: list[str], max_tp: int) -> None:
    """The seed's column under the seed's rule (a KV head per GPU at most)."""
    doc = plan_json(capsys, config(name), "--gpus", "8", "--gpu-mem-gib", "16", *quant_args,
                    "--kv-replication", "forbid")
    assert doc["max_tp"] == max_tp
    sizes = {entry["size"]: entry for entry in doc["tp"]}
    assert sorted(sizes) == list(range(1, 9))
    assert sizes[max_tp]["valid"] and sizes[max_tp]["reasons"] == []
    if max_tp < 8:
        assert not sizes[8]["valid"] and sizes[8]["reasons"]


def test_nemotron_at_tp_8_is_valid_by_default_with_kv_replication_stated(capsys) -> None:
    """The seed's table gives Nemotron-3-Nano 8 KV heads and Max TP 8; its public config has 2 KV heads.

    The seed ran it at TP 8, which vLLM allows by replicating each KV head on 4 GPUs: valid by
    default, and the row says what the replication costs. Under the seed's own no-replication
    rule (which gives Qwen3-30B-A3B's 4) the config allows TP 2.
    """
    spec = modelspec.load(config("nemotron-3-nano-30b-a3b"))
    assert (spec.heads, spec.kv_heads) == (32, 2)
    allow = plan_json(capsys, config("nemotron-3-nano-30b-a3b"), "--gpus", "8", "--gpu-mem-gib", "16")
    assert allow["max_tp"] == 8
    tp8 = allow["tp"][7]
    assert tp8["valid"] and tp8["reasons"] == []
    assert tp8["notes"] == ["TP 8 exceeds the 2 KV heads: KV heads replicated ×4 (each on 4 GPUs): "
                            "KV cache per token ×4 across the GPUs"]
    assert not any("replicated" in n for n in allow["tp"][1]["notes"])  # TP 2 = KV heads: nothing replicated
    # Per GPU, TP 8 holds one whole KV head, as TP 2 does: the per-GPU KV cost per token stops shrinking.
    assert tp8["kv_bytes_per_token_per_gpu"] == allow["tp"][1]["kv_bytes_per_token_per_gpu"]
    strict = plan_json(capsys, config("nemotron-3-nano-30b-a3b"), "--gpus", "8", "--gpu-mem-gib", "16",
                       "--kv-replication", "forbid")
    assert strict["max_tp"] == 2
    assert any("KV heads replicated ×4" in r and "forbid" in r for r in strict["tp"][7]["reasons"])
    # The seed's "~7.4GB/GPU at TP=8" for the 59GB BF16 model.
    assert allow["tp"][7]["weights_gib_per_gpu"] == pytest.approx(7.4, abs=0.2)
    assert allow["tp"][0]["weights_gib_per_gpu"] == pytest.approx(59, abs=1.5)


def test_qwen3_next_awq_needs_24_5_gb_per_gpu_and_does_not_fit_16gb(capsys) -> None:
    """Seed: "2 KV heads (max TP=2), 24.5GB/GPU exceeds 16GB".

    The shipped config's quantization_config is the experts-only 4-bit (group 32) shape of the
    community exports; the seed's figure matches in decimal GB.
    """
    doc = plan_json(capsys, config("qwen3-next-80b-a3b"), "--gpus", "8", "--gpu-mem-gib", "16", "--quant", "awq",
                    "--kv-replication", "forbid")
    assert doc["quant"]["group_size"] == 32  # from the config's quantization_config
    assert doc["max_tp"] == 2
    tp2 = doc["tp"][1]
    gb = tp2["weights_gib_per_gpu"] * 2**30 / GB
    assert gb == pytest.approx(24.5, rel=0.04)
    assert tp2["weights_gib_per_gpu"] > 16 and not tp2["fits"]
    assert doc["fits"] is False


def test_qwen3_next_would_fit_if_kv_heads_are_replicated(capsys) -> None:
    """The seed's conclusion rests on its no-replication rule: vLLM's replication allows TP 4 and 8."""
    doc = plan_json(capsys, config("qwen3-next-80b-a3b"), "--gpus", "8", "--gpu-mem-gib", "16",
                    "--quant", "awq", "--kv-replication", "allow", "--max-model-len", "32768")
    assert doc["max_tp"] == 8 and doc["fits"] is True
    assert doc["tp"][3]["valid"] and doc["tp"][3]["weights_gib_per_gpu"] < 13


@pytest.mark.parametrize("tool", ["awq", "gptq"])
def test_exaone_g128_fails_marlin_above_tp2_and_g32_is_aligned(capsys, tool: str) -> None:
    spec = modelspec.load(config("exaone-4.0-32b"))
    assert spec.intermediate == 27392 and 27392 // 8 == 3424 and 3424 % 128 != 0
    g128 = plan_json(capsys, config("exaone-4.0-32b"), "--gpus", "8", "--gpu-mem-gib", "16",
                     "--quant", tool, "--group-size", "128")
    assert g128["max_tp"] == 2
    by_size = {e["size"]: e for e in g128["tp"]}
    assert by_size[2]["valid"]
    for size, k in ((4, 6848), (8, 3424)):
        assert not by_size[size]["valid"]
        (reason,) = by_size[size]["reasons"]
        assert f"down_proj: per-GPU K={k}" in reason and f"{k} % 128 = {k % 128}" in reason
    assert "Marlin-aligned: K % 128 = 96" in by_size[8]["reasons"][0]

    g32 = plan_json(capsys, config("exaone-4.0-32b"), "--gpus", "8", "--gpu-mem-gib", "16",
                    "--quant", tool, "--group-size", "32")
    assert g32["max_tp"] == 8
    tp8 = g32["tp"][7]
    assert tp8["valid"] and tp8["reasons"] == []
    fallback = "exllama (needs --dtype float16)" if tool == "gptq" else "awq-gemm"
    assert any("down_proj: not Marlin-aligned (K=3424 % 128 = 96)" in n and fallback in n for n in tp8["notes"])


def test_magistral_fp8_kv_holds_1_25m_tokens_38_sequences_of_32k(capsys) -> None:
    """Seed: "Magistral: 1.25M tokens, 38x concurrency" with fp8 KV on 8x16 GB (the 14 GB AWQ 2506)."""
    doc = plan_json(capsys, config("magistral-small-2506"), "--gpus", "8", "--gpu-mem-gib", "16",
                    "--quant", "awq", "--kv-cache-dtype", "fp8", "--max-model-len", "32768")
    tp8 = doc["tp"][7]
    assert tp8["kv_bytes_per_token_per_gpu"] == 40 * 2 * 1 * 128 * 1  # 40 layers, K+V, 1 KV head/GPU, 128, fp8
    assert tp8["weights_gib_per_gpu"] * 2**30 / GB == pytest.approx(1.75, abs=0.1)  # "~1.75GB/GPU"
    assert tp8["kv_tokens"] == pytest.approx(1.25e6, rel=0.02)
    assert int(tp8["concurrency"]) == 38
    # bf16 KV halves both.
    auto = plan_json(capsys, config("magistral-small-2506"), "--gpus", "8", "--gpu-mem-gib", "16",
                     "--quant", "awq", "--max-model-len", "32768")
    assert auto["tp"][7]["kv_tokens"] == pytest.approx(tp8["kv_tokens"] / 2, abs=1)


def test_the_overhead_assumption_is_stated_and_moves_the_figure(capsys) -> None:
    base = ["plan", config("magistral-small-2506"), "--gpus", "8", "--gpu-mem-gib", "16", "--quant", "awq",
            "--kv-cache-dtype", "fp8", "--max-model-len", "32768"]
    assert serve_cli.main(base) == 0
    out = capsys.readouterr().out
    assert "0.8 GiB per GPU kept for activations" in out and "an assumption" in out
    assert "max TP: 8" in out and "38.2 concurrent sequences of 32768 tokens" in out
    more = plan_json(capsys, *base[1:], "--overhead-gib", "2")
    assert more["tp"][7]["kv_tokens"] < 1.15e6


# --- model-shape readings ---------------------------------------------------------


def test_mla_kv_cache_is_one_latent_per_layer_on_every_gpu() -> None:
    spec = modelspec.load(config("glm-4.7-flash"))
    assert spec.mla
    for tp in (1, 4):
        assert planner.kv_bytes_per_token(spec, tp, "auto") == 47 * (512 + 64) * 2


def test_hybrid_layouts_are_read_from_the_config() -> None:
    nemo = modelspec.load(config("nemotron-3-nano-30b-a3b"))
    assert (nemo.count("mamba"), nemo.count("attention"), nemo.count(mlp="moe")) == (23, 6, 23)
    assert not nemo.mlp_gated
    nxt = modelspec.load(config("qwen3-next-80b-a3b"))
    assert (nxt.count("linear_attention"), nxt.count("attention"), nxt.count(mlp="moe")) == (36, 12, 48)
    assert planner.state_bytes_per_seq(nxt, 2) > 0


def test_moe_marlin_falls_back_to_wna16_with_a_smaller_group() -> None:
    spec = modelspec.load(config("qwen3-30b-a3b"))
    check = quant.check_moe(quant.make("awq", 128), spec.hidden, spec.moe_intermediate // 4)
    assert check.ok and check.kernel == "moe-wna16" and "group 64" in check.problem
    assert quant.check_moe(quant.make("awq", 128), 2048, 768 // 2).kernel == "marlin-moe"
    assert not quant.check_moe(quant.make("awq", 128), 2048, 40).ok


def test_marlin_n_alignment_is_checked() -> None:
    check = quant.check_linear(quant.make("awq", 128), "gate_up_proj", n=2736, k=4096, k_full=4096, row_parallel=False)
    assert check.ok and check.kernel == "awq-gemm" and "N=2736 % 64 = 48" in check.problem


# --- errors are one line ------------------------------------------------------------


@pytest.mark.parametrize("content, message", [
    (None, "config not found"),
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "is not a JSON object"),
    ('{"hidden_size": 64}', "missing field 'num_attention_heads'"),
    ('{"hidden_size": 64, "num_attention_heads": "x", "num_hidden_layers": 2}', "must be a non-negative number"),
])
def test_bad_configs_are_one_clear_line(tmp_path, capsys, content, message) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    code = serve_cli.main(["plan", str(path), "--gpus", "2", "--gpu-mem-gib", "16"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("llmbench: ") and err.count("\n") == 1 and message in err


@pytest.mark.parametrize("args, message", [
    (["--gpus", "0", "--gpu-mem-gib", "16"], "--gpus must be at least 1"),
    (["--gpus", "2", "--gpu-mem-gib", "16", "--gpu-memory-utilization", "1.5"], "--gpu-memory-utilization"),
    (["--gpus", "2", "--gpu-mem-gib", "16", "--quant", "bf16", "--group-size", "32"], "--group-size applies to awq/gptq"),
])
def test_bad_options_are_one_clear_line(capsys, args, message) -> None:
    code = serve_cli.main(["plan", config("qwen3-32b"), *args])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and message in err


def test_a_config_directory_works(tmp_path, capsys) -> None:
    (tmp_path / "config.json").write_text((serve_dir() / "configs" / "qwen3-32b.json").read_text())
    assert plan_json(capsys, str(tmp_path), "--gpus", "8", "--gpu-mem-gib", "24")["max_tp"] == 8
