"""Test probe (contract-following): every socket call on the listener thread, messages delivered."""

import time

from _probe_kit import load, main


def probes(candidate):
    def socket_ops_on_listener_thread():
        zmq_listener = load(candidate, "zmq_listener")
        import zmq

        got = []
        listener = zmq_listener.ZMQListener()
        listener.on("hashblock", got.append)
        listener.start()
        deadline = time.time() + 1.5
        while not got and time.time() < deadline:
            time.sleep(0.01)
        listener.stop()
        assert got, "no hashblock message reached the callback"
        wrong = sorted({op for op, thread in zmq.CALLS if thread != "zmq-listener"})
        assert not wrong, f"socket calls outside the listener thread: {', '.join(wrong)}"
        return "every socket call ran on the listener thread"

    yield "zmq.fix_socket_in_thread", "socket_ops_on_listener_thread", socket_ops_on_listener_thread


if __name__ == "__main__":
    main("zmq", probes)
