"""Describe the GPUs of this machine for the run's metadata (nvidia-smi when present)."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter


def describe_gpus() -> str | None:
    """E.g. "8x NVIDIA RTX A4000 (16376 MiB)"; None when no NVIDIA GPU is visible."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    kinds = Counter(line.strip() for line in out.splitlines() if line.strip())
    if not kinds:
        return None
    parts = []
    for line, count in kinds.items():
        name, _, memory = line.partition(",")
        parts.append(f"{count}x {name.strip()}" + (f" ({memory.strip()})" if memory.strip() else ""))
    return ", ".join(parts)
