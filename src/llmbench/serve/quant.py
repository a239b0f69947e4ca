"""Weight formats: bits per weight, and which kernel vLLM 0.14 can use for a sharded layer.

The alignment rules are vLLM 0.14.0's own (model_executor/layers/quantization):
* Marlin (GPTQ/AWQ, dense): per-GPU output size n % 64 (min_thread_n) and
  per-GPU input size k % 128 (min_thread_k), group size in {-1, 32, 64, 128}.
* Any grouped format: the group size must divide the per-GPU input size k of a
  row-parallel layer, or the scales cannot be split (the layer fails to load).
  Marlin-misaligned but group-aligned layers fall back to a slower kernel:
  Exllama for GPTQ (float16 activations only: `--dtype float16`) and the
  plain AWQ GEMM kernel for AWQ.
* Marlin MoE: hidden % 128 and per-GPU moe intermediate % max(64, group);
  otherwise the MoE-WNA16 kernel, which halves the group size (down to 32)
  until it divides the per-GPU intermediate size and the hidden size.
"""

from __future__ import annotations

from dataclasses import dataclass

MARLIN_MIN_N = 64
MARLIN_MIN_K = 128
MARLIN_GROUPS = (-1, 32, 64, 128)
QUANTS = ("bf16", "fp16", "fp8", "awq", "gptq", "mxfp4")


@dataclass(frozen=True)
class Scheme:
    method: str  # one of QUANTS
    bits: int = 16
    group_size: int = -1  # -1: one group per column (channelwise)
    desc_act: bool = False

    @property
    def grouped(self) -> bool:
        return self.method in ("awq", "gptq")

    def bits_per_weight(self) -> float:
        """Stored bits per weight, scales and zero points included."""
        if self.method in ("bf16", "fp16"):
            return 16.0
        if self.method == "fp8":
            return 8.0
        if self.method == "mxfp4":
            return 4.0 + 8.0 / 32  # 4-bit values + one 8-bit scale per 32
        group = self.group_size if self.group_size > 0 else None
        # fp16 scale + packed zero point (bits wide) per group and output column
        return self.bits + ((16 + self.bits) / group if group else 0.0)

    def quantizes(self, kind: str) -> bool:
        """Whether a weight of this kind is stored quantized ("linear" | "expert")."""
        if self.method in ("bf16", "fp16"):
            return False
        if self.method == "mxfp4":  # GPT-OSS: only the MoE experts are MXFP4
            return kind == "expert"
        return kind in ("linear", "expert")

    def describe(self) -> str:
        if self.grouped:
            group = "channelwise" if self.group_size < 0 else f"group {self.group_size}"
            return f"{self.method} {self.bits}-bit, {group}"
        return self.method


def from_config(qc: dict) -> Scheme | None:
    """The scheme a config.json's quantization_config declares (None if none)."""
    if not qc:
        return None
    method = str(qc.get("quant_method") or "").lower()
    if method == "compressed-tensors":  # llm-compressor exports: read the weight scheme
        groups = qc.get("config_groups") or {}
        weights: dict = next((g["weights"] for g in groups.values() if isinstance(g, dict) and g.get("weights")), {})
        if (weights.get("type") or "int") == "float":
            return Scheme("fp8", 8)
        return Scheme("awq", int(weights.get("num_bits") or 4), int(weights.get("group_size") or -1))
    if method in ("awq", "awq_marlin"):
        return Scheme("awq", int(qc.get("bits") or qc.get("w_bit") or 4),
                      int(qc.get("group_size") or qc.get("q_group_size") or 128))
    if method in ("gptq", "gptq_marlin"):
        return Scheme("gptq", int(qc.get("bits") or 4), int(qc.get("group_size") or 128),
                      bool(qc.get("desc_act")))
    if method in ("fp8", "mxfp4"):
        return Scheme(method, 8 if method == "fp8" else 4)
    return None


def make(method: str, group_size: int | None = None, bits: int = 4) -> Scheme:
    if method in ("awq", "gptq"):
        return Scheme(method, bits, group_size if group_size is not None else 128)
    return Scheme(method, {"fp8": 8, "mxfp4": 4}.get(method, 16))


@dataclass
class LinearCheck:
    ok: bool  # the layer can be loaded at all
    kernel: str  # which kernel vLLM picks
    problem: str = ""  # why it cannot load, or why it is not Marlin


def check_linear(scheme: Scheme, name: str, n: int, k: int, k_full: int, row_parallel: bool) -> LinearCheck:
    """A dense GPTQ/AWQ layer with per-GPU output n and input k (full input k_full)."""
    g = scheme.group_size
    if g > 0 and g < k_full and k % g:
        marlin = f"; nor Marlin-aligned: K % {MARLIN_MIN_K} = {k % MARLIN_MIN_K}" if k % MARLIN_MIN_K else ""
        return LinearCheck(False, "none",
                           f"{name}: per-GPU K={k} is not a multiple of group size {g} ({k} % {g} = {k % g}), "
                           f"so the quantization scales cannot be split{marlin}")
    if scheme.method == "gptq" and scheme.desc_act and row_parallel:
        return LinearCheck(False, "none", f"{name}: act-order (desc_act) GPTQ cannot shard its input across GPUs")
    pack = 32 // scheme.bits
    if n % pack:
        return LinearCheck(False, "none", f"{name}: per-GPU N={n} is not a multiple of the packing factor {pack}")
    misaligned = []
    if n % MARLIN_MIN_N:
        misaligned.append(f"N={n} % {MARLIN_MIN_N} = {n % MARLIN_MIN_N}")
    if k % MARLIN_MIN_K:
        misaligned.append(f"K={k} % {MARLIN_MIN_K} = {k % MARLIN_MIN_K}")
    if g not in MARLIN_GROUPS:
        misaligned.append(f"group size {g} not in {MARLIN_GROUPS}")
    if not misaligned:
        return LinearCheck(True, "marlin")
    fallback = "exllama" if scheme.method == "gptq" else "awq-gemm"
    extra = " (needs --dtype float16)" if fallback == "exllama" else ""
    return LinearCheck(True, fallback,
                       f"{name}: not Marlin-aligned ({', '.join(misaligned)}); vLLM falls back to {fallback}{extra}")


def check_moe(scheme: Scheme, hidden: int, inter_per_gpu: int) -> LinearCheck:
    """GPTQ/AWQ MoE experts with per-GPU intermediate size inter_per_gpu."""
    g = scheme.group_size
    if hidden % 128 == 0 and inter_per_gpu % max(64, g) == 0 and g in MARLIN_GROUPS:
        return LinearCheck(True, "marlin-moe")
    group = g if g > 0 else inter_per_gpu
    while inter_per_gpu % group or hidden % group:
        group //= 2
        if group < 32:
            return LinearCheck(False, "none",
                               f"MoE experts: per-GPU intermediate {inter_per_gpu} needs a group size below 32 "
                               f"(from {g}); neither Marlin-MoE nor MoE-WNA16 can load it")
    return LinearCheck(True, "moe-wna16",
                       f"MoE experts: per-GPU intermediate {inter_per_gpu} % max(64, {g}) = "
                       f"{inter_per_gpu % max(64, g)}, not Marlin-MoE; MoE-WNA16 runs them with group {group}")
