"""The asyncio client's connection protocol: a response taken apart from socket reads cut anywhere.

The protocol is fed bytes directly (as the event loop would after each read),
so framing, SSE lines split across reads, several chunks in one read, errors
and the end of the body are checked without a server; the record must match
the full parse of the same lines, whatever the cuts.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from llmbench.throughput.client import EventReader, RequestRecord
from llmbench.throughput.httpconn import Closed, Connection


class FakeTransport(asyncio.Transport):
    def __init__(self):
        super().__init__()
        self.written = b""
        self.closing = False

    def write(self, data) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True


def sse(*events: dict | str) -> list[bytes]:
    return [(e if isinstance(e, str) else "data: " + json.dumps(e, separators=(",", ":"))).encode() + b"\n\n"
            for e in events]


def token(text: str, key: str = "content") -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {key: text}, "finish_reason": None}]}


STREAM = sse({"id": "c1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
             token("think", "reasoning_content"), token(" more", "reasoning_content"),
             token("Hello"), token(" wor\nld"), token(" \u00e9t\u00e9"), token(" usage: \"finish_reason\""),
             {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
             {"id": "c1", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 9}},
             "data: [DONE]")


def chunked(pieces: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


HEAD_CHUNKED = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def run(reads: list[bytes], eof: bool = False):
    """Feed ``reads`` one per clock tick; (outcome or exception, record, connection, the read times)."""
    async def go():
        buffer = memoryview(bytearray(1 << 16))
        conn = Connection(buffer)
        conn.connection_made(FakeTransport())
        record = RequestRecord(0, 0, False)
        waiter = conn.send(b"POST / HTTP/1.1\r\n\r\n", record, None, 60.0)
        times = []
        for data in reads:
            buffer[:len(data)] = data
            conn.buffer_updated(len(data))
            times.append(record.chunk_ns[-1] if record.chunk_ns else None)
            await asyncio.sleep(0)
        if eof:
            conn.eof_received()
            conn.connection_lost(None)
        try:
            outcome = waiter.result() if waiter.done() else "pending"
        except Exception as exc:   # the test looks at which
            outcome = exc
        return outcome, record, conn, times
    return asyncio.run(go())


def reference(lines: list[bytes]) -> RequestRecord:
    """The record from the full parse of the same SSE lines, all at one instant."""
    record = RequestRecord(0, 0, False)
    reader = EventReader(record)
    reader.learned = 10 ** 9
    for data in lines:
        for line in data.split(b"\n"):
            if reader.line(line, 1):
                reader.finish()
                return record
    raise AssertionError("no [DONE]")


def cuts(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def same_figures(record: RequestRecord, ref: RequestRecord) -> None:
    assert (record.output_tokens, record.chunk_tokens, record.tokens_source, record.prompt_tokens,
            record.finish_reason) == (ref.output_tokens, ref.chunk_tokens, ref.tokens_source, ref.prompt_tokens,
                                      ref.finish_reason)
    assert len(record.chunk_ns) == len(ref.chunk_ns) and record.first_token_ns == record.chunk_ns[0]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 50, 1 << 16])
def test_chunked_stream_cut_anywhere_gives_the_full_parses_figures(size):
    outcome, record, conn, _ = run(cuts(HEAD_CHUNKED + chunked(STREAM), size))
    assert outcome == (None, "")
    same_figures(record, reference(STREAM))
    assert record.http_status == 200 and record.output_tokens == 9 and record.finish_reason == "stop"
    assert len(record.chunk_ns) == 6 and record.end_ns is not None and conn.reusable


def test_events_split_across_http_chunks_and_many_in_one():
    body = b"".join(STREAM)
    pieces = [body[:10], body[10:300], body[300:301], body[301:]]
    outcome, record, _, _ = run([HEAD_CHUNKED + chunked(pieces)])
    assert outcome == (None, "")
    same_figures(record, reference(STREAM))


def test_one_clock_reading_per_read():
    body = chunked(STREAM)
    first = body.index(b"Hello")
    second = body.index(b"usage: ")
    _, record, _, _ = run([HEAD_CHUNKED + body[:first], body[first:second], body[second:]])
    # reasoning arrived in read 1, Hello..été in read 2, the last token in read 3: three instants
    assert len(set(record.chunk_ns)) == 3
    assert record.chunk_ns[0] == record.chunk_ns[1] < record.chunk_ns[2] == record.chunk_ns[4] < record.chunk_ns[5]


@pytest.mark.parametrize("size", [1, 5, 1 << 16])
def test_sized_and_close_delimited_bodies(size):
    body = b"".join(STREAM)
    sized = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    outcome, record, conn, _ = run(cuts(sized, size))
    assert outcome == (None, "") and conn.reusable
    same_figures(record, reference(STREAM))
    closed = b"HTTP/1.0 200 OK\nContent-Type: text/event-stream\n\n" + body
    outcome, record, conn, _ = run(cuts(closed, size))
    assert outcome == "pending"      # a close-delimited body ends only when the server closes
    outcome, record, conn, _ = run(cuts(closed, size), eof=True)
    assert outcome == (None, "") and not conn.reusable
    same_figures(record, reference(STREAM))


def test_error_answer_gives_status_and_body():
    body = json.dumps({"error": {"message": "CUDA out of memory"}}).encode()
    outcome, record, conn, _ = run([b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    + chunked([body[:9], body[9:]])])
    assert outcome == (500, body.decode()) and record.http_status == 500 and not record.chunk_ns


@pytest.mark.parametrize("reads,eof,error,words", [
    ([HEAD_CHUNKED + chunked(STREAM[:5])[:-20]], True, Closed, "body cut off"),
    ([HEAD_CHUNKED + chunked(STREAM[:5])], False, Closed, "before data: [DONE]"),
    ([b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"".join(STREAM[:3])], True, Closed, "body cut off"),
    ([b""], True, Closed, "no answer"),
    ([b"SSH-2.0-OpenSSH\r\n\r\n"], False, ValueError, "not an HTTP answer"),
    ([HEAD_CHUNKED + chunked([b'data: {"choices": [{"delta": {"content": "half"\n\n'])], False, ValueError, ""),
    ([HEAD_CHUNKED + chunked([b'data: {"error": {"message": "overloaded"}}\n\n'])], False, ValueError, "overloaded"),
    ([HEAD_CHUNKED + b"zz\r\n"], False, ValueError, "invalid literal"),
])
def test_faults_fail_the_request(reads, eof, error, words):
    outcome, record, conn, _ = run(reads, eof=eof)
    assert isinstance(outcome, error) and words in str(outcome), outcome
    assert not conn.reusable


def test_tokens_before_a_cut_are_kept():
    outcome, record, _, _ = run([HEAD_CHUNKED + chunked(STREAM[:5])[:-20]], eof=True)
    assert isinstance(outcome, Closed) and len(record.chunk_ns) == 3


def test_bytes_after_the_response_spoil_the_connection():
    outcome, record, conn, _ = run([HEAD_CHUNKED + chunked(STREAM), b"HTTP/1.1 200 OK\r\n"])
    assert outcome == (None, "") and not conn.reusable


# -- the pool over real sockets, against a server that answers canned bytes ---------------------
def serve_canned(answers: list[bytes], close_after_each: bool):
    """A server answering each request with the next canned answer; returns (coroutine to start, connections seen)."""
    seen = []

    async def handle(reader, writer):
        seen.append(writer)
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            writer.write(answers.pop(0))
            await writer.drain()
            if close_after_each:
                break
        writer.close()

    return handle, seen


def stream_all(answers: list[bytes], requests: int, close_after_each: bool = False) -> tuple[list, int]:
    from llmbench.throughput.asyncclient import AsyncStreamClient

    async def go():
        handle, seen = serve_canned(list(answers), close_after_each)
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = AsyncStreamClient(f"http://127.0.0.1:{port}/v1", timeout=5)
        records = []
        for i in range(requests):
            records.append(await client.stream(RequestRecord(0, i, False), client.body("m", "hi", 9)))
            await asyncio.sleep(0.05)     # the server's close (if any) lands while the connection is idle
        await client.close()
        server.close()
        return records, len(seen)
    return asyncio.run(go())


def test_a_kept_alive_connection_closed_while_idle_is_replaced():
    answer = HEAD_CHUNKED + chunked(STREAM)
    records, connections = stream_all([answer, answer], 2, close_after_each=True)
    assert [r.ok for r in records] == [True, True] and connections == 2
    assert all(r.output_tokens == 9 for r in records)
    records, connections = stream_all([answer, answer], 2)
    assert [r.ok for r in records] == [True, True] and connections == 1


def test_a_chunk_of_the_wrong_shape_is_a_protocol_error():
    answer = HEAD_CHUNKED + chunked(sse(token("a"), {"choices": [5]}, "data: [DONE]"))
    (record,), _ = stream_all([answer], 1)
    assert record.error_kind == "protocol" and "malformed stream event" in record.error
    assert record.output_tokens == 1
