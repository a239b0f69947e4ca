"""Finding rules: a check passes when the answer asserts a mechanism at its place.

A ``Finding`` names where a defect lives (``places``), what makes it a defect
(``mechanisms``), code that can only be its fix (``fixes``), the decoys
(``wrong_places``: correct helpers and look-alike functions; ``wrong_mechanisms``:
the right place blamed for the wrong reason) and what denies it (``denials``).
Patterns are given as a mapping ``{name: regex}`` (the name appears in the
evidence) or as a sequence (the matched text stands for the name).

``evaluate`` grades one check in a fixed order (docs/checks.md):

1. every prose unit already carries its act (``grading.acts``): only an
   *assertion* supplies a finding; concrete *advice* supplies at most a fix, vague
   advice ("make sure …", "should follow best practices") nothing; text copied from
   the prompt nothing;
2. a *denial* of the defect (check-specific, or a generic "is fine" / "harmless"
   that names the place) vetoes the check for that place in the whole answer; only
   a later *assertion* of the defect retracts it. A fix never does: "X is fine" then,
   a paragraph later, code that changes X, fails ("identifies … and fixes" needs the
   identification, and the answer denied it);
3. a mechanism counts only for the place its own sentence, its list item, its
   section heading or (for "It …", "This …") the sentence before names: a place
   elsewhere in the paragraph does not lend itself, and a sentence whose bound
   places are only wrong places is a wrong-place miss.

The ``Verdict`` says which rule decided (``kind``) and quotes the unit.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence, Union

from llmbench.grading.acts import (
    ADVICE,
    QUOTE,
    asserted_part,
    clause_breaks,
    clauses,
    is_soft,
    is_unsettled,
    is_vague,
    unsupposed_part,
)
from llmbench.grading.check import Verdict
from llmbench.grading.parsed_answer import Answer, Unit

Patterns = Union[Mapping[str, str], Sequence[str]]

# Sentence-level denials that apply to every check: they veto a check only when the
# same sentence names one of its places.
GENERIC_DENIALS = {
    "no issue": r"\bno (?:\w+[ -]){0,3}(?:issues?|problems?|risks?|bugs?|vulnerabilit\w*|concerns?)\b",
    "is fine": r"\b(?:is|are|looks?|seems?|it'?s|that'?s|this is|remains?) (?:already |perfectly |completely |entirely |actually |really )?(?:fine|correct|safe|ok(?:ay)?|secure|sound|consistent(?! with)|handled(?! (?:as|by|with|in|via|through|using|inside|from|on)\b))\b",
    "not an issue": r"\b(?:not|isn['’]?t|aren['’]?t|(?:can(?:no|['’])t|cannot|couldn['’]t) (?:possibly |really )?be) (?:itself |in itself |by itself |actually |really )?(?:a|an|really an?|the) (?:real )?"
                    r"(?:issue|problem|concern|bug|vulnerability|risk|culprit|leak|cause|source)\b",
    "correctly handled": r"\b(?:correctly|properly|already|safely) (?:\w+ ){0,2}(?:revers|handl|pars|validat|parameteri[sz]|lock|bound|prun|us|read|stor|creat)\w*",
    "not vulnerable": r"(?:\bnot|n['’]t) (?:vulnerable|affected|susceptible|exploitable)\b",
    "no need": r"\b(?:there is|there'?s) no (?:need|reason)\b",
    "false positive": r"\bfalse positive\b",
    # "The memory growth is not coming from `recent_shares`"
    # (not "It does not come from the config": a value not read from where it should be is the defect)
    "not its source": r"\b(?:is|are|was|were|does|do)(?: not|n't) (?:really |actually )?(?:coming|come|caused|originating|stemming) (?:from|by)\b"
                      r"(?! (?:the |your |its |any )?`?(?:config\w*|settings?|json|pool_config\w*|configuration file)\b)"
                      r"|\b(?:is|are|was|were)(?: not|n't) (?:really |actually )?what (?:causes|caused|explains|makes|made|drives)\b"
                      # "on closer inspection that is not what's causing the duplicates"
                      r"|\b(?:is|are|was|were)(?: not|n't) (?:really |actually )?what(?:['’]s| is) (?:causing|behind|driving)\b",
    "nothing wrong": r"\bnothing (?:wrong|to fix)\b",
    # "The listener itself is a standard SUB loop" (not "a standard check-then-act race")
    "a standard one": r"\b(?:is|looks like) (?:just |simply )?(?:a|an) (?:standard|ordinary|normal|conventional|regular|plain)\b"
                      r"(?! (?:[\w-]+ ){0,2}(?:race|bug|mistake|pitfall|problem|issue|leak|error|toctou|injection|"
                      r"vulnerabilit\w*|defect|flaw|case|example|symptom|failure|crash)\b)",
    # "that's the correct behaviour and no change is needed there"
    "no change needed": r"\bno (?:code )?changes? (?:is |are )?(?:needed|required|necessary)\b"
                        r"|\b(?:can|should|may) (?:stay|remain|be left|be kept) (?:as (?:they|it) (?:are|is)|unchanged|untouched|as[- ]is)\b"
                        # "I would leave it as is", "leave the query as it is"
                        r"|\b(?:i would|i'd|i will|we can|you can|just|so) leave (?:it|this|that|them|the \w+) (?:as (?:it|they) (?:is|are)|as[- ]is|alone|unchanged|untouched)\b"
                        # "I'm leaving `calculate_fee` as it is"
                        r"|\b(?:i'?m|i am|we'?re|we are) leaving (?:it|this|that|them|the \w+|`[^`\n]+`) (?:as (?:it|they) (?:is|are)|as[- ]is|alone|unchanged|untouched)\b",
    "intended behaviour": r"\b(?:is|are|that'?s|it'?s) (?:the |exactly the )?(?:correct|intended|expected|desired|right) behaviou?r\b",
    # a table row's verdict cell: "| `self.share_window = 10000` | ✅ OK | Just an upper bound …"
    "marked OK": r"\|\s*(?:[✅✔☑]\ufe0f?\s*)?\**(?:ok(?:ay)?|fine|correct|no issue|not a bug)\**\s*(?:\||$)",
    # ("That's just leftover dead code and harmless")
    # ("validating against `self.current_job` is intended"; not "is intended to protect …")
    "harmless or redundant": r"\b(?:is|are|it'?s|that'?s) (?:\w+ )?(?:redundant|harmless|unnecessary|benign|intentional|deliberate|by design|intended(?! to\b| for\b| as\b))\b"
                             r"|\b(?:is|are|it'?s|that'?s) (?:\w+ ){0,3}(?:dead|leftover|unused|stale) (?:\w+ ){0,2}and (?:entirely |completely |otherwise )?(?:harmless|benign)\b",
}

# Statements about the corrected code ("with this fix there is no race") deny nothing.
_ABOUT_THE_FIX = re.compile(
    # ("for now", "right now" are about the program as it stands)
    r"\b(?:(?<!for )(?<!right )(?<!until )(?<!by )now|no longer|after (?:the|this|that|these) (?:fix|fixes|change|changes|patch)|"
    r"with (?:this|the|that|these) (?:fix|fixes|change|changes|patch|lock|version|claim|code|guard)|"
    r"once (?:fixed|patched|this|that)|this way(?! is)|fixed (?:version|code)|corrected (?:code|version)|the fix\b|"
    # ("The `UPDATE`s in Bug 2's code already use `?`": the answer's own code for that bug)
    r"(?:bug|fix|issue|finding|step|item|point) ?#?\d+['’]s (?:code|fix|change|patch)|"
    # a changelog line: "reversal added for the previous block hash"
    r"(?<!\bis )(?<!\bare )(?<!\bnot )\badded (?:for|to|in|around|before|after)\b|"
    # ("becomes" only for what a change makes of the code: "the block becomes public" is a fact)
    r"will (?:be|not|never)|won'?t|can no longer|cannot happen any ?more|(?:now|then) becomes?|"
    r"becomes? (?:atomic|safe|thread-safe|bounded|exact|correct|impossible|a no-op|idempotent))\b",
    re.IGNORECASE)

# a comment in the answer's code that notes what the change took out: "# window_size removed (unused)"
_REMOVAL_NOTE = re.compile(r"^\s*#\s*(?:`?[\w.]+(?:\(\))?`?\s+)?(?:removed|deleted|dropped)\b", re.IGNORECASE)

# a sentence that opens on the change speaks of the changed code throughout: "With this, the
# socket is only closed after the listener thread has exited, so it is never used by two threads"
_FIX_LEAD = re.compile(r"^\W*(?:with|after) (?:this|these|that|those)(?: (?:fix|fixes|change|changes|patch|edit|edits)| in place)?\s*,",
                       re.IGNORECASE)

# A checklist item: code names as a label, then advice ("- `start()`: verify …",
# "**`calculate_fee`** – beware of …"). Advice about a function is not a finding in it,
# unless the advice itself quotes code ("avoid hard-coding `share_window = 10000`").
LABELLED_ADVICE = (
    r"^[-*•\d.)\s]*(?:`[^`]+`|[\w.]+\(\))(?:\s*(?:/|,|&|and)\s*(?:`[^`]+`|[\w.]+\(\)))*\s*(?::|–|—|-{1,2})\s*"
    r"(?:consider|beware|avoid|check|verify|review|validate|be (?:careful|aware|mindful)|watch|think about|improve|look (?:into|at|for|out))\b",
)

# A sentence that only recommends looking for something.
HEDGES = (
    r"^(?:[-*•\d.)\s]*)(?:consider|check(?:ing)? (?:for|whether|if)|look(?:ing)? (?:for|out)|watch (?:for|out)|be (?:careful|aware|mindful)|make sure|ensure|verify|review|audit|think about|keep in mind|you (?:may|might|should|could) (?:want|need) to|it (?:may|might) be (?:worth|good))\b",
    r"\b(?:common|typical|general|potential|possible) (?:issues|problems|pitfalls|bugs|vulnerabilities|concerns|categories|areas)\b",
)


# What turns a description of the code into a finding: a word that says something is
# wrong, a contrast ("created in __init__ *but* read in _listen") or a consequence. A
# descriptive mechanism ("the socket is created in __init__ and read in _listen") counts
# only with one of these in its own sentence or in what it is bound to (heading, item).
DEFECT_CUES = re.compile(
    r"\b(?:bugs?|buggy|problem\w*|issues?|wrong|incorrect\w*|unsafe|not (?:\w+ )?(?:thread[- ]?)?safe|"
    r"thread[- ]?unsafe|crash\w*|abort\w*|assert\w*|race\w*|violat\w*|broken|breaks?|undefined|illegal|"
    r"forbidden|not allowed|must(?:n'?t| not| only| always)|should(?:n'?t| not)|never|cannot|can'?t|fails?|failure|"
    r"corrupt\w*|defect\w*|culprit|root cause|caus\w+|leads? to|results? in|responsible|dangerous|"
    r"invalid|mistake|flaw\w*|but|however|yet|whereas|although|even though|instead of|despite|"
    r"→|->|therefore|which (?:is|means|explains) (?:why|that)|that'?s why|hence|exceed\w*|oversized|too (?:large|big|long))\b|[→⚠❌🔴🟠]",
    re.IGNORECASE)


def any_of(*patterns: str) -> str:
    return "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")"


def all_of(*patterns: str) -> str:
    """One regex that matches when every pattern occurs somewhere in the text.

    Anchored at the start of the text: unanchored, ``search`` would retry the lookaheads
    from every position (quadratic on text with no match, cubic when nested).
    """
    return r"\A" + "".join(f"(?=[\\s\\S]*?(?:{p}))" for p in patterns)


@dataclass(frozen=True)
class Rule:
    """A named pattern: the name is what the evidence reports."""
    name: str
    pattern: re.Pattern

    def search(self, text: str) -> re.Match | None:
        return self.pattern.search(text)

    def label(self, match: re.Match) -> str:
        return self.name or _clip(match.group(0).strip(), 40) or "an unnamed all_of pattern"


def _rules(patterns: Patterns | Iterable[str]) -> tuple[Rule, ...]:
    items = patterns.items() if isinstance(patterns, Mapping) else (("", p) for p in patterns)
    return tuple(Rule(name, re.compile(p, re.IGNORECASE)) for name, p in items)


def _values(patterns: Patterns) -> tuple[str, ...]:
    return tuple(patterns.values()) if isinstance(patterns, Mapping) else tuple(patterns)


@dataclass(frozen=True)
class Finding:
    places: Patterns                      # where the defect lives
    mechanisms: Patterns = ()             # why it is wrong (use all_of for conjunctions)
    fixes: Patterns = ()                  # novel code (or inline code) that can only be the fix
    fix_places: Patterns = ()             # enclosing functions where a fix may sit (default: places)
    wrong_places: Patterns = ()           # decoys: a sentence bound only to these is a wrong-place miss
    wrong_mechanisms: Patterns = ()       # the right place blamed for the wrong reason (sentence-level miss)
    denials: Patterns = ()                # deny this defect: veto the check (see evaluate), on top of GENERIC_DENIALS
    denial_places: Patterns = ()          # names a generic denial ("… is fine") must carry to deny this defect (default: places)
    advice: Patterns = ()                 # check-specific requests ("check whether …"): never a finding
    fix_needs_place: bool = True          # a fix line must sit in a matching def (or near a place mention)
    span: int = 1                         # also match mechanisms over up to `span` consecutive sentences of a block
    weak_places: Patterns = ()            # places too generic to beat a wrong place named in the same sentence
    not_fixes: Patterns = ()              # units matching a fix pattern that are still no fix ("round more carefully")
    removals: Patterns = ()               # old lines whose explicit deletion (a diff's "-" line, in fix_places) is the fix
    descriptive: bool = False             # the mechanism also describes working code: it needs a defect cue (DEFECT_CUES)
    broken_fixes: Patterns = ()           # the fix done wrong in code ("address = %s" in sqlite3): the prose fix, and its block's code, mean that
    decoy_blame_voids_fix: bool = False  # a one-place defect: a fix beside the mechanism blamed on a decoy fixes that decoy
    shared_fixes: Patterns = ()           # fix text other checks' fixes write too: this fix only beside an asserted finding
    shared_fix_places: Patterns = ()      # ... and only when an asserted finding names one of these (the shared fix's statement)
    subject_parts: Patterns = ()          # the parts of a place this defect is about: a denial of another part denies nothing here
    unsettled_mechanisms: tuple[str, ...] = ()  # names of mechanisms a wrong one in the same paragraph or section settles
    # The patterns above, compiled once in __post_init__.
    _places: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _strong: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _weak: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _not_fixes: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _removals: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _mechanisms: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _fixes: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _fix_places: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _wrong: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _wrong_mechanisms: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _own_denials: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _denial_places: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _advice: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _broken: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _shared: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _shared_places: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _subject_parts: tuple[Rule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = {
            "_places": _rules(_values(self.places) + _values(self.weak_places)),
            "_strong": _rules(self.places),
            "_weak": _rules(self.weak_places),
            "_not_fixes": _rules(self.not_fixes),
            "_removals": _rules(self.removals),
            "_mechanisms": _rules(self.mechanisms),
            "_fixes": _rules(self.fixes),
            "_fix_places": _rules(self.fix_places or self.places),
            "_wrong": _rules(self.wrong_places),
            "_wrong_mechanisms": _rules(self.wrong_mechanisms),
            "_own_denials": _rules(self.denials),
            "_denial_places": _rules(self.denial_places or (_values(self.places) + _values(self.weak_places))),
            "_advice": _rules(self.advice),
            "_broken": _rules(self.broken_fixes),
            "_shared": _rules(self.shared_fixes),
            "_shared_places": _rules(self.shared_fix_places),
            "_subject_parts": _rules(self.subject_parts),
        }
        for name, value in compiled.items():
            object.__setattr__(self, name, value)


_GENERIC_DENIALS = _rules(GENERIC_DENIALS)
_HEDGES = _rules(HEDGES)
_LABELLED_ADVICE = _rules(LABELLED_ADVICE)


def _labelled_advice(text: str) -> bool:
    found = _search(_LABELLED_ADVICE, text)
    return found is not None and "`" not in text[found[1].end():]


@dataclass
class Hit:
    unit: Unit
    place: str           # the text that showed the place
    kind: str            # "finding" | "fix"
    rule: str = ""       # the pattern that matched, by name

    def evidence(self) -> str:
        text = _clip(self.unit.text.strip())
        where = "" if self.place in (None, "") else f" + place `{self.place}`"
        return f"{self.kind}: {self.rule}{where} at «{text}»"


@dataclass
class Miss:
    unit: Unit
    reason: str
    kind: str = "missing"  # denial | advice | wrong_place | wrong_mechanism | echo | missing

    def evidence(self) -> str:
        return f"{self.reason}: «{_clip(self.unit.text.strip())}»"


@dataclass
class Denial:
    unit: Unit
    rule: str
    places: frozenset[str]   # the strong places it names; empty: it denies the defect wherever it is

    def covers(self, places: Iterable[str]) -> bool:
        return not self.places or bool(self.places & set(places))

    def evidence(self) -> str:
        return f"denial `{self.rule}` at «{_clip(self.unit.text.strip())}»"


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _search(rules: Sequence[Rule], text: str) -> tuple[Rule, re.Match] | None:
    for rule in rules:
        match = rule.search(text)
        if match:
            return rule, match
    return None


def _blanked(rules: Sequence[Rule], text: str) -> str:
    """``text`` with every match of ``rules`` blanked out."""
    for rule in rules:
        text = rule.pattern.sub(" ", text)
    return text


def _name(found: tuple[Rule, re.Match] | None) -> str:
    return f"`{found[0].label(found[1])}`" if found is not None else "``"  # callers pass a match they found


def _place_key(text: str) -> str:
    # one key per place: "`self.socket`", "the SUB socket" and "socket" are the same place
    key = re.sub(r"^self\.|\(\)$|[`'\"]", "", text.strip().lower())
    return re.sub(r"^(?:the |zmq |zeromq |sub(?:scriber)? )+(?=socket\b)", "", key)


def _place_in(finding: Finding, units: Iterable[Unit]) -> str | None:
    for unit in units:
        found = _search(finding._places, unit.text)
        if found:
            return found[1].group(0)
        if unit.kind == "code" and unit.func and _search(finding._places, unit.func):
            return unit.func
    return None


def _strong_places(finding: Finding, units: Iterable[Unit]) -> frozenset[str]:
    """Every strong place the units name (functions of code lines included)."""
    keys: set[str] = set()
    for unit in units:
        for text in (unit.text, unit.func or ""):
            for rule in finding._strong:
                keys.update(_place_key(m.group(0)) for m in rule.pattern.finditer(text) if m.group(0).strip())
    return frozenset(keys)


def _is_comment(unit: Unit) -> bool:
    return unit.kind == "code" and unit.text.lstrip().startswith("#")


def _windows(answer: Answer, span: int) -> list[Unit]:
    """Consecutive sentences (or comment lines) of one block joined, for findings split across them.

    A window is novel only when every part is; it asserts when any part does (a request
    followed by its reason is still a finding only through the reason).
    """
    windows: list[Unit] = []
    units = answer.units
    for start in range(len(units)):
        first = units[start]
        if first.kind != "prose" and not _is_comment(first):
            continue
        parts = [first]
        for nxt in units[start + 1: start + span]:
            if nxt.block != first.block or (nxt.kind == "prose") != (first.kind == "prose") or (nxt.kind == "code" and not _is_comment(nxt)):
                break
            parts.append(nxt)
            text = " ".join([parts[0].text.strip()] + [p.text.strip().lstrip("#").strip() for p in parts[1:]])
            window = Unit(text, first.kind, first.block, first.section, all(p.novel for p in parts),
                          func=first.func, label=first.label, item=first.item, parts=tuple(parts))
            window.index = parts[-1].index
            prose = [p for p in parts if p.kind != "code"]
            window.act = ("assertion" if any(p.act == "assertion" for p in prose)
                          else prose[0].act if prose else "assertion")
            window.vague = any(p.vague for p in prose)
            window.soft = any(p.soft for p in prose)
            windows.append(window)
    return windows


# Emphasis asterisks around words ("*not* thread safe", "**Fix:** move …"); a spaced
# "a * b" (multiplication in inline code) is kept.
_EMPHASIS = re.compile(r"(?<![\w*])\*{1,3}(?=[^\s*])|(?<=[^\s*])\*{1,3}(?![\w*])")


def _statement(answer: Answer, unit: Unit) -> str:
    """A code line with the lines its open brackets continue onto (a call's arguments on
    the next lines decide what it logs or binds); prose as it is."""
    if unit.kind != "code":
        return _plain(unit)
    lines, depth = [unit.text], 0
    for following in answer.units[unit.index + 1:unit.index + 12]:
        depth += sum(lines[-1].count(c) for c in "([{") - sum(lines[-1].count(c) for c in ")]}")
        if depth <= 0 or following.kind != "code" or following.block != unit.block:
            break
        lines.append(following.text)
    return "\n".join(lines)


def _plain(unit: Unit) -> str:
    """The text rules match against: prose loses its emphasis markers, code is untouched."""
    return unit.text if unit.kind == "code" else _EMPHASIS.sub("", unit.text)


# A sentence that takes back the denial just before it: "But it isn't fine", "Actually,
# that is wrong", "Not so:" (its subject is the denial's, by pronoun or contrast).
_RETRACTION = re.compile(
    r"^[\W\d]*(?:(?:but|however|actually|in fact|no|wrong)\b[\s,:—–-]*)?(?:it|this|that|they|which|nope)?\s*"
    r"(?:is|are|was|'s|'re)?\s*(?:n'?t|not|no longer|anything but)\s+(?:\w+\s+){0,2}?"
    r"(?:fine|ok(?:ay)?|safe|correct|right|harmless|true|the case|so)\b"
    r"|^\W*(?:but|however|actually)\b[^.]{0,20}\b(?:it|this|that)\s+(?:is|'s)\s+(?:wrong|a bug|broken|not)\b",
    re.IGNORECASE)


_PRONOUN_DENIAL = re.compile(r"^(?:\W*\d+[.)])?\W*(?:this|that|it|which)\b(?!\s+(?:is|'s)\s+(?:why|because|what))", re.IGNORECASE)
# what opens a second look at the sentence before: "Correction — looking closer, it isn't exploitable"
_SECOND_LOOK = re.compile(
    r"^\W*(?:(?:however|but|actually)\b[\s,]*(?=(?:on|upon|after|with|looking|having)\b))?"
    r"(?:(?:correction|update|edit|wait|hmm+)\b(?: (?:after|on|upon) re-?(?:reading|checking|inspection))?[\s:,.!—–*-]*)?"
    r"(?:(?:on|upon|after|with|looking|having (?:looked|had)) (?:a |another )?(?:closer|second|further|more careful) (?:look|thought|inspection|reading)?"
    r"|looking (?:closer|again|more (?:closely|carefully))|on reflection|on second thought"
    r"|(?:on|upon|after) re-?(?:reading|checking|inspect\w*)(?: (?:the|this|that) \w+)?)?[\s:,—–-]*"
    r"(?:(?<=[\s,])(?:though|however)\b[\s,]*)?(?=[\w`])", re.IGNORECASE)


# "At first I thought `self.share_window = 10000` was just a sensible default …, but it isn't: …"
_TAKEN_BACK = re.compile(r"^\W*(?:it|this|that|they)\s+(?:isn'?t|is not|wasn'?t|was not|aren'?t|are not)\W*$", re.IGNORECASE)


# a heading over what the corrected program does: "### Why this fixes both symptoms"
_FIX_HEADING = re.compile(r"\bwhy (?:this|the|these|my) (?:fix|fixes|change|changes|patch)\b|\bwhy (?:this|it) works\b"
                          r"|\bhow (?:this|the) (?:fix|change) (?:works|helps)\b|\bafter (?:the|this|these) (?:fix|fixes|changes?)\b"
                          r"|\bwhat (?:the|this) (?:fix|change) (?:does|changes)\b"
                          # "## Changes" over what each function now does
                          r"|^\W*(?:summary of )?(?:the )?(?:changes(?: made)?|what (?:i )?changed)\W*$", re.IGNORECASE)


def _under_fix_heading(answer: Answer, unit: Unit) -> bool:
    """Whether the unit sits under a heading about what the fix does: what it says of the
    program is said of the corrected one."""
    # (the nearest heading above: a list item under it opens a section of its own)
    heading = next((u for u in reversed(answer.units[:unit.index]) if u.kind == "heading" and u.text.lstrip().startswith("#")), None)
    return heading is not None and bool(_FIX_HEADING.search(_plain(heading)))


def _looked_again_at(answer: Answer, finding: Finding, unit: Unit) -> frozenset[str]:
    """The places a second look (``unit``) is at: the sentence before it in its section, and
    what its section's heading names."""
    before = answer.units[unit.index - 1] if unit.index > 0 else None
    if before is None or before.kind != "prose" or before.section != unit.section:
        return frozenset()
    return _strong_places(finding, [before]) | _strong_places(
        finding, [u for u in answer.units[:unit.index] if u.section == unit.section and u.kind == "heading"])


def _retracted_next(answer: Answer, unit: Unit) -> bool:
    """Whether the next sentence or two take this denial back, or a later clause of its own
    sentence does."""
    following = [u for u in answer.units[unit.index + 1:unit.index + 3] if u.kind != "code"]
    return (any(_RETRACTION.search(_plain(u)) for u in following)
            or unit.kind != "code" and _taken_back_within(_plain(unit)))


def _taken_back_within(text: str) -> bool:
    return any(_TAKEN_BACK.match(c) for c in clauses(text)[1:])


def find_denials(answer: Answer, finding: Finding) -> list[Denial]:
    """The answer's statements that this defect is absent, harmless or intended, in order;
    a denial the next sentence takes back ("But it isn't fine: …") is none."""
    denials: list[Denial] = []
    for unit in answer.units:
        if _retracted_next(answer, unit):
            continue
        if unit.kind == "code" or not unit.novel or unit.act == ADVICE:
            continue
        if _RETRACTION.search(_plain(unit)):
            continue   # "But it isn't harmless: …" takes a denial back, it makes none
        if _under_fix_heading(answer, unit):
            continue   # "### Why this fixes both symptoms" / "1. No more SIGABRT: the main thread never touches the socket"
        # "(sharing the Context is OK)" denies nothing of the socket; a paragraph of its own in
        # parentheses is no aside: "(Creating and connecting the socket in `__init__`/`start()`
        # is fine, by the way — …)" says it
        text = _without_asides(_unbracketed(answer, unit))
        if _ABOUT_THE_FIX.search(text):
            # what the program does after the change denies nothing; the other clauses may
            # ("This is harmless dead code…; I removed it in the fix below")
            text = ", ".join(c for c in clauses(text) if not _ABOUT_THE_FIX.search(c))
            if not text:
                continue
        if _second_look_end(text) is not None and (subject := _EXPLAINED_SUBJECT.search(text)) \
                and not _own_name(finding, subject.group(1)) \
                and (contrast := _CONTRAST.search(text, subject.end())) and _own_name_in(finding, text[contrast.end():]):
            # "On closer inspection, though, this is not actually a bug: `window_size` is the
            # difficulty-based N, while `share_window` is …": the look is at what the explanation
            # opens on, and this defect's place is only set against it (not "it isn't
            # exploitable: `execute()` only runs a single statement", which explains the look)
            continue
        own = _search(finding._own_denials, text)
        if own:
            places = _denied_places(finding, text)
            if not places and _second_look_end(text) is not None:
                # "On closer inspection, though, it is not exploitable: … `limit` goes through
                # `int()`": the pronoun is what the sentence before flagged, whatever else it names
                places = _looked_again_at(answer, finding, unit)
            if not places and (_search(finding._wrong, text) or _names_other_code(finding, text)):
                # "`process_pending_payments()` … hands them out, which is the intended design",
                # "_connect opens one connection per call, which is the right pattern": about the
                # other code it names, not this defect wherever it is
                continue
            denials.append(Denial(unit, own[0].label(own[1]), places))
            continue
        generic = _generic_denial(finding, text)
        if generic and not _search(finding._wrong, text) and not _search(finding._wrong_mechanisms, text):
            denials.append(Denial(unit, generic, _strong_places(finding, [unit])))
            continue
        before = answer.units[unit.index - 1] if unit.index > 0 else None
        second_look = _second_look_end(text)
        if before is not None and before.kind == "code" and second_look is not None:
            # "I first flagged this line: ```…``` On a second look this isn't actually a bug":
            # the look is at the sentence that showed the code
            before = next((u for u in reversed(answer.units[:before.index])
                           if u.kind != "code" and u.section == unit.section), before)
        # "`self.share_window = 10000` is a magic number. Hard-coding the window is fine for
        # now": the defect's own mechanism is the subject of the denial, at the place this
        # sentence or the one before names
        said = _mechanism_denied(finding, text)
        if said:
            places = _strong_places(finding, [unit])
            if not places and before is not None and _follows(before, unit) and not _wrong_subject(finding, before):
                places = _strong_places(finding, [before])
            after = answer.units[unit.index + 1] if unit.index + 1 < len(answer.units) else None
            if not places and after is not None and after.block == unit.block and not _wrong_subject(finding, after):
                # "Float precision isn't the problem here. `calculate_fee()` rounds to 8 decimals, …"
                places = _strong_places(finding, [after])
            if places:
                denials.append(Denial(unit, said, places))
                continue
        # "On reflection, point 1 on its own is harmless": the numbered finding it names
        pointed = _pointed_places(answer, finding, text)
        if pointed:
            denials.append(Denial(unit, pointed[0], pointed[1]))
            continue
        # "window_size is computed but never used. This is harmless leftover code.": the
        # pronoun's subject is the sentence before
        looked_again = second_look is not None
        if second_look is not None:
            # a second look is at the paragraph before, not only its own ("… so the visitor can
            # inject SQL. ¶ Correction — looking closer, it isn't exploitable")
            text = text[second_look:]
        if looked_again and before is not None and _BARE_LABEL.match(before.text) and before.index > 0:
            # "**Correction.** On closer inspection this is not a bug": the look is at the
            # paragraph before the label
            before = answer.units[before.index - 1]
        if before is not None and (_follows(before, unit) or looked_again and before.kind == "prose"
                                   and before.section == unit.section) and _PRONOUN_DENIAL.match(text):
            looked_at_mechanism = False
            if looked_again:
                # the look is at the sentence before, or at the whole paragraph before its own
                # (the place may be in that paragraph's first sentence)
                looked_at = [before] if before.block == unit.block else [
                    u for u in answer.units[:before.index + 1] if u.block == before.block and u.kind == "prose"]
                looked_at_mechanism = bool(_search(finding._mechanisms, " ".join(_plain(u) for u in looked_at)))
                # (a look at another defect: "At first I thought `_build_header` had an endianness
                # bug: `previousblockhash` is taken with `bytes.fromhex(...)` …" names the input's
                # parser on the way, it flags no input defect)
                places = _strong_places(finding, looked_at) if looked_at_mechanism else frozenset()
                # (and at what its section's heading names: "**4. SQL injection in `get_payment_history`**")
                places |= _strong_places(finding, [u for u in answer.units[:unit.index]
                                                   if u.section == unit.section and u.kind == "heading"])
            else:
                places = _strong_places(finding, [before])
            prior = answer.units[before.index - 1] if before.index > 0 else None
            if not places and prior is not None and _follows(prior, before) and _PRONOUN_SUBJECT.match(_plain(before)):
                # "`calculate_payouts` computes `window_size` … It is not used by the query. This is
                # harmless": the pronoun before it names what the sentence before that did
                places = _strong_places(finding, [prior])
            first = clauses(text)[0]
            found = _search(_GENERIC_DENIALS, first)
            # "It calls `context.term()`, which is safe from any thread": what is called safe
            # is the code named on the way, not the pronoun's subject
            # (a look at a paragraph that states this defect without naming a strong place denies
            # it wherever it is: "… *would* be a classic check-then-act race. ¶ On closer
            # inspection, this is not a real problem here.")
            if (places or looked_at_mechanism) and found and not _wrong_subject(finding, before) \
                    and not _other_subject(finding, first[:found[1].start()]):
                denials.append(Denial(unit, found[0].label(found[1]), places))
    return denials


# a bold lead on its own: "**Correction.**", "**Update:**"
_BARE_LABEL = re.compile(r"^\s*(?:\*\*|__)[^*_`\n]{1,30}(?:\*\*|__)\s*$")


_POINT = re.compile(r"\b(?:point|item|finding|issue|bug|problem|defect|number|#)\s*(\d+)\b", re.IGNORECASE)


def _pointed_places(answer: Answer, finding: Finding, text: str) -> tuple[str, frozenset[str]] | None:
    """(the denial, the places) of a generic denial of a numbered finding ("point 1 on its own is
    harmless"): the places that finding's item names."""
    point = _POINT.search(text)
    found = _search(_GENERIC_DENIALS, text[point.end():]) if point else None
    if not point or not found:
        return None
    lead = re.compile(rf"^[\W_]*(?:#+\s*)?(?:\*\*)?(?:bug|issue|finding|point|defect|problem)?\s*{point.group(1)}\s*[.):—–-]", re.IGNORECASE)
    item = next((u for u in answer.units if u.kind != "code" and lead.match(u.text.strip())), None)
    if item is None:
        return None
    places = _strong_places(finding, [u for u in answer.block_units(item.block) if u.kind != "code"])
    return (found[0].label(found[1]), places) if places else None


def _follows(before: Unit, unit: Unit) -> bool:
    """Whether ``unit`` goes on from ``before``: the next sentence of its paragraph or list
    item, or the next item of the same list ("* The socket is created in `__init__` …
    * That hand-off is fine: …"; each top-level item opens a section of its own, and a
    heading between the two would take a block of its own)."""
    return before.block == unit.block or (before.item and unit.item and unit.section - before.section in (0, 1)
                                           and before.kind == unit.kind == "prose" and before.block + 1 == unit.block)


_NAMED_CODE = re.compile(r"`[^`\n]+`|(?<![\w.])_\w+|\b[A-Za-z]\w*_\w*(?:\(\))?|\b\w+\(\)")   # (a JSON answer loses its backticks)


def _names_other_code(finding: Finding, text: str) -> bool:
    """The sentence names code, and none of it is one of the check's places."""
    names = _NAMED_CODE.findall(text)
    return bool(names) and not any(_own_name(finding, n) for n in names)


def _denied_places(finding: Finding, text: str) -> frozenset[str]:
    """The places a check's own denial is about: those of its clause, or of the clause just before
    ("`payout_id` comes from our own table, so that one is not exploitable"). None named: the
    denial is about the defect wherever it is ("the f-string queries are not injectable")."""
    parts = clauses(text)
    for i, clause in enumerate(parts):
        if _search(finding._own_denials, clause):
            for candidate in (clause, parts[i - 1] if i else ""):
                places = _strong_places(finding, [Unit(candidate, "prose", -1, -1, True)])
                if places:
                    return places
            return frozenset()
    return _strong_places(finding, [Unit(text, "prose", -1, -1, True)])


# between a place and a denial: a parenthesis or phrase opening on a new subject
_NEW_SUBJECT = re.compile(r"\(\s*(?:only|but|except)\b|\bonly the\b")


_POSSESSED = re.compile(r"^'s\s+(.+)", re.DOTALL)
_CALLED = re.compile(r"\w\(")
_TIMED_BY = re.compile(r"\b(?:before|after|until|prior to|once)\s+`?$", re.IGNORECASE)


def _other_subject(finding: Finding, between: str) -> bool:
    """Whether the words between a place and a denial bring in another subject: "each
    socket must belong to one thread (only the `zmq.Context` is safe to share)"."""
    if _NEW_SUBJECT.search(between):
        return True
    possessed = _POSSESSED.match(between.lstrip("`"))
    if possessed and (_CALLED.search(possessed.group(1)) or _names_other_code(finding, possessed.group(1))):
        # "get_payment_history's int(limit) cast is correct": a part of the place is the subject
        return True
    # (the place's own closing backtick may open the words between: skip it, or the prose up
    # to the next code span would read as code)
    # (a thread's name, "the `zmq-listener` thread", is no code subject: names have no hyphen)
    return any(not _search(finding._denial_places, span) and "-" not in span
               for span in re.findall(r"`[^`]+`", between.lstrip("`")))


def _earliest(rules: Sequence[Rule], text: str) -> tuple[Rule, re.Match] | None:
    """The match of ``rules`` that starts first in ``text``."""
    hits = [(rule, m) for rule in rules if (m := rule.pattern.search(text))]
    return min(hits, key=lambda hit: hit[1].start()) if hits else None


def _generic_denial(finding: Finding, text: str) -> str | None:
    """A generic denial ("… is fine") whose own clause names this defect's place before it."""
    for clause in clauses(text):
        found = _search(_GENERIC_DENIALS, clause)
        if found:
            # (the place that opens the clause, whichever rule names it: "The float is not what
            # makes the totals drift, and I'm leaving `calculate_fee` as it is")
            place = _earliest(finding._denial_places, clause)
            # the place is the subject of the denial: "`_build_header` is fine", not
            # "each socket must … (only the `zmq.Context` is safe to share)"
            # (a place after "before"/"after" times another subject: "registering callbacks
            # with `on()` before `start()` is fine")
            if place and place[1].start() < found[1].start() and not _other_subject(
                    finding, clause[place[1].end():found[1].start()]) \
                    and not _TIMED_BY.search(clause[:place[1].start()]) \
                    and not _part_of_place(finding, clause[:place[1].start()]):
                return found[0].label(found[1])
            # what the symptom does not come from is named after the denial: "The stale dashboard
            # figure is not coming from `self.share_window`"
            source = _search(finding._denial_places, clause[found[1].end():found[1].end() + 30])
            if found[0].name == "not its source" and source and source[1].start() <= 8:
                return found[0].label(found[1])
    return None


# "The `except` block in `_execute_payment()` is fine": a part of the place is the subject
_PART_OF = re.compile(r"(`[^`]+`[^`]{0,20}?|\b\w+(?:\s+\w+)?)\s+(?:in|of|inside|within)\s+(?:the\s+)?`?$", re.IGNORECASE)


_WHOLE = re.compile(r"^(?:everything|all|(?:the )?(?:rest|code|logic|body|implementation|function|method))$", re.IGNORECASE)


def _part_of_place(finding: Finding, lead: str) -> bool:
    """Whether the words before a denied place name a part of it that is other code than
    this check's places (its `except` block), or, for a check that says what its parts are
    (``subject_parts``), a part that names none of them ("The segwit coinbase
    re-serialization in `_submit_block()` looks correct"): the denial is about that part."""
    part = _PART_OF.search(lead)
    if part is None or _search(finding._denial_places, part.group(1)):
        return False
    if _names_other_code(finding, part.group(1)):
        return True
    return bool(finding._subject_parts) and not _WHOLE.match(part.group(1).strip()) \
        and not _search(finding._subject_parts, lead)


def _mechanism_denied(finding: Finding, text: str) -> str | None:
    """A generic denial whose subject is this defect's mechanism, opening its clause
    ("Hard-coding the window is fine for now")."""
    for clause in clauses(text):
        found = _search(_GENERIC_DENIALS, clause)
        if not found:
            continue
        mechanism = _search(finding._mechanisms, clause[:found[1].start()])
        # (opening its clause, or after a word or two that name no code: "Float precision isn't the problem here")
        lead = clause[:mechanism[1].start()].strip(" *_-") if mechanism else ""
        if mechanism and (not lead or len(lead.split()) <= 2 and "`" not in lead and "_" not in lead) \
                and not _NEW_SUBJECT.search(clause[:found[1].start()]):
            return f"{found[0].label(found[1])} of {mechanism[0].label(mechanism[1])}"
    return None


def _vetoed(denials: Sequence[Denial], index: int, places: Iterable[str]) -> Denial | None:
    """A denial of these places that no later assertion (at ``index``) retracts."""
    places = list(places)
    for denial in denials:
        if denial.unit.index >= index and denial.covers(places):
            return denial
    return None


# what takes a denial back rather than explaining it: "But …", "Actually it is …"
_TAKES_BACK = re.compile(r"^\W*(?:but|however|actually|in fact|that said|still|yet|on the other hand)\b", re.IGNORECASE)


def _explained_denial(denials: Sequence[Denial], unit: Unit) -> Denial | None:
    """A second look earlier in the sentence's own paragraph that the sentence goes on to
    explain ("Correction: this is not actually what causes the duplicates. All workers share
    the same `self.processing` set …, so no other worker … returns the row"): it retracts
    nothing unless it turns against it."""
    if unit.kind != "prose" or _TAKES_BACK.match(_plain(unit)):
        return None
    # (whatever part of the code it names on the way: "Set membership tests and `set.add()`
    # are atomic under CPython's GIL" explains "that is not actually the problem")
    return next((d for d in denials if d.unit.block == unit.block and d.unit.index < unit.index and d.places
                 and _second_look_end(_plain(d.unit)) is not None), None)


# what a denial's explanation after its colon opens on: "…: `window_size` is the difficulty-based N"
_EXPLAINED_SUBJECT = re.compile(r":\s+(`[^`\n]+`)\s+(?:is|are|was|were|only|just)\b")


_CONTRAST = re.compile(r",?\s+(?:while|whereas|but)\s+", re.IGNORECASE)


def _own_name_in(finding: Finding, text: str) -> bool:
    return any(_own_name(finding, name) for name in re.findall(r"`[^`\n]+`", text))


def _second_look_end(text: str) -> int | None:
    """Where the lead of a second look at what came before ends ("Correction after
    re-reading: this is not …"), when the sentence opens one; None otherwise."""
    second_look = _SECOND_LOOK.match(text)
    if second_look is None or second_look.end() == 0 or not _PRONOUN_DENIAL.match(text[second_look.end():]):
        return None
    return second_look.end()


def find_mechanism(answer: Answer, finding: Finding, denials: Sequence[Denial] = (),
                   advice_fixes: bool = False) -> tuple[Hit | None, Miss | None]:
    """The first asserted mechanism at its bound place that no later denial vetoes.

    With ``advice_fixes``, concrete advice that states the mechanism at the place
    ("`_build_header` must byte-reverse previousblockhash") is returned as a fix.
    """
    hit, miss = _find_mechanism(answer, finding, answer.units, denials, advice_fixes)
    if (hit is None or hit.kind == "fix") and finding.span > 1:
        window_hit, window_miss = _find_mechanism(answer, finding, _windows(answer, finding.span), denials, advice_fixes)
        if window_hit is not None and (hit is None or window_hit.kind == "finding"):
            hit = window_hit
        miss = miss or window_miss
    return hit, (None if hit else miss)


def _find_mechanism(answer: Answer, finding: Finding, units: list[Unit], denials: Sequence[Denial],
                    advice_fixes: bool) -> tuple[Hit | None, Miss | None]:
    miss: Miss | None = None
    advised: Hit | None = None
    for unit in units:
        if not finding._mechanisms or unit.kind == "code" and not unit.text.lstrip().startswith("#"):
            continue
        text = _plain(unit)
        found, elsewhere = _mechanism_here(finding, text, answer.functions)
        if not found:
            if elsewhere:
                miss = miss or Miss(unit, f"mechanism {_name(elsewhere[:2])} said of {elsewhere[2]}", "wrong_place")
            continue
        if not unit.novel:
            miss = miss or Miss(unit, "copied from the prompt", "echo")
            continue
        said_parts = unit.parts or (unit,)
        if any(p.act == QUOTE and p.novel for p in said_parts) and not found[0].pattern.search(
                " ".join(_plain(p) for p in said_parts if not (p.act == QUOTE and p.novel))):
            # "I first suspected that `_validate_share` ignores its `job_id` …. However, …"
            miss = miss or Miss(unit, f"mechanism {_name(found)} only in what the answer first supposed", "missing")
            continue
        if unit.parts and any(p.act == ADVICE for p in unit.parts) and not found[0].pattern.search(
                " ".join(_plain(p) for p in unit.parts if p.act != ADVICE)):
            # "… sets the row back to `pending`. Double-check what it returns after bitcoind has
            # already broadcast": the request's words complete no finding
            miss = miss or Miss(unit, f"mechanism {_name(found)} completed only by a request", "advice")
            continue
        said = next((c for c in clauses(text) if found[1].group(0) in c), "")
        if _ABOUT_THE_FIX.search(said) or _FIX_LEAD.match(text) or unit.kind == "code" and _REMOVAL_NOTE.match(unit.text):
            # "the helper now overrides the argument with the configured value": the changed code
            miss = miss or Miss(unit, f"mechanism {_name(found)} said of the fixed code", "missing")
            continue
        bare = _without_asides(text)
        denied = _search(finding._own_denials, bare) or _search(_GENERIC_DENIALS, bare)
        if denied and not _ABOUT_THE_FIX.search(text) and not _taken_back_within(text) and not _RETRACTION.search(text):
            miss = Miss(unit, f"denial {_name(denied)}", "denial")
            continue
        if _FROM_ANOTHER_FINDING.search(text):
            # "The second payment in that incident came from the crashed round described in (1).":
            # the symptom put down to another of the answer's findings
            miss = miss or Miss(unit, f"mechanism {_name(found)} put down to another finding", "wrong_mechanism")
            continue
        steps_of = _steps_named_before(answer, finding, unit)
        if steps_of:
            miss = Miss(unit, f"mechanism {_name(found)} said of the steps the sentence before names at {steps_of}", "wrong_place")
            continue
        there = _there_named_before(answer, finding, unit, text, found[1])
        if there:
            miss = Miss(unit, f"mechanism {_name(found)} said to happen where the sentence before is, at {there}", "wrong_place")
            continue
        wrong_mechanism = _search(finding._wrong_mechanisms, text)
        if wrong_mechanism:
            miss = Miss(unit, f"wrong mechanism {_name(wrong_mechanism)}", "wrong_mechanism")
            continue
        heading_wrong = None if _search(finding._strong, text) else _heading_wrong_mechanism(answer, finding, unit)
        if unit.kind == "heading" and not heading_wrong:
            heading_wrong = _section_wrong_mechanism(answer, finding, unit)
        elif not heading_wrong and _place_in(finding, [unit]) is None:
            # a sentence with no place of its own takes its heading's, and so the wrong mechanism
            # its section explains the heading by ("Bitcoin hashes are displayed in reversed byte
            # order" under "## Previous block hash has the wrong byte order", over the notify helper)
            # (only under a heading that states the finding itself)
            heading = next((u for u in answer.section_heading(unit.section) if u.kind == "heading"), None)
            if heading is not None and heading is not unit and _search(finding._mechanisms, _plain(heading)):
                heading_wrong = _section_wrong_mechanism(answer, finding, heading)
        if not heading_wrong and unit.kind != "heading":
            # an item's lead ("Bug: header prev hash in wrong endianness.") is read with the
            # explanation under it, any other sentence with the one just before it
            heading_wrong = _item_wrong_mechanism(answer, finding, unit)
        if not heading_wrong:
            heading_wrong = _row_section_wrong_mechanism(answer, finding, unit)
        if heading_wrong:
            # "**Bug 1: `window_size` is hard-coded**" … "that window is effectively a fixed number"
            miss = Miss(unit, f"mechanism {_name(found)} beside a heading or section stating wrong mechanism {heading_wrong}", "wrong_mechanism")
            continue
        act, vague = unit.act, unit.vague
        # (a table row's cells are fragments: "validate against `self.current_job`" under
        # "Root cause" describes, it does not ask)
        # (a window is read sentence by sentence: "X comes from `self.share_window`. If it is a
        # fixed literal in your build, it would override your JSON." asserts only the first)
        sentences = [_plain(p) for p in unit.parts] if unit.parts else [text]
        asserted = " ".join(asserted_part(t) for t in sentences)
        if act != ADVICE and " | " not in text and not found[0].pattern.search(asserted):
            # (another of the check's mechanisms may be what the assertion says: "That RPC field
            # is big-endian display hex, while the header must carry …")
            found = _search(finding._mechanisms, asserted) or found
        settled = _settled_wrong(answer, finding, unit) if found[0].name in finding.unsettled_mechanisms else None
        if settled:
            # "`_build_header()` mixes byte orders … The block header is serialized big-endian"
            miss = Miss(unit, f"mechanism {_name(found)} settled by wrong mechanism {settled}", "wrong_mechanism")
            continue
        if act != ADVICE and " | " not in text and not found[0].pattern.search(asserted):
            if not found[0].pattern.search(" ".join(unsupposed_part(t) for t in sentences)):
                # only supposed ("If it is a fixed literal in your build, it would override
                # your JSON"): neither a finding nor a change to make
                miss = miss or Miss(unit, f"mechanism {_name(found)} only under a condition", "missing")
                continue
            # an asserting sentence whose mechanism sits in its request: "X is a strong decision,
            # so confirm it is only done when no coins left the wallet"
            act, vague = ADVICE, vague or is_vague(text)
        advice = _search(finding._advice, text)
        if advice or _labelled_advice(text) or act == ADVICE and (vague or not advice_fixes):
            why = f"advice {_name(advice)}" if advice else "advice, not a finding"
            miss = miss or Miss(unit, why, "advice")
            continue
        # (a heading that blames a wrong mechanism lends no cue: "**Bug 1: slow-joiner race
        # between `start()` and `_listen()`**" over a description of the two threads)
        if finding.descriptive and not any(DEFECT_CUES.search(_plain(u)) for u in _cue_units(answer, unit, found)
                                           if not (u.kind == "heading" and _search(finding._wrong_mechanisms, _plain(u)))) \
                and not _under_problem_heading(answer, unit):
            miss = miss or Miss(unit, f"mechanism {_name(found)} described, not said to be wrong", "missing")
            continue
        own_place = _place_in(finding, [unit])
        shown = answer.shown_subject(unit) or answer.shown_next(unit) if own_place is None else None
        if shown is not None:
            # ("```window_size = …``` is computed and never used — the query … `self.share_window`":
            # the line shown is the subject; a name further on is not; so is the line a sentence
            # ending in a colon shows: "The share window is hard-coded:")
            own_place = _place_in(finding, [shown])
        if _search(finding._wrong, text) and (own_place is None or finding._weak and not _search(finding._strong, text)
                                              or _opens_on_wrong_place(finding, text)):
            miss = Miss(unit, f"mechanism {_name(found)} at wrong place {_name(_search(finding._wrong, text))}", "wrong_place")
            continue
        if own_place is None and _search(_HEDGES, text):
            miss = miss or Miss(unit, "generic advice not tied to the code", "advice")
            continue
        placing = [p for p in unit.parts if _place_in(finding, [p])]
        if placing and all(p.act == ADVICE for p in placing):
            # "ZeroMQ sockets are generally not thread-safe. You could consider creating the
            # socket inside `_listen()`": the place only in the advice the mechanism is the reason for
            miss = miss or Miss(unit, f"mechanism {_name(found)} only as the reason for advice", "advice")
            continue
        lead = answer.block_units(unit.block)[0] if unit.item else unit
        if act == ADVICE and lead is not unit and _search(finding._wrong, text) \
                and _search(finding._wrong, _plain(lead)) and not _search(finding._strong, _plain(lead)):
            # a change in an item whose lead places it at a decoy ("Location:
            # StratumServer._notify_message()") that names the decoy again ("cache the
            # notify: … = self._notify_message(clean_jobs)") is made there
            miss = miss or Miss(unit, f"mechanism {_name(found)} changed in an item placed at {_name(_search(finding._wrong, text))}", "wrong_place")
            continue
        code_after = answer.code_after(unit) if own_place is None and act == ADVICE else None
        if code_after is not None and code_after.func and not _search(finding._places, code_after.func) \
                and (_search(finding._wrong, code_after.func) or _search(finding._wrong_mechanisms, code_after.func)):
            # "**Fix:** reverse all 32 bytes:" over a new `stratum_prevhash()`: the change is made
            # in the function its code rewrites
            miss = miss or Miss(unit, f"mechanism {_name(found)} changed in {code_after.func}, a wrong place", "wrong_place")
            continue
        scope = answer.scope(unit)
        place = own_place or _place_in(finding, scope)
        lender = next((u for u in scope if _place_in(finding, [u])), None) if own_place is None else None
        # (the sentence just before, in the same paragraph; a heading names a topic, not a mechanism)
        lent_wrong = (_search(finding._wrong_mechanisms, _plain(lender))
                      if lender is not None and lender.block == unit.block else None)
        if lent_wrong:
            # the sentence that lends the place is about something else ("`stratum_prevhash()`
            # only reorders the words …. The conversion should reverse all 32 bytes.")
            miss = Miss(unit, f"mechanism {_name(found)} continues wrong mechanism {_name(lent_wrong)}", "wrong_mechanism")
            continue
        subject = _wrong_subject(finding, lender) if lender is not None else None
        if subject:
            # "`stratum_prevhash()` only reorders the words of `previousblockhash`. The
            # conversion should reverse all 32 bytes.": the sentence lending the place is
            # about the decoy it names first
            miss = Miss(unit, f"mechanism {_name(found)} bound to wrong place {subject}", "wrong_place")
            continue
        if own_place is None and place is not None and _place_in(finding, [u for u in scope if u.act != ADVICE]) is None:
            # "Double-check the byte order in `_build_header()`. Bitcoin mixes both orders, so
            # it's easy to get wrong.": the reason for a request to look, not a finding there
            miss = miss or Miss(unit, f"mechanism {_name(found)} only as the reason for advice", "advice")
            continue
        # (a heading's topic is placed by the line under it: "### Stale jobs because …" over
        # "**Location:** `_poll_templates()`")
        lead_line = [u for u in answer.block_units(unit.block + 1) if u.section == unit.section and u.kind == "prose"] \
            if unit.kind == "heading" else []
        if place is not None and not _search(finding._strong, text) and _weak_beside_wrong(finding, [unit] + scope + lead_line):
            wrong = next(w for w in (_search(finding._wrong, _plain(u) + " " + (u.func or "")) for u in scope + lead_line) if w)
            miss = Miss(unit, f"mechanism {_name(found)} bound to wrong place {_name(wrong)}", "wrong_place")
            continue
        if place is None:
            wrong_here = next((w for w in (_search(finding._wrong, _plain(u)) for u in scope) if w), None)
            if wrong_here:
                miss = Miss(unit, f"mechanism {_name(found)} bound to wrong place {_name(wrong_here)}", "wrong_place")
            else:
                miss = miss or Miss(unit, f"mechanism {_name(found)} stated without naming where", "missing")
            continue
        # (a window joining the denial to the sentence after it retracts nothing: the mechanism
        # needs the denied sentence itself)
        first = unit.parts[0] if unit.parts else unit
        veto = _vetoed(denials, first.index, _strong_places(finding, scope)) or _explained_denial(denials, first)
        if veto:
            miss = Miss(unit, f"{veto.evidence()} (no later sentence retracts it); vetoes", "denial")
            continue
        if act == ADVICE:
            # concrete advice stating the mechanism is a fix; an assertion later on still
            # makes the finding ("ZeroMQ sockets must be used by one thread. Here the socket
            # is set up on one thread and driven from another.")
            advised = advised or Hit(unit, place, "fix", f"mechanism {_name(found)}")
            continue
        return Hit(unit, place, "finding", f"mechanism {_name(found)}"), None
    return (advised, None) if advised else (None, miss)


# the cause placed in another numbered finding of the answer: "came from the crashed round
# described in (1)", "is caused by the race in bug 1"
_FROM_ANOTHER_FINDING = re.compile(
    r"\b(?:came|comes|come|stems?|stemmed|results?|resulted|is caused|was caused|are caused|were caused)\s+(?:from|by)\b"
    r"[^.]{0,80}?\b(?:described|explained|discussed|covered|shown)?\s*(?:in|under|above in)\s+"
    r"(?:\(\d+\)|#\d+\b|(?:section|point|bug|finding|issue|item) #?\d+\b)", re.IGNORECASE)


# a sentence that goes on from the one before: "This is why …", "So two threads …", "But …"
_GOES_ON_FROM = re.compile(r"^\W*(?:this|that|these|those|it|they|which|so|hence|thus|therefore|as a result|"
                           r"consequently|because|since|and|but|however|yet)\b", re.IGNORECASE)


# a heading that files what it holds as defects: "## What goes wrong", "## Bugs found"
_PROBLEM_HEADING = re.compile(r"^\W*(?:what(?:'s| is| goes| went)? wrong|(?:the )?(?:problems?|bugs?|issues?|defects?|"
                              r"root causes?|findings?|diagnosis)(?: found| identified)?)\W*$", re.IGNORECASE)


def _under_problem_heading(answer: Answer, unit: Unit) -> bool:
    """Whether a heading above the unit's own section heading files it as a defect ("## What
    goes wrong" over "### The socket is set up on one thread and read on another")."""
    level = None
    for before in reversed(answer.units[:unit.index]):
        depth = len(before.text) - len(before.text.lstrip("#"))
        if before.kind != "heading" or depth == 0:
            continue
        if level is not None and depth < level and _PROBLEM_HEADING.match(before.text.lstrip("#")):
            return True
        level = depth if level is None else min(level, depth)
    return False


_WORD = re.compile(r"[a-z]{5,}")
_COMMON_WORDS = frozenset({"which", "there", "their", "these", "those", "where", "while", "about", "after", "before",
                           "other", "another", "every", "first", "second", "thread", "threads", "using", "called", "calls"})


def _content_words(text: str) -> set[str]:
    """The longer words of a text, singular ("sockets" and "socket" are one word)."""
    return {w.rstrip("s") for w in _WORD.findall(text.lower()) if w not in _COMMON_WORDS}


def _cue_units(answer: Answer, unit: Unit, found: tuple[Rule, re.Match]) -> list[Unit]:
    """Where a described mechanism may be called wrong: its sentence and scope, but of a
    window only the sentences the mechanism needs and those that go on from them ("The
    socket is created in `__init__` … read in `_listen()`. The two reported problems have
    different causes." describes; the problems are the symptoms)."""
    if unit.kind == "heading":
        # a heading's description is called wrong by its section speaking of the same thing
        # ("### The socket is set up in one thread and used in another" over "ZeroMQ sockets
        # are not thread-safe")
        words = _content_words(_plain(unit))
        following = itertools.takewhile(lambda u: u.section == unit.section, answer.units[unit.index + 1:])
        section = [u for u in following if u.kind == "prose" and _content_words(_plain(u)) & words]
        return [unit] + answer.scope(unit) + section
    if not unit.parts:
        return [unit] + answer.scope(unit) + _after_its_list(answer, unit)
    needed = next(k for k in range(1, len(unit.parts) + 1)
                  if k == len(unit.parts) or found[0].pattern.search(" ".join(_plain(p) for p in unit.parts[:k])))
    words = _content_words(" ".join(_plain(p) for p in unit.parts[:needed]))
    # (and the next sentence when it speaks of the same thing: "… calls `recv_multipart()` on
    # it from the listener thread. ZeroMQ sockets are not thread-safe")
    kept = list(unit.parts[:needed]) + [p for k, p in enumerate(unit.parts[needed:]) if _GOES_ON_FROM.match(_plain(p))
                                        or k == 0 and _content_words(_plain(p)) & words]
    dropped = [p for p in unit.parts if all(p is not k for k in kept)]
    return kept + [u for u in answer.scope(unit)[1:] if all(u is not p for p in dropped)]


def _after_its_list(answer: Answer, unit: Unit) -> list[Unit]:
    """The sentence after the list a sentence ending in a colon opens ("The `ZMQListener` shares
    one ZeroMQ socket between two threads:" over numbered items, then "ZeroMQ sockets are not
    thread-safe"): it says what the listed description is."""
    if unit.kind != "prose" or not unit.text.rstrip().endswith(":"):
        return []
    following = answer.units[unit.index + 1:]
    if not following or not following[0].item:
        return []
    for u in following:
        if u.kind != "prose":
            return []
        if not u.item:
            return [u]
    return []


# Clauses end where acts.CLAUSE_SPLIT splits them ("it is derived from the difficulty, so
# the value you set as `pplns_window` is ignored": the ignoring is said of pplns_window) and,
# in a window of sentences, where a sentence ends.
_SENTENCE_END = re.compile(r"[.!?]\s")
_PRONOUN_SUBJECT = re.compile(r"\s*(?:it|they|this|which)\b", re.IGNORECASE)
# a parenthesised aside, not a call: "(sharing the Context is OK)", "(`window_size`, from `getdifficulty()`)"
_ASIDE = re.compile(r"(?<![\w`.\]])\((?:[^()]|\(\))*\)")
_CODE_NAME = re.compile(r"`[^`\n]+`|\b(?:self\.)?[A-Za-z_]\w*_\w*(?:\(\))?|\b\w+\(\)")
_LITERAL = re.compile(r"`?(?:None|True|False|-?[\d_.]+|'[^']*'|\"[^\"]*\")`?")


def _clause_subject(text: str, start: int, end: int) -> str | None:
    """What the words at ``start:end`` are said of: the code name they qualify, else the
    last code name of their clause before them."""
    after = _CODE_NAME.match(text, end + 1 if text[end:end + 1] == " " else end)
    if after and not _LITERAL.fullmatch(after.group(0)):
        return after.group(0)           # "the hard-coded `share_window`"
    clause, begin = _clause_before(text, start)
    # (a value is no subject: "is converted to `None` and the original exception is discarded")
    names = [n for n in _CODE_NAME.findall(clause, begin) if not _LITERAL.fullmatch(n)]
    if names:
        return names[-1]
    if _PRONOUN_SUBJECT.match(clause, begin):
        # "`pplns_n` only feeds `n_factor`, so it has no effect": the sentence's subject
        names = _CODE_NAME.findall(clause, 0, begin)
        return names[0] if names else None
    return None


def _clause_before(text: str, start: int) -> tuple[str, int]:
    """The text before ``start`` with its asides blanked, and where the clause holding
    ``start`` begins in it."""
    # "(`window_size`, from `getdifficulty()` …)" and "— the setting you tuned —" are asides
    clause = _without_asides(text[:start])
    breaks = sorted([m.end() for m in clause_breaks(clause, start)] + [m.end() for m in _SENTENCE_END.finditer(clause, 0, start)])
    return clause, (breaks[-1] if breaks else 0)


_DASH_ASIDE = re.compile(r"\s[—–]\s[^—–.;:]{1,100}?\s[—–]\s")


_BRACKETED = re.compile(r"(\s*)\(((?:[^()]|\(\))*)\)(\W*)")


def _unbracketed(answer: Answer, unit: Unit) -> str:
    """The unit's text, without the parentheses around it when it is a paragraph of its own."""
    text = _plain(unit)
    whole = _BRACKETED.fullmatch(text)
    before = answer.units[unit.index - 1] if unit.index > 0 else None
    if whole is None or before is not None and before.block == unit.block:
        return text
    return f"{whole.group(1)} {whole.group(2)} {whole.group(3)}"


def _without_asides(text: str) -> str:
    """The text with asides, parenthesised or between two dashes, blanked out (same length:
    positions still hold)."""
    blank = _ASIDE.sub(lambda m: " " * len(m.group(0)), text)
    return _DASH_ASIDE.sub(lambda m: " " * len(m.group(0)), blank)


def _own_name(finding: Finding, name: str) -> bool:
    # (fix places are function names, matched bare: "`get_payment_history()`" is get_payment_history)
    bare = name.strip("`").removesuffix("()").split(".")[-1]
    return any(_search(rules, name) for rules in (finding._places, finding._denial_places)) \
        or bool(_search(finding._fix_places, bare))


def _mechanism_here(finding: Finding, text: str, functions: frozenset[str] = frozenset()
                    ) -> tuple[tuple[Rule, re.Match] | None, tuple | None]:
    """The first mechanism match whose clause is not said of another code name.

    Returns (match, None), or (None, (rule, match, name)) when every match is said of
    another name, or (None, None).
    """
    elsewhere = None
    # a table row whose Where column is a decoy speaks of it ("| `stratum_prevhash()` | Only swaps …")
    row_decoy = _decoy_subject(finding, text) if " | " in text else None
    for rule in finding._mechanisms:
        for match in rule.pattern.finditer(text):
            if row_decoy:
                elsewhere = elsewhere or (rule, match, row_decoy)
                continue
            if match.end() == 0:                # an all_of conjunction has no position:
                opening = _decoy_subject(finding, text)
                if opening:                     # what its sentence is about decides
                    elsewhere = elsewhere or (rule, match, opening)
                    continue
                return (rule, match), None
            subject = _clause_subject(text, match.start(), match.end())
            # a function of the program names where the thing happens ("`__init__` sets the
            # window to a fixed 10,000"), unless it is one of the check's decoys
            # (qualified by its class too: "`PPLNSManager.__init__` sets it to the literal `10000`")
            located = subject is not None and subject.strip("`").removesuffix("()").split(".")[-1] in functions \
                and not _search(finding._wrong, subject)
            if subject is None:
                # no code name: a decoy named in words is still the subject ("so the
                # difficulty-based window never takes effect")
                clause, begin = _clause_before(text, match.start())
                decoy = _search(finding._wrong, clause[begin:])
                if decoy and not _search(finding._places, clause[begin:]):
                    elsewhere = elsewhere or (rule, match, decoy[1].group(0))
                    continue
                # nor a name: the sentence's subject is ("`_worker_loop()` wraps … in a blanket
                # `except Exception` …, so errors are swallowed silently": the worker loop)
                opening = _decoy_subject(finding, text)
                if opening:
                    elsewhere = elsewhere or (rule, match, opening)
                    continue
            if subject is None or located or _own_name(finding, subject) or _row_names_place(finding, text, match.start()):
                return (rule, match), None
            elsewhere = elsewhere or (rule, match, subject)
    return None, elsewhere


def _where_cell(cells: list[str]) -> tuple[str, list[str]] | None:
    """A table row's "Where" column: its first cell that names code, with those names."""
    for cell in cells:
        names = _CODE_NAME.findall(cell)
        if names:
            return cell, names
    return None


def _names_own_place(finding: Finding, names: list[str]) -> bool:
    return any(_own_name(finding, n) and not _search(finding._wrong, n) for n in names)


def _row_names_place(finding: Finding, text: str, start: int) -> bool:
    """A table row whose Where column, before the cell at ``start``, names one of the check's
    places: it is what the cell says things of ("| `calculate_payouts()`: `window_size` |
    Computed from `getdifficulty() * n_factor`, never used by the query |")."""
    where = _where_cell(text[:start].split(" | ")[:-1])
    return where is not None and _names_own_place(finding, where[1])


def _decoy_subject(finding: Finding, text: str) -> str | None:
    """The decoy that opens the first clause naming one of the check's places, if it does
    ("`_notify_message()` always reads `self.current_job` … instead of the job that was
    broadcast": about the notify helper), or the first cell of a table row that names code
    ("| same payout paid twice | `process_pending_payments()` | …": its Where column)."""
    if " | " in text and (where := _where_cell(text.split(" | "))) is not None:
        cell, names = where
        return None if _names_own_place(finding, names) or not _search(finding._wrong, cell) else names[0]
    for clause in clauses(text):
        place = _search(finding._places, clause)
        if place:
            names = _CODE_NAME.findall(clause, 0, place[1].start())
            if names and _search(finding._wrong, names[0]) and not _own_name(finding, names[0]):
                return names[0]
            return None
    return None


def _heading_wrong_mechanism(answer: Answer, finding: Finding, unit: Unit) -> str | None:
    """The wrong mechanism the heading of the unit's section, or the bold lead of its
    paragraph, states, if any."""
    if not finding._wrong_mechanisms:
        return None
    lead = answer.block_units(unit.block)[:1]   # a bold lead sentence ("**Bug 1 — `window_size` is hard-coded.**")
    heads = [h for h in answer.section_heading(unit.section) if h.kind == "heading"] if unit.section > 0 else []
    for head in heads + [h for h in lead if h.text.lstrip().startswith(("**", "__"))]:
        if head is not unit and head.index < unit.index:
            # read together: a heading's topic ("Megabyte log lines") the sentence explains is no wrong mechanism
            found = _search(finding._wrong_mechanisms, _plain(head) + " " + _plain(unit))
            if found:
                return _name(found)
    return None


def wrong_diagnosis(answer: Answer, finding: Finding) -> str | None:
    """A novel asserting sentence that blames a wrong mechanism at one of the check's places
    (a defect cue: a sentence saying the decoy works as it should blames nothing)."""
    if not finding._wrong_mechanisms:
        return None
    for unit in answer.units:
        # (a view the next sentence takes back is no diagnosis: "… looks like a harmless verbosity
        # issue that log rotation would solve. But it isn't harmless: …")
        if unit.kind == "code" or not unit.novel or unit.act == ADVICE or _retracted_next(answer, unit):
            continue
        text = _plain(unit)
        found = _search(finding._wrong_mechanisms, text)
        before = answer.units[unit.index - 1] if unit.index > 0 else None
        # (the place may be the subject of the sentence just before: "`_submit_block()` includes
        # `block_hex` in an INFO message. A full block … exceeds the maximum record size …")
        placed = _search(finding._strong, text) or (
            before is not None and before.block == unit.block and before.kind == "prose" and not _PRONOUN_SUBJECT.match(text)
            and _search(finding._strong, _plain(before)) and not _search(finding._places, text)) or (
            # (or the heading of its section, when nothing in between names a place: "## 3. Dynamic
            # SQL in `get_payment_history` …" over "The statement cache of `sqlite3` is never reused")
            not _search(finding._places, text) and _heading_places_section(answer, finding, unit))
        # (the defect cue may sit in the paragraph around it: "`self.context` is created in
        # `__init__` … creating it in one thread and driving it from another is not safe")
        # (or in the sentence that leads its list: "The listener has a thread-ownership problem with
        # its ZeroMQ **context**." over "- In `ZMQListener.__init__()`, `self.context = …` is created …")
        lead = next((u for u in reversed(answer.units[:unit.index]) if u.block != unit.block), None)
        if found and placed and (
                DEFECT_CUES.search(text) or any(DEFECT_CUES.search(_plain(u)) for u in answer.block_units(unit.block)
                                                if u.kind != "code" and u.act != ADVICE)
                or lead is not None and lead.kind == "prose" and lead.section == unit.section and lead.act != ADVICE
                and unit.item and DEFECT_CUES.search(_plain(lead))):
            return f"{_name(found)} at «{_clip(unit.text.strip(), 200)}»"
    return None


def _heading_places_section(answer: Answer, finding: Finding, unit: Unit) -> bool:
    """Whether the heading of the unit's section names one of the check's strong places and no
    sentence between them names any place of the check."""
    if unit.section <= 0 or unit.kind == "heading":
        return False
    heading = next((u for u in answer.section_heading(unit.section) if u.kind == "heading"), None)
    if heading is None or not _search(finding._strong, _plain(heading)):
        return False
    return not any(_search(finding._places, _plain(u)) for u in answer.units[heading.index + 1:unit.index] if u.kind != "code")


def _section_wrong_mechanism(answer: Answer, finding: Finding, heading: Unit) -> str | None:
    """The wrong mechanism the section under a heading explains it by, if any: "### previous
    hash in the wrong order" over "… must use the same word-swapped encoding as the notify"."""
    if not finding._wrong_mechanisms or heading.section <= 0:
        return None
    # (the heading itself may state it: "## 2. `window_size` is effectively a fixed 10,000-share window")
    wrong = _name(found) if (found := _search(finding._wrong_mechanisms, _plain(heading))) else None
    for unit in answer.units[heading.index + 1:]:
        if unit.section != heading.section:
            break
        if unit.kind != "code" and unit.novel:
            found = _search(finding._wrong_mechanisms, _plain(unit))
            if found:
                wrong = wrong or _name(found)
            elif unit.act != ADVICE and _search(finding._mechanisms, _plain(unit)) \
                    and not _item_wrong_mechanism(answer, finding, unit) \
                    and (_place_in(finding, [unit]) is not None or DEFECT_CUES.search(_plain(unit))):
                # the section also gives the right mechanism ("That explains the megabyte-long log
                # line. More importantly it's a confidentiality problem: …"): not explained away
                # (unless the sentence before continues into it: "… so that miner is never paid.
                # The status change and the payment are not atomic."; a general fact, "Bitcoin
                # hashes are displayed in reversed byte order", blames nothing here)
                return None
    return wrong


_ROW_NUMBER = re.compile(r"^\W*(\d+)\s*\|")


def _row_section_wrong_mechanism(answer: Answer, finding: Finding, row: Unit) -> str | None:
    """A summary table's row numbered N is read with the section or item numbered N ("| 3 |
    `_execute_payment()` | status changes in separate commits |" over "## 3. Status updates are
    not transactional", which explains them by a row left in `processing`): the wrong
    mechanism that section explains it by, if any."""
    number = _ROW_NUMBER.match(row.text)
    if number is None or not finding._wrong_mechanisms:
        return None
    lead = re.compile(rf"^[\W_]*(?:#+\s*)?(?:\*\*)?(?:bug|issue|finding|point|defect|problem)?\s*{number.group(1)}\s*[.):—–-]",
                      re.IGNORECASE)
    for unit in answer.units:
        if unit is row or unit.kind == "code" or not lead.match(unit.text.strip()):
            continue
        if unit.kind == "heading":
            return _section_wrong_mechanism(answer, finding, unit)
        if unit.item and answer.block_units(unit.block)[:1] == [unit]:
            return _item_wrong_mechanism(answer, finding, unit)
    return None


# (or names the gap it means: "Between the `SELECT` … and the `UPDATE`, another worker can read the same row")
_CONSEQUENCE = re.compile(r"^\W*(?:if|when|whenever|so|then|between|this means|that means|as a result|in that case|"
                          r"consequently|which means)\b", re.IGNORECASE)
# a verb that states what the code does to the pool: "… synchronously blocks the event loop"
_EFFECT = re.compile(r"\b(?:blocks|delays|stalls|slows|increases|causes|fills|exposes|leaks|lets|means)\b", re.IGNORECASE)
_STATES = re.compile(r"\b(?:is|are|was|were|can|could|may|might|will|would|do|does|did|has|have|had)\b", re.IGNORECASE)


def _item_wrong_mechanism(answer: Answer, finding: Finding, lead: Unit) -> str | None:
    """The wrong mechanism the rest of a list item explains its lead by, or the sentence just
    before states in the same paragraph ("… so that miner is never paid. The status change
    and the payment are not atomic."), if any."""
    if not finding._wrong_mechanisms:
        return None
    block = answer.block_units(lead.block)
    if lead.item and block[:1] == [lead]:
        # (a lead alone on its line, "1. **Incorrect byte order of the previous block hash**", is
        # explained by the paragraph under it: "The function `stratum_prevhash()` reverses …")
        explaining = block[1:] or [u for u in answer.units if u.block == lead.block + 1 and u.section == lead.section
                                   and not u.item and u.kind == "prose"]
    else:
        # the sentence before, and the one after when it draws the consequence ("These steps
        # are not atomic. If the worker is killed …, the row stays in `processing` forever")
        # (a window of sentences: before its first, after its last)
        first = lead.parts[0].index if lead.parts else lead.index
        # (and the one after, which draws the consequence or states the cause: "… but it is read
        # in `_listen()`. Socket options … are stored per calling thread in libzmq, so …"; not
        # a change to make, "Log hash/height/size only.")
        explaining = [u for u in block if u.index == first - 1
                      or u.index == lead.index + 1 and (_CONSEQUENCE.match(_plain(u)) or (
                          _STATES.search(_plain(u)) or _EFFECT.search(_plain(u))) and not _search(finding._fixes, _plain(u)))]
        # and the paragraph's conclusion further on ("…, so the header should be built
        # big-endian throughout", a rule drawn from the diagnosis even when worded as one)
        for u in block:
            concluded = _CONCLUSION.search(_plain(u)) if u.index > lead.index + 1 and u.novel else None
            found = _search(finding._wrong_mechanisms, concluded.group(1)) if concluded else None
            if found:
                return _name(found)
        # and the lead-in to the paragraph's code, worded as a request or not ("…, the header
        # should be built big-endian throughout:"): the code after it fixes that diagnosis
        for u in block:
            # (not a lead-in that is itself this check's fix: "Log hash/height/size only:")
            if u.index > lead.index and u.kind == "prose" and u.novel and u.text.rstrip().endswith(":") \
                    and not _search(finding._fixes, _plain(u)):
                found = _search(finding._wrong_mechanisms, _plain(u))
                if found:
                    return _name(found)
    for unit in explaining:
        if unit.kind != "code" and unit.novel and unit.act != ADVICE and not _retracted_next(answer, unit):
            found = _search(finding._wrong_mechanisms, _plain(unit))
            if found:
                return _name(found)
    return None


_CONCLUSION = re.compile(r"(?:^\W*|[,;]\s*|\s[—–-]\s*)(?:so|therefore|thus|hence|which is why)\b(.*)", re.IGNORECASE)


# "The two steps are not atomic": steps the sentence before named
_STEPS_BEFORE = re.compile(r"^\W*(?:the|these|those|both)(?: two| 2)? (?:steps|operations|actions|calls|statements)\b",
                           re.IGNORECASE)


def _steps_named_before(answer: Answer, finding: Finding, unit: Unit) -> str | None:
    """The wrong place a sentence opening on "the two steps" refers back to: the sentence
    before names only decoys of this check ("tests `payout_id in self.processing` and only
    then calls `self.processing.add()`. The two steps are not atomic.")."""
    first = unit.parts[0] if unit.parts else unit
    if first.index <= 0 or not _STEPS_BEFORE.match(_plain(first)):
        return None
    before = answer.units[first.index - 1]
    text = _plain(before)
    wrong = _search(finding._wrong, text) if before.block == first.block and before.kind == "prose" else None
    return _name(wrong) if wrong and not _search(finding._strong, text) else None


# the mechanism said to happen "there": "the error is swallowed at that level", "… is caught there"
_THERE = re.compile(r"^\W*(?:\w+\W+){0,2}?(?:at that (?:level|point|layer)|there\b|here\b|in (?:that|this) (?:handler|loop|level|layer|block))",
                    re.IGNORECASE)

_THERE_IN = re.compile(r"\b(?:is|are|was|were|gets?|got)\s+(?:\w+\s+)?(?:here|there)\b|\bat that (?:level|point|layer)\b", re.IGNORECASE)


def _settled_wrong(answer: Answer, finding: Finding, unit: Unit) -> str | None:
    """A wrong mechanism stated in the unit's paragraph or section (the way an open
    mechanism such as "the byte orders differ" is settled there), if any."""
    first = unit.parts[0] if unit.parts else unit
    for other in answer.units:
        # (said as what the header "has to be" too: the direction is wrong either way)
        if other.kind != "code" and other.novel and (
                other.block == first.block or first.section > 0 and other.section == first.section):
            found = _search(finding._wrong_mechanisms, _plain(other))
            if found:
                return _name(found)
    return None


def _there_named_before(answer: Answer, finding: Finding, unit: Unit, text: str, match: re.Match) -> str | None:
    """The wrong place a mechanism said to happen "there" refers back to: the sentence before,
    in the same paragraph, names only decoys of this check ("`_worker_loop()` wraps the round
    in `except Exception` … When the wallet misbehaves, the error is swallowed at that level")."""
    # (or "… is absorbed here" anywhere in the sentence: "the exception is caught there and
    # silently dropped")
    if not _THERE.match(text[match.end():]) and not _THERE_IN.search(text):
        return None
    first = unit.parts[0] if unit.parts else unit
    before = answer.units[first.index - 1] if first.index > 0 else None
    if before is None or before.block != first.block or before.kind != "prose":
        return None
    wrong = _search(finding._wrong, _plain(before))
    if wrong and not _search(finding._strong, _plain(before)):
        return _name(wrong)
    # (or names a decoy first, as its subject: "`_worker_loop()` wraps the round in `except Exception`")
    return _wrong_subject(finding, before)


def _blames_decoy(finding: Finding, unit: Unit) -> bool:
    """The sentence's subject is one of the check's decoys ("The query's `LIMIT` is a hard
    ceiling …"): named first, before any place, in a sentence that does not continue another
    subject ("It is …")."""
    text = _plain(unit)
    wrong, place = _search(finding._wrong, text), _search(finding._places, text)
    return (wrong is not None and not _search(finding._strong, text) and not _PRONOUN_SUBJECT.match(text)
            and (place is None or wrong[1].start() < place[1].start()))


def _wrong_subject(finding: Finding, unit: Unit) -> str | None:
    """The decoy a sentence names before any of the check's places (its subject), if any."""
    text = _plain(unit)
    wrong, place = _search(finding._wrong, text), _search(finding._places, text)
    if wrong and place and wrong[1].start() < place[1].start():
        return _name(wrong)
    return None


# a clause that states what follows from the sentence's subject: ", so the dashboard can show …"
_CONSEQUENCE_AFTER = re.compile(r",\s*(?:so|which means|meaning|and so|hence|thus)\b|\bso that\b", re.IGNORECASE)


def _opens_on_wrong_place(finding: Finding, text: str) -> bool:
    """The sentence opens on a decoy as its subject and names the check's place only in what
    follows from it ("`get_payment_history` reads the `payouts` table …, with no transaction
    around the read, so the dashboard can show a payout whose status and txid don't match")."""
    wrong, place = _search(finding._wrong, text), _search(finding._places, text)
    if not wrong or not place or re.search(r"[^\s`*_#>.:()\d–—-]", text[:wrong[1].start()]):
        return False
    consequence = _CONSEQUENCE_AFTER.search(text, wrong[1].end())
    return consequence is not None and consequence.start() < place[1].start()


def _wrong_place_only(finding: Finding, text: str) -> bool:
    """The sentence names another function and none (or only a weak one) of this defect's places."""
    if not finding._wrong or not _search(finding._wrong, text):
        return False
    return _place_in(finding, [Unit(text, "prose", -1, -1, True)]) is None or bool(finding._weak) and not _search(finding._strong, text)


def _weak_beside_wrong(finding: Finding, units: list[Unit]) -> bool:
    """A fix whose surroundings name only a weak place and another function sits at that function.

    ("SQLite stores `amount` as REAL and get_payment_history returns floats. Fix: convert with
    Decimal" is a fix in get_payment_history, not in the fee arithmetic.)
    """
    if not finding._weak or not finding._wrong:
        return False
    texts = [_plain(u) for u in units] + [u.func for u in units if u.func]
    if any(_search(finding._strong, t) for t in texts):
        return False
    return any(_search(finding._wrong, t) for t in texts)


def _context_place(answer: Answer, finding: Finding, unit: Unit) -> str | None:
    """``_place_in`` over the unit's context, computed once per context (it is shared by its units)."""
    key = ("place", id(finding), unit.block, unit.section)
    if key not in answer.memo:
        answer.memo[key] = _place_in(finding, answer.context(unit))
    return answer.memo[key]


def _fix_weak_beside_wrong(finding: Finding, answer: Answer, unit: Unit) -> bool:
    """``_weak_beside_wrong`` for a fix and its context, the context's part computed once per context."""
    if not finding._weak or not finding._wrong:
        return False
    key = ("names", id(finding), unit.block, unit.section)
    if key not in answer.memo:
        answer.memo[key] = _names_strong_and_wrong(finding, answer.context(unit))
    around_strong, around_wrong = answer.memo[key]
    own_strong, own_wrong = _names_strong_and_wrong(finding, [unit])
    if own_strong or around_strong:
        return False
    return own_wrong or around_wrong


def _names_strong_and_wrong(finding: Finding, units: list[Unit]) -> tuple[bool, bool]:
    texts = [_plain(u) for u in units] + [u.func for u in units if u.func]
    return (any(_search(finding._strong, t) for t in texts), any(_search(finding._wrong, t) for t in texts))


_POINTS_ELSEWHERE = re.compile(r"\bas (?:described|shown|discussed|explained|outlined|mentioned|noted|sketched) "
                               r"(?:above|earlier|before|previously)\b|\b(?:see|per) (?:above|earlier)\b"
                               r"|\b(?:from|in) the (?:previous|preceding|earlier|last|above) (?:section|snippet|block|example|step|fix)\b"
                               r"|\b(?:version|snippet|code|pattern|query) (?:from |shown |given )?above\b"
                               # "the corrected versions from my analysis above" (a reasoning block the reader never sees)
                               r"|\b(?:from|in) (?:my|the|our) (?:\w+ )?(?:analysis|reasoning|thinking|thoughts|draft|notes|walkthrough) "
                               r"(?:above|earlier)\b", re.IGNORECASE)
_INLINE_SPAN = re.compile(r"`([^`\n]+)`")
_REPL = re.compile(r"^\s*(?:>>>|\.\.\.)\s")
_ILLUSTRATES = re.compile(r"^\W*(?:for illustration|to illustrate|as an illustration)\b|\bthis is how\b[^.]*\b(?:behaves|works)\b",
                          re.IGNORECASE)
_WARNS = re.compile(r"\b(?:not|never|instead of|rather than|wrong|mistake)\b|n't\b", re.IGNORECASE)
# inline code that is only a name ("`get_payment_history()`"), not code of the fix
_NAME_SPAN = re.compile(r"`[\w.]+(?:\(\))?`")


# a line that stands for code left out: "...", "# ... unchanged", "pass  # rest as before"
_ELIDES = re.compile(r"^\s*(?:\.\.\.|…|#.*(?:\.\.\.|…|unchanged|as before|rest of|same as)|pass\b.*#)", re.IGNORECASE)


def _dropped_in_rewrite(answer: Answer, finding: Finding) -> Hit | None:
    """A function of the fix's places given whole and new, without the line whose deletion
    is the fix (``removals``) that the prompt's version has: the answer took it out
    ("def calculate_payouts(…)" rewritten with no `window_size = …`)."""
    by_block: dict[tuple[int, str], list[Unit]] = {}
    for unit in answer.units:
        if unit.kind == "code" and not unit.removed and unit.func and _search(finding._fix_places, unit.func):
            by_block.setdefault((unit.block, unit.func), []).append(unit)
    for (_, func), units in by_block.items():
        # (whole: from its def to a last `return`, about as long as the prompt's, nothing elided;
        # the omission alone is the change, so the lines may all be the prompt's)
        opens = re.compile(rf"^\s*(?:async\s+)?def\s+{re.escape(func)}\s*\(")
        original = answer.prompt_lines(func)
        if not opens.match(units[0].text) or not units[-1].text.lstrip().startswith("return") \
                or len(units) < max(4, len(original) * 3 // 5) \
                or any(_ELIDES.match(u.text) for u in units) or any(_search(finding._removals, u.text) for u in units):
            continue
        if any(_search(finding._removals, line) for line in original):
            return Hit(units[0], func, "fix", f"removal in the rewritten {func}")
    return None


def find_fix(answer: Answer, finding: Finding, unshared: str = "") -> tuple[Hit | None, Miss | None]:
    """The first novel code line (or concrete prose) that can only be this defect's fix.
    ``unshared``: leave out fix text other checks' fixes write too (``shared_fixes``), for
    the reason it says."""
    miss: Miss | None = None
    # the answer's own code does the fix wrong: its prose fix ("use a parameterized query")
    # describes that code, and only a working code line elsewhere passes
    # (so does prose that gives the wrong part in inline code: "pass `(address)` as the second argument")
    broken = next((u for u in answer.units if u.novel and not u.removed and (
        u.kind == "code" and _search(finding._broken, _statement(answer, u))
        or u.kind == "prose" and any(_search(finding._broken, span) for span in _INLINE_SPAN.findall(u.text))
        and _search(finding._fixes, _statement(answer, u)) and not _WARNS.search(u.text))),
        None) if finding._broken else None
    dropped = _dropped_in_rewrite(answer, finding) if finding._removals else None
    if dropped is not None:
        return dropped, None
    for unit in answer.units:
        if unit.removed:
            if finding._removals and _search(finding._removals, unit.text) and unit.func and _search(finding._fix_places, unit.func):
                return Hit(unit, unit.func, "fix", f"removal {_name(_search(finding._removals, unit.text))}"), None
            continue
        if unit.kind == "code" and _REPL.match(unit.text) or unit.kind != "code" and _ILLUSTRATES.search(unit.text):
            # an interpreter session, or its lead-in, shows how something behaves: "For
            # illustration, this is how a TTL cache behaves:" over ">>> c = TTLCache(…)"
            continue
        statement = _statement(answer, unit)
        found = _search(finding._fixes, statement) if finding._fixes else None
        if not found:
            continue
        rule = f"fix {_name(found)}"
        if unshared and finding._shared and _search(finding._shared, statement):
            # (the same line may also bind what only this fix binds: "… WHERE address = ? …; same
            # ?-binding for every UPDATE …, e.g. … WHERE id = ?")
            found = _search(finding._fixes, _blanked(finding._shared, statement))
            if not found:
                miss = miss or Miss(unit, f"{rule}, which other fixes write too, {unshared}", "missing")
                continue
            rule = f"fix {_name(found)}"
        if not unit.novel:
            miss = miss or Miss(unit, "fix text copied from the prompt", "echo")
            continue
        if broken is not None and (unit.kind != "code" or unit.block == broken.block):
            # (in code, the block that also does it wrong: `"… WHERE address = ?", (address)`)
            miss = Miss(broken, f"the code given for {rule} does it wrong", "fix_failed")
            continue
        if unit.kind != "code":
            denied = _search(finding._own_denials, _plain(unit)) or _search(_GENERIC_DENIALS, _plain(unit))
            if denied and not _ABOUT_THE_FIX.search(_plain(unit)):
                miss = Miss(unit, f"denial {_name(denied)}", "denial")
                continue
            if unit.vague or _search(finding._advice, _plain(unit)):
                miss = miss or Miss(unit, "advice without a concrete change", "advice")
                continue
            if _POINTS_ELSEWHERE.search(_plain(unit)) and "`" not in _NAME_SPAN.sub("", _plain(unit)):
                # "Fix: the parameterized query as described above." with nothing above: a
                # fix given earlier would have been found first
                miss = miss or Miss(unit, "a fix that points to one given elsewhere", "missing")
                continue
            # read with the sentences it belongs to and the paragraph before: "Log only the hash
            # and the size." after "… goes to the shared log service" is no log-size fix
            wrong_mechanism = _search(finding._wrong_mechanisms, _plain(unit))
            if wrong_mechanism and _search(finding._wrong_mechanisms, " ".join(_plain(u) for u in [unit] + answer.context(unit))):
                # "the code reads `pplns_n` where it should read `pplns_window`" fixes what it misreads
                miss = Miss(unit, f"fix stated with wrong mechanism {_name(wrong_mechanism)}", "wrong_mechanism")
                continue
        if _search(finding._not_fixes, statement) or unit.kind != "code" and _labelled_advice(_plain(unit)):
            miss = miss or Miss(unit, "not a fix", "advice")
            continue
        if unit.kind != "code" and (_wrong_place_only(finding, _plain(unit)) or _wrong_place_only(
                finding, next((c for c in clauses(_plain(unit)) if _search(finding._fixes, c)), ""))):
            # "the code reads `pplns_n` where it should read `pplns_window`" fixes the decoy, and so
            # does a fix whose own clause names only the decoy ("The `SELECT` in
            # `process_pending_payments()` should go through placeholders; the history endpoint …")
            miss = Miss(unit, "fix attributed to another place", "wrong_place")
            continue
        if unit.kind == "code" and unit.func and _search(finding._wrong, unit.func) and not _search(finding._fix_places, unit.func):
            # the fix written into a decoy ("`_last_shares()` … `limit or config.get('pplns_window')`")
            miss = Miss(unit, f"fix placed in {unit.func}(), a wrong place", "wrong_place")
            continue
        if not finding.fix_needs_place:
            return Hit(unit, unit.func or "", "fix", rule), None
        if unit.kind == "code" and unit.func:
            if _search(finding._fix_places, unit.func):
                return Hit(unit, unit.func, "fix", rule), None
            miss = Miss(unit, f"fix placed in {unit.func}(), not where the defect is", "wrong_place")
            continue
        place = _place_in(finding, [unit])
        lent_by_decoy = False
        if place is None:
            place = _context_place(answer, finding, unit)
            if place is not None and unit.kind != "code":
                # ("**Root cause:** `get_payment_history()` returns … Python `float`s" over "**Fix:**
                # convert the money columns to `Decimal`": the sentence lending the place is about the decoy)
                lender = next((u for u in answer.context(unit) if u.kind != "code" and _place_in(finding, [u])), None)
                lent_by_decoy = lender is not None and (bool(_decoy_subject(finding, _plain(lender)))
                                                        or _weak_beside_wrong(finding, [lender]))
        if place is not None and (lent_by_decoy or _fix_weak_beside_wrong(finding, answer, unit)):
            miss = Miss(unit, "fix attributed to another place", "wrong_place")
            continue
        if place is not None:
            return Hit(unit, place, "fix", rule), None
        miss = miss or Miss(unit, "fix shown without saying where it goes", "missing")
    return None, miss


def _block_span(answer: Answer, unit: Unit) -> tuple[int, int]:
    """The indices of the first and last line of a code unit's block (a prose unit's own)."""
    start = end = unit.index
    if unit.kind != "code":
        return start, end
    while start > 0 and answer.units[start - 1].kind == "code" and answer.units[start - 1].block == unit.block:
        start -= 1
    while end + 1 < len(answer.units) and answer.units[end + 1].kind == "code" and answer.units[end + 1].block == unit.block:
        end += 1
    return start, end


def _fix_vetoed(answer: Answer, finding: Finding, denials: Sequence[Denial], fix: Hit) -> Denial | None:
    """A fix never retracts a denial: any denial of its place vetoes it."""
    places = _strong_places(finding, [fix.unit] + answer.scope(fix.unit)) | {_place_key(fix.place or "")}
    if fix.unit.func:   # the function the fix's code sits in is its place too
        places |= _strong_places(finding, [Unit(fix.unit.func, "prose", -1, -1, True)])
    # a bare fragment's place is what the prose just before it in its section is about
    # ("Logging `block_hex` in `_submit_block()` is harmless. It's just big. To keep it short:")
    start, _ = _block_span(answer, fix.unit)   # from the first line of the fix's own code block
    # (the nearest of them that names one: "`get_payment_history`, on the other hand, is fed from
    # the request … Parameterise:" after a denial of `_execute_payment` places the block there)
    before = [u for u in answer.units[max(0, start - 4):start]
              if u.kind != "code" and u.section == fix.unit.section]
    places |= next((found for u in reversed(before) if (found := _strong_places(finding, [u]))), frozenset())
    for denial in denials:
        if denial.covers(places):
            return denial
    return None


_THE_SHOWN_CODE = re.compile(r"\b(?:that|this|such an?|the above|these)\s+(?:pattern|approach|snippet|example|idea|"
                             r"sketch|structure|shape|technique)s?\b", re.IGNORECASE)
_CONNECTOR = re.compile(r"^\W*(?:\w+\W+){0,3}\w*\W*:\s*$")


def _soft_lead_in(answer: Answer, unit: Unit) -> Unit | None:
    """The soft suggestion or request to look that introduces a code fix ("If you want to
    be on the safe side, you could consider moving the setup into the listener thread,
    something like:", "Make sure the window comes from the config. For example:"), if
    any: the code is then an example of that advice."""
    if unit.kind != "code":
        # a prose fix in the same item as a request to look ("Make sure `recent_shares` is
        # pruned at some point. An `OrderedDict` makes it easy to evict old entries.")
        item = [u for u in answer.units[max(0, unit.index - 2):unit.index] if u.block == unit.block]
        return next((u for u in reversed(item) if u.soft or u.act == ADVICE and u.vague), None)
    # the lead-in runs backwards from the code block and ends at a sentence asserting a defect
    start, end = _block_span(answer, unit)
    after = answer.units[end + 1] if end + 1 < len(answer.units) else None
    if after is not None and after.kind == "prose" and after.section == unit.section \
            and (after.soft or after.act == ADVICE) and _THE_SHOWN_CODE.search(_plain(after)):
        # the code is an example the sentence after it leaves to the reader ("Consider whether
        # that pattern fits here.")
        return after
    for before in reversed(answer.units[max(0, start - 4):start]):
        if before.kind == "code":
            break
        if before.section != unit.section or before.kind == "heading":
            break
        if _CONNECTOR.match(_plain(before)):   # "For example:", "Something like:"
            continue
        # (a lead that asserts under an unsettled condition is soft too: "If socket ownership
        # turns out to be the issue, the usual pattern is …, e.g.:")
        if before.soft or before.act == ADVICE and before.vague or is_unsettled(_plain(before)):
            return before
        if before.act != ADVICE and DEFECT_CUES.search(_plain(before)):
            return None
    return None


def evaluate(answer: Answer, finding: Finding, require: str = "either", missing: str = "") -> Verdict:
    """Grade one check.

    ``require``: "mechanism" (an asserted mechanism at its place), "fix" (a fix at its
    place), "either", "both" (the check asks to identify *and* fix), or "fixes"
    (for "identifies … and fixes …" checks: a fix that can only mean this defect
    passes with or without its explanation, an explanation without a fix fails; the
    fix patterns must then be unambiguous on their own).
    """
    denials = find_denials(answer, finding) if require != "fix" else []
    mech, mech_miss = (find_mechanism(answer, finding, denials, advice_fixes=require == "either")
                       if require != "fix" else (None, None))
    fix, fix_miss = find_fix(answer, finding) if require != "mechanism" else (None, None)
    stated = mech is not None
    if mech is not None and mech.kind == "fix":   # concrete advice: a fix, never a finding
        fix, mech = fix or mech, None
    if fix is not None and not stated and finding._shared and _search(finding._shared, _statement(answer, fix.unit)) \
            and any(u.kind == "prose" and u.novel and u.act != ADVICE for u in answer.units):
        # (a bound payout id is also the race's claim and the atomicity fix's statement: in an
        # answer whose prose explains its code, and never by this defect, it may be theirs, so
        # another fix line must be this defect's; an answer that is only its code has no other)
        fix, fix_miss = find_fix(answer, finding, unshared="with no finding asserted")
    elif fix is not None and stated and finding._shared_places and _search(finding._shared, _statement(answer, fix.unit)) \
            and not _asserted_at(answer, finding, finding._shared_places):
        # (the injection asserted in the history query only: a bound payout id fixes another
        # statement, the one the race's claim or the atomicity fix rewrites)
        fix, fix_miss = find_fix(answer, finding, unshared="beside a finding asserted at another place")
    # (a mechanism said in a request is advice whatever the sentence's other clauses assert:
    # "Each check-and-claim must happen under `self.lock` — a test and an insert are never safe")
    # (a prose fix in a sentence that also asserts is soft by its own clause: "Consider `Decimal` for
    # fees; `calculate_fee()` currently goes through `float()`")
    soft = (fix.unit if fix is not None and (fix.unit.soft or (fix.rule.startswith("mechanism") or fix.unit.kind != "code")
                                             and is_soft(_plain(fix.unit)))
            else _soft_lead_in(answer, fix.unit) if fix is not None else None)
    if fix is not None and mech is None and soft is not None:
        return Verdict(False, f"only a suggestion, with no finding asserted: «{_clip(soft.text.strip())}»",
                       kind="advice", rule=fix.rule)
    if fix is not None and mech is None and fix.unit.kind != "code":
        # without an asserted finding, a prose fix beside a wrong diagnosis fixes that diagnosis
        # ("doesn't check the nonce against the target. Return an error to the miner.")
        beside = next((w for w in (_search(finding._wrong_mechanisms, _plain(u)) for u in answer.scope(fix.unit)) if w), None)
        if beside:
            return Verdict(False, f"fix beside wrong mechanism {_name(beside)}: «{_clip(fix.unit.text.strip())}»",
                           kind="wrong_mechanism", rule=beside[0].label(beside[1]))
    if fix is not None and mech is None and finding.decoy_blame_voids_fix and mech_miss is not None \
            and mech_miss.kind == "wrong_place" and mech_miss.unit.kind != "code" and mech_miss.unit.act != ADVICE \
            and _blames_decoy(finding, mech_miss.unit):
        # the answer's diagnosis puts the defect elsewhere ("`_last_shares()` hard-codes the window"):
        # its code fixes what that diagnosis says, not this defect
        return Verdict(False, f"a fix beside a diagnosis at a wrong place ({mech_miss.evidence()})",
                       kind="wrong_place", rule="wrong diagnosis")
    if fix is not None and mech is None:
        # ("### Fix: one context per thread" over the code: the code fixes that heading's diagnosis)
        wrong = wrong_diagnosis(answer, finding) or (
            _heading_wrong_mechanism(answer, finding, fix.unit) if fix.unit.kind == "code" else None)
        if wrong is not None:
            # the code fixes what the prose diagnoses otherwise ("the ZeroMQ context is the
            # problem … give the listener its own context and socket")
            return Verdict(False, f"a fix beside a wrong diagnosis {wrong}", kind="wrong_mechanism", rule="wrong diagnosis")
        veto = _fix_vetoed(answer, finding, denials, fix)
        if veto:
            return Verdict(False, f"{veto.evidence()}; a fix does not retract it ({fix.evidence()})",
                           kind="denial", rule=veto.rule)
    if require == "fixes":
        if fix:
            return _passed(mech, fix)
        if mech:
            return Verdict(False, f"identified but not fixed ({mech.evidence()})" + (f"; {fix_miss.evidence()}" if fix_miss else ""),
                           kind="finding", rule=mech.rule)
    elif require == "both":
        if mech and fix:
            return _passed(mech, fix)
        if mech:
            return Verdict(False, f"identified but not fixed ({mech.evidence()})" + (f"; {fix_miss.evidence()}" if fix_miss else ""),
                           kind="finding", rule=mech.rule)
        if fix:
            return Verdict(False, f"fixed but the defect is not explained ({fix.evidence()})" + (f"; {mech_miss.evidence()}" if mech_miss else ""),
                           kind="fix", rule=fix.rule)
    elif mech or fix:
        return _passed(mech, fix)
    if denials and not mech:
        last = denials[-1]
        return Verdict(False, f"{last.evidence()}", kind="denial", rule=last.rule)
    near = mech_miss or fix_miss
    reason = missing or "no finding at the right place with its mechanism"
    return Verdict(False, reason + (f"; nearest: {near.evidence()}" if near else ""),
                   kind=near.kind if near else "missing", rule="")


def _asserted_at(answer: Answer, finding: Finding, places: Sequence[Rule]) -> bool:
    """Some sentence of the answer's own prose asserts the mechanism and names one of ``places``."""
    return any(u.kind != "code" and u.novel and u.act != ADVICE and _search(places, _plain(u))
               and _search(finding._mechanisms, _plain(u)) for u in answer.units)


def _passed(mech: Hit | None, fix: Hit | None) -> Verdict:
    hits = [h for h in (mech, fix) if h is not None]
    return Verdict(True, "; ".join(h.evidence() for h in hits), kind=hits[0].kind, rule=hits[0].rule)
