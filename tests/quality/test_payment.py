"""Payment processor (expert): races, injectable SQL, float money, non-atomic payouts.

One request to the model per run; each parametrized case grades one check
(ids from docs/checks.md, e.g. `-k payment.`).
"""

import pytest

from llmbench.tasks import check_ids

TASK = "payment"


@pytest.mark.parametrize("check_id", check_ids(TASK))
def test_payment(check_id, llmbench_grade):
    llmbench_grade(TASK, check_id)
