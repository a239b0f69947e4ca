"""Grading stays bounded: linear in the answer, and capped at GRADED_CHARS of final answer.

The figures (time per KB from 1 KB to 1 MB of garbage) come from
``scripts/bench_grading.py``; the bounds here are twenty times what the linear
graders need on this machine, so they only trip on super-linear behaviour.
"""

from __future__ import annotations

import random
import signal
from contextlib import contextmanager

import pytest

from llmbench.grading import GRADED_CHARS
from llmbench.grading.parsed_answer import split_sentences
from llmbench.grading.reasoning import split_reasoning
from llmbench.tasks import TASK_NAMES, get_task, grade

_WORDS = ("the socket thread is created in main and used by the listener pplns_window config "
          "job_id current_job payment fee float round lock race twice token log endian reverse").split()


@contextmanager
def within(seconds: int):
    """Fail (instead of hanging for hours) when the block runs longer than ``seconds``."""
    def expired(signum, frame):
        raise TimeoutError(f"took more than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _words(n: int, seed: int = 3) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(_WORDS) for _ in range(n))


@pytest.mark.parametrize("task", TASK_NAMES)
def test_unpunctuated_words_grade_quickly(task):
    # 8 KB of this took minutes per task (nested lookaheads retried from every position)
    text = _words(1500)
    with within(30):
        verdicts = grade(task, text)
    assert set(verdicts) == set(get_task(task).check_ids)


@pytest.mark.parametrize("task", ["payment", "stratum"])
def test_one_paragraph_of_many_sentences_grades_quickly(task):
    # thousands of sentences in one block: each sentence's context used to be rebuilt
    # (and de-duplicated by equality) for every sentence
    words = _words(12_000).split()
    text = ". Then ".join(" ".join(words[i:i + 8]) for i in range(0, len(words), 8))
    with within(60):
        grade(task, text)


def test_sentence_splitting_of_many_abbreviations_and_open_code_spans_is_linear():
    text = "See e.g. " * 20_000 + "An `open span. " + "B. C. " * 20_000
    with within(20):
        sentences = split_sentences(text)
    assert len(sentences) == 1   # every break follows an abbreviation or sits in an open code span
    assert split_sentences("Use e.g. Decimal. It is exact. The `x. Y` span stays. Done.") == [
        "Use e.g. Decimal.", "It is exact.", "The `x. Y` span stays.", "Done."]


def test_reasoning_split_of_many_blocks_is_linear_and_index_safe():
    text = "<think>r</think>a " * 50_000
    with within(20):
        final, reasoning = split_reasoning(text)
    assert final.split() == ["a"] * 50_000 and reasoning.count("r") == 50_000
    # lower-casing "İ" gives two characters: the closing tag must still be found in place
    assert split_reasoning("İİİ<think>why</think>the answer") == ("İİİthe answer", "why")


def test_answer_past_the_cap_is_graded_on_its_head_and_says_so():
    reference = get_task("zmq").reference_answer()
    text = reference + "\n\n" + _words(60_000)
    assert len(text) > GRADED_CHARS
    with within(60):
        verdicts = grade("zmq", text)
    assert all(v.passed for v in verdicts.values())
    for v in verdicts.values():
        assert f"only the first {GRADED_CHARS:,} of the answer's {len(text):,} characters" in v.evidence
        assert "the rest was not graded" in v.evidence


def test_a_finding_only_past_the_cap_is_not_graded():
    reference = get_task("zmq").reference_answer()
    filler = ("filler words without any finding " * 8000)[: GRADED_CHARS]
    verdicts = grade("zmq", filler + "\n\n" + reference)
    assert not any(v.passed for v in verdicts.values())
    assert all("the rest was not graded" in v.evidence for v in verdicts.values())


def test_an_answer_under_the_cap_carries_no_cap_note():
    verdicts = grade("zmq", get_task("zmq").reference_answer())
    assert all(v.passed and "not graded" not in v.evidence for v in verdicts.values())


def test_code_only_past_the_cap_is_not_run_either():
    from llmbench.verify import grade_verified

    fix = "```python\ndef _listen(self):\n    pass\n```\n"
    filler = ("filler words without any finding " * 8000)[:GRADED_CHARS]
    verdicts = grade_verified("zmq", filler + "\n\n" + fix)
    assert all(v.execution["status"] in ("no_code", "unavailable") for v in verdicts.values())
    near = grade_verified("zmq", "Some text.\n\n" + fix)
    assert any(v.execution["status"] not in ("no_code",) for v in near.values())
