"""Fetch the real vLLM 0.14.0 / flashinfer wheels (cached) and extract the few files the patch tests read.

Wheels are downloaded once with `pip download --no-deps` into
$LLMBENCH_CACHE/wheels (default ~/.cache/llmbench/wheels) and reused; only the
named members are extracted, with zipfile. Nothing from vLLM is committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from filelock import FileLock

VLLM = ("vllm", "0.14.0")
FLASHINFER_061 = ("flashinfer-python", "0.6.1")
FLASHINFER_053 = ("flashinfer-python", "0.5.3")  # the version vLLM 0.14.0 pins

FLASHINFER_PY = "vllm/v1/attention/backends/flashinfer.py"
COMPRESSED_TENSORS_PY = (
    "vllm/model_executor/layers/quantization/compressed_tensors/compressed_tensors.py"
)
VLLM_MEMBERS = ("vllm/__init__.py", "vllm/_version.py", FLASHINFER_PY, COMPRESSED_TENSORS_PY)


class WheelUnavailable(Exception):
    pass


def cache_dir() -> Path:
    root = os.environ.get("LLMBENCH_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "llmbench"
    path = base / "wheels"
    path.mkdir(parents=True, exist_ok=True)
    return path


def wheel(dist: str, version: str) -> Path:
    """The cached wheel of dist==version, downloading it the first time.

    A lock keeps parallel test workers from downloading at once, and the wheel
    lands in the cache only when complete (downloaded to a temporary folder, then moved).
    """
    stem = dist.replace("-", "_")
    pattern = f"{stem}-{version}-*.whl"
    cache = cache_dir()
    with FileLock(str(cache / ".download.lock")):
        found = sorted(cache.glob(pattern))
        if found:
            return found[0]
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--disable-pip-version-check", "-q", f"{dist}=={version}", "-d", tmp]
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise WheelUnavailable(f"pip download {dist}=={version}: {exc}") from None
            got = sorted(Path(tmp).glob(pattern))
            if done.returncode != 0 or not got:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise WheelUnavailable(f"pip download {dist}=={version} failed: {last}")
            return Path(shutil.move(str(got[0]), cache / got[0].name))


def extract(whl: Path, members: tuple[str, ...], dest: Path) -> Path:
    """Extract `members` of the wheel under dest; returns dest."""
    with zipfile.ZipFile(whl) as zf:
        for name in members:
            zf.extract(name, dest)
    return dest


def read_member(whl: Path, member: str) -> str:
    with zipfile.ZipFile(whl) as zf:
        return zf.read(member).decode("utf-8")
