"""The TCP start line for --tx workers: release together, and every record moved onto the controller's clock."""

from __future__ import annotations

import threading
import time

import pytest

from llmbench.throughput.netbarrier import BarrierServer, BarrierTimeout, NetBarrier, to_controller_clock

SKEW_NS = 7_000_000_000   # the controller's clock runs 7 s ahead of the workers'


def test_workers_are_released_together_and_learn_their_offset():
    server = BarrierServer(3, clock=lambda: time.monotonic_ns() + SKEW_NS)
    barriers = [NetBarrier(server.address, timeout=10) for _ in range(3)]
    released: list[int] = []

    def worker(b, i):
        time.sleep(0.1 * i)          # arrive one after another
        released.append(b.wait(str(i)))

    threads = [threading.Thread(target=worker, args=(b, i)) for i, b in enumerate(barriers)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    finally:
        server.close()
    assert len(released) == 3 and max(released) - min(released) < 50_000_000
    for b in barriers:
        assert b.offset_ns == pytest.approx(SKEW_NS, abs=5_000_000)
        assert b.last_arrival_ns == pytest.approx(barriers[0].last_arrival_ns, abs=5_000_000)
    assert min(released) >= barriers[0].last_arrival_ns - 5_000_000     # 'go' came after the last arrival


def test_a_missing_worker_is_a_timeout_not_a_hang():
    server = BarrierServer(2)
    try:
        with pytest.raises(BarrierTimeout, match="start line in 0.3s"):
            NetBarrier(server.address, timeout=0.3).wait("lonely")
    finally:
        server.close()


def test_an_unreachable_controller_is_named():
    with pytest.raises(BarrierTimeout, match="cannot reach the controller's start line at 127.0.0.1:9"):
        NetBarrier("127.0.0.1:9").wait("x")


def test_records_move_onto_the_controllers_clock():
    result = {"released_ns": 100, "records": [
        {"start_ns": 10, "first_token_ns": 20, "end_ns": 40, "scheduled_ns": 5, "chunk_ns": [20, 30, 40]},
        {"start_ns": 50, "first_token_ns": None, "end_ns": 60, "scheduled_ns": None, "chunk_ns": []}]}
    to_controller_clock(result, 1000)
    assert result["released_ns"] == 1100 and result["clock_offset_ns"] == 1000
    assert result["records"][0] == {"start_ns": 1010, "first_token_ns": 1020, "end_ns": 1040, "scheduled_ns": 1005,
                                    "chunk_ns": [1020, 1030, 1040]}
    assert result["records"][1]["first_token_ns"] is None and result["records"][1]["end_ns"] == 1060
