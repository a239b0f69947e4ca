"""What each sentence of an answer *does*, decided before any check's rule looks at it.

A finding is an assertion about the code. Every prose unit (sentence, list item,
table row) gets one act:

* ``assertion``: indicative, about the code ("X is/does/never/can …"): the only
  act that can supply a finding;
* ``advice``: a recommendation or a request to look ("consider …", "make sure …",
  "double-check", "confirm", "audit", "X should follow best practices", a
  question): supplies at most a fix, and only when it is concrete. A request to
  look or an appeal to good practice (``is_vague``) supplies nothing unless it
  quotes code; a soft suggestion ("consider evicting entries older than 5
  minutes", ``is_soft``) supplies a fix only beside an asserted finding, so an
  answer made only of advice passes nothing;
* ``quote``: text copied from the prompt: supplies nothing.

Denials ("is fine", "harmless", "redundant") are the third kind of statement, but
what is denied depends on the check, so they are matched per check
(``rules.Finding.denials`` plus ``GENERIC_DENIALS``) on top of this act.

A sentence is split into clauses at coordinating punctuation (``;``, ``:``, dashes)
and at the conjunctions that join independent clauses (", but", ", so", …). The
sentence is an assertion when any of its clauses asserts: "the socket is created
in `__init__`, so create it in `_listen` instead" asserts, "make sure the socket is
not shared" does not (the assertion sits inside the request).

Why the standard library's ``re`` and not a parser: the cues are closed word lists
at fixed positions (the clause's first word, a modal before the verb, a question
mark), which a regex over the clause states exactly and in linear time. A
part-of-speech tagger (spaCy, NLTK) would tell imperatives from nouns better
("Log only the hash" vs "Log lines grow"), but needs a downloaded statistical model,
is slower by orders of magnitude on the two-core CI machine, and errs on
Markdown, inline code and identifiers, which make up most of a code review. The
noun/verb ambiguity is resolved here by the word after the verb (a determiner,
pronoun or code span follows an imperative).
"""

from __future__ import annotations

import re
from collections.abc import Callable

ASSERTION = "assertion"
ADVICE = "advice"
QUOTE = "quote"

# Clause boundaries: punctuation, then conjunctions that start an independent clause.
# (an arrow between two code names is a call path, "`_handle_submit()` → `_validate_share()`")
CLAUSE_SPLIT = re.compile(
    r"\s*(?:;|:(?=\s)|\s[—–]\s|\s-{1,2}\s|(?<!`)(?<!`\s)\s*(?:→|->|=>)|(?:→|->|=>)(?!\s*`)|\s\|\s)\s*"
    r"|,?\s+(?:but|so that|so|because|since|whereas|while|although|though|yet|hence|thus|therefore|otherwise|which means)\s+"
    r"|,\s+(?:and|or|then)\s+(?=(?:it|this|that|they|the|a|an|every|each|both|two|nothing|no|`)\b)",
    re.IGNORECASE,
)
_LEAD = re.compile(
    r"^(?:[-*+•>|]\s*|\d+[.)]\s*|#+\s*|\*\*|__|\(?[a-z]\)\s*|\[[ xX]?\]\s*)*"   # list markers, checkboxes, emphasis
    r"(?:(?:please|also|then|just|simply|and|or|instead|finally|first|second|next|additionally|optionally|ideally|so)\b,?\s*)*",
    re.IGNORECASE,
)
# Verbs that open an imperative clause. STRONG ones are rarely nouns at the head of a
# clause; the others count only when a determiner, pronoun or code follows ("Log only
# the hash", "Set the status"; not "Log lines grow", "Set membership is checked").
_STRONG_IMPERATIVES = (
    "add|audit|avoid|be|bind|consider|prefer|favor|favour|confirm|convert|create|define|delete|don't|do not|double-check|double check|"
    "drop|enforce|ensure|evict|guard|implement|introduce|investigate|keep|look|make|move|fix|parameterize|"
    "parameterise|prune|read|remove|rename|replace|review|rewrite|reject|sanitize|sanitise|switch|take|think|"
    "try|use|validate|verify|watch|wrap|acquire|hold|pass|store|apply|bound|cap|catch|clear|compare|compute|"
    "derive|emit|fetch|handle|load|lock|mark|pin|reply|respond|return|reverse|send|separate|skip|swap|test|"
    "track|trim|truncate|update|write|log|set|limit|record|query|call|change|check|put|let|have|give|do|re-raise|raise|"
    "open|close|construct|build|instantiate|initialize|initialise|subscribe|connect|run|persist|commit|wait|"
    "expire|purge|delete|stop|start|reload|quantize|round|multiply|divide|scale|store|filter|match|unpack|parse|decode|encode|follow|reset|wire|hook|feed|"
    "decide|choose|pick|trace|document|inspect|examine|profile|measure|instrument|determine"
)
_AMBIGUOUS_IMPERATIVES = frozenset(
    "log set limit record query call change check test track store lock mark cap bound handle return reply "
    "round match filter parse scale run start stop wait open close build commit update write swap reverse "
    "compute fetch load read pass send apply take have do give let put try look hold keep make use fix follow reset wire hook feed".split()
)
_IMPERATIVE = re.compile(rf"^(?:{_STRONG_IMPERATIVES})\b(?![-_])", re.IGNORECASE)
_IMPERATIVE_OBJECT = re.compile(
    r"^\s*(?:the|a|an|only|it|its|them|this|that|these|those|each|every|all|no|any|both|one|your|our|their|"
    r"out|up|down|in|on|off|back|over|away|around|with|to|for|from|by|sure|whether|if|how|what|`|\*|self\.|\w+\(|\w+_\w+)",
    re.IGNORECASE,
)
# Recommendation and request cues anywhere in a clause.
_ADVICE_CUES = re.compile(
    r"\b(?:you|we|one|they|it|this|that|these|those|callers?|code|the code|the \w+|\w+)\s+"
    r"(?:should|must|ought to|needs? to|has to|have to|had better|may want|might want|would do well)\b"
    r"|\b(?:should|ought to)\b"
    r"|\b(?:must|needs? to|has to|have to) (?:be|use|read|create|take|hold|pass|own|run|log|check|validate|reverse|stay|remain|never|not|only|always)\b"
    r"|\bit(?: is|['’]s| would(?: also| still)? be| might(?: also| still)? be| may(?: also| still)? be) (?:\w+ly |also |still )?(?:worth|advisable|recommended|wise|better|safer|a good idea|best|prudent)\b"
    r"|\b(?:would|might|could) (?:be )?(?:better|safer|cleaner|nicer|wise|good)\b|\b(?:could|might|would|may) make sense\b"
    r"|\b(?:would|could|might) be (?:a |the )?(?:(?:reasonable|sensible|good|fine|simple) )?(?:starting point|start|first step|approach|option|choice)\b"
    r"|\b(?:good|next|first|useful|sensible) step (?:would be|is|could be) to\b"
    r"|\bbest[- ]practices?\b|\b(?:I|we) (?:would )?(?:recommend|suggest)\b|\bI(?:'d|’d| would) (?:\w+ly |also |still |rather |personally )?(?!(?:say|expect|guess|bet|argue|think|call|note|imagine|assume|be|have|see|agree|point|like|love)\b)[a-z]+\b|\bis (?:\w+ly )?(?:recommended|advisable)\b"
    r"|\bkeep (?:in mind|an eye)\b|\bworth (?:checking|verifying|reviewing|a look)\b"
    # a risk, not a finding: "so it is easy to get `previousblockhash` and `bits` wrong"
    r"|\b(?:it is|it'?s|it can be|can be|is) (?:\w+ )?(?:easy|tricky|hard|difficult) to (?:get|mix|confuse|miss|overlook)\b"
    r"|\bthink about\b|\bbe (?:careful|aware|mindful|cautious)\b"
    r"|\b(?:you|we|one) (?:could|might|may|can) (?:also |still |simply |just )?(?:consider|try|use|move|add|want|switch|replace|create)\b"
    # "you might look at using Decimal": any action but a symptom ("you might see duplicates")
    r"|\b(?:you|we|one) (?:could|might|may) (?:also |still |simply |just )?"
    r"(?!(?:be|have|not|see|notice|get|find|observe|lose|end|hit|run into|experience|encounter)\b)[a-z]+\b",
    re.IGNORECASE,
)
# "If you want to be on the safe side, …", "To be safe, …": a condition that hangs on the
# clause after it and does nothing on its own
_CONDITION = re.compile(r"^(?:if|when|unless|once|to be (?:safe|sure)|for (?:safety|robustness))\b"
                        r"(?:`[^`\n]*`|[^,.;:`]){0,80},\s*", re.IGNORECASE)
# a hypothetical asserts nothing: "(because) if it is a fixed literal it would override your JSON"
# ("if `self.share_window` is a fixed literal in your build, it would override your JSON"), and
# so does a condition the answer never settles ("If it turns out the value isn't wired to
# the config, the usual pattern is:")
_HYPOTHETICAL = re.compile(r"^(?:[^*.\n]{1,80}(?:\.?\*\*|\.)\s+)?(?:because\s+|since\s+)?if\b(?:[^,;]*?\b(?:would|might|could)\b"
                           r"|(?:`[^`\n]*`|[^,;.`]){0,120},\s*(?:it|this|that|they|there|you|we|(?:the\s+)?\w+|`[^`\n]*`)"
                           r"\s+(?:would|might|could|may)\b"
                           # "If `sendtoaddress` can raise after … (for example …), then resetting the row … would pay it twice"
                           r"|(?:`[^`\n]*`|[^;.`]|\.(?=\w)){0,200}?,\s*then\b(?:`[^`\n]*`|[^;.`]){0,120}?\b(?:would|might|could|may)\b"
                           r"|[^,.;]{0,60}\b(?:turns? out|proves? to be)\b)", re.IGNORECASE)
# A leading phrase that sets the scene for the clause's verb: "With four threads running
# `process_pending_payments()`, make sure …", "Before the next release, audit …"
# ("Independently of C, cap `recent_shares` …", "Either way, …")
_SCENE = re.compile(r"^(?:with|for|in|on|before|after|during|given|as|at|under|to|across|inside|within|"
                    r"independently|separately|regardless|irrespective|apart|aside|besides|either way|anyway)\b"
                    r"[^,.;:]{0,100},\s*(?=\S)", re.IGNORECASE)
# Advice that orders nothing: it asks to look, or appeals to good practice.
_LOOK = re.compile(
    r"\b(?:make sure|ensure\w*|double[- ]check\w*|verify\w*|confirm\w*|audit\w*|review\w*|investigat\w*|"
    r"check (?:whether|if|that|for|how)\b|look (?:into|at|for)|think about|keep (?:in mind|an eye)|be (?:careful|aware|mindful|cautious)|"
    r"best[- ]practices?|worth\b|appropriate\w*|properly|as needed|if (?:needed|necessary)|where (?:possible|appropriate)|somehow|some (?:kind|sort) of|"
    # a test asks how the code behaves, it changes nothing: "add a test that runs … from several threads"
    r"(?:add|write|create|run)\w* (?:a |some |more )?(?:\w+ ){0,2}tests?\b|^\W*test (?:that|whether|if|with|what|how)\b|"
    # a measurement or a trace to run: "compare `calculate_fee()` output against a `Decimal`
    # computation", "check what `_send_payment()` returns when …", "trace how the workers share it"
    r"\bcompar\w* (?:\S+ ){0,8}?(?:against|with|to)\b|\bcheck (?:what|when|which|where)\b|\btrac(?:e|ing) (?:how|where|what|whether)\b|"
    # ("trace every local (…) to where it is consumed")
    r"\btrac(?:e|ing) (?:\S+ ){1,8}?(?:back )?to (?:where|its|their)\b|"
    # a rule about a kind of thing, this code one instance of it: "Avoid magic numbers such as `10000`"
    r"\b[a-z]+s,? (?:such as|like) `)",
    re.IGNORECASE,
)
# What a tool can show is a pointer to the tool, not a finding: "Linters such as `pyflakes` can
# flag values that are assigned but not read"
_TOOL_CAN = re.compile(
    r"^(?:static )?(?:linters?|tools?|analy[sz]ers?|pyflakes|ruff|pylint|flake8|mypy|type[- ]checkers?|profilers?|tracemalloc)\b"
    r"(?:`[^`\n]*`|[^.;`]){0,80}?\b(?:can|could|will|would|may|might)\s+(?:\w+\s+)?(?:flag|detect|catch|find|report|warn|spot|surface|show)\b",
    re.IGNORECASE)
# A choice left to the reader orders nothing, whatever options it lists: "Decide on a policy:
# respond with a stratum error (code 20) vs. drop the connection"
# a menu laid out for the reader ("Common options: `decimal.Decimal`, or integer satoshis."):
# a choice left open, whatever it lists
_OPTIONS = (r"^\W*(?:(?:common|possible|typical|usual|standard|available|other|some|the|your|two|three|several)\s+)*"
            r"(?:options|alternatives|choices|approaches|remedies)(?:\s+(?:include|are|would be|here|to consider))?\s*:")
_LEFT_TO_DECIDE = re.compile(r"^\W*(?:\[[ xX]?\]\s*)?(?:decide|choose|pick|weigh)\b|\b(?:decide|choose) (?:on|between|whether|which)\b|"
                             + _OPTIONS, re.IGNORECASE)
_OFFERS_OPTIONS = re.compile(_OPTIONS, re.IGNORECASE)
# A change under a condition the answer never settles: "If it isn't, wire it to the config",
# "If socket ownership turns out to be the issue, the usual pattern is …"
_UNSETTLED_TEXT = (
    r"^\W*(?:\w+\W+){0,6}?if (?:so|not)\s*,"
    r"|^\W*(?:\w+\W+){0,6}?if (?:it|this|that|they) (?:is|are|does|do|was|were)(?:n'?t| not)\b[^,.;]{0,40},"
    r"|^\W*(?:\w+\W+){0,6}?if (?:that|this|so)(?:'s|\s+is|\s+was)\s+(?:what (?:happened|you see)|the case|the cause)\b"
    r"|\bif\b[^,.;]{0,60}\b(?:turns? out|proves? to be|is (?:really |indeed |actually )?the (?:issue|problem|cause|culprit))\b"
)
_UNSETTLED = re.compile(_UNSETTLED_TEXT, re.IGNORECASE)


def is_unsettled(text: str) -> bool:
    """The sentence hangs on a condition the answer never settles ("If it isn't, …")."""
    return bool(_UNSETTLED.search(text))


# Advice that suggests a change softly: a fix only beside an asserted finding.
_SOFT = re.compile(
    r"\b(?:consider\w*|(?:may|might|could) (?:want|wish|need)|would be (?:good|better|nice|wise)|perhaps|maybe|you (?:could|might|may))\b"
    r"|\b(?:would|could|might) be (?:a |the )?(?:reasonable|sensible|good|fine|simple) (?:starting point|start|first step|approach|option|choice)\b"
    # a general recommendation: "for money, `Decimal` is generally recommended over `float`"
    r"|\b(?:is|are) (?:\w+ly )?(?:recommended|advisable|preferred)\b"
    # a wish, or a state to check rather than a change to make: "Ideally reply with a stratum
    # error", "Make sure `get_payment_history()` is parameterized, e.g. `… WHERE address = ?`"
    r"|\b(?:ideally|preferably|if possible)\b|\b(?:might|may|could|would) (?:be worth|make sense)\b"
    r"|\bI(?:'d| would)? (?:\w+ )?(?:suggest|recommend|propose)\b"
    # a state to check with an example ("Make sure `__init__` actually takes the window from
    # the config, e.g. `…`")
    r"|\b(?:make sure|ensure|double[- ]check|confirm|verify)\b(?:`[^`\n]*`|[^.;:`]){0,120}?(?:\be\.g\.|\bfor example\b|\bfor instance\b)"
    # a rule for how the code should be, not a change to it: "Each check-and-claim of a
    # payout must happen under `self.lock`", "A row should only go back to `pending` when …"
    r"|\b(?:must|should)(?: only| always| never)? (?:happen|be done|occur|take place)\b|\b(?:must|should) only go\b"
    r"|\b(?:make sure|ensure|double[- ]check|confirm|verify)\b(?:`[^`\n]*`|[^.;:`]){0,80}?\b(?:is|are)\s+(?:\w+ly\s+)?(?!not\b)\w+(?:ed|ized|ised|safe|bounded|atomic)\b"
    # a change under a condition the answer never settles
    r"|" + _UNSETTLED_TEXT,
    re.IGNORECASE,
)
# Concrete code: an inline span with an operator, call, subscript or SQL placeholder.
# A bare name (`get_payment_history()`, `self.lock`) is where, not code.
_CONCRETE_CODE = re.compile(r"`(?![\w.]+(?:\(\))?`)[^`]*(?:[=(\[<>+*/%]|\?|\bwith\b|\bdef\b|\bimport\b)[^`]*`")
_QUESTION = re.compile(r"(?<![=(,\s%:])\?\s*[*_)\"']*\s*$")   # "WHERE id = ?" is SQL, not a question
_INLINE_CODE = re.compile(r"`[^`]*`")


# after a request, ", so …" is its purpose ("make sure X, so operators can see Y")
_SUBORDINATE = re.compile(r"^,?\s+(?:because|since|whereas|while|although|though|so that|so|otherwise)\s+$", re.IGNORECASE)


def clause_breaks(sentence: str, end: int | None = None) -> list[re.Match]:
    """Where the sentence's clauses meet (``CLAUSE_SPLIT``), up to ``end``; never inside inline
    code (the colon of "`except Exception: return None`" ends no clause)."""
    masked = _INLINE_CODE.sub(lambda m: "`" + "x" * (len(m.group(0)) - 2) + "`", sentence)
    # nor inside a parenthesised aside: "Decide on one representation (integer satoshis,
    # `Decimal`, or `float`) and document it" is one request
    masked = _PARENTHESISED.sub(lambda m: "(" + "x" * (len(m.group(0)) - 2) + ")", masked)
    return list(CLAUSE_SPLIT.finditer(masked, 0, len(masked) if end is None else end))


_PARENTHESISED = re.compile(r"\([^()\n]*\)")


def _split(sentence: str) -> list[tuple[str, bool]]:
    """(clause, subordinate) pairs: a subordinate clause ("… while `_listen()` is blocked")
    depends on the clause before it and does not change what that clause does."""
    out: list[tuple[str, bool]] = []
    start, subordinate = 0, False
    for match in clause_breaks(sentence):
        out.append((sentence[start:match.start()], subordinate))
        start, subordinate = match.end(), bool(_SUBORDINATE.match(match.group(0)))
    out.append((sentence[start:], subordinate))
    return [(c, sub) for c, sub in ((_LEAD.sub("", p.strip()), sub) for p, sub in out) if c]


def asserted_part(sentence: str) -> str:
    """The sentence with every clause that recommends or asks (or hangs on such a request),
    or that only supposes, blanked out, positions kept: what it asserts. "Resetting a row to
    `pending` is a strong decision, so confirm it is only done when no coins left the wallet"
    asserts only the first clause."""
    return _kept(sentence, ("asserts",))


def unsupposed_part(sentence: str) -> str:
    """The sentence without what it only supposes ("If it is a fixed literal in your build, it
    would override your JSON"), positions kept: what it asserts or asks."""
    return _kept(sentence, ("asserts", "asks"))


def _kept(sentence: str, acts: tuple[str, ...]) -> str:
    out, start, subordinate, previous = [], 0, False, "asserts"
    bounds = [(m.start(), m.end(), bool(_SUBORDINATE.match(m.group(0)))) for m in clause_breaks(sentence)]
    for end, after, next_subordinate in bounds + [(len(sentence), len(sentence), False)]:
        whole = _LEAD.sub("", sentence[start:end].strip())
        clause = _CONDITION.sub("", whole)
        act = ("asks" if clause and _is_request(clause) else "supposes" if clause and _HYPOTHETICAL.match(whole)
               else previous if previous != "asserts" and _hangs(clause, subordinate) else "asserts")
        out.append(sentence[start:end] if act in acts else " " * (end - start))
        out.append(sentence[end:after])
        previous, start, subordinate = act, after, next_subordinate
    return "".join(out)


# "make sure X is parameterized, and that the web layer validates …": a second object of the request
# "make sure `term()` is only reached after …; otherwise `term()` can block": its purpose
# "Compare `calculate_fee()` against a `Decimal` computation; if they disagree, that's your few
# satoshis": what the request may find
_THAT_CLAUSE = re.compile(r"^(?:that|otherwise|if|unless)\s", re.IGNORECASE)


def _hangs(clause: str, subordinate: bool) -> bool:
    """The clause depends on the one before: a subordinate clause, or a second "that …" object."""
    return subordinate or bool(_THAT_CLAUSE.match(clause))


def clauses(sentence: str) -> list[str]:
    """The sentence's clauses, each without list markers and leading connectives."""
    return [c for c, _ in _split(sentence)]


def _is_request(clause: str) -> bool:
    """The clause recommends or asks: an imperative head, a modal of advice, a request cue."""
    text = _INLINE_CODE.sub(lambda m: "`" + "x" * (len(m.group(0)) - 2) + "`", clause)  # "?" inside code is no question
    if _QUESTION.search(text):
        return True
    scene = _SCENE.match(text)
    if scene and _is_request(text[scene.end():]):
        return True
    head = _IMPERATIVE.match(text)
    if head:
        word = head.group(0).lower()
        if word not in _AMBIGUOUS_IMPERATIVES or _IMPERATIVE_OBJECT.match(text[head.end():]):
            return True
    return bool(_ADVICE_CUES.search(text))


# "I first suspected that `_validate_share` ignores its `job_id` …" (no "but" turning it round:
# "At first I thought … was fine, but it isn't: …" asserts in its last clause)
_SUPPOSED = re.compile(r"^\W*(?:(?:(?:i|we) (?:first|initially|originally)|at first,? (?:i|we)) "
                       r"(?:suspected|thought|assumed|believed|guessed)"
                       # "At first glance this looks like SQL injection, since …"
                       # (the subject may name code on the way: "the f-string in `get_payment_history` (…) looks like")
                       # ("At first this looks like an unused variable, since …")
                       r"|at first(?: (?:glance|sight))?,? (?:this|it|that|the \w+|`[^`]+`(?:\(\))?)(?:[^.;]{0,80}?)? (?:looks|seems|appears)(?: like| to be)?"
                       # "At first glance `calculate_fee` is suspicious: …"
                       r"|at first (?:glance|sight),? (?:this|it|that|the \w+|`[^`]+`(?:\(\))?) (?:is|looks) (?:suspicious|suspect|wrong|odd|off))"
                       r"\b(?!(?:[^.]|\.(?=\S))*\bbut\b)", re.IGNORECASE)


def classify(text: str, novel: bool = True) -> str:
    """The act of one prose unit: assertion, advice or quote."""
    if not novel:
        return QUOTE
    # bold markers go first: "**Note on fees:** consider …" is a label and a request
    body = _CONDITION.sub("", _LEAD.sub("", text.strip().replace("**", "")))
    if _TOOL_CAN.match(body) or _OFFERS_OPTIONS.match(body):
        return ADVICE
    if _SUPPOSED.match(body):
        return QUOTE   # what the writer first thought and then moved on from asserts nothing
    parts = [(c, sub) for i, (c, sub) in enumerate(_split(body))
             if not (_is_label(c) or i == 0 and _is_heading_label(c, body))]
    if not parts:
        return ASSERTION   # a bare label or topic ("TOCTOU race on `self.processing`") is no request
    # a clause asserts on its own account unless it hangs on a request before it
    asserting = [not _is_request(c) and not (_hangs(c, sub) and i and requested) for i, ((c, sub), requested)
                 in enumerate(zip(parts, [False] + [_is_request(p) for p, _ in parts[:-1]], strict=False))]
    if any(asserting) and len(parts) > 1 and parts[-1][1] and _is_request(parts[-1][0]) and not any(
            _about_this_code(c) for (c, _), asserts in zip(parts, asserting, strict=True) if asserts):
        # "ZeroMQ's guide is strict about one socket per thread, so it is worth confirming
        # that …": a general fact that only gives the reason for the request it leads to
        return ADVICE
    if any(asserting) and not all(asserting) and all(_in_generic_rule(body, c) for (c, _), asserts
                                                     in zip(parts, asserting, strict=True) if asserts):
        # "trace every local to where it is consumed; a value that is computed but never
        # reaches the SQL query has no effect": a rule about a kind of thing, the reason to look
        return ADVICE
    return ASSERTION if any(asserting) else ADVICE


# a statement about any thing of a kind: "a value that is computed but never reaches …",
# "any key that is renamed …" (naming no code of this program)
_GENERIC_RULE = re.compile(r"\s*(?:a|an|any|every|each)\s+(?:[a-z-]+\s+){0,2}?[a-z-]+\s+(?:that|which|whose)\b(?![^`]*`)"
                           r"(?![^.]*\b\w+_\w+)", re.IGNORECASE)
_SEGMENT = re.compile(r"[;:]\s|\s[—–]\s")


def _in_generic_rule(sentence: str, clause: str) -> bool:
    """Whether the clause belongs to a part of the sentence (between semicolons, colons or
    dashes) that states a rule about any thing of a kind; "but never reaches …" goes on
    from "a value that is computed"."""
    at = sentence.find(clause)
    if at < 0:
        return False
    starts = [0] + [m.end() for m in _SEGMENT.finditer(sentence, 0, at + 1)]
    return bool(_GENERIC_RULE.match(sentence, starts[-1]))


# what names this program: code, or a phrase that points at it ("the socket", "it", "here")
_THIS_CODE = re.compile(r"`|\bself\.|\b\w+_\w+\b|\b\w+\(\)|^(?:the|this|that|these|those|its?|they|their|here|our|your)\b",
                        re.IGNORECASE)


def _about_this_code(clause: str) -> bool:
    return bool(_THIS_CODE.search(clause.strip()))


_VERB_FORM = re.compile(r"\b(?:is|are|was|were|be|been|has|have|had|does|do|did|can|will|would|never|not|no)\b|\w(?:s|ed)\b", re.IGNORECASE)


def _is_label(clause: str) -> bool:
    """A fragment such as "Fix", "Bug 1", "`start()`" or "Race condition" carries no act of its own."""
    plain = _INLINE_CODE.sub("x", clause)
    return len(plain.split()) <= 3 and not _VERB_FORM.search(plain) and not _is_request(clause)


_AUXILIARY = re.compile(r"\b(?:is|are|was|were|be|been|has|have|had|does|do|did|can|cannot|will|would|never|not|no)\b|n't\b",
                        re.IGNORECASE)


def _is_heading_label(clause: str, sentence: str) -> bool:
    """A short lead before a colon ("Refused block: verify …", "Old-firmware tracebacks: add
    tests …") names the topic of what follows; without an auxiliary verb it asserts nothing."""
    return (sentence.startswith(clause + ":") and len(_INLINE_CODE.sub("x", clause).split()) <= 4
            and not _AUXILIARY.search(clause) and not _is_request(clause))   # "Review `_send_payment()`:" asks


# a check followed by what the code does when it fails: code to write, not a request to look
# ("…; if any check fails, reply with stratum error 20 and return")
_OTHERWISE_ACT = re.compile(r"[;,]\s*(?:otherwise|else|(?:and )?if (?:any|one|either|a|the|it|this|that|they)\b[^,;.]{0,40}"
                            r"\b(?:fails?|is(?:n't| not)|are(?:n't| not)|does(?:n't| not))\b[^,;.]{0,20},)\s+"
                            r"(?:reply|return|respond|send|raise|reject|refuse|drop|close|log|skip)\b",
                            re.IGNORECASE)


# code that looks and changes nothing: "Query `SELECT COUNT(*) FROM shares` to make sure …",
# "Run a linter (`ruff check --select F841`)" (a query with a placeholder is the injection's fix)
_DIAGNOSTIC = re.compile(r"^\s*(?:SELECT\b(?![^`]*(?:\?|%s|:\w+|\b(?:UPDATE|INSERT|DELETE)\b))|(?:ruff|pylint|flake8|mypy|grep|rg|"
                         r"journalctl|py-spy|strace)\b)", re.IGNORECASE)


def is_vague(text: str, quoted: Callable[[str], bool] = lambda code: False) -> bool:
    """Advice that orders nothing concrete: a request to look, an appeal to good practice, a question.
    Code it names counts as concrete only when it is new: "make sure the test and the
    `self.processing.add(payout_id)` happen under the lock" quotes the program (``quoted``)."""
    if _LEFT_TO_DECIDE.search(text):
        return True   # "Decide on one representation for amounts (integer satoshis, `Decimal`, or `float`)"
    # span by span: between two spans ("`f()` validates … (`job_id`") is prose, not code
    if any(_CONCRETE_CODE.fullmatch(m.group(0)) and not quoted(m.group(0).strip("`")) and not _DIAGNOSTIC.match(m.group(0).strip("`"))
           for m in _INLINE_CODE.finditer(text)):
        return False
    if _OTHERWISE_ACT.search(text):
        return False   # "Check that params is a list of 5 strings; otherwise reply with error 20": a check in code
    return bool(_LOOK.search(text)) or bool(_QUESTION.search(_INLINE_CODE.sub("x", text)))


def is_soft(text: str) -> bool:
    """A suggestion ("consider evicting …"): a fix only when the answer also asserts the defect."""
    return bool(_SOFT.search(text))


# A unit that only extends the one before to more places does what that one does:
# "Make sure `get_payment_history()` is parameterized. The same applies to the `UPDATE`s."
_CONTINUES = re.compile(
    r"^(?:[-*+•]\s*|\d+[.)]\s*)*(?:the same (?:applies|goes|holds|is true)|same (?:for|with|here|goes)|"
    r"likewise|ditto|similarly|this also applies|that also applies)\b",
    re.IGNORECASE,
)


def is_connector(text: str) -> bool:
    """A lead-in such as "Something like:" or "For example:" that only introduces what follows."""
    return text.rstrip().endswith(":") and len(text.split()) <= 4 and not _VERB_FORM.search(_INLINE_CODE.sub("x", text))


def continues_previous(text: str) -> bool:
    """The unit extends the previous one ("The same applies to …") and takes its act."""
    return bool(_CONTINUES.match(text.strip()))

