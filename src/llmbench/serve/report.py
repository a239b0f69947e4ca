"""Render a Plan as a text table (with its reasons and assumptions) or as JSON."""

from __future__ import annotations

import json

from llmbench.serve.planner import GIB, Plan


def _shape(plan: Plan) -> list[str]:
    s = plan.spec
    kinds = [f"{s.count('attention')} attention"]
    for mixer, label in (("sliding", "sliding-window"), ("mamba", "Mamba-2"), ("linear_attention", "linear-attention")):
        if s.count(mixer):
            kinds.append(f"{s.count(mixer)} {label}")
    lines = [f"{s.name} ({s.model_type}): {len(s.layers)} layers ({', '.join(kinds)}), hidden {s.hidden}"]
    if s.mla:
        lines.append(f"  attention: {s.heads} heads, latent KV (kv_lora_rank {s.kv_lora_rank} + rope {s.qk_rope_head_dim})")
    else:
        lines.append(f"  attention: {s.heads} query heads, {s.kv_heads} KV heads, head_dim {s.head_dim}")
    if s.experts:
        shared = f", shared {s.shared_intermediate}" if s.shared_intermediate else ""
        lines.append(f"  MoE: {s.experts} experts x {s.moe_intermediate}{shared}"
                     + (f"; dense MLP {s.intermediate}" if s.intermediate else ""))
    elif s.intermediate:
        lines.append(f"  MLP: intermediate_size {s.intermediate}")
    o = plan.options
    skip = f" (kept in 16 bits: {', '.join(sorted(s.quant_skip))})" if s.quant_skip and o.scheme.method not in ("bf16", "fp16") else ""
    lines.append(f"  weights: {o.scheme.describe()}{skip}; KV cache: {o.kv_cache_dtype}; max_model_len {plan.max_model_len}")
    lines.append(f"  GPUs: {o.gpus} x {o.gpu_mem_gib:g} GiB")
    return lines


def text(plan: Plan) -> str:
    L = plan.max_model_len
    out = _shape(plan) + [""]
    out.append(f"  TP  valid  weights/GPU  KV bytes/token/GPU      KV tokens  seqs@{L}  fits")
    for r in plan.results:
        kv_tokens = f"{r.kv_tokens:,}" if r.valid else "-"
        seqs = f"{r.concurrency:.1f}" if r.valid else "-"
        fits = ("yes" if r.fits else "no") if r.valid else "-"
        out.append(f"  {r.size:>2}  {'yes' if r.valid else 'no':<5}  {r.weights_gib_per_gpu:>7.2f} GiB"
                   f"  {r.kv_bytes_per_token:>18,}  {kv_tokens:>13}  {seqs:>{len(str(L)) + 5}}  {fits}")
    out.append("")
    for r in plan.results:
        for reason in r.reasons:
            out.append(f"  TP {r.size}: invalid: {reason}")
        for note in r.notes:
            out.append(f"  TP {r.size}: note: {note}")
        if r.valid and r.state_bytes_per_seq:
            out.append(f"  TP {r.size}: note: fixed per-sequence state (recurrent / sliding-window) "
                       f"{r.state_bytes_per_seq / 2**20:.1f} MiB per GPU")
    out.append("")
    best = plan.max_tp
    if not best:
        out.append("max TP: none of 1..%d is valid" % plan.options.gpus)
    else:
        r = plan.result(best)
        out.append(f"max TP: {best}  (weights {r.weights_gib_per_gpu:.2f} GiB = {r.weights_gib_per_gpu * GIB / 1e9:.2f} GB per GPU)")
        fitting = [x for x in plan.results if x.valid and x.fits]
        if fitting:
            f = fitting[-1]
            out.append(f"fits: yes at TP {f.size}: {f.kv_tokens:,} tokens of KV cache, "
                       f"{f.concurrency:.1f} concurrent sequences of {L} tokens")
        else:
            usable = plan.options.gpu_mem_gib * plan.options.gpu_memory_utilization
            out.append(f"fits: no: at TP {best} the weights need {r.weights_gib_per_gpu:.2f} GiB per GPU "
                       f"+ {plan.options.overhead_gib:g} GiB overhead, {usable:.2f} GiB usable"
                       + ("" if r.kv_budget_gib <= 0 else f", leaving KV cache for {r.concurrency:.2f} sequences of {L}"))
    out.append("")
    out.append("assumptions:")
    out += [f"  - {a}" for a in plan.assumptions]
    return "\n".join(out)


def as_json(plan: Plan) -> str:
    o = plan.options
    s = plan.spec
    doc = {
        "model": s.name,
        "model_type": s.model_type,
        "gpus": o.gpus,
        "gpu_mem_gib": o.gpu_mem_gib,
        "gpu_memory_utilization": o.gpu_memory_utilization,
        "overhead_gib": o.overhead_gib,
        "quant": {"method": o.scheme.method, "bits": o.scheme.bits, "group_size": o.scheme.group_size,
                  "bits_per_weight": round(o.scheme.bits_per_weight(), 4),
                  "kept_16bit": sorted(s.quant_skip)},
        "kv_cache_dtype": o.kv_cache_dtype,
        "kv_replication": o.kv_replication,
        "max_model_len": plan.max_model_len,
        "max_tp": plan.max_tp,
        "fits": plan.fits,
        "tp": [r.as_dict() for r in plan.results],
        "assumptions": plan.assumptions,
    }
    return json.dumps(doc, indent=2)
