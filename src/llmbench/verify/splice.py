"""Splice the functions, methods, imports and constants of a code snippet into a module.

Text-level edits located by the AST, so everything the snippet does not touch
keeps its exact text (comments, formatting, line numbers above the edit):

* a function whose name is a top-level function of the module replaces it;
* a function named like a method replaces that method (a function that matches nothing
  becomes a new method of the main class when it takes ``self``/``cls``, is a static or
  class method, or the snippet calls it on ``self``; others become new functions);
* a class of the module: its methods and class attributes are replaced or added;
  a new class is appended;
* imports the module lacks are added after its imports; a top-level ``NAME = …``
  replaces or adds that constant.

A bare fragment that quotes one line of the main class and adds lines after it (the
insert line, then a new eviction loop) adds them there, unless it restates other lines
of the class or adds a log call beside the method's own (both may mean a rewrite).

A function whose body ends in a bare ``...`` ("rest unchanged") is merged: its
statements first, then the module's own statements it does not restate (same text,
or an assignment of names it assigns), in their order. A ``...`` anywhere else is an
elision that cannot be placed: the function is skipped and the module keeps its own
version. A body that starts with ``...`` keeps the module's statements, the snippet's
assignments in the place of those they restate. An indented comment standing alone
for left-out code ("# ... unchanged from here", "# rest as before") is a ``...``; a
remark that only uses such words ("# the remainder goes to the pool") is not.
Module-level statements of other kinds (``self.jobs = {}`` under a "# in __init__"
comment, ``cur = conn.execute(...)`` lifted out of a method) are not runnable on their
own and are skipped too: a constant's value may only name the module's own names and
builtins.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import io
import re
import sys
import textwrap
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_Func = ast.FunctionDef | ast.AsyncFunctionDef
Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class SpliceResult:
    text: str
    notes: list[str] = field(default_factory=list)   # what was skipped, and why


def _is_ellipsis(node: ast.AST) -> bool:
    """A bare ``...`` statement."""
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node.value.value is Ellipsis


def _parameters(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    return {a.arg for a in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)}


def is_elided(node: ast.AST) -> bool:
    """A function (or class) with a bare ``...`` statement in its body: a placeholder."""
    for child in ast.walk(node):
        if _is_ellipsis(child):
            return True
    return False


def _start(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno] + [d.lineno for d in decorators])


def _end(node: ast.stmt) -> int:
    return node.end_lineno or node.lineno  # set by ast.parse


def _source(lines: list[str], node: ast.stmt, indent: str) -> list[str]:
    chunk = textwrap.dedent("\n".join(lines[_start(node) - 1:_end(node)]))
    return [(indent + line) if line.strip() else "" for line in chunk.splitlines()]


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _assigned_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _uses_self(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id in ("self", "cls") for n in ast.walk(node))


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            names.update(_assigned_names(node))
    return names


def _is_constant(node: ast.AST, known: set[str]) -> bool:
    """A module-level assignment that runs on its own: its value names only known names
    (a statement lifted out of a method reads its locals and is not one)."""
    value = getattr(node, "value", None)
    if value is None:
        return True
    bound = {n.id for n in ast.walk(value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(value) if isinstance(n, ast.Lambda) for a in n.args.args}
    free = {n.id for n in ast.walk(value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound
    return free <= known | set(dir(builtins))


_FLOW = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try, ast.Return, ast.Continue, ast.Break)


def _unimported_modules(module: "_Module", tree: ast.Module) -> set[str]:
    """The standard-library modules the snippet uses (``re.compile(…)``) that neither the
    program nor the snippet imports or binds: the import the answer leaves to the prose
    ("`import re` at the top") or to the reader."""
    bound = _top_level_names(module.tree) | _stored_names(tree) \
        | {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args + n.kwonlyargs}
    return {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and isinstance(n.value.ctx, ast.Load) and n.value.id in sys.stdlib_module_names and n.value.id not in bound}


def _module_constants(module: "_Module", tree: ast.Module, unimported: set[str]) -> list[ast.stmt]:
    """The snippet's top-level assignments that are module constants: each runs on its own,
    reading only the module's names, the snippet's definitions and imports, and constants
    before it. Beside a method's lines (a loop, a ``self.`` statement) only an UPPER_CASE
    name is one: ``paid = 0`` over ``for row in rows:`` is that method's local."""
    fragment = any(isinstance(n, _FLOW) or _uses_self(n) for n in tree.body)
    known = _top_level_names(module.tree) | _top_level_names(
        ast.Module(body=[n for n in tree.body if not _assigned_names(n)], type_ignores=[])) | unimported
    found: list[ast.stmt] = []
    for node in tree.body:
        names = _assigned_names(node)
        if names and not _uses_self(node) and _is_constant(node, known) \
                and (not fragment or all(n.isupper() for n in names)):
            found.append(node)
            known |= set(names)
    return found


def _trailing_elision(func: _Func) -> bool:
    """The function's body ends in ``...`` and holds no other: "the rest as it was"."""
    body = func.body
    last = body[-1] if body else None
    if not (last is not None and _is_ellipsis(last)):
        return False
    return len(body) > 1 and not any(is_elided(stmt) for stmt in body[:-1])


def _stored_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _locals_in_place_of_attributes(tree: ast.AST, given: list[ast.stmt]) -> dict[str, str]:
    """attribute -> local, for each local the given lines bind to what the module binds to
    ``self.attribute`` (``sock = self.context.socket(zmq.SUB)`` beside the original
    ``self.socket = self.context.socket(zmq.SUB)``): in the kept lines the local takes the
    attribute's place, as the answer meant."""
    by_value = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute) \
                and isinstance(node.targets[0].value, ast.Name) and node.targets[0].value.id == "self":
            by_value[ast.dump(node.value)] = node.targets[0].attr
    roles = {}
    for stmt in given:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            attribute = by_value.get(ast.dump(stmt.value))
            if attribute:
                roles[attribute] = stmt.targets[0].id
    return roles


def _merge_elided(module: "_Module", old: _Func, new: _Func, snippet_lines: list[str]) -> list[str]:
    """``new``'s statements, then ``old``'s statements ``new`` does not restate, as lines of
    a function at column 0 (``new``'s own header)."""
    given = new.body[:-1] if _trailing_elision(new) else new.body
    dumps = {ast.dump(stmt) for stmt in given}
    # (a parameter the new signature takes restates the original's assignment to it: `job =
    # self.current_job` beside a new `job` argument)
    assigned = set().union(*(_stored_names(stmt) for stmt in given)) | _parameters(new)
    given_targets = {t for stmt in given if (t := _assigned_to(stmt)) is not None and "Attribute" in t}
    header = snippet_lines[_start(new) - 1:new.body[0].lineno - 1]
    out = list(header)
    for stmt in given:
        out += snippet_lines[_start(stmt) - 1:stmt.end_lineno]
    body_indent = indent_of(snippet_lines[new.body[0].lineno - 1])
    roles = _locals_in_place_of_attributes(module.tree, given)
    read = {n.id for stmt in given for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}

    def restated(stmt: ast.stmt) -> bool:
        # (an assignment, or a `with` block around one, the snippet already makes: "with
        # self._connect() as conn: shares = …" given with a new window replaces the old block;
        # `self.current_job = {…}` given with one more key replaces the old one)
        names = _stored_names(stmt)
        return ast.dump(stmt) in dumps or bool(names) and isinstance(
            stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.With)) and names <= assigned \
            or _assigned_to(stmt) in given_targets

    # the given lines stand for the old ones up to the last they restate: an assignment before
    # it that they leave out and never read is one the answer dropped (the unused `window_size`)
    anchors = [k for k, stmt in enumerate(old.body) if restated(stmt) and not _is_docstring(stmt)]
    dropped = _unread_before(old.body, anchors[-1], read, restated) if anchors else set()
    for k, stmt in enumerate(old.body):
        if restated(stmt) or k in dropped:
            continue
        chunk = textwrap.dedent("\n".join(module.lines[_start(stmt) - 1:stmt.end_lineno]))
        for attribute, local in roles.items():
            chunk = re.sub(rf"\bself\.{attribute}\b", local, chunk)
        out += [(body_indent + line) if line.strip() else "" for line in chunk.splitlines()]
    return textwrap.dedent("\n".join(out)).splitlines()


def _loads(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _unread_before(body: list[ast.stmt], anchor: int, read: set[str], restated: Callable[[ast.stmt], bool]) -> set[int]:
    """The indexes of the assignments before ``anchor`` that nothing kept reads: neither the
    given lines (``read``) nor the original's lines that stay (the unused `window_size`,
    and the `net_diff` only it read)."""
    dropped: set[int] = set()
    while True:
        kept_reads = read.union(*(_loads(stmt) for k, stmt in enumerate(body) if k not in dropped and not restated(stmt)))
        more = {k for k, stmt in enumerate(body[:anchor]) if k not in dropped and isinstance(stmt, ast.Assign)
                and not restated(stmt) and (names := _stored_names(stmt)) and not names & (kept_reads - _loads(stmt))}
        if not more:
            return dropped
        dropped |= more


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _assigned_to(stmt: ast.stmt) -> str | None:
    """What an assignment binds (``x``, ``self.share_window``), as an AST dump; else None."""
    if isinstance(stmt, ast.Assign):
        return "|".join(ast.dump(t) for t in stmt.targets)
    if isinstance(stmt, ast.AnnAssign):
        return ast.dump(stmt.target)
    return None


def _leading_elision(func: _Func) -> bool:
    """The body starts with ``...`` and holds no other: "as it was, then these lines"."""
    body = func.body
    first = body[0] if body else None
    if not (first is not None and _is_ellipsis(first)):
        return False
    return len(body) > 1 and not any(is_elided(stmt) for stmt in body[1:])


def _middle_elision(func: _Func) -> int | None:
    """The index of the one ``...`` in the middle of the function's body ("these lines, the
    ones between as they were, then these"); None when there is none or more than one."""
    marks = [k for k, stmt in enumerate(func.body) if _is_ellipsis(stmt)]
    if len(marks) != 1 or not 0 < marks[0] < len(func.body) - 1:
        return None
    if any(is_elided(stmt) for k, stmt in enumerate(func.body) if k != marks[0]):
        return None
    return marks[0]


def _merge_middle(module: "_Module", old: _Func, new: _Func, snippet_lines: list[str], mark: int) -> list[str] | None:
    """``new``'s head, ``old``'s statements before the first one the tail restates that the
    head does not restate, then ``new``'s tail; None when either end restates nothing."""
    head, tail = new.body[:mark], new.body[mark + 1:]
    params = _parameters(new)

    def restates(group: list[ast.stmt]) -> Callable[[ast.stmt], bool]:
        dumps = {ast.dump(stmt) for stmt in group}
        targets = {t for stmt in group if (t := _assigned_to(stmt)) is not None}
        tests = {ast.dump(stmt.test) for stmt in group if isinstance(stmt, (ast.If, ast.While))}
        assigned = set().union(*(_stored_names(stmt) for stmt in group))

        def restated(stmt: ast.stmt) -> bool:
            # the same statement, an assignment to the same target (a parameter the new
            # signature takes counts: `job = self.current_job` beside a new `job` argument), or
            # a branch on the same condition
            names = _stored_names(stmt)
            return (ast.dump(stmt) in dumps or _assigned_to(stmt) in targets
                    or isinstance(stmt, ast.Assign) and bool(names) and names <= assigned | params
                    or isinstance(stmt, (ast.If, ast.While)) and ast.dump(stmt.test) in tests)
        return restated

    by_head, by_tail = restates(head), restates(tail)
    opening = next((k for k, stmt in enumerate(old.body) if by_head(stmt)), None)
    if opening is None:
        return None
    first = next((k for k in range(opening + 1, len(old.body)) if by_tail(old.body[k]) and not by_head(old.body[k])), None)
    if first is None:
        return None
    body_indent = indent_of(snippet_lines[new.body[0].lineno - 1])
    out = list(snippet_lines[_start(new) - 1:new.body[0].lineno - 1])
    for stmt in head:
        out += snippet_lines[_start(stmt) - 1:stmt.end_lineno]
    # the original's statements before the tail that the head does not restate, in order
    for stmt in (s for s in old.body[:first] if not by_head(s) and not _is_docstring(s)):
        chunk = textwrap.dedent("\n".join(module.lines[_start(stmt) - 1:stmt.end_lineno]))
        out += [(body_indent + line) if line.strip() else "" for line in chunk.splitlines()]
    for stmt in tail:
        out += snippet_lines[_start(stmt) - 1:stmt.end_lineno]
    return textwrap.dedent("\n".join(out)).splitlines()


def _merge_leading(module: "_Module", old: _Func, new: _Func, snippet_lines: list[str]) -> list[str]:
    """``old``'s statements, each assignment ``new`` restates (same names) replaced by
    ``new``'s in its place, and ``new``'s other statements after them."""
    given = new.body[1:]
    header = snippet_lines[_start(new) - 1:new.body[0].lineno - 1]
    body_indent = indent_of(snippet_lines[new.body[0].lineno - 1])
    placed: set[int] = set()
    out = list(header)

    def given_lines(stmt: ast.stmt) -> list[str]:
        return textwrap.dedent("\n".join(snippet_lines[_start(stmt) - 1:stmt.end_lineno])).splitlines()

    anchors: dict[int, int] = {}   # old statement -> the given one that restates it
    for j, stmt in enumerate(old.body):
        target = _assigned_to(stmt)
        match = next((i for i, g in enumerate(given) if i not in placed and target is not None
                      and _assigned_to(g) == target), None)
        if match is not None:
            placed.add(match)
            anchors[j] = match
    # between two restated statements the given lines stand for the old ones ("block_hex = …",
    # a new log line, "result = await …": the old log line between them is replaced)
    ordered = sorted(anchors.items())
    between: dict[int, list[int]] = {}
    replaced: set[int] = set()
    for (j1, i1), (j2, i2) in zip(ordered, ordered[1:], strict=False):
        if i1 < i2:
            between[j1] = list(range(i1 + 1, i2))
            placed.update(between[j1])
            replaced.update(range(j1 + 1, j2))
    for j, stmt in enumerate(old.body):
        if j in replaced:
            continue
        chunk = given_lines(given[anchors[j]]) if j in anchors else \
            textwrap.dedent("\n".join(module.lines[_start(stmt) - 1:stmt.end_lineno])).splitlines()
        for i in between.get(j, []):
            chunk += given_lines(given[i])
        out += [(body_indent + line) if line.strip() else "" for line in chunk]
    for i, stmt in enumerate(given):
        if i not in placed:
            out += [(body_indent + line) if line.strip() else "" for line in given_lines(stmt)]
    return textwrap.dedent("\n".join(out)).splitlines()


class _Edits:
    """Replacements and insertions on the module's lines, applied bottom-up."""

    def __init__(self) -> None:
        self._items: list[tuple[int, int, int, list[str]]] = []  # (start, end, order, new lines); end < start: insert

    def replace(self, start: int, end: int, new: list[str]) -> None:
        self._items.append((start, end, len(self._items), new))

    def insert_after(self, line: int, new: list[str]) -> None:
        self._items.append((line + 1, line, len(self._items), new))

    def apply(self, lines: list[str]) -> list[str]:
        out = list(lines)
        # bottom-up; at one line a replacement goes before the insertions there
        for start, end, _, new in sorted(self._items, key=lambda e: (e[0], e[1] >= e[0], e[2]), reverse=True):
            out[start - 1:max(end, start - 1)] = new
        return out


class _Module:
    def __init__(self, text: str, main_class: str) -> None:
        self.lines = text.splitlines()
        self.tree = ast.parse(text)
        self.main_class = main_class
        self.classes = {n.name: n for n in self.tree.body if isinstance(n, ast.ClassDef)}
        self.functions = {n.name: n for n in self.tree.body if isinstance(n, _FUNCS)}
        self.constants = {name: n for n in self.tree.body for name in _assigned_names(n)}
        imports = [n for n in self.tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        self.import_dumps = {ast.dump(n) for n in imports}
        docstring_end = 0
        first = self.tree.body[0] if self.tree.body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            docstring_end = _end(first)
        self.after_imports = max([_end(n) for n in imports] + [docstring_end])

    def method_owner(self, func: Function) -> ast.ClassDef | None:
        """The class whose same-named method this function replaces (the main class first,
        then the class whose method has the same parameters)."""
        methods = {c.name: m for c in self.classes.values() if (m := _method(c, func.name)) is not None}
        if not methods:
            return None
        names = [a.arg for a in func.args.args]
        owners = sorted(methods, key=lambda c: ([a.arg for a in methods[c].args.args] != names, c != self.main_class))
        return self.classes[owners[0]]

    def body_indent(self, cls: ast.ClassDef) -> str:
        return indent_of(self.lines[cls.body[0].lineno - 1]) or "    "


def _method(cls: ast.ClassDef, name: str) -> Function | None:
    return next((n for n in cls.body if isinstance(n, _FUNCS) and n.name == name), None)


# a comment that stands for code left out: "# ... unchanged from here", "# rest as before",
# "# run / stop / _worker_loop unchanged". Not a remark that merely uses the words: "# the
# remainder goes to the pool", "# leave the row unchanged", "# unchanged: now reports ..."
_KEPT = (r"(?:(?:is|are|stays?|remains?)\s+)?(?:unchanged|as\s+before|(?:the\s+)?same(?:\s+as\s+(?:before|above))?"
         r"|as[- ]is|omitted|not\s+shown|elided|continues|follows)")
_LEFT_OUT = (r"(?:the\s+)?(?:rest|remainder|remaining\s+(?:code|lines|logic|body|steps|checks)|everything\s+(?:else|below|after)"
             r"|(?:existing|original|other)\s+(?:code|logic|body|lines|methods|handlers|setup|checks|initiali[sz]ation))")
_NAME = r"[A-Za-z_][\w.]*(?:\(\))?"
_CODE_NAMES = (rf"(?:`[^`]+`|[A-Za-z]*_[\w.]*(?:\(\))?|[A-Za-z_][\w.]*\(\)"   # a name of code, or a list of names
               rf"|{_NAME}(?:\s*[,/&]\s*(?:and\s+)?{_NAME})+)")
_END = r"[\s.…:)\]]*$"
_ELISION_TEXT = re.compile(
    r"(?:\.\.\.|…|\[\.\.\.\])"                                                  # "... unchanged from here"
    rf"|[(\[]?{_LEFT_OUT}(?:\s+of\s+(?:the\s+)?\S+(?:\s+\S+)?)?{_END}"          # "rest of the method"
    rf"|[(\[]?(?:{_LEFT_OUT}|{_CODE_NAMES})(?:\s[^#]{{0,80}}?)?\s*\b{_KEPT}{_END}"  # "rest as before"
    rf"|[(\[]?(?:snip|snipped|{_KEPT})[)\]]?{_END}", re.I)                           # "(unchanged)", "snip"


def _comment_lines(snippet: str) -> dict[int, tuple[str, str]]:
    """line number -> (indent, text) of each indented comment alone on its line where a
    statement could stand (not inside brackets); none when the snippet does not tokenize."""
    found: dict[int, tuple[str, str]] = {}
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(snippet).readline):
            if tok.type == tokenize.OP and tok.string in ("(", "[", "{"):
                depth += 1
            elif tok.type == tokenize.OP and tok.string in (")", "]", "}"):
                depth -= 1
            elif tok.type == tokenize.COMMENT and depth == 0:
                indent = tok.line[:tok.start[1]]
                if indent and not indent.strip():
                    found[tok.start[0]] = (indent, tok.string[1:].strip())
    except (tokenize.TokenError, SyntaxError):
        return {}
    return found


# a comment closing a block that points at code after it: "(delete the parse lines further down)",
# "drop the later parsing lines"
_POINTS_ON = re.compile(r"\b(?:further\s+(?:down|on)|below|later\s+in\s+the\s+(?:method|function)|the\s+later\s+\w+"
                        r"|the\s+rest\s+of|(?:continue|carry\s+on|go\s+on)\s+with)\b", re.I)


def _closes_block(lines: list[str], number: int, indent: str) -> bool:
    """The comment on line ``number`` is the last line of its block: what follows is blank,
    other comments, or less indented."""
    for line in lines[number:]:
        if line.strip() and not line.strip().startswith("#"):
            return len(indent_of(line)) < len(indent)
    return True


def elisions_as_ellipsis(snippet: str) -> str:
    """Indented comments that stand for left-out code become ``...`` statements, so an
    elision written as a comment is merged or skipped like one written as ``...``
    (otherwise the function would be spliced cut short)."""
    lines = snippet.split("\n")
    for number, (indent, text) in _comment_lines(snippet).items():
        if _ELISION_TEXT.match(text) or (_POINTS_ON.search(text) and _closes_block(lines, number, indent)):
            lines[number - 1] = indent + "..."
    return "\n".join(lines)


# "# __init__", "# in __init__():", "# inside calculate_payouts": the lines below belong there
_METHOD_COMMENT = re.compile(r"^#\s*(?:(?:in|inside|within|add(?:ed)? to|at the (?:end|top|start) of)\s+)?"
                             r"`?(?:self\.)?(\w+)(?:\(\))?`?\s*(?:[:.,—–-].*)?$", re.IGNORECASE)


def _method_fragments(snippet: str, module: "_Module") -> str:
    """``# __init__`` over bare ``self.x = …`` lines (no ``def``): those lines are the
    method's changed statements. They become the method with its own signature, its body
    ``...`` then the lines, merged like any "as it was, then these lines" function."""
    cls = module.classes.get(module.main_class)
    if cls is None:
        return snippet
    methods = {f.name: f for f in cls.body if isinstance(f, _FUNCS)}
    lines = snippet.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        found = _METHOD_COMMENT.match(lines[i].strip())
        name = found.group(1) if found else None
        # the lines under the comment: at its indentation when they start with "self.", or
        # deeper ("    # __init__" over "        self.jobs = {}" copied from the class)
        margin = len(indent_of(lines[i]))
        j = i + 1
        while j < len(lines) and lines[j].strip() and (
                len(indent_of(lines[j])) > margin
                or (len(indent_of(lines[j])) == margin and lines[j].lstrip().startswith("self."))):
            j += 1
        fragment = textwrap.dedent("\n".join(lines[i + 1:j])).split("\n") if j > i + 1 else []
        if name in methods and fragment and fragment[0].startswith("self."):
            old = methods[name]
            header = textwrap.dedent("\n".join(module.lines[_start(old) - 1:old.body[0].lineno - 1]))
            if not header.rstrip().endswith(":"):   # the body starts on the def's own line
                out += lines[i:j]
                i = j
                continue
            # at the depth of the snippet's own methods ("        # __init__" copied deeper than
            # the methods that follow it), else of the comment
            defs = [indent_of(line) for line in lines if _DEF_LINE.match(line)]
            comment_indent = min(defs, key=len) if defs else " " * margin
            out += ([comment_indent + lines[i].strip()] + [comment_indent + line for line in header.rstrip().split("\n")]
                    + [comment_indent + "    ..."] + [comment_indent + "    " + line for line in fragment])
            i = j
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


_ELIDED_ITEM = re.compile(r"^\s*(?:\.\.\.|…)\s*,?\s*$")


def _without_elided_items(snippet: str) -> str:
    """``return {\n    ...\n    "window_limit": window_size,\n    ...\n}``: an elision
    among a literal's items is not Python; dropping it keeps the items the answer gave."""
    lines = snippet.split("\n")
    kept: list[str] = []
    for line in lines:
        before = next((k.rstrip() for k in reversed(kept) if k.strip()), "")
        if _ELIDED_ITEM.match(line) and (line.rstrip().endswith(",") or before.endswith((",", "{", "[", "("))):
            continue
        kept.append(line)
    return "\n".join(kept)


def _parsed(snippet: str, module: "_Module") -> tuple[str, ast.Module]:
    """The snippet as spliced (method fragments made methods, elided literal items
    dropped) and its tree; SyntaxError when it does not parse."""
    snippet = _method_fragments(snippet, module)
    try:
        return snippet, ast.parse(snippet)
    except SyntaxError:
        snippet = _without_elided_items(snippet)
        return snippet, ast.parse(snippet)


_IMPORT_LINE = re.compile(r"^(?:from\s+[\w.]+\s+import\s|import\s)")
# a module constant on one line: "SATS = 100_000_000", "ONE_SAT: Decimal = Decimal('0.00000001')"
_CONSTANT_LINE = re.compile(r"^[A-Z_][A-Z0-9_]*\s*(?::\s*[\w.\[\]]+\s*)?=\s*[^=\s]")


def _imports_apart(snippet: str) -> str:
    """``from decimal import Decimal`` or ``SATS = 100_000_000`` at the margin above methods
    copied at their class indentation: the methods dedented to the margin too, so the block
    parses."""
    lines = snippet.split("\n")
    margin = [line for line in lines if line.strip() and not line[:1].isspace() and not line.startswith("#")]
    indented = [line for line in lines if line.strip() and line[:1].isspace()]
    if not margin or not indented or not all(_IMPORT_LINE.match(line) or _CONSTANT_LINE.match(line) for line in margin):
        return snippet
    depth = min(len(line) - len(line.lstrip()) for line in indented)
    return "\n".join(line if not line[:1].isspace() else line[depth:] for line in lines)


_SELF_SET = re.compile(r"^\s*self\.(\w+)\s*=(?!=)")
_LOG_CALL = re.compile(r"\b(?:logger|log|logging)\.(?:debug|info|warning|error|exception|critical)\(")
_DEF_LINE = re.compile(r"^\s*(?:async\s+def|def|class)\s")


def _anchored_fragment(snippet: str, module: "_Module", adds: bool) -> tuple[str, tuple[int, list[str]] | None]:
    """A bare fragment that quotes one line of the main class and adds lines after it
    ("self.recent_shares[share_key] = time.time()" then a new eviction loop): the snippet
    without it, and (the class line it quotes, the lines to insert after it). Only a pure
    addition is placed: a fragment that restates other lines of the class rewrites them,
    and so does one that sets an attribute its method sets further on, unless the prose
    says to add it ("Right after the `n_factor` line, add:")."""
    cls = module.classes.get(module.main_class)
    lines = snippet.split("\n")
    # (the run may stand at the margin too, under a constant and a "# _handle_submit()" comment)
    start = next((i for i, line in enumerate(lines) if line.strip() and not line.strip().startswith("#")
                  and not (_IMPORT_LINE.match(line) or _CONSTANT_LINE.match(line))), None)
    if cls is None or start is None:
        return snippet, None
    run = lines[start:]
    while run and not run[-1].strip():
        run.pop()
    base = indent_of(run[0]) if run else ""
    if len(run) < 2 or any(line.strip() and (not line.startswith(base) or _DEF_LINE.match(line)) for line in run):
        return snippet, None
    try:
        ast.parse(textwrap.dedent("\n".join(run)))
    except SyntaxError:
        return snippet, None
    class_lines = {n: module.lines[n - 1].strip() for n in range(cls.lineno, _end(cls) + 1)}
    restated = set(class_lines.values()) - {""}
    first_indent = indent_of(run[0])
    quoted = _quoted_run(module, cls, run)
    if quoted is not None:
        # several class lines quoted as they stand, then the new ones ("call it from `start()`,
        # after the server is running:" over `async with server:`, `await server.serve_forever()`
        # and the new call): the new lines go after the last quoted one
        (first, last), added = quoted
        anchors, opening_indent = [last], indent_of(module.lines[first - 1])
    else:
        anchors = [n for n, text in class_lines.items() if text == run[0].strip()] or _elided_call_anchor(cls, class_lines, run[0])
        added, opening_indent = run[1:], ""
        told = None if anchors else _comment_anchor(cls, lines[:start], class_lines)
        if told is not None:
            # "# _handle_submit(), after self.recent_shares[share_key] = time.time()" over new lines
            anchors, added = [told], run
    forward = len(anchors) == 1 and not any(line.strip() in restated for line in added)
    if not forward and (before := _inserted_before(module, cls, run)) is not None:
        # new lines, then the class lines they go before ("convert the row's amount before the
        # subtraction:" over `amount = _d(amount)` and the two lines that follow it there)
        line_no, head = before
        indent = indent_of(module.lines[line_no - 1])
        return "\n".join(lines[:start]), (line_no - 1, [indent + line[len(first_indent):] if line.strip() else ""
                                                        for line in head])
    if len(anchors) != 1 or any(line.strip() in restated for line in added) \
            or any(line.strip() and not line.startswith(first_indent) for line in added):
        return snippet, None
    method = next((f for f in cls.body if isinstance(f, _FUNCS) and f.lineno <= anchors[0] <= _end(f)), None)
    if method is not None and not adds:
        set_later = {a for n in range(anchors[0] + 1, _end(method) + 1) for a in _SELF_SET.findall(module.lines[n - 1])}
        set_later |= {m.group(1) for n in range(anchors[0] + 1, _end(method) + 1)
                      if (m := _LOCAL_SET.match(module.lines[n - 1]))}
        if any(a in set_later for line in added for a in _SELF_SET.findall(line)) \
                or any(m.group(1) in set_later for line in added if (m := _LOCAL_SET.match(line))):
            # context line, then the new value of an attribute or local set below: a rewrite of
            # it ("fee = self.calculate_fee(amount)" over "net_amount = Decimal(str(amount)) - fee")
            return snippet, None
    if method is not None and any(_LOG_CALL.search(line) for line in added) \
            and any(_LOG_CALL.search(module.lines[n - 1]) for n in range(method.lineno, _end(method) + 1)):
        # a log line beside the method's own ("Log the hash, after submitting:") may be
        # meant to replace it: not placed
        return snippet, None
    # (the indentation of the innermost statement that ends there: a quoted call may go on
    # over several lines)
    opening = max((n.lineno for n in ast.walk(cls) if isinstance(n, ast.stmt) and not isinstance(n, (*_FUNCS, ast.ClassDef))
                   and _end(n) == anchors[0]), default=anchors[0])
    indent = opening_indent if quoted is not None else indent_of(module.lines[opening - 1])
    return "\n".join(lines[:start]), (anchors[0], [indent + line[len(first_indent):] if line.strip() else ""
                                                   for line in added])


def _quoted_run(module: "_Module", cls: ast.ClassDef, run: list[str]) -> tuple[tuple[int, int], list[str]] | None:
    """((first, last) class line, the lines after them) for a run that opens with two or more
    consecutive lines of the class, found at one place only, and goes on with others."""
    body = _class_body(module, cls)
    given = [line for line in run if line.strip()]
    for cut in range(len(given) - 1, 1, -1):
        start = _only_place(body, [line.strip() for line in given[:cut]])
        if start is not None:
            return (body[start][0], body[start + cut - 1][0]), given[cut:]
    return None


def _class_body(module: "_Module", cls: ast.ClassDef) -> list[tuple[int, str]]:
    """(line number, stripped text) of the class's non-blank lines."""
    return [(n, module.lines[n - 1].strip()) for n in range(cls.lineno, _end(cls) + 1) if module.lines[n - 1].strip()]


def _only_place(body: list[tuple[int, str]], stripped: list[str]) -> int | None:
    """The index in ``body`` where ``stripped`` stands as consecutive lines, when it stands at
    one place only."""
    starts = [k for k in range(len(body) - len(stripped) + 1) if [t for _, t in body[k:k + len(stripped)]] == stripped]
    return starts[0] if len(starts) == 1 else None


_LOCAL_SET = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)")
_COMMENT_AFTER = re.compile(r"^\s*#.*?\b(?:after|below|following)\s+`?(.+?)`?\s*:?\s*$", re.IGNORECASE)


def _comment_anchor(cls: ast.ClassDef, before: list[str], class_lines: dict[int, str]) -> int | None:
    """The last line of the one class statement that the comment just above a run of new lines
    says they go after ("# _handle_submit(), after self.recent_shares[share_key] = time.time()")."""
    comment = next((line for line in reversed(before) if line.strip()), "")
    told = _COMMENT_AFTER.match(comment)
    if told is None:
        return None
    return _statement_end(cls, [n for n, text in class_lines.items() if text == told.group(1).strip()])


def _statement_end(cls: ast.ClassDef, starts: list[int]) -> int | None:
    """The last line of the class statement (not a def) that opens on the one line of
    ``starts``; None when there are none or several, or no statement opens there."""
    if len(starts) != 1:
        return None
    statement = next((n for n in ast.walk(cls) if isinstance(n, ast.stmt) and not isinstance(n, (*_FUNCS, ast.ClassDef))
                      and n.lineno == starts[0]), None)
    return None if statement is None else _end(statement)


# a quoted statement whose call arguments are left out: "accepted, block_hash = await
# self._validate_share(...)"
_ELIDED_CALL = re.compile(r"^(.*\()\s*(?:\.\.\.|…)\s*\)$")


def _elided_call_anchor(cls: ast.ClassDef, class_lines: dict[int, str], line: str) -> list[int]:
    """The last line of the one class statement a quoted call with elided arguments
    stands for (the statement may go on over several lines); [] when none or several."""
    match = _ELIDED_CALL.match(line.strip())
    if match is None:
        return []
    end = _statement_end(cls, [n for n, text in class_lines.items() if text.startswith(match.group(1))])
    return [] if end is None else [end]


def _inserted_before(module: "_Module", cls: ast.ClassDef, run: list[str]) -> tuple[int, list[str]] | None:
    """(the class line, the new lines to insert before it) of a run of new lines that ends
    with consecutive lines of the class, found at one place only; None otherwise."""
    body = _class_body(module, cls)
    given = [line for line in run if line.strip()]
    base = indent_of(run[0])
    if not all(line.startswith(base) for line in given):
        return None
    for cut in range(1, len(given)):
        head = given[:cut]
        start = _only_place(body, [line.strip() for line in given[cut:]])
        if start is None:
            continue
        # only at the top of a method, whose own lines the head cannot be meant to replace (a
        # new log line over `submitblock` may stand for the log line above it), and only whole
        # statements (`with self.lock:` over the lines it should wrap is no insertion)
        if start == 0 or not _DEF_LINE.match(body[start - 1][1]) and not body[start - 1][1].startswith("async def"):
            return None
        try:
            ast.parse(textwrap.dedent("\n".join(head)))
        except SyntaxError:
            return None
        return body[start][0], head
    return None


def _methods_after_a_helper(tree: ast.Module) -> list[ast.stmt]:
    """The snippet's top-level statements, with methods freed from a module-level helper
    they follow: ``def to_decimal(value): return …`` at the margin, then ``def
    calculate_fee(self, amount):`` at class indentation parses as dead code nested after
    the helper's ``return``; it is meant as the class's method."""
    nodes: list[ast.stmt] = []
    for node in tree.body:
        nodes.append(node)
        if not isinstance(node, _FUNCS) or (node.args.args and node.args.args[0].arg in ("self", "cls")):
            continue
        cut = next((i for i, stmt in enumerate(node.body)
                    if i > 0 and isinstance(node.body[i - 1], (ast.Return, ast.Raise))
                    and isinstance(stmt, _FUNCS) and stmt.args.args and stmt.args.args[0].arg in ("self", "cls")), None)
        if cut is None or not all(isinstance(stmt, _FUNCS) for stmt in node.body[cut:]):
            continue
        freed = node.body[cut:]
        node.body = node.body[:cut]
        node.end_lineno = _end(node.body[-1])
        nodes += freed
    return nodes


def _last_sentence(lead: str) -> str:
    """The sentence of a lead-in that the block right after it goes with."""
    return re.split(r"(?<=[.!?])\s+", lead.strip())[-1] if lead.strip() else ""


# a lead-in that puts new lines ahead of everything in one method: "At the top of
# `_handle_submit()`, add:", "Before the duplicate check in `_handle_submit()`, add:", "and
# in `_handle_submit`, before the duplicate check:"
_AT_TOP = re.compile(
    r"\b(?:(?:at|to)\s+the\s+(?:very\s+)?(?:top|start|beginning)\s+of|before\b[^.:`]{0,60}?\b(?:in|of|inside)|first\s+thing\s+in)"
    r"\s+`(?:self\.)?(\w+)(?:\(\))?`(?=[\s,:]*(?:add|insert|put)?\w*[\s:]*$)"
    r"|\bin\s+`(?:self\.)?(\w+)(?:\(\))?`,?\s+(?:right\s+|just\s+)?(?:before\b[^.:`]{0,60}|at\s+the\s+(?:top|start))[,\s]*(?:add\w*)?\s*:?\s*$",
    re.I)


def _top_of_method(module: "_Module", statements: list[ast.stmt], lead: str) -> tuple[int, str] | None:
    """(the line to insert after, its indentation) for a bare fragment whose lead-in puts it
    first in one method of the main class. None when the fragment reads a local the method
    sets on the way (only its parameters stand at its top) or restates one of its lines."""
    sentence = _last_sentence(lead)
    match = _AT_TOP.search(sentence)
    cls = module.classes.get(module.main_class)
    if match is None or cls is None or not statements:
        return None
    method = _method(cls, match.group(1) or match.group(2))
    if method is None:
        return None
    own = {n.id for n in ast.walk(method) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    params = _parameters(method)
    given = set().union(*(_stored_names(n) for n in statements))
    if any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in own - params - given
           for stmt in statements for n in ast.walk(stmt)):
        return None
    if given & own:
        # new values of the method's own locals (`fee = …`, `net_amount = …` "at the top of
        # `_execute_payment()`"): its later lines would set them again, so the lines are a
        # rewrite of those, not an addition
        return None
    if {ast.dump(stmt) for stmt in statements} & {ast.dump(n) for n in ast.walk(method) if isinstance(n, ast.stmt)}:
        return None
    first = method.body[0]
    after = _end(first) if _is_docstring(first) and len(method.body) > 1 else first.lineno - 1
    body = method.body[1] if _is_docstring(first) and len(method.body) > 1 else first
    return after, indent_of(module.lines[body.lineno - 1])


# a lead-in that gives a function's whole new body: "and make the body of `calculate_fee()`:",
# "Replace the body of `_listen` with:"
_BODY_OF = re.compile(r"\bbody of\s+`?(?:self\.)?(\w+)(?:\(\))?`?(?:\s+(?:with|to|becomes?|as follows))?\s*:?\s*$", re.IGNORECASE)


# a lead-in that places new lines after one quoted line: "In `__init__`, right after the line
# `self.pool_address = config["pool_address"]`, add:"
_AFTER_QUOTED = re.compile(r"\b(?:right |just |directly |immediately )?(?:after|below|under)\s+(?:the\s+(?:line\s+)?)?`([^`\n]+)`"
                           r"(?:\s+line)?,?\s*(?:add|insert|put)\w*\b[^.:]*:?\s*$", re.IGNORECASE)


def _after_quoted_line(module: "_Module", statements: list[ast.stmt], lead: str) -> tuple[int, str] | None:
    """(the line to insert after, its indentation) for bare new lines whose lead-in quotes the
    one class line they go after; None when the quote is no line of the class or several."""
    sentence = _last_sentence(lead)
    quoted = _AFTER_QUOTED.search(sentence)
    cls = module.classes.get(module.main_class)
    if quoted is None or cls is None or not statements:
        return None
    wanted = quoted.group(1).strip()
    found = [n for n in ast.walk(cls) if isinstance(n, ast.stmt) and not isinstance(n, (*_FUNCS, ast.ClassDef))
             and module.lines[n.lineno - 1].strip() == wanted]
    if not found and re.fullmatch(r"(?:self\.)?\w+", wanted):
        # the line named by what it sets: "after the `n_factor` line, add:"
        name = wanted.removeprefix("self.")
        found = [n for n in ast.walk(cls) if isinstance(n, (ast.Assign, ast.AnnAssign))
                 and (_self_attribute(n) == name or name in _assigned_names(n))]
    if len(found) != 1:
        return None
    return _end(found[0]), indent_of(module.lines[found[0].lineno - 1])


def _as_new_body(module: "_Module", snippet: str, lead: str) -> str:
    """A bare block under "make the body of `F()`:" as the whole function F, under F's own
    signature; the snippet unchanged otherwise (a block with a ``def`` of its own, or a
    function the program lacks)."""
    sentence = _last_sentence(lead)
    named = _BODY_OF.search(sentence)
    if named is None or re.search(r"^\s*(?:async\s+def|def|class)\s", snippet, re.M):
        return snippet
    cls = module.classes.get(module.main_class)
    func = (_method(cls, named.group(1)) if cls is not None else None) or module.functions.get(named.group(1))
    if func is None or not snippet.strip():
        return snippet
    head_end = func.body[0].lineno - 1
    start = func.decorator_list[0].lineno if func.decorator_list else func.lineno
    head = textwrap.dedent("\n".join(module.lines[start - 1:head_end]))
    return head + "\n" + textwrap.indent(textwrap.dedent(snippet), "    ")


def splice(module_text: str, snippet_text: str, main_class: str, adds: bool = False, lead: str = "") -> SpliceResult:
    """``module_text`` with the snippet's definitions spliced in (SyntaxError if the snippet
    does not parse). ``adds``: the prose before the snippet says to add it, not to change
    lines into it. ``lead``: that prose, which may put a bare fragment at a method's top."""
    module = _Module(module_text, main_class)
    entry = _dict_entry(module, snippet_text)
    if entry is not None:
        # `"window_limit": self.pplns_window,` under "In `get_worker_stats()`, report the configured value:"
        line_no, replaced = entry
        lines = list(module.lines)
        lines[line_no - 1] = replaced
        return SpliceResult("\n".join(lines) + "\n", [f"a dict entry given alone replaces line {line_no}, the entry with its key"])
    snippet_text = _as_new_body(module, snippet_text, lead)
    snippet_text, anchored = _anchored_fragment(snippet_text, module, adds)
    given = textwrap.dedent(_imports_apart(snippet_text))
    try:
        snippet, tree = _parsed(elisions_as_ellipsis(given), module)
    except SyntaxError:   # an elision comment at an indentation no statement has: left a comment
        snippet, tree = _parsed(given, module)
    snippet_lines = snippet.splitlines()
    edits = _Edits()
    notes: list[str] = []
    if anchored is not None:
        edits.insert_after(*anchored)
        notes.append(f"a fragment's lines added after line {anchored[0]}, the class line it quotes")
    end_of_module = len(module.lines)
    unimported = _unimported_modules(module, tree)
    constants = _module_constants(module, tree, unimported)
    if unimported:
        edits.insert_after(module.after_imports, [f"import {name}" for name in sorted(unimported)])
        notes.append(f"import {', '.join(sorted(unimported))} added: the code uses it and imports it nowhere")
    # a bare fragment is placed by the run it wraps only when it is the whole snippet: beside
    # other bare lines (a params check, an unpack) it is one part of a change not all placed
    body = _methods_after_a_helper(tree)
    statements = [n for n in body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    top = None
    bare = anchored is None and statements and not any(isinstance(n, (*_FUNCS, ast.ClassDef)) or any(n is c for c in constants)
                                                       for n in statements)
    if bare:
        # "right after the line `self.config = config`, add:" places the lines, whatever they set
        top = _after_quoted_line(module, statements, lead)
    # ("In `_build_header`, replace the two lines with:" over `prev_hash = …[::-1]` and `bits = …[::-1]`)
    restated_locals = _restated_locals(module, statements)
    if bare and top is None and not any(_only_assignment_of(module, n) is not None for n in statements) \
            and restated_locals is None and not (len(statements) == 1 and _only_run_wrapped_by(module, statements[0])):
        top = _top_of_method(module, statements, lead)
    if top is not None:
        after, indent = top
        edits.insert_after(after, [line for stmt in statements for line in _source(snippet_lines, stmt, indent)])
        notes.append(f"a fragment's lines added after line {after}, where its lead-in puts them")
        statements = []
    for node in body:
        if top is not None and not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if ast.dump(node) not in module.import_dumps:
                edits.insert_after(module.after_imports, _source(snippet_lines, node, ""))
        elif isinstance(node, _FUNCS):
            if node.name in module.functions:
                old = module.functions[node.name]
                new = _merged_or_none(module, old, node, snippet_lines, notes, "")
                if new is not None:
                    edits.replace(_start(old), _end(old), new)
                continue
            owner = module.method_owner(node)
            first_arg = node.args.args[0].arg if node.args.args else ""
            if (owner is None and module.main_class in module.classes
                    and (first_arg in ("self", "cls") or _method_decorated(node) or _called_on_self(node.name, tree))):
                owner = module.classes[module.main_class]
            if is_elided(node) and (owner is None or _method(owner, node.name) is None):
                notes.append(f"{node.name}() elided with '...': nothing to keep, skipped")
                continue
            if owner is None:
                edits.insert_after(end_of_module, [""] + _source(snippet_lines, node, ""))
            else:
                _put_method(module, edits, owner, node, snippet_lines, notes)
        elif isinstance(node, ast.ClassDef):
            cls = module.classes.get(node.name)
            if cls is None:
                edits.insert_after(end_of_module, ["", ""] + _source(snippet_lines, node, ""))
                continue
            for item in node.body:
                if isinstance(item, _FUNCS):
                    if is_elided(item) and _method(cls, item.name) is None:
                        notes.append(f"{node.name}.{item.name}() elided with '...': nothing to keep, skipped")
                    else:
                        _put_method(module, edits, cls, item, snippet_lines, notes)
                elif _assigned_names(item):
                    _put_class_attribute(module, edits, cls, item, snippet_lines)
        elif len(statements) == 1 and (wrapped := _only_run_wrapped_by(module, node)) is not None:
            # "Guard the parsing:" try: <the three parsing lines> except ValueError: …
            first, last = wrapped
            edits.replace(_start(first), _end(last), _source(snippet_lines, node, indent_of(module.lines[first.lineno - 1])))
        elif (target := _only_assignment_of(module, node)) is not None or restated_locals is not None and (
                target := _only_local_assignment_of(module, node, restated_locals)) is not None:
            # "In `__init__`, replace the literal with: self.share_window = …": the one
            # statement of the class that sets that attribute
            edits.replace(target.lineno, _end(target), _source(snippet_lines, node, indent_of(module.lines[target.lineno - 1])))
        elif any(node is c for c in constants):
            new = _source(snippet_lines, node, "")
            constant = next((module.constants[n] for n in _assigned_names(node) if n in module.constants), None)
            if constant is not None:
                edits.replace(constant.lineno, _end(constant), new)
            else:
                edits.insert_after(module.after_imports, [""] + new)
    text = "\n".join(edits.apply(module.lines)) + "\n"
    return SpliceResult(text, notes)


def pass_renamed_parameters(original: str, text: str, main_class: str) -> tuple[str, list[str]]:
    """The spliced program with each call ``self.f(…)`` that passes, at a position where the
    answer renamed ``f``'s parameter (``job_id`` → ``job``), a name equal to the old parameter
    passing the new one instead, when the calling function binds it: the lines kept from the
    original (`self._validate_share(session, job_id, …)`) read as the answer's own
    (`job = self.jobs.get(job_id)` above them). Calls whose count no longer fits are left as
    they are: that is the fix failing."""
    module = _Module(original, main_class)
    cls = module.classes.get(main_class)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text, []
    new_cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == module.main_class), None)
    if cls is None or new_cls is None:
        return text, []
    renames: dict[str, dict[int, tuple[str, str]]] = {}
    for new in (f for f in new_cls.body if isinstance(f, _FUNCS)):
        old = _method(cls, new.name)
        if old is None or len(old.args.args) != len(new.args.args):
            continue
        changed = {i - 1: (a.arg, b.arg) for i, (a, b) in enumerate(zip(old.args.args, new.args.args, strict=True))
                   if i > 0 and a.arg != b.arg}
        if changed:
            renames[new.name] = changed
    lines = text.splitlines()
    edits: list[tuple[int, int, int, str]] = []
    done: list[str] = []
    for caller in (f for f in new_cls.body if isinstance(f, _FUNCS)):
        bound = _stored_names(caller) | _parameters(caller)
        for call in (n for n in ast.walk(caller) if isinstance(n, ast.Call)):
            callee = call.func
            if not (isinstance(callee, ast.Attribute) and isinstance(callee.value, ast.Name) and callee.value.id == "self"
                    and callee.attr in renames):
                continue
            for position, (before, after) in renames[callee.attr].items():
                arg = call.args[position] if position < len(call.args) else None
                if isinstance(arg, ast.Name) and arg.id == before and after in bound and arg.end_col_offset is not None:
                    edits.append((arg.lineno, arg.col_offset, arg.end_col_offset, after))
                    done.append(f"{callee.attr}({before} → {after})")
    for line_no, start, end, name in sorted(edits, reverse=True):
        line = lines[line_no - 1]
        lines[line_no - 1] = line[:start] + name + line[end:]
    return ("\n".join(lines) + "\n" if edits else text), sorted(set(done))


_DICT_ENTRY = re.compile(r"""^\s*(["'])(\w+)\1\s*:\s*\S.*?,?\s*$""")


def _dict_entry(module: _Module, snippet: str) -> tuple[int, str] | None:
    """(the line, its new text) for a snippet that is one dict entry (`"key": value,`) whose
    key the main class writes in one dict entry only; None otherwise."""
    lines = [line for line in snippet.splitlines() if line.strip() and not line.strip().startswith("#")]
    given = _DICT_ENTRY.match(lines[0]) if len(lines) == 1 else None
    cls = module.classes.get(module.main_class)
    if given is None or cls is None:
        return None
    key = given.group(2)
    found = [n for n in range(cls.lineno, _end(cls) + 1)
             if (m := _DICT_ENTRY.match(module.lines[n - 1])) and m.group(2) == key]
    if len(found) != 1:
        return None
    old = module.lines[found[0] - 1]
    entry = lines[0].strip()
    if not entry.endswith(",") and old.rstrip().endswith(","):
        entry += ","
    return found[0], indent_of(old) + entry


def _method_decorated(func: _Func) -> bool:
    return any(getattr(d, "id", None) in ("staticmethod", "classmethod") for d in func.decorator_list)


def _called_on_self(name: str, tree: ast.AST) -> bool:
    """The snippet calls ``self.name`` (or ``cls.name``): a helper it adds as a method."""
    return any(isinstance(n, ast.Attribute) and n.attr == name and isinstance(n.value, ast.Name)
               and n.value.id in ("self", "cls") for n in ast.walk(tree))


def _self_attribute(node: ast.AST) -> str | None:
    """``x`` for a statement ``self.x = …`` with that single target, else None."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
    elif isinstance(node, ast.AnnAssign):
        target = node.target
    else:
        return None
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        return target.attr
    return None


def _only_run_wrapped_by(module: _Module, node: ast.stmt) -> tuple[ast.stmt, ast.stmt] | None:
    """(first, last) of the one run of the main class's statements that a bare ``try:`` or
    ``with`` fragment wraps unchanged; None when there is no such run or several."""
    cls = module.classes.get(module.main_class)
    if cls is None or not isinstance(node, (ast.Try, ast.With)) or not node.body:
        return None
    wanted = [ast.dump(n) for n in node.body]
    found = []
    for parent in ast.walk(cls):
        for name in ("body", "orelse", "finalbody"):
            stmts = getattr(parent, name, None)
            if not isinstance(stmts, list) or not stmts or not isinstance(stmts[0], ast.stmt):
                continue
            dumps = [ast.dump(n) for n in stmts]
            found += [(stmts[i], stmts[i + len(wanted) - 1]) for i in range(len(dumps) - len(wanted) + 1)
                      if dumps[i:i + len(wanted)] == wanted]
    return found[0] if len(found) == 1 else None


def _only_assignment_of(module: _Module, node: ast.stmt) -> ast.stmt | None:
    """The main class's one statement that sets the attribute a bare ``self.x = …`` line
    sets; None when the line is no such assignment or the class sets it in several places.
    A line that reads the attribute it sets (``self.job_counter = (self.job_counter + 1) & …``)
    updates it: it takes the place of an update (``+=``), never of the initial value."""
    name = _self_attribute(node)
    cls = module.classes.get(module.main_class)
    if name is None or cls is None:
        return None
    updates = [n for n in ast.walk(cls) if isinstance(n, ast.stmt) and (
        isinstance(n, ast.AugAssign) and _self_attribute(_as_assign(n)) == name
        or _self_attribute(n) == name and _reads_attribute(n, name))]
    if _reads_attribute(node, name) and updates:
        return updates[0] if len(updates) == 1 else None
    # (with no update in the class, the line reads the attribute as its own default:
    # `self.share_window = config.get("pplns_window", self.share_window)` replaces the literal)
    found = [n for n in ast.walk(cls) if isinstance(n, (ast.Assign, ast.AnnAssign)) and _self_attribute(n) == name
             and not _reads_attribute(n, name)]
    return found[0] if len(found) == 1 else None


def _only_local_assignment_of(module: _Module, node: ast.stmt, within: ast.AST | None = None) -> ast.stmt | None:
    """For a snippet that is one ``name = …`` line ("`prev_hash = bytes.fromhex(…)[::-1]`"),
    the main class's (or ``within``'s) one statement that assigns that local name; None when
    it assigns it in several places or nowhere."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
        return None
    cls = within or module.classes.get(module.main_class)
    if cls is None:
        return None
    name = node.targets[0].id
    found = [n for n in ast.walk(cls) if isinstance(n, ast.Assign) and len(n.targets) == 1
             and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name]
    # (the line restated with a change, not an example that only shares the name: `fee = (Decimal(…)
    # …).quantize(…)` shows what `calculate_fee()` should return, not a new line for `_execute_payment`)
    if len(found) != 1 or difflib.SequenceMatcher(None, ast.unparse(found[0].value), ast.unparse(node.value)).ratio() < 0.6:
        return None
    return found[0]


def _restated_locals(module: _Module, statements: list[ast.stmt]) -> ast.AST | None:
    """The one method of the main class of which a bare snippet of only ``name = …`` lines
    restates, each with a change, the one line that assigns that name; None when there is
    none or several (another method may assign one of the names too: `fee = …` in a
    `calculate_fee()` the answer rewrote beside `fee = …` and `net_amount = …` restated)."""
    cls = module.classes.get(module.main_class)
    if not statements or cls is None:
        return None
    owners = []
    for method in (m for m in cls.body if isinstance(m, _FUNCS)):
        targets = [_only_local_assignment_of(module, n, method) for n in statements]
        if all(t is not None for t in targets) and len({id(t) for t in targets}) == len(targets):
            owners.append(method)
    return owners[0] if len(owners) == 1 else None


def _reads_attribute(node: ast.AST, name: str) -> bool:
    value = getattr(node, "value", None)
    return value is not None and any(isinstance(n, ast.Attribute) and n.attr == name and isinstance(n.value, ast.Name)
                                     and n.value.id == "self" for n in ast.walk(value))


def _as_assign(node: ast.AugAssign) -> ast.Assign:
    return ast.Assign(targets=[node.target], value=node.value)


def _continued_from(old: _Func, new: _Func) -> ast.stmt | None:
    """The original's statement after the run of its body the new function ends with, when
    that run sits in the original's middle: "replace the top of `_handle_submit()`, up to the
    duplicate check" gives the top, ending where the original goes on."""
    old_dumps = [ast.dump(n) for n in old.body]
    body = list(new.body)
    if body and isinstance(body[-1], (ast.With, ast.AsyncWith)):
        # (the run may end inside a block the answer wraps around it: `async with
        # self._shares_lock:` over the duplicate check and the insert)
        body = body[:-1] + body[-1].body
    new_dumps = [ast.dump(n) for n in body]
    for k in range(len(new_dumps) - 1, 0, -1):
        tail = new_dumps[-k:]
        for i in range(len(old_dumps) - k):
            if old_dumps[i:i + k] == tail and any(not isinstance(n, (ast.Return, ast.Pass, ast.Expr)) for n in body[-k:]):
                return old.body[i + k]
    return None


def _returns_value(func: _Func) -> bool:
    """Whether the function itself (not a function nested in it) returns a value."""
    todo: list[ast.AST] = list(func.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return) and node.value is not None:
            return True
        if not isinstance(node, (*_FUNCS, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))
    return False


def _quotes_opening(old: _Func, new: _Func) -> bool:
    """The new function is the original's first statements and stops before any value the
    original returns: code shown to explain the current function ("`_validate_share()`
    ignores `job_id`: async def …: job = self.current_job"), not a fix that drops the rest."""
    old_dumps = [ast.dump(n) for n in old.body]
    new_dumps = [ast.dump(n) for n in new.body]
    return (len(new_dumps) < len(old_dumps) and old_dumps[:len(new_dumps)] == new_dumps
            and _returns_value(old) and not _returns_value(new))


def _changes_opening(old: _Func, new: _Func) -> bool:
    """The new function is only assignments, each to a name or attribute the original's body
    assigns, and stops before any value the original returns: its opening lines changed
    (`async def _validate_share(self, session, job, …): merkle_root, coinbase = …; header =
    …`), the rest meant as it was."""
    old_targets = {_assigned_to(stmt) for stmt in old.body} - {None}
    return (0 < len(new.body) < len(old.body) and _returns_value(old) and not _returns_value(new)
            and all(_assigned_to(stmt) in old_targets for stmt in new.body))


def _merged_or_none(module: _Module, old: _Func, func: _Func, snippet_lines: list[str], notes: list[str],
                    indent: str) -> list[str] | None:
    """The lines replacing ``old``: the snippet's function, merged with ``old`` when it ends in
    ``...``; None (and a note) when its ``...`` cannot be placed."""
    if not is_elided(func):
        if _quotes_opening(old, func):
            notes.append(f"{func.name}() quotes the original's opening lines only: kept as it was")
            return None
        if _changes_opening(old, func):
            notes.append(f"{func.name}() changes the original's opening lines only: the rest of it kept as it was")
            return [(indent + line) if line.strip() else "" for line in _merge_elided(module, old, func, snippet_lines)]
        rest = _continued_from(old, func)
        if rest is not None:
            notes.append(f"{func.name}() ends with statements of the original's middle: the rest of it kept as it was")
            return _source(snippet_lines, func, indent) + module.lines[_start(rest) - 1:_end(old)]
        return _source(snippet_lines, func, indent)
    if _trailing_elision(func):
        notes.append(f"{func.name}() ends in '...': the rest of it kept as it was")
        return [(indent + line) if line.strip() else "" for line in _merge_elided(module, old, func, snippet_lines)]
    if _leading_elision(func):
        notes.append(f"{func.name}() starts with '...': its assignments replace the original's")
        return [(indent + line) if line.strip() else "" for line in _merge_leading(module, old, func, snippet_lines)]
    mark = _middle_elision(func)
    merged = None if mark is None else _merge_middle(module, old, func, snippet_lines, mark)
    if merged is not None:
        notes.append(f"{func.name}() has '...' in its middle: the original's lines between kept as they were")
        return [(indent + line) if line.strip() else "" for line in merged]
    notes.append(f"{func.name}() elided with '...': kept as it was")
    return None


def _put_method(module: _Module, edits: _Edits, cls: ast.ClassDef, func: _Func, snippet_lines: list[str],
                notes: list[str]) -> None:
    indent = module.body_indent(cls)
    old = _method(cls, func.name)
    if old is not None:
        new = _merged_or_none(module, old, func, snippet_lines, notes, indent)
        if new is not None:
            edits.replace(_start(old), _end(old), new)
    else:
        edits.insert_after(_end(cls), [""] + _source(snippet_lines, func, indent))


def _put_class_attribute(module: _Module, edits: _Edits, cls: ast.ClassDef, node: ast.stmt, snippet_lines: list[str]) -> None:
    indent = module.body_indent(cls)
    new = _source(snippet_lines, node, indent)
    names = set(_assigned_names(node))
    old = next((n for n in cls.body if names & set(_assigned_names(n))), None)
    if old is not None:
        edits.replace(old.lineno, _end(old), new)
        return
    first = cls.body[0]
    edits.insert_after(_end(first) if _is_docstring(first) else _start(first) - 1, new)
