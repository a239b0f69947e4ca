"""The server's own account of each request, read from ``llama-server``'s log.

When a request ends, llama-server logs its timings (the same figures as the
``timings`` object of the response), each line prefixed with the time since
the server started::

    0.02.074.312 I slot print_timing: id  0 | task 0 | prompt eval time =  832.80 ms /  2053 tokens (...)
    0.02.074.422 I slot print_timing: id  0 | task 0 |        eval time = 1096.79 ms /   300 tokens (...)

That is the independent truth the harness's figures are checked against: how
many tokens the engine generated and over which span of its own clock.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

_STAMP = r"(?P<m>\d+)\.(?P<s>\d+)\.(?P<ms>\d+)\.(?P<us>\d+)"
_TIMING = re.compile(
    _STAMP + r" \w slot print_timing: id\s+(?P<slot>\d+) \| task (?P<task>\d+) \|\s+"
    r"(?P<kind>prompt eval|eval) time =\s+(?P<ms_value>[\d.]+) ms /\s+(?P<n>\d+) tokens"
)


@dataclass
class ServerRequest:
    """One finished request as the server saw it."""

    task: int
    slot: int
    end_s: float            # server clock (seconds since it started) when generation ended
    prompt_ms: float = 0.0
    prompt_n: int = 0
    eval_ms: float = 0.0    # first generated token -> last (llama.cpp's t_token_generation)
    eval_n: int = 0

    @property
    def start_s(self) -> float:
        """When generation started, on the server clock."""
        return self.end_s - self.eval_ms / 1000.0


def parse_requests(text: str) -> list[ServerRequest]:
    """Every finished request in a llama-server log, in the order they ended."""
    by_task: dict[tuple[int, int], ServerRequest] = {}
    run = 0  # a log appended to by a restarted server starts its task ids again
    for match in _TIMING.finditer(text):
        stamp = (int(match["m"]) * 60 + int(match["s"]) + int(match["ms"]) / 1e3 + int(match["us"]) / 1e6)
        task = int(match["task"])
        if match["kind"] == "prompt eval" and (run, task) in by_task:
            run += 1
        key = (run, task)
        request = by_task.setdefault(key, ServerRequest(task=task, slot=int(match["slot"]), end_s=stamp))
        if match["kind"] == "prompt eval":
            request.prompt_ms, request.prompt_n = float(match["ms_value"]), int(match["n"])
        else:
            request.eval_ms, request.eval_n, request.end_s = float(match["ms_value"]), int(match["n"]), stamp
    return list(by_task.values())


def read_requests(log_path: str | Path, expect: int, timeout: float = 10.0) -> list[ServerRequest]:
    """Wait until the log holds ``expect`` finished requests (it is written asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests = parse_requests(Path(log_path).read_text(errors="replace"))
        except OSError:
            requests = []
        done = [r for r in requests if r.eval_n]
        if len(done) >= expect or time.monotonic() > deadline:
            return done


def generation_tok_s(requests: list[ServerRequest]) -> float:
    """Tokens generated / the span from the first generation start to the last end (server clock)."""
    if not requests:
        return 0.0
    span = max(r.end_s for r in requests) - min(r.start_s for r in requests)
    return sum(r.eval_n for r in requests) / span if span > 0 else 0.0


_TOKEN = re.compile(_STAMP + r" D slot process_toke: id\s+\d+ \| task (?P<task>\d+) \| n_gen = (?P<n>\d+)")


def token_times(text: str) -> dict[int, list[float]]:
    """Task id -> server-clock time of each generated token (needs the server's ``-v`` log)."""
    out: dict[int, list[float]] = {}
    for match in _TOKEN.finditer(text):
        stamp = int(match["m"]) * 60 + int(match["s"]) + int(match["ms"]) / 1e3 + int(match["us"]) / 1e6
        out.setdefault(int(match["task"]), []).append(stamp)
    return out


def align_tokens(server: dict[int, list[float]], client_chunks_s: list[list[float]]) -> float:
    """Seconds to add to server-clock times to get the client's clock.

    Requests are paired by the order of their first token; the median gap over
    every token pair is the offset (each chunk arrives a fraction of a
    millisecond after the server logs its token).
    """
    tasks = sorted(server.values(), key=lambda times: times[0])
    clients = sorted((c for c in client_chunks_s if c), key=lambda times: times[0])
    if len(tasks) != len(clients):
        raise ValueError(f"{len(tasks)} server requests vs {len(clients)} client requests")
    gaps = sorted(c - s for st, ct in zip(tasks, clients, strict=True) for s, c in zip(st, ct, strict=False))
    return gaps[len(gaps) // 2]


_ADDED = re.compile(_STAMP + r" D res\s+add_waiting_: add task (?P<task>\d+) to waiting list")
_RELEASED = re.compile(_STAMP + r" I slot\s+release: id\s+\d+ \| task (?P<task>\d+) \| stop processing")


def _stamp_s(match: re.Match) -> float:
    return int(match["m"]) * 60 + int(match["s"]) + int(match["ms"]) / 1e3 + int(match["us"]) / 1e6


def request_truth(text: str, offset_s: float = 0.0) -> list[dict]:
    """Each request as the server's ``-v`` log shows it, in ``truth_helpers``' shape (ns, client clock).

    Arrival: the task entering the waiting list; each token: its ``n_gen`` line;
    end: the slot's release. ``offset_s`` (from ``align_tokens``) moves the server's
    clock onto the client's; differences between the server's own times do not depend on it.
    """
    added: dict[int, float] = {}
    released: dict[int, float] = {}
    for pattern, into in ((_ADDED, added), (_RELEASED, released)):
        for match in pattern.finditer(text):
            into.setdefault(int(match["task"]), _stamp_s(match))
    out = []
    for task, times in token_times(text).items():
        if task not in added:
            continue

        def ns(t: float) -> int:
            return round((t + offset_s) * 1e9)

        out.append({"task": task, "arrival_ns": ns(added[task]), "first_token_ns": ns(times[0]),
                    "end_ns": ns(released.get(task, times[-1])), "tokens": len(times),
                    "chunk_ns": [ns(t) for t in times], "chunk_tokens": [1] * len(times)})
    return out
