"""``llmbench report``: leaderboards (Markdown + HTML + PNG plots) from the runs under folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llmbench import plotting
from llmbench.cli.argparsing import OneLineParser
from llmbench.leaderboard.build import build, write
from llmbench.leaderboard.merge import merge_runs
from llmbench.leaderboard.reference import load_reference
from llmbench.leaderboard.runs import find_run_files, load_registry, load_run


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="llmbench report",
        description="Build leaderboard.md, leaderboard.html and PNG plots from every results.json "
                    "(quality) and sweep.json (throughput) found under the given folders.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="folders to search (recursively) or run files")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: PATH/leaderboard for the first PATH)")
    parser.add_argument("--with-reference", action="store_true",
                        help="add the seed's published 8x RTX A4000 results, marked 'published'")
    parser.add_argument("--all", dest="all_runs", action="store_true",
                        help="list every run instead of the newest per model and serving setup")
    parser.add_argument("--models-file", type=Path, default=None,
                        help="model registry for alias -> display name (default: the project's models.yaml)")
    parser.add_argument("--title", default="LLM Leaderboard", help="page title (default: %(default)s)")
    return parser


def _fail(message: str) -> int:
    print(f"llmbench: {message}", file=sys.stderr)
    return 2


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    for path in args.paths:
        if not path.exists():
            return _fail(f"report: {path} does not exist")
    out: Path = args.out or (args.paths[0] if args.paths[0].is_dir() else args.paths[0].parent) / "leaderboard"
    if out.exists() and not out.is_dir():
        return _fail(f"report: --out {out} is a file, not a folder")

    models_file = args.models_file
    if models_file is None:
        from llmbench.paths import default_models_file
        models_file = default_models_file()
    elif not models_file.is_file():
        return _fail(f"report: --models-file {models_file} does not exist")
    registry = load_registry(models_file)

    runs = []
    for file in find_run_files(args.paths, exclude=out):
        try:
            runs.append(load_run(file, registry))
        except ValueError as exc:
            print(f"llmbench: report: skipping {file}: {exc}", file=sys.stderr)
    rows = merge_runs(runs, all_runs=args.all_runs)
    if not rows and not args.with_reference:
        return _fail(f"report: no usable results.json or sweep.json under {', '.join(map(str, args.paths))} "
                     "(add --with-reference to show the published results alone)")

    reference = load_reference() if args.with_reference else None
    board = build(rows, reference, sources=[str(p) for p in args.paths], all_runs=args.all_runs, title=args.title)
    if not plotting.available():
        print(f"llmbench: report: {plotting.MISSING}", file=sys.stderr)
    try:
        written = write(board, out)
    except OSError as exc:
        return _fail(f"report: cannot write to {out}: {exc.strerror or exc}")
    quality = sum(1 for r in runs if r.quality)
    print(f"{len(rows)} row(s) from {quality} quality run(s) and {len(runs) - quality} sweep(s)"
          + (" + published reference" if reference else ""))
    for path in written:
        print(path)
    return 0
