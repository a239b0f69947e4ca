"""The two vLLM patches against the real vLLM 0.14.0 and flashinfer 0.6.1 sources.

The wheels are downloaded once (cached, see patches_helpers); vLLM is never
imported: its source is read with `ast`, and the one function under test is
executed alone with stand-in classes.
"""

from __future__ import annotations

import ast
import inspect
import os
import types
from pathlib import Path

import patches_helpers as ph
import pytest

from llmbench.cli import patches as patches_cli
from llmbench.patching import unidiff


def _unavailable(what: str, exc: Exception):
    # CI must run these tests: there a missing wheel is a failure, not a skip.
    if os.environ.get("LLMBENCH_REQUIRE_WHEELS") == "1":
        pytest.fail(f"{what} unavailable and LLMBENCH_REQUIRE_WHEELS=1: {exc}")
    pytest.skip(f"{what} unavailable: {exc}")


@pytest.fixture(scope="module")
def vllm_wheel() -> Path:
    try:
        return ph.wheel(*ph.VLLM)
    except ph.WheelUnavailable as exc:
        _unavailable("vLLM 0.14.0 wheel", exc)


def _flashinfer_decode(version: tuple[str, str]) -> str:
    try:
        return ph.read_member(ph.wheel(*version), "flashinfer/decode.py")
    except ph.WheelUnavailable as exc:
        _unavailable("flashinfer wheel", exc)


@pytest.fixture
def tree(vllm_wheel: Path, tmp_path: Path) -> Path:
    """A fresh extracted vLLM 0.14.0 tree holding only the files the patches touch."""
    return ph.extract(vllm_wheel, ph.VLLM_MEMBERS, tmp_path / "site-packages")


def _patched_text(tree: Path, rel: str) -> str:
    """The file with every patch hunk for it applied (in memory)."""
    text = (tree / rel).read_text(encoding="utf-8")
    for lp in patches_cli.load_patches():
        for fp in lp.patch.files:
            if fp.path == rel:
                text = unidiff.apply_hunks(text, fp.hunks)
    return text


# --- (a) apply and revert cleanly, through the CLI -------------------------------


def test_cli_check_apply_revert_on_the_real_tree(tree: Path, capsys) -> None:
    originals = {rel: (tree / rel).read_bytes() for rel in (ph.FLASHINFER_PY, ph.COMPRESSED_TENSORS_PY)}
    args = ["--vllm-dir", str(tree)]

    assert patches_cli.main(["check", *args]) == 0
    out = capsys.readouterr().out
    assert "vLLM 0.14.0" in out
    assert out.count(": applies") == 2

    assert patches_cli.main(["apply", *args]) == 0
    assert capsys.readouterr().out.count(": applied") == 2
    for rel, data in originals.items():
        assert (tree / rel).read_bytes() != data
        assert (tree / (rel + patches_cli.BACKUP_SUFFIX)).read_bytes() == data

    assert patches_cli.main(["check", *args]) == 0
    assert capsys.readouterr().out.count(": already applied") == 2
    assert patches_cli.main(["apply", *args]) == 0  # idempotent
    assert capsys.readouterr().out.count(": already applied") == 2

    assert patches_cli.main(["revert", *args]) == 0
    assert capsys.readouterr().out.count(": reverted") == 2
    for rel, data in originals.items():
        assert (tree / rel).read_bytes() == data, f"{rel} not restored byte for byte"
        assert not (tree / (rel + patches_cli.BACKUP_SUFFIX)).exists()


def test_the_package_dir_itself_is_accepted(tree: Path, capsys) -> None:
    assert patches_cli.main(["check", "--vllm-dir", str(tree / "vllm")]) == 0
    assert capsys.readouterr().out.count(": applies") == 2


# --- (b) flashinfer plan(): the argument shift, reproduced and fixed ----------------


def _plan_signature(decode_source: str) -> inspect.Signature:
    """BatchDecodeWithPagedKVCacheWrapper.plan's signature, built from its source."""
    module = ast.parse(decode_source)
    cls = next(n for n in module.body if isinstance(n, ast.ClassDef) and n.name == "BatchDecodeWithPagedKVCacheWrapper")
    fn = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "plan")
    a = fn.args
    positional = a.posonlyargs + a.args
    defaults = [inspect.Parameter.empty] * (len(positional) - len(a.defaults)) + [ast.unparse(d) for d in a.defaults]
    params = [
        inspect.Parameter(arg.arg, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
        for arg, d in zip(positional, defaults, strict=True)
    ]
    params += [
        inspect.Parameter(arg.arg, inspect.Parameter.KEYWORD_ONLY,
                          default=inspect.Parameter.empty if d is None else ast.unparse(d))
        for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
    ]
    return inspect.Signature(params)


def _plan_call(vllm_source: str) -> tuple[list[str], dict[str, str]]:
    """The argument expressions of `self.plan(...)` inside fast_plan_decode."""
    module = ast.parse(vllm_source)
    fn = next(n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "fast_plan_decode")
    calls = [
        n for n in ast.walk(fn)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        and n.func.attr == "plan" and isinstance(n.func.value, ast.Name) and n.func.value.id == "self"
    ]
    assert len(calls) == 1, "expected exactly one self.plan(...) call"
    call = calls[0]
    return [ast.unparse(a) for a in call.args], {k.arg: ast.unparse(k.value) for k in call.keywords}


def _bind(sig: inspect.Signature, call: tuple[list[str], dict[str, str]]) -> dict[str, str]:
    args, kwargs = call
    return dict(sig.bind("<self>", *args, **kwargs).arguments)


def _lands_on_own_name(param: str, expr: str) -> bool:
    # vLLM names its host-side copies *_cpu; block_tables/seq_lens are passed as None on purpose.
    return expr in (param, f"{param}_cpu") or (expr == "None" and param in ("block_tables", "seq_lens"))


def test_flashinfer_061_shifts_the_positional_call(tree: Path) -> None:
    sig = _plan_signature(_flashinfer_decode(ph.FLASHINFER_061))
    assert "o_data_type" in sig.parameters
    bound = _bind(sig, _plan_call((tree / ph.FLASHINFER_PY).read_text()))
    # The bug: data_type goes into o_data_type, and each later argument one slot early.
    assert bound["o_data_type"] == "data_type"
    assert bound["data_type"] == "sm_scale"
    assert bound["seq_lens"] == "fixed_split_size"
    assert bound["fixed_split_size"] == "disable_split_kv"
    assert "disable_split_kv" not in bound  # the last argument silently fell off the end
    wrong = sorted(p for p, e in bound.items() if p != "self" and not _lands_on_own_name(p, e))
    assert wrong == ["data_type", "fixed_split_size", "non_blocking", "o_data_type",
                     "rope_scale", "rope_theta", "seq_lens", "sm_scale"]


def test_the_unpatched_call_was_right_for_flashinfer_053(tree: Path) -> None:
    """vLLM 0.14.0 pins flashinfer 0.5.3, whose plan() has no o_data_type: the call binds correctly there."""
    sig = _plan_signature(_flashinfer_decode(ph.FLASHINFER_053))
    assert "o_data_type" not in sig.parameters
    bound = _bind(sig, _plan_call((tree / ph.FLASHINFER_PY).read_text()))
    assert all(_lands_on_own_name(p, e) for p, e in bound.items() if p != "self"), bound


@pytest.mark.parametrize("flashinfer", [ph.FLASHINFER_061, ph.FLASHINFER_053], ids=["0.6.1", "0.5.3"])
def test_patched_call_binds_every_argument_to_its_own_parameter(tree: Path, flashinfer) -> None:
    sig = _plan_signature(_flashinfer_decode(flashinfer))
    args, kwargs = _plan_call(_patched_text(tree, ph.FLASHINFER_PY))
    assert args == [], "the patched call passes nothing positionally"
    bound = _bind(sig, (args, kwargs))
    assert all(_lands_on_own_name(p, e) for p, e in bound.items() if p != "self"), bound
    assert "o_data_type" not in bound  # left at its default (None): the output dtype follows q
    # Every argument the unpatched call passed is still passed.
    assert len(kwargs) == len(_plan_call((tree / ph.FLASHINFER_PY).read_text())[0])


# --- (c) compressed-tensors get_quant_method --------------------------------------


class _Stand:
    """Base of the stand-in classes: records its constructor arguments."""

    def __init__(self, *args, **kwargs):
        self.args = args


def _get_quant_method(source: str):
    """CompressedTensorsConfig.get_quant_method from the source, compiled alone with stand-ins."""
    module = ast.parse(source)
    cls = next(n for n in module.body if isinstance(n, ast.ClassDef) and n.name == "CompressedTensorsConfig")
    fn = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "get_quant_method")
    fn.returns = None  # annotations name torch types we do not load
    for arg in fn.args.args:
        arg.annotation = None
    namespace = {
        name: type(name, (_Stand,), {})
        for name in ("LinearBase", "Attention", "FusedMoE", "CompressedTensorsKVCacheMethod",
                     "UnquantizedLinearMethod", "CompressedTensorsLinearMethod",
                     "CompressedTensorsLinearTransformMethod", "CompressedTensorsMoEMethod")
    }
    code = compile(ast.fix_missing_locations(ast.Module([fn], [])), "<get_quant_method>", "exec")
    exec(code, namespace)
    return namespace["get_quant_method"], namespace


def _config(kv_cache_scheme):
    return types.SimpleNamespace(kv_cache_scheme=kv_cache_scheme)


FP8_SCHEME = {"num_bits": 8, "type": "float", "strategy": "tensor", "symmetric": True}


def test_unpatched_get_quant_method_returns_kv_method_without_a_scheme(tree: Path) -> None:
    get_quant_method, ns = _get_quant_method((tree / ph.COMPRESSED_TENSORS_PY).read_text())
    result = get_quant_method(_config(None), ns["Attention"](), "model.layers.0.self_attn.attn")
    assert isinstance(result, ns["CompressedTensorsKVCacheMethod"])  # the bug


def test_patched_get_quant_method_follows_the_kv_scheme(tree: Path) -> None:
    get_quant_method, ns = _get_quant_method(_patched_text(tree, ph.COMPRESSED_TENSORS_PY))
    attention = ns["Attention"]()
    assert get_quant_method(_config(None), attention, "model.layers.0.self_attn.attn") is None
    config = _config(FP8_SCHEME)
    method = get_quant_method(config, attention, "model.layers.0.self_attn.attn")
    assert isinstance(method, ns["CompressedTensorsKVCacheMethod"])
    assert method.args == (config,)
    # Layers that are neither linear, attention nor MoE are untouched.
    assert get_quant_method(config, object(), "model.norm") is None
