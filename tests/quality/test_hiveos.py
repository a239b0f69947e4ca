"""HiveOS wrapper (practical): eight checks on the files the answer creates.

One request to the model per run; each parametrized case grades one check
(ids from docs/checks.md, e.g. `-k hiveos.`).
"""

import pytest

from llmbench.tasks import check_ids

TASK = "hiveos"


@pytest.mark.parametrize("check_id", check_ids(TASK))
def test_hiveos(check_id, llmbench_grade):
    llmbench_grade(TASK, check_id)
