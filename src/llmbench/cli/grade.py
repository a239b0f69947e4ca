"""``llmbench grade TASK FILE``: grade a saved raw answer; one JSON object on stdout.

Exit 0 when grading ran (whatever the verdicts), 2 on bad arguments.
This interface is used by outside validation: keep its shape. Each check id maps to
``{"passed", "evidence", "kind", "rule", "execution": {"status", "probe", "detail", "candidate"}}``
(``kind`` and ``rule`` say what decided the verdict; ``rule`` may be absent);
``--no-exec`` leaves the code unrun (status "unavailable").
"""

from __future__ import annotations

import json
import sys

from llmbench.cli.argparsing import OneLineParser
from llmbench.tasks import TASK_NAMES


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="llmbench grade", description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=TASK_NAMES, help="which test the answer belongs to")
    parser.add_argument("file", help="the raw model answer (may contain <think> blocks); '-' for stdin")
    parser.add_argument("--reasoning-file", help="the server's separate reasoning field, if saved apart")
    parser.add_argument("--no-exec", action="store_true",
                        help="do not run the answer's code against the probes (text verdicts only)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        text = sys.stdin.read() if args.file == "-" else _read(args.file)
        reasoning = _read(args.reasoning_file) if args.reasoning_file else None
    except OSError as exc:
        print(f"llmbench: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    from llmbench.verify import Verifier, grade_verified

    verifier = Verifier(enabled=not args.no_exec)
    verdicts = grade_verified(args.task, text, reasoning, verifier)
    if verifier.status_line().startswith("fix runs: skipped"):
        print(f"llmbench: {verifier.status_line()}", file=sys.stderr)
    print(json.dumps({check_id: v.as_dict() for check_id, v in verdicts.items()}, indent=2, ensure_ascii=False))
    return 0


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()
