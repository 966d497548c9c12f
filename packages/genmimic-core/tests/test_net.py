"""wait_for_listener: a listening port answers at once, a closed one gives its error after the timeout."""

import socket
import time

from genmimic.core.net import wait_for_listener


def test_a_listener_answers_and_a_closed_port_times_out():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert wait_for_listener("127.0.0.1", port, 1.0) is None
        assert wait_for_listener("[127.0.0.1]", port, 1.0) is None
    t = time.monotonic()
    err = wait_for_listener("127.0.0.1", port, 0.3, poll_s=0.05)  # closed now
    assert isinstance(err, ConnectionRefusedError) and 0.3 <= time.monotonic() - t < 3
