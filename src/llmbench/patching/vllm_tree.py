"""Find an installed vLLM and read its version without importing it.

Importing vLLM pulls in torch and CUDA; everything here only reads files.
The "tree" is the directory that holds the `vllm/` package (site-packages,
or an extracted wheel), since the patches name files as `vllm/...`.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

_VERSION = re.compile(r"""^__version__\s*=\s*(?:version\s*=\s*)?['"]([^'"]+)['"]""", re.M)


class VllmNotFound(Exception):
    pass


def locate(vllm_dir: str | None) -> Path:
    """The tree holding `vllm/`: from --vllm-dir (the tree or the package itself) or the import path."""
    if vllm_dir:
        given = Path(vllm_dir).expanduser()
        if (given / "vllm" / "__init__.py").is_file():
            return given
        if given.name == "vllm" and (given / "__init__.py").is_file():
            return given.parent
        raise VllmNotFound(f"no vllm package in {given} (expected {given}/vllm/__init__.py)")
    spec = importlib.util.find_spec("vllm")  # locates, does not execute vllm
    if spec is None or not spec.origin:
        raise VllmNotFound("vLLM is not installed in this Python; pass --vllm-dir DIR")
    return Path(spec.origin).resolve().parent.parent


def version(tree: Path) -> str | None:
    """vLLM's version from vllm/_version.py, else from its .dist-info METADATA."""
    version_file = tree / "vllm" / "_version.py"
    if version_file.is_file():
        m = _VERSION.search(version_file.read_text(encoding="utf-8", errors="replace"))
        if m:
            return m.group(1)
    for meta in sorted(tree.glob("vllm-*.dist-info/METADATA")):
        for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Version:"):
                return line.split(":", 1)[1].strip()
    return None
