"""Finding rules: a check passes when the answer ties a mechanism to its place.

A ``Finding`` names where a defect lives (``places``), what makes it a defect
(``mechanisms``), and code that can only be its fix (``fixes``). ``evaluate``
scans an ``Answer`` and returns a ``Verdict`` carrying the evidence: the sentence
or code line that earned the pass, or the nearest miss and why it was rejected.

Rejected on purpose (spec/checks.md):
* text copied from the prompt (units that are not novel never supply a mechanism or fix);
* checklists and hedges ("consider …", "check for …") unless the same sentence
  names the place;
* checklist items that put advice under a function name ("- `start()`: verify …");
* denials ("no SQL injection here", "correctly reverses …");
* the right mechanism attached to another function (``wrong_places``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from llmbench.grading.check import Verdict
from llmbench.grading.parsed_answer import Answer, Unit

# Sentence-level denials that apply to every check.
GENERIC_DENIALS = (
    r"\bno (?:\w+[ -]){0,3}(?:issues?|problems?|risks?|bugs?|vulnerabilit\w*|concerns?)\b",
    r"\b(?:is|are|looks?|seems?|it'?s|that'?s|this is|remains?) (?:already |perfectly |completely |entirely )?(?:fine|correct|safe|ok(?:ay)?|secure|sound|handled(?! (?:as|by|with|in|via|through|using|inside|from|on)\b))\b",
    r"\bnot (?:a|an|really an?) (?:real )?(?:issue|problem|concern|bug|vulnerability|risk)\b",
    r"\b(?:correctly|properly|already|safely) (?:\w+ ){0,2}(?:revers|handl|pars|validat|parameteri[sz]|lock|bound|prun|us|read|stor|creat)\w*",
    r"\bnot (?:vulnerable|affected|susceptible|exploitable)\b",
    r"\b(?:there is|there'?s) no (?:need|reason)\b",
    r"\bfalse positive\b",
    r"\bnothing (?:wrong|to fix)\b",
    # "that's the correct behaviour and no change is needed there"
    r"\bno (?:code )?changes? (?:is |are )?(?:needed|required|necessary)\b",
    r"\b(?:is|are|that'?s|it'?s) (?:the |exactly the )?(?:correct|intended|expected|desired|right) behaviou?r\b",
)

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


def any_of(*patterns: str) -> str:
    return "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")"


def all_of(*patterns: str) -> str:
    """One regex that matches when every pattern occurs somewhere in the text.

    Anchored at the start of the text: unanchored, ``search`` would retry the lookaheads
    from every position (quadratic on text with no match, cubic when nested).
    """
    return r"\A" + "".join(f"(?=[\\s\\S]*?(?:{p}))" for p in patterns)


def _compile(patterns: Iterable[str]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


@dataclass(frozen=True)
class Finding:
    places: Sequence[str]                 # regexes naming where the defect lives
    mechanisms: Sequence[str] = ()        # regexes (use all_of for conjunctions) for why it is wrong
    fixes: Sequence[str] = ()             # regexes for novel code (or inline code) that can only be the fix
    fix_places: Sequence[str] = ()        # enclosing functions where a fix may sit (default: places)
    wrong_places: Sequence[str] = ()      # other functions: a sentence naming only these is wrong-place
    denials: Sequence[str] = ()           # check-specific denials, on top of GENERIC_DENIALS
    fix_needs_place: bool = True          # a fix line must sit in a matching def (or near a place mention)
    span: int = 1                         # also match mechanisms over up to `span` consecutive sentences of a block
    weak_places: Sequence[str] = ()       # places too generic to beat a wrong place named in the same sentence
    not_fixes: Sequence[str] = ()         # units matching a fix pattern that are still no fix ("round more carefully")
    removals: Sequence[str] = ()          # old lines whose explicit deletion (a diff's "-" line, in fix_places) is the fix

    def __post_init__(self) -> None:
        object.__setattr__(self, "_places", _compile(tuple(self.places) + tuple(self.weak_places)))
        object.__setattr__(self, "_strong", _compile(self.places))
        object.__setattr__(self, "_weak", _compile(self.weak_places))
        object.__setattr__(self, "_not_fixes", _compile(self.not_fixes))
        object.__setattr__(self, "_removals", _compile(self.removals))
        object.__setattr__(self, "_mechanisms", _compile(self.mechanisms))
        object.__setattr__(self, "_fixes", _compile(self.fixes))
        object.__setattr__(self, "_fix_places", _compile(self.fix_places or self.places))
        object.__setattr__(self, "_wrong", _compile(self.wrong_places))
        object.__setattr__(self, "_denials", _compile(tuple(self.denials) + GENERIC_DENIALS))


_HEDGES = _compile(HEDGES)
_LABELLED_ADVICE = _compile(LABELLED_ADVICE)


def _labelled_advice(text: str) -> bool:
    match = _search(_LABELLED_ADVICE, text)
    return bool(match) and "`" not in text[match.end():]


@dataclass
class Hit:
    unit: Unit
    place: str           # the text that showed the place
    kind: str            # "mechanism" | "fix"

    def evidence(self) -> str:
        text = _clip(self.unit.text.strip())
        where = "" if self.place in (None, "") else f" [place: {self.place}]"
        label = "fix" if self.kind == "fix" else "finding"
        return f"{label}: «{text}»{where}"


@dataclass
class Miss:
    unit: Unit
    reason: str

    def evidence(self) -> str:
        return f"{self.reason}: «{_clip(self.unit.text.strip())}»"


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _search(patterns: Sequence[re.Pattern], text: str) -> re.Match | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return match
    return None


def _place_in(finding: Finding, units: Iterable[Unit]) -> str | None:
    for unit in units:
        match = _search(finding._places, unit.text)
        if match:
            return match.group(0)
        if unit.kind == "code" and unit.func and _search(finding._places, unit.func):
            return unit.func
    return None


def _context_place(answer: Answer, finding: Finding, unit: Unit) -> str | None:
    """``_place_in`` over the unit's context, computed once per context (it is shared by its units)."""
    key = ("place", id(finding), unit.block, unit.section)
    if key not in answer.memo:
        answer.memo[key] = _place_in(finding, answer.context(unit))
    return answer.memo[key]


def _is_comment(unit: Unit) -> bool:
    return unit.kind == "code" and unit.text.lstrip().startswith("#")


def _windows(answer: Answer, span: int) -> list[Unit]:
    """Consecutive sentences (or comment lines) of one block joined, for findings split across them.

    A window is novel only when every part is: copied text never completes a finding.
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
            windows.append(Unit(text, first.kind, first.block, first.section, all(p.novel for p in parts), func=first.func, label=first.label))
    return windows


def find_mechanism(answer: Answer, finding: Finding) -> tuple[Hit | None, Miss | None]:
    """The first novel sentence (or, with ``span``, run of sentences) stating a mechanism at the right place."""
    hit, miss = _find_mechanism(answer, finding, answer.units)
    if hit is None and finding.span > 1:
        hit, window_miss = _find_mechanism(answer, finding, _windows(answer, finding.span))
        miss = miss or window_miss
    return hit, (None if hit else miss)


# Emphasis asterisks around words ("*not* thread safe", "**Fix:** move …"); a spaced
# "a * b" (multiplication in inline code) is kept.
_EMPHASIS = re.compile(r"(?<![\w*])\*{1,3}(?=[^\s*])|(?<=[^\s*])\*{1,3}(?![\w*])")


def _plain(unit: Unit) -> str:
    """The text rules match against: prose loses its emphasis markers, code is untouched."""
    return unit.text if unit.kind == "code" else _EMPHASIS.sub("", unit.text)


def _find_mechanism(answer: Answer, finding: Finding, units: list[Unit]) -> tuple[Hit | None, Miss | None]:
    miss: Miss | None = None
    for unit in units:
        if not finding._mechanisms or unit.kind == "code" and not unit.text.lstrip().startswith("#"):
            continue
        text = _plain(unit)
        if not _search(finding._mechanisms, text):
            continue
        if not unit.novel:
            miss = miss or Miss(unit, "copied from the prompt")
            continue
        if _search(finding._denials, text):
            miss = Miss(unit, "denies the defect")
            continue
        if _labelled_advice(text):
            miss = miss or Miss(unit, "generic advice not tied to the code")
            continue
        own_place = _place_in(finding, [unit])
        if _search(finding._wrong, text) and (own_place is None or finding._weak and not _search(finding._strong, text)):
            miss = Miss(unit, "attributed to another place")
            continue
        if own_place is None and _search(_HEDGES, text):
            miss = miss or Miss(unit, "generic advice not tied to the code")
            continue
        place = own_place or _context_place(answer, finding, unit)
        if place is None:
            miss = miss or Miss(unit, "mechanism stated without naming where")
            continue
        return Hit(unit, place, "mechanism"), None
    return None, miss


def _wrong_place_only(finding: Finding, text: str) -> bool:
    """The sentence names another function and none (or only a weak one) of this defect's places."""
    if not finding._wrong or not _search(finding._wrong, text):
        return False
    return _place_in(finding, [Unit(text, "prose", -1, -1, True)]) is None or bool(finding._weak) and not _search(finding._strong, text)


def _weak_beside_wrong(finding: Finding, answer: Answer, unit: Unit) -> bool:
    """A fix whose surroundings name only a weak place and another function sits at that function.

    ("SQLite stores `amount` as REAL and get_payment_history returns floats. Fix: convert with
    Decimal" is a fix in get_payment_history, not in the fee arithmetic.)
    """
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


def find_fix(answer: Answer, finding: Finding) -> tuple[Hit | None, Miss | None]:
    """The first novel code line (or inline code) that can only be this defect's fix."""
    miss: Miss | None = None
    for unit in answer.units:
        if unit.removed:
            if finding._removals and _search(finding._removals, unit.text) and unit.func and _search(finding._fix_places, unit.func):
                return Hit(unit, unit.func, "fix"), None
            continue
        if not finding._fixes or not _search(finding._fixes, _plain(unit)):
            continue
        if not unit.novel:
            miss = miss or Miss(unit, "fix text copied from the prompt")
            continue
        if unit.kind != "code" and _search(finding._denials, _plain(unit)):
            miss = Miss(unit, "denies the defect")
            continue
        if _search(finding._not_fixes, _plain(unit)) or unit.kind != "code" and _labelled_advice(_plain(unit)):
            miss = miss or Miss(unit, "not a fix")
            continue
        if not finding.fix_needs_place:
            return Hit(unit, unit.func or "", "fix"), None
        if unit.kind != "code" and _wrong_place_only(finding, _plain(unit)):
            miss = Miss(unit, "fix attributed to another place")
            continue
        if unit.kind == "code" and unit.func:
            if _search(finding._fix_places, unit.func):
                return Hit(unit, unit.func, "fix"), None
            miss = Miss(unit, f"fix placed in {unit.func}(), not where the defect is")
            continue
        place = _place_in(finding, [unit])
        if place is None:
            place = _context_place(answer, finding, unit)
        if place is not None and _weak_beside_wrong(finding, answer, unit):
            miss = Miss(unit, "fix attributed to another place")
            continue
        if place is not None:
            return Hit(unit, place, "fix"), None
        miss = miss or Miss(unit, "fix shown without saying where it goes")
    return None, miss


def evaluate(answer: Answer, finding: Finding, require: str = "either", missing: str = "") -> Verdict:
    """Grade one check.

    ``require``: "mechanism" (a stated mechanism at its place), "fix" (a fix at its
    place), "either", "both" (the check asks to identify *and* fix), or "fixes"
    (the lead's policy for "identifies … and fixes …" checks: a fix that can only
    mean this defect passes with or without its explanation, an explanation
    without a fix fails; the fix patterns must then be unambiguous on their own).
    """
    mech, mech_miss = find_mechanism(answer, finding) if require != "fix" else (None, None)
    fix, fix_miss = find_fix(answer, finding) if require != "mechanism" else (None, None)
    if require == "fixes":
        if fix and not mech and fix.unit.kind != "code":
            # a prose fix alone is no finding when its own paragraph denies the defect
            # ("… is harmless. Log only the hash to save space.")
            for unit in answer.block_units(fix.unit.block):
                if unit.kind != "code" and _search(finding._denials, _plain(unit)):
                    return Verdict(False, f"its fix sits beside a denial of the defect: «{_clip(unit.text.strip())}»")
        if fix:
            return Verdict(True, (f"{mech.evidence()}; " if mech else "") + fix.evidence())
        if mech:
            return Verdict(False, f"identified but not fixed ({mech.evidence()})" + (f"; {fix_miss.evidence()}" if fix_miss else ""))
    elif require == "both":
        if mech and fix:
            return Verdict(True, f"{mech.evidence()}; {fix.evidence()}")
        if mech:
            return Verdict(False, f"identified but not fixed ({mech.evidence()})" + (f"; {fix_miss.evidence()}" if fix_miss else ""))
        if fix:
            return Verdict(False, f"fixed but the defect is not explained ({fix.evidence()})" + (f"; {mech_miss.evidence()}" if mech_miss else ""))
    else:
        hit = mech or fix
        if hit:
            return Verdict(True, hit.evidence())
    near = mech_miss or fix_miss
    reason = missing or "no finding at the right place with its mechanism"
    return Verdict(False, reason + (f"; nearest: {near.evidence()}" if near else ""))
