"""Tensor-parallel validity and per-GPU memory for a model on N identical GPUs.

For each TP size it checks what vLLM 0.14 checks when it builds the model
(heads, KV heads, Mamba/linear-attention heads and MLP widths must split evenly;
grouped-quantized layers must align, see quant.py), then estimates per GPU:
weights, KV-cache bytes per token, how many tokens of KV cache fit, and how
many sequences of max_model_len run at once.

KV heads: when TP exceeds the KV-head count vLLM 0.14 *replicates* each KV head
on TP/KV GPUs (it loads; the KV cache per GPU then stops shrinking). The planner
follows vLLM by default (`kv_replication="allow"`): such sizes are valid and the
row says what the replication costs in KV memory. The seed's "Max TP" column
counts them as invalid (a KV head per GPU at most); `"forbid"` applies that rule.

Memory model (assumptions, stated in every report):
  usable per GPU = gpu_mem_gib × gpu_memory_utilization
  KV budget      = usable − weights − overhead_gib
overhead_gib stands for activations at the profiling batch, CUDA graphs and
non-torch allocations (default 0.8 GiB per GPU, an assumption, not a measured
figure). Sliding-window layers keep at most `sliding_window` tokens per
sequence and Mamba / linear-attention layers a fixed state per sequence: both
are per-sequence costs in the concurrency figure, not per-token ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmbench.serve import quant as q
from llmbench.serve.modelspec import ModelSpec

GIB = 1024**3
DEFAULT_OVERHEAD_GIB = 0.8
KV_POLICIES = ("forbid", "allow")


@dataclass
class Options:
    gpus: int
    gpu_mem_gib: float
    scheme: q.Scheme
    kv_cache_dtype: str = "auto"  # auto | fp8
    max_model_len: int | None = None
    gpu_memory_utilization: float = 0.9
    overhead_gib: float = DEFAULT_OVERHEAD_GIB
    kv_replication: str = "allow"


@dataclass
class TPResult:
    size: int
    valid: bool
    reasons: list[str] = field(default_factory=list)  # why invalid
    notes: list[str] = field(default_factory=list)  # valid, but worth knowing
    weights_gib_per_gpu: float = 0.0
    kv_bytes_per_token: int = 0  # per GPU
    state_bytes_per_seq: int = 0  # Mamba / linear-attention state per sequence, per GPU
    kv_budget_gib: float = 0.0
    kv_tokens: int = 0
    concurrency: float = 0.0  # sequences of max_model_len that fit at once
    fits: bool = False

    def as_dict(self) -> dict:
        return {
            "size": self.size, "valid": self.valid, "reasons": self.reasons, "notes": self.notes,
            "weights_gib_per_gpu": round(self.weights_gib_per_gpu, 3),
            "kv_bytes_per_token_per_gpu": self.kv_bytes_per_token,
            "state_bytes_per_seq_per_gpu": self.state_bytes_per_seq,
            "kv_budget_gib_per_gpu": round(self.kv_budget_gib, 3),
            "kv_tokens": self.kv_tokens, "concurrency": round(self.concurrency, 2), "fits": self.fits,
        }


@dataclass
class Plan:
    spec: ModelSpec
    options: Options
    max_model_len: int
    results: list[TPResult]
    assumptions: list[str]

    @property
    def max_tp(self) -> int:
        return max((r.size for r in self.results if r.valid), default=0)

    @property
    def fits(self) -> bool:
        return any(r.valid and r.fits for r in self.results)

    def result(self, size: int) -> TPResult:
        return next(r for r in self.results if r.size == size)


# --- validity ------------------------------------------------------------------


def _divides(what: str, total: int, tp: int, reasons: list[str]) -> None:
    if total and total % tp:
        reasons.append(f"{what} {total} not divisible by TP {tp}")


def check_tp(spec: ModelSpec, tp: int, opts: Options) -> tuple[list[str], list[str]]:
    reasons: list[str] = []
    notes: list[str] = []
    if spec.attention_layers or spec.mla:
        _divides("attention heads", spec.heads, tp, reasons)
    if spec.attention_layers and not spec.mla:
        kv = spec.kv_heads
        if kv >= tp:
            _divides("KV heads", kv, tp, reasons)
        elif tp % kv:
            reasons.append(f"KV heads {kv}: TP {tp} is neither a divisor nor a multiple of it")
        else:
            copies = tp // kv
            text = (f"TP {tp} exceeds the {kv} KV heads: KV heads replicated ×{copies} (each on {copies} GPUs): "
                    f"KV cache per token ×{copies} across the GPUs")
            if opts.kv_replication == "allow":
                notes.append(text)
            else:
                reasons.append(text + "; counted invalid (--kv-replication forbid, the seed's rule)")
    if spec.count("mamba"):
        _divides("Mamba heads", spec.mamba_heads, tp, reasons)
        if spec.mamba_groups % tp and spec.mamba_groups != 1:
            reasons.append(f"Mamba groups (n_groups) {spec.mamba_groups} not divisible by TP {tp}")
    if spec.count("linear_attention"):
        _divides("linear-attention key heads", spec.lin_k_heads, tp, reasons)
        _divides("linear-attention value heads", spec.lin_v_heads, tp, reasons)
    if spec.count(mlp="dense"):
        _divides("intermediate_size", spec.intermediate, tp, reasons)
    if spec.experts:
        _divides("moe_intermediate_size", spec.moe_intermediate, tp, reasons)
        _divides("shared expert intermediate size", spec.shared_intermediate, tp, reasons)
    if not reasons and opts.scheme.grouped:
        for check in _quant_checks(spec, tp, opts.scheme):
            if not check.ok:
                reasons.append(check.problem)
            elif check.problem:
                notes.append(check.problem)
    return reasons, notes


def _sharded_linears(spec: ModelSpec, tp: int) -> list[tuple[str, str, int, int, int, bool]]:
    """(kind, name, per-GPU n, per-GPU k, full k, row_parallel) of each distinct sharded linear layer."""
    out = []
    h = spec.hidden
    if spec.mla:
        qk = spec.qk_nope_head_dim + spec.qk_rope_head_dim
        q_in = spec.q_lora_rank or h
        out.append(("attention", "q_b_proj" if spec.q_lora_rank else "q_proj", spec.heads // tp * qk, q_in, q_in, False))
        out.append(("attention", "kv_b_proj", spec.heads // tp * (spec.qk_nope_head_dim + spec.v_head_dim),
                    spec.kv_lora_rank, spec.kv_lora_rank, False))
        o_k = spec.heads * spec.v_head_dim
        out.append(("attention", "o_proj", h, o_k // tp, o_k, True))
    elif spec.attention_layers:
        kv_gpu = max(1, spec.kv_heads // tp)
        q_mult = 2 if spec.attn_output_gate else 1
        out.append(("attention", "qkv_proj", (spec.heads // tp * q_mult + 2 * kv_gpu) * spec.head_dim, h, h, False))
        o_k = spec.heads * spec.head_dim
        out.append(("attention", "o_proj", h, o_k // tp, o_k, True))
    if spec.count("mamba"):
        inner = spec.mamba_heads * spec.mamba_head_dim
        n = 2 * inner + 2 * spec.mamba_groups * spec.ssm_state + spec.mamba_heads
        out.append(("mamba", "mamba in_proj", n // tp, h, h, False))
        out.append(("mamba", "mamba out_proj", h, inner // tp, inner, True))
    if spec.count("linear_attention"):
        n = 2 * spec.lin_k_heads * spec.lin_k_dim + 2 * spec.lin_v_heads * spec.lin_v_dim
        out.append(("linear_attention", "linear-attention in_proj_qkvz", n // tp, h, h, False))
        v = spec.lin_v_heads * spec.lin_v_dim
        out.append(("linear_attention", "linear-attention out_proj", h, v // tp, v, True))
    if spec.count(mlp="dense"):
        up = "gate_up_proj" if spec.mlp_gated else "up_proj"
        out.append(("dense", up, (spec.mlp_matrices - 1) * spec.intermediate // tp, h, h, False))
        out.append(("dense", "down_proj", h, spec.intermediate // tp, spec.intermediate, True))
    if spec.shared_intermediate:
        s = spec.shared_intermediate
        out.append(("shared", "shared_expert up projection", (spec.mlp_matrices - 1) * s // tp, h, h, False))
        out.append(("shared", "shared_expert down_proj", h, s // tp, s, True))
    return out


def _quant_checks(spec: ModelSpec, tp: int, scheme: q.Scheme) -> list[q.LinearCheck]:
    checks = [
        q.check_linear(scheme, name, n, k, k_full, row)
        for kind, name, n, k, k_full, row in _sharded_linears(spec, tp)
        if kind not in spec.quant_skip
    ]
    if spec.experts and spec.count(mlp="moe") and "expert" not in spec.quant_skip:
        checks.append(q.check_moe(scheme, spec.hidden, spec.moe_intermediate // tp))
    return checks


# --- memory --------------------------------------------------------------------


def weight_bytes_per_gpu(spec: ModelSpec, tp: int, scheme: q.Scheme) -> float:
    """Bytes of weights one GPU holds at TP `tp` (an even split of every sharded tensor)."""

    def per_weight(kind: str) -> float:
        """Bytes per weight of a kind: 16-bit unless the scheme quantizes it and the checkpoint does not skip it."""
        quantized = scheme.quantizes("expert" if kind == "expert" else "linear") and kind not in spec.quant_skip
        return scheme.bits_per_weight() / 8 if quantized else 2.0

    h = spec.hidden
    total = 0.0
    # embeddings and LM head: vocab-parallel, kept in 16 bits
    total += spec.vocab * h * (1 if spec.tie_embeddings else 2) / tp * 2
    total += spec.vision_params * 2  # vision encoder: replicated, 16-bit

    n_attn = spec.attention_layers
    if spec.mla:
        qk = spec.qk_nope_head_dim + spec.qk_rope_head_dim
        replicated = h * (spec.kv_lora_rank + spec.qk_rope_head_dim) + h * spec.q_lora_rank
        q_in = spec.q_lora_rank or h
        sharded = (q_in * spec.heads * qk
                   + spec.kv_lora_rank * spec.heads * (spec.qk_nope_head_dim + spec.v_head_dim)
                   + spec.heads * spec.v_head_dim * h)
        total += n_attn * (replicated + sharded / tp) * per_weight("attention")
    elif n_attn:
        q_mult = 2 if spec.attn_output_gate else 1
        kv_gpu = max(spec.kv_heads / tp, 1)  # a replicated KV head costs a whole head on each GPU
        per_gpu = h * (spec.heads / tp * q_mult + 2 * kv_gpu) * spec.head_dim + spec.heads * spec.head_dim * h / tp
        total += n_attn * per_gpu * per_weight("attention")
    n_mamba = spec.count("mamba")
    if n_mamba:
        inner = spec.mamba_heads * spec.mamba_head_dim
        in_n = 2 * inner + 2 * spec.mamba_groups * spec.ssm_state + spec.mamba_heads
        total += n_mamba * (h * in_n + inner * h) / tp * per_weight("mamba")
        conv = (inner + 2 * spec.mamba_groups * spec.ssm_state) * spec.conv_kernel
        total += n_mamba * conv / tp * 2
    n_lin = spec.count("linear_attention")
    if n_lin:
        kd, vd = spec.lin_k_heads * spec.lin_k_dim, spec.lin_v_heads * spec.lin_v_dim
        proj = h * (2 * kd + 2 * vd) + h * 2 * spec.lin_v_heads + vd * h
        total += n_lin * proj / tp * per_weight("linear_attention")
        total += n_lin * (2 * kd + vd) * spec.lin_conv_kernel / tp * 2
    m = spec.mlp_matrices
    total += spec.count(mlp="dense") * m * h * spec.intermediate / tp * per_weight("dense")
    n_moe = spec.count(mlp="moe")
    if n_moe:
        total += n_moe * spec.experts * m * h * spec.moe_intermediate / tp * per_weight("expert")
        total += n_moe * m * h * spec.shared_intermediate / tp * per_weight("shared")
        total += n_moe * h * spec.experts * 2  # router: replicated, 16-bit
    return total


def kv_bytes_per_token(spec: ModelSpec, tp: int, kv_dtype: str, sliding: bool = False) -> int:
    """KV-cache bytes per token per GPU of the full-attention layers (or of the sliding-window ones)."""
    elem = 1 if kv_dtype.startswith("fp8") else 2
    n = spec.count("sliding") if sliding else spec.count("attention")
    if spec.mla:  # one latent (+ rope key) per token per layer, on every GPU
        return n * (spec.kv_lora_rank + spec.qk_rope_head_dim) * elem
    kv_gpu = max(1, -(-spec.kv_heads // tp))
    return n * 2 * kv_gpu * spec.head_dim * elem


def state_bytes_per_seq(spec: ModelSpec, tp: int) -> int:
    """Recurrent state per sequence per GPU (Mamba-2 and gated-DeltaNet layers)."""
    total = 0
    if spec.count("mamba"):
        inner = spec.mamba_heads * spec.mamba_head_dim
        conv = (inner + 2 * spec.mamba_groups * spec.ssm_state) * (spec.conv_kernel - 1) * 2
        ssm = spec.mamba_heads * spec.mamba_head_dim * spec.ssm_state * spec.ssm_state_bytes
        total += spec.count("mamba") * (conv + ssm) // tp
    if spec.count("linear_attention"):
        kd, vd = spec.lin_k_heads * spec.lin_k_dim, spec.lin_v_heads * spec.lin_v_dim
        conv = (2 * kd + vd) * (spec.lin_conv_kernel - 1) * 2
        rec = spec.lin_v_heads * spec.lin_k_dim * spec.lin_v_dim * 2
        total += spec.count("linear_attention") * (conv + rec) // tp
    return total


def plan(spec: ModelSpec, opts: Options) -> Plan:
    length = opts.max_model_len or spec.max_position or 32768
    usable = opts.gpu_mem_gib * opts.gpu_memory_utilization
    results = []
    for tp in range(1, opts.gpus + 1):
        reasons, notes = check_tp(spec, tp, opts)
        r = TPResult(tp, not reasons, reasons, notes)
        r.weights_gib_per_gpu = weight_bytes_per_gpu(spec, tp, opts.scheme) / GIB
        r.kv_bytes_per_token = kv_bytes_per_token(spec, tp, opts.kv_cache_dtype)
        r.state_bytes_per_seq = state_bytes_per_seq(spec, tp)
        sliding = kv_bytes_per_token(spec, tp, opts.kv_cache_dtype, sliding=True)
        if sliding and not r.kv_bytes_per_token:  # only sliding layers: they grow with length up to the window
            r.kv_bytes_per_token = sliding
        elif sliding:  # a sliding-window layer keeps at most `window` tokens per sequence
            r.state_bytes_per_seq += min(spec.sliding_window or length, length) * sliding
        r.kv_budget_gib = usable - r.weights_gib_per_gpu - opts.overhead_gib
        budget = max(r.kv_budget_gib, 0.0) * GIB
        per_seq = length * r.kv_bytes_per_token + r.state_bytes_per_seq
        r.kv_tokens = int(budget // r.kv_bytes_per_token) if r.kv_bytes_per_token else 0
        r.concurrency = budget / per_seq if per_seq else 0.0
        r.fits = r.kv_budget_gib > 0 and r.concurrency >= 1
        results.append(r)
    assumptions = [
        f"usable memory per GPU = {opts.gpu_mem_gib:g} GiB x {opts.gpu_memory_utilization:g} "
        f"(--gpu-memory-utilization) = {usable:.2f} GiB",
        f"{opts.overhead_gib:g} GiB per GPU kept for activations, CUDA graphs and non-torch memory "
        "(--overhead-gib; an assumption, not measured)",
        f"weights: {opts.scheme.describe()} at {opts.scheme.bits_per_weight():.3f} bits per quantized weight "
        "(scales and zero points included); embeddings, LM head, routers and norms in 16 bits",
        "weights and KV figures of invalid sizes assume an even split (for comparison only)",
        "KV heads beyond one per GPU: " + ("replicated and accepted, as vLLM does" if opts.kv_replication == "allow"
                                           else "counted invalid, as the seed's Max TP column does"),
    ]
    if spec.count("sliding"):
        assumptions.append(f"{spec.count('sliding')} sliding-window layers keep at most {spec.sliding_window} tokens per "
                           "sequence (a per-sequence cost); KV tokens count the full-attention layers")
    if spec.vision_params:
        assumptions.append(f"vision encoder ({spec.vision_params / 1e9:.2f} B params) replicated on every GPU in 16 bits")
    return Plan(spec, opts, length, results, assumptions)
