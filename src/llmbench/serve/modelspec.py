"""What the planner needs from a Hugging Face config.json, read into one flat record.

Everything is derived from config fields; the few family-specific readings are
marked where they happen:
* multimodal configs keep the language model under `text_config`;
* hybrid layer layouts: Nemotron-H's `hybrid_override_pattern` (M = Mamba-2,
  E = MoE, * = attention, - = dense MLP), Qwen3-Next's `layer_types` /
  `full_attention_interval` (gated-DeltaNet linear attention + full attention),
  and `layer_types` with `sliding_attention`;
* DeepSeek-style MLA (`kv_lora_rank`): the KV cache is one latent vector per
  token per layer, the same on every GPU;
* MoE field names differ: num_experts / n_routed_experts / num_local_experts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(Exception):
    """A config.json that is missing, unreadable or lacks a needed field (one-line message)."""


@dataclass
class Layer:
    mixer: str  # "attention" | "sliding" | "mamba" | "linear_attention" | "none"
    mlp: str  # "dense" | "moe" | "none"


@dataclass
class ModelSpec:
    name: str
    model_type: str
    hidden: int
    vocab: int
    tie_embeddings: bool
    layers: list[Layer]
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int  # dense MLP width (0 if none)
    experts: int = 0
    moe_intermediate: int = 0
    shared_intermediate: int = 0  # total width of always-on shared expert(s)
    attn_output_gate: bool = False  # Qwen3-Next: q_proj also produces a gate
    # MLA
    kv_lora_rank: int = 0
    q_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    qk_nope_head_dim: int = 0
    v_head_dim: int = 0
    # Mamba-2
    mamba_heads: int = 0
    mamba_head_dim: int = 0
    mamba_groups: int = 0
    ssm_state: int = 0
    conv_kernel: int = 0
    ssm_state_bytes: int = 2
    # gated-DeltaNet linear attention
    lin_k_heads: int = 0
    lin_v_heads: int = 0
    lin_k_dim: int = 0
    lin_v_dim: int = 0
    lin_conv_kernel: int = 0
    sliding_window: int = 0
    vision_params: int = 0  # vision encoder, replicated on every GPU
    max_position: int = 0
    mlp_gated: bool = True  # gate+up+down (SwiGLU); False for squared-ReLU MLPs (Nemotron-H)
    quantization: dict = field(default_factory=dict)
    quant_skip: frozenset = frozenset()  # weight kinds the checkpoint keeps in 16 bits

    @property
    def mlp_matrices(self) -> int:
        return 3 if self.mlp_gated else 2

    @property
    def mla(self) -> bool:
        return self.kv_lora_rank > 0

    def count(self, mixer: str | None = None, mlp: str | None = None) -> int:
        return sum(
            1 for layer in self.layers
            if (mixer is None or layer.mixer == mixer) and (mlp is None or layer.mlp == mlp)
        )

    @property
    def attention_layers(self) -> int:
        return self.count("attention") + self.count("sliding")


def load(path: str | Path) -> ModelSpec:
    path = Path(path)
    if path.is_dir():
        path = path / "config.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} is not a JSON object")
    try:
        return from_dict(raw, name=path.parent.name if path.name == "config.json" else path.stem)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _int(cfg: dict, *keys: str, default: int | None = None) -> int:
    for key in keys:
        value = cfg.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"field {key!r} must be a non-negative number, got {value!r}")
            return int(value)
    if default is None:
        raise ConfigError(f"missing field {' / '.join(repr(k) for k in keys)}")
    return default


def _layer_layout(cfg: dict, n_layers: int, has_moe: bool) -> list[Layer]:
    pattern = cfg.get("hybrid_override_pattern")
    if isinstance(pattern, str) and pattern:  # Nemotron-H: one block kind per layer
        kinds = {"M": Layer("mamba", "none"), "E": Layer("none", "moe"),
                 "*": Layer("attention", "none"), "-": Layer("none", "dense")}
        try:
            return [Layer(**vars(kinds[c])) for c in pattern]
        except KeyError as exc:
            raise ConfigError(f"unknown block {exc.args[0]!r} in hybrid_override_pattern") from None
    blocks = cfg.get("layers_block_type")
    if isinstance(blocks, list) and blocks:  # the same, spelled as a list
        names = {"mamba": Layer("mamba", "none"), "moe": Layer("none", "moe"),
                 "attention": Layer("attention", "none"), "mlp": Layer("none", "dense")}
        return [Layer(**vars(names.get(b, Layer("attention", "none")))) for b in blocks]

    types = cfg.get("layer_types")
    if not (isinstance(types, list) and len(types) == n_layers):
        interval = cfg.get("full_attention_interval")
        if interval and ("linear_num_value_heads" in cfg):
            types = ["full_attention" if (i + 1) % int(interval) == 0 else "linear_attention"
                     for i in range(n_layers)]
        else:
            types = ["full_attention"] * n_layers
    mixer_of = {"sliding_attention": "sliding", "linear_attention": "linear_attention"}
    mixers = [mixer_of.get(t, "attention") for t in types]

    mlps = ["dense"] * n_layers
    if has_moe:
        first_dense = _int(cfg, "first_k_dense_replace", default=0)
        only_dense = set(cfg.get("mlp_only_layers") or [])
        step = _int(cfg, "decoder_sparse_step", "moe_layer_freq", default=1) or 1
        mlps = [
            "dense" if (i < first_dense or i in only_dense or (i + 1) % step) else "moe"
            for i in range(n_layers)
        ]
    return [Layer(m, p) for m, p in zip(mixers, mlps, strict=True)]


# What configs call the dense MLP's width (Llama/Qwen, OPT/BART, GPT-2, Falcon/GPT-NeoX, T5).
_DENSE_WIDTH_KEYS = ("intermediate_size", "ffn_dim", "ffn_hidden_size", "n_inner", "d_ff", "ffn_intermediate_size")


def _dense_width(cfg: dict, hidden: int) -> int:
    """The dense MLP's width; a config that names none is refused rather than planned without an MLP."""
    if "n_inner" in cfg and cfg["n_inner"] is None and not any(cfg.get(k) for k in _DENSE_WIDTH_KEYS):
        return 4 * hidden   # GPT-2: n_inner null means 4 x n_embd
    width = _int(cfg, *_DENSE_WIDTH_KEYS, default=0)
    if not width:
        raise ConfigError("no dense MLP width: the config has none of "
                          + ", ".join(_DENSE_WIDTH_KEYS) + " (or it is 0)")
    return width


def _vision_params(vc: dict) -> int:
    """A ViT's weights from its config: per layer 4·h² (attention) + 3·h·i (gated MLP)."""
    h = _int(vc, "hidden_size", default=0)
    i = _int(vc, "intermediate_size", default=4 * h)
    n = _int(vc, "num_hidden_layers", "depth", default=0)
    return n * (4 * h * h + 3 * h * i)


# Module-name fragments in a quantization_config's modules_to_not_convert / ignore
# list, mapped to the planner's weight kinds (checked in this order).
_SKIP_KINDS = (
    ("linear_attn", "linear_attention"), ("self_attn", "attention"), ("shared_expert", "shared"),
    ("mixer", "mamba"), ("mamba", "mamba"),
)


def _quant_skip(qc: dict) -> frozenset:
    names = [str(n) for n in (qc.get("modules_to_not_convert") or qc.get("ignore") or [])]
    kinds = set()
    for n in names:
        for fragment, kind in _SKIP_KINDS:
            if fragment in n:
                kinds.add(kind)
                break
    return frozenset(kinds)


def from_dict(cfg: dict, name: str = "model") -> ModelSpec:
    top = cfg
    text = cfg.get("text_config") if isinstance(cfg.get("text_config"), dict) else None
    if text:  # multimodal wrapper (Mistral3, Qwen-VL, ...): the LM lives in text_config
        cfg = {**text, **{k: top[k] for k in ("quantization_config",) if k in top}}
    quantization_config = cfg.get("quantization_config")
    if quantization_config is not None and not isinstance(quantization_config, dict):
        raise ConfigError(f"field 'quantization_config' must be an object, got {quantization_config!r:.60}")
    hidden = _int(cfg, "hidden_size", "d_model", "n_embd")
    heads = _int(cfg, "num_attention_heads", "n_head")
    n_layers = _int(cfg, "num_hidden_layers", "n_layer", "num_layers")
    if heads == 0 or hidden == 0 or n_layers == 0:
        raise ConfigError("hidden_size, num_attention_heads and num_hidden_layers must be positive")
    kv = _int(cfg, "num_key_value_heads", default=heads) or heads
    head_dim = _int(cfg, "head_dim", default=hidden // heads)
    experts = _int(cfg, "num_experts", "n_routed_experts", "num_local_experts", default=0)
    moe_i = _int(cfg, "moe_intermediate_size", default=0)
    if experts and not moe_i:  # GPT-OSS: the experts use intermediate_size
        moe_i = _int(cfg, "intermediate_size")
    shared = _int(cfg, "shared_expert_intermediate_size", "moe_shared_expert_intermediate_size", default=0)
    if not shared and cfg.get("n_shared_experts"):
        shared = _int(cfg, "n_shared_experts") * moe_i
    layers = _layer_layout(cfg, n_layers, experts > 0)
    window = cfg.get("sliding_window")
    if window and not any(layer.mixer == "sliding" for layer in layers) and cfg.get("use_sliding_window"):
        layers = [Layer("sliding", layer.mlp) for layer in layers]
    mamba_dtype = str(cfg.get("mamba_ssm_cache_dtype") or "").lower()
    vision = top.get("vision_config") if isinstance(top.get("vision_config"), dict) else None
    return ModelSpec(
        name=str(top.get("_name_or_path") or name),
        model_type=str(cfg.get("model_type") or top.get("model_type") or "unknown"),
        hidden=hidden,
        vocab=_int(cfg, "vocab_size", default=_int(top, "vocab_size", default=0)),
        tie_embeddings=bool(cfg.get("tie_word_embeddings", top.get("tie_word_embeddings", False))),
        layers=layers,
        heads=heads,
        kv_heads=kv,
        head_dim=head_dim,
        intermediate=_dense_width(cfg, hidden) if any(layer.mlp == "dense" for layer in layers) else 0,
        experts=experts,
        moe_intermediate=moe_i if experts else 0,
        shared_intermediate=shared if experts else 0,
        attn_output_gate=bool(cfg.get("attn_output_gate", cfg.get("model_type") == "qwen3_next")),
        kv_lora_rank=_int(cfg, "kv_lora_rank", default=0),
        q_lora_rank=_int(cfg, "q_lora_rank", default=0),
        qk_rope_head_dim=_int(cfg, "qk_rope_head_dim", default=0),
        qk_nope_head_dim=_int(cfg, "qk_nope_head_dim", default=0),
        v_head_dim=_int(cfg, "v_head_dim", default=0),
        mamba_heads=_int(cfg, "mamba_num_heads", default=0),
        mamba_head_dim=_int(cfg, "mamba_head_dim", default=0),
        mamba_groups=_int(cfg, "n_groups", default=1),
        ssm_state=_int(cfg, "ssm_state_size", default=0),
        conv_kernel=_int(cfg, "conv_kernel", default=4),
        ssm_state_bytes=4 if mamba_dtype in ("float32", "fp32") else 2,
        lin_k_heads=_int(cfg, "linear_num_key_heads", default=0),
        lin_v_heads=_int(cfg, "linear_num_value_heads", default=0),
        lin_k_dim=_int(cfg, "linear_key_head_dim", default=0),
        lin_v_dim=_int(cfg, "linear_value_head_dim", default=0),
        lin_conv_kernel=_int(cfg, "linear_conv_kernel_dim", default=4),
        sliding_window=int(window or 0),
        vision_params=_vision_params(vision) if vision else 0,
        max_position=_int(cfg, "max_position_embeddings", default=0),
        mlp_gated=str(cfg.get("mlp_hidden_act") or cfg.get("hidden_act") or "silu").lower()
        not in ("relu2", "squared_relu"),
        quantization=dict(cfg.get("quantization_config") or {}),
        quant_skip=_quant_skip(dict(cfg.get("quantization_config") or {})),
    )
