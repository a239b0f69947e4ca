"""A small unified-diff reader and applier (no `patch` program needed).

Scope: what `diff -u` writes for text files — `---`/`+++` headers, `@@` hunks,
context/removed/added lines. By default hunks must match exactly; a hunk whose
lines moved is found by searching the whole file, as `patch` does with an
offset. Free text before the first `---` is the patch's header.

Hand-written diffs (a model's answer) are read with ``parse_lenient`` (line
counts ignored, a bare ``@@``, no file headers) and applied with ``fuzz``: like
``patch -l --fuzz N``, whitespace is compared loosely and up to N context lines
at either end of a hunk may differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(Exception):
    """A patch that cannot be parsed or does not apply (message says why)."""


@dataclass
class Hunk:
    old_start: int  # 1-based, as in the @@ line
    lines: list[tuple[str, str]]  # (' ' | '-' | '+', text without newline)

    def side(self, reverse: bool) -> tuple[list[str], list[str]]:
        """(lines the file must contain, lines that replace them)."""
        old = [t for tag, t in self.lines if tag in " -"]
        new = [t for tag, t in self.lines if tag in " +"]
        return (new, old) if reverse else (old, new)


@dataclass
class FilePatch:
    path: str  # relative to the tree the patch applies to (the a/ b/ prefix removed)
    hunks: list[Hunk] = field(default_factory=list)


@dataclass
class Patch:
    header: dict[str, str]
    files: list[FilePatch]


def _strip_prefix(name: str) -> str:
    name = name.split("\t", 1)[0].strip()
    return name[2:] if name[:2] in ("a/", "b/") else name


def _parse_header(lines: list[str]) -> dict[str, str]:
    """`key: value` lines; indented lines continue the previous value."""
    header: dict[str, str] = {}
    key = None
    for line in lines:
        if line[:1].isspace() and key:
            header[key] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            header[key] = value.strip()
    return header


def parse(text: str) -> Patch:
    lines = text.splitlines()
    i = 0
    while i < len(lines) and not lines[i].startswith("--- "):
        i += 1
    header = _parse_header(lines[:i])
    files: list[FilePatch] = []
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- "):
            if i + 1 >= len(lines) or not lines[i + 1].startswith("+++ "):
                raise PatchError(f"line {i + 1}: '---' not followed by '+++'")
            files.append(FilePatch(_strip_prefix(lines[i + 1][4:])))
            i += 2
            continue
        m = _HUNK.match(line)
        if m:
            if not files:
                raise PatchError(f"line {i + 1}: hunk before any file header")
            old_len = int(m.group(2) or 1)
            new_len = int(m.group(4) or 1)
            hunk = Hunk(int(m.group(1)), [])
            i += 1
            seen_old = seen_new = 0
            while i < len(lines) and (seen_old < old_len or seen_new < new_len):
                body = lines[i]
                tag, rest = (body[:1] or " "), body[1:]
                if body.startswith("\\"):  # "\ No newline at end of file"
                    i += 1
                    continue
                if tag not in " -+":
                    raise PatchError(f"line {i + 1}: unexpected {body[:20]!r} inside a hunk")
                hunk.lines.append((tag, rest))
                seen_old += tag in " -"
                seen_new += tag in " +"
                i += 1
            if (seen_old, seen_new) != (old_len, new_len):
                raise PatchError(f"hunk at line {m.group(0)} is truncated")
            files[-1].hunks.append(hunk)
            continue
        i += 1
    if not files:
        raise PatchError("no file in the patch")
    return Patch(header, files)


def _find(lines: list[str], want: list[str], guess: int, start: int) -> int:
    """Index where `want` occurs at or after `start`, nearest to `guess`; -1 if nowhere."""
    n = len(want)
    candidates = [
        j for j in range(start, len(lines) - n + 1) if lines[j : j + n] == want
    ]
    if not candidates:
        return -1
    return min(candidates, key=lambda j: abs(j - guess))


_LENIENT_HUNK = re.compile(r"^@@(?: -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@)?")


def parse_lenient(text: str) -> list[FilePatch]:
    """A hand-written diff: hunks end at the next header (line counts are not trusted),
    a bare ``@@`` starts a hunk, file headers are optional (path "" then), and a
    context line that lost its leading space still counts as context."""
    files: list[FilePatch] = []
    hunk: Hunk | None = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            hunk = None
            continue
        if line.startswith("+++ ") and i and lines[i - 1].startswith("--- "):
            files.append(FilePatch(_strip_prefix(line[4:])))
            continue
        if line.startswith(("diff --git ", "index ")) or line.startswith("\\"):
            continue
        m = _LENIENT_HUNK.match(line)
        if m:
            if not files:
                files.append(FilePatch(""))
            hunk = Hunk(int(m.group(1) or 1), [])
            files[-1].hunks.append(hunk)
            continue
        if hunk is None:
            continue
        tag = line[:1]
        if tag in ("+", "-", " "):
            hunk.lines.append((tag, line[1:]))
        else:
            hunk.lines.append((" ", line))
    for fpatch in files:
        for h in fpatch.hunks:
            while h.lines and h.lines[-1] == (" ", ""):   # blank lines after the last hunk
                h.lines.pop()
        fpatch.hunks = [h for h in fpatch.hunks if any(tag != " " for tag, _ in h.lines)]
    files = [f for f in files if f.hunks]
    if not files:
        raise PatchError("no hunk in the diff")
    return files


def apply_hunks(text: str, hunks: list[Hunk], reverse: bool = False, fuzz: int = 0) -> str:
    """The text with every hunk applied (or un-applied); PatchError says which hunk fails.

    ``fuzz`` > 0 also accepts a hunk whose lines match with whitespace ignored, or
    once up to ``fuzz`` context lines are dropped from its start and end.
    """
    keep_ends = text.splitlines(keepends=True)
    eol = "\r\n" if keep_ends and keep_ends[0].endswith("\r\n") else "\n"
    lines = [line.rstrip("\r\n") for line in keep_ends]
    ends_with_newline = text.endswith(("\n", "\r"))
    out: list[str] = []
    pos = 0
    for number, hunk in enumerate(hunks, 1):
        want, replacement = hunk.side(reverse)
        at = _find(lines, want, max(hunk.old_start - 1, 0), pos)
        if at < 0 and fuzz:
            at, want, replacement = _find_fuzzy(lines, hunk, reverse, pos, fuzz)
        if at < 0:
            raise PatchError(_mismatch(lines, hunk.side(reverse)[0], hunk.old_start - 1, number))
        out += lines[pos:at] + replacement
        pos = at + len(want)
    out += lines[pos:]
    result = eol.join(out)
    return result + eol if (ends_with_newline and out) else result


def _loose(line: str) -> str:
    return " ".join(line.split())


def _find_fuzzy(lines: list[str], hunk: Hunk, reverse: bool, start: int, fuzz: int) -> tuple[int, list[str], list[str]]:
    """(index, matched lines, replacement) for a loose match; index -1 if none.

    Context lines in the replacement keep the file's own text (its indentation),
    so a loose match never rewrites lines the hunk did not change.
    """
    tags = [(("+" if tag == "-" else "-" if tag == "+" else " ") if reverse else tag, t) for tag, t in hunk.lines]
    loose_file = [_loose(line) for line in lines]
    for trim in range(0, fuzz + 1):
        head = _context_run(tags, trim)
        tail = _context_run(list(reversed(tags)), trim)
        body = tags[head:len(tags) - tail]
        want = [_loose(t) for tag, t in body if tag in " -"]
        if not want:
            continue
        n = len(want)
        found = [j for j in range(start, len(lines) - n + 1) if loose_file[j:j + n] == want]
        if not found:
            continue
        at = min(found, key=lambda j: abs(j - (hunk.old_start - 1 + head)))
        replacement: list[str] = []
        k = at
        for tag, t in body:
            if tag == " ":
                replacement.append(lines[k])
                k += 1
            elif tag == "-":
                k += 1
            else:
                replacement.append(t)
        return at, lines[at:k], replacement
    return -1, [], []


def _context_run(tags: list[tuple[str, str]], limit: int) -> int:
    """How many of the first ``limit`` lines are context (fuzz drops only context)."""
    n = 0
    while n < limit and n < len(tags) and tags[n][0] == " ":
        n += 1
    return n


def _mismatch(lines: list[str], want: list[str], guess: int, number: int) -> str:
    """Name the first line of hunk `number` that differs at its expected place."""
    for k, expected in enumerate(want):
        j = guess + k
        actual = lines[j] if 0 <= j < len(lines) else "<end of file>"
        if actual != expected:
            return (
                f"hunk {number} does not match: line {j + 1} is {actual.strip()[:60]!r}, "
                f"the patch expects {expected.strip()[:60]!r}"
            )
    return f"hunk {number} does not match"


def status(text: str, fpatch: FilePatch) -> tuple[str, str]:
    """('applies' | 'already applied' | 'does not apply', reason)."""
    try:
        apply_hunks(text, fpatch.hunks)
        return "applies", ""
    except PatchError as forward:
        try:
            apply_hunks(text, fpatch.hunks, reverse=True)
            return "already applied", ""
        except PatchError:
            return "does not apply", str(forward)
