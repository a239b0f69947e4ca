"""The finding rules on a synthetic check: what must pass and what must fail."""

from __future__ import annotations

import pytest

from llmbench.grading.parsed_answer import Answer, split_sentences
from llmbench.grading.rules import Finding, all_of, evaluate

PROMPT = """Our pool rejects every block it finds.

```python
class Server:
    def _build_header(self):
        prev = bytes.fromhex(self.tpl['previousblockhash'])
        return prev

    def _log(self):
        pass
```
"""

FINDING = Finding(
    places=[r"_build_header"],
    mechanisms=[all_of(r"previousblockhash|prev(?:ious)?[ _-]?(?:block[ _-]?)?hash", r"revers|endian|byte[- ]order|back to front")],
    fixes=[r"previousblockhash'\]\)\[::-1\]"],
    wrong_places=[r"_log\b"],
)


def grade(text: str, require: str = "either"):
    return evaluate(Answer(text, PROMPT), FINDING, require)


@pytest.mark.parametrize("text", [
    "`_build_header` packs previousblockhash as-is; the header needs it byte-reversed.",
    "In _build_header the prev hash is in display order; its 32 bytes must go back to front.",
    "## Bug 1: `_build_header`\n\nThe previousblockhash is big-endian hex and must be reversed.",
    "1. _build_header\n   previousblockhash needs its byte order swapped.",
    "| _build_header | previousblockhash not byte-reversed |",
    '{"bugs": [{"function": "_build_header", "issue": "previousblockhash endianness is wrong"}]}',
    "Fixed:\n```python\n    def _build_header(self):\n        prev = bytes.fromhex(self.tpl['previousblockhash'])[::-1]\n```",
])
def test_passes(text):
    verdict = grade(text)
    assert verdict.passed, verdict.evidence
    assert verdict.evidence


@pytest.mark.parametrize("text, kind, reason", [
    (PROMPT, "missing", "no finding"),
    ("Consider byte order issues with the previous block hash.", "advice", "advice"),
    ("Double-check the byte order of previousblockhash in `_build_header`.", "advice", "advice"),
    ("Is previousblockhash in `_build_header` in the right byte order?", "advice", "advice"),
    ("`_build_header` correctly reverses previousblockhash, so byte order is fine.", "denial", "denial"),
    ("`_log` has a previousblockhash byte-order problem.", "wrong_place", "wrong place"),
    ("The previousblockhash must be byte-reversed.", "missing", "without naming where"),
    ("_build_header looks wrong.", "missing", "no finding"),
])
def test_fails_with_reason(text, kind, reason):
    verdict = grade(text)
    assert not verdict.passed
    assert verdict.kind == kind, verdict
    assert reason in verdict.evidence


def test_fix_in_wrong_function_fails():
    text = "```python\n    def _log(self):\n        prev = bytes.fromhex(self.tpl['previousblockhash'])[::-1]\n```"
    verdict = grade(text, "fix")
    assert not verdict.passed and "_log" in verdict.evidence


def test_both_requires_mechanism_and_fix():
    mechanism_only = "`_build_header` packs previousblockhash without reversing its bytes."
    assert not grade(mechanism_only, "both").passed
    with_fix = mechanism_only + "\n```python\n    def _build_header(self):\n        prev = bytes.fromhex(self.tpl['previousblockhash'])[::-1]\n```"
    assert grade(with_fix, "both").passed


def test_echoed_units_are_not_novel():
    answer = Answer(PROMPT, PROMPT)
    assert not any(u.novel for u in answer.units if u.kind == "code")


def test_sentence_split_keeps_dotted_names_and_abbreviations():
    assert split_sentences("Use self.lock here, e.g. around check-then-add. Then commit.") == [
        "Use self.lock here, e.g. around check-then-add.", "Then commit."]


# -- denials veto the check answer-wide; only a later assertion retracts them -------------

FIX = "```python\n    def _build_header(self):\n        prev = bytes.fromhex(self.tpl['previousblockhash'])[::-1]\n```"


def test_denial_then_fix_in_the_next_paragraph_fails():
    verdict = grade("`_build_header` is fine as it is: previousblockhash needs no change.\n\n" + FIX)
    assert not verdict.passed and verdict.kind == "denial", verdict
    assert "is fine" in verdict.rule


def test_later_assertion_retracts_a_denial():
    text = ("At first `_build_header` looked fine.\n\n"
            "On a closer look, `_build_header` packs previousblockhash without reversing its bytes.")
    verdict = grade(text)
    assert verdict.passed and verdict.kind == "finding", verdict


def test_later_denial_vetoes_an_earlier_finding():
    text = ("`_build_header` packs previousblockhash without reversing its bytes.\n\n"
            "Thinking again, `_build_header` is fine as it is.")
    assert grade(text).kind == "denial"


def test_statement_about_the_fixed_code_is_no_denial():
    text = "`_build_header` packs previousblockhash without reversing its bytes. With this fix `_build_header` is correct.\n\n" + FIX
    assert grade(text).passed


def test_advice_only_answer_passes_nothing():
    text = ("- Verify the byte order of previousblockhash in `_build_header`.\n"
            "- Make sure `_build_header` handles previousblockhash endianness.\n")
    verdict = grade(text)
    assert not verdict.passed and verdict.kind == "advice", verdict


# -- a mechanism binds to the places of its own sentence, item, heading or the sentence before --

def test_place_two_sentences_back_does_not_lend_itself():
    text = ("We looked at `_build_header` first. Nothing else there stood out. "
            "The previousblockhash must go back to front.")
    assert not grade(text).passed


def test_heading_lends_its_place():
    assert grade("### `_build_header`\n\nThe previousblockhash is packed as-is; its bytes are never reversed.").passed


def test_mechanism_under_a_decoy_heading_is_wrong_place():
    verdict = grade("### `_log`\n\nThe previousblockhash bytes are never reversed here.")
    assert not verdict.passed and verdict.kind == "wrong_place", verdict


def test_evidence_names_the_rule():
    finding = Finding(places={"_build_header": r"_build_header"},
                      mechanisms={"reversal": r"\brevers\w*"})
    verdict = evaluate(Answer("`_build_header` never reverses the hash.", PROMPT), finding)
    assert verdict.passed and verdict.rule == "mechanism `reversal`"
    assert "place `_build_header`" in verdict.evidence


def test_all_of_matches_every_part_anywhere_in_any_order():
    import re
    pattern = re.compile(all_of(r"\bsocket\b", r"\bthread\b"), re.IGNORECASE)
    assert pattern.search("the listener thread uses the socket")
    assert pattern.search("socket ... thread")
    assert not pattern.search("the socket alone")
