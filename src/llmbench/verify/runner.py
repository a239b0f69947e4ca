"""Run a task's probes against an answer's candidate program, in the sandbox.

The scratch folder, as the probes expect it (the contract they are written to):

    probes/      a copy of ``llmbench/verify/probes/``
    candidate/   the fixture folder with the patched files and ``.changed.json``
                 (the definitions the answer changed) (Python tasks), or
                 ``answer.sh`` (hiveos)
    home/ tmp/   HOME and TMPDIR

and ``python3 probes/<task>_probe.py --candidate candidate`` runs there; its last
stdout line is a JSON object with one result per probe. Each check then gets
``{status, probe, detail, candidate}``, status one of passed | failed | no_code |
error | unavailable. One run per answer: results are cached by the answer's hash
(in memory, and in ``cache_dir`` when given, so xdist workers share them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from llmbench.paths import buggy_code_dir
from llmbench.tasks import get_task
from llmbench.verify import sandbox
from llmbench.verify.candidate import PYTHON_TASKS, TASK_FILES, Candidate, NoCandidate, build_candidate
from llmbench.verify.incomplete import (
    attribute_owner,
    broken_by_answer,
    caller_left_out,
    missing_name,
    raised_by_answer,
    undefined_by_answer,
)
from llmbench.verify.places import EDIT_OF, PLACES, added_lines, concerns, touches_place
from llmbench.verify.shellscript import build_shell_candidate

PROBES_DIR = Path(__file__).resolve().parent / "probes"
STATUSES = ("passed", "failed", "no_code", "error", "unavailable")
PROBE_LIMITS = sandbox.Limits(wall_seconds=20.0, cpu_seconds=15)


def execution(status: str, detail: str, probe: str = "", candidate: str = "") -> dict:
    return {"status": status, "probe": probe, "detail": detail, "candidate": candidate}


@dataclass(frozen=True)
class Verifier:
    """Settings of the runs: where the probes are, and whether to run at all."""

    probes_dir: Path | None = None     # default: the probes shipped in the package
    enabled: bool = True
    cache_dir: Path | None = None
    limits: sandbox.Limits = PROBE_LIMITS

    @property
    def probes(self) -> Path:
        return Path(self.probes_dir) if self.probes_dir is not None else PROBES_DIR

    def status_line(self) -> str:
        """One line for the terminal and the report: how fixes are checked in this run."""
        if not self.enabled:
            return "fix runs: off (--no-exec); fixes are judged from the answer's text only"
        if not any(self.probes.glob("*_probe.py")):
            return f"fix runs: skipped, no probes in this installation ({self.probes} has none)"
        reason = sandbox.unavailable_reason()
        if reason:
            return f"fix runs: skipped, the sandbox is unavailable: {reason}"
        return "fix runs: each answer's code runs against behavioural probes in a bubblewrap sandbox"

    def run(self, task: str, final_answer: str) -> dict[str, dict]:
        """check id -> execution result for one final answer."""
        check_ids = get_task(task).check_ids
        if not self.enabled:
            return {c: execution("unavailable", "execution turned off (--no-exec)") for c in check_ids}
        if not (final_answer or "").strip():
            return {c: execution("no_code", "no final answer") for c in check_ids}
        key = self._key(task, final_answer)
        cached = _MEMORY.get(key)
        if cached is None:
            with self._lock(key):   # xdist workers grading the same answer wait for one run
                cached = self._read_cache(key)
                if cached is None:
                    cached = self._run(task, final_answer, check_ids)
                    self._write_cache(key, cached)
            _MEMORY[key] = cached
        return {c: dict(cached[c]) for c in check_ids}

    # -- cache ------------------------------------------------------------------
    def _key(self, task: str, final_answer: str) -> str:
        digest = hashlib.sha256()
        for part in (task, final_answer, _tree_digest(self.probes), _tree_digest(buggy_code_dir()),
                     _tree_digest(Path(__file__).resolve().parent)):
            digest.update(part.encode("utf-8", "replace") + b"\0")
        return digest.hexdigest()

    def _lock(self, key: str):
        if self.cache_dir is None:
            return contextlib.nullcontext()
        from filelock import FileLock

        self.cache_dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.cache_dir / f"{key}.lock"), timeout=10 * self.limits.wall_seconds)

    def _read_cache(self, key: str) -> dict | None:
        if self.cache_dir is None:
            return None
        try:
            return json.loads((self.cache_dir / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _write_cache(self, key: str, results: dict) -> None:
        if self.cache_dir is None:
            return
        from llmbench.runs.answer_store import atomic_write_json

        self.cache_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.cache_dir / f"{key}.json", results)

    # -- one run ------------------------------------------------------------------
    def _run(self, task: str, final_answer: str, check_ids: list[str]) -> dict[str, dict]:
        probe = self.probes / f"{task}_probe.py"
        if not probe.is_file():
            return {c: execution("unavailable", f"no probe for {task} in this installation "
                                                f"({probe.name} is missing)") for c in check_ids}
        reason = sandbox.unavailable_reason()
        if reason:
            return {c: execution("unavailable", f"sandbox unavailable: {reason}") for c in check_ids}
        try:
            candidate = build_shell_candidate(final_answer) if task == "hiveos" else build_candidate(task, final_answer)
        except Exception as exc:  # noqa: BLE001 - odd model code (null bytes, deep nesting) is a verdict, never a crash
            return {c: execution("error", f"the candidate could not be built: {type(exc).__name__}: {exc}")
                    for c in check_ids}
        if candidate is None:
            return {c: execution("no_code", "the answer gives no shell commands and no files") for c in check_ids}
        if isinstance(candidate, NoCandidate):
            status = "error" if candidate.syntax_error else "no_code"
            return {c: execution(status, candidate.reason) for c in check_ids}
        described = candidate.describe()
        scratch = sandbox.new_scratch()
        try:
            self._lay_out(scratch, task, candidate)
            sandbox.prepare_scratch(scratch)
            result = sandbox.run(["python3", f"probes/{probe.name}", "--candidate", "candidate"], scratch, self.limits,
                                 fresh=FRESH_DIRS.get(task, sandbox.FRESH_DIRS), hidden=HIDDEN_DIRS.get(task, ()))
        except sandbox.SandboxUnavailable as exc:
            return {c: execution("unavailable", f"sandbox unavailable: {exc}") for c in check_ids}
        except OSError as exc:
            return {c: execution("error", f"the probe could not be started: {exc}") for c in check_ids}
        finally:
            sandbox.remove_scratch(scratch)
        per_check = _per_check(task, result, check_ids)
        if isinstance(candidate, Candidate):
            _mark_incomplete(task, candidate, per_check)
        added = "\n".join(added_lines((buggy_code_dir() / n).read_text(encoding="utf-8"), t)
                          for n, t in getattr(candidate, "files", {}).items() if n.endswith(".py"))
        for check_id, entry in per_check.items():
            entry["candidate"] = described
            elsewhere = isinstance(candidate, Candidate) and entry["status"] in ("passed", "failed") \
                and not touches_place(check_id, candidate.changed, candidate.added_state, added)
            if elsewhere and (idle := _idle_edit_of(check_id, candidate)) is not None:
                entry.update(status="failed", detail=f"the answer's in-place edit for it matches no line, so the program "
                                                      f"does not carry it: «{idle[:200]}»")
            elif elsewhere:
                where = ", ".join(p.split(".")[-1] for p in PLACES.get(check_id, ()))
                entry.update(status="no_code", detail=f"the answer's code changes none of {where} "
                                                      f"(the probe {entry['status']}: {entry['detail']})")
            elif isinstance(candidate, Candidate) and entry["status"] == "failed" \
                    and (missing := _not_in_program(check_id, candidate, entry["detail"])):
                entry.update(status="error", detail=f"{missing} (the probe failed: {entry['detail']})")
        return per_check

    def _lay_out(self, scratch: Path, task: str, candidate) -> None:
        shutil.copytree(self.probes, scratch / "probes", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        target = scratch / "candidate"
        if task in PYTHON_TASKS:
            shutil.copytree(buggy_code_dir(), target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            for name, text in candidate.files.items():
                (target / name).write_text(text, encoding="utf-8")
            # the probes judge some properties only where the answer changed code
            (target / ".changed.json").write_text(json.dumps(sorted(candidate.changed)), encoding="utf-8")
        else:
            target.mkdir()
            (target / "answer.sh").write_text(candidate.script, encoding="utf-8")


_MEMORY: dict[str, dict] = {}
# a HiveOS rig's writable system folders: the answers log to /var/log/miner as HiveOS does
FRESH_DIRS = {"hiveos": (*sandbox.FRESH_DIRS, "/var/log")}
# a machine's own HiveOS folders (a rig, or a wrapper tried by hand) would stand in for
# files the answer never wrote: the run sees none
HIDDEN_DIRS = {"hiveos": ("/hive",)}


_RAISED_BY_ANSWER = "a line the answer wrote raises: "


def _idle_edit_of(check_id: str, candidate) -> str | None:
    """The answer's in-place edit (a sed command, a patch script's replace) that is this
    check's fix and matched nothing, if any."""
    pattern = EDIT_OF.get(check_id)
    if not isinstance(candidate, Candidate) or pattern is None:
        return None
    return next((edit for edit in candidate.idle_edits if pattern.search(edit)), None)


# where a check's fix is made, when the program's own change there is what a run judges
_FIX_MADE_IN = {"payment.race_condition": "PaymentProcessor.process_pending_payments"}


def _not_in_program(check_id: str, candidate: Candidate, detail: str) -> str | None:
    """Why a failing run cannot judge the check's fix: part of that fix is not in the program
    (given only in prose or a comment, or in a block the splice could not place). None when the program
    holds all of it, or when a line the answer wrote raises (its fix failing, whatever else
    it left out), unless it is a TypeError beside unplaced code of the check."""
    left = [str(i) for i, code in candidate.unplaced if concerns(check_id, code)]
    if left and _FIX_MADE_IN.get(check_id) in candidate.changed:
        # (the program carries a fix of its own where the check's fix goes: a lock placed around
        # the check is judged, whatever claim the answer also offered that could not be placed)
        left = []
    if "TypeError" in detail and (caller := caller_left_out(candidate.unplaced_calls, _fixture_files(candidate.task),
                                                             candidate.files)):
        # (whichever check's code it is: the program still calls the function the old way)
        return (f"the answer's code is not all in the program: code block {caller[0]}, which calls {caller[1]}() "
                f"with the parameters the answer gave it, could not be placed")
    if detail.startswith(_RAISED_BY_ANSWER) and not (left and "TypeError" in detail):
        # (a TypeError beside the check's code left unplaced is what the missing caller
        # change would have prevented: the new fee in satoshis handed the row's float)
        return None
    told = sorted(n for n in PLACES.get(check_id, ())
                  if n in candidate.prose_only and concerns(check_id, candidate.prose_only[n], in_prose=True))
    if told:
        # "`_execute_payment()` then works on `amount_sat = to_sat(amount)`"
        return f"the answer changes {', '.join(n.split('.')[-1] + '()' for n in told)} only in prose or in a comment, which the program does not carry"
    if left:
        return (f"the answer's code for this check is not all in the program: code block{'s' if len(left) > 1 else ''} "
                f"{', '.join(left)} could not be placed")
    return None


@lru_cache(maxsize=None)
def _fixture_files(task: str) -> dict[str, str]:
    """The task's Python files as shipped, read once."""
    return {name: (buggy_code_dir() / name).read_text(encoding="utf-8")
            for name in TASK_FILES[task] if name.endswith(".py")}


def _mark_incomplete(task: str, candidate: Candidate, per_check: dict[str, dict]) -> None:
    """A run stopped by a name the answer uses and never defines says nothing of the fix;
    one stopped by a wrong-code exception at a line the answer wrote is the fix failing."""
    fixture_files = _fixture_files(task)
    fixtures = list(fixture_files.values())
    texts = [t for n, t in candidate.files.items() if n.endswith(".py")]
    for entry in per_check.values():
        if entry["status"] not in ("failed", "error"):
            continue
        if candidate.written and entry["status"] == "error" and entry["detail"].startswith(("candidate raised", "import failed")):
            entry.update(status="failed", detail=f"what the answer's commands write is all the program has: {entry['detail']}")
            continue
        name = undefined_by_answer(entry["detail"], fixtures, texts)
        if name is not None and (owner := attribute_owner(entry["detail"])) in candidate.whole_inits:
            entry.update(status="failed", detail=f"the answer's code reads {owner}.{name}, which the whole "
                                                 f"__init__ it gives never sets ({entry['detail']})")
        elif name is not None:
            entry.update(status="error", detail=f"the answer's code is incomplete: it uses {name!r}, which neither "
                                                f"it nor the original program defines ({entry['detail']})")
        elif entry["status"] == "error" and raised_by_answer(entry["detail"], fixture_files, candidate.files):
            entry.update(status="failed", detail=f"{_RAISED_BY_ANSWER}{entry['detail']}")
        elif entry["status"] == "error" and (gone := broken_by_answer(entry["detail"], fixtures, texts)):
            entry.update(status="failed", detail=f"the answer's change leaves {gone!r} unset where the program "
                                                 f"uses it ({entry['detail']})")
        elif entry["status"] == "error" and (missing := missing_name(entry["detail"], {attribute_owner(entry["detail"]) or ""})) and missing[1] \
                and missing[0] in candidate.prose_removed:
            # ("You can delete `self.share_window` … from `__init__` afterwards"): the answer's own change
            entry.update(status="failed", detail=f"the answer's prose takes {missing[0]!r} out of the program, which "
                                                 f"still uses it ({entry['detail']})")


def _tree_digest(folder: Path) -> str:
    return _tree_digest_cached(str(folder))


@lru_cache(maxsize=8)
def _tree_digest_cached(folder: str) -> str:
    digest = hashlib.sha256()
    root = Path(folder)
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _per_check(task: str, result: sandbox.RunResult, check_ids: list[str]) -> dict[str, dict]:
    """The probe's JSON, folded into one result per check (a check passes only if all its probes pass)."""
    if result.timed_out:
        return {c: execution("error", f"the probe run was stopped after {result.seconds:.0f} s") for c in check_ids}
    parsed = _last_json_line(result.stdout)
    if parsed is None:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return {c: execution("error", f"the probe printed no result (exit {result.returncode}): {tail}")
                for c in check_ids}
    entries: dict[str, list[dict]] = {}
    for item in parsed.get("results") or []:
        if isinstance(item, dict) and item.get("check") in check_ids:
            entries.setdefault(item["check"], []).append(item)
    out: dict[str, dict] = {}
    for check_id in check_ids:
        found = entries.get(check_id)
        if not found:
            out[check_id] = execution("unavailable", "no probe for this check")
            continue
        # (a behaviour one probe saw fail decides, whatever another could not judge)
        for status in ("failed", "error"):
            bad = [e for e in found if e.get("status") == status]
            if bad:
                out[check_id] = execution(status, _one_line(bad[0].get("detail")), str(bad[0].get("probe", "")))
                break
        else:
            if all(e.get("status") == "passed" for e in found):
                out[check_id] = execution("passed", "; ".join(_one_line(e.get("detail")) for e in found),
                                          ", ".join(str(e.get("probe", "")) for e in found))
            else:
                odd = next(e for e in found if e.get("status") != "passed")
                out[check_id] = execution("error", f"the probe reported an unknown status {odd.get('status')!r}",
                                          str(odd.get("probe", "")))
    return out


def _last_json_line(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        if line.strip():
            try:
                data = json.loads(line)
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None


def _one_line(text) -> str:
    """Probe output shown in terminals and reports: one line, no control characters."""
    printable = "".join(ch if ch.isprintable() else " " for ch in str(text or ""))
    return " ".join(printable.split())[:500]
