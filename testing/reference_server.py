"""An independent OpenAI-compatible streaming server that keeps its own per-request truth.

It shares no code with the built-in engine: plain threads (``ThreadingHTTPServer``),
fixed pacing per stream (``rate`` tokens/s each, on absolute deadlines), one token
per chunk, HTTP/1.0 with the body ended by closing the connection (no chunked
encoding), and a fixed ``first_token_delay`` before the first token (a prefill).

Its truth, ``GET /truth``: every chat request with the time its head was read
(``arrival_ns``), each token's write time (``chunk_ns``/``chunk_tokens``), the
first token's and the end's time and the token count, all ``time.monotonic_ns()``
(the clock every process on the machine shares). ``POST /truth/reset`` forgets it.

Run in its own process, so its threads do not share a GIL with the client::

    python testing/reference_server.py --rate 40 --port-file /tmp/port
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class ReferenceServer:
    def __init__(self, rate: float, first_token_delay: float = 0.0, port: int = 0):
        self.rate, self.first_token_delay = rate, first_token_delay
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.path.rstrip("/") == "/truth":
                    with outer.lock:
                        data = json.dumps({"requests": list(outer.requests)}).encode()
                    self._json(data)
                elif self.path.rstrip("/").endswith("/models"):
                    self._json(json.dumps({"object": "list", "data": [{"id": "ref", "object": "model"}]}).encode())
                else:
                    self._json(b'{"error": {"message": "not found"}}', 404)

            def _json(self, data: bytes, status: int = 200) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                arrival = time.monotonic_ns()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path.rstrip("/") == "/truth/reset":
                    with outer.lock:
                        outer.requests = []
                    self._json(b"{}")
                    return
                n = int(body.get("max_tokens") or 16)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                step = 1.0 / outer.rate
                due = arrival / 1e9 + outer.first_token_delay
                times: list[int] = []
                for _ in range(n):
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    chunk = {"choices": [{"delta": {"content": " tok"}, "index": 0}]}
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                    self.wfile.flush()
                    times.append(time.monotonic_ns())
                    due += step
                final = {"choices": [{"delta": {}, "index": 0, "finish_reason": "length"}],
                         "usage": {"prompt_tokens": 10, "completion_tokens": n, "total_tokens": n + 10}}
                self.wfile.write(b"data: " + json.dumps(final).encode() + b"\n\ndata: [DONE]\n\n")
                self.wfile.flush()
                end = time.monotonic_ns()
                with outer.lock:
                    outer.requests.append({"arrival_ns": arrival, "first_token_ns": times[0] if times else None,
                                           "end_ns": end, "tokens": n, "chunk_ns": times,
                                           "chunk_tokens": [1] * len(times)})

        class Server(ThreadingHTTPServer):
            request_queue_size = 256   # the default backlog of 5 would stall dozens of clients
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ReferenceServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def tokens_between(self, a: int, b: int) -> int:
        """Tokens written in (a, b]."""
        with self.lock:
            times = sorted(t for r in self.requests for t in r["chunk_ns"])
        return bisect.bisect_right(times, b) - bisect.bisect_right(times, a)


class ReferenceProcess:
    """The reference server in a child process (``with ReferenceProcess(rate=40) as ref:``)."""

    def __init__(self, rate: float, first_token_delay: float = 0.0, startup_timeout: float = 30.0):
        work = tempfile.mkdtemp(prefix="llmbench-ref-")
        port_file = os.path.join(work, "port")
        self.proc = subprocess.Popen([sys.executable, __file__, "--rate", str(rate), "--first-token-delay",
                                      str(first_token_delay), "--port-file", port_file],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + startup_timeout
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the reference server did not start")
            time.sleep(0.02)
        self.port = int(Path(port_file).read_text())
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.root_url}/v1"

    def truth(self) -> list[dict]:
        with urllib.request.urlopen(f"{self.root_url}/truth", timeout=30) as resp:
            return json.load(resp)["requests"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def __enter__(self) -> ReferenceProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=40.0, help="tokens/s per stream")
    p.add_argument("--first-token-delay", type=float, default=0.0, help="seconds before the first token")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", help="write the bound port here once listening")
    args = p.parse_args()
    parent = os.getppid()

    def watch_parent() -> None:   # no orphan when the test process is gone
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    with ReferenceServer(args.rate, args.first_token_delay, args.port) as ref:
        if args.port_file:
            tmp = f"{args.port_file}.tmp"
            Path(tmp).write_text(str(ref.httpd.server_address[1]))
            os.replace(tmp, args.port_file)
        try:
            ref.thread.join()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
