"""The streaming client on asyncio: many requests in flight from one process (open-loop load).

It speaks just enough HTTP/1.1 for an OpenAI-compatible stream (a POST, a
status line, headers, a chunked, sized or close-delimited body) over a pool of
kept-alive connections (``httpconn.Connection``: each socket read parsed in the
loop's callback, no stream reader), and fills the same ``RequestRecord`` as
the blocking client through the same ``EventReader``. A stream that stays silent for
``timeout`` seconds fails with a timeout; faults are recorded, never raised.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from urllib.parse import urlsplit

from llmbench.throughput.client import (
    RequestRecord,
    chat_body,
    error_message,
    fail_record,
    is_eos_rejection,
    mark_empty,
)
from llmbench.throughput.httpconn import Closed, Connection

_READ_SIZE = 256 * 1024    # one socket read at most (asyncio's own default)


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
        self.idle: list[Connection] = []
        self._buffer = memoryview(bytearray(_READ_SIZE))   # every connection's reads land here in turn
        self.eos_control = True   # cleared once the server rejects ignore_eos/min_tokens

    def body(self, model: str, prompt, max_tokens: int, extra_body: dict | None = None,
             per_chunk_usage: bool = False) -> dict:
        return chat_body(model, prompt, max_tokens, extra_body, per_chunk_usage, self.eos_control)

    async def close(self) -> None:
        while self.idle:
            self.idle.pop().close()

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
        except Closed as exc:
            kind = "dropped" if record.http_status == 200 else "connect"
            return fail_record(record, kind, f"connection closed mid-response ({exc})")
        except (ValueError, UnicodeError) as exc:
            return fail_record(record, "protocol" if record.http_status == 200 else "connect", f"{type(exc).__name__}: {exc}")
        except (TypeError, AttributeError, KeyError) as exc:  # valid JSON, but not a chunk's shape
            return fail_record(record, "protocol", f"malformed stream event ({type(exc).__name__}: {exc})")

    async def _exchange(self, payload: bytes, record: RequestRecord, deadline):
        """One request on a pooled connection (a stale kept-alive one is retried once, fresh).

        Returns (None, "") after a complete stream, (status, body text) for any other answer.
        """
        request = f"{self._head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload
        conn = self._pooled()
        reused = conn is not None
        if conn is None:
            conn = await self._connect()
        try:
            try:
                status, text = await conn.send(request, record, deadline, self.timeout)
            except (Closed, ConnectionResetError, BrokenPipeError):
                if not reused or record.http_status is not None:
                    raise
                conn.close()    # the server dropped it while idle: once more on a fresh one
                conn = await self._connect()
                status, text = await conn.send(request, record, deadline, self.timeout)
        except BaseException:
            conn.close()
            raise
        if status is None and conn.reusable:
            self.idle.append(conn)
        else:
            conn.close()
        return status, text

    def _pooled(self) -> Connection | None:
        while self.idle:
            conn = self.idle.pop()
            if conn.reusable:
                return conn
            conn.close()
        return None

    async def _connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(lambda: Connection(self._buffer), self.host, self.port, ssl=self.ssl)
        return conn
