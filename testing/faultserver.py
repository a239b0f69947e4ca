"""A misbehaving OpenAI-compatible server: one mode per fault a real server shows.

Stdlib only, in a thread of the test process. Every response is HTTP/1.0 and
closes its connection: a stream's end is the connection's end, with no chunked
encoding to tell a cut stream from a finished one (what a proxy or a crashed
server looks like).

Modes (``FaultServer(mode)``):

* ``ok``          a normal short answer (the control case)
* ``empty``       role-only delta, ``finish_reason: stop``, ``completion_tokens: 0``
* ``done_only``   a stream of only ``data: [DONE]``
* ``empty_once``  the first chat request gets ``empty``, the others ``ok``
* ``http500`` / ``http401`` / ``http404``   an OpenAI-style error body
* ``html``        ``200 text/html`` (a login page or proxy error) instead of a stream
* ``killed``      the first chat request is dropped and the server stops listening
* ``cut``         half an answer, then the connection closes: no ``finish_reason``, no ``[DONE]``
* ``slow``        a normal answer, one chunk every ``delay_s``
* ``hang``        headers, a role chunk, then nothing until the client gives up
* ``huge``        a normal stream whose answer is ``huge_bytes`` long
* ``malformed``   SSE lines that are not JSON
* ``models_junk`` ``/models`` answers HTML; chat is ``ok``
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "empty", "done_only", "empty_once", "http500", "http401", "http404", "html", "killed", "cut",
         "slow", "hang", "huge", "malformed", "models_junk")
ANSWER = "I looked at the code and found nothing wrong with it. " * 4
SERVED = "faulty"


def _chunk(delta: dict, finish_reason=None, usage=None) -> bytes:
    obj = {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": 0, "model": SERVED,
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
    if usage is not None:
        obj["usage"] = usage
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _usage(completion: int) -> bytes:
    obj = {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": 0, "model": SERVED,
           "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": completion,
                                    "total_tokens": 10 + completion}}
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"


def _words(text: str) -> list[str]:
    return [w + " " for w in text.split(" ") if w]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: "_Server"

    def log_message(self, *args) -> None:  # quiet
        pass

    # -- helpers ------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, kind: str) -> None:
        self._send(status, json.dumps({"error": {"message": message, "type": kind, "code": status}}).encode())

    def _stream_head(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _answer(self, text: str, delay_s: float = 0.0) -> None:
        words = _words(text)
        self._stream_head()
        self._write(_chunk({"role": "assistant", "content": ""}))
        for word in words:
            if delay_s:
                time.sleep(delay_s)
            self._write(_chunk({"content": word}))
        self._write(_chunk({}, "stop") + _usage(len(words)) + DONE)

    # -- routes -------------------------------------------------------------------------
    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            if self.server.mode == "models_junk":
                self._send(200, b"<html><body>Welcome to nginx!</body></html>", "text/html")
            else:
                self._send(200, json.dumps({"object": "list", "data": [
                    {"id": SERVED, "object": "model", "created": 0, "owned_by": "fault"}]}).encode())
        else:
            self._error(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with self.server.lock:
            self.server.chat_requests += 1
            n = self.server.chat_requests
        mode = self.server.mode
        if mode == "empty_once":
            mode = "empty" if n == 1 else "ok"
        getattr(self, f"_mode_{mode}", self._mode_ok)()

    def _mode_ok(self) -> None:
        self._answer(ANSWER)

    _mode_models_junk = _mode_ok

    def _mode_slow(self) -> None:
        self._answer(ANSWER, delay_s=self.server.delay_s)

    def _mode_huge(self) -> None:
        line = "the same line of a degenerate answer, again and again\n"
        text = line * (self.server.huge_bytes // len(line) + 1)
        self._stream_head()
        self._write(_chunk({"role": "assistant", "content": ""}))
        piece = 64 * 1024
        for i in range(0, len(text), piece):
            self._write(_chunk({"content": text[i:i + piece]}))
        self._write(_chunk({}, "stop") + _usage(len(text) // 4) + DONE)

    def _mode_empty(self) -> None:
        self._stream_head()
        self._write(_chunk({"role": "assistant", "content": ""}) + _chunk({}, "stop") + _usage(0) + DONE)

    def _mode_done_only(self) -> None:
        self._stream_head()
        self._write(DONE)

    def _mode_http500(self) -> None:
        self._error(500, "internal error: CUDA out of memory", "server_error")

    def _mode_http401(self) -> None:
        self._error(401, "Incorrect API key provided", "invalid_request_error")

    def _mode_http404(self) -> None:
        self._error(404, f"The model `{SERVED}` does not exist.", "not_found")

    def _mode_html(self) -> None:
        self._send(200, b"<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>", "text/html")

    def _mode_killed(self) -> None:
        self.server.stop_listening()
        self.close_connection = True
        self.connection.close()

    def _mode_cut(self) -> None:
        words = _words(ANSWER)
        self._stream_head()
        self._write(_chunk({"role": "assistant", "content": ""}))
        for word in words[: len(words) // 2]:
            self._write(_chunk({"content": word}))
        # and the connection closes: no finish_reason, no usage, no [DONE]

    def _mode_hang(self) -> None:
        self._stream_head()
        self._write(_chunk({"role": "assistant", "content": ""}))
        self.server.released.wait(self.server.hang_s)

    def _mode_malformed(self) -> None:
        self._stream_head()
        self._write(b"data: {\"choices\": [{\"delta\": {\"content\": \"half\"\n\n"
                    b"data: <html>oops</html>\n\n" + DONE)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str, delay_s: float, hang_s: float, huge_bytes: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode, self.delay_s, self.hang_s, self.huge_bytes = mode, delay_s, hang_s, huge_bytes
        self.lock = threading.Lock()
        self.chat_requests = 0
        self.released = threading.Event()

    def handle_error(self, request, client_address) -> None:
        pass   # a client that hangs up mid-stream is one of the cases under test, not a server bug

    def stop_listening(self) -> None:
        """As a killed server: nothing accepts connections on the port any more."""
        def stop() -> None:
            self.shutdown()
            self.socket.close()

        threading.Thread(target=stop, daemon=True).start()


class FaultServer:
    """``with FaultServer("cut") as server: ... server.base_url ... server.chat_requests``."""

    def __init__(self, mode: str, *, delay_s: float = 0.05, hang_s: float = 60.0, huge_bytes: int = 1 << 20) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}; one of {', '.join(MODES)}")
        self.mode = mode
        self._server = _Server(mode, delay_s, hang_s, huge_bytes)
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def chat_requests(self) -> int:
        return self._server.chat_requests

    def stop(self) -> None:
        self._server.released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FaultServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":  # a fault server by hand: python testing/faultserver.py MODE
    import sys

    with FaultServer(sys.argv[1] if len(sys.argv) > 1 else "ok") as srv:
        print(srv.base_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
