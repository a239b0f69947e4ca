"""A start line over TCP, and each worker's clock offset to the controller (workers on several hosts).

The file barrier and CLOCK_MONOTONIC both assume one machine. With xdist
workers started by ``--tx`` (``popen`` here, ``ssh=host`` elsewhere) the
controller runs a ``BarrierServer``; each worker connects, measures its clock
against the controller's (several pings; the one with the shortest round trip
gives ``offset = controller - (sent + received) / 2``), says it is ready and
waits for ``go``. The worker then moves every timestamp of its records by the
offset, so all records are on the controller's clock and aggregate as if they
came from one machine.

Protocol, one line each way: ``time`` -> ``<controller monotonic ns>``;
``ready <name>`` -> (once every party is ready) ``go <controller monotonic ns>``.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time

PINGS = 8
START_MARGIN_NS = 50_000_000
_TIME_FIELDS = ("start_ns", "first_token_ns", "end_ns", "scheduled_ns")


class BarrierTimeout(RuntimeError):
    pass


class BarrierServer:
    """The controller's side: answers clock pings, releases everyone once ``parties`` are ready."""

    def __init__(self, parties: int, host: str = "127.0.0.1", clock=time.monotonic_ns):
        self.parties, self.clock = parties, clock
        self.ready: list[tuple[socket.socket, threading.Event]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for raw in self.rfile:
                    line = raw.decode("ascii", "replace").strip()
                    if line == "time":
                        self.wfile.write(f"{outer.clock()}\n".encode())
                    elif line.startswith("ready"):
                        released = threading.Event()
                        outer._arrive(self.connection, released)
                        released.wait()    # keep the connection open until 'go' is sent
                        return

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((host, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def _arrive(self, conn: socket.socket, released: threading.Event) -> None:
        with self.lock:
            self.ready.append((conn, released))
            if len(self.ready) < self.parties:
                return
            go = f"go {self.clock()}\n".encode()
            for c, event in self.ready:
                try:
                    c.sendall(go)
                except OSError:
                    pass
                event.set()
            self.ready = []

    def close(self) -> None:
        with self.lock:
            for _, event in self.ready:
                event.set()
            self.ready = []
        self.server.shutdown()
        self.server.server_close()


class NetBarrier:
    """A worker's side; the same ``wait``/``last_arrival_ns`` as ``loop.FileBarrier``, plus ``offset_ns``."""

    def __init__(self, address: str, timeout: float = 600.0, connect=None):
        host, _, port = address.rpartition(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.offset_ns = 0                 # controller clock - this worker's clock
        self.last_arrival_ns: int | None = None
        self._connect = connect or socket.create_connection

    def wait(self, name: str) -> int:
        try:
            with self._connect((self.host, self.port), timeout=30) as sock:
                reader = sock.makefile("rb")
                best = None
                for _ in range(PINGS):
                    sent = time.monotonic_ns()
                    sock.sendall(b"time\n")
                    theirs = int(reader.readline())
                    got = time.monotonic_ns()
                    if best is None or got - sent < best[0]:
                        best = (got - sent, theirs - (sent + got) // 2)
                assert best is not None  # eight pings were made
                self.offset_ns = best[1]
                sock.sendall(f"ready {name}\n".encode())
                sock.settimeout(self.timeout)
                line = reader.readline().decode("ascii", "replace").split()
        except socket.timeout:
            raise BarrierTimeout(f"not every client reached the start line in {self.timeout:g}s") from None
        except (OSError, ValueError) as exc:
            raise BarrierTimeout(f"cannot reach the controller's start line at {self.host}:{self.port}: {exc}") from None
        if len(line) != 2 or line[0] != "go":
            raise BarrierTimeout("the controller's start line closed before everyone was ready")
        # the controller's 'go' moment on this worker's clock: a shared start for open-loop schedules
        self.last_arrival_ns = int(line[1]) - self.offset_ns
        return time.monotonic_ns()


def to_controller_clock(result: dict, offset_ns: int) -> dict:
    """Move every timestamp of a client result by ``offset_ns`` (in place; returns it)."""
    result["clock_offset_ns"] = offset_ns
    if not offset_ns:
        return result
    for record in result.get("records") or ():
        for key in _TIME_FIELDS:
            if record.get(key) is not None:
                record[key] += offset_ns
        record["chunk_ns"] = [t + offset_ns for t in record.get("chunk_ns") or ()]
    for key in ("released_ns", "schedule_start_ns"):
        if result.get(key) is not None:
            result[key] += offset_ns
    return result
