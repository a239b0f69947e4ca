"""One kept-alive HTTP/1.1 connection as an asyncio protocol: a response parsed as its bytes arrive.

The event loop hands every socket read straight to ``buffer_updated`` (no
stream reader, no future and task wake-up per read), which takes it apart in
one pass: status line and headers, then the body in whatever framing it has
(chunked, sized, or until close), its SSE lines fed to the record's
``EventReader``. The clock is read once per socket read: everything one read
brings was already waiting in the socket when it was read, so the client
cannot tell its chunks' arrivals apart and stamps them all with that instant
(as the stream reader did). Reads land in one buffer shared by a pool's
connections (the loop runs one callback at a time), so a read costs no large
allocation.
"""

from __future__ import annotations

import asyncio
import re
import time

from llmbench.throughput.client import EventReader, RequestRecord

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_MAX_HEAD = 64 * 1024       # bytes of status line and headers before the answer is refused
_MAX_SIZE_LINE = 1024       # bytes of a chunk-size line (with extensions)

# What a response is waiting for.
_HEAD, _EVENTS, _ERROR_BODY, _FINISHED = range(4)


class Closed(Exception):
    """The connection closed (or broke) before the response was complete."""


def chunk_size(line: bytes) -> int:
    """The size in a chunked body's size line (extensions after ``;`` ignored)."""
    return int(line.split(b";", 1)[0].strip() or b"0", 16)


class Connection(asyncio.BufferedProtocol):
    """A connection that parses one response at a time into a record (or an error body)."""

    def __init__(self, buffer: memoryview):
        self.buffer = buffer
        self.transport: asyncio.Transport | None = None
        self.closed = False         # the peer closed or the connection broke: not reusable
        self.waiter: asyncio.Future | None = None
        self.phase = _FINISHED
        self.rest = b""             # bytes read but not yet taken apart
        self.pending = b""          # an SSE line not yet ended
        self.status = 0
        self.headers: dict[str, str] = {}
        self.framing = "close"      # chunked | length | close
        self.left = 0               # framing "length": body bytes still to come
        self.done = False           # data: [DONE] came
        self.keep = True
        self.events: EventReader | None = None
        self.record: RequestRecord | None = None
        self.error_body = b""
        self.error_limit = 4000
        self.deadline: asyncio.Timeout | None = None
        self.timeout_ns = 0
        self.pushed_ns = 0

    # -- a request ------------------------------------------------------------------------
    def send(self, request: bytes, record: RequestRecord, deadline: asyncio.Timeout | None,
             timeout: float) -> asyncio.Future:
        """Write ``request``; the future gives (None, "") after a complete stream, (status, text) otherwise.

        Fails with ``Closed`` when the connection closes first, ``ValueError``
        (and the record's parse errors) on a malformed answer.
        """
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        self.phase, self.rest, self.pending = _HEAD, b"", b""
        self.status, self.headers, self.done, self.error_body = 0, {}, False, b""
        self.record, self.events = record, EventReader(record)
        self.deadline, self.timeout_ns = deadline, int(timeout * 1e9)
        self.pushed_ns = time.monotonic_ns()
        if self.closed or self.transport is None or self.transport.is_closing():
            self.waiter.set_exception(Closed("no answer"))
        else:
            self.transport.write(request)
        return self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    @property
    def reusable(self) -> bool:
        return self.keep and not self.closed and self.phase == _FINISHED

    # -- asyncio callbacks ----------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        t = time.monotonic_ns()
        data = bytes(self.buffer[:nbytes])
        if self.phase == _FINISHED:      # bytes nobody asked for: the connection is not clean
            self.keep = False
            return
        if t - self.pushed_ns > self.timeout_ns >> 2 and self.deadline is not None:
            # the silence deadline moves on a few times per timeout, not per read
            self.pushed_ns = t
            self.deadline.reschedule(asyncio.get_running_loop().time() + self.timeout_ns / 1e9)
        try:
            self._feed(self.rest + data if self.rest else data, t)
        except Exception as exc:    # a malformed answer fails this request, never the loop
            self._fail(exc)

    def eof_received(self) -> bool:
        self.closed = True
        if self.phase in (_EVENTS, _ERROR_BODY) and self.framing == "close":
            try:
                self._end_of_body(time.monotonic_ns())
            except Exception as exc:
                self._fail(exc)
        return False    # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.phase != _FINISHED:
            if self.phase in (_EVENTS, _ERROR_BODY) and self.framing == "close" and exc is None:
                self._end_of_body(time.monotonic_ns())
            elif exc is not None:
                self._fail(exc)
            elif self.phase == _HEAD:
                self._fail(Closed("no answer" if not self.rest else "headers cut off"))
            else:
                self._fail(Closed("body cut off"))

    # -- taking a read apart --------------------------------------------------------------
    def _feed(self, data: bytes, t: int) -> None:
        if self.phase == _HEAD:
            body = self._head(data)
            if body is None:
                return
            data = body
        if self.phase == _FINISHED:
            return
        if self.framing == "chunked":
            self._chunked(data, t)
        elif self.framing == "length":
            piece = data[:self.left]
            self.left -= len(piece)
            self._body(piece, t)
            if self.left <= 0 and self.phase != _FINISHED:
                self._end_of_body(t)
        else:
            self._body(data, t)

    def _head(self, data: bytes) -> bytes | None:
        """Parse the status line and headers; the bytes after them, or None until they are complete."""
        m = _HEAD_END.search(data)
        if m is None:
            if len(data) > _MAX_HEAD:
                raise ValueError(f"response headers longer than {_MAX_HEAD} bytes")
            self.rest = data
            return None
        self.rest = b""
        status_line, *lines = data[:m.start()].split(b"\n")
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ValueError(f"not an HTTP answer: {status_line[:80]!r}")
        self.status = int(parts[1])
        for line in lines:
            key, _, value = line.decode("latin-1").partition(":")
            self.headers[key.strip().lower()] = value.strip()
        if self.record is not None:
            self.record.http_status = self.status
        headers = self.headers
        self.keep = headers.get("connection", "").lower() != "close"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self.framing = "chunked"
        elif "content-length" in headers:
            self.framing, self.left = "length", int(headers["content-length"])
        else:
            self.framing, self.keep = "close", False
        self.phase = _EVENTS if self.status == 200 else _ERROR_BODY
        if self.framing == "length" and self.left <= 0:
            self._end_of_body(0)
        return data[m.end():]

    def _chunked(self, buf: bytes, t: int) -> None:
        """Whole chunks of a chunked body: their data to the body, the rest kept for the next read."""
        pos, n = 0, len(buf)
        while self.phase != _FINISHED:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                if n - pos > _MAX_SIZE_LINE:
                    raise ValueError("chunk-size line too long")
                break
            size = chunk_size(buf[pos:eol])
            if size == 0:
                if buf.find(b"\r\n\r\n", eol) < 0:
                    break                       # the blank line after any trailers is still coming
                pos = n
                self._end_of_body(t)
                break
            end = eol + 2 + size
            if n < end + 2:
                break
            self._body(buf[eol + 2:end], t)
            pos = end + 2
        self.rest = buf[pos:] if pos < n and self.phase != _FINISHED else b""

    def _body(self, piece: bytes, t: int) -> None:
        if self.phase == _ERROR_BODY:
            self.error_body += piece
            if len(self.error_body) >= self.error_limit:
                self.keep = False
                self._end_of_body(t)
            return
        events = self.events
        assert events is not None
        if not self.pending and piece.endswith(b"\n\n") and piece.find(b"\n") == len(piece) - 2:
            # the usual chunk: exactly one event line
            if not self.done and events.line(piece[:-2], t):
                self.done = True
            return
        *lines, self.pending = (self.pending + piece).split(b"\n")
        for line in lines:
            if not self.done and events.line(line, t):
                self.done = True

    def _end_of_body(self, t: int) -> None:
        waiter, self.phase = self.waiter, _FINISHED
        self.rest = b""
        if waiter is None or waiter.done():
            return
        if self.status != 200:
            waiter.set_result((self.status, self.error_body[:self.error_limit].decode("utf-8", "replace")))
            return
        events, record = self.events, self.record
        assert events is not None and record is not None
        if self.pending.strip() and not self.done:
            self.done = events.line(self.pending.rstrip(b"\r"), t)
        record.end_ns = t or time.monotonic_ns()
        if not self.done:
            self.keep = False
            waiter.set_exception(Closed("stream ended before data: [DONE]"))
            return
        events.finish()
        waiter.set_result((None, ""))

    def _fail(self, exc: BaseException) -> None:
        waiter, self.phase = self.waiter, _FINISHED
        self.keep = False
        if self.transport is not None:
            self.transport.close()
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
