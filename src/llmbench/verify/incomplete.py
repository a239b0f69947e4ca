"""Tell an incomplete candidate from a wrong fix.

A run that stops on ``AttributeError: ... has no attribute 'x'`` or ``NameError: name
'x' is not defined`` may mean two things:

* the answer's code uses a name that neither it nor the fixture defines (``self.fee_bp``
  set "in __init__" in prose only, a helper promised and not given): the candidate is
  incomplete, the run says nothing of the fix, so it is an ``error``;
* the answer removed or renamed a name the fixture defined and still uses: that is
  the fix breaking the program, and the run's verdict stands.

A run that stops on another exception raised by a line the answer wrote
(``self.share_window = int(config.get("pplns_window", self.share_window))`` reading the
attribute it defines, ``float - Decimal``, SQL the answer wrote that SQLite rejects) is
the fix failing: ``raised_by_answer``.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

_MISSING_ATTRIBUTE = re.compile(r"AttributeError: '(\w+)' object has no attribute '(\w+)'")
_MISSING_NAME = re.compile(r"NameError: name '(\w+)' is not defined")


def missing_name(detail: str, classes: AbstractSet[str] = frozenset()) -> tuple[str, bool] | None:
    """(the name a run's detail says was missing, whether it is an attribute), if any.
    Attributes count only on objects of ``classes`` (the program's own): a library
    object without that attribute (``'NoneType' object has no attribute 'fetchall'``)
    is the program misusing it, not a gap in the answer."""
    found = _MISSING_ATTRIBUTE.search(detail or "")
    if found and found.group(1) in classes:
        return found.group(2), True
    found = _MISSING_NAME.search(detail or "")
    if found:
        return found.group(1), False
    return None


def attribute_owner(detail: str) -> str | None:
    """The class of the object a run's detail says lacked an attribute."""
    found = _MISSING_ATTRIBUTE.search(detail or "")
    return found.group(1) if found else None


def _classes(text: str) -> set[str]:
    try:
        return {n.name for n in ast.walk(ast.parse(text)) if isinstance(n, ast.ClassDef)}
    except SyntaxError:
        return set()


def defined_names(text: str, attributes: bool) -> set[str]:
    """The names a module binds anywhere. ``attributes``: what an object can have (methods,
    class attributes, ``self.x = ...``, ``setattr``); otherwise what a name can be
    (functions, classes, imports, assignments, parameters)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" \
                and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
            names.add(str(node.args[1].value))
        elif attributes:
            continue
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    if attributes:   # class-level assignments are attributes of the class's objects
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            for item in cls.body:
                targets = item.targets if isinstance(item, ast.Assign) else [getattr(item, "target", None)]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def undefined_by_answer(detail: str, fixture_texts: list[str], candidate_texts: list[str]) -> str | None:
    """The missing name when the answer's own code introduced it without defining it
    (the fixture never defined it, and the candidate does not either)."""
    classes = set().union(*(_classes(t) for t in fixture_texts + candidate_texts))
    missing = missing_name(detail, classes)
    if missing is None:
        return None
    name, attribute = missing
    if not attribute and hasattr(builtins, name):
        return None
    if any(name in defined_names(t, attribute) for t in fixture_texts + candidate_texts):
        return None
    return name


def broken_by_answer(detail: str, fixture_texts: list[str], candidate_texts: list[str]) -> str | None:
    """The missing attribute when the original program set it in time and the answer's
    program sets it only later (``self.socket`` made in ``_listen`` while ``start()``, kept as
    it was, still connects it first): the fix breaking the program. An attribute no longer
    set at all may be a part of ``__init__`` the answer did not show, so that stays an error."""
    classes = set().union(*(_classes(t) for t in fixture_texts + candidate_texts))
    missing = missing_name(detail, classes)
    if missing is None or not missing[1]:
        return None
    name = missing[0]
    before = any(name in defined_names(t, True) for t in fixture_texts)
    now = any(name in defined_names(t, True) for t in candidate_texts)
    return name if before and now else None


# "candidate raised TypeError: unsupported … (payment_processor.py:88 in _execute_payment)"
_RAISED = re.compile(r"^candidate raised (?:\w+\.)*(\w+): .*\((\w+\.py):(\d+) in \w+\)$")
# what an answer's own line can raise by being wrong (not by being a fragment whose
# context the candidate lacks: NameError, ImportError and SyntaxError say that)
_WRONG_CODE = frozenset({"AttributeError", "TypeError", "ValueError", "KeyError", "IndexError",
                         "ZeroDivisionError", "UnboundLocalError", "InvalidOperation", "OperationalError",
                         "ProgrammingError", "InterfaceError", "IntegrityError", "RecursionError",
                         "RuntimeError"})   # ("OrderedDict mutated during iteration": a prune deleting as it iterates)
# "StratumServer._build_header() missing 1 required positional argument: 'nonce'": a call the
# program kept, of a function whose parameters the answer changed
_CALL_MISMATCH = re.compile(r"TypeError: (?:\w+\.)*(\w+)\(\) (?:missing \d+ required|takes \d+|got an unexpected)")


def raised_by_answer(detail: str, fixtures: dict[str, str], candidate_files: dict[str, str]) -> bool:
    """Whether the run stopped on a wrong-code exception at a line the answer's code added."""
    found = _RAISED.match(detail or "")
    if not found or found.group(1) not in _WRONG_CODE:
        return False
    name, lineno = found.group(2), int(found.group(3))
    text = candidate_files.get(name)
    if text is None or name not in fixtures:
        return False
    lines = text.splitlines()
    if not 0 < lineno <= len(lines):
        return False
    line = lines[lineno - 1].strip()
    called = _CALL_MISMATCH.search(detail)
    if bool(line) and line not in {old.strip() for old in fixtures[name].splitlines()}:
        # (a new call to a function whose parameters the answer never changed, with other
        # arguments, assumes a signature it does not give: a part the candidate lacks)
        return not (called is not None and _parameters(called.group(1), fixtures[name])
                    and not _parameters_changed(called.group(1), fixtures[name], text))
    return called is not None and _parameters_changed(called.group(1), fixtures[name], text)


def _parameters(name: str, text: str) -> list[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return [ast.dump(n.args) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]


def _parameters_changed(name: str, fixture: str, candidate: str) -> bool:
    """Whether the answer changed the parameters of the function a kept call no longer fits."""
    before, after = _parameters(name, fixture), _parameters(name, candidate)
    return bool(before) and bool(after) and before != after


def caller_left_out(unplaced_calls: Sequence[tuple[int, Sequence[str]]], fixtures: dict[str, str],
                    candidate_files: dict[str, str]) -> tuple[int, str] | None:
    """(block, function) of a block the splice could not place that calls a function whose
    parameters the answer changed: the program keeps the old call, so a TypeError it stops
    on is the missing caller's, not the fix's ("job = self.jobs.get(job_id) …
    self._validate_share(session, job, …)" beside a new ``_validate_share(self, session, job, …)``)."""
    for index, names in unplaced_calls:
        for name in names:
            if any(_parameters_changed(name, fixtures[f], text) for f, text in candidate_files.items() if f in fixtures):
                return index, name
    return None
