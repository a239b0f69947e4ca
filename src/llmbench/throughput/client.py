"""One streaming chat request, timed per chunk (the measurement core's innermost loop).

Plain ``http.client`` over a kept-alive connection: with 64 client processes on two
cores, import time and per-chunk cost matter, and the stdlib parser is the
cheapest (``scripts/bench_throughput_accuracy.py --client-ceiling`` prints the
figures). Times are ``time.monotonic_ns()`` (CLOCK_MONOTONIC, one clock for
every process on the machine), so records from all workers line up.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
from dataclasses import dataclass, field
from itertools import pairwise
from urllib.parse import urlsplit

from llmbench.redact import redact
from llmbench.throughput.chunktemplate import ChunkTemplate, token_text

# Keys a server may use for the reasoning part of a delta.
_REASONING_KEYS = ("reasoning_content", "reasoning")
# Words in a 400 answer that mean "I do not know ignore_eos/min_tokens".
_EOS_PARAM_HINTS = ("ignore_eos", "min_tokens", "unrecognized", "extra", "unknown", "not permitted")


@dataclass
class RequestRecord:
    client: int
    seq: int
    warmup: bool
    start_ns: int = 0
    first_token_ns: int | None = None
    end_ns: int | None = None
    chunk_ns: list[int] = field(default_factory=list)      # arrival of each chunk carrying tokens
    chunk_tokens: list[int] = field(default_factory=list)  # tokens in that chunk (see attribute_tokens)
    output_tokens: int = 0
    tokens_source: str = "usage"       # usage | usage_per_chunk | counted (no usage: one per chunk)
    prompt_tokens: int | None = None
    finish_reason: str | None = None
    eos_control: bool = True           # ignore_eos/min_tokens were sent and accepted
    http_status: int | None = None
    error: str | None = None
    error_kind: str | None = None      # http | dropped | timeout | connect | protocol | empty
    scheduled_ns: int | None = None    # open-loop: when the schedule said to send (start_ns - this = lag)
    max_tokens: int | None = None      # the output tokens this request asked for

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> "RequestRecord":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def attribute_tokens(chars: list[int], total: int) -> list[int]:
    """Split ``total`` tokens over chunks in proportion to their text length.

    Largest remainder, so the parts add up to ``total`` exactly; a server that
    sends one token per chunk gets one per chunk whatever the token's length
    when ``total`` equals the number of chunks.
    """
    n = len(chars)
    if n == 0:
        return []
    if total == n:
        return [1] * n
    weight = sum(chars)
    shares = [total * c / weight for c in chars] if weight else [total / n] * n
    parts = [int(s) for s in shares]
    order = sorted(range(n), key=lambda i: shares[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def chat_body(model: str, prompt, max_tokens: int, extra_body: dict | None = None,
              per_chunk_usage: bool = False, eos_control: bool = True) -> dict:
    """A streaming chat request; ``prompt`` is the user's text or a ready list of messages."""
    messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
    stream_options = {"include_usage": True}
    if per_chunk_usage:
        stream_options["continuous_usage_stats"] = True
    body = {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0,
            "stream": True, "stream_options": stream_options}
    if eos_control:   # ask for exactly max_tokens
        body["ignore_eos"] = True
        body["min_tokens"] = max_tokens
    body.update(extra_body or {})
    return body


def is_eos_rejection(status: int, text: str) -> bool:
    """A 400 that means "I do not know ignore_eos/min_tokens"."""
    return status == 400 and any(h in text.lower() for h in _EOS_PARAM_HINTS)


def mark_empty(record: RequestRecord) -> RequestRecord:
    """A stream that ended cleanly without a single token is an error for that request."""
    if record.error is None and record.output_tokens == 0:
        record.error_kind, record.error = "empty", "empty completion: the stream carried no tokens"
    return record


class StreamClient:
    """A kept-alive connection to one OpenAI-compatible server."""

    def __init__(self, api_url: str, api_key: str | None = None, timeout: float = 600.0):
        url = urlsplit(api_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"api url {api_url!r} is not http(s)://host[:port]/path")
        self.scheme, self.host = url.scheme, url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.path = f"{url.path}/chat/completions"
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.conn: http.client.HTTPConnection | None = None
        self.eos_control = True   # cleared once the server rejects ignore_eos/min_tokens

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            if self.scheme == "https":
                self.conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                        context=ssl.create_default_context())
            else:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def _send(self, payload: bytes) -> http.client.HTTPResponse:
        """POST; a kept-alive connection the server closed while idle is retried once, fresh."""
        reused = self.conn is not None
        try:
            conn = self._connection()
            conn.request("POST", self.path, payload, self.headers)
            return conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
            self.close()
            conn = self._connection()
            conn.request("POST", self.path, payload, self.headers)
            return conn.getresponse()

    def body(self, model: str, prompt, max_tokens: int, extra_body: dict | None = None,
             per_chunk_usage: bool = False) -> dict:
        return chat_body(model, prompt, max_tokens, extra_body, per_chunk_usage, self.eos_control)

    def stream(self, record: RequestRecord, body: dict) -> RequestRecord:
        """Send ``body``; fill ``record``. Never raises for server or network faults."""
        record.eos_control = self.eos_control
        payload = json.dumps(body).encode()
        record.start_ns = time.monotonic_ns()
        try:
            resp = self._send(payload)
            record.http_status = resp.status
            if resp.status != 200:
                text = resp.read(4000).decode("utf-8", "replace")
                self.close()
                if self.eos_control and is_eos_rejection(resp.status, text):
                    # The server does not take ignore_eos/min_tokens: say so, and retry without.
                    self.eos_control = False
                    for key in ("ignore_eos", "min_tokens"):
                        body.pop(key, None)
                    return self.stream(record, body)
                return fail_record(record, "http", f"HTTP {resp.status}: {error_message(text)}")
            kind = resp.getheader("Content-Type") or ""
            if kind and "text/event-stream" not in kind:   # an HTML login page, a JSON error...
                text = resp.read(300).decode("utf-8", "replace")
                self.close()
                return fail_record(record, "protocol",
                                   f"HTTP 200 with {kind.split(';')[0]} instead of an event stream: "
                                   f"{' '.join(text.split())[:120]}")
            self._read_events(resp, record)
            mark_empty(record)
        except TimeoutError:
            self.close()
            return fail_record(record, "timeout", f"no data for {self.timeout:g}s")
        except (ConnectionRefusedError, ConnectionResetError) as exc:
            self.close()
            kind = "connect" if record.http_status is None else "dropped"
            return fail_record(record, kind, f"{type(exc).__name__}: {exc}")
        except (http.client.HTTPException, OSError, ValueError) as exc:
            self.close()
            kind = "dropped" if record.http_status == 200 else "connect"
            return fail_record(record, kind, f"{type(exc).__name__}: {exc}")
        except (TypeError, AttributeError, KeyError) as exc:  # valid JSON, but not a chunk's shape
            self.close()
            return fail_record(record, "protocol", f"malformed stream event ({type(exc).__name__}: {exc})")
        return record

    def _read_events(self, resp: http.client.HTTPResponse, record: RequestRecord) -> None:
        events = EventReader(record)
        now = time.monotonic_ns
        done = False
        for line in resp:
            if events.line(line, now()):
                done = True
                break
        record.end_ns = now()
        if not done:
            self.close()
            raise ConnectionResetError("stream ended early: the connection closed before data: [DONE]")
        resp.read()   # the chunked terminator: the connection is then free for the next request
        if resp.will_close:
            self.close()
        events.finish()


class EventReader:
    """Fills a record from SSE lines (shared by the blocking and the asyncio client).

    Token chunks that match the stream's ``ChunkTemplate`` are counted without a
    JSON parse; every other line (role, usage, finish_reason, errors, anything
    unusual) is parsed in full.
    """

    __slots__ = ("record", "chars", "usage_total", "per_chunk_usage", "template", "learned", "hits")

    def __init__(self, record: RequestRecord):
        self.record = record
        self.chars: list[int] = []
        self.usage_total: int | None = None
        self.per_chunk_usage: list[int] = []
        self.template: ChunkTemplate | None = None
        self.learned = 0     # templates tried: a server whose chunks never repeat stops being tried
        self.hits = 0

    def line(self, line: bytes, t: int) -> bool:
        """Take one line that arrived at ``t``; True at ``data: [DONE]``. Raises ValueError on bad data."""
        if self.template is not None:
            n = self.template.text_length(line)
            if n is not None:
                self.hits += 1
                if n:
                    record = self.record
                    if record.first_token_ns is None:
                        record.first_token_ns = t
                    record.chunk_ns.append(t)
                    self.chars.append(n)
                return False
        if not line.startswith(b"data:"):
            return False
        data = line[5:].strip()
        if data == b"[DONE]":
            return True
        obj = json.loads(data)
        if not isinstance(obj, dict):
            raise ValueError("stream event is not a JSON object")
        if "error" in obj:
            raise ValueError(f"server error event: {error_message(json.dumps(obj))}")
        record = self.record
        usage = obj.get("usage")
        for choice in obj.get("choices") or ():
            delta = choice.get("delta") or {}
            text = delta.get("content") or ""
            for key in _REASONING_KEYS:
                text += delta.get(key) or ""
            if text:
                if record.first_token_ns is None:
                    record.first_token_ns = t
                record.chunk_ns.append(t)
                self.chars.append(len(text))
                if usage:
                    self.per_chunk_usage.append(usage.get("completion_tokens") or 0)
            if choice.get("finish_reason"):
                record.finish_reason = choice["finish_reason"]
        if usage and usage.get("completion_tokens") is not None:
            self.usage_total = usage["completion_tokens"]
            record.prompt_tokens = usage.get("prompt_tokens")
        elif self.learned <= 2 + self.hits // 16 and (found := token_text(obj)) is not None:
            self.learned += 1
            template = ChunkTemplate.learn(line, obj, *found)
            if template is not None:
                self.template = template
        return False

    def finish(self) -> None:
        """After [DONE]: tokens per chunk from usage (or counted), the record's output_tokens."""
        record, chars, usage_total = self.record, self.chars, self.usage_total
        if usage_total is None:
            record.tokens_source = "counted"
            record.chunk_tokens = [1] * len(chars)
        elif self.per_chunk_usage and len(self.per_chunk_usage) == len(chars):
            record.tokens_source = "usage_per_chunk"
            record.chunk_tokens = [b - a for a, b in pairwise([0, *self.per_chunk_usage])]
        else:
            record.chunk_tokens = attribute_tokens(chars, usage_total)
        record.output_tokens = usage_total if usage_total is not None else len(chars)


def fail_record(record: RequestRecord, kind: str, message: str) -> RequestRecord:
    record.error_kind, record.error = kind, redact(message)[:500]
    if record.end_ns is None:
        record.end_ns = time.monotonic_ns()
    # What arrived before the fault still counts as tokens the server produced.
    record.chunk_tokens = [1] * len(record.chunk_ns)
    record.output_tokens = len(record.chunk_ns)
    record.tokens_source = "counted"
    return record


def error_message(text: str) -> str:
    try:
        obj = json.loads(text)
        err = obj.get("error", obj)
        return str(err.get("message", err) if isinstance(err, dict) else err)[:300]
    except (ValueError, AttributeError):
        return text.strip()[:300]
