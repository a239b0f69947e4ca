#!/usr/bin/env python
"""How grading time grows with the answer length: prints figures (not a test).

Weak models produce garbage: random words, one phrase looped until max_tokens, no
punctuation, no line breaks. Grading such an answer must stay linear in its length,
and past ``llmbench.GRADED_CHARS`` the tail is not graded at all. For each
kind of garbage and each size (1 KB to 1 MB by default) this grades the answer with
every task's grader through ``llmbench.tasks.grade`` and prints the seconds and
the milliseconds per KB. Linear grading shows as a flat ms/KB column up to the cap;
past the cap the total stays flat.

Usage: .venv/bin/python scripts/bench_grading.py [--sizes-kb 1,4,16,64,256,1024]
       [--tasks zmq,pplns] [--kinds words,loop,code-words,sentences,lines]
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from llmbench.grading import GRADED_CHARS
from llmbench.tasks import TASK_NAMES, grade

# Words the graders look for, mixed with filler, so patterns get partial matches to chase.
_VOCAB = (
    "the socket thread zmq pplns_window window_size config job_id current_job nonce extranonce2 "
    "payment amount fee decimal float round sql injection query cursor execute lock race "
    "concurrent twice duplicate hiveos token log leak endian big little bytes reverse hex "
    "should must be read from is not safe because main listener calculate_fee share "
    "validate against latest job malformed raises params no issue correctly handled fix "
    "e.g i.e vs etc ` * _ ** # - 1. | a an of to in and or it this that with for"
).split()
_LOOP = "the socket is created in the main thread and used in the listener thread so the "


def garbage(kind: str, size: int, rng: random.Random) -> str:
    """About ``size`` characters of one kind of degenerate output.

    words / code-words / loop: one line, no punctuation; sentences: one paragraph of
    thousands of short sentences; lines: one short line per paragraph.
    """
    if kind == "loop":
        return (_LOOP * (size // len(_LOOP) + 1))[:size]
    if kind in ("sentences", "lines"):
        words = garbage("words", size, rng).split()
        sep = ". Then " if kind == "sentences" else "\n\n"
        return sep.join(" ".join(words[i:i + 8]) for i in range(0, len(words), 8))[:size]
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(_VOCAB)
        if kind == "code-words" and rng.random() < 0.1:
            word = f"`{word}`"
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:size]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-kb", default="1,4,16,64,256,1024")
    parser.add_argument("--tasks", default=",".join(TASK_NAMES))
    parser.add_argument("--kinds", default="words,loop,code-words,sentences,lines")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes_kb.split(",")]
    tasks = args.tasks.split(",")
    rng = random.Random(7)
    for task in tasks:   # build prompts and compile patterns before timing
        grade(task, "warm-up")
    print(f"graded cap: {GRADED_CHARS:,} characters of final answer; tasks: {', '.join(tasks)}")
    print(f"{'kind':<11} {'size':>8} {'seconds':>9} {'ms/KB':>9}  note")
    for kind in args.kinds.split(","):
        for kb in sizes:
            text = garbage(kind, kb * 1024, rng)
            start = time.perf_counter()
            truncated = False
            for task in tasks:
                verdicts = grade(task, text)
                truncated |= any("was not graded" in v.evidence for v in verdicts.values())
            seconds = time.perf_counter() - start
            note = "tail past the cap not graded" if truncated else ""
            print(f"{kind:<11} {kb:>6}KB {seconds:>9.3f} {1000 * seconds / kb:>9.2f}  {note}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
