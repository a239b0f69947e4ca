"""PPLNS payouts (hard): configuration that never reaches the payout window.

One request to the model per run; each parametrized case grades one check
(ids from docs/checks.md, e.g. `-k pplns.`).
"""

import pytest

from llmbench.tasks import check_ids

TASK = "pplns"


@pytest.mark.parametrize("check_id", check_ids(TASK))
def test_pplns(check_id, llmbench_grade):
    llmbench_grade(TASK, check_id)
