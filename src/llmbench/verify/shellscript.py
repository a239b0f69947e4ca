"""``answer.sh``: the HiveOS answer's shell, as a user would paste it into a terminal.

Every shell block in answer order. A file the answer gives as a fenced block
labelled with its path (or as a diff against ``/dev/null``) becomes the commands
that create it: ``mkdir -p`` of its folder and a quoted heredoc, so its text lands
in the file byte for byte. Which blocks are such files is decided by the HiveOS
file-tree reader (``grading.filetree``), the one the graders use.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

from llmbench.grading.filetree import parse_file_tree
from llmbench.patching import unidiff
from llmbench.verify.blocks import CodeBlock, answer_text, code_blocks

_SHELL_LABELS = {"", "bash", "sh", "shell", "zsh", "console", "terminal", "shell-session", "shellsession"}


@dataclass
class ShellCandidate:
    script: str
    blocks: tuple[int, ...]   # the code blocks it came from (1-based)

    @property
    def kind(self) -> str:
        return "shell"

    def describe(self) -> str:
        return f"shell from code block{'s' if len(self.blocks) > 1 else ''} {', '.join(map(str, self.blocks))}"


def shell_path(path: str) -> str:
    """A path as a shell word: ``~`` and ``$HOME`` still expand, nothing else does."""
    for home in ("~/", "$HOME/", "${HOME}/"):
        if path.startswith(home):
            return '"$HOME"/' + shlex.quote(path[len(home):])
    if path in ("~", "$HOME"):
        return '"$HOME"'
    return shlex.quote(path)


def create_file_commands(path: str, content: str) -> str:
    """``mkdir -p`` + a quoted heredoc that writes ``content`` to ``path``."""
    delimiter = "LLMBENCH_EOF"
    while delimiter in content.splitlines():
        delimiter += "_"
    folder = posixpath.dirname(path)
    lines = [f"mkdir -p {shell_path(folder)}"] if folder else []
    body = content if content.endswith("\n") else content + "\n"
    lines.append(f"cat > {shell_path(path)} <<'{delimiter}'\n{body}{delimiter}")
    return "\n".join(lines)


def build_shell_candidate(final_answer: str) -> ShellCandidate | None:
    """The answer's shell script, or None when it has no shell and creates no file."""
    final_answer = answer_text(final_answer)
    tree = parse_file_tree(final_answer)
    fenced = {f.line: f for f in tree.files.values() if f.how == "fenced"}
    parts: list[str] = []
    used: list[int] = []
    for block in code_blocks(final_answer):
        made = fenced.get(block.line)
        if made is not None:
            parts.append(f"# code block {block.index}: {made.path}\n" + create_file_commands(made.path, made.content))
            used.append(block.index)
        elif block.is_diff:
            created = _created_by_diff(block)
            if created:
                parts += created
                used.append(block.index)
        elif block.language in _SHELL_LABELS and _looks_like_shell(block):
            parts.append(f"# code block {block.index}\n" + _without_prompts(block.text))
            used.append(block.index)
    if not parts:
        return None
    return ShellCandidate("\n".join(parts) + "\n", tuple(used))


def _created_by_diff(block: CodeBlock) -> list[str]:
    """Files a diff creates (all lines added, as against /dev/null)."""
    try:
        patches = unidiff.parse_lenient(block.text)
    except unidiff.PatchError:
        return []
    out = []
    for fpatch in patches:
        if fpatch.path and fpatch.path != "/dev/null" and all(tag == "+" for h in fpatch.hunks for tag, _ in h.lines):
            content = "\n".join(t for h in fpatch.hunks for _, t in h.lines) + "\n"
            out.append(f"# code block {block.index}: {fpatch.path}\n" + create_file_commands(fpatch.path, content))
    return out


def _looks_like_shell(block: CodeBlock) -> bool:
    """Unlabelled blocks are shell only when they read as commands (not JSON, sample output or
    a drawing of the folder: "├── h-run.sh")."""
    if block.language:
        return True
    first = next((line.strip() for line in block.text.splitlines() if line.strip()), "")
    return bool(first) and not first.startswith(("{", "[", '"')) and not _TREE_DRAWING.search(block.text)


_TREE_DRAWING = re.compile(r"^[\s│|]*(?:├──|└──|├─|└─|\|--|`--)", re.MULTILINE)


def _without_prompts(text: str) -> str:
    """``$ cmd`` lines of a terminal transcript become ``cmd``."""
    lines = text.splitlines()
    if lines and all(line.startswith("$ ") for line in lines if line.strip() and not line.startswith((" ", "\t"))):
        lines = [line[2:] if line.startswith("$ ") else line for line in lines]
    return "\n".join(lines) + "\n"
