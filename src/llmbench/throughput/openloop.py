"""An open-loop client: requests leave on a fixed schedule whether or not earlier ones finished.

Every request of the level is scheduled before the first is sent (see
``arrivals``); each is started as its own asyncio task at its time and its
record keeps ``scheduled_ns`` beside ``start_ns``, so a client that cannot keep
up shows as send lag instead of a silently lower rate. Warm-up requests go one
at a time before the barrier and are not measured.
"""

from __future__ import annotations

import asyncio
import os
import time

from llmbench.throughput import arrivals
from llmbench.throughput.asyncclient import AsyncStreamClient
from llmbench.throughput.client import RequestRecord, fail_record
from llmbench.throughput.progress import ProgressLog

START_MARGIN_NS = 50_000_000   # every client has passed the barrier by then


def run_open_client(spec, client: int, barrier=None) -> dict:
    """Run one open-loop client (``spec.rate`` shared by ``spec.clients``); a JSON-able result."""
    return asyncio.run(_run(spec, client, barrier))


async def _run(spec, client: int, barrier) -> dict:
    from llmbench.throughput.loop import plan_for

    plan = plan_for(spec)
    http = AsyncStreamClient(spec.api_url, spec.api_key, spec.timeout)
    progress = ProgressLog(spec.progress_dir, client)
    records: list[RequestRecord] = []
    try:
        for i in range(spec.warmup):
            prompt, max_tokens = plan.item(client, -(i + 1), spec.clients)
            records.append(await http.stream(RequestRecord(client, -(i + 1), True, max_tokens=max_tokens),
                                             _body(http, spec, prompt, max_tokens)))
        released_ns = barrier.wait(str(client)) if barrier else time.monotonic_ns()
        start_ns = (barrier.last_arrival_ns if barrier and barrier.last_arrival_ns else released_ns) + START_MARGIN_NS
        count = arrivals.count_for(spec.rate / spec.clients, spec.requests, spec.min_seconds, spec.duration_s)
        offsets = arrivals.schedule(spec.rate, count, spec.arrival, spec.seed, client, spec.clients)
        cpu0 = time.process_time()
        tasks = []
        for seq, offset in enumerate(offsets):
            at = start_ns + int(offset * 1e9)
            delay = (at - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            prompt, max_tokens = plan.item(client, seq, spec.clients)
            record = RequestRecord(client, seq, False, scheduled_ns=at, max_tokens=max_tokens)
            records.append(record)
            tasks.append(asyncio.create_task(_guarded(http, record, _body(http, spec, prompt, max_tokens),
                                                      progress)))
        await asyncio.gather(*tasks)
        cpu_s, wall_s = time.process_time() - cpu0, (time.monotonic_ns() - start_ns) / 1e9
    finally:
        await http.close()
        progress.close()
    return {"client": client, "pid": os.getpid(), "released_ns": released_ns, "schedule_start_ns": start_ns,
            "rate": spec.rate / spec.clients, "arrival": spec.arrival, "cpu_s": cpu_s, "wall_s": wall_s,
            "eos_control": http.eos_control, "workload": plan.info, "records": [r.as_dict() for r in records]}


async def _guarded(http: AsyncStreamClient, record: RequestRecord, body: dict, progress: ProgressLog) -> None:
    """A bug in one request's handling is that request's error, not the level's end."""
    try:
        await http.stream(record, body)
    except Exception as exc:
        fail_record(record, "client", f"{type(exc).__name__}: {exc}")
    progress.note(record)


def _body(http: AsyncStreamClient, spec, prompt, max_tokens: int) -> dict:
    return http.body(spec.model, prompt, max_tokens, spec.extra_body, spec.per_chunk_usage)
