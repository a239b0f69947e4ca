"""Keep ``--results-dir DIR`` (value as its own word) from being taken for a test path.

pytest picks its rootdir and ini file before it knows plugin options
(pytest-dev/pytest#8846): in ``pytest --model demo --results-dir /tmp/x`` it
counts ``/tmp/x`` as a test path, finds no ``pytest.ini`` there and drops the
benchmark's ``testpaths``, so it collects the whole checkout. Once the
options are known we redo that choice with each such value joined to its
option (``--results-dir=/tmp/x``); when the choice differs, the command is run
again in that form (or, inside another process's ``pytest.main``, refused
with the form to use).
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import pytest

_RERUN_MARK = "LLMBENCH_ARGS_JOINED"


def joined_args(args: list[str], value_options: set[str], invocation_dir: Path) -> list[str] | None:
    """``args`` with every ``--opt VALUE`` whose VALUE exists on disk written ``--opt=VALUE``; None if none."""
    out: list[str] = []
    changed = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out += args[i:]
            break
        if arg in value_options and i + 1 < len(args) and (invocation_dir / args[i + 1]).exists():
            out.append(f"{arg}={args[i + 1]}")
            changed = True
            i += 2
            continue
        out.append(arg)
        i += 1
    return out if changed else None


def value_options(parser: pytest.Parser, group_name: str) -> set[str]:
    names: set[str] = set()
    for option in parser.getgroup(group_name).options:
        if option.attrs().get("action") in ("store_true", "store_false", "count"):
            continue
        names.update(n for n in option.names() if n.startswith("--"))
    return names


def _setup_for(config: pytest.Config, parser: pytest.Parser, args: list[str]) -> tuple | None:
    """The (rootdir, ini file) pytest would choose for ``args`` now that every option is known."""
    try:
        from _pytest.config.findpaths import determine_setup

        ns, unknown = parser.parse_known_and_unknown_args(args, namespace=copy.copy(config.option))
        rootdir, inipath, *_ = determine_setup(
            inifile=ns.inifilename, override_ini=ns.override_ini, args=ns.file_or_dir + unknown,
            rootdir_cmd_arg=ns.rootdir or None, invocation_dir=config.invocation_params.dir)
    except Exception:  # a pytest whose internals differ: assume the choice changed
        return None
    return rootdir, inipath


def correct(config: pytest.Config, parser: pytest.Parser, group_name: str) -> None:
    original = list(config.invocation_params.args)
    fixed = joined_args(original, value_options(parser, group_name), config.invocation_params.dir)
    if fixed is None:
        return
    if _setup_for(config, parser, fixed) == (config.rootpath, config.inipath):
        return  # the value was taken for a path, but the rootdir and ini file are the right ones
    if os.environ.get(_RERUN_MARK) != "1" and original == sys.argv[1:]:
        prefix = sys.orig_argv[: len(sys.orig_argv) - len(original)]
        os.environ[_RERUN_MARK] = "1"
        capture = config.pluginmanager.getplugin("capturemanager")
        if capture is not None:  # give the terminal back: fd capture has already started
            capture.stop_global_capturing()
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, *prefix[1:], *fixed])
    raise pytest.UsageError(
        "llmbench: pytest took an option's value for a test path and chose another rootdir/ini file; "
        "write the value after '=': " + " ".join(a for a in fixed if a not in original))
