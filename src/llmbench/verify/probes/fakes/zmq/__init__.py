"""A fake pyzmq for the zmq probe: records the thread of every socket call.

Only the part of the pyzmq API a block-notification listener uses. Messages come
from ``publish()`` (the probe plays bitcoind); a SUB socket gets those whose first
frame starts with one of its subscriptions, once it is connected. Like libzmq,
``Context.term()`` makes blocked ``recv`` calls raise ``ContextTerminated`` and then
waits until every socket is closed; closing a socket while another thread blocks in
its ``recv`` is recorded as the abort libzmq would raise (SIGABRT).
"""

import threading
import time

PAIR, PUB, SUB, REQ, REP, DEALER, ROUTER, PULL, PUSH, XPUB, XSUB = range(11)
NOBLOCK = DONTWAIT = 1
SNDMORE = 2
POLLIN, POLLOUT = 1, 2
SUBSCRIBE, UNSUBSCRIBE = 6, 7
LINGER, RCVHWM, SNDHWM, RCVTIMEO, SNDTIMEO, RCVBUF = 17, 24, 23, 27, 28, 12
RECONNECT_IVL, TCP_KEEPALIVE, IMMEDIATE, CONFLATE = 18, 34, 39, 54
EAGAIN, ETERM, ENOTSOCK = 11, 156384765, 88

TERM_WAIT = 1.0   # how long term() waits for open sockets before recording a hang

_lock = threading.Condition()
events = []       # (operation, socket id, thread ident, thread name)
problems = []     # things real libzmq would abort or hang on
sockets = []


class ZMQError(Exception):
    def __init__(self, errno=None, msg=None):
        super().__init__(msg or f"zmq error {errno}")
        self.errno = errno


class Again(ZMQError):
    def __init__(self, errno=EAGAIN, msg="Resource temporarily unavailable"):
        super().__init__(errno, msg)


class ContextTerminated(ZMQError):
    def __init__(self, errno=ETERM, msg="Context was terminated"):
        super().__init__(errno, msg)


class ZMQBaseError(Exception):
    pass


def _record(op, sock):
    thread = threading.current_thread()
    events.append((op, id(sock) if sock is not None else None, thread.ident, thread.name))


def publish(frames):
    """Deliver a multipart message to every connected socket subscribed to its topic."""
    with _lock:
        for sock in sockets:
            if sock.connected and not sock.closed and any(frames[0].startswith(t) for t in sock.subscriptions):
                if sock.options.get(CONFLATE):
                    # libzmq's ZMQ_CONFLATE keeps one message part, the last one written:
                    # it does not support multipart messages
                    sock.inbox[:] = [[frames[-1]]]
                else:
                    sock.inbox.append(list(frames))
        _lock.notify_all()


def subscribed_sockets():
    with _lock:
        return [s for s in sockets if s.connected and s.subscriptions and not s.closed]


class Context:
    _instance = None

    def __init__(self, io_threads=1, **_):
        self.closed = False
        self.terminated = False
        self.sockets = []

    @classmethod
    def instance(cls, io_threads=1):
        if cls._instance is None or cls._instance.closed:
            cls._instance = cls(io_threads)
        return cls._instance

    def socket(self, socket_type, **_):
        if self.terminated:
            raise ContextTerminated()
        sock = Socket(self, socket_type)
        _record("create", sock)
        return sock

    def term(self):
        with _lock:
            self.terminated = True
            _lock.notify_all()
            deadline = time.monotonic() + TERM_WAIT
            # a socket never connected (left over in __init__ by a snippet fix) is not
            # the listener's: only the sockets in use are waited for
            while any(not s.closed and (s.connected or s.endpoints) for s in self.sockets):
                left = deadline - time.monotonic()
                if left <= 0:
                    problems.append("context.term() blocks forever: a socket of the context was never closed")
                    break
                _lock.wait(left)
            self.closed = True

    def destroy(self, linger=None):
        for sock in list(self.sockets):
            if not sock.closed:
                sock.close(linger)
        self.term()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.term()


class Socket:
    def __init__(self, context, socket_type):
        self.context = context
        self.socket_type = socket_type
        self.options = {}
        self.subscriptions = []
        self.connected = False
        self.endpoints = []
        self.closed = False
        self.inbox = []
        self.receiving_thread = None
        with _lock:
            context.sockets.append(self)
            sockets.append(self)

    def _check(self):
        if self.closed:
            raise ZMQError(ENOTSOCK, "Socket operation on non-socket")

    def connect(self, endpoint):
        _record("connect", self)
        self._check()
        self.endpoints.append(endpoint)
        self.connected = True

    def bind(self, endpoint):
        _record("bind", self)
        self._check()
        self.endpoints.append(endpoint)

    def disconnect(self, endpoint):
        _record("disconnect", self)

    def setsockopt(self, option, value):
        _record("setsockopt", self)
        self._check()
        if isinstance(value, str):
            # pyzmq's own message: text must go through setsockopt_string
            raise TypeError("unicode not allowed, use setsockopt_string")
        if option == SUBSCRIBE:
            self.subscriptions.append(bytes(value))
        elif option == UNSUBSCRIBE:
            value = bytes(value)
            if value in self.subscriptions:
                self.subscriptions.remove(value)
        else:
            self.options[option] = value

    set = setsockopt

    def setsockopt_string(self, option, value, encoding="utf-8"):
        if not isinstance(value, str):
            raise TypeError(f"strings only, not {type(value)}: {value!r}")
        self.setsockopt(option, value.encode(encoding))

    def subscribe(self, topic):
        self.setsockopt(SUBSCRIBE, topic.encode() if isinstance(topic, str) else topic)

    def unsubscribe(self, topic):
        self.setsockopt(UNSUBSCRIBE, topic.encode() if isinstance(topic, str) else topic)

    def getsockopt(self, option):
        _record("getsockopt", self)
        return self.options.get(option, -1 if option == RCVTIMEO else 0)

    get = getsockopt

    def __setattr__(self, name, value):
        # pyzmq allows ``sock.rcvtimeo = 1000`` style options
        if name in ("rcvtimeo", "linger", "rcvhwm", "sndhwm"):
            self.setsockopt({"rcvtimeo": RCVTIMEO, "linger": LINGER, "rcvhwm": RCVHWM, "sndhwm": SNDHWM}[name], value)
            return
        object.__setattr__(self, name, value)

    def poll(self, timeout=None, flags=POLLIN):
        _record("poll", self)
        self._check()
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout / 1000.0
        with _lock:
            while not self.inbox:
                if self.context.terminated:
                    raise ContextTerminated()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return 0
                _lock.wait(left if left is not None else 0.05)
            return POLLIN

    def recv_multipart(self, flags=0, copy=True, track=False):
        _record("recv", self)
        self._check()
        timeout = self.options.get(RCVTIMEO, -1)
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout / 1000.0
        with _lock:
            self.receiving_thread = threading.current_thread()
            try:
                while not self.inbox:
                    if self.context.terminated:
                        raise ContextTerminated()
                    if flags & NOBLOCK:
                        raise Again()
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise Again()
                    _lock.wait(min(left, 0.05) if left is not None else 0.05)
                return self.inbox.pop(0)
            finally:
                self.receiving_thread = None

    def recv(self, flags=0, copy=True, track=False):
        # single-frame receive: hand out the frames of a message one by one
        pending = getattr(self, "_frames", None)
        if pending:
            _record("recv", self)
            return pending.pop(0)
        frames = self.recv_multipart(flags)
        object.__setattr__(self, "_frames", frames[1:])
        return frames[0]

    def recv_string(self, flags=0, encoding="utf-8"):
        return self.recv(flags).decode(encoding)

    def getsockopt_rcvmore(self):
        return bool(getattr(self, "_frames", None))

    def close(self, linger=None):
        _record("close", self)
        with _lock:
            other = self.receiving_thread
            if other is not None and other is not threading.current_thread() and not self.closed:
                problems.append(
                    f"socket closed from thread {threading.current_thread().name} while thread "
                    f"{other.name} was blocked in its recv (libzmq aborts the process: SIGABRT)")
            self.closed = True
            _lock.notify_all()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Poller:
    def __init__(self):
        self.sockets = []

    def register(self, socket, flags=POLLIN):
        self.sockets.append(socket)

    def unregister(self, socket):
        if socket in self.sockets:
            self.sockets.remove(socket)

    def poll(self, timeout=None):
        for sock in self.sockets:
            _record("poll", sock)
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout / 1000.0
        with _lock:
            while True:
                ready = [(s, POLLIN) for s in self.sockets if s.inbox]
                if ready:
                    return ready
                if any(s.context.terminated for s in self.sockets):
                    raise ContextTerminated()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return []
                _lock.wait(min(left, 0.05) if left is not None else 0.05)


def zmq_version():
    return "4.3.5"


def pyzmq_version():
    return "27.3.0"
