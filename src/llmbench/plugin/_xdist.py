"""Hooks that exist only under pytest-xdist (registered only when it is active)."""

from __future__ import annotations

import pytest


class XdistHooks:
    def __init__(self, session) -> None:
        self.session = session

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        """Hand each worker the controller's resolved endpoint and run folder."""
        settings = self.session.worker_settings()
        if settings is not None:
            node.workerinput["llmbench"] = settings
