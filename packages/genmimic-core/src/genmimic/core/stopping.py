"""Stop a long-running command cleanly on Ctrl-C or ``kill`` (SIGINT, SIGTERM): the signal sets a request
that the command's loop checks at a safe point (training finishes its iteration and saves a checkpoint; the
viewer leaves its play loop and closes its server; the deploy damps the robot), instead of raising
``KeyboardInterrupt`` wherever the main thread happens to be (inside a library call holding a lock, say).

Used by genmimic-policy's training, genmimic-core's viewer and genmimic-deploy.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Set by the first SIGINT or SIGTERM: ``requested`` turns True, ``event`` (a ``threading.Event``, for
    loops that wait on it) is set, ``signal_name`` says which signal."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name = ""

    @property
    def requested(self) -> bool:
        return self.event.is_set()


@contextmanager
def stop_on_signals(what: str = "the command", then: str = "stopping",
                    second_aborts: bool = True) -> Iterator[StopRequest]:
    """Within the block, SIGINT and SIGTERM set the yielded :class:`StopRequest` instead of interrupting, and
    log ``"<what>: <signal> received; <then>"``; the previous handlers come back on exit.

    ``second_aborts``: a second signal while stopping restores the previous handler and re-raises the signal
    (Ctrl-C twice interrupts at once); False keeps every later signal a plain request (a robot must be damped,
    never abandoned mid-command). Off the main thread (where Python cannot take signals) nothing is installed
    and the request is never set."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}

    def handler(signum, frame):
        if stop.requested:
            if second_aborts:
                signal.signal(signum, previous[signum])
                signal.raise_signal(signum)
            return
        stop.signal_name = signal.Signals(signum).name
        stop.event.set()
        log.warning("%s: %s received; %s%s", what, stop.signal_name, then,
                    " (again to abort)" if second_aborts else "")

    for s in SIGNALS:
        signal.signal(s, handler)
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
