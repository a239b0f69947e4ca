"""Whether PNG plots can be drawn: matplotlib is the optional ``plot`` extra."""

from __future__ import annotations

import importlib.util

MISSING = "matplotlib is not installed, so no PNG plots were drawn (pip install 'llmbench[plot]')"


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None
