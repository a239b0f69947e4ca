"""The token-chunk shortcut: lines it counts without a parse, and lines it must leave to the full parse.

Every case feeds the same lines to a reader that learns templates and to one
that never does (the full parse of every line), and the two records must be
identical; the shortcut is then asserted to have been taken, or not.
"""

from __future__ import annotations

import json

import pytest

from llmbench.throughput.chunktemplate import ChunkTemplate, string_length, token_text
from llmbench.throughput.client import EventReader, RequestRecord

VLLM = ('{{"id":"chatcmpl-1","object":"chat.completion.chunk","created":17,"model":"m",'
        '"choices":[{{"index":0,"delta":{{"{key}":{text}}},"logprobs":null,"finish_reason":null}}]}}')
LLAMA = ('{{"choices":[{{"finish_reason":null,"index":0,"delta":{{"{key}":{text}}}}}],"created":17,'
         '"id":"chatcmpl-2","model":"m","system_fingerprint":"b1","object":"chat.completion.chunk"}}')
SPACED = '{{"id": "c", "choices": [{{"index": 0, "delta": {{"{key}": {text}}}, "finish_reason": null}}]}}'
SGLANG = ('{{"id":"c","choices":[{{"index":0,"delta":{{"role":null,"{key}":{text},"reasoning_content":null,'
          '"tool_calls":null}},"logprobs":null,"finish_reason":null,"matched_stop":null}}],"usage":null}}')


def line(layout: str, text: str, key: str = "content", raw: str | None = None) -> bytes:
    """A ``data:`` line; ``raw`` is the text's JSON string as written (else json.dumps of ``text``)."""
    encoded = raw if raw is not None else json.dumps(text, ensure_ascii=False)
    return ("data: " + layout.format(key=key, text=encoded)).encode()


def feed(lines: list[bytes], learn: bool = True) -> tuple[RequestRecord, EventReader, list]:
    """Feed lines at t = 1, 2, ...; returns the record, the reader, and each line's outcome."""
    record = RequestRecord(0, 0, False)
    reader = EventReader(record)
    if not learn:
        reader.learned = 10 ** 9       # never tries a template: every line parsed in full
    outcomes = []
    for t, data in enumerate(lines, 1):
        try:
            outcomes.append(reader.line(data, t))
        except ValueError as exc:
            outcomes.append(type(exc).__name__)
    return record, reader, outcomes


def same_as_full_parse(lines: list[bytes]) -> EventReader:
    """Both readers agree on every line and on the record; returns the learning one."""
    fast_record, fast, fast_out = feed(lines)
    slow_record, slow, slow_out = feed(lines, learn=False)
    assert fast_out == slow_out
    assert fast_record.as_dict() == slow_record.as_dict()
    assert fast.chars == slow.chars and fast.usage_total == slow.usage_total
    assert fast.per_chunk_usage == slow.per_chunk_usage
    return fast


def hits(lines: list[bytes], probe: bytes) -> bool:
    """Whether ``probe``, after ``lines``, is taken by the template (no full parse)."""
    _, reader, _ = feed(lines)
    assert reader.template is not None
    before = reader.hits
    try:
        reader.line(probe, 99)
    except ValueError:
        pass
    return reader.hits == before + 1


@pytest.mark.parametrize("layout,key", [(layout, key) for layout in (VLLM, LLAMA, SPACED, SGLANG)
                                        for key in ("content", "reasoning_content", "reasoning")
                                        if (layout, key) != (SGLANG, "reasoning_content")])  # a null one is there
def test_plain_token_chunks_take_the_shortcut_and_count_as_a_full_parse(layout, key):
    words = ["Hello", " world", ",", " the", " x", " y", " café", " 日本", " 😀", " end"]
    lines = [line(layout, "", "content")] + [line(layout, w, key) for w in words]
    reader = same_as_full_parse(lines + [b"data: [DONE]"])
    assert reader.template is not None
    assert reader.hits == len(words) - 1        # all but the first text chunk (it teaches the template)
    assert reader.chars == [len(w) for w in words]


@pytest.mark.parametrize("raw,length", [
    (r'"a\nb"', 3), (r'"say \"hi\""', 8), (r'"\u00e9t\u00e9"', 3), (r'"\ud83d\ude00"', 1),
    (r'"tab\there\\"', 9), ('"é"', 1), ('"\U0001F600!"', 2)])
def test_escaped_and_non_ascii_texts_are_measured_as_json_reads_them(raw, length):
    lines = [line(VLLM, "first"), line(VLLM, "", raw=raw)]
    reader = same_as_full_parse(lines)
    assert reader.hits == 1 and reader.chars == [5, length]


@pytest.mark.parametrize("text", ['"usage":{"completion_tokens":999,"prompt_tokens":5}',
                                  '"finish_reason":"stop"', '"error":{"message":"no"}', '"choices":[]',
                                  '"}]},"usage":{"completion_tokens":9}'])
def test_text_that_reads_like_json_fields_is_still_just_text(text):
    lines = [line(VLLM, "first"), line(VLLM, text), line(VLLM, "last")]
    reader = same_as_full_parse(lines)
    record = reader.record
    assert reader.hits == 2 and reader.chars == [5, len(text), 4]
    assert reader.usage_total is None and record.finish_reason is None


def test_a_quote_that_ends_the_text_early_is_parsed_in_full():
    # Same bytes before and after, but the middle closes the string and adds a finish_reason
    # and a second choice: the full parse must see both.
    head = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"'
    tail = b'"},"finish_reason":null}]}'
    sneaky = head + b'a"},"finish_reason":"stop"},{"index":1,"delta":{"content":"b' + tail
    lines = [head + b"first" + tail, sneaky]
    assert not hits(lines[:1], sneaky)
    reader = same_as_full_parse(lines)
    assert reader.record.finish_reason == "stop" and reader.chars == [5, 1, 1]


@pytest.mark.parametrize("probe", [
    line(VLLM, "", raw=r'"bad \x escape"'),          # invalid escape: the full parse raises
    line(VLLM, "", raw='"raw\ttab"'),                # control character in a string: raises
    line(VLLM, "", raw='"ends in \\"'),              # escapes the closing quote: raises
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":17,"model":"m","choices":[{"index":0,'
    b'"delta":{"content":"\xff\xfe"},"logprobs":null,"finish_reason":null}]}',      # not UTF-8: raises
])
def test_broken_texts_fall_to_the_full_parse_and_its_error(probe):
    lines = [line(VLLM, "first"), probe]
    assert not hits(lines[:1], probe)
    _, _, outcomes = feed(lines)
    assert outcomes[-1] in ("JSONDecodeError", "UnicodeDecodeError")
    same_as_full_parse(lines)


@pytest.mark.parametrize("probe", [
    line(VLLM, "x").replace(b'"finish_reason":null', b'"finish_reason":"length"'),
    line(VLLM, "x").replace(b'"created":17', b'"created":18'),
    line(VLLM, "x").replace(b"}]}", b'}],"usage":{"prompt_tokens":3,"completion_tokens":7}}'),
    line(VLLM, "x").replace(b'"id":"chatcmpl-1"', b'"error":{"message":"overloaded"},"id":"chatcmpl-1"'),
    line(VLLM, "x", key="reasoning_content"),
    line(VLLM, "x") + b"\r",
])
def test_chunks_that_differ_outside_the_text_are_parsed_in_full(probe):
    lines = [line(VLLM, "first"), line(VLLM, "second")]
    assert not hits(lines, probe)
    same_as_full_parse(lines + [probe])


def test_usage_on_every_chunk_is_parsed_in_full_and_gives_per_chunk_tokens():
    lines = [line(VLLM, w)[:-1] + b',"usage":{"prompt_tokens":3,"completion_tokens":%d}}' % i
             for i, w in enumerate(["ab", "cd", "ef"], 1)]
    reader = same_as_full_parse(lines + [b"data: [DONE]"])
    assert reader.template is None and reader.per_chunk_usage == [1, 2, 3]


def test_role_finish_and_usage_chunks_teach_nothing():
    for data in (line(VLLM, "", "content"),
                 line(VLLM, "").replace(b'"finish_reason":null', b'"finish_reason":"stop"'),
                 b'data: {"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":7}}'):
        assert token_text(json.loads(data[5:])) is None


def test_the_template_is_the_field_that_counts():
    # A key ending in \"content, and a duplicate content key whose last value wins.
    decoy = b'data: {"x\\"content":"zz","choices":[{"delta":{"content":"a"}}]}'
    obj = json.loads(decoy[5:])
    template = ChunkTemplate.learn(decoy, obj, *token_text(obj))
    assert template is not None and template.head.endswith(b'{"delta":{"content":"')
    same_as_full_parse([decoy, decoy.replace(b'"a"', b'"bcd"'), decoy.replace(b'"zz"', b'"y"')])
    duplicate = b'data: {"choices":[{"delta":{"content":"a","content":"bb"}}]}'
    obj = json.loads(duplicate[5:])
    template = ChunkTemplate.learn(duplicate, obj, *token_text(obj))
    assert template is not None and template.head.endswith(b'"a","content":"')
    same_as_full_parse([duplicate, duplicate.replace(b'"bb"', b'"ccc"'), duplicate.replace(b'"a"', b'"ccc"')])


def test_a_server_whose_chunks_never_repeat_stops_being_learned():
    lines = [line(VLLM, f"w{i}").replace(b'"created":17', f'"created":{i}'.encode()) for i in range(200)]
    reader = same_as_full_parse(lines)
    assert reader.hits == 0 and reader.learned <= 3


@pytest.mark.parametrize("body,length", [(b"abc", 3), (b"", 0), ("é日".encode(), 2), (rb"\n", 1),
                                         (b'a"b', None), (b"a\\", None), (b"\x01", None), (b"\xff", None)])
def test_string_length(body, length):
    assert string_length(body) == length
