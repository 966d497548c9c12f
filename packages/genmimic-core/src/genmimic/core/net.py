"""Network checks the CLIs make before handing an address to a library that would retry it for minutes
(Ray's cluster address, JAX's multi-host coordinator)."""

from __future__ import annotations

import socket
import time


def wait_for_listener(host: str, port: int, timeout_s: float, poll_s: float = 0.25) -> OSError | None:
    """Try a TCP connection to ``host:port`` (a bracketed IPv6 address is fine) until one is accepted or
    ``timeout_s`` [s] has passed, every ``poll_s`` [s]. Returns None once something accepted (the
    connection is closed at once), else the last connection error (refused, timed out, unresolvable)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host.strip("[]"), port), timeout=max(0.1, min(2.0, timeout_s))):
                return None
        except OSError as err:
            if time.monotonic() >= deadline:
                return err
        time.sleep(poll_s)
