"""SIGINT/SIGTERM set a stop request inside ``stop_on_signals`` instead of interrupting; the handlers in force
before come back on exit."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from genmimic.core.stopping import stop_on_signals


@pytest.fixture
def default_sigint():
    """Python's own SIGINT handler for the test (an earlier test's library may have installed another)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_a_signal_sets_the_request_instead_of_interrupting(default_sigint):
    with stop_on_signals("test") as stop:
        assert not stop.requested and not stop.event.is_set()
        os.kill(os.getpid(), signal.SIGINT)  # would raise KeyboardInterrupt outside the block
        assert stop.requested and stop.event.is_set() and stop.signal_name == "SIGINT"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)


def test_a_second_signal_aborts_unless_told_otherwise(default_sigint):
    with pytest.raises(KeyboardInterrupt), stop_on_signals("test") as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C twice: the previous handler, at once
    with stop_on_signals("robot", "damping", second_aborts=False) as stop:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signal_name == "SIGINT"  # still a request, the first signal's name


def test_a_waiting_loop_wakes_on_the_signal(default_sigint):
    with stop_on_signals("test") as stop:
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM)).start()
        assert stop.event.wait(timeout=10)  # as the viewer's and the deploy's loops wait
        assert stop.signal_name == "SIGTERM"


def test_off_the_main_thread_nothing_is_installed():
    seen = {}

    def worker():
        before = signal.getsignal(signal.SIGTERM)
        with stop_on_signals("test") as stop:
            seen["handler_kept"] = signal.getsignal(signal.SIGTERM) is before
            seen["requested"] = stop.requested

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == {"handler_kept": True, "requested": False}
