"""The candidate program: the fixture as the answer's code would leave it.

An answer gives its fix in one of three shapes, and may give several:

* ``full_file``: a Python block that is the whole corrected module;
* ``splice``: functions/methods (and the imports and constants they need), spliced
  into the fixture by ``verify.splice``; every such block of the answer, in order;
* ``diff``: unified diffs applied to the fixture (``patching.unidiff``, read leniently
  and applied with fuzz as ``patch`` does); every diff block, in order.

Each shape that builds is a candidate; the one that changes the most of the fixture's
functions wins (ties: full file, then diff, then splice), and the result records which
shape and which blocks it came from. Code that does not parse is a verdict, not a
crash: "no runnable fix: SyntaxError line N (code block K)".
"""

from __future__ import annotations

import ast
import posixpath
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from llmbench.grading.filetree import CreatedFile, FileTree, parse_file_tree
from llmbench.patching import unidiff
from llmbench.tasks.prompting import read_fixture
from llmbench.verify.blocks import CodeBlock, answer_text, code_blocks, prose
from llmbench.verify.prose_edits import apply_removals, normal_code, removal_instructions, says_remove, sentences_of
from llmbench.verify.pyreplace import UnknownScript, apply_replacements, replace_edits
from llmbench.verify.sedscript import UnknownEdit, apply_sed_idle, sed_edits
from llmbench.verify.splice import (
    SpliceResult,
    elisions_as_ellipsis,
    indent_of,
    is_elided,
    pass_renamed_parameters,
    splice,
)

# task -> (the fixture file its fix goes into, the class at its centre)
PYTHON_TASKS: dict[str, tuple[str, str]] = {
    "zmq": ("zmq_listener.py", "ZMQListener"),
    "pplns": ("pplns.py", "PPLNSManager"),
    "payment": ("payment_processor.py", "PaymentProcessor"),
    "stratum": ("stratum_server.py", "StratumServer"),
}
# the other fixture files a task's program reads (the probe gets the whole folder)
TASK_FILES: dict[str, tuple[str, ...]] = {
    "zmq": ("zmq_listener.py", "pool_server.py"),
    "pplns": ("pplns.py", "pool_config.json"),
    "payment": ("payment_processor.py",),
    "stratum": ("stratum_server.py",),
}
# prose that says where the answer's helper runs: "Call it from `_handle_submit`",
# "schedule the pruner in start()", "call it on every submit". An instruction naming the
# helper, then the code it runs from: "start()` on the main thread" and "run out of
# memory in a day" say nothing of it
_WHERE_IT_RUNS = re.compile(
    r"\b(?:call|run|invoke|schedule|start|trigger)(?![(`\w])\s+"
    r"(?:it|this|them|the\s+(?:new\s+)?\w+|`[^`\n]+`|\w*_\w*(?:\(\))?)"       # the helper
    r"(?:\s+(?:periodically|regularly|once|again|as\s+an?\s+\w+))?"
    r"\s+(?:from|in|at|inside|on|after|before)\b"
    r"[^.\n]{0,30}?(?:`[^`\n]+`|(?:self\.)?\b\w*_\w*|\b\w+\(\)|\b(?:every|each)\s+\w+"   # the code it runs
    r"|\b(?:handler|loop|method|function|coroutine|callback)\b)", re.I)                    # from, or when
# prose right after a block that says the function it shows goes on past it: "and delete
# the later `bytes.fromhex(extranonce2)` … lines", "keep the rest of the method as it is"
_GOES_ON = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:(?:delete|remove|drop)\s+the\s+(?:later|old|original|existing|now[- ]redundant|"
    r"three|two|duplicate)\b(?:[^.\n]|\.(?=\S)){0,160}?\blines?\b|(?:keep|leave)\s+the\s+rest\b"
    r"|the\s+rest\s+of\s+(?:the\s+)?(?:method|function|handler)\s+(?:stays|is\s+unchanged|is\s+as\s+before))", re.I)
# a lead-in that adds lines rather than changing them ("Right after the n_factor line, add:")
_ADDS = re.compile(r"\b(?:add|insert|append)\w*\b", re.I)
_PYTHON_LABELS = {"python", "py", "python3", "py3"}
_ORDER = {"full_file": 0, "diff": 1, "splice": 2}


@dataclass
class Candidate:
    task: str
    kind: str                      # "full_file" | "splice" | "diff"
    blocks: tuple[int, ...]        # the answer's code blocks it was built from (1-based)
    files: dict[str, str]          # fixture file name -> patched text (changed files only)
    changed: frozenset[str]        # "Class.method" / "function" whose code differs from the fixture
    notes: list[str] = field(default_factory=list)
    added_state: frozenset[str] = frozenset()   # self.ATTR names the functions new to the fixture use
    # (block index, its lines) of each block with new lines the splice could not place: a
    # fragment whose place only the prose gives ("in `_handle_submit()`, after the job lookup")
    unplaced: tuple[tuple[int, str], ...] = ()
    # (block index, the functions its code calls) of each such block, whole: the call that
    # opens on a line the program already has is the block's too
    unplaced_calls: tuple[tuple[int, tuple[str, ...]], ...] = ()
    # "Class.method" -> the assignments the prose gives it in inline code while the program
    # leaves it as it was ("`_execute_payment()` then works on `amount_sat = to_sat(amount)`")
    prose_only: dict[str, str] = field(default_factory=dict)
    # the attributes whose assignments the prose took out ("delete `self.share_window` from `__init__`")
    prose_removed: frozenset[str] = frozenset()
    # the classes whose whole ``__init__`` the answer wrote (no elision): what it sets is all
    # the answer's program has
    whole_inits: frozenset[str] = frozenset()
    # the answer's commands write the whole file (`cat > pplns.py << 'EOF'`): what it lacks, the
    # program lacks
    written: bool = False
    # the answer's in-place edits (sed commands, patch-script replaces) that matched nothing:
    # edits the program does not carry
    idle_edits: tuple[str, ...] = ()
    # the file the answer's commands leave does not parse: it is the whole program
    unparsable: bool = False

    def describe(self) -> str:
        which = ", ".join(str(b) for b in self.blocks)
        return f"{self.kind} from code block{'s' if len(self.blocks) > 1 else ''} {which}"


@dataclass
class NoCandidate:
    reason: str                    # "no code in the answer" | "no runnable fix: SyntaxError line N (code block K)" | …
    syntax_error: bool = False     # code was given but does not parse / apply: an error, not an absence


def _function_nodes(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(qualified name, node) of every module function and class method."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{node.name}.{item.name}", item


def definitions(text: str) -> dict[str, str]:
    """qualified name -> AST dump of every function and method (what "changed" compares)."""
    tree = ast.parse(text)
    found = {name: ast.dump(node) for name, node in _function_nodes(tree)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            # class attributes and docstring: the class "changes" when they do
            found[node.name] = "|".join(ast.dump(n) for n in node.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return found


def _unparsed(text: str) -> dict[str, str]:
    """qualified name -> the normalised source of every function and method."""
    return {name: ast.unparse(node) for name, node in _function_nodes(ast.parse(text))}


def _referenced(tree: ast.AST, func: ast.AST) -> bool:
    """Whether anything outside ``func`` names it (a call, a thread target, a task)."""
    name = func.name   # type: ignore[attr-defined]
    inside = {id(n) for n in ast.walk(func)}
    return any(id(n) not in inside and ((isinstance(n, ast.Attribute) and n.attr == name)
                                        or (isinstance(n, ast.Name) and n.id == name))
               for n in ast.walk(tree))


def added_state(original: str, patched: str, uncalled: bool = True) -> frozenset[str]:
    """The ``self.NAME`` attributes used by functions and methods the fixture does not have.
    ``uncalled=False`` leaves out the helpers nothing in the program calls: where the
    prose says where they run ("call it from _handle_submit"), the run cannot judge them."""
    before = set(definitions(original))
    found: set[str] = set()
    tree = ast.parse(patched)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            funcs = [(f"{node.name}.{f.name}", f) for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
        elif isinstance(node, ast.Module):
            funcs = [(f.name, f) for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
        else:
            continue
        for name, func in funcs:
            if name not in before and (uncalled or _referenced(tree, func)):
                found |= {a.attr for a in ast.walk(func) if isinstance(a, ast.Attribute)
                          and isinstance(a.value, ast.Name) and a.value.id == "self"}
    return frozenset(found)


def _added_state(fixtures: dict[str, str], files: dict[str, str]) -> frozenset[str]:
    return frozenset().union(*(added_state(fixtures[n], t) for n, t in files.items() if n.endswith(".py")))


def changed_definitions(original: str, patched: str) -> frozenset[str]:
    before, after = definitions(original), definitions(patched)
    return frozenset(name for name, dump in after.items() if before.get(name) != dump) | frozenset(
        name for name in before if name not in after
    )


def build_candidate(task: str, final_answer: str) -> Candidate | NoCandidate:
    """The best candidate program of a Python task's final answer."""
    primary, main_class = PYTHON_TASKS[task]
    fixtures = {name: read_fixture(name) for name in TASK_FILES[task]}
    text = answer_text(final_answer)
    blocks = code_blocks(text)
    diffs = [b for b in blocks if b.is_diff]
    python = [_with_rest_kept(b, text) for b in blocks if not b.is_diff and _is_python(b)]
    told = _init_lines_in_prose(text, python, fixtures[primary], len(blocks) + 1)
    if told is not None:
        python.append(told)
    constants = _constants_in_prose(text, python, fixtures[primary], len(blocks) + 2)
    if constants is not None:
        python.insert(0, constants)
    errors: list[str] = []
    built: list[Candidate] = []
    for block in python:
        full = _full_file(task, block, fixtures[primary], main_class)
        if full is not None:
            built.append(full)
    spliced = _splice_all(task, [b for b in python if not any(c.blocks == (b.index,) and c.kind == "full_file" for c in built)],
                          fixtures, primary, main_class, errors)
    if spliced is not None:
        built.append(_with_prose_calls(spliced, text, fixtures[primary], primary, main_class))
    patched = _apply_diffs(task, diffs, fixtures, primary, errors)
    if patched is not None:
        built.append(patched)
    # (each shell block read once, by bash's rules, for both its edits and the files it writes)
    shells = [(block, parse_file_tree(_as_fenced(block.text))) for block in blocks if not _is_python(block)]
    edited = _edited_in_place(task, shells, fixtures, errors)
    if edited is not None:
        built.append(edited)
    written = _written_by_heredoc(task, shells, fixtures)
    if written is not None:
        # what the commands write is the program, whatever the other blocks show
        built = [written]
    # (sed edits that all matched nothing still make a program: the fixture, unchanged)
    useful = [c for c in built if c.changed or c.idle_edits]
    if useful:
        best = max(useful, key=lambda c: (len(c.changed), -_ORDER[c.kind]))
        if best.unparsable:
            return best   # the shell leaves a file that does not parse: that is the whole program
        if _WHERE_IT_RUNS.search(prose(answer_text(final_answer))):
            best.added_state = frozenset().union(*(added_state(fixtures[n], t, uncalled=False)
                                                   for n, t in best.files.items() if n.endswith(".py")))
        # (a function the code changed may still lack what the prose adds to it)
        # (nor is a span the function had already, inside an f-string: "`status = 'pending'`")
        carried, original = _unparsed(best.files.get(primary, "")), _unparsed(fixtures[primary])
        best.whole_inits = _whole_inits(python, main_class)
        best.prose_only = {name: "\n".join(missing) for name, spans in _changed_in_prose(text, python, fixtures[primary]).items()
                           if (missing := [span for span in spans if not any(_has_span(span, had.get(name, ""))
                                                                             for had in (carried, original))])}
        # what the prose says to take out ("Remove the socket lines from `__init__`") goes;
        # lines it takes out that the program does not hold are a change it does not carry
        _apply_prose_removals(best, text, fixtures[primary], primary, main_class)
        for name, sentence in _removed_in_prose(text, fixtures[primary]).items():
            if name not in best.changed:
                best.prose_only[name] = "\n".join(filter(None, (best.prose_only.get(name), sentence)))
        if best.kind == "splice":
            _add_left_out_imports(best)
        _add_written_data_files(best, shells, fixtures)
        return best
    if errors:
        return NoCandidate(f"no runnable fix: {errors[0]}", syntax_error=True)
    if python or diffs:
        return NoCandidate("no code change: the answer's code leaves the fixture's functions as they were")
    return NoCandidate("no code in the answer")


# the standard library names an answer's fragments use without the import above them (the
# module's head is out of view): `Decimal(str(amount))` under "use `Decimal`"
_STDLIB_NAMES = {
    **dict.fromkeys(("Decimal", "ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_DOWN", "ROUND_FLOOR", "InvalidOperation",
                     "getcontext", "localcontext"), "decimal"),
    **dict.fromkeys(("OrderedDict", "deque", "defaultdict"), "collections"),
}


def _add_left_out_imports(candidate: Candidate) -> None:
    """Import the standard library names the spliced program uses and nowhere defines: a
    fragment's imports sit at the top of a module the answer did not show."""
    for name, text in list(candidate.files.items()):
        if not name.endswith(".py"):
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
        bound |= {a.asname or a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                  for a in n.names}
        bound |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        missing = sorted(n for n in used - bound if n in _STDLIB_NAMES)
        if not missing:
            continue
        lines = [f"from {_STDLIB_NAMES[n]} import {n}" for n in missing]
        head = max((n.end_lineno or n.lineno for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))), default=0)
        source = text.splitlines(keepends=True)
        candidate.files[name] = "".join(source[:head]) + "\n".join(lines) + "\n" + "".join(source[head:])
        candidate.notes.append(f"the import the answer's code leaves out added: {'; '.join(lines)}")


def _apply_prose_removals(best: Candidate, text: str, fixture: str, primary: str, main_class: str) -> None:
    functions = {name.split(".")[-1] for name in _unparsed(fixture)}
    instructions = removal_instructions(sentences_of(prose(text)), functions)
    if not instructions:
        return
    before = best.files.get(primary, fixture)
    # (the statements of the functions the answer's code rewrote that its own code gives)
    rewritten = {name.split(".")[-1] for name in best.changed}
    own = frozenset(normal_code(source) for block in code_blocks(text) if not block.is_diff
                    for name, source in _statements_by_function(block.text) if name in rewritten)
    program, removed = apply_removals(before, main_class, instructions, own)
    if removed:
        best.prose_removed = frozenset(re.findall(r"\bself\.(\w+)\s*=(?!=)", before)) - frozenset(
            re.findall(r"\bself\.(\w+)\s*=(?!=)", program))
        best.files[primary] = program
        best.changed = best.changed | frozenset(removed)
        best.notes.append(f"the statements the prose says to take out of {', '.join(removed)} removed")


def _statements_by_function(code: str) -> list[tuple[str, str]]:
    """(function name, statement source) for each simple statement of each function the code
    defines; none when it does not parse."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.stmt) and not hasattr(stmt, "body"):
                    found.append((node.name, ast.get_source_segment(textwrap.dedent(code), stmt) or ""))
    return found


# "Call `self._prune_recent_shares()` at the top of `_handle_submit`": where the answer's new
# helper runs, given in prose
_CALL_AT_TOP = re.compile(
    r"\b(?:call|invoke|run)\s+`((?:self\.)?(\w+)\([^`\n]*\))`\s+(?:(?:at|from)\s+the\s+(?:very\s+)?(?:top|start|beginning)\s+of"
    r"|first(?:\s+thing)?\s+in)\s+`?(?:self\.)?(\w+)(?:\(\))?`?", re.IGNORECASE)


def _edited_in_place(task: str, shells: list[tuple[CodeBlock, FileTree]], fixtures: dict[str, str],
                     errors: list[str]) -> Candidate | None:
    """The program the answer's in-place edits leave: its ``sed -i`` commands, applied as the
    shell and sed would, and the ``str.replace`` calls of the Python patch scripts it feeds
    to an interpreter, in order over the task's Python files."""
    names = {name for name in fixtures if name.endswith(".py")}
    texts, used, idle = dict(fixtures), [], []
    for block, tree in shells:
        try:
            edits = sed_edits(block.text, names)
            for name, scripts in edits:
                texts[name], missed = apply_sed_idle(texts[name], scripts)
                idle += missed
            replaced = [edit for _, script in tree.scripts for edit in replace_edits(script, names)]
            for name, replacements in replaced:
                texts[name], missed = apply_replacements(texts[name], replacements)
                idle += missed
        except UnknownEdit as exc:
            errors.append(f"a sed command it cannot follow (code block {block.index}): {exc}")
            return None
        except UnknownScript as exc:
            errors.append(f"a patch script it cannot follow (code block {block.index}): {exc}")
            return None
        if edits or replaced:
            used.append(block.index)
    files = {name: text for name, text in texts.items() if text != fixtures[name]}
    if not files and not idle:
        return None
    note = f"the in-place edits (sed -i, patch scripts) of code block{'s' if len(used) > 1 else ''} {', '.join(map(str, used))} applied"
    changed, state, broken = _left_by_commands(fixtures, files)
    return Candidate(task, "diff", tuple(used), files, changed, [note + broken], state, written=True,
                     idle_edits=tuple(idle), unparsable=bool(broken))


def _left_by_commands(fixtures: dict[str, str], files: dict[str, str]) -> tuple[frozenset[str], frozenset[str], str]:
    """(changed definitions, added state, "" or why not) of the files the answer's commands
    leave. A file that does not parse changed in every part: the run shows the program
    failing as that file would."""
    try:
        changed = frozenset().union(*(changed_definitions(fixtures[n], t) for n, t in files.items()))
        return changed, _added_state(fixtures, files), ""
    except SyntaxError as exc:
        changed = frozenset().union(*(definitions(fixtures[n]) for n in files))
        return changed, frozenset(), f" (the file left does not parse: {type(exc).__name__} line {exc.lineno})"


def _as_fenced(shell: str) -> str:
    """A code block's shell as the fenced block it is: bash closes a heredoc only on its
    delimiter alone ("  EOF" under `<<-'EOF'` is body text, and the rest goes into the file)."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", shell)), default=0))
    return f"{fence}bash\n{shell}\n{fence}"


def _task_files_written(shells: list[tuple[CodeBlock, FileTree]],
                        fixtures: dict[str, str]) -> Iterator[tuple[CodeBlock, CreatedFile]]:
    """(block, file) for each of the task's files a shell command writes (not a fenced listing)."""
    for block, tree in shells:
        for created in tree.files.values():
            if created.how != "fenced" and created.name in fixtures:
                yield block, created


def _add_written_data_files(candidate: Candidate, shells: list[tuple[CodeBlock, FileTree]], fixtures: dict[str, str]) -> None:
    """A task file that is not code (`pool_config.json`) is what the answer's commands last write
    over it: the program starts with that file."""
    for block, created in _task_files_written(shells, fixtures):
        if not created.name.endswith(".py") and created.content != fixtures[created.name]:
            candidate.files[created.name] = created.content
            candidate.notes.append(f"code block {block.index} writes {created.name} with "
                                   f"`{created.command.strip()}`: the program starts with what it writes")


def _written_by_heredoc(task: str, shells: list[tuple[CodeBlock, FileTree]], fixtures: dict[str, str]) -> Candidate | None:
    """The program a shell command in the answer writes over one of the task's files (`cat >
    pplns.py << 'EOF'`), read by bash's rules (``filetree``): the file is then exactly what the
    command writes ("# ... unchanged ..." included), as running it leaves it."""
    for block, created in _task_files_written(shells, fixtures):
        if created.name.endswith(".py"):
            name, body = created.name, created.content
            note = f"code block {block.index} writes {name} with `{created.command.strip()}`: the file is what it writes"
            changed, state, broken = _left_by_commands(fixtures, {name: body})
            return Candidate(task, "full_file", (block.index,), {name: body}, changed, [note + broken], state,
                             written=True, unparsable=bool(broken))
    return None


def _has_span(span: str, source: str) -> bool:
    """Whether a function's source holds a span of inline code, a call whose arguments the
    span leaves out (`self.socket.connect(...)`) standing for any call of it."""
    said = ast.unparse(ast.parse(span))
    if "(...)" not in said:
        return said in source
    pattern = re.escape(said).replace(re.escape("(...)"), r"\((?:[^()]|\([^()]*\))*\)")
    return re.search(pattern, source) is not None


def _with_prose_calls(candidate: Candidate, text: str, fixture: str, primary: str, main_class: str) -> Candidate:
    """The spliced candidate with each call the prose puts at the top of a method ("Call
    `self._prune_recent_shares()` at the top of `_handle_submit`") placed there, when the
    called helper is one the answer's code added."""
    patched = candidate.files.get(primary)
    if patched is None:
        return candidate
    added = set(_unparsed(patched)) - set(_unparsed(fixture))
    placed = patched
    for call, callee, method in _CALL_AT_TOP.findall(prose(text)):
        if not any(name.split(".")[-1] == callee for name in added):
            continue
        try:
            result = splice(placed, call + "\n", main_class, adds=True, lead=f"At the top of `{method}()`, add:")
        except SyntaxError:
            continue
        placed = result.text
    if placed == patched:
        return candidate
    files = dict(candidate.files, **{primary: placed})
    return replace(candidate, files=files, changed=changed_definitions(fixture, placed) | candidate.changed,
                   notes=candidate.notes + ["calls the prose puts at the top of a method placed there"],
                   added_state=candidate.added_state | _added_state({primary: fixture}, {primary: placed}))


def _whole_inits(python: list[CodeBlock], main_class: str) -> frozenset[str]:
    """The classes whose ``__init__`` a block gives with no elision (a ``def __init__(self``
    at the margin is the main class's)."""
    found: set[str] = set()
    for block in python:
        try:
            tree = ast.parse(elisions_as_ellipsis(textwrap.dedent(block.text)))
        except SyntaxError:
            continue
        for node in tree.body:
            owner, body = (node.name, node.body) if isinstance(node, ast.ClassDef) else (main_class, [node])
            if any(isinstance(f, ast.FunctionDef) and f.name == "__init__" and not is_elided(f) for f in body):
                found.add(owner)
    return frozenset(found)


# "In `__init__`, … keep the timeout for the thread: `self.rcv_timeout_ms = rcv_timeout_ms`"
_INLINE_CODE = re.compile(r"`([^`\n]+)`")


def _init_lines_in_prose(text: str, python: list[CodeBlock], fixture: str, index: int) -> CodeBlock | None:
    """Assignments the prose puts into ``__init__`` in inline code, as a ``# __init__``
    fragment for the splice: only of attributes the answer's code reads and nothing
    assigns, so a sentence that quotes a line to remove never puts it back."""
    code = "\n".join(b.text for b in python)
    assigned = set(re.findall(r"\bself\.(\w+)\s*=(?!=)", fixture + "\n" + code))
    lines: list[str] = []
    for sentence in (s for s in _SENTENCE.findall(prose(text)) if "__init__" in s):
        for span in _INLINE_CODE.findall(sentence):
            try:
                tree = ast.parse(span.strip())
            except SyntaxError:
                continue
            if (len(tree.body) == 1 and isinstance(tree.body[0], ast.Assign)
                    and all(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                            for t in tree.body[0].targets)
                    and all(t.attr not in assigned and re.search(rf"\bself\.{t.attr}\b", code)
                            for t in tree.body[0].targets if isinstance(t, ast.Attribute))):
                lines.append(span.strip())
    for sentence in (s for s in sentences_of(prose(text)) if "__init__" in s):
        # (and unquoted: "__init__: remove the three self.socket lines, store self.rcv_timeout_ms = rcv_timeout_ms")
        for span in _UNQUOTED_SELF_SET.findall(_INLINE_CODE.sub("", sentence)):
            attribute = span.split("=")[0].strip()[len("self."):]
            if attribute not in assigned and re.search(rf"\bself\.{attribute}\b", code) and span not in lines:
                lines.append(span)
    told = {line.split("=")[0].strip().removeprefix("self.") for line in lines}
    lines += [line for line in _containers_named_in_prose(text, code, assigned | told) if line not in lines]
    if not lines:
        return None
    return CodeBlock(index, "python", "# __init__\n" + "\n".join(lines) + "\n", 0)


_EMPTY = {"dict": "{}", "dictionary": "{}", "map": "{}", "mapping": "{}", "set": "set()", "list": "[]"}


def _containers_named_in_prose(text: str, code: str, assigned: set[str]) -> list[str]:
    """``self.x = {}`` for each attribute the answer's code uses as a container and nothing
    assigns, when the prose says what it is ("keep a `self.jobs` dict (`job_id → job`)")."""
    lines = []
    words = prose(text)
    for attribute in sorted(set(re.findall(r"\bself\.(\w+)\s*(?:\[|\.(?:get|clear|pop|items|values|keys|add|append|discard)\()", code))):
        if attribute in assigned or re.search(rf"\bself\.{attribute}\.(?:popitem|move_to_end|appendleft|popleft)\(", code):
            continue   # (an OrderedDict or a deque: the prose's word does not say which)
        named = re.search(rf"`(?:self\.)?{attribute}`\s*(dict(?:ionary)?|map(?:ping)?|set|list)\b"
                          rf"|\b(dict(?:ionary)?|map(?:ping)?|set|list)\s+`(?:self\.)?{attribute}`", words, re.IGNORECASE)
        if named:
            lines.append(f"self.{attribute} = {_EMPTY[(named.group(1) or named.group(2)).lower()]}")
    return lines


_UNQUOTED_SELF_SET = re.compile(r"(?<![\w.])self\.\w+ ?= ?[A-Za-z_][\w.]*(?:\(\))?(?![\w.(])")


_CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _constants_in_prose(text: str, python: list[CodeBlock], fixture: str, index: int) -> CodeBlock | None:
    """Module constants the prose gives in inline code ("(`SHARE_RETENTION = 900` at module
    level)") that the answer's code reads and nothing defines, as a block of their own."""
    code = "\n".join(b.text for b in python)
    lines: list[str] = []
    for span in _INLINE_CODE.findall(prose(text)):
        try:
            tree = ast.parse(span.strip())
        except SyntaxError:
            continue
        stmt = tree.body[0] if len(tree.body) == 1 else None
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and _CONSTANT_NAME.match(stmt.targets[0].id) and _is_literal(stmt.value)):
            continue
        name = stmt.targets[0].id
        defined = re.compile(rf"^\s*{name}\s*(?::[^=\n]+)?=(?!=)", re.MULTILINE)
        if re.search(rf"\b{name}\b", code) and not defined.search(fixture) and not defined.search(code) \
                and span.strip() not in lines:
            lines.append(span.strip())
    return CodeBlock(index, "python", "\n".join(lines) + "\n", 0) if lines else None


def _is_literal(node: ast.expr) -> bool:
    """A number, string or arithmetic of them (``15 * 60``)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float, str))
    if isinstance(node, ast.BinOp):
        return _is_literal(node.left) and _is_literal(node.right)
    return isinstance(node, ast.UnaryOp) and _is_literal(node.operand)


_SENTENCE = re.compile(r"[^.\n]*(?:`[^`\n]*`[^.\n]*)*(?:\.[)\]\"'*_]*(?=\s|$)|\n|$)")   # ("(… the fee.)")


# "# batch_payments: totals[address] = totals.get(address, 0) + int(amount_sat)": a change to
# another function given as a comment under the code that changes one
_CHANGE_COMMENT = re.compile(r"^\s*#\s*(?:in\s+)?`?(?:self\.)?(\w+)(?:\(\))?`?\s*:\s*(\S.*)$")


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _new_code(spans: list[str], fixture: str, known: set[str], own: set[str]) -> list[str]:
    """The spans that are one assignment the fixture has no line of (``known``), or one call
    it nowhere makes ("convert `amount` with `Decimal(str(amount))`") to none of its own
    definitions (``own``: "`_execute_payment()` raises" names, it adds nothing)."""
    found = []
    for span in spans:
        try:
            tree = ast.parse(span.strip())
        except SyntaxError:
            continue
        if len(tree.body) != 1:
            continue
        stmt = tree.body[0]
        if isinstance(stmt, (ast.Assign, ast.AugAssign)) and span.strip() not in known and not is_elided(stmt) \
                or isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and span.strip() not in fixture \
                and _callee(stmt.value) not in own:
            found.append(span.strip())
    return found


def _removed_in_prose(text: str, fixture: str) -> dict[str, str]:
    """function -> the sentence that takes lines out of it ("remove the `connect`/`SUBSCRIBE`
    lines from `start()`"), read as the removals themselves are read."""
    functions = {name.split(".")[-1]: name for name in _unparsed(fixture)}
    found: dict[str, str] = {}
    for sentence in sentences_of(prose(text)):
        for name, _ in removal_instructions([sentence], set(functions)):
            # (lines left in `__init__` only make what nothing uses: the probes judge the
            # objects in use)
            if name is not None and name != "__init__":
                found.setdefault(functions[name], sentence.strip())
    return found


def _changed_in_prose(text: str, python: list[CodeBlock], fixture: str) -> dict[str, list[str]]:
    """The fixture's functions a prose sentence names beside new code in inline code (a
    change given in words, which no candidate carries), or a comment in the answer's code
    names before new code, each with that code."""
    functions = {name.split(".")[-1]: name for name in _unparsed(fixture)}
    known = {line.strip() for line in fixture.splitlines()}
    own = {name.split(".")[-1] for name in definitions(fixture)}
    found: dict[str, list[str]] = {}
    for sentence in _SENTENCE.findall(prose(text)):
        if says_remove(sentence):
            continue   # "drop the two `self.socket = ...` lines from `__init__()`": code to take out
        named = [functions[n] for n in re.findall(r"`(?:self\.)?(\w+)\(?\)?`", sentence) if n in functions]
        spans = _new_code(_INLINE_CODE.findall(sentence), fixture, known, own) if named else []
        for name in named:
            found.setdefault(name, []).extend(spans)
    for block in python:
        for line in block.text.splitlines():
            comment = _CHANGE_COMMENT.match(line)
            if comment and comment.group(1) in functions:
                spans = _new_code(comment.group(2).split(";"), fixture, known, own)
                found.setdefault(functions[comment.group(1)], []).extend(spans)
    return {name: spans for name, spans in found.items() if spans}


def _with_rest_kept(block: CodeBlock, text: str) -> CodeBlock:
    """The block with "rest as before" closing its last function when the prose right after
    it says the function goes on, so the splice keeps the original's remaining lines."""
    lines = text.splitlines()
    after = " ".join(lines[block.line + len(block.text.splitlines()):][:3]).strip()
    body = block.text.rstrip("\n").split("\n")
    heads = [k for k, line in enumerate(body) if re.match(r"\s*(?:async\s+)?def\s", line)]
    if not heads or not _GOES_ON.match(after):
        return block
    head = heads[-1]
    name = re.match(r"\s*(?:async\s+)?def\s+(\w+)", body[head])
    named = set(re.findall(r"`(?:self\.)?(\w+)\(?\)?`|\b(\w+)\(\)", after))
    if any(n and name and n != name.group(1) for pair in named for n in pair):
        return block   # "and in `calculate_payouts()` remove the two unused lines:" goes on elsewhere
    inner = next((line for line in body[head + 1:] if line.strip() and not line.lstrip().startswith("#")), "")
    if len(indent_of(inner)) <= len(indent_of(body[head])):
        return block
    return replace(block, text="\n".join(body + [indent_of(inner) + "# rest as before"]) + "\n")


def _is_python(block: CodeBlock) -> bool:
    if block.language in _PYTHON_LABELS or block.language.endswith(".py") or _label_file(block).endswith(".py"):
        return True
    if block.language:
        return False
    # an unlabelled block counts when it is Python that defines something (methods copied
    # indented too, also under module-level lines: "SATS = …" over "    def calculate_fee(…):")
    lines = block.text.split("\n")
    start = _methods_start(lines)
    for text in ([block.text] if not start else [block.text, "\n".join(lines[start:])]):
        try:
            tree = ast.parse(textwrap.dedent(text))
        except SyntaxError:
            continue
        return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body)
    return False


def _label_file(block: CodeBlock) -> str:
    for word in block.info.replace("=", " ").replace('"', " ").replace("'", " ").split():
        if "." in word and not word.startswith("."):
            return posixpath.basename(word)
    return ""


def _parse_error(block: CodeBlock, text: str) -> str | None:
    try:
        ast.parse(text)
        return None
    except SyntaxError as exc:
        return _syntax_error(exc, f"(code block {block.index})")


def _syntax_error(exc: SyntaxError, where: str) -> str:
    line = f" line {exc.lineno}" if exc.lineno else ""
    return f"SyntaxError{line} {where}: {exc.msg}"


def _full_file(task: str, block: CodeBlock, fixture: str, main_class: str) -> Candidate | None:
    """A block that is the whole module: it defines the main class with most of its methods."""
    try:
        tree = ast.parse(block.text)
    except SyntaxError:
        return None
    fixture_defs = definitions(fixture)
    names = set(definitions(block.text))
    methods = [n for n in fixture_defs if n.startswith(main_class + ".")]
    top = [n for n in fixture_defs if "." not in n]
    has_imports = any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body)
    if not (main_class in names and has_imports and methods and top):
        return None
    if sum(m in names for m in methods) * 10 < len(methods) * 6 or sum(t in names for t in top) * 2 < len(top):
        return None
    if any(is_elided(n) for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        return None  # "..." bodies: an outline, not a file
    primary = PYTHON_TASKS[task][0]
    text, notes = _restore_omitted(block.text, fixture, main_class)
    return Candidate(task, "full_file", (block.index,), {primary: text},
                     changed_definitions(fixture, text), notes, added_state(fixture, text))


def _restore_omitted(text: str, fixture: str, main_class: str) -> tuple[str, list[str]]:
    """A "whole file" that leaves out a method of the main class it still calls
    (``self._dispatch(...)`` with no ``_dispatch``) omitted it for brevity, as models do:
    the fixture's method is put back, so the run judges the fix the file makes rather
    than the gap. A method nothing calls any more stays removed."""
    fixture_tree, tree = ast.parse(fixture), ast.parse(text)
    originals = {f.name: f for c in fixture_tree.body if isinstance(c, ast.ClassDef) and c.name == main_class
                 for f in c.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    present = {n for n in definitions(text) if n.startswith(main_class + ".")}
    called = {a.attr for a in ast.walk(tree) if isinstance(a, ast.Attribute)
              and isinstance(a.value, ast.Name) and a.value.id == "self"}
    omitted = [name for name in originals if f"{main_class}.{name}" not in present and name in called]
    notes = []
    for name in omitted:
        source = " " * originals[name].col_offset + (ast.get_source_segment(fixture, originals[name]) or "")
        text = splice(text, textwrap.dedent(source) + "\n", main_class).text
        notes.append(f"{name}() kept from the original: the file calls it and leaves it out")
    return text, notes


# "# __init__", "# _handle_submit": a margin comment naming the method the lines under it go to
_PART_COMMENT = re.compile(r"^#\s*(?:in\s+|inside\s+)?`?(?:self\.)?\w+(?:\(\))?`?\s*:?\s*$")


def _splice_parts(module_text: str, block: CodeBlock, main_class: str) -> SpliceResult | None:
    """A block that does not parse as one snippet but is parts each under a margin comment
    naming its method ("# __init__" over `self._shares_lock = …`, "# _handle_submit" over the
    lines it changes there), spliced part by part; None unless every part splices."""
    lines = block.text.split("\n")
    starts = [i for i, line in enumerate(lines) if _PART_COMMENT.match(line)]
    if len(starts) < 2 or any(line.strip() for line in lines[:starts[0]]):
        return None
    text, notes = module_text, list[str]()
    for start, end in zip(starts, starts[1:] + [len(lines)], strict=True):
        try:
            result = splice(text, lines[start] + "\n" + textwrap.dedent("\n".join(lines[start + 1:end])), main_class)
        except SyntaxError:
            return None
        text, notes = result.text, notes + result.notes
    return SpliceResult(text, notes + [f"code block {block.index} spliced part by part, as its method comments divide it"])


def _splice_trailing_parts(module_text: str, block: CodeBlock, main_class: str) -> SpliceResult | None:
    """A block of code, then parts under margin comments each naming a method of the program
    the block does not define ("# in _execute_payment:" over the line it changes there): the
    head and each part spliced in turn; None for any other block, or if a part does not splice."""
    lines = block.text.split("\n")
    known = {name.split(".")[-1] for name in _unparsed(module_text)}
    defined = set(re.findall(r"^\s*(?:async\s+)?def\s+(\w+)", block.text, re.MULTILINE))
    starts = [i for i, line in enumerate(lines) if i > 0 and (m := _PART_COMMENT.match(line))
              and (name := _part_name(m.group(0))) in known and name not in defined]
    if not starts or not defined or not any(_DEFINES.match(line) for line in lines[:starts[0]]):
        return None   # (a block of parts from its first line is `_splice_parts`')
    try:
        result = splice(module_text, "\n".join(lines[:starts[0]]), main_class, lead=block.lead)
        text, notes = result.text, list(result.notes)
        for start, end in zip(starts, starts[1:] + [len(lines)], strict=True):
            part = splice(text, lines[start] + "\n" + textwrap.dedent("\n".join(lines[start + 1:end])), main_class)
            text, notes = part.text, notes + part.notes
    except SyntaxError:
        return None
    return SpliceResult(text, notes + [f"code block {block.index}: the parts under its method comments spliced into those methods"])


def _part_name(comment: str) -> str:
    return re.sub(r"^#\s*(?:in\s+|inside\s+)?`?(?:self\.)?|(?:\(\))?`?\s*:?\s*$", "", comment.strip())


_INDENTED_DEF = re.compile(r"^[ \t]+(?:async\s+def|def|@)\b")


def _methods_start(lines: list[str]) -> int | None:
    """The first line of a method copied with its class indentation, if any."""
    return next((i for i, line in enumerate(lines) if _INDENTED_DEF.match(line)), None)


def _splice_head_and_methods(module_text: str, block: CodeBlock, main_class: str) -> SpliceResult | None:
    """A block whose module-level lines (imports, constants) come before methods copied with
    their class indentation ("SATS_PER_BTC = 100_000_000" over "    def calculate_fee(…):"),
    spliced as the two snippets it is; None unless both splice."""
    lines = block.text.split("\n")
    start = _methods_start(lines)
    head = [line for line in lines[:start] if line.strip()] if start else []
    if not head or any(line[:1].isspace() for line in head) or head[-1].rstrip().endswith((":", "\\", ",", "(")):
        return None
    try:
        first = splice(module_text, "\n".join(lines[:start]), main_class)
        second = splice(first.text, textwrap.dedent("\n".join(lines[start:])), main_class)
    except SyntaxError:
        return None
    return SpliceResult(second.text, first.notes + second.notes
                        + [f"code block {block.index}: its module-level lines and its indented methods spliced apart"])


_CALLED_NAME = re.compile(r"\b(?:self\.)?([A-Za-z_]\w*)\s*\(")


def _splice_all(task: str, blocks: list[CodeBlock], fixtures: dict[str, str], primary: str, main_class: str,
                errors: list[str]) -> Candidate | None:
    texts = dict(fixtures)
    used: list[int] = []
    unplaced: list[tuple[int, str]] = []
    unplaced_calls: list[tuple[int, tuple[str, ...]]] = []
    notes: list[str] = []
    for block in blocks:
        target = _label_file(block) if _label_file(block) in texts and _label_file(block).endswith(".py") else primary
        block = _under_method_lead(block, texts[target])
        removed = _lines_removed(texts[target], block)
        if removed is not None:
            used.append(block.index)
            texts[target] = removed
            notes.append(f"code block {block.index}: the lines it quotes removed, as its lead-in says")
            continue
        try:
            # (a block that goes on, under a margin comment, in a method it does not define:
            # "# in _execute_payment:" over `net_amount = …` after the methods it rewrote)
            result = _splice_trailing_parts(texts[target], block, main_class) or \
                splice(texts[target], block.text, main_class, adds=bool(_ADDS.search(block.lead)), lead=block.lead)
        except SyntaxError as exc:
            parts = _splice_parts(texts[target], block, main_class) or _splice_head_and_methods(texts[target], block, main_class)
            if parts is None:
                errors.append(_syntax_error(exc, f"(code block {block.index})"))
                continue
            result = parts
        error = _parse_error(block, result.text)
        if error:  # the splice itself went wrong (odd indentation in the block)
            errors.append(error)
            continue
        if result.text != texts[target]:
            used.append(block.index)
        if left_out := _novel_lines(_novel_lines(block.text, fixtures[target]), result.text):
            unplaced.append((block.index, left_out))
            unplaced_calls.append((block.index, tuple(dict.fromkeys(_CALLED_NAME.findall(block.text)))))
        texts[target] = result.text
        notes += result.notes
    if not used:
        return None
    texts[primary], renamed = pass_renamed_parameters(fixtures[primary], texts[primary], main_class)
    if renamed:
        notes.append(f"calls pass the renamed parameters by the caller's names: {', '.join(renamed)}")
    files = {name: text for name, text in texts.items() if text != fixtures[name]}
    changed = frozenset().union(*(changed_definitions(fixtures[n], t) for n, t in files.items() if n.endswith(".py")))
    return Candidate(task, "splice", tuple(used), files, changed, notes, _added_state(fixtures, files), tuple(unplaced),
                     unplaced_calls=tuple(unplaced_calls))


# "In `__init__`:" (or "Add to `__init__`:"), "In `broadcast_job`, keep the template with the
# job and register it by id:", "In `__init__`, drop the three `self.socket` lines and keep the
# timeout for the thread:" over bare lines: the part of that method they are
_LEAD_NAMES = re.compile(r"^\W*(?:(?:and|then|also)\s+)?(?:(?:in|inside|within)\s+|(?:add|set|initiali[sz]e)\s+(?:\w+\s+){0,3}(?:to|in)\s+)"
                         # ("In `StratumServer.__init__` add:": the class may qualify it, the comma may go)
                         r"(?:the\s+)?`(?:self\.|[A-Z]\w*\.)?(\w+)(?:\(\))?`(?:\s*,?\s*(?:(?:`[^`]*`|[^:`])*\b(?:and|then)\s+)?"
                         r"(?:add|set|initiali[sz]e|create|store|keep|register)\b(?:`[^`]*`|[^:`])*)?\s*:\s*$"
                         r"|^\W*(?:in|inside)\s+(?:the\s+)?(__init__)(?:\(\))?\s*:\s*$",
                         re.IGNORECASE)
_DEFINES = re.compile(r"^\s*(?:(?:async\s+)?def|class)\b|^\s*@")
_SETS = re.compile(r"^[\w.\[\]\"']+\s*=[^=]")


def _under_method_lead(block: CodeBlock, program: str) -> CodeBlock:
    """A block of bare lines under a lead-in naming a method as the ``# method`` part it is:
    ``__init__`` always (what it sets, it sets there), another method when the block restates
    one of its lines as it stands (the part's own context); any other block as it is."""
    lines = [line for line in block.text.splitlines() if line.strip()]
    # (a block of definitions, or one that names its part itself, is read as it is)
    if not lines or lines[0].lstrip().startswith("#") or any(_DEFINES.match(line) for line in lines):
        return block
    named = _LEAD_NAMES.match(re.split(r"[;.]\s", block.lead)[-1])
    name = named and (named.group(1) or named.group(2))
    if not name:
        return block
    if name != "__init__":
        # (an assignment of the method restated as it stands; a block with an elision of its
        # own is a fragment placed by what it quotes)
        source = next((s for n, s in _unparsed(program).items() if n.split(".")[-1] == name), None)
        own = {line.strip() for line in (source or "").splitlines() if _SETS.match(line.strip())}
        if source is None or any(line.strip() in ("...", "…") or re.match(r"^\s*(?:\.\.\.|#.*(?:\.\.\.|…))", line)
                                 for line in lines):
            return block
        if not any(line.strip() in own for line in lines):
            anchor = _setting_statement(source, lines, block.text)
            if anchor is None:
                return block
            entry = _DICT_ENTRY.search(block.lead)
            if entry and anchor.rstrip().endswith("}"):
                # ("add `"template": template,` to the job dict": the entry joins the dict it sets)
                close = anchor.rstrip().rfind("}")
                anchor = f"{anchor[:close].rstrip().rstrip(',')}, {entry.group(1).strip().rstrip(',')}}}\n"
            # "In `broadcast_job`, … register it:" over `self.jobs[self.current_job["job_id"]] = …`:
            # the lines go after the statement that sets what they read first
            return replace(block, text=f"# {name}\n" + anchor + block.text)
    return replace(block, text=f"# {name}\n" + block.text)


_DICT_ENTRY = re.compile(r"\badd\s+`((?:\"[^\"`]+\"|'[^'`]+')\s*:\s*[^`]+)`\s+to\s+the\s+(?:\w+\s+)?dict", re.IGNORECASE)


def _setting_statement(source: str, lines: list[str], text: str) -> str | None:
    """The statement of the method ``source`` that last sets an attribute the block's first
    line reads (the first such), indented as the block is."""
    read = re.findall(r"\bself\.(\w+)\b(?!\s*=[^=])", lines[0])
    body = textwrap.dedent(source)
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return None
    function = tree.body[0] if tree.body and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    if function is None or not read:
        return None
    sets = next((found for attribute in read if (found := [
        stmt for stmt in function.body if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" and t.attr == attribute
            for t in stmt.targets)])), None)
    if not sets:
        return None
    statement = (ast.get_source_segment(body, sets[-1]) or "").splitlines()
    margin, column = indent_of(next(line for line in text.splitlines() if line.strip())), sets[-1].col_offset
    return "\n".join([margin + statement[0]] + [margin + line[column:] for line in statement[1:]]) + "\n"


# "and in `calculate_payouts()` drop the two unused lines:" over the lines themselves
_REMOVE_LEAD = re.compile(r"\b(?:drop|remove|delete)\b[^:]*\blines?\b[^:]*:\s*$", re.IGNORECASE)
_KEEPS = re.compile(r"\b(?:and|then)\s+(?:keep|add|set|store|initiali[sz]e|use)\b", re.IGNORECASE)


def _lines_removed(program: str, block: CodeBlock) -> str | None:
    """The program without the lines a block quotes, when its lead-in says to remove them and
    they stand together, once, in the program; None otherwise."""
    quoted = [line.strip() for line in block.text.splitlines() if line.strip()]
    # (the lead's last clause: "Drop it from the log line; log hash + height after the RPC:"
    # shows what to log)
    last = re.split(r"[;.]\s", block.lead)[-1]
    # ("drop the three `self.socket` lines and keep the timeout for the thread:" shows what stays)
    if not quoted or not _REMOVE_LEAD.search(last) or _KEEPS.search(last):
        return None
    lines = program.splitlines()
    filled = [k for k, line in enumerate(lines) if line.strip()]
    starts = [i for i in range(len(filled) - len(quoted) + 1)
              if [lines[k].strip() for k in filled[i:i + len(quoted)]] == quoted]
    if len(starts) != 1:
        return None
    gone = set(filled[starts[0]:starts[0] + len(quoted)])
    return "\n".join(line for k, line in enumerate(lines) if k not in gone) + "\n"


def _novel_lines(code: str, program: str) -> str:
    """The code's lines (comments aside) the program does not have."""
    known = {line.strip() for line in program.splitlines()}
    lines = (line.strip() for line in code.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("#") and line not in known and line != "...")


def _apply_diffs(task: str, blocks: list[CodeBlock], fixtures: dict[str, str], primary: str,
                 errors: list[str]) -> Candidate | None:
    texts = dict(fixtures)
    used: list[int] = []
    for block in blocks:
        try:
            patches = unidiff.parse_lenient(block.text)
        except unidiff.PatchError as exc:
            errors.append(f"the diff in code block {block.index} cannot be read: {exc}")
            continue
        for fpatch in patches:
            name = posixpath.basename(fpatch.path) if fpatch.path and fpatch.path != "/dev/null" else primary
            if name not in texts:
                continue
            try:
                if _creates_file(fpatch, PYTHON_TASKS[task][1]):
                    new = "\n".join(t for _, t in fpatch.hunks[0].lines) + "\n"
                else:
                    new = unidiff.apply_hunks(texts[name], fpatch.hunks, fuzz=2)
            except unidiff.PatchError as exc:
                errors.append(f"the diff in code block {block.index} does not apply to {name}: {exc}")
                continue
            if name.endswith(".py"):
                try:
                    ast.parse(new)
                except SyntaxError as exc:
                    errors.append(_syntax_error(exc, f"of {name} after the diff in code block {block.index}"))
                    continue
            texts[name] = new
            used.append(block.index)
    if not used:
        return None
    files = {name: text for name, text in texts.items() if text != fixtures[name]}
    changed = frozenset().union(*(changed_definitions(fixtures[n], t) for n, t in files.items() if n.endswith(".py")))
    return Candidate(task, "diff", tuple(dict.fromkeys(used)), files, changed, added_state=_added_state(fixtures, files))


def _creates_file(fpatch: unidiff.FilePatch, main_class: str) -> bool:
    """A diff against /dev/null giving the whole module: one hunk of added lines defining the main class."""
    if len(fpatch.hunks) != 1 or not all(tag == "+" for tag, _ in fpatch.hunks[0].lines):
        return False
    return any(t.startswith(f"class {main_class}") for _, t in fpatch.hunks[0].lines)
