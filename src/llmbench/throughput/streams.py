"""Several closed-loop streams in one process on asyncio: C = workers x streams per worker.

Each stream behaves as one closed-loop client (one request in flight, the next
sent when it ends) and records under its own client index (``first_client +
k``), so the aggregation sees C clients whichever process they ran in. All
streams of a process share one connection pool and one event loop, so
hundreds of streams cost one process, not hundreds.
"""

from __future__ import annotations

import asyncio
import os
import time

from llmbench.throughput.asyncclient import AsyncStreamClient
from llmbench.throughput.client import RequestRecord, fail_record
from llmbench.throughput.progress import ProgressLog


def run_streams(spec, worker: int, streams: int, first_client: int, barrier=None) -> dict:
    """Run ``streams`` closed-loop streams in this process; a JSON-able result like ``run_client``'s."""
    return asyncio.run(_run(spec, worker, streams, first_client, barrier))


async def _run(spec, worker: int, streams: int, first_client: int, barrier) -> dict:
    from llmbench.throughput.loop import plan_for

    plan = plan_for(spec)
    http = AsyncStreamClient(spec.api_url, spec.api_key, spec.timeout)
    progress = ProgressLog(spec.progress_dir, worker)
    records: list[RequestRecord] = []
    clients = max(spec.clients, first_client + streams)

    async def one(client: int, seq: int, warmup: bool) -> RequestRecord:
        prompt, max_tokens = plan.item(client, seq, clients)
        record = RequestRecord(client, seq, warmup, max_tokens=max_tokens)
        records.append(record)
        try:
            await http.stream(record, http.body(spec.model, prompt, max_tokens, spec.extra_body, spec.per_chunk_usage))
        except Exception as exc:    # one request's bug is that request's error
            fail_record(record, "client", f"{type(exc).__name__}: {exc}")
        return record

    async def warm(client: int) -> None:
        for i in range(spec.warmup):
            await one(client, -(i + 1), True)

    async def measured(client: int, deadline: int | None, min_end: int) -> None:
        seq = 0
        while True:
            now = time.monotonic_ns()
            if deadline is not None:
                if now >= deadline:
                    return
            elif seq >= spec.requests and now >= min_end:
                return
            progress.note(await one(client, seq, False))
            seq += 1

    ids = [first_client + k for k in range(streams)]
    try:
        await asyncio.gather(*(warm(c) for c in ids))
        released_ns = barrier.wait(str(worker)) if barrier else time.monotonic_ns()
        cpu0 = time.process_time()
        deadline = released_ns + int(spec.duration_s * 1e9) if spec.duration_s else None
        await asyncio.gather(*(measured(c, deadline, released_ns + int(spec.min_seconds * 1e9)) for c in ids))
        cpu_s, wall_s = time.process_time() - cpu0, (time.monotonic_ns() - released_ns) / 1e9
    finally:
        await http.close()
        progress.close()
    return {"client": worker, "streams": streams, "first_client": first_client, "pid": os.getpid(),
            "released_ns": released_ns, "cpu_s": cpu_s, "wall_s": wall_s, "eos_control": http.eos_control,
            "workload": plan.info, "records": [r.as_dict() for r in records]}
