"""A hostile OpenAI-compatible server: it echoes the API key and sends terminal escapes.

    with EchoServer(key="sk-...") as server:
        server.base_url   # http://127.0.0.1:PORT/v1, serves the model "echo"

Chat requests whose prompt contains ``error_when`` (default: the ZMQ task's "ZeroMQ", and
every throughput request) get HTTP 401 with the key, a starred form of it and escape
sequences in the error message, as real servers word it ("Incorrect API key provided: …").
Every other request streams an answer that repeats the key and the escapes.
``models_error=True`` makes ``GET /models`` fail the same way (the pre-flight check).
``served`` is the model id it lists, ``extra`` text added to every answer; any URL path is served.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Set the window title, clear the screen, an 8-bit CSI, a carriage return over the line.
ESCAPES = "\x1b]0;owned-title\x07\x1b[2J\x1b[H\x9b31m\rOVERWRITTEN"


def masked(key: str) -> str:
    return key[:5] + "*" * 20 + key[-4:]


class EchoServer:
    def __init__(self, key: str, *, error_when: tuple[str, ...] = ("ZeroMQ",), models_error: bool = False,
                 served: str = "echo", extra: str = ""):
        self.key, self.error_when, self.models_error = key, error_when, models_error
        self.served, self.extra = served, extra
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self) -> None:
                message = (f"Incorrect API key provided: {server.key}. You can find your key at "
                           f"https://example.invalid (shown as {masked(server.key)}) {ESCAPES}")
                self._json(401, {"error": {"message": message, "type": "invalid_request_error",
                                           "code": "invalid_api_key"}})

            def do_GET(self):
                if server.models_error:
                    self._error()
                else:
                    self._json(200, {"object": "list", "data": [{"id": server.served, "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
                if "ignore_eos" in body or any(word in prompt for word in server.error_when):
                    self._error()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                text = (f"My key is {server.key} (or {masked(server.key)}). {ESCAPES}\n\n"
                        "The socket is not thread-safe: main thread vs listener thread." + server.extra)
                for piece in (text[:40], text[40:]):
                    chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 20}}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
                self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> "EchoServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
