"""pplns — PPLNS payouts (hard, 3 checks): a hard-coded window overrides the configured one."""

from __future__ import annotations

import re
from pathlib import Path

from llmbench.grading.check import Check, Verdict
from llmbench.grading.parsed_answer import Answer
from llmbench.grading.rules import Finding, all_of, any_of
from llmbench.tasks.base import Task
from llmbench.tasks.prompting import fixture_block

FIXTURES = ("pplns.py", "pool_config.json")

def build_prompt() -> str:
    return (
        "We run a small PPLNS mining pool. Last week we raised the payout window from 10,000 to "
        "50,000 shares in `pool_config.json` and restarted the pool, to smooth out payouts for our "
        "smaller miners. Nothing changed: the dashboard still reports `window_limit: 10000`, block "
        "rewards are still split between the same handful of recent workers, and miners with low "
        "hashrate still get nothing for most blocks. Tuning the other PPLNS setting made no "
        "difference either.\n\n"
        "Review the payout code and its configuration. Find the bug(s), explain the cause of each "
        "one and give the fix (corrected code).\n\n"
        + "\n\n".join(fixture_block(name) for name in FIXTURES)
        + "\n"
    )


# -- grading ------------------------------------------------------------------

# Instructions, as opposed to diagnoses: "read pplns_window from config", "should load …".
_DO = (
    # (after a place that opens the sentence: "In the constructor, take the window size from …")
    # (or after a fix label: "Fix: in `__init__`, take the value of `pplns_window` …")
    # (a place in code may hold dots: "**Fix:** in `PPLNSManager.__init__`, replace …")
    r"(?:^|[.;:!]\s+|^(?:[-*\u2022>]\s+)?(?:in|inside|within|at|for) (?:`[^`\n]*`|[^,.]){1,50},\s+|"
    r"\b(?:fix|solution|remedy):?(?:\*\*)?\s+(?:in|inside|within) (?:`[^`\n]*`|[^,.]){1,50},\s+|[(\u2014\u2013]\s*|[-*\u2022>]\s+|\b(?:to|by|should|must|instead|just|simply|please|and|then|we|you|fix:?|fix is to|solution:?|remedy:?)\s+)"
)
_READ_VERBS = r"(?:read|load|use|take|pull|fetch|get|source|honou?r|respect|wire|look up|(?:initiali[sz]e|set) (?:it|`?self.share_window`?|`?share_window`?) (?:in (?:the constructor|`?__init__`?(?:\(\))?) )?from)"
_READ_PPLNS_WINDOW = any_of(
    r"config(?:uration)?\s*(?:\.get\(|\[)\s*['\"]pplns_window['\"]",
    all_of(_DO + _READ_VERBS + r"\b", r"pplns_window", r"\bconfig\w*|\bsetting|\bjson\b|\bkey\b"),
    all_of(r"\b(?:by|via) (?:reading|loading|using|taking|pulling|fetching)\b", r"pplns_window"),
    # "replace the literal 10000 by a lookup of the `pplns_window` key in the configuration"
    # ("replace the literal assignment of `self.share_window` with a lookup of …": a dot in code ends nothing)
    all_of(_DO + r"replace\b(?:[^.]|\.(?=\w)){0,80}\b(?:by|with) (?:a |an )?(?:lookup|look-up|read|reading) (?:of|from)\b", r"pplns_window"),
    all_of(r"\b(?:should|must|needs? to|has to|ought to) (?:be )?(?:read|loaded|taken|come|pulled|set|initiali[sz]ed)\b", r"pplns_window"),
    # "Change the constructor so that it reads the `pplns_window` key from the configuration"
    all_of(r"\b(?:change|make|modify|update|rewrite|edit)\b[^.]{0,60}\bso(?: that)? (?:it|the constructor|`?__init__`?(?:\(\))?) "
           r"(?:reads|loads|takes|uses|pulls|fetches|looks up)\b", r"pplns_window", r"\bconfig\w*|\bsetting|\bjson\b|\bkey\b"),
)

# The two windows swapped: "window_size is hard-coded to 10000", "share_window is computed
# from the network difficulty". Such an answer diagnoses neither defect where it lives.
_SWAPPED_WINDOWS = (
    # (a table cell drops the verb: "| `window_size` fixed at 10,000 |")
    r"\bwindow_size`?\s+(?:(?:is|was|gets|stays|remains)\s+)?(?:\w+ ){0,2}(?:hard[- ]?cod\w*|fixed (?:to|at)|a (?:fixed|constant)\b|pinned (?:to|at)|stuck (?:to|at)|set to (?:a )?(?:literal|constant))",
    r"\bshare_window`?\s+(?:is|was|gets)\s+(?:\w+ ){0,2}(?:derived|computed|calculated)\s+from\s+(?:the )?(?:network |current )?(?:difficulty|net_diff|getdifficulty)",
)

# the dashboard's entry (`"window_limit": …` in get_worker_stats) shows a window, it sets none
_DASHBOARD_ENTRY = r"[\"']window_limit[\"']\s*:"
# the read quoted as missing: "there is no `config.get("pplns_window")` anywhere"
_QUOTED_AS_MISSING = (r"\b(?:(?:there(?:'s| is)|with|contains?|has) no|never (?:performs?|calls?|does|makes?|runs?|has)(?: an?)?) "
                      r"`[^`\n]*pplns_window[^`\n]*`")

HARDCODED = Finding(
    places=(r"share_window",),
    # the literal alone does not beat the query helper named beside it ("`_last_shares` caps the window at 10000")
    weak_places=(r"\b10[,_ ]?000\b|\b10k\b", r"\bshare[- ]window\b"),
    mechanisms={"hard-coded, overrides the config": any_of(
        r"\bhard[- ]?(?:cod|wir)\w*",
        r"\bliteral\b",
        r"\bmagic (?:number|constant|value)",
        r"\b(?:fixed|constant|static|frozen) (?:value|number|size|window|limit|10[,_ ]?000)\b",
        r"\bset to a (?:fixed |constant )?(?:literal|constant|fixed value)",
        r"\b(?:not|never|isn'?t|is not) (?:\w+ ){0,2}(?:read|taken|loaded|pulled|coming|configurable|derived|populated|set)\b[^.]{0,30}\b(?:from )?(?:the )?(?:config|configuration|settings?|pool_config|json)",
        r"\bignor\w* (?:the |your |any |its )?(?:config\w*|settings?|pool_config|pplns_window|configured)",
        r"\boverrid\w*|\bshadows?\b|\btakes precedence\b|\bwins over\b",
        r"\b(?:should|must|needs? to|ought to) (?:\w+ )?(?:be )?(?:configurable|read from|loaded from|taken from|come from|derived from|pulled from)\b|\bmake (?:it|this|the window|share_window) configurable\b",
        r"\bnot configurable\b|\bnon-?configurable\b|\bcan'?t be configured\b|\bcannot be configured\b",
        # "assigns a constant. It does not depend on `config` at all."
        r"\b(?:does not|doesn'?t|do not|don'?t|never) (?:\w+ )?(?:depend|rely|draw) (?:on|upon|from) (?:the )?`?(?:self\.)?(?:config\w*|settings?|pool_config)",
        r"\b(?:assigns?|assigned|sets?|defined|declared|initiali[sz]ed) (?:it )?(?:as |to )?a (?:constant|literal|fixed (?:value|number))\b",
        # "`share_window` is a constant."
        r"\b(?:is|was) (?:just |simply |merely |still )?a (?:constant|literal)\b",
        r"\bbak(?:ed|es|ing)\b|\bbuilt[- ]in constant\b",
        r"\b(?:never|doesn'?t|does not|won'?t|will not|can'?t|cannot) (?:matters?|change|have any effect|takes? effect)\b|\bpinned (?:to|at)\b",
        r"\bregardless of (?:the |what(?:'s| is) in the )?(?:config\w*|settings?|pool_config)",
        # ("is assigned the number 10000 directly instead of being taken from the configuration")
        r"\binstead of (?:(?:reading|using|loading|taking) (?:it |the value |the setting )?|being (?:read|taken|loaded|pulled|sourced) )(?:from )?(?:the )?(?:config|pplns_window)",
        r"\balways (?:uses|is|stays|remains|limits?) (?:\w+ ){0,3}10[,_ ]?000\b",
    )},
    fixes=(r"self\.share_window\s*=\s*[^#\n]*\bconfig", _READ_PPLNS_WINDOW),
    # the configured window read into the difficulty multiplier, or only into the dashboard's entry
    not_fixes=(r"n_factor\s*=\s*[^\n]*pplns_window", _DASHBOARD_ENTRY, _QUOTED_AS_MISSING),
    # (the difficulty-based window is what "never takes effect" when share_window is passed)
    # (the dashboard method only reads the window: "That method builds its result from a
    # fixed window" blames it)
    wrong_places=(r"n_factor|pplns_n|\b2\b", r"_last_shares|\bLIMIT\b", r"\bdifficulty[- ]based window\b",
                  r"\bget_worker_stats\b"),
    wrong_mechanisms={"windows swapped": any_of(*_SWAPPED_WINDOWS),
                      # the literal as a readability problem: "an unexplained magic number buried in
                      # the constructor. Give it a name at module level"
                      "a literal to name": r"\b(?:unexplained|undocumented|unnamed|cryptic) magic (?:number|constant|value)\b"
                                           r"|\bgive it a (?:\w+ )?name\b"},
    denials=(
        r"\bnot (?:a |an )?hard[- ]?cod\w* (?:problem|issue|bug|concern)",
        r"\b(?:is )?(?:only|just|merely|simply) (?:the |a )?(?:sensible )?(?:default|fallback)\b(?! (?:that|which|and) )"
        r"|\b(?:sensible|reasonable|sane|good|fine) (?:default|fallback)\b",
    ),
    fix_needs_place=False,
    # "`_last_shares()`'s LIMIT is a hard ceiling that overrides the configuration" beside a fix
    # in __init__: the answer fixes what it blamed on the query helper
    decoy_blame_voids_fix=True,
    span=2,
)

WINDOW_UNUSED = Finding(
    places=(r"window_size", r"calculate_payouts[^.]*\bwindow size\b|\bwindow size\b[^.]*calculate_payouts", r"\bN\s*[·*×x]\s*D\b"),
    mechanisms={"computed but never used": any_of(
        r"\b(?:never|not|isn'?t|is not|wasn'?t|was not|aren'?t|nowhere) (?:actually |even |ever |then |subsequently |really )?(?:used|referenced|read|passed|applied|consumed|utili[sz]ed|wired|plugged|handed|fed|given|supplied|forwarded)",
        r"\bunused\b|\bnever gets used\b|\bgoes unused\b",
        r"\bdead (?:code|variable|store|assignment|local|computation)",
        r"\b(?:ignored|discarded|thrown away|thrown out|goes nowhere|has no effect|no effect|does nothing|orphan\w*|wasted|pointless|superfluous|redundant)\b",
        r"\bdropped (?:on the floor|straight away|immediately)|\b(?:then|and) (?:simply |just )?(?:dropped|abandoned|forgotten|left (?:unused|alone|lying))\b",
        r"(?:→|->|=>|\bis|\bwas|\bremains|\bstays)\s*(?:a |simply |just |effectively )?dead\b(?! (?:config|setting|key|option|entry))",
        r"\b(?:computed|calculated|assigned|derived|set|computes|calculates|derives) (?:\w+ ){0,3}but\b",
        # "computes `window_size` and never uses it"
        r"\b(?:never|doesn'?t|does not|don'?t|do not) (?:actually |even |ever |then |really )?(?:uses?|reads?|pass(?:es)?|references?|consumes?|appl(?:y|ies))\b (?:it|them|that|this|the (?:value|result|variable|number)|`?window_size`?)\b",
        r"\bnothing (?:uses|reads|consumes|references)\b",
        # "computes a difficulty-based window that the query never uses"
        r"\b(?:that|which) (?:the (?:query|code|call|caller|function|method|select)|nothing|no code) (?:\w+ )?(?:never|doesn'?t|does not|won'?t) "
        r"(?:actually |even |ever |then |really )?(?:uses?|reads?|sees?|consumes?|touch(?:es)?)\b",
        r"\binstead of (?:using |passing )?`?window_size",
        r"\bshare_window`?,? (?:and )?not `?window_size\b",
        r"\b(?:uses?|queries|passes|query|limits? (?:by|to)) `?self\.share_window`? (?:instead|rather)",
    )},
    fixes=(
        r"_last_shares\([^)]*\bwindow_size\b", r"LIMIT[^\n]*\bwindow_size\b|\(\s*window_size\s*,\s*\)",
        all_of(_DO + r"(?:remove|delete|drop)\b", r"`?window_size\b"),
    ),
    fix_places=(r"calculate_payouts",),
    removals=(r"^\s*window_size\s*=",),
    # "`window_size` is not dead code: … so it is used and should be left as it is"
    denials=(r"\bis(?:n'?t| not) (?:actually |really )?(?:dead|unused)\b(?! (?:any ?more|now|once|after))",),
    # (a table row whose Where column is the dashboard method speaks of it: "| `get_worker_stats()` |
    # `window_size` is computed … but is never applied |")
    wrong_places=(r"n_factor|pplns_n|share_window|block_height|fee_sat|\bweights?\b", r"\bget_worker_stats\b"),
    # the unused value pinned on a function it never lived in ("get_worker_stats never uses window_size")
    wrong_mechanisms={
        "windows swapped": any_of(*_SWAPPED_WINDOWS),
        "another function's window": r"\b(?:get_worker_stats|record_share|save_payouts|from_file)\b(?:\(\))?`?\s+(?:\w+ ){0,2}(?:never|doesn'?t|does not|don'?t) "
        r"(?:\w+ ){0,2}(?:uses?|reads?|pass\w*|gets?|takes?|applies)\b[^.]{0,20}\bwindow_size"
        # "`window_size` is never used for the dashboard statistics"
        r"|\bwindow_size`?\s+(?:is|was)\s+(?:\w+ )?(?:never|not)\s+used\s+(?:for|by|in)\s+the\s+dashboard\b"
        # "Remove the unused `window_size` from `get_worker_stats()`"
        r"|\b(?:remove|drop|delete)\b[^.]{0,30}\bwindow_size`?\s+from\s+`?(?:get_worker_stats|record_share|save_payouts|from_file)\b"
        # a row placing the computation there: "| `get_worker_stats()` | Computes `window_size = …` but then ignores it"
        r"|\b(?:get_worker_stats|record_share|save_payouts|from_file)\b(?:\(\))?`?\s*\|\s*(?:\w+ ){0,2}"
        r"(?:computes|calculates|derives|builds)\s+`?window_size\b",
    },
    span=2,
)

CONFIG_KEY = Finding(
    places=(r"pplns_window",),
    mechanisms={"configured key never read": any_of(
        r"\b(?:never|not|isn'?t|is not|wasn'?t|was not|nowhere) (?:actually |even |ever |being |really )?(?:read|used|referenced|looked up|loaded|consulted|accessed|picked up|wired|mapped|queried|applied|honou?red|respected)",
        r"\bunused\b|\bdead (?:config|setting|key|option|entry)\b",
        r"\b(?:ignored|ignores|has no effect|no effect|does nothing|orphan\w*|silently dropped|goes nowhere)\b",
        r"\bnothing (?:in the code )?(?:reads|uses|references|consumes)\b|\bno (?:code|line) (?:\w+ )?(?:reads|uses|references|consults)\b",
        r"\b(?:never|nowhere) (?:asks?|looks?|checks?) (?:for|up|at)\b|\bdoes(?:n'?t| not) (?:correspond|map|relate) to\b|\bnever (?:picked|mapped)\b",
        r"\bmis-?match\w*|\bdoes(?:n'?t| not) match\b|\bdon'?t match\b|\bdo not match\b|\bdifferent (?:name|key)s?\b|\bnamed differently\b|\bwrong (?:key|name)\b|\bmisnamed\b|\btypo\b(?! (?:there |here )?(?:would|could|might|fails|can|will)\b)|\bnames? disagree\b|\bdiffer\b",
        r"\b(?:looks? (?:for|up)|reads?|expects?) (?:the )?(?:key )?`?(?:share_window|pplns_n)`? (?:\w+ ){0,3}(?:instead|rather|but|while)\b",
    )},
    fixes=(_READ_PPLNS_WINDOW,),
    # pplns_n is read correctly: its missing key is not the configured window's; the query
    # helper's LIMIT only applies the window its callers pass
    wrong_places=(r"n_factor|pplns_n", r"_last_shares|\bLIMIT\b"),
    wrong_mechanisms={"pplns_n blamed": any_of(
        r"\breads? `?pplns_n`? (?:where|when|instead of|rather than)\b",
        r"\b`?pplns_n`? (?:should|must|needs? to) (?:be|read|become)\b[^.]{0,20}\bpplns_window",
    )},
    # the diagnosis ("pplns_window is never read") and the key read into the difficulty
    # multiplier (a window of N × difficulty shares) are no fix
    not_fixes=(r"\A(?![\s\S]*config(?:uration)?\s*(?:\.get\(|\[)\s*['\"]pplns_window)"
               r"[\s\S]*?\b(?:never|not|isn'?t|wasn'?t|n't) (?:\w+ )?(?:read|loaded|looked up|consulted|used)\b",
               r"n_factor\s*=\s*[^\n]*pplns_window", _DASHBOARD_ENTRY, _QUOTED_AS_MISSING),
    fix_needs_place=False,
    span=2,
)


def _swapped_windows(answer: Answer) -> str | None:
    """A novel prose sentence that swaps the two windows' defects, if any."""
    patterns = [re.compile(p, re.IGNORECASE) for p in _SWAPPED_WINDOWS]
    for unit in answer.units:
        if unit.kind in ("prose", "heading") and unit.novel and any(p.search(unit.text) for p in patterns):
            return unit.text.strip()
    return None


def _no_swapped_prose(answer: Answer, verdict: Verdict) -> Verdict:
    # the fix-only pass holds for a bare fix, not for a fix beside prose that pins the
    # hard-coding on window_size (or calls share_window the difficulty-derived one)
    swapped = _swapped_windows(answer) if verdict.passed and verdict.kind == "fix" else None
    if swapped:
        return Verdict(False, f"its prose attributes the windows' defects to each other: «{swapped[:300]}»",
                       kind="wrong_mechanism", rule="windows swapped")
    return verdict


CHECKS = (
    Check(
        "pplns.hardcoded_share_window",
        "Hard-coded share_window = 10000",
        "identifies `share_window = 10000` as a hard-coded value that overrides configuration",
        rule=HARDCODED, require="either", post_check=_no_swapped_prose,
        missing="does not identify share_window = 10000 as a hard-coded value overriding the configuration",
    ),
    Check(
        "pplns.window_size_unused",
        "window_size computed but unused",
        "identifies that `window_size` is computed in `calculate_payouts` but never used by the query",
        rule=WINDOW_UNUSED, require="either",
        missing="does not say window_size is computed in calculate_payouts but never used",
    ),
    Check(
        "pplns.config_key_mismatch",
        "Configured pplns_window never read",
        "identifies that the configured `pplns_window` is never read (the code's `share_window` "
        "name does not match the config key), and fixes it by reading `pplns_window` from config",
        rule=CONFIG_KEY, require="fixes",
        missing="does not say the configured pplns_window is never read and read it from config",
    ),
)


def reference_answer() -> str:
    return (Path(__file__).parent / "reference" / "pplns.md").read_text(encoding="utf-8")


TASK = Task(
    name="pplns",
    title="PPLNS Mining Pool",
    difficulty="hard",
    checks=CHECKS,
    build_prompt=build_prompt,
    reference_answer=reference_answer,
)
