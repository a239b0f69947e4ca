"""`llmbench serve list | show NAME | plan CONFIG ...`.

list/show print the launch recipes of serve/*.yaml (the exact commands and
the `pytest --model ALIAS` that follows); plan checks every tensor-parallel
size for a Hugging Face config.json and estimates per-GPU memory (planner.py).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from llmbench.cli.argparsing import OneLineParser
from llmbench.paths import serve_dir
from llmbench.serve import modelspec, planner, quant, recipes, report


class CliError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="llmbench serve", description="Launch recipes and a TP/memory planner.")
    sub = p.add_subparsers(dest="action", required=True, metavar="{list,show,plan}")
    sub.add_parser("list", help="list the recipes")
    show = sub.add_parser("show", help="print a recipe's exact launch command(s)")
    show.add_argument("name")
    pl = sub.add_parser("plan", help="valid TP sizes and per-GPU memory for a config.json",
                        description="CONFIG is a Hugging Face config.json (or its directory, or the name of a "
                                    "shipped config in serve/configs, e.g. qwen3-next-80b-a3b).")
    pl.add_argument("config")
    pl.add_argument("--gpus", type=int, required=True, help="GPUs available (TP sizes 1..N are checked)")
    pl.add_argument("--gpu-mem-gib", type=float, required=True, help="memory of one GPU in GiB")
    pl.add_argument("--quant", choices=quant.QUANTS, help="weight format (default: the config's quantization_config, else bf16)")
    pl.add_argument("--group-size", type=int, help="awq/gptq group size (default: the config's, else 128; -1 = channelwise)")
    pl.add_argument("--kv-cache-dtype", default="auto", choices=["auto", "fp8", "fp8_e4m3", "fp8_e5m2"])
    pl.add_argument("--max-model-len", type=int, help="sequence length for the concurrency figure (default: the config's max_position_embeddings)")
    pl.add_argument("--gpu-memory-utilization", type=float, default=0.9, help="as vLLM's flag (default 0.9)")
    pl.add_argument("--overhead-gib", type=float, default=planner.DEFAULT_OVERHEAD_GIB,
                    help="per-GPU memory kept for activations, CUDA graphs, non-torch use (assumed; default %(default)s)")
    pl.add_argument("--kv-replication", choices=planner.KV_POLICIES, default="allow",
                    help="TP above the KV-head count: 'allow' (default: vLLM replicates the KV heads) "
                         "or 'forbid' (the seed's rule)")
    pl.add_argument("--json", action="store_true", help="print JSON")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.action == "list":
            return _list()
        if args.action == "show":
            return _show(args.name)
        return _plan(args)
    except (CliError, recipes.RecipeError, modelspec.ConfigError) as exc:
        print(f"llmbench: {exc}", file=sys.stderr)
        return 2


def _list() -> int:
    items = recipes.all_recipes()
    width = max(len(r.name) for r in items)
    for r in items:
        print(f"{r.name:<{width}}  {r.title}  [models: {', '.join(r.models)}]")
    return 0


def _show(name: str) -> int:
    r = recipes.find(name)
    print(f"# {r.title}")
    if r.description:
        print(f"# {r.description}")
    print(f"# source: {r.source}")
    if r.patches:
        print(f"# needs vLLM patches: {', '.join(r.patches)}  (llmbench patches apply)")
    for note in r.notes:
        print(f"# note: {note}")
    for launch in r.launches:
        print()
        print(launch.command())
    print()
    print("# then benchmark it:")
    for launch in r.launches:
        print(f"pytest --model {launch.alias} --api-url {launch.api_url}")
    if r.config:
        p = r.plan
        extra = "".join(f" --{k.replace('_', '-')} {v}" for k, v in p.items() if k not in ("gpus", "gpu_mem_gib"))
        path = r.config_path()
        assert path is not None  # r.config is set
        shown = path.stem if path.parent == (serve_dir() / "configs").resolve() else str(path)
        print(f"# check the fit first: llmbench serve plan {shown} "
              f"--gpus {p.get('gpus', 8)} --gpu-mem-gib {p.get('gpu_mem_gib', 16)}{extra}")
    return 0


MAX_GPUS = 256   # the plan lists every TP size up to --gpus; beyond this it is no serving plan


def _resolve_config(given: str) -> Path:
    path = Path(given)
    if path.exists():
        return path
    shipped = serve_dir() / "configs" / f"{given}.json"
    if shipped.is_file():
        return shipped
    raise CliError(f"config not found: {given} (a config.json path, or one of serve/configs/*.json by name)")


def _plan(args: argparse.Namespace) -> int:
    for option in ("gpu_mem_gib", "gpu_memory_utilization", "overhead_gib"):
        if not math.isfinite(getattr(args, option)):
            raise CliError(f"--{option.replace('_', '-')} must be a number, got {getattr(args, option)}")
    if args.gpus < 1:
        raise CliError("--gpus must be at least 1")
    if args.gpus > MAX_GPUS:
        raise CliError(f"--gpus must be at most {MAX_GPUS} (the plan covers one tensor-parallel group), got {args.gpus}")
    if args.gpu_mem_gib <= 0:
        raise CliError("--gpu-mem-gib must be positive")
    if not 0 < args.gpu_memory_utilization <= 1:
        raise CliError("--gpu-memory-utilization must be in (0, 1]")
    if args.max_model_len is not None and args.max_model_len < 1:
        raise CliError("--max-model-len must be positive")
    if args.overhead_gib < 0:
        raise CliError("--overhead-gib must not be negative")
    spec = modelspec.load(_resolve_config(args.config))
    declared = quant.from_config(spec.quantization)
    if args.quant:
        group = args.group_size
        if group is None and declared and declared.method == args.quant:
            group = declared.group_size
        scheme = quant.make(args.quant, group)
    else:
        scheme = declared or quant.make("bf16")
        if args.group_size is not None:
            scheme = quant.make(scheme.method, args.group_size)
    if args.group_size is not None and not scheme.grouped:
        raise CliError(f"--group-size applies to awq/gptq, not {scheme.method}")
    if scheme.grouped and (scheme.group_size == 0 or scheme.group_size < -1):
        raise CliError("--group-size must be positive or -1 (channelwise)")
    opts = planner.Options(
        gpus=args.gpus, gpu_mem_gib=args.gpu_mem_gib, scheme=scheme, kv_cache_dtype=args.kv_cache_dtype,
        max_model_len=args.max_model_len, gpu_memory_utilization=args.gpu_memory_utilization,
        overhead_gib=args.overhead_gib, kv_replication=args.kv_replication,
    )
    result = planner.plan(spec, opts)
    print(report.as_json(result) if args.json else report.text(result))
    return 0
