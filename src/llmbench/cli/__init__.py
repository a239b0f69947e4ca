"""``llmbench`` console script: a thin dispatcher over one module per command.

Convention: the command ``llmbench NAME`` lives in ``llmbench.cli.NAME``, which
exposes ``main(argv: list[str]) -> int`` and owns its argument parser (errors as
one ``llmbench: NAME: ...`` line, see ``llmbench.cli.argparsing``). The modules
are imported only when their command runs, so ``llmbench grade`` never loads
the plotting or serving code. Commands stay independent, as ``git``'s do.
"""

from __future__ import annotations

import importlib
import sys

# name (= module under llmbench.cli) -> one-line summary
COMMANDS: dict[str, str] = {
    "grade": "grade a saved model answer for one task (JSON to stdout)",
    "prompt": "print the exact prompt the suite sends for a task",
    "sim": "run the built-in OpenAI-compatible server",
    "sweep": "measure throughput at several concurrency levels",
    "report": "build leaderboards from runs under a folder",
    "serve": "launch recipes and a tensor-parallel/memory planner",
    "patches": "check, apply or revert the vLLM 0.14 patches",
    "regrade": "re-grade a saved run and list changed verdicts",
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: llmbench COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, summary in COMMANDS.items()]
    lines += ["", "Run 'llmbench COMMAND --help' for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    try:
        code = _dispatch(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # inside the try: a reader that left shows up here, not at exit
        return code
    except KeyboardInterrupt:
        print("llmbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `llmbench … | head`: the reader left, not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _dispatch(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else 2
    if args[0] == "--version":
        from llmbench import __version__

        print(f"llmbench {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"llmbench: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    from llmbench import redact
    from llmbench.textsafety import SafeStream

    redact.add_environment_secrets()
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    try:
        return _run(name, rest)
    finally:
        sys.stdout, sys.stderr = streams


def _run(name: str, rest: list[str]) -> int:
    module = importlib.import_module(f"llmbench.cli.{name}")
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
