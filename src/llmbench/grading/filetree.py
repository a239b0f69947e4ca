"""Read the files an answer creates (the HiveOS task is graded on files, not prose).

A file is created by

* a heredoc: ``cat > PATH << 'EOF'`` … ``EOF`` (also ``cat << EOF > PATH``,
  ``tee PATH << EOF``, ``cat << EOF | tee PATH``, ``<<-``);
* a redirect of ``echo``/``printf`` into a path (``echo … > PATH``, ``>>`` appends);
* a fenced block labelled with its file name: in the info string (```` ```bash h-run.sh ````,
  ```` ```sh title="h-run.sh" ````) or on the heading/caption line right before the fence
  (``### h-run.sh``, ``**`h-run.sh`**``, ``Create `h-run.sh`:``), when the block itself
  creates no file with a command.

Paths are resolved like a shell would: ``~`` and ``$HOME`` stay ``~``, variables assigned
earlier (``DIR=~/Downloads/ethminer``) are expanded, a positional parameter stands for its
default (``${1:-pplns.py}``: the script runs with no argument), ``cd DIR`` changes the directory
relative paths land in, and ``mkdir`` records directories (with ``-p`` or not).
Nothing is ever executed; text copied from the prompt creates no file.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field

from llmbench.grading.jsonanswer import NOT_JSON, parse_json_answer
from llmbench.grading.parsed_answer import normalize

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`]*)$")
# a heredoc's start: group 4 is its delimiter
HEREDOC = re.compile(r"(?<!<)<<(?!<)(-?)\s*(\\?)(['\"]?)([A-Za-z_][\w.-]*)\3")
# a command that adds to a file rather than replacing it: `>>`, `tee -a`
_APPENDS = re.compile(r">>|\btee\s+(?:-\w*a\w*|--append)\b")
_FILE_NAME = re.compile(r"(?:[~$\w{}./-]*/)?[\w.-]+\.(?:sh|conf|json|cfg|txt|ini|py|yaml|yml|env|service)\b")
_ASSIGN = re.compile(r"^([A-Za-z_]\w*)=(.*)$")
# (a positional parameter is unset when the answer's script is run as it says, "bash fix.sh":
# "${1:-payment_processor.py}" is its default)
_VAR = re.compile(r"\$\{([A-Za-z_]\w*|\d+)(?::?[-=]([^}]*))?\}|\$([A-Za-z_]\w*)")
_NON_SHELL = {"json", "python", "py", "yaml", "yml", "javascript", "js", "toml", "ini", "conf", "text", "txt",
              "console-output", "output", "log", "diff"}
_COMMANDS = re.compile(
    r"^\s*(?:\$\s+)?(?:sudo\s+)?(?:cat|tee|echo|printf|mkdir|cd|export|chmod|bash|sh|source|[A-Za-z_]\w*=)\b"
)
_CAPTION_MAX = 140


@dataclass
class CreatedFile:
    path: str               # resolved path: "~/Downloads/ethminer/h-run.sh", or relative if cwd unknown
    how: str                # "heredoc" | "redirect" | "fenced"
    content: str            # the text the file ends up with (an unquoted heredoc's $VARs expanded)
    complete: bool = True   # heredoc: its delimiter line was found
    quoted: bool = True     # heredoc: delimiter quoted ('EOF'), so $VARs are written literally
    command: str = ""       # the line that created it (or the caption / info string)
    line: int = 0           # 1-based line in the answer
    raw: str = ""           # the text as written in the answer (differs from content for unquoted heredocs)
    # unquoted heredoc: what bash filled in from outside the answer's own commands as it
    # wrote the file ($CUSTOM_URL, $(…), `…`): the file is not the text shown
    outside: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


@dataclass
class FileTree:
    files: dict[str, CreatedFile] = field(default_factory=dict)   # by resolved path, in creation order
    dirs: dict[str, bool] = field(default_factory=dict)           # mkdir'ed dir -> created with -p
    variables: dict[str, str] = field(default_factory=dict)       # shell variables of the answer's commands
    # (interpreter, source) of each script a heredoc feeds to Python: `python3 - <<'EOF'`
    scripts: list[tuple[str, str]] = field(default_factory=list)

    def by_name(self, name: str) -> CreatedFile | None:
        """The last file created with this base name (wherever it was put)."""
        found = [f for f in self.files.values() if f.name == name]
        return found[-1] if found else None

    def add(self, record: CreatedFile) -> None:
        old = self.files.get(record.path)
        # A fenced listing of a file already created by a command is a display, not a new file.
        if old is not None and old.how != "fenced" and record.how == "fenced":
            return
        if old is not None and record.how != "fenced" and _APPENDS.search(record.command):
            # `cat >> h-run.sh << 'EOF'` adds to the file written before (after its exec line, too)
            old.raw = (old.raw or old.content) + (record.raw or record.content)
            old.content += record.content
            old.complete = old.complete and record.complete
            old.outside = tuple(dict.fromkeys(old.outside + record.outside))
            return
        self.files.pop(record.path, None)
        self.files[record.path] = record


def parse_file_tree(text: str, prompt: str = "") -> FileTree:
    """The files, directories and variables an answer's shell commands and labelled blocks create."""
    text = _json_strings(text or "")
    # "Here's what each one needs and the key lines; … wrap each one in a `cat > FILE << 'EOF'`
    # block and paste": the blocks are lines for files the reader is to write, none a file
    parser = _Parser(prompt, named_blocks=not _LINES_TO_WRAP.search(text))
    parser.run(text.splitlines())
    return parser.tree


_LINES_TO_WRAP = re.compile(r"\bwrap (?:each|every|all|them|these|those)(?: one| of them| files?| blocks?)? in (?:an? |its own )?`?cat\b",
                            re.IGNORECASE)


def _json_strings(text: str) -> str:
    """An answer given as JSON: its string values, in order (commands inside them still count)."""
    data = parse_json_answer(text)
    if data is NOT_JSON:
        return text
    found: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return "\n\n".join(found)


class _Parser:
    def __init__(self, prompt: str, named_blocks: bool = True) -> None:
        self.tree = FileTree()
        self.env: dict[str, str] = {"HOME": "~"}
        self.cwd: str | None = None
        self._prompt = normalize(prompt) if prompt else ""
        self._depth = 0
        self._outside: list[str] = []   # filled by _expand_heredoc
        self.named_blocks = named_blocks  # whether a block a label or caption names is that file

    # -- driving ------------------------------------------------------------
    def run(self, lines: list[str]) -> None:
        i = 0
        last_text: list[tuple[int, str]] = []   # recent non-blank prose lines (for captions)
        while i < len(lines):
            fence = _FENCE.match(lines[i])
            if fence:
                indent, marks, info = fence.group(1), fence.group(2), fence.group(3).strip()
                j = i + 1
                body: list[str] = []
                while j < len(lines) and not lines[j].strip().startswith(marks[0] * len(marks)):
                    body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j].lstrip())
                    j += 1
                caption = last_text[-1][1] if last_text and last_text[-1][0] >= i - 2 else ""
                self._block(body, info, caption, i + 2)
                last_text = []
                i = j + 1
                continue
            line = lines[i]
            if line.strip():
                last_text.append((i, line.strip()))
            if _COMMANDS.match(line):
                i = self._shell(lines, i, fenced=False)
                continue
            i += 1

    def _block(self, body: list[str], info: str, caption: str, first_line: int) -> None:
        before = set(self.tree.files)
        before_content = {p: f.content for p, f in self.tree.files.items()}
        state = self._state()
        language = info.split()[0].lower() if info.split() else ""
        language = language.split(":")[0].split("{")[0]
        if language not in _NON_SHELL:
            i = 0
            while i < len(body):
                i = self._shell(body, i, fenced=True, offset=first_line)
        created = set(self.tree.files) - before or {
            p for p, f in self.tree.files.items() if before_content.get(p) != f.content
        }
        if created or not self.named_blocks:
            return
        name = _label_name(info) or _caption_name(caption)
        if name and not _label_name(info) and any(posixpath.basename(name) in line for line in body
                                                  if not line.lstrip().startswith("#")):
            # commands on the file the caption names ("…, then:" + `chmod +x … h-run.sh`), not its text;
            # a comment that names it ("#!/bin/bash" + "# ~/Downloads/ethminer/h-run.sh") is its text
            name = None
        if not name:
            # the name as the block's first line: "# ~/Downloads/ethminer/h-run.sh", "# File: h-run.sh"
            name = _first_line_name(body)
            if name:
                first = next(k for k, line in enumerate(body) if line.strip())
                body = body[:first] + body[first + 1:]
        if not name or not any(line.strip() for line in body):
            return
        if name.endswith(".sh") and language in ("json", "text", "txt", "console", "output", "log"):
            return   # "h-stats.sh prints:" + a JSON sample is output, not the script
        content = "\n".join(body).rstrip("\n") + "\n"
        if self._copied(content):
            return
        # the block is the file's text, not commands: its `cd "$(dirname "$0")"` moved nothing
        self._restore(state)
        self.tree.add(CreatedFile(self._resolve(name), "fenced", content, command=(info or caption), line=first_line))

    def _state(self) -> tuple:
        return self.cwd, dict(self.env), dict(self.tree.dirs), dict(self.tree.variables)

    def _restore(self, state: tuple) -> None:
        self.cwd, env, dirs, variables = state
        self.env, self.tree.dirs, self.tree.variables = dict(env), dict(dirs), dict(variables)

    def _run_script(self, record: CreatedFile, subshell: bool) -> None:
        """A script the answer wrote and then runs (`bash install.sh`, `. ./setup.sh`): its
        commands create files too. `bash`/`./x` run in a child (cwd and variables come back)."""
        if self._depth >= 3:
            return
        state = self._state()
        self._depth += 1
        lines = record.content.splitlines()
        i = 0
        while i < len(lines):
            i = self._shell(lines, i, fenced=True, offset=record.line)
        self._depth -= 1
        if subshell:
            dirs = dict(self.tree.dirs)
            self._restore(state)
            self.tree.dirs = dirs   # directories it made stay made

    def _script_run(self, verb: str, args: list[str]) -> tuple[CreatedFile, bool] | None:
        """The created file a command runs, and whether it runs in a child shell."""
        if verb in ("bash", "sh", "source", "."):
            operands = [a for a in _without_redirects(args) if not a.startswith("-")]
            target, subshell = (operands[0] if operands else ""), verb in ("bash", "sh")
        elif "/" in verb:
            target, subshell = verb, True
        else:
            return None
        if not target:
            return None
        record = self.tree.files.get(self._resolve(target))
        return (record, subshell) if record is not None and record.complete else None

    # -- shell --------------------------------------------------------------
    def _shell(self, lines: list[str], i: int, fenced: bool, offset: int = 0) -> int:
        """Interpret the command at lines[i] (and its heredoc body); return the next line index."""
        line = lines[i]
        start = i
        # backslash continuations
        while line.rstrip().endswith("\\") and i + 1 < len(lines) and not HEREDOC.search(line):
            i += 1
            line = line.rstrip()[:-1] + " " + lines[i].strip()
        i += 1
        command = re.sub(r"^\s*\$\s+", "", line).strip()
        if not command or command.startswith("#"):
            return i
        heredoc = HEREDOC.search(command)
        body: list[str] | None = None
        complete = True
        if heredoc:
            delimiter = heredoc.group(4)
            strip_tabs = heredoc.group(1) == "-"
            body = []
            complete = False
            while i < len(lines):
                candidate = lines[i].lstrip("\t") if strip_tabs else lines[i]
                # bash closes only on the delimiter alone from the line's start: an indented
                # "  EOF" is body text; a fenced block's own indent was removed already
                if _closes(candidate, delimiter, fenced):
                    complete = True
                    i += 1
                    break
                body.append(candidate)
                i += 1
        quoted = bool(heredoc and (heredoc.group(3) or heredoc.group(2)))
        self._interpret(command, body, complete, quoted, (offset or 1) + start, heredoc)
        return i

    def _interpret(self, command: str, body, complete: bool, quoted: bool, line_no: int, heredoc) -> None:
        words = _split(command[: heredoc.start()] + " __HEREDOC__ " + command[heredoc.end():] if heredoc else command)
        for simple in simple_commands(words):
            self._simple(simple, command, body, complete, quoted, line_no)

    def _simple(self, words: list[str], command: str, body, complete: bool, quoted: bool, line_no: int) -> None:
        while words and words[0] in ("sudo", "then", "do", "else", "{", "(", "!"):
            words = words[1:]
        if not words:
            return
        # leading assignments
        while words and words[0] != "__HEREDOC__" and (assignment := _ASSIGN.match(words[0])):
            name, value = assignment.groups()
            if len(words) == 1:
                self.env[name] = self._expand(value)
                self.tree.variables[name] = self.env[name]
            words = words[1:]
        if not words:
            return
        verb, args = words[0], words[1:]
        if verb == "export":
            for arg in args:
                match = _ASSIGN.match(arg)
                if match:
                    self.env[match.group(1)] = self._expand(match.group(2))
                    self.tree.variables[match.group(1)] = self.env[match.group(1)]
            return
        if verb == "cd" and args:
            self.cwd = self._resolve(args[0])
            return
        if verb == "mkdir":
            with_p = any(a.startswith("-") and "p" in a for a in args)
            for arg in args:
                if not arg.startswith("-"):
                    self.tree.dirs[self._resolve(arg)] = with_p or self.tree.dirs.get(self._resolve(arg), False)
                    self.env["_"] = self._resolve(arg)   # `mkdir -p DIR && cd $_`
            return
        run = self._script_run(verb, args)
        if run is not None:
            self._run_script(*run)
            return
        targets, appends = _redirect_targets(args)
        raw = "\n".join(body) + "\n" if body else ""
        self._outside = []
        content = raw if quoted else self._expand_heredoc(raw)
        outside = tuple(dict.fromkeys(self._outside))
        if re.fullmatch(r"python[\d.]*", posixpath.basename(verb)):
            if "__HEREDOC__" in words and body is not None and complete:
                self.tree.scripts.append((verb, raw))   # (a heredoc's Python is read as written)
            operands = [a for a in _without_redirects(args) if not a.startswith("-")]
            script = self.tree.files.get(self._resolve(operands[0])) if operands else None
            if script is not None and script.complete:
                self.tree.scripts.append((verb, script.content))   # `python3 /tmp/fix.py`, a file it wrote
            return
        if verb == "cat" and "__HEREDOC__" in words and body is not None:
            for path in targets:
                self._create(path, "heredoc", content, complete, quoted, command, line_no, raw, outside)
            return
        if verb == "tee" and body is not None and "__HEREDOC__" in command_words(command):
            # tee PATH << EOF, or cat << EOF | tee PATH: the heredoc feeds tee
            tee_paths = [a for a in _without_redirects(args) if not a.startswith("-") and a != "__HEREDOC__"]
            for path in tee_paths + targets:
                self._create(path, "heredoc", content, complete, quoted, command, line_no, raw, outside)
            return
        if verb in ("echo", "printf") and targets:
            text_args = _without_redirects(args)
            content = _echo(text_args) if verb == "echo" else _printf(text_args)
            for path, append in zip(targets, appends, strict=True):
                self._create(path, "redirect", content, True, True, command + (" >>" if append else ""), line_no)

    def _create(self, path: str, how: str, content: str, complete: bool, quoted: bool, command: str, line_no: int,
                raw: str | None = None, outside: tuple[str, ...] = ()) -> None:
        if path in ("/dev/null", "-") or path.startswith("&") or path.startswith("/dev/"):
            return
        if self._copied(command + "\n" + (raw if raw is not None else content)):
            return
        self.tree.add(CreatedFile(self._resolve(path), how, content, complete, quoted, command.strip(), line_no,
                                  raw if raw is not None else content, outside))

    def _expand_heredoc(self, body: str) -> str:
        """What an unquoted heredoc writes: escapes resolved, $VAR and $(…) replaced by their values
        (known variables of the answer's own commands, else empty, as the shell would)."""
        out: list[str] = []
        i = 0
        while i < len(body):
            char = body[i]
            if char == "\\" and i + 1 < len(body) and body[i + 1] in "$`\\\n":
                if body[i + 1] != "\n":
                    out.append(body[i + 1])
                i += 2
            elif char == "`":
                end = body.find("`", i + 1)
                self._outside.append(body[i:end + 1 if end >= 0 else len(body)][:40])
                i = len(body) if end < 0 else end + 1
            elif char == "$" and body.startswith("$(", i):
                depth, j = 0, i + 1
                while j < len(body):
                    depth += {"(": 1, ")": -1}.get(body[j], 0)
                    j += 1
                    if depth == 0:
                        break
                self._outside.append(body[i:j][:40])
                i = j
            elif char == "$":
                match = _VAR.match(body, i)
                if match:
                    name = match.group(1) or match.group(3)
                    if name not in self.env:
                        self._outside.append(match.group(0))
                    out.append(self.env.get(name, match.group(2) or "") if name != "HOME" else "~")
                    i = match.end()
                elif i + 1 < len(body) and (body[i + 1].isdigit() or body[i + 1] in "@#?$*!-"):
                    self._outside.append(body[i:i + 2])
                    i += 2
                else:
                    out.append(char)
                    i += 1
            else:
                out.append(char)
                i += 1
        return "".join(out)

    def _copied(self, text: str) -> bool:
        norm = normalize(text)
        return bool(self._prompt) and bool(norm) and norm in self._prompt

    # -- paths --------------------------------------------------------------
    def _expand(self, value: str) -> str:
        def sub(match: re.Match) -> str:
            name = match.group(1) or match.group(3)
            if name in self.env:
                return self.env[name]
            if match.group(2) is not None:
                return match.group(2)
            return match.group(0)
        return _VAR.sub(sub, value)

    def _resolve(self, path: str) -> str:
        path = self._expand(path.strip().strip("'\""))
        if path.startswith("~") or path.startswith("/"):
            resolved = path
        elif self.cwd is not None:
            resolved = posixpath.join(self.cwd, path)
        else:
            resolved = path
        resolved = posixpath.normpath(resolved) if resolved not in ("~",) else resolved
        return resolved


def _closes(line: str, delimiter: str, fenced: bool) -> bool:
    if fenced:
        return line.rstrip("\r") == delimiter
    # prose lines lose their indent and trailing blanks when copied out of a list item
    return line.strip() == delimiter


def command_words(command: str) -> list[str]:
    return _split(HEREDOC.sub(" __HEREDOC__ ", command))


def _split(command: str) -> list[str]:
    """Shell words and operators (quotes removed); falls back to whitespace on bad quoting."""
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        return list(lexer)
    except ValueError:
        return re.findall(r"&&|\|\||>>|[;&|<>]|[^\s;&|<>]+", command.split(" #")[0])


def simple_commands(words: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for word in words:
        if word in ("&&", "||", ";", "|", "&", ";;", "|&"):
            out.append([])
        else:
            out[-1].append(word)
    return [c for c in out if c]


def _redirect_targets(args: list[str]) -> tuple[list[str], list[bool]]:
    targets, appends = [], []
    for k, word in enumerate(args):
        if word in (">", ">>", ">|") and k + 1 < len(args):
            if k > 0 and args[k - 1].isdigit() and args[k - 1] != "1":
                continue   # 2> file: error output, not the file's content
            targets.append(args[k + 1])
            appends.append(word == ">>")
        elif word.startswith(">") and len(word) > 1 and word not in (">&",):
            targets.append(word.lstrip(">"))
            appends.append(word.startswith(">>"))
    return targets, appends


def _without_redirects(args: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for word in args:
        if skip:
            skip = False
            continue
        if word in (">", ">>", ">|", "<", ">&"):
            skip = True
            if out and out[-1].isdigit():
                out.pop()
            continue
        out.append(word)
    return out


def _echo(args: list[str]) -> str:
    escapes = False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        escapes = escapes or "e" in args[0]
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text = text.replace("\\n", "\n").replace("\\t", "\t")
    return text + "\n"


_CONVERSION = re.compile(r"%%|%[-+ #0-9.]*[a-zA-Z]")


def _escapes(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t")


def _printf(args: list[str]) -> str:
    """What printf writes: escapes are resolved in the format (and %b arguments) only, %s
    arguments go in as they are, and the format repeats until the arguments run out
    (`printf '%s\\n' 'line 1' 'line 2'`)."""
    if not args:
        return ""
    fmt, rest = args[0], list(args[1:])
    if not rest or not any(m.group(0) != "%%" for m in _CONVERSION.finditer(fmt)):
        return _escapes(fmt.replace("%%", "%"))
    out: list[str] = []
    while True:
        position = 0
        for match in _CONVERSION.finditer(fmt):
            out.append(_escapes(fmt[position:match.start()]))
            position = match.end()
            if match.group(0) == "%%":
                out.append("%")
                continue
            value = rest.pop(0) if rest else ""
            out.append(_escapes(value) if match.group(0).endswith("b") else value)
        out.append(_escapes(fmt[position:]))
        if not rest:
            return "".join(out)


def _label_name(info: str) -> str | None:
    """A file name in a fence's info string: ```bash h-run.sh, ```sh title="h-run.sh", ```h-run.sh."""
    title = re.search(r"(?:title|file|filename|name)\s*=\s*[\"']?([^\"'\s]+)", info)
    if title:
        return title.group(1)
    for token in re.split(r"[\s:]+", info):
        if _FILE_NAME.fullmatch(token.strip("`'\"")):
            return token.strip("`'\"")
    return None


_FIRST_LINE_NAME = re.compile(r"^\s*(?:#|//)\s*(?:(?:file(?:name)?|path|save (?:as|to))\s*:?\s*)?(\S+?)\s*:?\s*$", re.I)


def _first_line_name(body: list[str]) -> str | None:
    """A comment that is nothing but a file name, as the first line of a block (not a shebang)."""
    first = next((line for line in body if line.strip()), "")
    if first.lstrip().startswith("#!"):
        return None
    match = _FIRST_LINE_NAME.match(first)
    if match and _FILE_NAME.fullmatch(match.group(1).strip("`'\"")):
        return match.group(1).strip("`'\"")
    return None


def _caption_name(caption: str) -> str | None:
    """A heading or caption right before a fence that names one file."""
    text = caption.strip()
    label = re.match(r"^(?:#+\s*)?(\*\*|__)(.+?)\1", text)
    if label and len(text) > _CAPTION_MAX and _FILE_NAME.search(label.group(2).replace("`", " ")) \
            and not _NOT_WHOLE.search(text):
        # "**3. `~/Downloads/ethminer/h-stats.sh`** — this one has a lot of quotes, so …:": the
        # bold label names the file, however long the remark after it
        text = label.group(0)
    if not text or len(text) > _CAPTION_MAX:
        return None
    looks_like_caption = (
        text.startswith("#") or text.startswith("**") or text.startswith("__") or text.endswith(":")
        or text.startswith("`") or re.match(r"^(?:file|path|filename)\b", text, re.I) is not None
        or re.match(r"^[-*]\s", text) is not None or re.match(r"^\d+[.)]\s", text) is not None
    )
    if not looks_like_caption:
        return None
    if re.search(r"\b(?:output|outputs|prints?|printed|returns?|sample|example (?:output|response)|result|response|looks like this when)\b", text, re.I) \
            and not re.search(r"\b(?:create|write|save|file|contents? of)\b", text, re.I):
        return None
    if _NOT_WHOLE.search(text):
        return None   # "The run script boils down to:" shows its gist, not the file
    names = [m.group(0) for m in _FILE_NAME.finditer(text.replace("`", " ").replace("*", " "))]
    names = [n.rstrip(".:") for n in names if not n.rstrip(".:").startswith("h-") or "." in n or "/" in n]
    if len({posixpath.basename(n) for n in names}) > 1 and not _ONE_FILE.search(text):
        return None   # "`h-run.sh` and `h-stats.sh` follow the same pattern …:" names no one file
    return names[0] if names else None


# a caption that shows part of a file, or its gist
# (or lines to put into it: "put this right before the `exec` line of `h-run.sh`:")
_NOT_WHOLE = re.compile(r"\b(?:put|add|insert|place|paste) (?:this|these|it|the following)(?: lines?)? (?:\w+ )?(?:before|after|above|below|into|in|at)\b|"
                        r"\b(?:before|after|above|below) the (?:\S+ )?lines?\b|\bthe (?:last|first|final|closing|opening) lines?\b|"
                        r"\b(?:boils down to|comes down to|in essence|essentially|the gist|the core of|the key (?:part|line)s?|"
                        r"the (?:important|relevant|interesting) (?:part|line|bit)s?|an? (?:excerpt|sketch|outline)|simplified|"
                        r"roughly|something like|for example|for instance|such as|e\.g)\b", re.IGNORECASE)
# "Create `h-stats.sh` (it reads `h-config.sh`):" still names the file it creates first
_ONE_FILE = re.compile(r"^\W*(?:\d+[.)]\s*)?(?:create|write|save|file|path|filename|contents? of)\b", re.IGNORECASE)


def bash_syntax_error(content: str, timeout: float = 5.0) -> str | None:
    """``bash -n`` on a created file (parse only, never run); the error text, or None when it parses.

    Returns None as well when bash is unavailable: syntax is then not judged.
    """
    bash = shutil.which("bash")
    if bash is None:
        return None
    try:
        result = subprocess.run(
            [bash, "--norc", "--noprofile", "-n"],
            input=content, capture_output=True, text=True, timeout=timeout,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
        )
    except (subprocess.TimeoutExpired, OSError):
        return None
    if result.returncode == 0:
        return None
    message = result.stderr.strip().splitlines()
    return re.sub(r"^\S*bash: ", "", message[0]) if message else "bash -n failed"
