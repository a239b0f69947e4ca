"""ZMQ listener (easy): a SUB socket shared across threads.

One request to the model per run; each parametrized case grades one check
(ids from docs/checks.md, e.g. `-k zmq.`).
"""

import pytest

from llmbench.tasks import check_ids

TASK = "zmq"


@pytest.mark.parametrize("check_id", check_ids(TASK))
def test_zmq(check_id, llmbench_grade):
    llmbench_grade(TASK, check_id)
