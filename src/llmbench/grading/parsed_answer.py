"""Parse a final answer into units (sentences, code lines) with their context.

Graders look for a finding inside one unit and its surroundings: the paragraph or
list item it belongs to (its *block*), the block just before it, and the heading
of its *section*. Every unit knows whether it is *novel* (not copied from the
prompt): mechanisms and fixes only count from novel text, so an answer that
echoes the prompt earns nothing, while quoted code still tells *where*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmbench.grading.acts import ADVICE, classify, continues_previous, is_connector, is_soft, is_vague
from llmbench.grading.jsonanswer import NOT_JSON, is_code_line, parse_json_answer, with_reports_replaced

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^`]*)$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6}\s+\S.*|\*\*[^*].*\*\*:?\s*|__[^_].*__:?\s*)$")
_TOP_ITEM = re.compile(r"^(\d+[.)]|#\d+[.:)]?)\s+\S")
_LIST_ITEM = re.compile(r"^\s*([-*+•]|\d+[.)])\s+\S")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
# Table columns: a header that asks ("What to look at", "Suggested check") makes its
# column requests; one that states ("Issue", "Root cause") makes the row assert.
_ASKING_HEADER = re.compile(
    r"^\W*(?:what to (?:look at|check|verify|review|investigate|watch|audit|ask)|things to (?:check|audit)|(?:suggested |recommended )?"
    r"(?:checks?|actions?|suggestions?|recommendations?|next steps?|to ?do|to check|to verify|to review))\W*$", re.IGNORECASE)
_STATING_HEADER = re.compile(
    r"\b(?:issues?|problems?|bugs?|causes?|findings?|wrong|impact|effects?|mechanism|explanation|description|"
    r"details?|why|defects?|diagnosis|fix(?:es)?|changes?|solutions?)\b", re.IGNORECASE)
# a column that restates what the user reported ("Report", "Symptom") says nothing of the code
_REPORTED_HEADER = re.compile(
    r"^\W*(?:reports?|reported(?: \w+)?|symptoms?|complaints?|observed(?: \w+)?|what (?:users|you|they) (?:saw|see|reported))\W*$",
    re.IGNORECASE)
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)|^\s*class\s+([A-Za-z_]\w*)")
# a sentence may end inside closing emphasis or quotes ("**X is wrong.** The fix …")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][*_\"')])|(?<=[.!?][*_]{2})|(?<=[.!?]\*{3}))\s+"
                           r"(?=(?:[\"'`(\[]|\*{1,3}|_{2})?[A-Z0-9_`])")   # ("… payouts. **Fix:** switch …")
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf|approx)\.$|=\s*\?$", re.IGNORECASE)   # (or SQL's "id = ?")
_ITEM_NUMBER = re.compile(r"\s*(?:[-*+•]\s*)?\(?\d+[.)]")   # "1." before "**Shared `totals` …**" is no sentence
_MARKUP = re.compile(r"[*_`>#|]+")
# struck-through text is taken back by its writer: "## 2. ~~`window_size` is never used~~"
_STRUCK = re.compile(r"~~(?=\S)[^~\n]*?\S~~")
_SPACES = re.compile(r"\s+")


# a column that gives the reason for the request beside it ("Why it matters") states no defect
_REASON_HEADER = re.compile(r"^\W*(?:why (?:it|this) matters|rationale|reason|purpose|notes?)\W*$", re.IGNORECASE)


def _only_asks(header: list[str]) -> bool:
    """A table whose columns ask and none states: "Area | What to look at", "# | What to
    audit | Why it matters"."""
    return any(_ASKING_HEADER.match(h) for h in header) and not any(
        _STATING_HEADER.search(h) for h in header if not _ASKING_HEADER.match(h) and not _REASON_HEADER.match(h))


def normalize(text: str) -> str:
    """Lower-case, markup-free, single-spaced text for matching and echo detection."""
    return _SPACES.sub(" ", _MARKUP.sub(" ", text)).strip().lower()


def _code_key(line: str) -> str:
    return _SPACES.sub(" ", line).strip()


@dataclass
class Unit:
    text: str
    kind: str            # "prose" | "code" | "heading"
    block: int           # paragraph / list item / table row / code block id
    section: int         # heading-delimited region id
    novel: bool          # not copied from the prompt
    func: str | None = None   # code lines: the enclosing def/class in their code block
    label: str = ""      # code lines: the fence's info string (language or file name)
    removed: bool = False  # code lines: a unified diff's "-" line (old code the answer deletes)
    item: bool = False   # prose: its block is a list item, table row or numbered item (not a paragraph)
    act: str = ""        # prose and headings: assertion | advice | quote (grading.acts)
    vague: bool = False  # advice that orders nothing concrete (a request to look, "best practices")
    soft: bool = False   # advice that only suggests ("consider …"): a fix only beside a finding
    index: int = -1      # position in the answer: a later unit can retract an earlier denial
    asks: bool = False   # prose: a table row whose columns only ask ("Area | What to look at")
    parts: tuple["Unit", ...] = ()   # a window of consecutive sentences (grading.rules): the sentences it joins
    norm: str = field(init=False)

    def __post_init__(self) -> None:
        self.norm = normalize(self.text) if self.kind != "code" else self.text.lower()


class Answer:
    """A final answer, split into units, with echo detection against the prompt."""

    def __init__(self, text: str, prompt: str = "") -> None:
        self.text = text or ""
        self._prompt_norm = normalize(prompt)
        self._prompt_code = {_code_key(line) for line in prompt.splitlines() if _code_key(line)}
        self._prompt_code_text = "\n".join(self._prompt_code)   # what inline code may quote
        self._prompt_funcs = _enclosing_defs(prompt)
        # the prompt's function names: "`__init__` sets …" names where, not what
        self.functions = frozenset(re.findall(r"^\s*(?:async\s+)?def\s+(\w+)", prompt, re.MULTILINE))
        self.units: list[Unit] = []
        self._block = -1
        self._section = 0
        self.memo: dict = {}   # rules cache what depends only on a unit's context here
        self._parse(_json_as_text(self.text))
        previous: Unit | None = None
        for index, unit in enumerate(self.units):
            unit.index = index
            if unit.kind != "code":
                if previous is not None and unit.novel and continues_previous(unit.text):
                    unit.act, unit.vague, unit.soft = previous.act, previous.vague, previous.soft
                elif unit.asks:
                    # a cell of "What to look at" is a request to look at what it names
                    unit.act, unit.soft = (classify(unit.text, unit.novel), False) if not unit.novel else (ADVICE, True)
                    unit.vague = unit.act == ADVICE and is_vague("look at " + unit.text, self._quotes_program)
                else:
                    unit.act = classify(unit.text, unit.novel)
                    unit.vague = unit.act == ADVICE and is_vague(unit.text, self._quotes_program)
                    unit.soft = unit.act == ADVICE and is_soft(unit.text)
                if unit.kind == "prose" and not is_connector(unit.text):
                    previous = unit

    # -- echo ---------------------------------------------------------------
    def _novel_prose(self, text: str) -> bool:
        norm = normalize(text)
        if len(norm) < 12:
            return norm not in self._prompt_norm if norm else False
        return norm not in self._prompt_norm

    def _quotes_program(self, code: str) -> bool:
        """An inline code span copied from the prompt's code ("`self.processing.add(payout_id)`")."""
        key = _code_key(code)
        return bool(key) and key in self._prompt_code_text

    def _novel_code(self, line: str) -> bool:
        key = _code_key(line)
        return bool(key) and key not in self._prompt_code

    # -- parsing ------------------------------------------------------------
    def _new_block(self) -> int:
        self._block += 1
        return self._block

    def _parse(self, text: str) -> None:
        lines = text.splitlines()
        i = 0
        paragraph: list[str] = []
        in_item = [False]
        header: list[str] = []

        def flush() -> None:
            if paragraph:
                self._add_prose(" ".join(s.strip() for s in paragraph), self._new_block(), item=in_item[0])
                paragraph.clear()
            in_item[0] = False

        while i < len(lines):
            line = lines[i]
            fence = _FENCE.match(line)
            if fence:
                flush()
                i = self._parse_code(lines, i + 1, fence.group(1), fence.group(2).strip())
                continue
            stripped = line.strip()
            if not stripped:
                flush()
            elif _HEADING.match(line) or (_TOP_ITEM.match(line) and not line.startswith(" ")):
                flush()
                self._section += 1
                block = self._new_block()
                if _HEADING.match(line):
                    heading = _STRUCK.sub("", stripped)
                    self.units.append(Unit(heading, "heading", block, self._section, self._novel_prose(heading)))
                else:
                    self._add_prose(stripped, block, item=True)
                    paragraph.clear()
                    # continuation lines of a top-level item stay in its block
                    i += 1
                    while i < len(lines) and lines[i].strip() and not self._starts_block(lines[i]):
                        self._add_prose(lines[i].strip(), block, item=True)
                        i += 1
                    continue
            elif _TABLE_ROW.match(line):
                flush()
                if not _TABLE_RULE.match(line):
                    cells = [c.strip() for c in stripped.strip("|").split("|")]
                    if i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1]):
                        header = cells
                    if header is not cells:
                        cells = [("" if k < len(header) and _REPORTED_HEADER.match(header[k]) else c)
                                 for k, c in enumerate(cells)]
                    self._add_prose(" | ".join(cells), self._new_block(), item=True,
                                    asks=header is not cells and _only_asks(header))
            elif _LIST_ITEM.match(line):
                flush()
                in_item[0] = True
                paragraph.append(stripped)
            else:
                paragraph.append(stripped)
            i += 1
        flush()

    @staticmethod
    def _starts_block(line: str) -> bool:
        return bool(_FENCE.match(line) or _HEADING.match(line) or _LIST_ITEM.match(line) or _TABLE_ROW.match(line))

    def _parse_code(self, lines: list[str], i: int, fence: str, label: str) -> int:
        block = self._new_block()
        func: str | None = None
        end = i
        while end < len(lines) and not lines[end].strip().startswith(fence[0] * 3):
            end += 1
        diff = _is_diff(label, lines[i:end])
        while i < len(lines) and not lines[i].strip().startswith(fence[0] * 3):
            line = lines[i]
            if diff:
                # a unified diff: headers give the hunk's function, removed lines are old
                # code (never novel), the +/space column is not part of the code; a hunk
                # with no function in its header takes it from where its old lines sit
                # in the prompt's code; "+" lines are the answer's own code
                hunk = _HUNK.match(line)
                if hunk or _DIFF_HEADER.match(line):
                    if hunk:
                        named = _DEF.match(hunk.group(1) or "")
                        func = (named.group(1) or named.group(2)) if named else _hunk_function(lines[i + 1:end], self._prompt_funcs)
                    i += 1
                    continue
                marker, line = line[:1], line[1:]
                if marker == "-":
                    if line.strip():
                        self.units.append(Unit(line, "code", block, self._section, False, func=func, label=label, removed=True))
                    i += 1
                    continue
                if marker == "+" and line.strip():
                    named = _DEF.match(line)
                    func = (named.group(1) or named.group(2)) if named else func
                    self.units.append(Unit(line, "code", block, self._section, True, func=func, label=label))
                    i += 1
                    continue
            match = _DEF.match(line)
            if match:
                func = match.group(1) or match.group(2)
            if line.strip():
                self.units.append(Unit(line, "code", block, self._section, self._novel_code(line), func=func, label=label))
            i += 1
        return i + 1

    def _add_prose(self, text: str, block: int, item: bool = False, asks: bool = False) -> None:
        for sentence in split_sentences(_STRUCK.sub("", text)):
            self.units.append(Unit(sentence, "prose", block, self._section, self._novel_prose(sentence), item=item,
                                   asks=asks))

    # -- context ------------------------------------------------------------
    # Indexed once, so looking up the context of every unit stays linear in the answer.
    def _index(self) -> None:
        if getattr(self, "_indexed", -1) == len(self.units):
            return
        self._blocks: dict[int, list[Unit]] = {}
        self._sections: dict[int, list[Unit]] = {}
        self._contexts: dict[tuple[int, int], list[Unit]] = {}
        for unit in self.units:
            self._blocks.setdefault(unit.block, []).append(unit)
            self._sections.setdefault(unit.section, []).append(unit)
        self._indexed = len(self.units)

    def prompt_lines(self, func: str) -> list[str]:
        """The prompt's code lines (whitespace-normalised) that sit in ``func``."""
        return [line for line, defs in self._prompt_funcs.items() if func in defs]

    def block_units(self, block: int) -> list[Unit]:
        self._index()
        return list(self._blocks.get(block, ()))

    def section_heading(self, section: int) -> list[Unit]:
        """The first block of a section: its heading or the lead line of a top-level item."""
        self._index()
        units = self._sections.get(section)
        if not units:
            return []
        return [u for u in self._blocks[units[0].block] if u.section == section]

    def shown_subject(self, unit: Unit) -> Unit | None:
        """The program's own line shown just before a sentence that speaks of it by pronoun or
        has no subject of its own ("```window_size = …``` is computed and never used")."""
        before = self.units[unit.index - 1] if unit.index > 0 else None
        if before is not None and before.kind == "code" and not before.novel and unit.kind == "prose" and (
                _ANAPHOR.match(_plain_lead(unit.text)) or _SUBJECTLESS.match(_plain_lead(unit.text))):
            return before
        return None

    def code_after(self, unit: Unit) -> Unit | None:
        """The first line of the code block a sentence ending in a colon introduces, if any."""
        after = self.units[unit.index + 1] if unit.index + 1 < len(self.units) else None
        if unit.kind == "code" or not unit.text.rstrip().endswith(":") or after is None or after.kind != "code":
            return None
        return after

    def shown_next(self, unit: Unit) -> Unit | None:
        """The program's own lines shown just after a sentence that ends in a colon ("The share
        window is hard-coded:" over ```self.share_window = 10000```): what the sentence is about."""
        after = self.code_after(unit) if unit.kind == "prose" else None
        return after if after is not None and not any(u.novel for u in self.block_units(after.block)) else None

    def scope(self, unit: Unit) -> list[Unit]:
        """The units that may lend a place to a finding stated in ``unit``.

        Its own sentence; the first sentence of its list item (table row, numbered item); the heading
        or lead line of its section; and the sentence just before it, whose subject it
        continues ("In `_build_header` the hash is taken as-is. That hash must be
        reversed."), across a paragraph break only for a pronoun ("It …", "This …") or
        after a line ending in a colon. A place named further away in a paragraph does
        not lend itself.
        """
        self._index()
        units = [unit]
        block = self._blocks.get(unit.block, ())
        if unit.item and block and block[0] is not unit:
            units.append(block[0])   # the item's first sentence names its subject (bounded: no scan of the item)
        if unit.index > 0:
            before = self.units[unit.index - 1]
            if before.block == unit.block or (
                    _ANAPHOR.match(_plain_lead(unit.text)) or before.text.rstrip().endswith(":")) and before.kind != "code":
                units.append(before)
            elif self.shown_subject(unit) is not None:
                # "```self.share_window = 10000``` It's hard-coded, so …": the pronoun is the program's
                # line shown; so is the missing subject of "```window_size = …``` is computed and never used"
                units.append(before)
        section = self._sections.get(unit.section) if unit.section > 0 else None   # none before the first heading
        if section and all(section[0] is not v for v in units):
            units.append(section[0])
        return units

    def context(self, unit: Unit) -> list[Unit]:
        """The unit's block, the block before it, and its section's heading (shared: do not modify)."""
        self._index()
        key = (unit.block, unit.section)
        if key not in self._contexts:
            seen: list[Unit] = []
            ids: set[int] = set()
            for candidate in (
                self.block_units(unit.block)
                + self.block_units(unit.block - 1)
                + self.section_heading(unit.section)
            ):
                if id(candidate) not in ids:
                    ids.add(id(candidate))
                    seen.append(candidate)
            self._contexts[key] = seen
        return self._contexts[key]


_SUBJECTLESS = re.compile(r"(?:is|are|was|were|gets|stays|remains|never)\b")
_ANAPHOR = re.compile(
    r"(?:it|its|this|that|these|those|they|their|them|here|there|both|such|the (?:same )?(?:function|method|code|loop|call|"
    r"query|queries|variable|attribute|value|set|dict|map|lock|socket|helper|handler|line|statement|check|field|window|result))\b",
    re.IGNORECASE)


def _plain_lead(text: str) -> str:
    return re.sub(r"^[\W_]+", "", text)


_HUNK = re.compile(r"^@@(?: [^@]*@@)?\s?(.*)$")   # "@@ -1,4 +1,5 @@ def f" or a bare "@@ def f"
_DIFF_HEADER = re.compile(r"^(?:--- |\+\+\+ |diff --git |index [0-9a-f]+\.\.)")


def _enclosing_defs(prompt: str) -> dict[str, set[str]]:
    """Code line (whitespace-normalised) -> the defs/classes it sits in, in the prompt's code."""
    found: dict[str, set[str]] = {}
    stack: list[tuple[int, str]] = []
    for line in prompt.splitlines():
        key = _code_key(line)
        if not key:
            continue
        indent = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        named = _DEF.match(line)
        if named:
            stack.append((indent, named.group(1) or named.group(2)))
        if stack:
            found.setdefault(key, set()).add(stack[-1][1])
    return found


def _hunk_function(hunk_lines: list[str], prompt_funcs: dict[str, set[str]]) -> str | None:
    """The prompt's def holding the first old line of a hunk that occurs in one def only."""
    for line in hunk_lines:
        if _HUNK.match(line) or _DIFF_HEADER.match(line):
            break
        if line[:1] in (" ", "-"):
            where = prompt_funcs.get(_code_key(line[1:]), set())
            if len(where) == 1:
                return next(iter(where))
    return None


def _is_diff(label: str, lines: list[str]) -> bool:
    """A fenced unified diff: labelled diff/patch, or starting with diff headers and a hunk."""
    if label.lower() in ("diff", "patch", "udiff"):
        return True
    head = [line for line in lines[:4] if line.strip()]
    return bool(head) and bool(_DIFF_HEADER.match(head[0])) and any(_HUNK.match(line) for line in lines)


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations and dotted names intact."""
    sentences: list[list[str]] = []   # each sentence as its pieces, joined once at the end
    open_code = False                  # the current sentence has an unclosed inline code span
    for piece in _SENTENCE_END.split(text.strip()):
        # an abbreviation, or a "?"/"." inside an unclosed inline code span (`WHERE id = ? AND …`);
        # decided on the last piece alone, so a long run of them stays linear
        if sentences and (open_code or _ABBREV.search(sentences[-1][-1]) or _ITEM_NUMBER.fullmatch(sentences[-1][-1])):
            sentences[-1].append(piece)
        else:
            sentences.append([piece])
            open_code = False
        open_code ^= piece.count("`") % 2 == 1
    return [s for s in (" ".join(parts).strip() for parts in sentences) if s]


def _json_as_text(text: str) -> str:
    """An answer given as JSON becomes prose: one block per object, ``key: value`` lines (so
    does a JSON report in a fenced block of a prose answer)."""
    data = parse_json_answer(text)
    if data is NOT_JSON:
        return with_reports_replaced(text, _flattened)
    return _flattened(data)


def _flattened(data) -> str:
    out: list[str] = []
    _flatten_json(data, out)
    return "\n".join(out)


# keys that say where a finding is, and keys that say nothing of what it is
_PLACE_KEYS = ("location", "function", "method", "where", "place", "component", "file")
_MINOR_KEYS = ("id", "no", "number", "index", "severity", "priority", "confidence")


def _flatten_json(data, out: list[str]) -> None:
    if isinstance(data, dict):
        scalars = {k: v for k, v in data.items() if not isinstance(v, (dict, list))}
        if scalars:
            out.append("")
            out.append("- " + " ".join(_object_sentences(scalars)))
        for value in data.values():
            if isinstance(value, (dict, list)):
                _flatten_json(value, out)
    elif isinstance(data, list):
        if all(not isinstance(v, (dict, list)) for v in data):
            out.append("- " + " ".join(_sentence(v) for v in data))
        else:
            for value in data:
                _flatten_json(value, out)
    else:
        out.append("- " + _sentence(data))


def _object_sentences(scalars: dict) -> list[str]:
    """One object's ``key: value`` sentences. Its title and its location make one lead
    sentence, the item's subject ("Title: Shared dict mutated …; Location:
    PaymentProcessor.batch_payments."), so each explanation under it is read at that place."""
    def key(k) -> str:
        return f"{str(k)[:1].upper()}{str(k)[1:]}"
    one_line = {k: v for k, v in scalars.items() if "\n" not in str(v).strip()}
    places = [k for k in one_line if str(k).lower() in _PLACE_KEYS]
    title = next((k for k in one_line if str(k).lower() not in _PLACE_KEYS + _MINOR_KEYS), None)
    lead = ([title] if title is not None else []) + places
    head = "; ".join(f"{key(k)}: {str(scalars[k]).strip().rstrip('.')}" for k in lead)
    rest = [f"{key(k)}:\n```\n{str(v).strip()}\n```\n" if is_code_line(k, v) else f"{key(k)}: {_sentence(v)}"
            for k, v in scalars.items() if k not in lead]
    return ([head + "."] if head else []) + rest


def _sentence(value) -> str:
    text = str(value).strip()
    if "\n" in text:  # code inside a JSON string stays code
        return "\n```\n" + text + "\n```\n"
    return text if text.endswith((".", "!", "?")) else text + "."
