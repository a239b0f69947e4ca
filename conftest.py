"""Benchmark-only glue. The llmbench plugin itself is loaded by its entry point
(``pytest11``), never from here: loading it twice fails."""

import pytest


def pytest_collection_modifyitems(items):
    # Every test under tests/ is a benchmark test: mark it so `-m llmbench` selects them.
    for item in items:
        item.add_marker(pytest.mark.llmbench)
