"""``llmbench sim``: run the built-in OpenAI-compatible server in the foreground."""

from __future__ import annotations

import argparse
import sys

from llmbench.cli.argparsing import OneLineParser
from llmbench.sim.engine import DEFAULT_CURVE, format_curve, parse_curve
from llmbench.sim.server import FAIL_MODES, SimConfig, run


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="llmbench sim",
        description="Built-in OpenAI-compatible server: a calibrated continuous-batching engine "
                    "that also answers the quality tasks with their reference answers.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    p.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one (default: %(default)s)")
    p.add_argument("--port-file", help="write the bound port to this file once listening")
    p.add_argument("--capacity-curve", default=format_curve(DEFAULT_CURVE), metavar="N:TOK_S,...",
                   help="aggregate tok/s at N active streams, linear between points, flat beyond "
                        "(default: the seed's Nemotron-3-Nano column %(default)s)")
    p.add_argument("--prefill-tok-s", type=float, default=8000.0,
                   help="prompt tokens/s; TTFT includes prompt_tokens/rate (default: %(default)s; 0 = none)")
    p.add_argument("--tokens-per-chunk", type=int, default=1, metavar="K",
                   help="tokens in each streamed chunk (default: %(default)s)")
    p.add_argument("--max-streams", type=int, metavar="N",
                   help="at most N requests prefill or decode at once; the rest wait in arrival order, "
                        "as with vLLM's --max-num-seqs or llama-server's -np (default: no limit)")
    p.add_argument("--reasoning", action="store_true", help="stream a short reasoning_content part first")
    p.add_argument("--instant", action="store_true", help="no pacing: send each answer at once")
    p.add_argument("--served-name", action="append", default=[], metavar="NAME",
                   help="another model name to list in /v1/models (repeatable; any name is served)")
    p.add_argument("--fail", choices=FAIL_MODES, help="inject this fault (see --fail-every)")
    p.add_argument("--fail-every", type=int, default=1, metavar="N",
                   help="with --fail: every Nth chat request fails (default: every one)")
    p.add_argument("--natural-length", type=int, metavar="N",
                   help="filler stops at N tokens unless ignore_eos/min_tokens ask for more")
    p.add_argument("--strict-params", action="store_true",
                   help="reject ignore_eos/min_tokens with HTTP 400, like servers that lack them")
    p.add_argument("--stall-s", type=float, default=600.0, help="how long --fail stall stalls (default: %(default)s)")
    p.add_argument("--script", metavar="FILE",
                   help='JSON list of {"match": regex, "content": ..., "reasoning": ...}: fixed replies')
    p.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        curve = parse_curve(args.capacity_curve)
    except ValueError as exc:
        print(f"llmbench: {exc}", file=sys.stderr)
        return 2
    if args.tokens_per_chunk < 1 or args.fail_every < 1 or (args.max_streams is not None and args.max_streams < 1):
        print("llmbench: --tokens-per-chunk, --fail-every and --max-streams must be at least 1", file=sys.stderr)
        return 2
    config = SimConfig(
        host=args.host, port=args.port, capacity_curve=curve, prefill_tok_s=args.prefill_tok_s,
        tokens_per_chunk=args.tokens_per_chunk, reasoning=args.reasoning, instant=args.instant,
        served_names=tuple(args.served_name), fail=args.fail, fail_every=args.fail_every,
        natural_length=args.natural_length, strict_params=args.strict_params, stall_s=args.stall_s,
        script=args.script, parent_pid=args.parent_pid, max_streams=args.max_streams,
    )
    if args.script:
        from llmbench.sim.replies import load_script

        try:
            load_script(args.script)
        except (OSError, ValueError) as exc:
            print(f"llmbench: --script: {exc}", file=sys.stderr)
            return 2

    def announce(sim) -> None:
        if not args.port_file:
            print(f"llmbench sim: serving http://{args.host}:{sim.port}/v1 (Ctrl-C to stop)", flush=True)

    try:
        run(config, port_file=args.port_file, announce=announce)
    except OSError as exc:
        print(f"llmbench: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
