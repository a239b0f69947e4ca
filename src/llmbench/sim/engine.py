"""A calibrated continuous-batching engine: the built-in server's source of truth.

The model is the one a batched decoder follows. Every *step*, each stream that is
decoding gets ``tokens_per_chunk`` (K) tokens; a step over ``n`` active streams
lasts ``n * K / capacity(n)`` seconds, so the aggregate rate is exactly
``capacity(n)`` tokens/s and each stream decodes at ``capacity(n) / n``. A stream
that finishes its prefill mid-step joins at the next step, as in vLLM.
Prefill is a per-request delay of ``prompt_tokens / prefill_tok_s`` seconds.

Steps are scheduled on absolute deadlines (``next = previous + dt``), so timer
jitter never accumulates into a lower rate; when the process is starved for
more than ``MAX_LAG_S`` the schedule restarts rather than emitting a burst.

Everything the engine emits is recorded with ``time.monotonic_ns()``
(CLOCK_MONOTONIC, shared by every process on Linux) so a client's timestamps
can be compared with the server's.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from dataclasses import dataclass, field
from typing import Callable

# The seed's Nemotron-3-Nano-30B column (8x RTX A4000, vLLM): streams -> tok/s.
DEFAULT_CURVE: tuple[tuple[float, float], ...] = (
    (1, 205), (2, 327), (4, 571), (8, 765), (16, 1158), (32, 1628),
)
MAX_LAG_S = 0.25


def parse_curve(text: str) -> tuple[tuple[float, float], ...]:
    """``"1:205,2:327,4:571"`` -> ((1, 205), (2, 327), (4, 571))."""
    points = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            n, rate = part.split(":")
            points.append((float(n), float(rate)))
        except ValueError:
            raise ValueError(f"bad capacity point {part!r}; expected STREAMS:TOK_S, e.g. 1:205") from None
    if not points or any(n <= 0 or r <= 0 for n, r in points):
        raise ValueError(f"capacity curve {text!r} needs positive STREAMS:TOK_S points")
    return tuple(sorted(points))


def format_curve(points) -> str:
    return ",".join(f"{n:g}:{r:g}" for n, r in points)


class CapacityCurve:
    """Aggregate tok/s at ``n`` active streams, linear between points, flat beyond."""

    def __init__(self, points=DEFAULT_CURVE):
        if isinstance(points, str):
            points = parse_curve(points)
        elif isinstance(points, dict):
            points = tuple(sorted((float(k), float(v)) for k, v in points.items()))
        self.points = tuple(sorted((float(n), float(r)) for n, r in points))
        self._xs = [n for n, _ in self.points]

    def __call__(self, n: float) -> float:
        xs, pts = self._xs, self.points
        if n <= xs[0]:
            # below the first point each stream runs at that point's per-stream rate
            return pts[0][1] * n / xs[0]
        if n >= xs[-1]:
            return pts[-1][1]
        i = bisect.bisect_right(xs, n)
        (x0, y0), (x1, y1) = pts[i - 1], pts[i]
        return y0 + (y1 - y0) * (n - x0) / (x1 - x0)


@dataclass
class StreamTruth:
    """What the server really did for one request (all times monotonic ns)."""

    id: int
    arrival_ns: int
    prompt_tokens: int
    planned_tokens: int
    fail: str | None = None
    first_token_ns: int | None = None
    end_ns: int | None = None
    tokens: int = 0
    chunk_ns: list[int] = field(default_factory=list)
    chunk_tokens: list[int] = field(default_factory=list)
    outcome: str = "running"       # running | finished | dropped | disconnected | failed

    def as_dict(self, chunks: bool = False) -> dict:
        out: dict[str, object] = {
            "id": self.id, "arrival_ns": self.arrival_ns, "first_token_ns": self.first_token_ns,
            "end_ns": self.end_ns, "prompt_tokens": self.prompt_tokens, "tokens": self.tokens,
            "planned_tokens": self.planned_tokens, "fail": self.fail, "outcome": self.outcome,
        }
        if chunks:
            out["chunk_ns"] = self.chunk_ns
            out["chunk_tokens"] = self.chunk_tokens
        return out


class Stream:
    """One decoding request. ``emit(n_tokens)`` is called once per step it takes part in."""

    def __init__(self, truth: StreamTruth, emit: Callable[[int], bool]):
        self.truth = truth
        self._emit = emit            # returns False when the client has gone
        self.remaining = truth.planned_tokens
        self.done: asyncio.Future = asyncio.get_running_loop().create_future()

    def finish(self, outcome: str) -> None:
        if not self.done.done():
            self.truth.outcome = outcome
            self.truth.end_ns = time.monotonic_ns()
            self.done.set_result(outcome)


class Engine:
    def __init__(self, curve: CapacityCurve, tokens_per_chunk: int = 1, prefill_tok_s: float = 8000.0):
        if tokens_per_chunk < 1:
            raise ValueError("tokens_per_chunk must be >= 1")
        self.curve = curve
        self.k = tokens_per_chunk
        self.prefill_tok_s = prefill_tok_s
        self.active: list[Stream] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.generation_tokens_total = 0   # monotonic, like a Prometheus counter: never reset
        self.reset_stats()

    # -- truth -----------------------------------------------------------------
    def reset_stats(self) -> None:
        self.requests: list[StreamTruth] = []
        self.tokens_emitted = 0
        self.timeline: list[tuple[int, int]] = [(time.monotonic_ns(), len(getattr(self, "active", [])))]

    def _note_active(self) -> None:
        self.timeline.append((time.monotonic_ns(), len(self.active)))

    def tokens_between(self, from_ns: int, to_ns: int) -> int:
        """Tokens emitted in (from_ns, to_ns]."""
        total = 0
        for r in self.requests:
            if not r.chunk_ns or r.chunk_ns[-1] <= from_ns or r.chunk_ns[0] > to_ns:
                continue
            lo = bisect.bisect_right(r.chunk_ns, from_ns)
            hi = bisect.bisect_right(r.chunk_ns, to_ns)
            total += sum(r.chunk_tokens[lo:hi])
        return total

    # -- scheduling ------------------------------------------------------------
    def new_truth(self, prompt_tokens: int, planned_tokens: int, fail: str | None, arrival_ns: int = 0) -> StreamTruth:
        truth = StreamTruth(len(self.requests) + 1, arrival_ns or time.monotonic_ns(), prompt_tokens, planned_tokens, fail)
        self.requests.append(truth)
        return truth

    async def prefill(self, prompt_tokens: int) -> None:
        if self.prefill_tok_s > 0 and prompt_tokens > 0:
            await asyncio.sleep(prompt_tokens / self.prefill_tok_s)

    def admit(self, stream: Stream) -> None:
        if stream.remaining <= 0:
            stream.finish("finished")
            return
        self.active.append(stream)
        self._note_active()
        self._wake.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def cancel(self, stream: Stream, outcome: str) -> None:
        if stream in self.active:
            self.active.remove(stream)
            self._note_active()
        stream.finish(outcome)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            if not self.active:
                self._wake.clear()
                await self._wake.wait()
                deadline = loop.time()
            batch = list(self.active)           # joiners wait for the next step
            n = len(batch)
            deadline += n * self.k / self.curve(n)
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -MAX_LAG_S:
                deadline = loop.time()
            self._step(batch)

    def _step(self, batch: list[Stream]) -> None:
        changed = False
        for stream in batch:
            if stream.done.done():
                continue
            n = min(self.k, stream.remaining)
            truth = stream.truth
            now = time.monotonic_ns()
            if not stream._emit(n):
                self.active.remove(stream)
                changed = True
                stream.finish("disconnected")
                continue
            stream.remaining -= n
            truth.tokens += n
            truth.chunk_ns.append(now)
            truth.chunk_tokens.append(n)
            if truth.first_token_ns is None:
                truth.first_token_ns = now
            self.tokens_emitted += n
            self.generation_tokens_total += n
            if stream.remaining <= 0:
                self.active.remove(stream)
                changed = True
                stream.finish("finished")
        if changed:
            self._note_active()
