"""The sandbox the fix runs need: skip tests without it, or fail them when
LLMBENCH_REQUIRE_SANDBOX=1 (CI, where bubblewrap is installed and must work)."""

from __future__ import annotations

import os

import pytest

from llmbench.verify import sandbox


@pytest.fixture
def require_sandbox() -> None:
    reason = sandbox.unavailable_reason()
    if reason is None:
        return
    if os.environ.get("LLMBENCH_REQUIRE_SANDBOX") == "1":
        pytest.fail(f"sandbox required (LLMBENCH_REQUIRE_SANDBOX=1) but {reason}")
    pytest.skip(f"sandbox unavailable: {reason}")


# use in a test module with `from sandbox_helpers import needs_sandbox, require_sandbox`
needs_sandbox = pytest.mark.usefixtures("require_sandbox")
