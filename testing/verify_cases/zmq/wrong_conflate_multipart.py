"""Block notifications from bitcoind over ZeroMQ.

bitcoind publishes new blocks when started with
``-zmqpubhashblock=tcp://127.0.0.1:28332 -zmqpubrawblock=tcp://127.0.0.1:28332``.
The pool server uses this listener to refresh its block template as soon as the
network moves on, instead of polling ``getblocktemplate``.
"""

import logging
import struct
import threading

import zmq

log = logging.getLogger(__name__)

TOPICS = (b"hashblock", b"rawblock")


class ZMQListener:
    """Receives ``hashblock``/``rawblock`` notifications and dispatches them to callbacks."""

    def __init__(self, endpoint="tcp://127.0.0.1:28332", rcv_timeout_ms=1000):
        self.endpoint = endpoint
        self.context = zmq.Context()
        self.rcv_timeout_ms = rcv_timeout_ms
        self.callbacks = {topic: [] for topic in TOPICS}
        self.running = False
        self.thread = None
        self.last_sequence = {}

    def on(self, topic, callback):
        """Register ``callback(body: bytes)`` for a topic (``"hashblock"`` or ``"rawblock"``)."""
        key = topic.encode() if isinstance(topic, str) else topic
        if key not in self.callbacks:
            raise ValueError(f"unknown topic {topic!r}")
        self.callbacks[key].append(callback)

    def start(self):
        if self.running:
            return
        self.running = True
        self.thread = threading.Thread(target=self._listen, name="zmq-listener", daemon=True)
        self.thread.start()

    def _listen(self):
        # the socket is created, connected and subscribed by the thread that uses it
        socket = self.context.socket(zmq.SUB)
        socket.setsockopt(zmq.RCVTIMEO, self.rcv_timeout_ms)
        socket.setsockopt(zmq.CONFLATE, 1)   # keep only the newest notification
        socket.connect(self.endpoint)
        for topic in TOPICS:
            socket.setsockopt(zmq.SUBSCRIBE, topic)
        try:
            while self.running:
                try:
                    frames = socket.recv_multipart()
                except zmq.Again:
                    continue
                except zmq.ContextTerminated:
                    break
                self._dispatch(frames)
        finally:
            socket.close(linger=0)

    def _dispatch(self, frames):
        if len(frames) != 3:
            log.warning("unexpected message with %d frames", len(frames))
            return
        topic, body, seq = frames
        sequence = struct.unpack("<I", seq)[0]
        previous = self.last_sequence.get(topic)
        if previous is not None and sequence != (previous + 1) & 0xFFFFFFFF:
            log.warning("missed %s notifications (%s -> %s)", topic.decode(), previous, sequence)
        self.last_sequence[topic] = sequence
        for callback in self.callbacks.get(topic, []):
            try:
                callback(body)
            except Exception:
                log.exception("callback for %s failed", topic.decode())

    def stop(self):
        self.running = False
        self.context.term()          # wakes the listener's recv with ContextTerminated
        if self.thread is not None:
            self.thread.join(timeout=5)
