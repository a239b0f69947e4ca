"""Join quality runs and throughput sweeps of the same setup into leaderboard rows.

Rules (also stated on the page):
* runs of the same model, quant, TP, framework and GPU are one setup; by default only
  the newest run of each kind per setup is kept (a complete run beats a newer
  interrupted one); ``all_runs`` keeps every run;
* a sweep joins the compatible quality run closest to it in time, one-to-one, where
  compatible means the same model (display name or registry alias) and no serving
  field that differs (a field missing from either file matches); sweeps that join
  nothing get a row of their own.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone

from llmbench.leaderboard.model import Row, Setup
from llmbench.leaderboard.runs import LoadedRun

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _when(run: LoadedRun) -> datetime:
    try:
        moment = datetime.fromisoformat(run.info.started_at or "")
    except ValueError:
        return _EPOCH
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _group_key(setup: Setup) -> tuple:
    return tuple(None if v is None else " ".join(str(v).split()).casefold()
                 for v in (setup.model, setup.quant, setup.tp, setup.framework, setup.gpu))


def _newest_per_setup(runs: list[LoadedRun]) -> list[LoadedRun]:
    best: dict[tuple, LoadedRun] = {}
    for run in runs:
        key = _group_key(run.setup)
        if key not in best or _preference(run) > _preference(best[key]):
            best[key] = run
    return list(best.values())


def _preference(run: LoadedRun) -> tuple:
    complete = run.info.status in (None, "complete")
    return (complete, _when(run), run.info.path)


def merge_runs(runs: list[LoadedRun], all_runs: bool = False) -> list[Row]:
    quality = [r for r in runs if r.quality is not None]
    sweeps = [r for r in runs if r.throughput is not None]
    if not all_runs:
        quality, sweeps = _newest_per_setup(quality), _newest_per_setup(sweeps)

    # Greedy one-to-one join: best field agreement first, then closest in time.
    pairs = sorted(
        ((-q.setup.agreement(s.setup), abs((_when(q) - _when(s)).total_seconds()), qi, si)
         for qi, q in enumerate(quality) for si, s in enumerate(sweeps)
         if same_model(q, s) and q.setup.compatible(s.setup)),
    )
    joined: dict[int, int] = {}
    used: set[int] = set()
    for _, _, qi, si in pairs:
        if qi not in joined and si not in used:
            joined[qi] = si
            used.add(si)

    rows = [_row(q, sweeps[joined[qi]] if qi in joined else None) for qi, q in enumerate(quality)]
    rows += [_row(None, s) for si, s in enumerate(sweeps) if si not in used]
    return rows


def same_model(a: LoadedRun, b: LoadedRun) -> bool:
    """Same display name, or the same registry alias (producers may word the name differently)."""
    if a.setup.model.casefold() == b.setup.model.casefold():
        return True
    return bool(a.alias and b.alias and a.alias.casefold() == b.alias.casefold())


def _row(quality: LoadedRun | None, sweep: LoadedRun | None) -> Row:
    first = quality or sweep
    assert first is not None
    setup = first.setup
    if quality and sweep:  # fill what the quality run left unsaid from the sweep
        s = sweep.setup
        setup = replace(setup, quant=setup.quant or s.quant, tp=setup.tp if setup.tp is not None else s.tp,
                        framework=setup.framework or s.framework, gpu=setup.gpu or s.gpu)
    runs = [r for r in (quality, sweep) if r is not None]
    return Row(
        setup=setup,
        alias=next((r.alias for r in runs if r.alias), None),
        context=next((r.context for r in runs if r.context), None),
        reasoning=next((r.reasoning for r in runs if r.reasoning), None),
        params_b=params_from_name(setup.model),
        quality=quality.quality if quality else None,
        throughput=sweep.throughput if sweep else None,
        sources=[r.info for r in runs],
    )


_PARAMS = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)[Bb](?![A-Za-z0-9])")


def params_from_name(name: str) -> float | None:
    """Parameter count in billions when the name states it ("Qwen3-32B" -> 32; "A3B" is not one)."""
    match = _PARAMS.search(name)
    return float(match.group(1)) if match else None
