"""A closed-loop client: warm up, wait for the others, then one request in flight at a time.

This is the one measurement core: ``tests/throughput`` runs it once per xdist
worker, ``llmbench sweep`` once per process it forks. Clients meet at a file
barrier so they all start together and the steady-state window is long.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from llmbench.throughput.client import RequestRecord, StreamClient
from llmbench.throughput.progress import ProgressLog

if TYPE_CHECKING:
    from llmbench.throughput.netbarrier import NetBarrier

DEFAULT_MAX_TOKENS = 512
DEFAULT_PROMPT = ("Write a detailed, step-by-step explanation of how a mining pool distributes "
                  "rewards among its miners, with examples.")


@dataclass
class LoadSpec:
    """What every client of a run sends."""

    api_url: str
    model: str                         # the served model name
    api_key: str | None = None
    prompt: str = DEFAULT_PROMPT
    max_tokens: int = DEFAULT_MAX_TOKENS
    requests: int = 4                  # measured requests per client (ignored with duration_s)
    duration_s: float | None = None    # else: start new requests until this long after the barrier
    warmup: int = 1                    # unmeasured requests per client before the barrier
    extra_body: dict = field(default_factory=dict)
    timeout: float = 600.0             # seconds without data before a request fails
    per_chunk_usage: bool = False      # ask for usage in every chunk (vLLM's continuous_usage_stats)
    rate: float | None = None          # open loop: requests/s over all clients (else closed loop)
    arrival: str = "constant"          # open loop: constant | poisson
    seed: int = 0                      # open loop: Poisson arrivals' seed
    min_seconds: float = 0.0           # a level lasts at least this long (or ``requests``, if longer)
    clients: int = 1                   # clients in the level (open loop: sharing ``rate``)
    workload: dict | None = None       # WorkloadSpec fields: prompts and lengths (else prompt/max_tokens)
    calibration: dict | None = None    # tokens per character of the server (workload.calibrate)
    progress_dir: str | None = None    # a line per finished request goes here (progress.ProgressLog)
    streams_per_worker: int = 1        # closed loop: asyncio streams per process (C = processes x this)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("api_key")
        return out


class BarrierTimeout(RuntimeError):
    pass


class FileBarrier:
    """``parties`` processes meet in ``directory``: each drops a file and waits for all."""

    def __init__(self, directory: str, parties: int, timeout: float = 600.0, poll_s: float = 0.005):
        self.directory, self.parties, self.timeout, self.poll_s = directory, parties, timeout, poll_s
        self.last_arrival_ns: int | None = None   # the same for every party: a shared start line

    def _last_arrival(self) -> int | None:
        stamps = []
        for name in os.listdir(self.directory):
            if name.startswith("ready-") and not name.endswith(".tmp"):
                try:
                    with open(os.path.join(self.directory, name)) as fh:
                        stamps.append(int(fh.read().split()[1]))
                except (OSError, IndexError, ValueError):
                    return None
        return max(stamps, default=None)

    def wait(self, name: str) -> int:
        if self.parties <= 1:
            self.last_arrival_ns = time.monotonic_ns()
            return self.last_arrival_ns
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"ready-{name}")
        with open(f"{path}.tmp", "w") as fh:
            fh.write(f"{os.getpid()} {time.monotonic_ns()}")
        os.replace(f"{path}.tmp", path)
        deadline = time.monotonic() + self.timeout
        while True:
            arrived = sum(1 for n in os.listdir(self.directory) if n.startswith("ready-") and not n.endswith(".tmp"))
            if arrived >= self.parties:
                self.last_arrival_ns = self._last_arrival()
                return time.monotonic_ns()
            if time.monotonic() > deadline:
                raise BarrierTimeout(
                    f"only {arrived} of {self.parties} clients reached the start line in {self.timeout:g}s "
                    "(each xdist worker must run exactly one throughput client: use the default --dist load)")
            time.sleep(self.poll_s)


def plan_for(spec: LoadSpec):
    """The (prompt, max_tokens) items of this spec's requests."""
    from llmbench.throughput.workload import WorkloadSpec, build_plan, calibrate

    ws = WorkloadSpec(**(spec.workload or {}))
    calibration = spec.calibration
    if calibration is None and (ws.input_tokens or ws.prefix_tokens) and not ws.prompts:
        calibration = calibrate(spec.api_url, spec.model, spec.api_key, spec.extra_body)
    return build_plan(ws, spec.prompt, spec.max_tokens, calibration)


def run_client(spec: LoadSpec, client: int, barrier: FileBarrier | NetBarrier | None = None) -> dict:
    """Run one client's warm-up and measured requests; returns a JSON-able result."""
    if spec.rate:
        from llmbench.throughput.openloop import run_open_client

        return run_open_client(spec, client, barrier)
    if spec.streams_per_worker > 1:
        from llmbench.throughput.streams import run_streams

        k = spec.streams_per_worker
        return run_streams(spec, client, k, client * k, barrier)
    plan = plan_for(spec)
    http = StreamClient(spec.api_url, spec.api_key, spec.timeout)
    progress = ProgressLog(spec.progress_dir, client)
    records: list[RequestRecord] = []
    try:
        for i in range(spec.warmup):
            records.append(_one(http, spec, plan, client, -(i + 1), warmup=True))
        released_ns = barrier.wait(str(client)) if barrier else time.monotonic_ns()
        cpu0, wall0 = time.process_time(), time.monotonic_ns()
        deadline = released_ns + int(spec.duration_s * 1e9) if spec.duration_s else None
        min_end = released_ns + int(spec.min_seconds * 1e9)
        seq = 0
        while True:
            if deadline is not None:
                if time.monotonic_ns() >= deadline:
                    break
            elif seq >= spec.requests and time.monotonic_ns() >= min_end:
                break
            records.append(_one(http, spec, plan, client, seq, warmup=False))
            progress.note(records[-1])
            seq += 1
        cpu_s, wall_s = time.process_time() - cpu0, (time.monotonic_ns() - wall0) / 1e9
    finally:
        http.close()
        progress.close()
    return {"client": client, "pid": os.getpid(), "released_ns": released_ns, "cpu_s": cpu_s,
            "wall_s": wall_s, "eos_control": http.eos_control, "workload": plan.info,
            "records": [r.as_dict() for r in records]}


def _one(http: StreamClient, spec: LoadSpec, plan, client: int, seq: int, warmup: bool) -> RequestRecord:
    prompt, max_tokens = plan.item(client, seq, spec.clients)
    body = http.body(spec.model, prompt, max_tokens, spec.extra_body, spec.per_chunk_usage)
    return http.stream(RequestRecord(client, seq, warmup, max_tokens=max_tokens), body)
