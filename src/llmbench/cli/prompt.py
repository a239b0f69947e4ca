"""``llmbench prompt TASK``: print the exact prompt the suite sends for TASK."""

from __future__ import annotations

import sys

from llmbench.cli.argparsing import OneLineParser
from llmbench.tasks import TASK_NAMES


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="llmbench prompt", description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=TASK_NAMES)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    from llmbench.tasks import get_task

    sys.stdout.write(get_task(args.task).prompt())
    if not get_task(args.task).prompt().endswith("\n"):
        sys.stdout.write("\n")
    return 0
