"""A quality run's final status, told truthfully, and the signals that stop a run early.

Statuses (docs/results-schema.md):

* ``complete``     every selected check ran and every answer arrived
* ``partial``      the run finished, but some checks did not run or some answers never arrived
* ``failed``       the model never answered: every request failed
* ``interrupted``  stopped early: Ctrl-C (once or more), SIGTERM, or ``-x``/``--maxfail``
* ``running``      left by a process that died without finishing (a hard crash)

Only a ``complete`` run is ranked on a leaderboard.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any

COMPLETE, PARTIAL, FAILED, INTERRUPTED, RUNNING = "complete", "partial", "failed", "interrupted", "running"
SWALLOWED_AFTER_S = 2.0   # a run still going this long after a signal did not take it
_SIGNAL_NAMES = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}


def run_status(data: dict, stopped: str | None, checks_selected: int | None) -> tuple[str, str | None]:
    """``(status, reason)`` for a quality run's results (``reason`` is None when complete)."""
    samples = [(name, s) for name, test in (data.get("tests") or {}).items() for s in test.get("samples", [])]
    graded = (data.get("totals") or {}).get("max", 0)
    counted = f"{graded} of {checks_selected} selected checks graded" if checks_selected else f"{graded} checks graded"
    if stopped:
        return INTERRUPTED, f"{stopped}; {counted}"
    errors = [(name, s["error"]) for name, s in samples if s.get("error")]
    if not samples:
        return FAILED, "no check ran"
    if len(errors) == len(samples):
        return FAILED, f"the model never answered: every request failed; first: {errors[0][1]}"
    if checks_selected and graded < checks_selected:
        return PARTIAL, f"{checks_selected - graded} of {checks_selected} selected checks did not run"
    if errors:
        tasks = ", ".join(sorted({name for name, _ in errors}))
        return PARTIAL, f"{len(errors)} of {len(samples)} requests failed ({tasks}); first: {errors[0][1]}"
    return COMPLETE, None


def throughput_status(levels: list[dict], stopped: str | None = None) -> tuple[str, str | None]:
    """``(status, reason)`` for throughput levels (a pytest run's one level, or a sweep's)."""
    ok = sum(lv.get("requests", 0) for lv in levels)
    errors = sum(lv.get("errors", 0) for lv in levels)
    examples = [e for lv in levels for e in lv.get("error_examples", [])] + \
               [e for lv in levels for e in lv.get("client_failures", [])]
    first = f"; first: {examples[0]}" if examples else ""
    if stopped:
        return INTERRUPTED, f"{stopped}; {ok} requests measured"
    if not ok:
        return FAILED, f"no request succeeded ({errors} failed){first}"
    if errors:
        return PARTIAL, f"{errors} of {ok + errors} requests failed{first}"
    return COMPLETE, None


def score_label(status: str | None) -> str:
    """What the score table calls a run's total: '' when it is the whole score."""
    if status in (None, COMPLETE):
        return ""
    return "failed" if status == FAILED else "partial"


def drop_lineless_frames(exc: BaseException) -> None:
    """Unlink traceback entries that have no line number from ``exc`` and its chain.

    A signal can land on an instruction that carries no line (CPython 3.11 has some);
    pytest's report of the interruption then fails on ``tb_lineno - 1`` and the run
    ends in a traceback instead of a clean "interrupted".
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        kept = []
        tb = current.__traceback__
        while tb is not None:
            if tb.tb_lineno is not None:
                kept.append(tb)
            tb = tb.tb_next
        for earlier, later in zip(kept, [*kept[1:], None], strict=True):
            earlier.tb_next = later
        current.__traceback__ = kept[0] if kept else None
        pending += [current.__cause__, current.__context__]


def _in_finalizer(frame) -> bool:
    """Whether the signal interrupted a ``__del__`` (a client closed by the garbage collector)."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


class StopSignals:
    """SIGINT and SIGTERM become one clean interruption whose results are still written.

    The first signal raises ``KeyboardInterrupt`` (pytest then stops and runs its
    session-finish hooks, which write results.json and report.html). A second one
    is noted and ignored, so it cannot cut those files short, unless the run
    visibly went on without stopping (``SWALLOWED_AFTER_S``) and pytest has not
    taken the interruption in hand yet (``finishing()``); a third one aborts at once.
    """

    def __init__(self) -> None:
        self.reason: str | None = None
        self._count = 0
        self._finishing = False
        self._saved: dict[int, Any] = {}
        self._first_at = 0.0

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._saved[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)
        self._saved.clear()

    def finishing(self) -> None:
        self._finishing = True

    @property
    def pending(self) -> str | None:
        """The interruption the run has not acted on yet (a signal that landed in a finalizer)."""
        return None if self._finishing else self.reason

    def _handle(self, signum: int, frame) -> None:
        self._count += 1
        if self.reason is None:
            self.reason = f"interrupted by {_SIGNAL_NAMES.get(signal.Signals(signum), signal.Signals(signum).name)}"
        if self._count >= 3:   # asked three times: stop now, files or not
            self.restore()
            raise KeyboardInterrupt
        now = time.monotonic()
        if self._count == 1:
            self._first_at = now
        # Raise unless pytest is already stopping: the first time, or again when the run
        # visibly went on (a swallowed interruption); a quick second Ctrl-C would only
        # land in pytest's own unwinding.
        if not self._finishing and (self._count == 1 or now - self._first_at >= SWALLOWED_AFTER_S):
            if _in_finalizer(frame):
                # raised inside a __del__, Python would only print it and go on: the run stops at
                # the next test instead (``pending``)
                return
            raise KeyboardInterrupt
        print("\nllmbench: stopping; writing results.json and the report (press Ctrl-C again to abort)",
              file=sys.stderr, flush=True)
