"""Stratum server (nightmare): header byte order, stale jobs, leaks, unchecked input.

One request to the model per run; each parametrized case grades one check
(ids from docs/checks.md, e.g. `-k stratum.`).
"""

import pytest

from llmbench.tasks import check_ids

TASK = "stratum"


@pytest.mark.parametrize("check_id", check_ids(TASK))
def test_stratum(check_id, llmbench_grade):
    llmbench_grade(TASK, check_id)
