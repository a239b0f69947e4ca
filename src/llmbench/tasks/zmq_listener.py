"""zmq — ZMQ listener (easy, 2 checks): a SUB socket created in one thread, used in another."""

from __future__ import annotations

import re
from pathlib import Path

from llmbench.grading.check import Check, Verdict
from llmbench.grading.parsed_answer import Answer
from llmbench.grading.rules import Finding, all_of, any_of, evaluate, find_fix
from llmbench.tasks.base import Task
from llmbench.tasks.prompting import fixture_block

FIXTURES = ("zmq_listener.py", "pool_server.py")

def build_prompt() -> str:
    return (
        "Our mining pool server refreshes its block template when bitcoind announces a new "
        "block over ZeroMQ. Operators report two problems with the block-notification "
        "listener below:\n"
        "- every few restarts the pool process dies on shutdown with "
        "`Assertion failed: ... (src/signaler.cpp:...)` and exit code 134;\n"
        "- on busy days it sometimes stops reacting to new blocks, or logs odd "
        "`zmq receive failed` errors, until the pool is restarted.\n\n"
        "Review the code. Find the bug(s), explain the cause of each one and give the fix "
        "(corrected code).\n\n"
        + "\n\n".join(fixture_block(name) for name in FIXTURES)
        + "\n"
    )


# -- grading ------------------------------------------------------------------

# Where: the socket and the methods that touch it.
_SOCKET = r"(?:self\.)?socket\b|\bsub(?:scriber)? socket|\bSUB\b"
_MAIN_SIDE = (
    r"__init__|\bstart\s*\(|`start`|\bstart\(\)|\bstart method|\bconstructor|\bmain thread|"
    r"\bcall(?:er|ing)(?:'s)? thread|\bparent thread|\bthread that (?:creates|constructs|calls|starts)"
)
_THREAD_SIDE = (
    r"_listen\b|\b(?:background|listener|listening|daemon|worker|receiver|receiving|recv|separate|"
    r"spawned|second|other|another|different|new|child) thread|\bthread (?:running|executing|that runs) `?_?listen|"
    # the thread by its name: "on the `zmq-listener` thread"
    r"`zmq-listener`(?: thread)?"
)

# The socket is set up on one side and used on the other. Every phrasing must be about
# the socket (a context created in __init__ is thread-safe: blaming it is wrong).
_SOCKET_WORD = r"\bsock(?:et)?s?\b|\bconnect|\bsubscri|\brecv|\bSUB\b"
# ("made in `__init__`", not "makes libzmq fail")
_SET_UP = (r"\b(?:creat|instantiat|construct|initiali[sz]|connect|subscri|set (?:up|ting)|open|built|build|born|wired|bound)\w*"
           r"|\b(?:made|make|making|binds?|plugs? it in)\b")
_CROSSES = all_of(_SOCKET_WORD, any_of(
    # created/connected in __init__/start (main thread) ... used in _listen/another thread
    all_of(_SET_UP, _MAIN_SIDE, _THREAD_SIDE),
    # ("set up in one thread and used in another")
    all_of(_SET_UP, r"\b(?:one|a single|a) thread\b", r"\b(?:another|a different|a second|other|different) thread|\b(?:in|on|from) another\b"),
    # shared / passed / crossing between the two threads
    r"\b(?:shared|sharing|passed|handed|crosses|crossing|migrat\w+|moves?|leaks?|escapes?)\b[^.]{0,60}\b(?:threads?|thread boundar\w*)",
    # "`ZMQListener` shares one ZeroMQ socket between two threads"
    r"\bshares (?:one|the|a|its|this|that|a single) (?:\w+ ){0,2}sockets? (?:between|across|with|among) (?:two|both|multiple|several|the) (?:\w+ )?threads?\b",
    r"\b(?:across|between|from|in|on|by) (?:two|both|multiple|several|different) threads\b",
    # this socket, not any socket: "the same ZeroMQ socket being used by more than one thread"
    r"\b(?:the same|this|that|our|the listener'?s) (?:zmq |zeromq |sub )?socket\b[^.]{0,30}\b(?:used|touched|accessed|driven|shared|read)"
    r" (?:by|from|in|on) more than one thread\b",
    all_of(r"\bbelongs? to\b|\bowned by\b|\bowner\b", _MAIN_SIDE),
))

# Sockets are not thread-safe / must stay on one thread.
_NOT_THREAD_SAFE = any_of(
    r"\bnot (?:\w+ ){0,2}thread[- ]?safe",
    r"\bnon[- ]?thread[- ]?safe",
    r"\bthread[- ]?unsafe",
    r"\bisn'?t (?:\w+ ){0,2}thread[- ]?safe",
    r"\baren'?t (?:\w+ ){0,2}thread[- ]?safe",
    r"\b(?:must|should|may|can) (?:only )?(?:ever )?(?:be )?(?:used|accessed|touched|owned|operated|driven)\b[^.]{0,30}\b(?:from|by|in|on|within) (?:a single|one|the same|exactly one|only one|a single,? dedicated|the owning) thread",
    r"\b(?:from|by|in|on) (?:a single|one|the same) thread (?:only|at a time)\b",
    r"\bsingle[- ]thread(?:ed)?\b[^.]{0,40}\b(?:use|only|objects?|access|ownership)\b",
    r"\bone (?:socket )?per thread\b|\bper[- ]thread sockets?\b|\bthread[- ]affinity\b",
    r"\bone (?:socket,? )?one (?:owner )?thread\b|\bone owner thread\b",
    r"\bnever (?:share|pass|use|touch)\w*\b[^.]{0,40}\b(?:across|between|from (?:another|other|different|two|multiple)) threads?\b",
    r"\b(?:can ?not|can'?t|must not|should not|shouldn'?t|mustn'?t) be (?:safely )?(?:shared|used|accessed|passed|moved)\b[^.]{0,40}\b(?:threads?)\b",
    r"\bnot safe to (?:share|use|access|pass|touch)\w*\b[^.]{0,40}\bthreads?\b",
    r"\bunsafe (?:to (?:share|use|access)|across|between)\b[^.]{0,30}\bthreads?\b",
    r"(?:≠|!=|=/=)\s*thread[- ]?safe\b|\bone (?:\w+ )?socket\s*(?:=|==|→|->)\s*one thread\b",
)
_ZMQ_SOCKET_WORDS = r"\b(?:zmq|zeromq|0mq|ømq|pyzmq|libzmq)\b|\bsockets?\b"
_THIS_CODE = (
    r"self\.socket|_listen\b|\bzmq-listener\b|__init__|\bstart\s*\(|`start`|ZMQListener|\blistener thread\b|"
    r"\bbackground thread\b|\bdaemon thread\b|\bstop\s*\(|`stop`|"
    # the listener's own socket ("### Bug 1 – The SUB socket is set up in one thread and used in another")
    r"\bthe (?:zmq |zeromq )?SUB socket\b"
)

_DENIALS = (
    r"\b(?:zmq|zeromq|pyzmq|the)? ?sockets? (?:are|is) (?:fully |perfectly )?thread[- ]?safe\b(?! only)",
    r"\b(?:is|are) (?:only|solely|exclusively) (?:ever )?(?:used|touched|accessed) (?:by|from|in) (?:the )?(?:listener|background) thread\b",
    r"\bthread[- ]?safety (?:is|isn'?t) (?:not )?(?:an? )?(?:issue|problem|concern)\b",
    r"\b(?:threading|thread handling|socket handling|this)(?: (?:design|model|setup|approach))?(?: itself)? (?:here )?(?:is|looks|seems) "
    r"(?:actually |really |perfectly |totally )?(?:fine|ok|okay|correct|safe)\b",
    r"\b(?:handing|passing|moving|migrating|transferring) (?:\w+ ){0,3}(?:over|to (?:another|the (?:listener|background)) thread)\b[^.]{0,30}\b(?:is|are) (?!only\b)(?:\w+ )?(?:allowed|fine|ok|okay|safe|permitted)(?! only| if| with| when| after)",
    r"\bonly (?:ever )?used (?:in|by|from) (?:the )?(?:listener|background|worker|daemon) thread (?:after|once|from then)",
    # "after `self.thread.start()` only `_listen()` uses it": a hand-over described as safe
    # the method by name only: "so that only the listener thread ever touches it" is the fix
    r"\bonly (?:the )?(?:`_?listen\w*(?:\(\))?`|_listen\w*(?:\(\))?|listen\(\)) (?:method |function |loop )?(?:ever )?(?:uses|touches|reads|accesses|owns)\b",
    # "After `start()` returns, the main thread never touches the socket again"
    r"\b(?:main|caller'?s?|calling) thread never (?:\w+ )?(?:touches|uses|reads|accesses) (?:the |that |this )?socket\b"
    r"|\beffectively owned by the (?:listener|background|worker|daemon) thread\b",
    # "ZeroMQ allows a socket to be *migrated* from one thread to another …"
    r"\b(?:allows?|permits?) (?:a |the |its )?sockets? to be (?:\W?migrat\w*|handed (?:over|off)|passed|moved|transferred)\b|\bmigration (?:\w+ ){0,4}(?:is|are) (?:allowed|fine|safe|permitted)\b",
    # ("… and from then on only the listener thread calls `recv_multipart()`, so there is no
    # concurrent socket access")
    r"\bone-?time hand-?over\b|\b(?:after that|afterwards|from then on|thereafter),? only (?:the )?(?:listener|background|worker|daemon) thread "
    r"(?:uses|touches|reads|owns|calls|drives|accesses)\b|\bno concurrent (?:socket )?(?:access|use)\b",
    # "… and from then on it is only read by the `zmq-listener` thread"
    r"\b(?:after that|afterwards|from then on|thereafter),? (?:it |the socket )?(?:is )?only (?:ever )?(?:used|read|touched|accessed|driven) "
    r"(?:by|from|in|on) (?:the )?`?(?:zmq-)?(?:listener|background|worker|daemon)`? thread\b",
    r"\b(?:after|once) `?(?:self\.)?thread\.start\(\)`?(?: (?:returns|runs|is called|has run))?,? only\b",
    # "after `start()` only the listener thread ever touches it, so there is no concurrent access"
    r"\b(?:after|once) `?(?:self\.)?start\(\)`?(?: (?:returns|runs|is called|has run))?,? only (?:the )?"
    r"(?:listener|background|worker|daemon|receiving) thread\b",
    # "after `start()` the SUB socket is only ever read by the `zmq-listener` thread"
    r"\b(?:after|once) `?(?:self\.)?start\(\)`?(?: (?:returns|runs|is called|has run))?,? (?:the |that |this )?(?:\w+ )?socket "
    r"(?:is )?only (?:ever )?(?:used|read|touched|accessed|driven) (?:by|from|in|on) (?:the )?`?(?:zmq-)?(?:listener|background|worker|daemon)`? thread\b",
)


# The fix: the socket is created inside the thread function (not __init__/start/stop).
# the context is thread-safe: set up on one thread and used on another, it is no defect
_CONTEXT_CROSSES = any_of(
    r"\bcontext`?(?:\s*=\s*`?zmq\.Context\(\)`?)?\s+(?:is|was|gets)\s+(?:\w+\s+)?(?:created|made|built|constructed|instantiated)\b",
    r"\bContext`?\s+(?:created|made|built) (?:in|on) (?:one|the main) thread\b",
    # the context blamed for being shared ("it is not safe to drive the same context from two
    # Python threads", "Issue: ZMQ context shared across threads", "one context per thread")
    r"\bcontext`?\s+(?:is\s+)?(?:shared|used|driven)\s+(?:across|between|from|by)\s+(?:two\s+|several\s+|multiple\s+|both\s+)?(?:\w+\s+)?threads\b"
    r"(?![^.]*\b(?:fine|safe|ok|okay|allowed|permitted|designed|meant)\b)",
    r"\b(?:same|one|a single|a shared) (?:zmq |zeromq )?context from (?:two|several|multiple|both)\b|\bshared-context problem\b",
    r"\bcontext`?\s+(?:is not|isn'?t)\s+(?:\w+\s+)?thread[- ]?safe\b|\bone context per thread\b",
    # a part of the context blamed for it: "the context's mailbox is hit from two threads"
    r"\bcontext(?:'s|`'s)\s+(?:\w+\s+){0,2}(?:is|are|gets?)\s+(?:\w+\s+)?(?:hit|used|touched|accessed|driven|shared|raced)\s+"
    r"(?:from|by|across|between)\s+(?:two|both|several|multiple)\s+threads\b",
)


# the subscription racing the first receive (PUB/SUB's slow joiner) is timing, not threads
_SLOW_JOINER = (
    r"^(?=.*(?:\bslow[- ]joiners?\b|\bbefore the subscriptions? (?:has |have )?(?:been )?(?:propagated|arrived|reached|taken effect|delivered|sent)|"
    r"\bsubscriptions? (?:has |have |are |is )?(?:not )?(?:yet )?(?:propagat\w*|race\w*)))"
    r"(?!.*\b(?:thread[- ]?safe\w*|not safe|unsafe|(?:one|single|same|owning|another|other|second|different) thread)\b)"
    # dismissed, not blamed: "the slow joiner … is real but unrelated: it cannot stop the listener"
    r"(?!.*\b(?:unrelated|irrelevant|not (?:the|a) (?:cause|problem|issue|culprit|explanation)|not what\b|"
    r"(?:cannot|can'?t|doesn'?t|does not) (?:explain|cause|stop))\b)"
)


# socket options do not belong to a thread: "`RCVTIMEO` and the `SUBSCRIBE` filters are stored
# per calling thread in libzmq" explains the crossing by something false
_OPTIONS_PER_THREAD = (
    r"\b(?:options?|settings?|subscriptions?|filters?|RCVTIMEO)\b(?:[^.]|\.(?=\w)){0,80}\b(?:stored|recorded|kept|registered|held|applied|apply)\b"
    r"(?:[^.]|\.(?=\w)){0,20}\bper (?:calling |caller )?thread\b|\bthread-?local (?:socket )?(?:options|settings|state)\b"
)


_THREAD_FUNC = r"^(?!(?:__init__|start|stop|on|_dispatch|main|refresh_template)$)\w+$"
_SOCKET_IN_THREAD_CODE = any_of(
    # a code statement (a prose sentence quoting `self.context.socket(zmq.SUB)` is no fix)
    r"^\s*(?:with\s+)?[\w.]+\s*(?:=|:=)?\s*[\w.]*\.socket\(\s*zmq\.SUB\b",
    r"^\s*(?:with\s+)?[\w.]+\s*(?:=|:=)?\s*zmq\.Socket\(\s*\w[\w.]*,\s*zmq\.SUB\b",
)
# A prose fix must read as an instruction or the new design ("create the socket inside
# _listen", "should be created by the listener thread"), never as the diagnosis ("the
# socket is created in __init__ and used on the listener thread").
_FIX_VERB = any_of(
    r"(?:^|[.;:!(—–]\s*|[-*•>]\s+|\b(?:to|by|should|must|instead|just|simply|always|please|and|then|we|you|so|thus|hence|therefore)\s+"
    # (after the place that opens the sentence: "At the top of `_listen()`, in the listener thread, create …")
    r"|^(?:(?:[-*•>]|\d+[.)])\s+)?(?:at|in|inside|within|on|from) (?:`[^`]*`|\b(?:i\.e|e\.g)\.|[^.;:`]){1,80},\s+)"
    r"(?:create|move|construct|instantiate|open|build|set up|make|do)\b",
    r"\b(?:by|when|after|before|via|means) (?:creating|moving|constructing|instantiating|opening|building|setting up|making)\b",
    r"\b(?:should|must|needs? to|has to|have to|ought to|is now|are now|now|gets?|will) (?:be |get |all )?(?:created|constructed|opened|instantiated|set up|built|made|moved|done)\b",
)
_THREAD_NAMES = (
    r"(?:`?_?listen\w*(?:\(\))?`?|`?_run\w*`?|`?run\(\)`?|listener thread|background thread|listening thread|daemon thread|"
    r"worker thread|receiv(?:ing|er) thread|(?:its|their) own thread|thread (?:function|target|itself|body|method|loop|that (?:uses|reads|owns|receives|calls recv)))"
)
# "to" only after a move ("move the socket setup to _listen"): a socket built elsewhere and
# "handed to the listener thread" still crosses threads.
_THREAD_TARGET = any_of(
    r"\b(?:inside|in|within|into|(?:at|to|into) the (?:start|top|beginning|head) of|from|on|by) (?:the )?(?:own |body of )?" + _THREAD_NAMES,
    r"\bmov(?:e|es|ed|ing)\b[^.;]{0,60}\bto (?:the )?(?:own |body of )?" + _THREAD_NAMES,
)
_SOCKET_IN_THREAD_PROSE = any_of(
    all_of(_FIX_VERB, r"\bsock(?:et)?s?\b", _THREAD_TARGET),
    r"\b(?:let|have|make) (?:the )?(?:(?:listener|background|daemon|worker|receiving|listening)(?: thread)?|`?_?listen\w*(?:\(\))?`?)(?: itself)? "
    r"(?:create|own|open|construct|set up|build)\w*\b[^.]{0,40}\b(?:sock|SUB\b)",
    r"\bgive (?:the )?(?:listener|background|daemon|worker|receiving|listening)(?: thread)? (?:full |sole |complete )?ownership\b",
    r"\b(?:listener|background|daemon|worker|receiving|listening) thread (?:should|must|will|now) (?:own|create|open)s? (?:the|its|a) (?:own )?sock",
    r"\bso (?:that )?(?:the )?(?:listener|background|daemon|worker|receiving|listening) thread (?:itself )?(?:owns|creates|opens)\b[^.]{0,40}\b(?:its own|the) sock",
)

# the two threads met only at shutdown, nothing set up on the caller ("`self.socket` is closed
# from the main thread while … The socket ends up being used by two threads at the same time
# during shutdown"): the close is what `stop()` does wrong, the crossing is the set-up
_CLOSE_AT_SHUTDOWN = (
    r"^(?![\s\S]*\b(?:creat|connect|subscri|buil[dt]|set(?:s|ting)? up|instantiat|construct|mak(?:e|es|ing) the socket)\w*)"
    r"[\s\S]*\b(?:two|both|multiple|several) threads\b[^.]{0,40}\b(?:during|at|on|in) (?:the )?(?:shutdown|stop\w*)\b"
)

# the context as a place (a mechanism there is the wrong one), unless it is named as what may
# be shared: "only the `Context` may be shared between threads"
_CONTEXT = (r"(?:self\.context|\bzmq\.Context|\b[Cc]ontext)\b(?!\.socket\b|\(\)\.socket\b| switch)"
            r"(?!`?\)?\s+(?:may|can) (?:safely )?be shared\b)")

# Fix-only policy: a fix that can only mean the defect, placed where it is,
# passes — so the socket created inside the thread function also shows the crossing.
CROSSES = Finding(
    # the class name alone does not place the crossing ("make sure sockets are not shared in ZMQListener")
    places=(_SOCKET, r"_listen\b", r"__init__", r"\bstart\s*\("),
    mechanisms={"socket crosses threads": _CROSSES},
    fixes={"socket created in the thread (code)": _SOCKET_IN_THREAD_CODE, "socket created in the thread": _SOCKET_IN_THREAD_PROSE},
    fix_places=(_THREAD_FUNC,),
    denials=_DENIALS,
    # the context is thread-safe: set up on one thread and used on another, it is no defect
    wrong_mechanisms={"the context crosses threads": _CONTEXT_CROSSES, "slow joiner": _SLOW_JOINER,
                      "options kept per thread": _OPTIONS_PER_THREAD, "only the close at shutdown": _CLOSE_AT_SHUTDOWN},
    # the context is thread-safe: "creating `self.context` in `__init__` is correct" denies nothing here
    wrong_places=(_CONTEXT,),
    span=2,
    # "the socket is created in __init__ and read in _listen" describes the code; it is
    # the finding only when the answer says that is wrong
    descriptive=True,
)

SINGLE_THREAD = Finding(
    places=(_THIS_CODE,),
    mechanisms={"sockets not thread-safe": all_of(_ZMQ_SOCKET_WORDS, _NOT_THREAD_SAFE)},
    fixes={"socket created in the thread (code)": _SOCKET_IN_THREAD_CODE, "socket created in the thread": _SOCKET_IN_THREAD_PROSE},
    fix_places=(_THREAD_FUNC,),
    denials=_DENIALS,
    wrong_mechanisms={"the context crosses threads": _CONTEXT_CROSSES, "slow joiner": _SLOW_JOINER},
    # the context is thread-safe: "creating `self.context` in `__init__` is correct" denies nothing here
    wrong_places=(_CONTEXT,),
    span=2,
)


_CREATES_SOCKET = re.compile(_SOCKET_IN_THREAD_CODE, re.IGNORECASE)
_THREAD_FUNC_RE = re.compile(_THREAD_FUNC)


def _moved_socket_lines_are_novel(answer: Answer) -> None:
    """The prompt creates the socket in ``__init__``: the same line inside the thread's
    function is the fix (a move), not an echo, although its text is copied."""
    for unit in answer.units:
        if (unit.kind == "code" and not unit.novel and unit.func and _THREAD_FUNC_RE.search(unit.func)
                and _CREATES_SOCKET.search(unit.text)):
            unit.novel = True


_CALLER_SIDE_CALL = re.compile(r"\.(?:connect|subscribe)\(|\.setsockopt\(\s*zmq\.SUBSCRIBE\b")
_CALLER_SIDE_CLOSE = re.compile(r"\b(?:self\.)?(?:socket|sock|sub|subscriber)\.close\(")


def _set_up_left_on_caller(answer: Answer, verdict: Verdict) -> Verdict:
    """A fix whose own code block creates the socket in the thread but still connects or
    subscribes it from ``start()``/``__init__``, or closes it from ``stop()`` before the
    thread has ended, leaves the socket crossing threads."""
    if not verdict.passed:
        return verdict
    blocks = {u.block for u in answer.units if u.kind == "code" and not u.removed and u.func
              and _THREAD_FUNC_RE.search(u.func) and _CREATES_SOCKET.search(u.text)}
    joined = set()   # blocks whose stop() joined the thread: a close after the join crosses nothing
    for unit in answer.units:
        if unit.block not in blocks or unit.removed or unit.text.lstrip().startswith("#"):
            continue
        if unit.func == "stop" and ".join(" in unit.text:
            joined.add(unit.block)
        if (unit.func in ("start", "__init__") and _CALLER_SIDE_CALL.search(unit.text)
                or unit.func == "stop" and unit.block not in joined and _CALLER_SIDE_CLOSE.search(unit.text)):
            return Verdict(False, f"the fix still uses the socket from {unit.func}(), on the caller's thread: "
                                  f"«{unit.text.strip()[:200]}»", kind="wrong_place", rule="socket left on the caller")
    return verdict


# the fix said in words to leave the set-up on the caller: "`start()` should still perform the
# `connect()` and set the two `SUBSCRIBE` options" (once the thread has made the socket)
_CALLER_KEEPS_SET_UP = re.compile(
    r"\bstart\(\)`?\s+(?:should|must|will|would|can)\s+(?:still|continue to|keep)\b[^.]{0,60}\b(?:connect\w*|SUBSCRIBE|subscri\w*)",
    re.IGNORECASE)


def _set_up_said_to_stay_on_caller(answer: Answer, verdict: Verdict) -> Verdict:
    if not verdict.passed:
        return verdict
    for unit in answer.units:
        if unit.kind != "code" and unit.novel and not unit.removed and _CALLER_KEEPS_SET_UP.search(unit.text):
            return Verdict(False, f"the fix leaves the socket's set-up on the caller's thread: «{unit.text.strip()[:200]}»",
                           kind="wrong_place", rule="socket left on the caller")
    return verdict


def _soft_fix_beside_asserted_crossing(answer: Answer, verdict: Verdict, crossing: Verdict) -> Verdict:
    """A soft suggestion supplies the fix when the answer asserts the defect: the crossing
    this fix undoes is the other check's finding ("`self.socket` is connected in `start()` …
    but `recv_multipart()` runs on the listener thread" beside "You could consider moving
    the socket into `_listen()`, something like:")."""
    if verdict.passed or verdict.kind != "advice" or not crossing.passed or crossing.kind != "finding":
        return verdict
    fix, _ = find_fix(answer, SINGLE_THREAD)
    if fix is None:
        return verdict
    return Verdict(True, f"{crossing.evidence}; a suggested fix beside it: {fix.evidence()}", kind="fix", rule=fix.rule)


def _fix_beside_denied_crossing(answer: Answer, verdict: Verdict) -> Verdict:
    """The move into the thread fixes nothing the answer calls fine: a crossing denied and
    never retracted ("That hand-off is fine") leaves the move a refactor, whatever its code."""
    crossing = evaluate(answer, CROSSES, require="either")
    verdict = _soft_fix_beside_asserted_crossing(answer, verdict, crossing)
    verdict = _set_up_said_to_stay_on_caller(answer, _set_up_left_on_caller(answer, verdict))
    if not verdict.passed:
        return verdict
    if crossing.kind == "denial":
        return Verdict(False, f"the crossing is denied: {crossing.evidence}", kind="denial", rule=crossing.rule)
    return verdict


def parse(final_text: str) -> Answer:
    answer = Answer(final_text, build_prompt())
    _moved_socket_lines_are_novel(answer)
    return answer


CHECKS = (
    Check(
        "zmq.socket_crosses_threads",
        "Socket created in the caller's thread, used in the listener thread",
        "says the socket is created/connected/subscribed in the main (caller's) thread "
        "(`__init__`/`start`) but used in the background thread (`_listen`)",
        rule=CROSSES, require="either",
        missing="does not say the socket is set up in the caller's thread but used in _listen's thread",
    ),
    Check(
        "zmq.fix_socket_in_thread",
        "ZMQ sockets are single-threaded: create the socket inside the listener thread",
        "states that ZMQ sockets are not thread-safe and must be used by one thread only "
        "(the context may be shared), and fixes it by creating, connecting and subscribing "
        "the socket inside the listener thread",
        rule=SINGLE_THREAD, require="fixes", post_check=_fix_beside_denied_crossing,
        missing="does not state that ZMQ sockets are single-thread objects and move the socket into the listener thread",
    ),
)


def reference_answer() -> str:
    return (Path(__file__).parent / "reference" / "zmq.md").read_text(encoding="utf-8")


TASK = Task(
    name="zmq",
    title="ZMQ Listener",
    difficulty="easy",
    checks=CHECKS,
    build_prompt=build_prompt,
    reference_answer=reference_answer,
    parse=parse,
)
