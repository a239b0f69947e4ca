"""Only the final answer is graded: every reasoning form of checks.md is removed."""

from __future__ import annotations

import pytest

from llmbench.grading.reasoning import split_reasoning


@pytest.mark.parametrize("open_tag, close_tag", [
    ("<think>", "</think>"), ("<seed:think>", "</seed:think>"),
    ("[THINK]", "[/THINK]"), ("<reasoning>", "</reasoning>"),
])
def test_inline_blocks_are_removed(open_tag, close_tag):
    final, reasoning = split_reasoning(f"{open_tag}the bug is X{close_tag}\n\nAnswer: Y")
    assert final == "Answer: Y"
    assert reasoning == "the bug is X"


def test_unterminated_leading_block_is_all_reasoning():
    final, reasoning = split_reasoning("<think>I think the byte order in _build_header is wrong because")
    assert final == ""
    assert "byte order" in reasoning


def test_closing_tag_without_opening_tag_makes_the_prefix_reasoning():
    # chat templates that put <think> in the prompt stream only the closing tag
    final, reasoning = split_reasoning("hidden thoughts about _build_header\n</think>\nFinal: fix it")
    assert final == "Final: fix it"
    assert reasoning.startswith("hidden thoughts")


def test_reasoning_field_is_kept_apart():
    final, reasoning = split_reasoning("The answer.", "server-side reasoning")
    assert (final, reasoning) == ("The answer.", "server-side reasoning")


def test_several_blocks_and_text_between_them():
    final, reasoning = split_reasoning("<think>a</think>one <think>b</think>two")
    assert final == "one two"
    assert reasoning == "a\n\nb"


def test_plain_answer_untouched():
    assert split_reasoning("no tags at all") == ("no tags at all", "")
    assert split_reasoning(None) == ("", "")
