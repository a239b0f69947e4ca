"""What the built-in server says: a task's reference answer, or paced filler.

When the last user message is exactly one of the quality tasks' prompts the
server answers with that task's ``reference_answer()`` (the demo then passes
all 22 checks). The task modules are imported lazily and failures are
tolerated, so the server works before (or without) them: unknown prompts get
filler tokens.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Every filler token is 4 characters, so a client splitting a multi-token chunk
# by characters attributes tokens exactly.
FILLER = (" the", " and", " for", " was", " one", " all", " any", " can", " had", " her",
          " not", " our", " out", " day", " get", " has", " him", " his", " how", " man")
REASONING = ("Let me read the code carefully, list each suspicious spot, "
             "and check every finding against the requirements before answering.")
_PIECE = re.compile(r"\s*\S+|\s+")


@dataclass(frozen=True)
class Answer:
    reasoning: tuple[str, ...]   # pieces streamed in delta.reasoning_content
    content: tuple[str, ...]     # pieces streamed in delta.content
    finish_reason: str           # "stop" | "length"

    @property
    def tokens(self) -> int:
        return len(self.reasoning) + len(self.content)


def split_tokens(text: str) -> tuple[str, ...]:
    """Rough tokens: a word with the whitespace before it (concatenates back exactly)."""
    return tuple(_PIECE.findall(text))


@dataclass(frozen=True)
class ScriptedReply:
    """``--script`` rule: a prompt matching ``match`` (a regex) gets this reply."""

    pattern: re.Pattern
    content: str
    reasoning: str = ""


def load_script(path: str) -> tuple[ScriptedReply, ...]:
    """A JSON list of {"match": regex, "content": str, "reasoning": str}; ValueError if malformed."""
    import json

    with open(path, encoding="utf-8") as handle:
        rules = json.load(handle)
    if not isinstance(rules, list):
        raise ValueError(f"{path}: a script is a JSON list of rules")
    replies = []
    for n, rule in enumerate(rules, 1):
        if not isinstance(rule, dict) or not isinstance(rule.get("match"), str) or not isinstance(rule.get("content"), str):
            raise ValueError(f"{path}: rule {n} needs string fields 'match' and 'content'")
        replies.append(ScriptedReply(re.compile(rule["match"]), rule["content"], str(rule.get("reasoning", ""))))
    return tuple(replies)


class AnswerBook:
    """Maps a prompt to the task whose reference answer the server gives."""

    def __init__(self, script: tuple[ScriptedReply, ...] = ()) -> None:
        self._by_digest: dict[str, str] = {}     # sha256(prompt) -> reference answer
        self._loaded: set[str] = set()
        self.script = script

    def scripted_for(self, prompt: str) -> ScriptedReply | None:
        return next((r for r in self.script if r.pattern.search(prompt)), None)

    def _load(self) -> None:
        from llmbench.tasks import TASK_NAMES, get_task

        for name in TASK_NAMES:
            if name in self._loaded:
                continue
            task = get_task(name)
            prompt, answer = task.prompt(), task.reference_answer()
            self._by_digest[_digest(prompt)] = answer
            self._loaded.add(name)

    def preload(self) -> None:
        self._load()

    def reference_for(self, prompt: str) -> str | None:
        digest = _digest(prompt)
        if digest not in self._by_digest:
            self._load()
        return self._by_digest.get(digest)


def _digest(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


def plan_answer(book: AnswerBook, prompt: str, *, max_tokens: int, ignore_eos: bool,
                min_tokens: int, reasoning: bool, natural_length: int | None) -> Answer:
    """The pieces to stream for one request, honouring max_tokens/ignore_eos/min_tokens."""
    scripted = book.scripted_for(prompt)
    reference = scripted.content if scripted else book.reference_for(prompt)
    thinking = split_tokens(REASONING) if reasoning else ()
    if scripted and scripted.reasoning:
        thinking = split_tokens(scripted.reasoning)
    if reference is not None:
        content = split_tokens(reference)
        stop_at = len(thinking) + len(content)
    else:
        # Filler "wants" to stop at natural_length (its EOS); ignore_eos/min_tokens override.
        stop_at = natural_length if natural_length is not None else max_tokens
        if ignore_eos:
            stop_at = max_tokens
        stop_at = max(stop_at, min(min_tokens, max_tokens))
        want = max(stop_at - len(thinking), 0)
        content = tuple(FILLER[i % len(FILLER)] for i in range(want))
    total = len(thinking) + len(content)
    if total > max_tokens:
        keep = max_tokens
        thinking, content = thinking[:keep], content[: max(keep - len(thinking), 0)]
        return Answer(thinking, content, "length")
    finish = "length" if (reference is None and total >= max_tokens) else "stop"
    return Answer(thinking, content, finish)
