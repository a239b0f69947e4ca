"""models.yaml: the shipped registry is valid, and a malformed one is one clear error."""

from __future__ import annotations

import pytest

from llmbench.endpoints.registry import RegistryError, load_registry, resolve

SEED_RANKING = [
    "Devstral-2-123B", "Nemotron-3-Nano-30B", "Qwen3-Coder-30B-A3B", "GLM-4.7-Flash",
    "Magistral-Small-2509", "Magistral-Small-2506", "Qwen3-32B", "EXAONE-4.0-32B", "Qwen3-30B-A3B",
    "Devstral-Small-2-24B", "Seed-OSS-36B", "Qwen3-30B-A3B-Thinking", "Nanbeige4.1-3B",
    "DS-R1-Distill-Qwen-32B", "DS-R1-Distill-Llama-70B", "GPT-OSS-20B",
]


def test_shipped_registry_has_one_entry_per_ranked_model():
    registry = load_registry()
    assert sorted(e.name for e in registry.values()) == sorted(SEED_RANKING)


def test_served_names_from_the_seed_commands():
    registry = load_registry()
    assert registry["qwen3-coder"].served_name == "QuantTrio/Qwen3-Coder-30B-A3B-Instruct-AWQ"
    assert registry["magistral-2509"].served_name == "mistralai/Magistral-Small-2509"
    assert registry["magistral-2506"].served_name == "abhishekchohan/Magistral-Small-2506-AWQ"
    assert registry["devstral-2"].served_name == "cyankiwi/Devstral-2-123B-Instruct-2512-AWQ-4bit"
    assert registry["glm-4.7-flash"].framework == "sglang"


def test_alias_resolves_with_registry_defaults_and_overrides():
    endpoint, serving = resolve("qwen3-coder", api_url="http://gpu:9000/v1/", max_tokens=100)
    assert endpoint.served_name == "QuantTrio/Qwen3-Coder-30B-A3B-Instruct-AWQ"
    assert endpoint.api_url == "http://gpu:9000/v1"
    assert endpoint.max_tokens == 100 and endpoint.temperature == 0.0
    assert serving == {"framework": "vllm", "tp": 4, "quant": "AWQ", "context": 32768}


def test_unknown_name_is_the_served_model_at_api_url():
    endpoint, serving = resolve("my-model", api_url="http://box:8000/v1")
    assert (endpoint.served_name, endpoint.api_url, endpoint.name) == ("my-model", "http://box:8000/v1", "my-model")
    assert serving["framework"] is None


def test_api_key_never_in_public_dict_or_repr():
    endpoint, _ = resolve("qwen3-coder", api_key="sk-secret-123")
    assert "sk-secret-123" not in repr(endpoint)
    assert "sk-secret-123" not in str(endpoint.public_dict())


@pytest.mark.parametrize(
    "text, expected",
    [
        ("models:\n  m1:\n    name: M\n", "model 'm1': field 'served_name' must be a non-empty string"),
        ("models:\n  m1:\n    served_name: x\n    tp: -2\n", "model 'm1': field 'tp' must be a positive integer"),
        ("models:\n  m1:\n    served_name: x\n    sampling: {max_tokens: lots}\n",
         "model 'm1': field 'sampling.max_tokens' must be a positive integer"),
        ("models:\n  m1:\n    served_name: x\n    reasoning: maybe\n", "model 'm1': field 'reasoning' must be one of"),
        ("models:\n  m1:\n    served_name: x\n    api_url: localhost:8000\n", "field 'api_url' must be an http(s) URL"),
        ("models:\n  m1:\n    served_nam: x\n", "model 'm1': unknown field 'served_nam'"),
        ("models:\n  m1: [1, 2]\n", "model 'm1': must be a mapping"),
        ("models: [a, b]\n", "expected a mapping with a 'models:' mapping"),
        ("models:\n  m1:\n    served_name: [unclosed\n", "invalid YAML at line"),
        ("models:\n  demo:\n    served_name: x\n", "the alias 'demo' is reserved"),
    ],
)
def test_malformed_registry_names_entry_and_field(tmp_path, text, expected):
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_missing_registry_file(tmp_path):
    with pytest.raises(RegistryError, match="models file not found"):
        load_registry(tmp_path / "nope.yaml")
