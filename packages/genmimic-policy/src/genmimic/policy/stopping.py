"""Stop a training phase cleanly on Ctrl-C or ``kill`` (SIGINT, SIGTERM): the loop finishes the iteration it is
in, writes its checkpoint and returns, so a resume continues from exactly there. A second signal while
stopping interrupts at once (the default behaviour)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """``requested`` becomes True on the first SIGINT or SIGTERM; ``signal_name`` says which."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""


@contextmanager
def stop_on_signals(what: str = "training") -> Iterator[StopRequest]:
    """Within the block, SIGINT and SIGTERM set the yielded :class:`StopRequest` instead of interrupting;
    the previous handlers come back on exit. Off the main thread (where Python cannot take signals) the
    request is never set and nothing is installed."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}

    def handler(signum, frame):
        if stop.requested:  # second signal: give up waiting for the iteration
            signal.signal(signum, previous[signum])
            signal.raise_signal(signum)
            return
        stop.requested, stop.signal_name = True, signal.Signals(signum).name
        log.warning("%s: %s received; stopping after this iteration and saving a checkpoint (again to abort)",
                    what, stop.signal_name)

    for s in SIGNALS:
        signal.signal(s, handler)
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
