"""`llmbench patches check|apply|revert [--vllm-dir DIR] [--force]`.

Per patch it says "applies", "already applied" or "does not apply" (with the
reason). `apply` is idempotent and keeps the untouched file as
`<file>.llmbench-orig`; `revert` un-applies the diff (and removes that
backup). Both refuse a vLLM version the patch was not made for unless
--force. Diffs are applied by llmbench's own unified-diff code, so the
`patch` program is not needed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from llmbench.cli.argparsing import OneLineParser
from llmbench.patching import unidiff, vllm_tree
from llmbench.paths import patches_dir

BACKUP_SUFFIX = ".llmbench-orig"


class CliError(Exception):
    pass


@dataclass
class LoadedPatch:
    name: str
    patch: unidiff.Patch

    @property
    def versions(self) -> list[str]:
        return self.patch.header.get("vllm-versions", "").replace(",", " ").split()


def load_patches(directory: Path | None = None) -> list[LoadedPatch]:
    directory = directory or patches_dir()
    found = sorted(directory.glob("*.diff"))
    if not found:
        raise CliError(f"no .diff files in {directory}")
    loaded = []
    for path in found:
        try:
            loaded.append(LoadedPatch(path.stem, unidiff.parse(path.read_text(encoding="utf-8"))))
        except unidiff.PatchError as exc:
            raise CliError(f"{path.name}: {exc}") from None
    return loaded


def patch_status(tree: Path, lp: LoadedPatch) -> tuple[str, str]:
    """Status of a (possibly multi-file) patch: the worst of its files."""
    for fp in lp.patch.files:
        target = tree / fp.path
        if not target.is_file():
            return "does not apply", f"{fp.path} is missing"
    states = [unidiff.status(_read(tree / fp.path), fp) for fp in lp.patch.files]
    for state, reason in states:
        if state == "does not apply":
            return state, reason
    if all(state == "already applied" for state, _ in states):
        return "already applied", ""
    if all(state == "applies" for state, _ in states):
        return "applies", ""
    return "does not apply", "partly applied: some files patched, others not"


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def apply_one(tree: Path, lp: LoadedPatch) -> str:
    state, reason = patch_status(tree, lp)
    if state != "applies":
        return state if not reason else f"{state}: {reason}"
    new_texts = {}
    for fp in lp.patch.files:
        target = tree / fp.path
        new_texts[target] = unidiff.apply_hunks(_read(target), fp.hunks)
    for target, text in new_texts.items():
        backup = target.with_name(target.name + BACKUP_SUFFIX)
        if not backup.exists():
            shutil.copy2(target, backup)
        _write(target, text)
    return "applied"


def revert_one(tree: Path, lp: LoadedPatch) -> str:
    state, reason = patch_status(tree, lp)
    if state == "applies":
        return "not applied (nothing to revert)"
    if state != "already applied":
        return f"{state}: {reason}"
    for fp in lp.patch.files:
        target = tree / fp.path
        _write(target, unidiff.apply_hunks(_read(target), fp.hunks, reverse=True))
        backup = target.with_name(target.name + BACKUP_SUFFIX)
        if backup.exists() and _read(backup) == _read(target):
            backup.unlink()
    return "reverted"


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="llmbench patches",
        description="Check, apply or revert llmbench's vLLM 0.14 patches (see patches/README.md).",
    )
    p.add_argument("action", choices=["check", "apply", "revert"])
    p.add_argument("--vllm-dir", help="directory holding the vllm/ package (default: the installed vllm, found without importing it)")
    p.add_argument("--patches-dir", help=argparse.SUPPRESS)
    p.add_argument("--force", action="store_true", help="apply/revert even on a vLLM version the patches were not made for")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (CliError, vllm_tree.VllmNotFound, OSError) as exc:
        print(f"llmbench: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    patches = load_patches(Path(args.patches_dir) if args.patches_dir else None)
    tree = vllm_tree.locate(args.vllm_dir)
    found = vllm_tree.version(tree)
    print(f"vLLM {found or 'version unknown'} at {tree}")
    supported = sorted({v for lp in patches for v in lp.versions})
    mismatch = found not in supported
    if mismatch:
        note = f"these patches are for vLLM {', '.join(supported)}, found {found or 'an unknown version'}"
        if args.action != "check" and not args.force:
            raise CliError(f"{note}; pass --force to {args.action} anyway")
        print(f"warning: {note}")
    failed = False
    for lp in patches:
        if args.action == "check":
            state, reason = patch_status(tree, lp)
            line = state if not reason else f"{state} ({reason})"
            failed |= state == "does not apply"
        elif args.action == "apply":
            line = apply_one(tree, lp)
            failed |= not line.startswith(("applied", "already applied"))
        else:
            line = revert_one(tree, lp)
            failed |= not line.startswith(("reverted", "not applied"))
        print(f"{lp.name}: {line}")
    return 1 if failed else 0
