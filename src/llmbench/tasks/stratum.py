"""stratum — Stratum server (nightmare, 5 checks): header byte order, a leaking log,
shares checked against the wrong job, an unbounded duplicate map, unchecked input."""

from __future__ import annotations

import re
from pathlib import Path

from llmbench.grading.acts import is_soft
from llmbench.grading.check import Check, Verdict
from llmbench.grading.parsed_answer import Answer, Unit
from llmbench.grading.rules import Finding, all_of, any_of, evaluate, find_fix, find_mechanism
from llmbench.tasks.base import Task
from llmbench.tasks.prompting import fixture_block

FIXTURE = "stratum_server.py"

def build_prompt() -> str:
    return (
        "We run our own SHA-256 mining pool. The stratum server below (Python asyncio, talking "
        "to a local bitcoind) went live three weeks ago and operators keep reporting problems:\n"
        "- the rejected-share rate is far higher than with our previous pool software, and it "
        "jumps for a few seconds every time a new block appears on the network;\n"
        "- the pool has never had a block accepted: the one block candidate we saw in the logs "
        "was refused by bitcoind;\n"
        "- the server's resident memory grows by a few hundred MB a day until the OOM killer "
        "restarts it;\n"
        "- a few rigs with old firmware get disconnected over and over, and each time the log "
        "shows a Python traceback;\n"
        "- our logs are shipped to a hosted log service that several contractors can read, and "
        "one of them asked why a single log line from the pool was over a megabyte.\n\n"
        "Review `stratum_server.py`. Find the bugs, explain the cause of each one and give the "
        "fix (corrected code).\n\n"
        + fixture_block(FIXTURE)
        + "\n"
    )


# -- grading ------------------------------------------------------------------
# Conventions: every pattern is matched case-insensitively against one sentence
# (or one comment line); places may also come from the sentence's block/heading.
# `(?:[^.]|\.(?=\w)){0,N}` is a span within the sentence: the dot of a name such as
# `mining.submit` or `self.jobs` does not end it.

# "Check whether X …" names a place but only asks a question.
_QUESTION = (
    r"\b(?:check|verify|confirm|see|investigate|test|look at|double[- ]check|determine|review|audit|examine)\w* "
    r"(?:\w+ ){0,3}(?:whether|if)\b",
    r"^(?:[-*•\d.)\s]*)(?:(?:`[^`]*`|\w+)\s*:\s*)?(?:make sure|ensure|review|keep an eye|watch|audit)\b",
    r"\b(?:might|may|could) (?:also |eventually )?(?:need|want|benefit|require)\b",
    # a table cell of advice: "Memory | `recent_shares` | Ensure caches have bounded growth"
    # (a cell that quotes code, "check `len(params) == 5`", is a concrete fix)
    r"\|\s*(?:make sure|ensure|review|verify|consider|check|audit|keep an eye)\b(?![^|`]*`)",
)

# stratum.byte_order ------------------------------------------------------------
_PREV = (
    r"previousblockhash|\bprev(?:ious)?[_ ]?(?:block[_ ]?)?hash\b|\bprev_?hash\b|"
    r"\bprevious[- ]block(?: hash)?\b|\bparent[- ](?:block[- ])?(?:hash|pointer|reference|id)\b|\bprevhash\b"
)
# A claim that the bytes must be turned round, not a topic label ("Byte order." alone says nothing).
_REVERSAL = any_of(
    r"\brevers\w*", r"\bbyte[- ]?swap\w*", r"\bswap\w* (?:the )?(?:bytes|byte order|order|endianness)",
    r"\bback[- ]to[- ]front\b", r"\bbackwards?\b", r"\bflip\w*\b", r"\[::-1\]", r"\binvert\w* the bytes\b",
    r"\bdisplay(?:ed)? (?:byte )?(?:order|format|orientation|form)\b", r"\binternal (?:byte )?order\b", r"\bRPC order\b",
    r"\b(?:opposite|inverted?|flipped|wrong|incorrect|mirror(?:ed)?|other|reverse) (?:byte[- ]?)?(?:order|endian\w*|orientation|way round|sequence|direction)\b",
    r"\bend[- ]for[- ]end\b",
    r"\b(?:byte[- ]?order|endian\w*) (?:bug|issue|problem|error|mismatch|mix-?up|confusion)",
    r"\bbig(?:[- ]endian)?\s*(?:→|->|=>|to)\s*little[- ]endian\b",   # "big → little endian"
    r"\bendian\w* conversion\b|\bconvert\w* (?:the )?endian\w*",
    r"\b(?:needs?|must|has to|have to|should) (?:be )?(?:in |stored in |written in |converted to )?(?:\w+ )?little[- ]endian\b",
    r"\b(?:swap|convert|turn|chang)\w* (?:\w+ ){0,3}(?:to|into) (?:the )?(?:little[- ]endian|internal|header) (?:byte )?(?:order|format)?",
    r"\b(?:stores?|stored|expects?|requires?|uses?|wants?|needs?) (?:\w+ ){0,3}(?:in )?little[- ]endian\b",
)
# Reversal talk about mining.notify (correct in the fixture) is not the header bug.
# "The header needs the same word swap as mining.notify": the wrong transformation.
_WORD_SWAP_ONLY = (
    r"^(?=.*(?:\b(?:4|four)-byte words?\b|\b(?:each|every) (?:32-bit )?word\b|\bword[- ]?swap\w*|\bword order\b|\bswaps? (?:the )?(?:order of )?(?:the )?(?:eight )?(?:\w+ )?words\b))"
    r"(?!.*(?:\brevers\w* (?:all |the |every |each )?(?:32 )?bytes\b|\bbytes (?:are|were|is) (?:\w+ )?revers\w*|\bbyte[- ]?(?:order|swap|revers)|\b32 bytes\b|\[::-1\]|\blittle[- ]endian\b|\binternal (?:byte )?order\b|\bfull (?:byte )?revers))"
)
# (what "the miners receive" is the notify's field: "So the miners receive a previous hash that is
# neither display order nor internal order")
_NOTIFY_ONLY = (r"^(?=.*(?:mining\.notify|\bnotify\b|stratum_prevhash|4-byte words|word[- ]swap|(?<!other )\bwords\b"
                r"|\bminers? (?:receive|get|are (?:sent|given))\b))(?!.*(?:_build_header|\bheader\b))")
# Only that the orders differ ("mixes byte orders", "the RPC gives it as big-endian hex"): the
# answer still has to say which way it goes, and a section that settles it the wrong way
# ("The block header is serialized big-endian") takes it back.
_MIXED_ORDERS = any_of(
    all_of(r"\bbig[- ]endian\b", r"\blittle[- ]endian\b"),
    r"\b(?:is|are|in|as) big[- ]endian\b",
)
BYTE_ORDER = Finding(
    places={"previousblockhash": _PREV},
    mechanisms={"reversal": _REVERSAL, "byte orders differ": _MIXED_ORDERS},
    unsettled_mechanisms=("byte orders differ",),
    fixes={
        "prev[::-1]": r"(?:previousblockhash|prev\w*)['\"\]\)]*\s*\)?\s*\[::-1\]",
        "prev = prev[::-1]": r"prev\w*\s*=\s*prev\w*\s*\[::-1\]",
        # the reversal applies to the prev hash, not to another field concatenated beside it
        # ("version + prev_hash + merkle_root[::-1] + …" reverses the merkle root)
        "prev reversed": r"\bprev\w*\b[^+;]*?(?:reversed\(|\.reverse\(\)|byteswap|\[::-1\])",
        "reversed prev": r"(?:reversed|\[::-1\])[^+;]*?\bprev\w*",
        "prev to little-endian bytes": r"\bprev\w*.*\.to_bytes\(\s*32\s*,\s*(?:byteorder\s*=\s*)?[\"']little",
    },
    fix_places=(r"_build_header|header",),
    # the other header fields, and the merkle root ("reverse the root")
    wrong_places=(
        r"\bnonce\b", r"\bntime\b", r"\bversion\b", r"\bextranonce\w*", r"\bmerkle\w*", r"\bcoinbase\b",
        r"\btxids?\b", r"\bcurtime\b", r"\bbits\b", r"\bnbits\b",
        r"\broot\b",   # "reverse the root" is the merkle root, whatever the sentence before named
    ),
    wrong_mechanisms={
        "notify helper": _NOTIFY_ONLY,          # stratum_prevhash / mining.notify is correct
        # what the miners build their header on is the notify's field, not the pool's header
        "the miners' header": r"\bminers? (?:build|hash|assemble) (?:their|the) (?:own )?(?:block )?header\b",
        "word swap": _WORD_SWAP_ONLY,           # the notify's 4-byte word swap is not the header's reversal
        # the opposite diagnosis: the header wants big-endian / display order
        "big-endian header": r"\b(?:should|must|needs? to|has to|have to|ought to) (?:(?:be|stay|remain|kept|left|packed|written|stored|built|constructed|assembled|"
        r"serialized|encoded|in|as|using|use|consistently|all|entirely|fully) ){1,4}(?:big[- ]endian|display order|'>I'|\">I\")",
        "pack with >I": r"\b(?:use|pack\w* (?:it |them )?with) ['\"]>I",
        # "the block header expects the previous block hash in big-endian order", "getblocktemplate
        # returns previousblockhash in little-endian order": the two orders the wrong way round
        "header expects big-endian": r"\b(?:header|it)\b`? (?:`?\w+`? ){0,2}(?:expects?|wants?|needs?|requires?|stores?|uses?|takes?) "
        r"(?:`?\w+`? ){0,6}?(?:in )?big[- ]endian\b",
        "RPC gives little-endian": r"\b(?:getblocktemplate|RPC|previousblockhash|bitcoind|template)\b`? (?:`?\w+`? ){0,3}"
        r"(?:returns?|gives?|provides?|is|comes?|arrives?|delivers?) (?:`?\w+`? ){0,3}?(?:in )?little[- ]endian\b",
        # "the block header is serialized big-endian": its integers are little-endian
        "header serialized big-endian": r"\bheader\b`? (?:is|are) (?:\w+ ){0,2}(?:serialized|encoded|stored|written|laid out|built|packed|defined|hashed) "
        r"(?:in |as )?big[- ]endian\b",
        # "The block header is transmitted over the network, and network byte order is big-endian"
        "network byte order": r"\bnetwork byte order (?:is )?(?:\w+ )?big[- ]endian\b|\bbig[- ]endian\b[^.]{0,20}\bnetwork byte order\b",
    },
    denials={
        "already in order": r"\b(?:prev\w*|hash) (?:is|are) already (?:in )?(?:the )?(?:correct|right|internal|little)"
                            # "the previous block hash and `bits` … are already in the form the header expects"
                            r"|\b(?:prev\w*|hash)\b[^.;]{0,60}\b(?:is|are) already in (?:the|a) (?:\w+ )?(?:form|format|order|layout|shape)"
                            r" (?:that )?(?:the header|it) (?:expects|needs|wants|uses)\b",
        "no need to reverse": r"\bno (?:need|reason) to (?:reverse|swap|flip)",
        "doesn't need reversing": r"\bdoes(?:n'?t| not) need (?:to be )?(?:any |an? )?(?:\w+ ){0,2}(?:revers|swap|flip|conversion)",
        "needs no conversion": r"\b(?:needs?|requires?) no (?:\w+ ){0,2}(?:conversion|revers\w*|swap\w*|flip\w*)",
        "reversal unnecessary": r"\b(?:conversion|revers\w*|swap\w*|flip\w*)\b(?:[^.]|\.(?=\w)){0,40}\b(?:is |are )?(?:unnecessary|not needed|not required|redundant)\b",
    },
    # "the header code is fine as it is" denies it too
    denial_places=(_PREV, r"_build_header|\bheader\b"),
    advice=_QUESTION,
)

# A fix that only gestures ("Consider using a bounded structure."), with nothing concrete in it.
_VAGUE_FIX = (
    r"^(?:[-*•\d.)\s]*)(?:fix(?:es)?\s*:\s*)?(?:consider|maybe|perhaps|possibly|think about|you (?:may|might|could)(?: want to)?|it (?:may|might) be (?:worth|good))\b"
    r"(?!.*(?:\d|`|popitem|ttl|older than|oldest|per[- ]job|maxlen|hash|height|after))"
)

# stratum.info_leak -------------------------------------------------------------
_SUBMIT_BLOCK = r"_submit_block|\bsubmitblock\b|\bblock submission\b|\bsubmitting (?:a |the )?block|\bblock_hex\b"
_LOGGED = r"\blog\w*|\bprint\w*|\binfo (?:line|level|message|call|record)\b|\bwrit\w+ (?:\w+ )?(?:to|into) (?:the )?logs?|\blogger\b|\binfo\(|\blogged\b"
_BLOCK_DATA = (
    r"\bblock_hex\b|\b(?:full|entire|whole|complete|raw|serialized|serialised|hex(?:-encoded)?|solved|candidate) "
    r"(?:\w+ )?(?:block|block data|block hex|hex)\b|\bblock (?:data|bytes|body|contents?|payload|hex)\b|"
    r"\bhex (?:of|dump of) the (?:\w+ )?block\b"
)
_LEAK_WHY = (
    r"\bleak\w*|\bexpos\w*|\bdisclos\w*|\breveal\w*|\bsensitive\b|\bconfidential\b|\bsecret\b|"
    r"\bbefore\b|\bprior to\b|\bahead of\b|\banyone\b|\bcontractors?\b|\bthird[- ]part\w*|\bexternal\b|"
    r"\bhosted\b|\bread(?:s|able)? (?:the )?logs?\b|\bsteal\w*|\bfront[- ]?run\w*|\bmegabytes?\b|\bMB\b|"
    r"\bhuge\b|\b(?:very |extremely )?large\b|\bbloat\w*|\bsize\b|\bshould not\b|\bshouldn'?t\b|\bnever\b"
)
INFO_LEAK = Finding(
    places=(_SUBMIT_BLOCK,),
    mechanisms={"block logged before submit": all_of(_LOGGED, _BLOCK_DATA, _LEAK_WHY)},
    fixes=(
        # a log call in _submit_block that names the hash, not the hex (the call's own
        # arguments decide: a table row may quote block_hex in its diagnosis cell)
        r"\blog(?:ger|ging)?\.\w+\((?![^)]*\bblock_hex\b(?!\s*\[\s*:\s*\d+\s*\]))[^)]*\b(?:block_hash|hash|height)\b",
        r"\blog(?:ger|ging)?\.\w+\(.*block_hex\s*\[\s*:\s*\d+\s*\]",
        r"\blen\(block_hex\)|\blen\(block\)",
        # prose fixes
        r"\blog\w*\b(?:[^.]|\.(?=\w)){0,30}\bonly\b(?:[^.]|\.(?=\w)){0,30}\b(?:the )?(?:block )?(?:hash|height|id|header hash|size)\b",
        r"\bonly (?:log|print|record)\b(?:[^.]|\.(?=\w)){0,40}\b(?:hash|height|size|id)\b",
        r"\b(?:emit|write|output|log|print|record)\w* only\b(?:[^.]|\.(?=\w)){0,40}\b(?:hash|height|size|id)\b",
        r"\blog\w*\b(?:[^.]|\.(?=\w)){0,40}\b(?:hash|height)\b(?:[^.]|\.(?=\w)){0,20}\bonly\b",
        r"\b(?:remove|drop|delete|stop|avoid|never|don'?t|do not|no longer|strip|omit)\b(?:[^.]|\.(?=\w)){0,20}\b(?:log\w*|print\w*)\b(?:[^.]|\.(?=\w)){0,40}(?:block_hex|\bhex\b|full block|entire block|whole block|raw block|block data|serialized block|block contents?)",
        r"\b(?:remove|drop|delete|omit|strip)\b(?:[^.]|\.(?=\w)){0,20}(?:block_hex|\bhex\b|the block data)\b(?:[^.]|\.(?=\w)){0,30}\b(?:from|out of) (?:the|that|this|its|each) (?:log\w*|message|line|call|statement|format string|record)",
        r"\b(?:move|moving|moved)\b(?:[^.]|\.(?=\w)){0,40}\blog\w*\b(?:[^.]|\.(?=\w)){0,40}\b(?:after|below|until|once)\b",
        r"\blog\w*\b(?:[^.]|\.(?=\w)){0,40}\b(?:after|once|only when)\b(?:[^.]|\.(?=\w)){0,40}\b(?:submitblock|submission|submit|submitted|accepted|propagat\w*)",
        r"\b(?:do|emit|write) (?:it|that|this|them)\b(?:[^.]|\.(?=\w)){0,10}\b(?:after|once)\b(?:[^.]|\.(?=\w)){0,20}\b(?:submitblock|submission|submit|submitted|accepted)",
        r"\b(?:record|emit|write|print|output)\w*\b(?:[^.]|\.(?=\w)){0,40}\b(?:hash|height)\b(?:[^.]|\.(?=\w)){0,30}\b(?:after|once)\b(?:[^.]|\.(?=\w)){0,20}\b(?:submitblock|submission|submit|submitted|accepted)",
        r"\b(?:don'?t|do not|never|stop|avoid)\b(?:[^.]|\.(?=\w)){0,15}\b(?:writ|put|dump|send|emit|ship|includ)\w*\b(?:[^.]|\.(?=\w)){0,40}"
        r"(?:block_hex|serialized block|full block|entire block|whole block|raw block|block data|block contents?)(?:[^.]|\.(?=\w)){0,30}\blogs?\b",
        r"\b(?:truncat\w*|abbreviat\w*|shorten\w*)\b(?:[^.]|\.(?=\w)){0,40}\b(?:hex|block|log)",
        # "Remove that `logger.info(...)` call": the log line the sentence before said carries the block
        r"\b(?:remove|drop|delete)\s+(?:that|this|the)\s+`log(?:ger|ging)?\.(?:info|debug|warning)\([^`]*`\s*(?:call|line|statement)",
    ),
    # (a log call demoted to DEBUG is no fix: the whole block is still written whenever
    # debug logging is on; it neither moves nor limits what is logged)
    fix_places=(r"_submit_block",),
    not_fixes=(_VAGUE_FIX,),
    # the answer's own code demotes the whole hex to DEBUG ("move the payload to DEBUG"): the
    # hash-only line beside it limits nothing (moved after the submit, it is a fix)
    broken_fixes=(r"\blog(?:ger|ging)?\.debug\((?:[^()]|\([^()]*\))*\bblock_hex\b(?!\s*\[)",),
    wrong_places=(r"_handle_submit\b", r"_validate_share\b", r"_handle_client\b", r"broadcast_job\b"),
    # the block log as a log-size problem (rotation, disk, level), with nothing about who reads it or when
    wrong_mechanisms={
        # "If the RPC call fails, the logs show a candidate that was never submitted, which is misleading"
        # ("the log claims a candidate that was never actually submitted")
        "misleading log": r"\bmisleading\b|\blogs? (?:shows?|claims?|says?|reports?|records?) (?:a |the )?(?:block |candidate |block candidate )+"
                          r"that (?:was )?never (?:\w+ )?submitted\b",
        # "Building and emitting a multi-megabyte log record synchronously blocks the event loop
        # and delays the submission, which increases orphan risk": a latency problem
        "a slow log call": r"\bblocks? the (?:asyncio )?event loop\b|\bdelays? (?:the )?(?:block )?submission\b"
                           r"|\b(?:increases?|raises?) (?:the )?orphan(?:ing)? (?:risk|rate|chance)\b",
        "log size only": (
        r"^(?=.*\b(?:bloat\w*|disk|rotat\w*|megabytes?|MB|huge|large|sizes?|space|fills?|volume|verbos\w*|noisy|spam\w*)\b)"
        r"(?!.*\b(?:leak\w*|expos\w*|disclos\w*|reveal\w*|sensitive|confidential|secret|before|prior to|ahead of|anyone|"
        r"contractors?|third[- ]part\w*|external|steal\w*|front[- ]?run\w*|read(?:s|able)? (?:the )?logs?)\b)")},
    advice=_QUESTION,
    denials=(
        r"(?:\bnot|n['’]t) (?:a |an |really a )?(?:real )?(?:leak|security (?:issue|risk|problem)|secret|sensitive)\b",
        r"\bnothing (?:sensitive|secret|confidential)\b|\b(?:harmless|public anyway|is public)\b",
    ),
    # "The segwit coinbase re-serialization in _submit_block() looks correct" denies another part
    subject_parts=(_LOGGED, _BLOCK_DATA),
    # "`block_hex` is the entire serialized block … It is shipped to the log service before `submitblock`"
    span=2,
)

# stratum.stale_job -------------------------------------------------------------
_JOB_PLACE = r"current_job|\bjob_id\b|_validate_share|_compute_merkle|broadcast_job"
_IGNORED = (
    r"\bignor\w*|\bnever (?:used|read|checked|consulted|looked|compared|validated)\b|\bunused\b|"
    r"\bnot (?:used|checked|looked up|consulted|compared|validated|verified)\b|\bdisregard\w*|"
    r"\bthrown away\b|\bdiscard\w*|\bdoes(?:n'?t| not) (?:use|check|look (?:at|up)|consult|compare|validate|verify)\b|"
    r"\bis(?:n'?t| not) (?:used|checked|consulted|looked up)\b|\bhas no effect\b|\bpassed (?:in )?but\b|"
    r"\b(?:neither|never|doesn'?t|does not|don'?t|do not|fails? to) (?:\w+ )?(?:honou?rs?|respects?|consults?|looks? up)\b"
)
_INSTEAD = (
    r"\binstead of\b|\brather than\b|\bregardless\b|\bwhatever\b|\birrespective\b|\bno matter\b|"
    r"\balways\b|\bunconditionally\b|\bwhichever\b|\bonly (?:the )?(?:latest|current|newest|most recent|last)\b|"
    r"\bnot (?:the (?:one|job) )?(?:the )?(?:named|given|submitted|sent|requested|specified|referenced|quoted|miner'?s)\b"
)
_NOT_KEPT = (
    r"\b(?:not|never|isn'?t|aren'?t) (?:stored|kept|tracked|saved|retained|remembered|indexed|cached|mapped)\b|"
    r"\bno (?:job )?(?:map|dict\w*|table|registry|history|lookup|cache|store|record)\b|"
    r"\bonly (?:one|a single|the (?:latest|current|last|newest)) job\b|\boverwrit\w*|"
    r"\bforgot\w*|\bforgets\b|\blost\b|\bthrows? away\b|\bdrops? the (?:old|previous)"
)
_OLD_JOB = r"\b(?:old|older|previous|prior|earlier|stale|outdated|superseded|replaced|former|just-replaced) (?:\w+ )?jobs?\b|\bjobs? (?:that (?:was|has been|were) )?(?:just )?(?:replaced|superseded)\b"
_NEW_JOB = r"\b(?:new|newer|current|latest|next|replacement|fresh|newest) (?:\w+ )?(?:job|template|block template|prevhash|coinbase|merkle)\b|\bcurrent_job\b|\bblock_template\b"
_MISVALIDATED = (
    r"\b(?:validat|check|verif|hash|comput|rebuil|recomput|evaluat|judg|test)\w*\b(?:[^.]|\.(?=\w)){0,80}\b(?:against|with|using|from)\b|"
    r"\breject\w*|\bmis-?validat\w*|\bwrong\b|\bincorrect\w*|\blow[- ]diff\w*|\binvalid\b|\bmismatch\w*|\bfail\w*"
)
STALE_JOB = Finding(
    places=(_JOB_PLACE,),
    # "the stale job" names the symptom as often as the code: beside a decoy (the template
    # poller in a report item's Location) it does not place the mechanism
    weak_places=(r"\bjobs?\b",),
    mechanisms={
        "job_id ignored": all_of(r"\bjob_id\b|\bjob id\b|\bjob ids\b", _IGNORED),
        "current job instead of the named one": all_of(r"current_job|\bcurrent job\b|\blatest job\b|\bnewest job\b|\bwhatever job\b|\bjob (?:that )?(?:is|happens to be) (?:current|latest|newest)\b", _INSTEAD,
               r"\bjob_id\b|\bjob id\b|\bsubmitted\b|\bshare\w*\b|\bwhich job\b|\bnamed\b|\bthe miner\b|\bjob (?:they|it|the miner) (?:mined|worked|used)\b",
               # what is done with the job: the share is judged by it ("only the current job's keys are
               # needed" is about the memory, not the validation)
               r"\b(?:validat\w*|check\w*|verif\w*|hash\w*|judg\w*|compar\w*|merkle|coinbase|header|reject\w*|accept\w*|"
               r"uses?|used|using|reads?|looks? (?:up|at)|builds?|rebuil\w*|comput\w*|against)\b"),
        "jobs not kept by id": all_of(r"\bjobs?\b", _NOT_KEPT, r"\bby (?:its |their )?(?:job[_ ])?ids?\b|\bjob_id\b|\bper[- ]job\b|\bjob (?:map|dict\w*|table|history|lookup)\b|\bkeyed\b|\bjobs? (?:\w+ )?(?:map\w*|dict\w*)\b|\b(?:map\w*|dict\w*) (?:of|for|from|by) (?:\w+ ){0,2}jobs?\b|\bprevious jobs?\b|\bold jobs?\b|\bearlier jobs?\b"),
        "old job checked as the new": all_of(_OLD_JOB, _NEW_JOB, _MISVALIDATED),
        "validated against the current job": all_of(r"\b(?:validat|check|verif|judg|evaluat)\w*\b(?:[^.]|\.(?=\w)){0,60}\bagainst (?:the )?(?:current|latest|newest|new|most recent)[ _]job\b|\bagainst `?(?:self\.)?current_job",
               r"\bstale\b|\bold(?:er)?\b|\bprevious\b|\bearlier\b|\bprior\b|\bin[- ]flight\b|\boutdated\b|\bsuperseded\b|\bjob_id\b|\bjob id\b"),
    },
    fixes=(
        r"\b\w*(?:jobs|job_?map|job_?table|job_?cache|job_?history|job_?registry|job_?store)(?:\.get)?\s*[\[(]\s*job_id\b",
        r"\b\w*jobs\w*\s*\[\s*(?:job\[.job_id.\]|job\.job_id|job_id|self\.current_job\[.job_id.\]|jid)\s*\]\s*=",
        r"\bjob_id\s+not\s+in\s+self\.\w*jobs",
    ),
    fix_places=(r"_validate_share|_handle_submit|_compute_merkle|_build_header|broadcast_job|_submit\w*|_lookup\w*|_get_job\w*",),
    # (the notify helper reads the current job too, rightly: it announces the newest one; the
    # template poller only sets how soon a new job comes, not how a share is judged)
    wrong_places=(r"recent_shares\b", r"_submit_block\b", r"\bsessions\b", r"_notify_message\b",
                  r"_poll_templates\b|\btemplate_poll_seconds\b"),
    # the rejects blamed on a difficulty change ("miners apply a new `mining.set_difficulty`
    # only to the next job, so shares … arrive after the difficulty has changed")
    wrong_mechanisms={
        # the ignored `job_id` as clutter to delete: "Dead parameters like this are misleading for
        # maintainers: remove it from the signature" (the fix needs it)
        "a dead parameter": r"\b(?:dead|unused|superfluous|redundant|leftover|useless) (?:parameters?|arguments?|args?)\b"
                            r"[^.]{0,60}\b(?:misleading|confus\w*|clutter\w*|noise|maintain\w*|readab\w*)"
                            r"|\bremove (?:it|`?job_id`?|the (?:`?job_id`? )?(?:parameter|argument))\b[^.]{0,40}\bfrom (?:the |its )?signature\b",
        # the ignored `job_id` as a per-session authorisation hole: "a miner can submit shares for
        # a job id that was never issued to it (or another session's job) and they are credited"
        "a job not issued to the session": r"\bnever (?:issued|sent|notified|given|assigned) to (?:it|that session|the session|"
                                            r"this session|them|that miner|the miner)\b|\banother session'?s jobs?\b|\bbogus (?:submissions?|shares?)\b",
        "difficulty changed": (
            r"\bmining\.set_difficulty\b|\bset_difficulty\b[^.]{0,60}\bnext job\b"
            r"|\bdifficulty (?:has |had |was )?(?:changed|changes|retargeted|raised|lowered)\b"
            r"|\bsnapshot (?:of )?(?:the )?(?:share )?difficulty\b|\bdifficulty (?:at|of) the time\b"),
    },
    advice=_QUESTION,
    denials=(
        r"\bjob_id (?:is|gets) (?:correctly |properly )?(?:looked up|checked|validated|used)\b",
        r"\b(?:jobs are|each job is) (?:kept|stored|tracked) (?:by|per) (?:job[_ ])?id\b",
        # "The spike after a new block is normal: `current_job` is always the latest job, which
        # is what shares should be validated against"
        r"\b(?:spike|rise|jump|increase|burst)\b[^.:;]{0,30}\b(?:after|following|at) (?:a |each |every |the )?new block\b"
        r"[^.:;]{0,20}\b(?:is|are) (?:\w+ )?(?:normal|expected|harmless|inevitable|unavoidable)\b",
        r"\bwhich is (?:what|the (?:job|one)) (?:shares?|submissions?|they) (?:should|must|ought to|are (?:meant|supposed) to)"
        r" be (?:validated|checked|judged|verified) against\b",
    ),
)

# A fix stated in prose: an instruction, not a description of what the code fails to do.
_IMPERATIVE = (
    r"(?:^[-*•\d.)\s]*|(?:should|must|needs? to|have to|has to|to|fix\w*:?|instead,?|then|just|simply|and|we|you|->|→|:|\||;|—|–|,|"
    r"(?:on|at|after|in|with) (?:each|every) \w+)\s+(?:(?:can|could|may|should)\s+)?"
    r"(?:also |periodically |regularly |always )?(?:consider |try )?)"
)

# stratum.memory_leak -----------------------------------------------------------
_RECENT = r"recent_shares|\brecent[- ]shares\b|\bduplicate[- ](?:share )?(?:map|dict\w*|cache|set|table|tracking|detection|check)\w*|\bshare (?:key )?(?:cache|map|dict\w*|history)\b"
_GROWS = (
    r"\bgrows?\b|\bgrowing\b|\bgrowth\b|\bunbounded\b|\bwithout (?:any )?(?:bound|limit|cap|eviction|pruning|cleanup|expiry|ttl)\b|"
    r"\bnever (?:\w+ )?(?:pruned|cleared|cleaned|evicted|trimmed|expired|removed|emptied|shrinks?|deleted|purged|freed|reset|prunes|clears|evicts|expires|removes)\b|"
    r"\bno (?:\w+ )?(?:pruning|eviction|expiry|expiration|cleanup|clean-up|limit|cap|max\w*|ttl|bound)\b|"
    r"\bappend[- ]only\b|\bnothing (?:ever )?(?:removes|takes|deletes|evicts|prunes|clears|cleans)\b|\bevery share (?:it has )?ever\b|"
    r"\bmemory leak\w*|\bleaks? memory\b|\bforever\b|\bindefinitely\b|\bkeeps? (?:growing|accumulating|every)\b|\baccumulat\w*|\bOOM\b|\bpiles? up\b|\bonly ever (?:added|grows|inserted)"
)
MEMORY_LEAK = Finding(
    places=(_RECENT,),
    mechanisms={"grows without bound": _GROWS},
    fixes=(
        r"recent_shares\w*\.popitem\(\s*(?:last\s*=\s*False)?\s*\)",
        r"\bdel self\.recent_shares\[",
        r"recent_shares\w*\.(?:clear|pop)\(",
        r"len\(self\.recent_shares\w*\)\s*(?:>|>=)",
        r"recent_shares\w*\s*=\s*(?:\w+\.)?(?:TTLCache|LRUCache|deque)\(",
        r"\bdeque\(\s*maxlen",
        r"\bMAX_RECENT_SHARES\b|\bSHARE_TTL\b|\bmax_recent_shares\b|\bshare_ttl\b",
        r"\bshares_by_job\b|\bjob\[.shares.\]|\bjob\.shares\b|\bjob\[.submitted.\]",
        # a bare `popitem(last=False)` (the map is the only OrderedDict; `self.jobs.popitem` is not it)
        r"(?<![\w.])popitem\(\s*(?:last\s*=\s*)?False\s*\)",
        # the duplicate set lives in the job (and goes with it): `if share_key in job["seen"]`
        r"\bshare_key\b.*\bjob\w*\[[\"']\w+[\"']\]|\bjob\w*\[[\"']\w+[\"']\].*\bshare_key\b",
        # prose
        _IMPERATIVE + r"(?:evict|expire|prune|purge|drop|trim|remove|delete|discard|clear|wipe|empty|pop|reset|cap|bound|limit)\w*\b(?:[^.]|\.(?=\w)){0,60}\b(?:oldest|older than|old entries|entries|after \d+|seconds|minutes|on (?:each|every|a) new (?:block|job|prevhash|template)|when (?:a )?new (?:block|job)|clean_jobs|per[- ]job|by age|ttl|max(?:imum)? size|size|to \d+)",
        r"\b(?:add|implement|introduce|use|with|needs?)\b(?:[^.]|\.(?=\w)){0,30}\b(?:cleanup|clean-up|pruning|eviction|expiry|expiration|ttl|size limit|max(?:imum)? size|maxlen)\b",
        r"\b(?:ttl|lru|expiring|bounded|capped|size-limited|time-limited)\b(?:[^.]|\.(?=\w)){0,30}\b(?:cache|dict\w*|map|store|structure)\b",
        r"\b(?:key|scope|track|store|keep)\w*\b(?:[^.]|\.(?=\w)){0,30}\b(?:duplicates?|shares?|share keys?)\b(?:[^.]|\.(?=\w)){0,30}\bper[- ]job\b",
        # (the job itself, not its id: "Duplicate detection is keyed on the job id" keeps one map)
        r"\b(?:duplicates?|dupes?|seen|share keys?|submitted shares|dedup\w*)\b(?:[^.]|\.(?=\w)){0,40}\b(?:inside|in|on|into|with|belongs? to) (?:each|every|the|its) job\b(?![ _-]?ids?\b)",
    ),
    fix_places=(r".",),  # a code fix may sit in any function (a new _prune function, broadcast_job, …)
    not_fixes=(_VAGUE_FIX,),
    # the submit forgetting its own key when it is done: the map stays small, and the same
    # share is accepted again (the duplicate check is gone)
    broken_fixes=(r"recent_shares\w*\.pop\(\s*share_key\s*(?:,\s*None\s*)?\)",),
    wrong_places=(r"\bsessions\b", r"\bjob_counter\b", r"\bshare_log\b", r"\basyncio tasks?\b"),
    advice=_QUESTION,
    wrong_mechanisms={"allocator": r"\bfragmentation\b|\bjemalloc\b|\ballocator\b"},  # the growth blamed on something else
    denials=(
        r"\brecent_shares (?:is|are) (?:already )?(?:pruned|bounded|cleared|capped)\b",
        r"\bnot (?:a |really a |an actual )?(?:memory )?leak\b|\brather than (?:accumulat|grow)\w*",
        r"^(?!.*\b(?:so|so that|to make sure|ensur\w*|guarantee\w*|to keep|keeps?)\b(?:[^.]|\.(?=\w)){0,30}\b(?:never|cannot|can'?t|won'?t|will not|doesn'?t|does not) (?:\w+ )?grow)"
        r".*\b(?:never|doesn'?t|does not|won'?t|will not|cannot|can'?t) (?:really |actually )?grow",
    ),
)

# A reset by reassignment (`self.recent_shares = {}` in broadcast_job) bounds the map;
# the same line in __init__ only changes its type.
MEMORY_RESET = Finding(
    places=(_RECENT,),
    fixes=(r"recent_shares\w*\s*=\s*(?:\{\}|dict\(|OrderedDict\(|set\(|defaultdict\(|\[\])",),
    fix_places=(r"^(?!__init__$)\w",),
)

# stratum.input_validation --------------------------------------------------------
# Replies for other rejections (21 job not found, 22 duplicate, 23 low difficulty, 24, 25)
# are not the malformed-input reply, unless the same sentence is about malformed input.
_OTHER_REJECTS = (
    r"^(?!.*\b(?:malformed|invalid|non-?hex|hex|params?|parameters?|count|format|length|types?|fields?)\b)"
    r".*(?:\b(?:error|code)\s*2[1-5]\b|\[\s*2[1-5]\s*,|,\s*2[1-5]\s*,|\bjob not found\b|\bstale\b|\bduplicate\b|"
    r"\blow[- ]diff\w*|\bunauthori[sz]ed\b|\bnot subscribed\b|\bunknown job\b)"
)
_SUBMIT_INPUT = (
    r"_handle_submit|\bmining\.submit\b|\bint\(\s*nonce|\bbytes\.fromhex|\bfromhex\b|"
    r"\bextranonce_?2\b|\bnonce\b|\bntime\b|\bsubmit(?:ted)? (?:handler|message|params|request|path)s?\b"
)
_MALFORMED = (
    r"\bmalformed\b|\binvalid\b|\bnon-?hex\w*|\bnot (?:valid )?hex\b|\bgarbage\b|\bbad\b|\bwrong (?:\w+ )?(?:number|count|type|length)\b|"
    r"\bfewer\b|\btoo (?:few|many|short|long)\b|\bunexpected\b|\bmissing\b|\bextra\b|\bodd[- ]length\b|\bbogus\b|\bcorrupt\w*|"
    r"\barbitrary\b|\buntrusted\b|\bhostile\b|\bmalicious\b|\bbroken\b|\bbuggy\b|\bcrafted\b|\bunchecked\b|\bunvalidated\b|\bnon-?string\b|\bnull\b|\bNone\b|\bnumbers? instead\b"
)
_RAISES = (
    r"\braise\w*|\bValueError\b|\bTypeError\b|\bIndexError\b|\bKeyError\b|\bAttributeError\b|\bexception\w*|\bcrash\w*|\btraceback\w*|"
    r"\bthrow\w*|\bblows? up\b|\bkill\w*|\bdisconnect\w*|\bdrops? the (?:connection|miner|session|client)|\bunhandled\b|\buncaught\b|\btear\w* down\b|\bterminat\w*"
)
_NO_CHECK = (
    r"\b(?:no|without|never|lacks?|lacking|missing|doesn'?t|does not|isn'?t|is not|aren'?t|are not|nothing)\b(?:[^.]|\.(?=\w)){0,25}\b(?:validat\w*|check\w*|verif\w*|sanit\w*|guard\w*)|"
    r"\btrust\w*|\bblind\w*|\bassum\w* (?:that )?(?:the )?(?:params|input|miner|fields|message)"
)
INPUT_VALIDATION = Finding(
    places=(_SUBMIT_INPUT,),
    mechanisms={
        "malformed input raises": all_of(_MALFORMED, _RAISES),
        "params unchecked": all_of(_NO_CHECK, r"\bparams\b|\binput\b|\bhex\b|\bnonce\b|\bntime\b|\bextranonce_?2\b|\blength\b|\bcount\b|\bfields?\b|\btypes?\b|\bformat\b|\bmessage\b"),
    },
    fixes=(
        r"\blen\(\s*(?:message\[.params.\]|params|msg\[.params.\]|p)\s*\)\s*(?:!=|<|==|>|<=|>=|not in)",
        r"\bisinstance\(\s*(?:params|message\[.params.\]|p|nonce|ntime|extranonce_?2|worker|job_id|value|field|x|s|v)\b",
        r"\bexcept\s*\(?\s*(?:ValueError|TypeError|IndexError|KeyError|binascii\.Error)",
        r"(?:fullmatch|re\.match|re\.compile)\(.*(?:0-9a-f|\\da-f|0-9A-F|\[a-f0-9|\[A-Fa-f0-9|\[0-9a-fA-F)",
        r"\ball\(\s*c in (?:string\.hexdigits|_?HEX\w*)",
        r"\blen\(\s*(?:nonce|ntime|extranonce_?2)\s*\)\s*(?:!=|==)",
        r"\blen(?:gth)?\s*(?:==|!=)\s*5\b",
        # an error-20 reply for a malformed submit: `_reply_error(session, msg_id, 20, "bad params")`
        r"\b_?(?:reply|send|respond)_?error\w*\(.*\b20\b.*(?:invalid|malformed|bad|param|hex|format|wrong|argument)",
        # prose: reply with a stratum error instead of raising
        r"\b(?:return|reply|respond|send|answer)\w*\b(?:[^.]|\.(?=\w)){0,50}\berror\b(?:[^.]|\.(?=\w)){0,30}\b(?:20|code 20|other|unknown|malformed|invalid)\b",
        r"\b(?:return|reply|respond|send|answer)\w*\b(?:[^.]|\.(?=\w)){0,30}\b(?:a |an )?(?:stratum|json-rpc|proper|protocol) error\b",
        r"\b(?:return|reply|respond|send|answer)\w*\b (?:with )?(?:an? )?(?:error|rejection)(?: (?:response|reply|message|result))?\b(?! log)",
    ),
    fix_places=(r"_handle_submit|_parse\w*|\w*valid\w*|\w*check\w*|_is_hex|\w*hex\w*|_dispatch|_handle_client|submit",),
    not_fixes=(_OTHER_REJECTS,),
    # a submit has five params: a guard of fewer lets a four-param submit on to the five-name unpack
    broken_fixes=(r"\blen\(\s*(?:message\[.params.\]|params|msg\[.params.\]|p)\s*\)\s*(?:<\s*[1-4]|<=\s*[0-3])\b",),
    wrong_places=(r"_handle_authorize\b", r"_handle_subscribe\b", r"_submit_block\b"),
    advice=_QUESTION,
    denials=(
        r"\bparams (?:are|is) (?:already |properly |correctly )?(?:validated|checked)\b",
    ),
    # "doesn't check the nonce against the target" is share validation, not input checking
    wrong_mechanisms={"share validation": r"^(?=.*\b(?:target|difficulty|duplicate|stale)\b)(?!.*\b(?:malformed|invalid|non-?hex|hex string|params|count|format|length|type)\b)"},
    # "`_handle_authorize()` indexes `message["params"][0]` … Reply with an error instead.": the
    # reply fixes the decoy the answer blamed
    decoy_blame_voids_fix=True,
)


# The check asks for a stratum error reply: a try/except that drops or closes the
# connection validates nothing for the miner.
_PROSE_REPLY = (
        r"\b(?:return|reply|respond|send|answer)\w*\b(?:[^.]|\.(?=\w)){0,50}\berror\b(?:[^.]|\.(?=\w)){0,30}\b(?:20|code 20|other|unknown|malformed|invalid)\b",
        r"\b(?:return|reply|respond|send|answer)\w*\b(?:[^.]|\.(?=\w)){0,30}\b(?:a |an )?(?:stratum|json-rpc|proper|protocol) error\b",
        r"\b(?:return|reply|respond|send|answer)\w*\b (?:with )?(?:an? )?(?:error|rejection)(?: (?:response|reply|message|result))?\b(?! log)",
)
INPUT_REPLY = Finding(
    places=(_SUBMIT_INPUT, r"\bparams\b"),
    fixes=(
        r"\b(?:return|reply|respond|send|answer)\w*\b(?:[^.]|\.(?=\w)){0,15}\[\s*2[0-5]\s*,",
        r"\b_?(?:reply|send|respond)_?error\w*\(.*(?:\b20\b|invalid|malformed|bad|param|hex|format|wrong|argument)",
        r"[\"']error[\"']\s*:\s*\[\s*20\b",
        *_PROSE_REPLY,
    ),
    fix_places=INPUT_VALIDATION.fix_places,
    not_fixes=(_OTHER_REJECTS,),
)


def _needs_error_reply(answer: Answer, verdict: Verdict) -> Verdict:
    # (the reply is part of the validation fix: beside the asserted defect, an instruction "If
    # any check fails, send a stratum error reply (code 20, …)" is that fix's reply; a wish
    # "Ideally … would reply with a stratum error" is not)
    said = find_fix(answer, INPUT_REPLY)[0] if verdict.passed and verdict.kind in ("finding", "fix") else None
    if verdict.passed and not evaluate(answer, INPUT_REPLY, require="fix").passed and (said is None or is_soft(said.unit.text)):
        return Verdict(False, "validates the submit but never answers the miner with a stratum error "
                              f"(the check asks for an error reply); {verdict.evidence}", kind="missing", rule="error reply")
    return verdict


# What makes a reassignment outside any def a reset: it happens on a new job or on a timer.
_RESET_WHEN = re.compile(
    r"broadcast_job|clean_jobs|\bnew (?:\w+ )?(?:job|block|template|prevhash|round)s?\b|\bperiodic\w*|"
    r"\bevery \d+|\btimer\b|\b(?:each|every) (?:\w+ )?(?:job|block|minute|hour|interval)\b",
    re.IGNORECASE)


def _or_reset_on_new_job(answer: Answer, verdict: Verdict) -> Verdict:
    if not verdict.passed and verdict.kind != "denial":
        reset = find_fix(answer, MEMORY_RESET)[0]
        if reset is not None and reset.unit.func is None and not any(
                _RESET_WHEN.search(u.text) for u in [reset.unit] + answer.context(reset.unit)):
            reset = None  # a bare `self.recent_shares = set()` changes the type, it resets nothing
        if reset is not None:
            mech = find_mechanism(answer, MEMORY_LEAK)[0]
            return Verdict(True, (f"{mech.evidence()}; " if mech else "") + reset.evidence(), kind="fix", rule=reset.rule)
    return verdict


_LOG_CALL = re.compile(r"\blog(?:ger|ging)?\.\w+\(")
_FULL_HEX = re.compile(r"\bblock_hex\b(?!\s*\[)|\bblock\.hex\(\)(?!\s*\[)")


def _still_logs_block_before_submit(answer: Answer) -> Unit | None:
    """A code block of the answer's _submit_block that still logs the whole hex before submitblock."""
    submitted: set[int] = set()      # code blocks already past the submitblock call
    open_call: dict[int, bool] = {}  # code blocks inside a multi-line log call
    for unit in answer.units:
        if unit.kind != "code" or unit.func != "_submit_block" or getattr(unit, "removed", False):
            continue
        text, block = unit.text, unit.block
        if block in submitted:
            continue
        if "submitblock(" in text:
            submitted.add(block)
            continue
        opens = bool(_LOG_CALL.search(text))
        if (opens or open_call.get(block)) and _FULL_HEX.search(text):
            return unit
        if opens:
            open_call[block] = text.count("(") > text.count(")")
        elif open_call.get(block):
            open_call[block] = text.count(")") <= text.count("(")
    return None


def _block_really_out_of_log(answer: Answer, verdict: Verdict) -> Verdict:
    if verdict.passed and not find_mechanism(answer, INFO_LEAK)[0]:
        left = _still_logs_block_before_submit(answer)
        if left is not None:  # a fix alone must really take the block out of the log
            return Verdict(False, f"its _submit_block still logs the whole block before submitting: «{left.text.strip()}»",
                           kind="missing", rule="block still logged")
    return verdict


CHECKS = (
    Check(
        "stratum.byte_order",
        "previousblockhash must be byte-reversed in _build_header",
        "identifies that `previousblockhash` (RPC display order, big-endian hex) must be "
        "byte-reversed to the header's internal little-endian order in `_build_header`",
        rule=BYTE_ORDER, require="either",
        missing="does not say previousblockhash must be byte-reversed for the header in _build_header",
    ),
    Check(
        "stratum.info_leak",
        "_submit_block logs the whole block before submitting it",
        "identifies that `_submit_block` logs the block data (`block_hex`) before submitting it, "
        "leaking the block, and moves/limits the log",
        rule=INFO_LEAK, require="fixes", post_check=_block_really_out_of_log,
        missing="does not identify (and fix) _submit_block logging the whole block_hex",
    ),
    Check(
        "stratum.stale_job",
        "Shares validated against current_job, not the job named by job_id",
        "identifies that shares are validated against `self.current_job` instead of the job named "
        "by `job_id` (jobs not kept by id), so shares for a just-replaced job are mis-validated "
        "around `broadcast_job`",
        rule=STALE_JOB, require="either",
        missing="does not say shares are checked against current_job instead of the job named by job_id",
    ),
    Check(
        "stratum.memory_leak",
        "recent_shares grows without bound",
        "identifies that `recent_shares` grows without bound (never pruned) and bounds it "
        "(by age, size or per job)",
        rule=MEMORY_LEAK, require="fixes", post_check=_or_reset_on_new_job,
        missing="does not identify (and bound) the never-pruned recent_shares",
    ),
    Check(
        "stratum.input_validation",
        "_handle_submit trusts params and hex fields",
        "identifies that `_handle_submit` trusts `params` (count/types) and hex fields "
        "(`int(nonce, 16)`, `bytes.fromhex`) so malformed input raises, and validates it with a "
        "stratum error reply",
        rule=INPUT_VALIDATION, require="fixes", post_check=_needs_error_reply,
        missing="does not identify (and fix with an error reply) the unchecked params/hex in _handle_submit",
    ),
)


def reference_answer() -> str:
    return (Path(__file__).parent / "reference" / "stratum.md").read_text(encoding="utf-8")


TASK = Task(
    name="stratum",
    title="Stratum Protocol",
    difficulty="nightmare",
    checks=CHECKS,
    build_prompt=build_prompt,
    reference_answer=reference_answer,
)
