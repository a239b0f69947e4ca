"""What an answer's Python patch script does to one of the task's files.

Answers patch the program with a short script as often as with ``sed``::

    p = Path("stratum_server.py")
    src = p.read_text()
    src = src.replace('old line\\n', 'new line\\n')
    p.write_text(src)

Such a script is read, never run: each ``str.replace`` with literal arguments on the
file's text is applied in order, as Python would. A script that does anything else to
the text (``re.sub``, slicing, a computed argument) is an edit this module does not read.
"""

from __future__ import annotations

import ast


class UnknownScript(ValueError):
    """A patch script whose edits this module cannot follow."""


def replace_edits(source: str, file_names: set[str]) -> list[tuple[str, list[tuple[str, str, int]]]]:
    """(file, its ``(old, new, count)`` replacements in order) for each task file the script
    reads, changes with ``str.replace`` and writes back; [] when it patches none of them.
    Raises UnknownScript when it changes one in a way this module does not read."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):   # (not Python, or deeper than the parser goes)
        return []
    paths: dict[str, str] = {}      # variable -> task file it names (Path("x.py") or "x.py")
    texts: dict[str, str] = {}      # variable -> task file whose text it holds
    edits: dict[str, list[tuple[str, str, int]]] = {}
    written: list[str] = []
    nodes = sorted((n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.Call))),
                   key=lambda n: (n.lineno, n.col_offset))
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
            named = _file_named(value, paths, file_names)
            if named is not None:
                paths[name] = named
                continue
            read = _file_read(value, paths, file_names)
            if read is not None:
                texts[name] = read
                edits.setdefault(read, [])
                continue
            if name in texts:
                edits[texts[name]].extend(_replacements(value, name))
        elif isinstance(node, ast.Call) and (target := _written(node, paths, file_names)) is not None:
            written.append(target)
    return [(file, found) for file, found in edits.items() if found and file in written]


def _literal(node: ast.expr) -> str | None:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def _file_named(node: ast.expr, paths: dict[str, str], file_names: set[str]) -> str | None:
    """The task file an expression names: ``Path("x.py")``, ``"x.py"`` or a variable bound to one."""
    if isinstance(node, ast.Name):
        return paths.get(node.id)
    if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Path" and node.args:
        node = node.args[0]
    text = _literal(node) if isinstance(node, ast.Constant) else None
    if text is None:
        return None
    base = text.rsplit("/", 1)[-1]
    return base if base in file_names else None


def _file_read(node: ast.expr, paths: dict[str, str], file_names: set[str]) -> str | None:
    """``p.read_text()`` or ``open("x.py").read()``: the task file whose text it is."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    if node.func.attr == "read_text":
        return _file_named(node.func.value, paths, file_names)
    if node.func.attr == "read" and isinstance(node.func.value, ast.Call) and getattr(node.func.value.func, "id", "") == "open":
        opened = node.func.value.args
        return _file_named(opened[0], paths, file_names) if opened else None
    return None


def _written(node: ast.Call, paths: dict[str, str], file_names: set[str]) -> str | None:
    """The task file a call writes: ``p.write_text(src)`` or ``open(path, "w").write(src)``."""
    if not isinstance(node.func, ast.Attribute):
        return None
    if node.func.attr == "write_text":
        return _file_named(node.func.value, paths, file_names)
    opened = node.func.value
    if node.func.attr == "write" and isinstance(opened, ast.Call) and getattr(opened.func, "id", "") == "open" and opened.args:
        mode = opened.args[1] if len(opened.args) > 1 else next((k.value for k in opened.keywords if k.arg == "mode"), None)
        if mode is not None and "w" in (_literal(mode) or ""):
            return _file_named(opened.args[0], paths, file_names)
    return None


def _replacements(node: ast.expr, name: str) -> list[tuple[str, str, int]]:
    """The chain ``name.replace(a, b).replace(c, d)``, in the order Python applies it."""
    chain: list[tuple[str, str, int]] = []
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace":
        args = [_literal(a) for a in node.args[:2]]
        count = node.args[2].value if len(node.args) > 2 and isinstance(node.args[2], ast.Constant) else -1
        if len(node.args) < 2 or None in args or not isinstance(count, int):
            raise UnknownScript(f"a replace() this module cannot read: {ast.unparse(node)[:120]}")
        chain.append((args[0], args[1], count))   # type: ignore[arg-type]
        node = node.func.value
    if not (isinstance(node, ast.Name) and node.id == name):
        raise UnknownScript(f"an edit of the file's text this module does not read: {ast.unparse(node)[:120]}")
    return chain[::-1]


def apply_replacements(text: str, edits: list[tuple[str, str, int]]) -> tuple[str, list[str]]:
    """``text`` after the replacements, and those that found nothing to replace."""
    idle = []
    for old, new, count in edits:
        if old not in text:
            idle.append(f"replace({old!r}, {new!r})")
        text = text.replace(old, new, count)
    return text, idle
