"""payment — payment processor (expert, 4 checks): race, SQL injection, float money, atomicity."""

from __future__ import annotations

import re
from pathlib import Path

from llmbench.grading.check import Check, Verdict
from llmbench.grading.parsed_answer import Answer
from llmbench.grading.rules import Finding, all_of, any_of, wrong_diagnosis
from llmbench.tasks.base import Task
from llmbench.tasks.prompting import fixture_block

FIXTURES = ("payment_processor.py",)

def build_prompt() -> str:
    return (
        "This module pays out miner balances from our pool's hot wallet. Four payout workers run "
        "it in parallel. Since we went live, operators have reported:\n"
        "- a few miners received the same payout twice, two on-chain payments seconds apart;\n"
        "- after a wallet RPC hiccup, one payout went out again at the next payout round even "
        "though the first payment had confirmed, and the logs show no error from the wallet;\n"
        "- the fees we record do not add up to what our accounting expects: totals are off by a "
        "few satoshis here and there;\n"
        "- an external auditor flagged the public payment-history endpoint, which passes the "
        "address typed by the visitor to `get_payment_history`, as high risk.\n\n"
        "Review the code. Find the bug(s), explain the cause of each one and give the fix "
        "(corrected code).\n\n"
        + fixture_block(FIXTURES[0])
        + "\n"
    )


# -- grading ------------------------------------------------------------------

_CONCURRENT = (
    r"\b(?:two|both|multiple|several|concurrent|parallel|other|another|second|different|separate) "
    r"(?:of (?:the|our|your|these|those) )?(?:\w+ )?(?:payout |payment )?(?:workers?|threads?|processes|instances|loops)\b"
)

RACE = Finding(
    places=(
        r"self\.processing|`processing`(?! status)|\bprocessing set\b|\bset of (?:ids|payouts|in-flight)|"
        r"process_pending_payments|\bin-?flight set\b|"
        r"\bmembership (?:test|check)|\bpending rows?\b|\bstatus (?:check|column)\b|"
        r"\bAND status\b|\bSELECT\b[^.]{0,40}\bUPDATE\b",
    ),
    weak_places=(r"self\.lock|`lock`|\bthe lock\b|\bthreading\.Lock\b",),
    mechanisms={"check-then-act race": any_of(
        r"\bcheck[- ](?:then|and)[- ](?:act|add|set|insert|mark|update)|\btest[- ]and[- ]set|\bTOCTOU\b|\btime[- ]of[- ]check",
        r"\bbetween (?:the )?(?:check|membership test|`?in`? (?:check|test)|`?if`?|select|read|query)\w* and (?:the )?(?:add|`?\.?add`?|insert|update|mark|set)",
        # an unused lock is only the race when tied to the concurrent check ("self.lock is never used" alone is not)
        all_of(
            r"\block\b[^.]{0,60}\b(?:never|not|isn'?t|is not) (?:\w+ ){0,2}(?:used|acquired|taken|held|entered|applied)|\bunused lock\b|\bwithout (?:ever )?(?:holding|acquiring|taking|using) (?:the |any |a )?lock|\block (?:is |that is |which is )?(?:created|defined|declared|instantiated|allocated) but\b|\bnever (?:acquires|uses|takes) (?:the |its )?lock|\bno lock\b",
            r"\brac(?:e|ing)\b|\bconcurren\w*|\bsame payout\b|\bdouble\b|\btwice\b|\bcheck\w*|\btest\w*|self\.processing|\bguard\w*|\bprotect\w*",
        ),
        all_of(_CONCURRENT, r"\b(?:same|both|each|twice|double|duplicate)\b", r"\b(?:pay|paid|payout|payment|pick|see|select|read|pass|check|process|claim|send)\w*"),
        # "not atomic" is the race only when said of the check/claim (status updates that are
        # "not atomic" are the atomicity finding)
        # (in one sentence: in a window, "picks up `pending` rows" beside "the status change and
        # the payment are not atomic" is two statements)
        r"(?:\bcheck\w*|\btest\w*|\bmembership\b|\badd\w*\b|\bclaim\w*|\bset\b|\block\b|\bSELECT\b|\bread\w*|\bpick\w*|"
        r"self\.processing|\bin-?flight\b)[^.]{0,100}?(?:\bnot atomic\b|\bnon-?atomic\b|\bisn'?t atomic\b)|"
        r"(?:\bnot atomic\b|\bnon-?atomic\b|\bisn'?t atomic\b)[^.]{0,80}?(?:\bcheck\w*|\btest\w*|\bmembership\b|\badd\w*\b|"
        r"\bclaim\w*|\bset\b|\block\b|\bSELECT\b|\bread\w*|\bpick\w*|self\.processing|\bin-?flight\b)",
        # "separate steps" is the race only when the steps are the check and the claim (the
        # status commits "in separate steps" around the wallet call are the atomicity finding)
        all_of(r"\b(?:(?:two|2) )?(?:separate|distinct|independent) (?:steps|operations|actions)",
               r"\bcheck\w*|\btest\w*|\bmembership\b|\bclaim\w*|\b(?:add|adds|added)\b|self\.processing|\bin-?flight\b|"
               + _CONCURRENT),
        r"\bnothing (?:serializ|serialis|guard|protect)\w*|\bnot (?:serializ|serialis)\w*",
        r"\bdoes(?:n'?t| not) (?:check|verify|require|guard on) (?:that )?(?:the )?(?:row |status )(?:is |was |still )?(?:still )?(?:'|`)?pending|\bno (?:`)?AND status\b|\bunconditional(?:ly)? (?:update|mark)",
        r"\bper[- ]process\b|\bin-?memory set\b[^.]{0,60}\b(?:process|instance|host)",
    )},
    fixes=(
        r"\bAND\s+status\s*=\s*(?:'pending'|\?|:\w+)", r"\browcount\s*(?:==|!=|<|>|<=|>=)\s*[01]\b|\bif (?:not )?\w*\.rowcount\b",
        r"BEGIN IMMEDIATE|SELECT[^\n]*FOR UPDATE|SKIP LOCKED",
    ),
    fix_needs_place=False,
    # (`run()` starts the workers once; calling it twice is no defect of the claim)
    # (`_connect()` opens a connection per call: "serialize connection setup with `self.lock`" is about the database, not the claim)
    wrong_places=(r"_send_payment|get_payment_history|calculate_fee|batch_payments|\btotals\b|sendtoaddress|except\b|\brun\(\)|_connect\b",),
    # the set itself broken by threads: under the GIL `add`/`discard` are atomic and nothing
    # iterates it; the harm is two workers passing the check, not a corrupted container
    wrong_mechanisms={"the set itself corrupted": (
        r"\bnot (?:a )?thread-?safe (?:containers?|data structures?|collections?)\b"
        r"|\bcorrupt\w* (?:the |its )?(?:set|internal|hash)\w*|\bSet changed size\b"
        # "Python's `set` is not safe for concurrent mutation: `add()` and `discard()` … can leave
        # the set in an inconsistent state"
        r"|\bnot (?:thread-?)?safe for concurrent (?:mutation|modification|writes?|updates?)\b"
        r"|\bleave\w* (?:the |its )?set in an? (?:inconsistent|corrupt\w*|broken|invalid) state\b"),
        # the wallet's RPC proxy shared by the workers: each payout still goes out once per
        # claim, and the harm is two workers claiming it
        "wallet proxy shared by threads": (
            r"\b(?:rpc|wallet|proxy|AuthServiceProxy)\b[^.]{0,80}\bnot (?:\*\*)?thread-?safe\b"
            r"|\b(?:meant|used|supposed|there) to (?:protect|guard|serialize) (?:the )?(?:wallet|rpc|proxy|sendtoaddress)\b"),
        # shared database connections: each call opens its own, and the race is the claim
        "connections shared by threads": (
            r"\b(?:sqlite3? )?connections? (?:objects? )?(?:are|is) not (?:\w+ )?thread-?safe\b"
            r"|\bcheck_same_thread\b|\b(?:interfere|clobber)\w* with each other'?s? (?:database|db|connection)")},
    denials=(
        r"\bno (?:real |actual )?(?:data )?race(?: condition)?s?\b",
        r"\bGIL\b[^.]{0,40}\b(?:makes|keeps) (?:this|it|the (?:check|set|code)) (?:\w+ )?(?:atomic|safe)",
        # ("so the set already prevents two workers from processing the same payout")
        r"\b(?:lock|set) (?:is |already )?(?:correctly |properly )?(?:prevents?|protects?|guards?) (?:against )?"
        r"(?:this|double|concurrent|(?:two|several|multiple|other) (?:workers?|threads?))",
        # "… are the retry path firing on the next worker, not two workers racing"
        r"\bnot (?:\w+ )?(?:two|several|multiple|concurrent) (?:workers?|threads?) (?:racing|colliding|competing)\b|\bnot a race\b",
        # "`self.processing` already prevents two workers from taking the same row", "the
        # `self.processing` set already ensures that two workers never handle the same payout",
        # "The `processing` set already prevents two workers from picking up the same payout")
        r"(?:\bself\.|(?<![\w.])`)processing`?(?: set)? (?:already )?(?:prevents?|stops?|keeps?|ensures?|guarantees?|makes sure)\b"
        # ("`self.processing` guarantees that only one worker handles a given `payout_id` at a time")
        r"(?: that)? (?:two |several |multiple |other |no |only one |just one |one )?(?:workers?|threads?)",
        # "under the GIL `payout_id in self.processing` and `self.processing.add()` can't interleave in a way
        # that lets two threads claim the same id"
        r"\b(?:can(?:no|['’])t|cannot|never|don['’]t|do not) (?:\w+ )?interleave\b",
    ),
    span=2,
)

_SQL_PLACES = (
    r"get_payment_history|_execute_payment|payout_id|`address`|\baddress (?:parameter|argument|value|string|field|input)|"
    r"\bthe (?:visitor'?s?|user'?s?|miner'?s?|supplied|given) address\b|\bpayment[- ]history\b|\bhistory (?:endpoint|lookup|query|page)\b|"
    r"WHERE address|WHERE id|\baddress is (?:interpolated|inserted|formatted|pasted|concatenated|spliced|embedded|placed|put)"
)
SQL = Finding(
    places=(_SQL_PLACES,),
    # the statement itself ("formats `payout_id` into its `UPDATE`"): too generic to beat a
    # function named beside it
    weak_places=(r"`(?:UPDATE|SELECT|INSERT|DELETE)`",),
    mechanisms={"injectable f-string SQL": any_of(
        r"\binject\w*|\bSQLi\b",
        r"\binterpolat\w*|\bsplic\w*|\bconcatenat\w*|\b(?:past|glu|stuff|paste|drop)\w* (?:\S+ ){0,4}(?:straight |directly |verbatim )?into (?:the )?(?:sql|query|statement|string)",
        r"\b(?:address|payout_id|txid|value|input|\{\w+\})`?'?`? (?:is )?(?:\w+ )?in (?:an? |the )?f-?strings?\b",
        r"\bbecomes? (?:part of|code in) (?:the )?(?:sql|query|statement)|\bexecuted as (?:sql|code)",
        r"\bformat\w* (?:\w+ ){0,3}(?:in)?to (?:the )?(?:sql|query|statement|string)",
        r"\b(?:embedd|insert|plac|put)\w* (?:\w+ ){0,2}(?:directly |verbatim |raw |straight )?(?:in|into) (?:the )?(?:sql|query|statement|string|text)",
        r"\bf-?strings? (?:to build|for|in|build|builds|to construct|constructs?) (?:\w+ ){0,2}(?:sql|quer|statement)",
        r"\b(?:sql|query|statement|queries) (?:is |are )?(?:built|constructed|assembled|formatted) (?:\w+ ){0,2}(?:with|from|using|via|by) (?:an? )?(?:f-?strings?|string formatting|python formatting)",
        r"\buser[- ](?:controlled|supplied|provided)\b|\buntrusted\b|\bunsanitized\b|\bunescaped\b|\battacker[- ]controlled\b",
        r"\bnot (?:escaped|sanitized|sanitised|parameteri[sz]ed|bound|quoted)\b|\bwithout (?:any )?(?:parameters|parameteri[sz]ation|escaping|placeholders|binding|bound parameters|quoting)",
        r"'\s*OR\s*'?1'?\s*=\s*'?1|\bDROP TABLE\b|\bUNION SELECT\b|\bOR 1\s*=\s*1\b|'--",
    )},
    fixes=(
        # sqlite3's placeholders (qmark, named), unquoted: '?' is a string literal, and the
        # format style %s of other drivers is a syntax error in sqlite3
        r"\bWHERE\s+address\s*=\s*(?:\?|:\w+)(?!['\w])",
        r"\bWHERE\s+id\s*=\s*(?:\?|:\w+)(?!['\w])",
        all_of(
            r"\bparameteri[sz]\w*|\bplaceholders?\b|\bbind (?:parameters|variables|values)|\bbound (?:parameters|values)|\bprepared statements?|`\?`|\bqmark\b",
            r"\b(?:use|using|switch|replace|pass|bind|fix|rewrite|should|must|instead|always|change|convert)\w*\b",
        ),
    ),
    fix_places=(r"get_payment_history|_execute_payment|_claim\w*|_mark\w*|history|_update\w*|_set_status",),
    # the payout id bound as a parameter: the race's claim and the atomicity fix's statements bind
    # it too, so alone (no injection asserted) it is no SQL fix
    shared_fixes=(r"\bWHERE\s+id\s*=\s*(?:\?|:\w+)",),
    # ... and beside an injection asserted only in the history query, it fixes another statement
    shared_fix_places=(r"_execute_payment|payout_id|WHERE id|\bUPDATE\b",),
    # the race fix's claim (`WHERE id = ? AND status = 'pending'`) binds a parameter too, but means the race
    # and so does the atomicity fix's new state (`SET status = 'review' WHERE id = ?`)
    not_fixes=(r"\bAND\s+status\s*=", r"\bstatus\s*=\s*['\"](?!(?:pending|processing|paid)['\"])\w+['\"]"),
    # placeholders sqlite3 does not take, or quoted into a string literal
    # or the value given bare where sqlite3 wants a sequence: `(address)` is a str
    broken_fixes=(r"\bWHERE\s+(?:address|id)\s*=\s*(?:%s|'\?'|\"\?\"|'%s'|:\w+'|\{)",
                  r"^\s*\((?:address|payout_id|txid)\)\s*,?\s*$"),
    denials=(
        r"\bno (?:sql[- ]?)?injection\b|\bnot (?:really |actually )?(?:attacker|user)[- ](?:controlled|supplied)",
        # "So there's no real injection path here"
        r"\bno (?:real |actual |practical |exploitable )?(?:sql[- ]?)?injection (?:path|vector|risk|route|possible)\b",
        r"\bnot (?:really |actually )?(?:injectable|exploitable)\b",
        r"\bsqlite3? (?:refuses|won'?t|will not|does not|doesn'?t|cannot|can'?t) (?:\w+ ){0,3}(?:multiple|more than one|several) statements?",
    ),
    wrong_places=(r"process_pending_payments|calculate_fee|batch_payments|_send_payment",),
    # placeholders offered for speed: "SQLite cannot reuse its prepared-statement cache. Using
    # placeholders is faster"
    wrong_mechanisms={
        # the wallet's own txid as the injected value ("SQL injection via `txid`"): it comes from
        # bitcoind, while the address comes from the visitor
        "the wallet's txid injected": (
            r"\binjection (?:risk )?(?:via|through|from|of|in) (?:the )?`?txid\b"
            r"|\btxid`? (?:returned |that comes back )?(?:by|from) the wallet(?: RPC)?`?\b[^.]{0,60}\b(?:interpolat\w*|written into|inject\w*|f-string)"),
        "placeholders for speed": (
        r"\b(?:prepared[- ]statement|statement|query[- ]plan) cache\b|\bplaceholders? (?:is|are) faster\b"
        r"|\bfaster\b[^.]{0,40}\bplaceholders?\b|\bplaceholders?\b[^.]{0,40}\b(?:faster|for (?:speed|performance))\b")},
    span=2,
)

_MONEY_PLACES = (
    r"calculate_fee|batch_payments|fee_percent|min_payout|net_amount|float\(|`float`|"
    r"\b0\.0\b|`round\(|\bround\(|\bfee calculation|\bbatch(?:ing|ed)? (?:totals|sums|amounts)|"
    r"\bamount - fee\b|\bamount column"
)
_MONEY_WEAK = r"`amount`|`fee`|`totals?`|\bREAL column"
FLOAT = Finding(
    places=(_MONEY_PLACES,),
    # bare amounts are money anywhere: named beside another function they do not place a fix there
    # (SQLite's REAL columns are where amounts are read back, not where money is computed)
    weak_places=(_MONEY_WEAK,),
    mechanisms={"float loses money precision": any_of(
        # ("as precise as the chain allows", "precise enough" say it is fine)
        r"\bprecision\b|(?<!\bas )\bprecise\b(?! enough)|\bimprecise\b|\binexact\w*|\bapproximat\w*",
        r"\brounding (?:errors?|issues?|problems?|drift|artifacts?|mistakes?)\b|\bround-?off\b|\bmis-?round\w*",
        # ("summing `net_amount` values that were never stored" is about the table, not the number)
        r"\b(?:can'?t|cannot|can not|not|never) (?:be )?(?:exactly |precisely |accurately )?(?:represent|express)\w*"
        r"|\b(?:can'?t|cannot|can not|not|never) (?:be )?(?:exactly |precisely |accurately )stor\w*"
        r"|\b(?:can'?t|cannot|can not) (?:be )?stor\w*",
        r"\bbinary (?:floating|fraction|representation|float)|\bbase[- ]2\b|\bIEEE[- ]?754|\bdouble[- ]precision|\b64-bit doubles?\b",
        r"0\.1\s*\+\s*0\.2|0\.30000000000000004|0\.1 \+ 0\.2",
        # ("the drift your accounting sees" names the reported symptom, not its cause)
        r"\baccumulat\w* (?:\w+ ){0,2}errors?|\berrors? accumulat\w*|\bcompound\w* (?:error|rounding)"
        r"|\bdrift\w*(?! (?:that )?(?:your|the|their) (?:accounting|accountants?|auditors?|books|finance)\b)",
        r"\blos(?:e|es|ing|t) (?:\w+ ){0,2}(?:satoshis?|cents?|precision|accuracy|digits|fractions?)",
        r"\boff by (?:a |one |some |a few )?(?:satoshis?|sats?|cents?)",
        r"\bnot (?:exact|accurate|suitable for (?:money|currency|monetary))",
    )},
    fixes=(
        r"(?-i:\bDecimal\b)(?! (?:places|point|digits))|\bdecimal\.Decimal\b|\bdecimal module\b",
        r"\bfrom decimal import\b|\.quantize\(|\bROUND_(?:DOWN|HALF_EVEN|HALF_UP|FLOOR)\b",
        r"\b(?:integer|int|whole) (?:number of )?(?:satoshis?|sats|base units?|smallest units?|minor units?)|\b(?:satoshis?|sats|base units?|smallest units?|minor units?) (?:as |stored as |in )?(?:integers?|ints?)\b",
        r"\b\w+_sats?\b\s*=|100_000_000|10\s*\*\*\s*8|\b1e8\b|\bCOIN\s*=",
    ),
    fix_places=(r"^(?!get_payment_history$)",),   # anywhere money is computed; not the read-only history
    not_fixes=(
        r"^\W*round\b|\bround\w*(?: \w+){0,3},? to (?:whole|integer|full|the nearest) (?:satoshis?|sats)",
        # scaled to satoshis, floored/rounded, then divided straight back: still a float
        r"\b(?:floor|ceil|round|int|trunc)\((?:[^()]|\([^()]*\))*\*\s*(?:1e8|100_?000_?000|10\s*\*\*\s*8)\s*\)\s*/\s*(?:1e8|100_?000_?000|10\s*\*\*\s*8|float\()",
    ),
    wrong_places=(r"get_payment_history|process_pending_payments|self\.processing|_send_payment",),
    # "the float arithmetic there is fine", "The fee rounding is fine: …, so floats are OK for
    # fees": the money maths itself is what a denial may name
    denial_places=(_MONEY_PLACES, _MONEY_WEAK,
                   r"\bfloat(?:ing[- ]point)? (?:math|maths|arithmetic|calculations?|computations?)\b|\bfloats\b|\bfee rounding\b"
                   # "The float is not what makes the totals drift"
                   r"|\bthe float\b(?! (?:column|field|value (?:in|of) the))"),
    denials=(
        r"\bno need (?:for|to use|to switch to|to move to) (?:`?decimal|integer)|\b(?:is|are) (?:precise|accurate|exact) enough\b|"
        r"\bkeeps? (?:full |satoshi[- ]level |satoshi |enough )precision\b",
    ),
    # the drift blamed on the read-only history ("it returns `amount` … as floats") beside
    # Decimal code elsewhere: the code is not this diagnosis's fix
    decoy_blame_voids_fix=True,
    span=2,
)

_ATOMIC_PLACES = (
    r"_execute_payment|_send_payment|sendtoaddress|\bwallet\b|\btxid\b|`pending`|'pending'|\bback to pending\b|"
    r"\bstatus (?:update|updates|change)s?\b|\bexcept\b|\bcommit\w*\b"
)
ATOMICITY = Finding(
    places=(_ATOMIC_PLACES,),
    # "paid" names the symptom as often as the status ("the miners paid twice"): it does not beat
    # another function named beside it (`batch_payments`' `totals`)
    weak_places=(r"\bpaid\b",),
    mechanisms={"send and status not atomic": any_of(
        # a failure after the coins left resets the row to pending -> paid again
        all_of(
            r"\b(?:reset\w*|revert\w*|roll\w* back|set\w* (?:it |the row |the status )?back|put\w* back|back to (?:'|`)?pending|"
            r"return\w* (?:it |the row |the payout )?to (?:'|`)?pending|re-?queue\w*|mark\w* (?:it |the row |the payout )?(?:as |back to )?(?:'|`)?pending|"
            r"\b(?:put|set|flip|turn|move|send)\w* (?:\w+ ){0,3}back\b|"
            # "the `except` block sets `status = 'pending'` again"
            r"\bset\w* `?status\s*=\s*['\"]?pending['\"]?`? again\b)",
            # ... and the consequence: the coins already left / it is paid again
            r"\balready\b|\bagain\b|\btwice\b|\bdouble\w*|\bsecond time\b|\bduplicat\w*|\beven (?:though|if)\b|\balthough\b|"
            r"\b(?:after|once|when|if) (?:the )?(?:coins|payment|funds|money|transaction|tx|wallet (?:call|rpc|send)|sendtoaddress|send)\b[^.]{0,30}\b(?:sent|succeed\w*|broadcast|left|went|gone|out|through|returned)|"
            r"\b(?:coins|funds|money|transaction|tx) (?:were |was |had |have |has )?(?:already |actually )?(?:been )?(?:sent|broadcast|left|gone out)\b",
        ),
        all_of(
            r"\b(?:double|duplicate|repeated|second)[- ]?(?:pay\w*|spend\w*|send\w*|transactions?)\b|\bpaid (?:again|twice)\b|\bpays? (?:\w+ )?(?:again|twice)\b|\bsent (?:again|twice)\b",
            r"\b(?:after|once|even though|although|even if)\b[^.]{0,80}\b(?:sent|succeeded|paid|broadcast|went (?:out|through)|goes through|left|sendtoaddress)|\btime(?:s|d)?[- ]?out|\bcrash\w*|\bfails? (?:after|once|between)|\bfailure (?:after|once|between)",
        ),
        # errors swallowed
        r"\bcatch(?:es|ing)? (?:any|every|all) (?:\w+ )?(?:exceptions?|errors?)\b[^.]{0,40}\breturn\w* `?None\b|"
        r"\b(?:error|exception|failure)s? (?:is |are |gets? |being )?(?:thrown away|discarded|dropped|ignored|swallowed)\b|"
        r"\beats? (?:any|every|all|the|whatever) (?:\w+ )?(?:exceptions?|errors?)\b|\blos(?:e|es|ing|t) (?:the )?(?:real|actual|original|underlying) (?:error|exception|cause)\b|\b(?:errors?|exceptions?|failures?) never (?:reach|make it to|show up in|appear in) (?:the )?logs?\b|"
        r"\bturns? (?:any|every|all) (?:\w+ )?(?:exception|error|failure)s? into\b|\bswallow\w*|\bsilently\b|\bhides? (?:the )?(?:real )?(?:error|exception|cause)|\bdiscard\w* (?:the )?(?:error|exception)|\bthrows? away (?:the )?(?:error|exception)",
        r"\breturns? `?None`? (?:on|for) (?:any|every|all)\b|\bexcept Exception:? (?:return None|pass)\b|\bcatch[- ]all\b|\bbare except\b",
        # "Any exception (timeout, connection reset, HTTP 500) is turned into `None`"
        r"\b(?:exceptions?|errors?|failures?)\b[^.]{0,60}\b(?:is|are|gets?) (?:turned|converted|mapped|changed) into `?None\b",
        r"\b(?:error|exception|failure reason)s? (?:is |are |gets? )?(?:lost|eaten|suppressed|masked|never logged|not logged)\b|\bno (?:way )?to (?:tell|know|distinguish)\b",
        # not one transaction ("`sendtoaddress` is not idempotent by itself" is the RPC's nature, not this code's)
        all_of(
            r"\bnot (?:\w+ ){0,2}atomic|\bnon-?atomic|\bno (?:\w+ )?transaction\b|\bnot (?:in|inside|wrapped in|part of|covered by) (?:a |one |the same |a single )?(?:\w+ )?transaction|"
            r"\bseparate (?:commits|transactions)|\bcommit\w* (?:before|between)|\bpartial (?:failure|state)|\binconsistent (?:state|with)|\bout of sync|\bnot idempotent(?! by itself| on its own| in itself)|\bno idempotency|\btwo-phase|\bcrash (?:between|after)",
            r"\b(?:send|sent|payment|pay|wallet|txid|status|commit|sendtoaddress|coins|mark\w*|paid)",
        ),
    )},
    fixes=(
        # (or a variable that holds it: `new_status = "review" if attempted else "pending"`)
        r"\b(?:\w+_)?status\s*=\s*['\"](?:\w+_)?(?:unknown|uncertain|in_doubt|indoubt|failed|error|review|needs_\w+|manual\w*|reconcil\w*|stuck|sent|sending|broadcast\w*|submitted)['\"]",
    ),
    fix_places=(r"_execute_payment|_send_payment|_pay\w*|_mark\w*|_settle\w*",),
    # (the worker loop's own `except` logs what it catches: "errors swallowed" there is a decoy)
    wrong_places=(r"self\.processing|self\.lock|process_pending_payments|get_payment_history|calculate_fee|batch_payments|\btotals\b|\btwo (?:workers|threads)\b|_worker_loop",),
    # the race's check-then-add is the other check's non-atomic step
    wrong_mechanisms={"the race's check is not atomic": (
        r"\b(?:membership (?:test|check)|check[- ]then[- ](?:act|add)|`?(?:self\.processing\.)?add(?:\(\))?`?|`?self\.processing`?)"
        r"[^.]{0,50}\b(?:are|is) not (?:\w+ ){0,2}atomic"
        # the claim made without checking the status: the race again, on the row
        r"|\b(?:without (?:first )?checking (?:what |whether )?(?:the |its )?(?:status|state|row)|decision to pay)\b"
        r"[^.]{0,80}\bnot (?:\w+ ){0,2}atomic"
        # "between the SELECT … and the UPDATE …, another worker can read the same row"
        r"|\b(?:another|a second|the other|two|both) (?:workers?|threads?)\b[^.]{0,60}\b(?:read|claim|pick|select|grab|see|fetch|take)s?\b"
        r"[^.]{0,20}\bsame (?:pending )?(?:row|payout)"
        # "two workers can both see the id as free and both call `_execute_payment()`"
        r"|\b(?:two|both) (?:workers?|threads?) (?:can |could |may |will |would )?both\b"
        # "The worker that timed out and a second worker both picked up the payout"
        r"|\b(?:a second|another|the other) (?:workers?|threads?)\b[^.]{0,20}\bboth (?:picked|grabbed|took|claimed|fetched|read)\b"
        # "status update not atomic with the read": the read and the claim, the race again
        r"|\bnot (?:\w+ )?atomic with (?:the )?(?:read|select|check|lookup|query)\b"),
        # a database error ("database is locked" from SQLite connections shared by threads) as
        # what resets the row: the repeat comes from a failure after the coins were sent
        "database errors": (
            r"\bdatabase is locked\b|\b(?:sqlite3? )?connections? (?:objects? )?(?:are|is) not (?:\w+ )?thread-?safe\b|\bcheck_same_thread\b"),
        # the transport retrying a request: the program sends once per call, the repeat is the
        # reset to `pending`
        "the RPC client retries": (
            r"\b(?:RPC|HTTP|wallet) (?:client|proxy|library|layer)\b[^.]{0,30}\bretr(?:y|ies|ying)\b"
            r"|\bautomatic (?:\w+ )?retries\b|\bretr(?:y|ies|ying) (?:a|the) (?:request|call) that timed out\b"),
        # the opposite failure: a row left in `processing` is never paid (not paid twice)
        "row stuck, never paid": (
            r"^(?=.*(?:\bstuck\b|\bleft (?:in|as|at) `?'?processing|\bnever (?:\w+ )?(?:picked up|paid|processed)\b|\bforever\b))"
            r"(?!.*\b(?:twice|double\w*|duplicat\w*|re-?pa(?:y|id|ys|ying)|second (?:time|payment|send)|"
            r"(?:pa(?:y|id|ys)|sen[dt]\w*|goes out|went out)\b[^.]{0,20}\bagain)\b)")},
    denials=(
        r"\b(?:is|are) (?:the )?(?:intended|expected|desired|correct|right) (?:retry )?behaviou?r\b|\bworks as (?:intended|designed)\b",
        # "the reset to `pending` in the `except` branch is intended: it lets the next round retry"
        r"\b(?:is|are) (?:\w+ )?intended(?! (?:to|for|as|by))\b",
        r"\bretry (?:behaviou?r |logic )?(?:is|looks) (?:correct|fine|right|intended)",
        r"\b(?:is|are) (?:already|correctly|properly|fully|effectively|safely) (?:\w+ )?(?:transactional|atomic|idempotent)\b|\b(?:is|are) (?:transactional|atomic|idempotent) already\b",
        r"\b(?:is|follows|uses) (?:the|a) (?:correct|right|standard|recommended|safe|usual|normal|common) (?:retry )?(?:pattern|approach|design)\b",
    ),
    span=2,
)


_LOCK_OPEN = re.compile(r"^(\s*)(?:with\s+self\.lock\s*:|self\.lock\.acquire\()")
_MEMBERSHIP = re.compile(r"\bin\s+self\.processing\b")
_CLAIM = re.compile(r"\bself\.processing\.add\(|\bself\.processing\s*\|=")


def _or_lock_around_check(answer: Answer, verdict: Verdict) -> Verdict:
    """A failed race check still passes on new code that locks the membership test itself,
    unless the answer denied the race (a fix never retracts a denial) or diagnosed the place
    by a wrong mechanism (the lock then fixes that diagnosis: "sets are not thread-safe
    containers … guard every access with the lock")."""
    if verdict.passed or verdict.kind == "denial" or wrong_diagnosis(answer, RACE):
        return verdict
    return _lock_covers_check(answer) or verdict


def _lock_covers_check(answer: Answer) -> Verdict | None:
    """New code that takes ``self.lock`` around the membership test and the add together:
    the race fix.

    A lock around the test alone, or the ``add``/``discard`` alone, leaves the check-then-act
    gap open.
    """
    units = answer.units
    for i, unit in enumerate(units):
        opened = _LOCK_OPEN.match(unit.text) if unit.kind == "code" and unit.novel else None
        if not opened:
            continue
        indent = len(opened.group(1))
        with_block = "with" in unit.text.split("self.lock")[0]
        held: list[str] = []
        for nxt in units[i + 1:]:
            if nxt.kind != "code" or nxt.block != unit.block:
                break
            if with_block and len(nxt.text) - len(nxt.text.lstrip()) <= indent:
                break
            if not with_block and "self.lock.release(" in nxt.text:
                break
            held.append(nxt.text.strip())
        test = next((line for line in held if _MEMBERSHIP.search(line)), None)
        if test is not None and any(_CLAIM.search(line) for line in held):
            return Verdict(True, f"fix: lock around the check and the add at «{unit.text.strip()}» around «{test}»",
                           kind="fix", rule="lock around the membership test")
    return None


CHECKS = (
    Check(
        "payment.race_condition",
        "Non-atomic check-then-act on self.processing (unused lock)",
        "identifies the non-atomic check-then-act on `self.processing` (or on the row status) with "
        "the unused `self.lock`, letting two workers pay the same payout",
        rule=RACE, require="either", post_check=_or_lock_around_check,
        missing="does not identify the unguarded check-then-add on self.processing (unused lock) letting two workers pay one payout",
    ),
    Check(
        "payment.sql_injection",
        "f-string SQL (get_payment_history, _execute_payment)",
        "identifies f-string SQL in `get_payment_history` (address) and/or `_execute_payment` "
        "(payout_id) as injectable and fixes it with parameters",
        rule=SQL, require="fixes",
        missing="does not identify the f-string SQL as injectable and fix it with bound parameters",
    ),
    Check(
        "payment.float_precision",
        "float money arithmetic",
        "identifies `float` money arithmetic (`calculate_fee`, `batch_payments`, amounts) as losing "
        "precision and fixes it with `Decimal` or integer base units",
        rule=FLOAT, require="fixes",
        missing="does not identify float money arithmetic as losing precision and fix it with Decimal/integer units",
    ),
    Check(
        "payment.atomicity",
        "Payment and status updates not atomic",
        "identifies that the payment and its status updates are not one atomic transaction in "
        "`_execute_payment`/`_send_payment`: a failure after the coins are sent resets the row to "
        "`pending` (double payment) or errors are swallowed silently",
        rule=ATOMICITY, require="either",
        missing="does not identify that send and status updates are not atomic (reset to pending after sending, or swallowed errors)",
    ),
)


def reference_answer() -> str:
    return (Path(__file__).parent / "reference" / "payment.md").read_text(encoding="utf-8")


TASK = Task(
    name="payment",
    title="Payment System",
    difficulty="expert",
    checks=CHECKS,
    build_prompt=build_prompt,
    reference_answer=reference_answer,
)
