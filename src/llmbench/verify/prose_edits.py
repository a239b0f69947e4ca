"""Statements an answer's prose says to take out of a function, taken out.

Answers often give the new code of one function and say in words what goes from another:
"Remove the socket lines from `__init__`", "start(): remove socket.connect() and the
SUBSCRIBE loop", "delete the `logger.info("block candidate ...", block_hex)` call from
`_submit_block`". A reader applying the answer does both, so the candidate does too.

Each instruction names its function (after "from"/"in", or as a label that opens the
sentence: "start(): …", "In `start()`, …") and what goes: inline code (a statement, a call
with "..." for what it leaves out, or a name) or the names of code ("the socket lines", "the
SUBSCRIBE loop"). A statement of that function's body goes when it holds one of them (a
loop only for "… loop"); names that the function's code does not hold take nothing out.
An instruction that matches nothing is left to the run's other readers.
"""

from __future__ import annotations

import ast
import re

# the verb ("remove", "together with removing"), unless negated or asked about ("do not remove",
# "no need to drop", "why remove …?")
_VERB = re.compile(r"(?<![\w.-])(?:remov(?:e|ing)|delet(?:e|ing)|drop(?:ping)?|tak(?:e|ing) out|get(?:ting)? rid of|strip(?:ping)?)\b",
                   re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:not|n't|never|no need to|without|instead of|rather than|why)\s+(?:\w+\s+)?$", re.IGNORECASE)
# where the object ends: the function it is taken from, or the next clause
_FROM = re.compile(r"\s+(?:from|in|out of|inside)\s+(`[^`\n]+`|(?:self\.)?\w+\(\))", re.IGNORECASE)
_CLAUSE_END = re.compile(r"\s*(?:;|\s\(|,\s|\.(?:\s|$)|:\s|\s(?:and|then)\s+(?:store|set|add|keep|call|replace|use|move|create|put|make|pass)\b|$)",
                         re.IGNORECASE)
# the function a sentence is about when it opens on it: "start(): …", "`__init__`: …", "In `start()`, …"
_LABEL = re.compile(r"^\W*(?:(?:in|inside)\s+)?`?(?:self\.)?(\w+)(?:\(\))?`?\s*[:,—–-]\s", re.IGNORECASE)
_SPAN = re.compile(r"`([^`\n]+)`")
_WORD = re.compile(r"[A-Za-z_][\w.]*(?:\(\))?")
_LOOP = re.compile(r"\bloops?\b", re.IGNORECASE)
_NOT_CODE = frozenset("""the a an this that these those its their both all every each one two three four five
    line lines call calls loop loops statement statements assignment assignments code block blocks part parts
    and or plus also old existing original unused extra now whole entire it them they""".split())


_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*(])")


def sentences_of(prose: str) -> list[str]:
    """The prose's sentences: each line split where a sentence ends (a dot inside code such
    as "socket.connect()" ends none)."""
    return [s for line in prose.splitlines() for s in _SENTENCES.split(line) if s.strip()]


def says_remove(sentence: str) -> bool:
    """Whether the sentence speaks of taking code out (negated or not)."""
    return _VERB.search(sentence) is not None


def removal_instructions(sentences: list[str], functions: set[str]) -> list[tuple[str | None, list[tuple[str, bool]]]]:
    """(function, [(what, loops only), …]) for each instruction to take code out of one of
    ``functions`` (bare names); the function is None when the instruction names none and
    quotes the code it takes out."""
    found: list[tuple[str | None, list[tuple[str, bool]]]] = []
    for sentence in sentences:
        text = sentence.strip()
        if not text or text.rstrip("*_ ").endswith("?"):
            continue
        label = _LABEL.match(text)
        for verb in _VERB.finditer(text):
            if _NEGATED.search(text[:verb.start()]):
                continue
            rest = text[verb.end():]
            while rest:
                # (what inline code holds ends nothing: `logger.info("…", block_hex)`)
                masked = _SPAN.sub(lambda m: "`" + "x" * (len(m.group(0)) - 2) + "`", rest)
                source = _FROM.search(masked)
                end = _CLAUSE_END.search(masked)
                stop = min(source.start() if source else len(rest), end.start() if end else len(rest))
                named = source is not None and source.start() == stop
                name = _name(rest[source.start(1):source.end(1)]) if source is not None and named else (label.group(1) if label else None)
                parts = _split_parts(rest[:stop], masked[:stop])
                items = [item for item in map(_item, parts) if item[0]]
                if name in functions and items:
                    found.append((name, items))
                elif name is None and items and all(_SPAN.search(part) for part in parts if part.strip()) \
                        and all("(" in what or "=" in what for what, _ in items) and not _FROM_ELSE.match(masked[stop:]):
                    # (quoted statements or calls only: "delete `block_hex` from that log call" takes
                    # an argument out of a call, not statements out of a function)
                    found.append((None, items))
                # "… from `__init__` (keep …) and the `connect` lines from `start()`": one verb, two places
                more = _AND_MORE.match(masked[source.end():]) if source is not None and named else None
                rest = rest[source.end() + more.end():] if source is not None and more else ""
    return found


def _split_parts(text: str, masked: str) -> list[str]:
    cuts = [0] + [i for m in _PARTS.finditer(masked) for i in (m.start(), m.end())] + [len(text)]
    return [text[a:b] for a, b in zip(cuts[::2], cuts[1::2], strict=True)]


_FROM_ELSE = re.compile(r"\s+(?:from|out of)\s+(?!`)", re.IGNORECASE)
_PARTS = re.compile(r"\s+(?:and|or|plus)\s+|\s*/\s*|,\s+")
_AND_MORE = re.compile(r"^\s*(?:\([^)]*\)\s*)?,?\s*(?:and|plus)\s+(?=\S)", re.IGNORECASE)


def _name(text: str) -> str:
    return re.sub(r"^self\.|\(\)$", "", text.strip("`").strip())


def _item(part: str) -> tuple[str, bool]:
    """(what the part names as code, whether only a loop is meant)."""
    loop = bool(_LOOP.search(part))
    span = _SPAN.search(part)
    if span:
        return span.group(1).strip(), loop
    words = [w for w in _WORD.findall(part) if w.lower() not in _NOT_CODE]
    return (words[0] if len(words) == 1 else ""), loop


def normal_code(code: str) -> str:
    """Code with its whitespace removed, for comparing statements."""
    return re.sub(r"\s+", "", code)


def _holds(statement_source: str, what: str) -> bool:
    if "..." in what or "…" in what:
        # a call quoted with what it leaves out: `logger.info("block candidate ...", block_hex)`
        # (its words, in order: the "..." may stand for the rest of a string and other arguments)
        words = [re.escape(w) for w in re.findall(r"[\w.]*\w", re.sub(r"\.\.\.|…", " ", what))]
        return bool(words) and re.search(r"(?<![\w])" + r"(?![\w])[\s\S]*?(?<![\w])".join(words) + r"(?![\w])",
                                         statement_source) is not None
    bare = what[:-2] if what.endswith("()") else what
    if re.fullmatch(r"[\w.]+", bare):
        return re.search(rf"(?<![\w]){re.escape(bare)}(?![\w])", statement_source) is not None
    return normal_code(what) in normal_code(statement_source)


def apply_removals(program: str, main_class: str, instructions: list[tuple[str | None, list[tuple[str, bool]]]],
                   own: frozenset[str] = frozenset()) -> tuple[str, list[str]]:
    """The program without the statements the instructions name, and the functions changed
    (``Class.method`` or ``function``). ``own``: the answer's own statements (whitespace
    removed) in the functions its code rewrote, which the prose never takes back ("and delete
    the later `int(ntime, 16)` lines" is about the old ones, not the new parse in the `try`)."""
    changed: list[str] = []
    for name, items in instructions:
        try:
            tree = ast.parse(program)
        except SyntaxError:
            return program, changed
        candidates = [_function(tree, main_class, name)] if name else list(_functions(tree, main_class))
        held = [(f, q) for f, q in candidates if f is not None and _gone(program, f, items, own)]
        if len(held) != 1:
            continue   # (quoted code with no function named goes only where it is once)
        func, qualified = held[0]
        lines = program.split("\n")
        gone = _gone(program, func, items, own)
        emptied = {id(body[0]) for body in _bodies(func) if body and all(any(s is g for g in gone) for s in body)}
        for stmt in sorted(gone, key=lambda s: s.lineno, reverse=True):
            end = stmt.end_lineno or stmt.lineno
            first = lines[stmt.lineno - 1]
            # (a body left with nothing keeps a `pass`)
            lines[stmt.lineno - 1:end] = [first[:len(first) - len(first.lstrip())] + "pass"] if id(stmt) in emptied else []
        program = "\n".join(lines)
        changed.append(qualified)
    return program, changed


_COMPOUND_FIELDS = ("body", "orelse", "finalbody")
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def _children(stmt: ast.stmt) -> list[list[ast.stmt]]:
    bodies = [getattr(stmt, name) for name in _COMPOUND_FIELDS if isinstance(getattr(stmt, name, None), list)]
    bodies += [handler.body for handler in getattr(stmt, "handlers", [])]
    return [body for body in bodies if body]


def _bodies(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[list[ast.stmt]]:
    """The function's body and every body nested in it."""
    found, todo = [], [func.body]
    while todo:
        body = todo.pop()
        found.append(body)
        for stmt in body:
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                todo.extend(_children(stmt))
    return found


def _gone(program: str, func: ast.FunctionDef | ast.AsyncFunctionDef, items: list[tuple[str, bool]],
          own: frozenset[str] = frozenset()) -> list[ast.stmt]:
    """The innermost statements of the function that hold what the items name: the
    `UPDATE` call inside a `try`, not the `try` (a loop whole when a loop is meant)."""
    def inner(body: list[ast.stmt], what: str, loop: bool) -> list[ast.stmt]:
        found: list[ast.stmt] = []
        for stmt in body:
            source = ast.get_source_segment(program, stmt) or ""
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or not _holds(source, what):
                continue
            if not _children(stmt) and normal_code(source) in own:
                continue
            if loop and isinstance(stmt, _LOOPS):
                found.append(stmt)
                continue
            deeper = [s for child in _children(stmt) for s in inner(child, what, loop)]
            # (a block whose only statements that hold it are the answer's own goes neither)
            held_inside = any(_holds(ast.get_source_segment(program, s) or "", what) for child in _children(stmt) for s in child)
            if deeper or not loop and not held_inside:
                found.extend(deeper or [stmt])
        return found
    gone: list[ast.stmt] = []
    for what, loop in items:
        found = inner(func.body, what, loop)
        if len(found) > 1 and ("(" in what or "=" in what):
            continue   # quoted code the function holds twice ("the later `int(ntime, 16)` lines"): which one is not sure
        gone.extend(s for s in found if not any(s is g for g in gone))
    return gone


def _functions(tree: ast.Module, main_class: str):
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == main_class:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield item, f"{main_class}.{item.name}"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node, node.name


def _function(tree: ast.Module, main_class: str, name: str) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef | None, str]:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == main_class:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
                    return item, f"{main_class}.{name}"
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node, name
    return None, ""
