"""The llmbench pytest plugin (loaded through the ``pytest11`` entry point)."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmbench", "llmbench: LLM quality and throughput benchmark")
    group.addoption("--model", default=None, help="model alias from models.yaml, a served model name, or 'demo' for the built-in server")
    group.addoption("--api-url", default=None, help="OpenAI-compatible base URL (default: the registry's, else http://localhost:8000/v1)")
    group.addoption("--api-key", default=os.environ.get("OPENAI_API_KEY"), help="API key (default: $OPENAI_API_KEY)")
