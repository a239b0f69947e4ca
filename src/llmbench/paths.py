"""Where the project's data lives, in a checkout and in an installed wheel.

The data (buggy code, the model registry, serve recipes, patches) sits at the
top of the repository; a wheel carries a copy under ``llmbench/_data``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DATA = Path(__file__).resolve().parent / "_data"
_CHECKOUT = Path(__file__).resolve().parents[2]


def _locate(wheel_name: str, *checkout_parts: str) -> Path:
    """The wheel's copy when installed from a wheel, else the checkout's file."""
    packaged = _PACKAGE_DATA / wheel_name
    return packaged if packaged.exists() else _CHECKOUT.joinpath(*checkout_parts)


def buggy_code_dir() -> Path:
    return _locate("buggy_code", "fixtures", "buggy_code")


def default_models_file() -> Path:
    return _locate("models.yaml", "models.yaml")


def serve_dir() -> Path:
    return _locate("serve", "serve")


def patches_dir() -> Path:
    return _locate("patches", "patches")
