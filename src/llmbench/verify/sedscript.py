"""What an answer's ``sed -i`` commands do to one of the task's files.

Answers patch the program with ``sed -i 's/old/new/' stratum_server.py`` as often as with
code blocks. Each command line is split as the shell splits it (quotes included: a
double-quoted script with inner double quotes loses them), and the ``s`` and ``d``
commands are applied as GNU sed applies them to each line, with POSIX basic regular
expressions: ``[…]`` is a bracket expression, ``\\(…\\)`` a group, ``+ ? | ( ) { }`` are
literal characters. A command this module cannot read makes the whole edit unknown.
"""

from __future__ import annotations

import re

from llmbench.grading.filetree import command_words, simple_commands

_SED_LINE = re.compile(r"\bsed\s")
_FLAGS = re.compile(r"[gpI0-9]*")


class UnknownEdit(ValueError):
    """A sed command line this module does not read."""


def sed_edits(shell: str, file_names: set[str]) -> list[tuple[str, list[str]]]:
    """(file, its sed scripts in order) for each ``sed -i`` command of ``shell`` on one of
    ``file_names``, its words split as ``filetree`` splits the answer's other commands;
    raises UnknownEdit on an option it does not read."""
    edits: list[tuple[str, list[str]]] = []
    for line in shell.splitlines():
        if not _SED_LINE.search(line):
            continue
        for words in simple_commands(command_words(line)):
            if words[:1] == ["sudo"]:
                words = words[1:]
            if words[:1] == ["sed"]:
                edits += _in_place_edits(words[1:], file_names)
    return edits


def _in_place_edits(words: list[str], file_names: set[str]) -> list[tuple[str, list[str]]]:
    scripts: list[str] = []
    files: list[str] = []
    in_place = False
    expressions = any(w in ("-e", "--expression") for w in words)
    k = 0
    while k < len(words):
        word = words[k]
        if word in ("-i", "--in-place") or re.fullmatch(r"-i\S*", word):
            in_place = True
        elif word in ("-e", "--expression"):
            k += 1
            scripts.append(words[k] if k < len(words) else "")
        elif word.startswith("-") and word != "-":
            raise UnknownEdit(f"option {word}")
        elif not scripts and not expressions:
            scripts.append(word)
        else:
            files.append(word.rsplit("/", 1)[-1])
        k += 1
    return [(name, scripts) for name in files if name in file_names] if in_place else []


def apply_sed(text: str, scripts: list[str]) -> str:
    """``text`` after the sed scripts (``s/…/…/[g]`` and ``/…/d`` commands, ``;``-joined);
    raises UnknownEdit on one it cannot follow (an unbalanced group, a missing back-reference)."""
    return apply_sed_idle(text, scripts)[0]


def apply_sed_idle(text: str, scripts: list[str]) -> tuple[str, list[str]]:
    """``apply_sed``, and the commands that matched no line (an edit that did nothing:
    ``s/self.share_window=10000/…/`` on ``self.share_window = 10000``)."""
    commands = [command for script in scripts for command in _commands(script)]
    try:
        return _applied(text, commands, [_parse(command) for command in commands])
    except re.error as exc:
        raise UnknownEdit(f"sed expression: {exc}") from exc


def _applied(text: str, names: list[str], commands: list[tuple[str, re.Pattern, str, bool]]) -> tuple[str, list[str]]:
    out: list[str] = []
    hit = [False] * len(commands)
    for line in text.split("\n"):
        deleted = False
        for k, (kind, pattern, replacement, every) in enumerate(commands):
            if kind == "d":
                if pattern.search(line):
                    hit[k] = deleted = True
                    break
            else:
                line, count = pattern.subn(replacement, line, count=0 if every else 1)
                hit[k] = hit[k] or count > 0
        if not deleted:
            out.append(line)
    return "\n".join(out), [name for name, used in zip(names, hit, strict=True) if not used]


def _commands(script: str) -> list[str]:
    """The commands of one script: split on newlines and on ``;`` outside an s/// command."""
    found, current, k = [], "", 0
    while k < len(script):
        char = script[k]
        if char == "s" and not current.strip() and k + 1 < len(script):
            delim = script[k + 1]
            fields, j, parts = 0, k + 2, ["s", delim]
            while j < len(script) and fields < 2:
                if script[j] == "\\" and j + 1 < len(script):
                    parts.append(script[j:j + 2])
                    j += 2
                    continue
                if script[j] == delim:
                    fields += 1
                parts.append(script[j])
                j += 1
            flag_match = _FLAGS.match(script, j)
            flags = flag_match.group(0) if flag_match else ""
            current = "".join(parts) + flags
            k = j + len(flags)
            continue
        if char in ";\n":
            if current.strip():
                found.append(current.strip())
            current = ""
        else:
            current += char
        k += 1
    if current.strip():
        found.append(current.strip())
    return found


def _parse(command: str) -> tuple[str, re.Pattern, str, bool]:
    match = re.fullmatch(r"/((?:\\.|[^/])*)/d", command)
    if match:
        return "d", re.compile(_bre(match.group(1))), "", False
    if len(command) < 4 or command[0] != "s":
        raise UnknownEdit(f"sed command {command!r}")
    delim = command[1]
    fields, current, k = [], "", 2
    while k < len(command):
        char = command[k]
        if char == "\\" and k + 1 < len(command):
            current += command[k:k + 2] if command[k + 1] != delim else delim
            k += 2
            continue
        if char == delim:
            fields.append(current)
            current = ""
        else:
            current += char
        k += 1
    if len(fields) != 2 or not re.fullmatch(r"[gI]*", current):
        raise UnknownEdit(f"sed command {command!r}")
    return "s", re.compile(_bre(fields[0]), re.I if "I" in current else 0), _replacement(fields[1]), "g" in current


def _bre(pattern: str) -> str:
    """A POSIX basic regular expression as a Python one."""
    out, k = [], 0
    while k < len(pattern):
        char = pattern[k]
        if char == "\\" and k + 1 < len(pattern):
            nxt = pattern[k + 1]
            out.append({"(": "(", ")": ")", "{": "{", "}": "}", "n": "\n", "t": "\t"}.get(nxt, re.escape(nxt)))
            k += 2
            continue
        if char == "[":
            end = pattern.find("]", k + 2 if pattern[k + 1:k + 2] in ("]", "^") else k + 1)
            if end < 0:
                raise UnknownEdit(f"unterminated bracket expression in {pattern!r}")
            body = pattern[k + 1:end]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            k = end + 1
            continue
        out.append(char if char in ".*^$" else re.escape(char))
        k += 1
    return "".join(out)


def _replacement(text: str) -> str:
    """A sed replacement as a ``re.sub`` template: ``&`` is the match, ``\\1`` a group."""
    out, k = [], 0
    while k < len(text):
        char = text[k]
        if char == "\\" and k + 1 < len(text):
            nxt = text[k + 1]
            out.append(f"\\g<{nxt}>" if nxt.isdigit() else {"n": "\n", "t": "\t", "&": "&"}.get(nxt, nxt.replace("\\", "\\\\")))
            k += 2
            continue
        out.append("\\g<0>" if char == "&" else char.replace("\\", "\\\\"))
        k += 1
    return "".join(out)
