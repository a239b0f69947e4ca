"""The hiveos probes' fake ethminer API: what a client sent is read even after it hung up."""

from __future__ import annotations

import socket
import sys
import threading
import time

import pytest
from verify_probes_helpers import PROBES


@pytest.fixture
def api():
    sys.path.insert(0, str(PROBES))
    try:
        import hiveos_probe
    finally:
        sys.path.remove(str(PROBES))
    server = hiveos_probe._ApiServer(("127.0.0.1", 0), hiveos_probe._ApiHandler)
    server.requests = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _settled(server, deadline=5.0):
    end = time.monotonic() + deadline
    while (server.active or not server.requests) and time.monotonic() < end:
        time.sleep(0.01)
    return list(server.requests)


def test_a_line_protocol_client_is_answered(api):
    with socket.create_connection(api.server_address) as conn:
        conn.sendall(b'{"id":0,"jsonrpc":"2.0","method":"miner_getstat1"}\n')
        reply = conn.makefile("rb").readline()
    # compact, as ethminer's JSON writer has it: scripts grep for '"result":["'
    assert reply.startswith(b'{"id":0,"jsonrpc":"2.0","result":["') and b": " not in reply and b", " not in reply
    assert _settled(api) == ["miner_getstat1"]


def test_an_http_client_that_hangs_up_still_has_its_request_read(api):
    # curl's POST: header lines the API answers with parse errors, then a body with no newline
    conn = socket.create_connection(api.server_address)
    conn.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1:3333\r\nContent-Type: application/json\r\n\r\n"
                 b'{"id":0,"jsonrpc":"2.0","method":"miner_getstat1"}')
    conn.close()
    assert "miner_getstat1" in _settled(api)


def test_a_client_that_resets_after_its_body_still_has_its_request_read(api):
    # curl gives up on a non-HTTP reply and closes with the replies unread: a reset, which a
    # buffered readline turned into the loss of the unterminated body line
    for _ in range(5):
        api.requests.clear()
        conn = socket.create_connection(api.server_address)
        conn.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1:3333\r\n\r\n"
                     b'{"id":0,"jsonrpc":"2.0","method":"miner_getstat1"}')
        conn.recv(1)                      # a reply is on its way, the rest stays unread
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()                      # linger 0: a reset, not a FIN
        assert "miner_getstat1" in _settled(api)


def test_the_hashrate_stats_request_reports_the_same_rig_as_getstat1(api):
    import json

    with socket.create_connection(api.server_address) as conn:
        reader = conn.makefile("rb")
        conn.sendall(b'{"id":1,"jsonrpc":"2.0","method":"miner_getstat1"}\n')
        stat1 = json.loads(reader.readline())["result"]
        conn.sendall(b'{"id":2,"jsonrpc":"2.0","method":"miner_getstathr"}\n')
        hr = json.loads(reader.readline())["result"]
        conn.sendall(b'{"id":3,"jsonrpc":"2.0","method":"miner_nosuchthing"}\n')
        unknown = json.loads(reader.readline())
    # ethminer's miner_getstathr: H/s per GPU where miner_getstat1 says kH/s, the same temps and fans
    assert [rate // 1000 for rate in hr["ethhashrates"]] == [int(r) for r in stat1[3].split(";")]
    pairs = [int(v) for v in stat1[6].split(";")]
    assert hr["temperatures"] == pairs[0::2] and hr["fanpercentages"] == pairs[1::2]
    assert hr["runtime"] == stat1[1] and "error" in unknown
