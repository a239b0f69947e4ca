"""A fake pyzmq: records which thread makes every socket call; recv delivers queued messages."""

import struct
import threading
import time

SUB, SUBSCRIBE, RCVTIMEO, RCVHWM = 2, 6, 27, 24
CALLS = []          # (operation, thread name)
MESSAGES = [[b"hashblock", b"\x11" * 32, struct.pack("<I", 1)]]


class ZMQError(Exception):
    pass


class Again(ZMQError):
    pass


class ContextTerminated(ZMQError):
    pass


class Context:
    def __init__(self):
        self.terminated = threading.Event()

    def socket(self, kind):
        CALLS.append(("create", threading.current_thread().name))
        return Socket(self)

    def term(self):
        self.terminated.set()


class Socket:
    def __init__(self, context):
        self.context = context

    def _record(self, op):
        CALLS.append((op, threading.current_thread().name))

    def setsockopt(self, option, value):
        self._record("subscribe" if option == SUBSCRIBE else "setsockopt")

    def connect(self, endpoint):
        self._record("connect")

    def recv_multipart(self):
        self._record("recv")
        if self.context.terminated.is_set():
            raise ContextTerminated()
        if MESSAGES:
            return MESSAGES.pop(0)
        time.sleep(0.01)
        raise Again()

    def close(self, linger=None):
        self._record("close")
