"""The launch recipes under serve/: exact commands, models.yaml aliases, and plans that agree with them."""

from __future__ import annotations

import json
import re
import shlex

import pytest
import yaml

from llmbench.cli import serve as serve_cli
from llmbench.paths import default_models_file, patches_dir
from llmbench.serve import recipes

SEED_DAILY_CODING = """\
CUDA_VISIBLE_DEVICES=0,1,2,3 vllm serve QuantTrio/Qwen3-Coder-30B-A3B-Instruct-AWQ \\
  --tensor-parallel-size 4 --gpu-memory-utilization 0.90 \\
  --max-num-seqs 16 --max-model-len 32768 --port 8000

CUDA_VISIBLE_DEVICES=4,5,6,7 vllm serve QuantTrio/Qwen3-Coder-30B-A3B-Instruct-AWQ \\
  --tensor-parallel-size 4 --gpu-memory-utilization 0.90 \\
  --max-num-seqs 16 --max-model-len 32768 --port 8001
"""

# The other three recommended configurations, as the seed prints them.
SEED_COMMANDS = {
    "long-context": """\
vllm serve mistralai/Magistral-Small-2509 \\
  --tensor-parallel-size 8 --gpu-memory-utilization 0.90 \\
  --max-num-seqs 48 --tokenizer-mode mistral --config-format mistral \\
  --load-format mistral --reasoning-parser mistral --port 8000""",
    "high-throughput": """\
vllm serve abhishekchohan/Magistral-Small-2506-AWQ \\
  --tensor-parallel-size 8 --gpu-memory-utilization 0.90 \\
  --max-num-seqs 48 --max-model-len 32768 --port 8000""",
    "max-quality": """\
vllm serve cyankiwi/Devstral-2-123B-Instruct-2512-AWQ-4bit \\
  --tensor-parallel-size 8 --gpu-memory-utilization 0.90 \\
  --max-num-seqs 16 --max-model-len 32768 \\
  --kv-cache-dtype fp8_e5m2 --port 8000""",
}

ALL = recipes.all_recipes()
REGISTRY = yaml.safe_load(default_models_file().read_text())["models"]


def show(capsys, name: str) -> str:
    assert serve_cli.main(["show", name]) == 0
    return capsys.readouterr().out


def test_daily_coding_prints_the_seeds_two_commands(capsys) -> None:
    out = show(capsys, "daily-coding")
    assert SEED_DAILY_CODING in out
    assert out.count("vllm serve") == 2
    assert "pytest --model qwen3-coder --api-url http://localhost:8000/v1" in out
    assert "pytest --model qwen3-coder --api-url http://localhost:8001/v1" in out


@pytest.mark.parametrize("name", sorted(SEED_COMMANDS))
def test_recommended_configurations_match_the_seed(capsys, name: str) -> None:
    assert SEED_COMMANDS[name] in show(capsys, name)


def test_the_four_recommended_and_one_per_ranked_model() -> None:
    names = {r.name for r in ALL}
    assert {"daily-coding", "long-context", "high-throughput", "max-quality"} <= names
    per_model = {r.models[0] for r in ALL if r.source.startswith("constructed")}
    assert per_model == set(REGISTRY), "one recipe per models.yaml alias"


@pytest.mark.parametrize("recipe", ALL, ids=[r.name for r in ALL])
def test_recipe_is_consistent_with_models_yaml_and_its_plan(recipe: recipes.Recipe, capsys) -> None:
    for launch in recipe.launches:
        entry = REGISTRY[launch.alias]
        assert launch.framework == entry["framework"]
        assert launch.model == entry["served_name"], "the served model is the alias's served_name"
        words = shlex.split(launch.command().replace("\\\n", " "))
        tp_flag = "--tensor-parallel-size" if launch.framework == "vllm" else "--tp"
        tp = int(words[words.index(tp_flag) + 1])
        assert tp == entry["tp"]
        assert int(words[words.index("--port") + 1]) == launch.port
        if "api_url" in entry:
            assert entry["api_url"] == launch.api_url
    # The recipe's own planner invocation says its TP is valid and that it fits.
    assert recipe.config_path() and recipe.config_path().is_file()
    args = ["plan", str(recipe.config_path()), "--json"]
    for key, value in recipe.plan.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    assert serve_cli.main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    tp_entry = doc["tp"][tp - 1]
    assert tp_entry["valid"], tp_entry["reasons"]
    assert tp_entry["fits"], f"{recipe.name}: planner says TP {tp} does not fit"


def test_patched_recipes_name_existing_patches() -> None:
    shipped = {p.stem for p in patches_dir().glob("*.diff")}
    for recipe in ALL:
        for name in recipe.patches:
            assert name in shipped
        if any("fp8" in " ".join(launch.args) for launch in recipe.launches):
            assert recipe.patches, f"{recipe.name} uses fp8 KV and needs the vLLM patches"


def test_unknown_recipe_is_one_line(capsys) -> None:
    assert serve_cli.main(["show", "no-such-recipe"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("llmbench: no recipe 'no-such-recipe' (known: ") and err.count("\n") == 1


@pytest.mark.parametrize("data, message", [
    ({"title": "t", "source": "s", "models": ["a"], "launches": "x"}, "'launches' must be"),
    ({"title": "t", "source": "s", "models": ["a"],
      "launches": [{"alias": "a", "framework": "tgi", "model": "m", "port": 1}]}, "framework must be one of"),
    ({"title": "t", "source": "s", "models": ["b"],
      "launches": [{"alias": "a", "framework": "vllm", "model": "m", "port": 1}]}, "not listed in 'models'"),
])
def test_malformed_recipes_are_refused(data, message) -> None:
    with pytest.raises(recipes.RecipeError, match=re.escape(message)):
        recipes.parse(data, "bad")


def test_list_names_every_recipe(capsys) -> None:
    assert serve_cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [r.name for r in ALL]
