"""The streaming client on asyncio: many requests in flight from one process (open-loop load).

It speaks just enough HTTP/1.1 for an OpenAI-compatible stream (a POST, a
status line, headers, a chunked, sized or close-delimited body) over a pool of
kept-alive connections, and fills the same ``RequestRecord`` as the blocking
client through the same ``EventReader``. A stream that stays silent for
``timeout`` seconds fails with a timeout; faults are recorded, never raised.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from urllib.parse import urlsplit

from llmbench.throughput.client import (
    EventReader,
    RequestRecord,
    chat_body,
    error_message,
    fail_record,
    is_eos_rejection,
    mark_empty,
)


class _Closed(Exception):
    """The server closed a kept-alive connection before answering."""


class AsyncStreamClient:
    """A pool of kept-alive connections to one OpenAI-compatible server."""

    def __init__(self, api_url: str, api_key: str | None = None, timeout: float = 600.0):
        url = urlsplit(api_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"api url {api_url!r} is not http(s)://host[:port]/path")
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.ssl = ssl.create_default_context() if url.scheme == "https" else None
        self.timeout = timeout
        host_header = self.host if url.port is None else f"{self.host}:{self.port}"
        head = [f"POST {url.path}/chat/completions HTTP/1.1", f"Host: {host_header}",
                "Content-Type: application/json", "Accept: text/event-stream"]
        if api_key:
            head.append(f"Authorization: Bearer {api_key}")
        self._head = "\r\n".join(head) + "\r\n"
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.eos_control = True   # cleared once the server rejects ignore_eos/min_tokens

    def body(self, model: str, prompt, max_tokens: int, extra_body: dict | None = None,
             per_chunk_usage: bool = False) -> dict:
        return chat_body(model, prompt, max_tokens, extra_body, per_chunk_usage, self.eos_control)

    async def close(self) -> None:
        while self.idle:
            _, writer = self.idle.pop()
            writer.close()

    async def stream(self, record: RequestRecord, body: dict) -> RequestRecord:
        """Send ``body``; fill ``record``. Never raises for server or network faults."""
        record.eos_control = self.eos_control
        payload = json.dumps(body).encode()
        record.start_ns = time.monotonic_ns()
        try:
            async with asyncio.timeout(self.timeout) as deadline:
                status, text = await self._exchange(payload, record, deadline)
            if status is None:
                return mark_empty(record)
            if self.eos_control and is_eos_rejection(status, text):
                # The server does not take ignore_eos/min_tokens: say so, and retry without.
                self.eos_control = False
                for key in ("ignore_eos", "min_tokens"):
                    body.pop(key, None)
                return await self.stream(record, body)
            return fail_record(record, "http", f"HTTP {status}: {error_message(text)}")
        except TimeoutError:
            return fail_record(record, "timeout", f"no data for {self.timeout:g}s")
        except (ConnectionRefusedError, OSError) as exc:
            kind = "connect" if record.http_status is None else "dropped"
            return fail_record(record, kind, f"{type(exc).__name__}: {exc}")
        except (asyncio.IncompleteReadError, _Closed) as exc:
            kind = "dropped" if record.http_status == 200 else "connect"
            return fail_record(record, kind, f"{type(exc).__name__}: connection closed mid-response")
        except (ValueError, UnicodeError, asyncio.LimitOverrunError) as exc:
            return fail_record(record, "protocol" if record.http_status == 200 else "connect", f"{type(exc).__name__}: {exc}")

    async def _exchange(self, payload: bytes, record: RequestRecord, deadline):
        """One request on a pooled connection (a stale kept-alive one is retried once, fresh).

        Returns (None, "") after a complete stream, (status, body text) for any other answer.
        """
        request = f"{self._head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload
        reused = bool(self.idle)
        reader, writer = self.idle.pop() if reused else await self._connect()
        try:
            writer.write(request)
            status, headers = await self._status_and_headers(reader)
        except (_Closed, ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError):
            writer.close()
            if not reused:
                raise
            reader, writer = await self._connect()
            try:
                writer.write(request)
                status, headers = await self._status_and_headers(reader)
            except BaseException:
                writer.close()
                raise
        except BaseException:
            writer.close()
            raise
        record.http_status = status
        keep = headers.get("connection", "").lower() != "close"
        try:
            if status != 200:
                raw = await self._body(reader, headers, limit=4000)
                writer.close()
                return status, raw.decode("utf-8", "replace")
            done = await self._events(reader, headers, record, deadline)
        except BaseException:
            writer.close()
            raise
        record.end_ns = time.monotonic_ns()
        if not done:
            writer.close()
            raise _Closed("stream ended before data: [DONE]")
        if keep and not reader.at_eof():
            self.idle.append((reader, writer))
        else:
            writer.close()
        return None, ""

    async def _connect(self):
        return await asyncio.open_connection(self.host, self.port, ssl=self.ssl, limit=1 << 20)

    @staticmethod
    async def _status_and_headers(reader: asyncio.StreamReader) -> tuple[int, dict]:
        line = await reader.readline()
        if not line:
            raise _Closed("no answer")
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ValueError(f"not an HTTP answer: {line[:80]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        while True:
            h = await reader.readline()
            if h in (b"\r\n", b"\n"):
                return status, headers
            if not h:
                raise _Closed("headers cut off")
            key, _, value = h.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()

    async def _chunks(self, reader: asyncio.StreamReader, headers: dict):
        """The body's pieces as they arrive, whatever its framing."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_line = await reader.readline()
                if not size_line:
                    raise _Closed("chunked body cut off")
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass    # trailers
                    return
                data = await reader.readexactly(size + 2)
                yield data[:-2]
        elif "content-length" in headers:
            left = int(headers["content-length"])
            while left > 0:
                data = await reader.read(min(left, 65536))
                if not data:
                    raise _Closed("body cut off")
                left -= len(data)
                yield data
        else:
            while data := await reader.read(65536):
                yield data

    async def _body(self, reader, headers, limit: int) -> bytes:
        out = b""
        async for data in self._chunks(reader, headers):
            out += data
            if len(out) >= limit:
                break
        return out[:limit]

    async def _events(self, reader, headers, record: RequestRecord, deadline) -> bool:
        """Feed SSE lines to the record; True when ``data: [DONE]`` came."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return await self._chunked_events(reader, record, deadline)
        events = EventReader(record)
        loop = asyncio.get_running_loop()
        pending = b""
        done = False
        async for data in self._chunks(reader, headers):
            t = time.monotonic_ns()
            deadline.reschedule(loop.time() + self.timeout)
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not done and events.line(line, t):
                    done = True
        if done:
            events.finish()
        return done

    async def _chunked_events(self, reader, record: RequestRecord, deadline) -> bool:
        """The hot path: a chunked SSE body parsed from whatever each read brings.

        One read can carry many chunks when the loop is busy, so the framing is
        taken apart in a buffer rather than with an await per chunk; the silence
        deadline is pushed on at most a few times per timeout, not per chunk.
        """
        events = EventReader(record)
        loop = asyncio.get_running_loop()
        push_every = self.timeout / 4
        pushed = loop.time()
        buf = pending = b""
        done = False
        while True:
            data = await reader.read(65536)
            if not data:
                raise _Closed("chunked body cut off")
            t = time.monotonic_ns()
            if loop.time() - pushed > push_every:
                pushed = loop.time()
                deadline.reschedule(pushed + self.timeout)
            buf += data
            while True:
                eol = buf.find(b"\r\n")
                if eol < 0:
                    break
                size = int(buf[:eol].split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    if buf.find(b"\r\n", eol + 2) < 0:
                        break                      # the last CRLF (after any trailers) is still coming
                    if pending.strip() and not done:
                        done = events.line(pending.rstrip(b"\r"), t)
                    if done:
                        events.finish()
                    return done
                end = eol + 2 + size
                if len(buf) < end + 2:
                    break
                pending += buf[eol + 2:end]
                buf = buf[end + 2:]
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if not done and events.line(line, t):
                        done = True
