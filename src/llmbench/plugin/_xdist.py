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

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        """Under xdist the controller collects nothing itself: count the checks a worker selected."""
        if self.session.active:
            self.session.checks_selected = max(self.session.checks_selected or 0, self.session.count_selected(ids))
