"""Real-time loop of the controller over DDS: latest state in, one command out per control period."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .controller import Controller
from .errors import DeployError
from .log import ControlLog
from .messages import Command, RobotState
from .phases import Phase

log = logging.getLogger("genmimic.deploy")


class StateInbox:
    """The latest robot state and when it arrived (``time.perf_counter`` seconds), shared across threads.

    ``put`` takes what the reader thread receives; with ``convert`` (e.g. LowState_ -> RobotState) the
    conversion happens in ``get``, once per control period and only for the latest message, not for every
    message at 500 Hz in the reader thread (which holds the GIL against the control loop).
    """

    def __init__(self, convert: Callable[[Any], RobotState] | None = None) -> None:
        self._lock = threading.Lock()
        self._convert = convert
        self._raw: Any = None
        self._state: RobotState | None = None
        self._at = 0.0
        self.count = 0

    def put(self, item: Any) -> None:
        with self._lock:
            self._raw, self._state, self._at = item, None, time.perf_counter()
            self.count += 1

    def get(self) -> tuple[RobotState | None, float]:
        with self._lock:
            raw, state, at = self._raw, self._state, self._at
        if state is None and raw is not None:
            state = raw if self._convert is None else self._convert(raw)
            with self._lock:
                if self._raw is raw:
                    self._state = state
        return state, at


def wait_for_state(inbox: StateInbox, timeout_s: float, where: str) -> None:
    """Block until a first state arrives, or raise (nothing has been published yet)."""
    deadline = time.perf_counter() + timeout_s
    while inbox.get()[0] is None:
        if time.perf_counter() > deadline:
            raise DeployError(f"no LowState on rt/lowstate within {timeout_s:g} s ({where}): is the robot or "
                              "`genmimic-deploy sim` running there?")
        time.sleep(0.005)


def sample_stream(inbox: StateInbox, window_s: float) -> tuple[RobotState | None, float, int]:
    """Watch the state stream for ``window_s`` [s]: the newest state, its age [s] and how many messages
    arrived in the window (the input of the start-up checks)."""
    before = inbox.count
    time.sleep(window_s)
    state, at = inbox.get()
    return state, time.perf_counter() - at, inbox.count - before


class CommandRepeater:
    """Writes the latest command message again every ``1 / rate_hz`` seconds from its own thread, for motor
    controllers (and simulators) that compute the PD torque only when a command arrives and hold it
    until the next one. :meth:`send` writes at once; :meth:`close` stops the thread."""

    def __init__(self, write: Callable[[Any], None], rate_hz: float) -> None:
        self._write, self._interval = write, 1.0 / rate_hz
        self._lock = threading.Lock()
        self._msg: Any = None
        self._closed = threading.Event()
        self.writes = 0
        self._thread = threading.Thread(target=self._run, name="command-repeater", daemon=True)
        self._thread.start()

    def send(self, msg: Any) -> None:
        with self._lock:
            self._msg = msg
            self._write(msg)
            self.writes += 1

    def _run(self) -> None:
        next_t = time.perf_counter() + self._interval
        while not self._closed.wait(max(0.0, next_t - time.perf_counter())):
            with self._lock:
                if self._msg is not None:
                    self._write(self._msg)
                    self.writes += 1
            next_t = max(next_t + self._interval, time.perf_counter())

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=1.0)


def run_controller(controller: Controller, inbox: StateInbox, publish: Callable[[Command, int], None] | None,
                   control_log: ControlLog, stop: threading.Event | None = None) -> ControlLog:
    """Step ``controller`` every control period until it is done (or ``stop`` is set: damping first, at
    once rather than at the next period).

    ``publish(command, mode_machine)`` sends a command; None is a dry run (commands are only logged).
    Deadlines are absolute; a step that starts late counts as a missed deadline. Entering damping is
    logged as a warning with its reason: damping drops the robot unless it is supported.
    """
    period = controller.period
    next_t = time.perf_counter()
    previous = controller.phase
    while not controller.done:
        if stop is not None and stop.is_set():
            controller.interrupt()
        start = time.perf_counter()
        missed = start - next_t > 0.5 * period
        state, at = inbox.get()
        command, info = controller.step(state, start - at if state is not None else float("inf"))
        if command is not None and publish is not None:
            publish(command, state.mode_machine)
        compute = time.perf_counter() - start
        control_log.add(start, state, command, info, compute, missed, command is not None and publish is not None)
        if info.phase == Phase.DAMP and previous != Phase.DAMP:
            log.warning("damping (%s): kp = 0, the robot will fall unless it is supported (gantry, hoist)",
                        controller.damp_reason)
        if info.phase == Phase.STAND and previous != Phase.STAND:
            until = (f"for {controller.config.stand_s:g} s (--stand-for) or until Ctrl-C or SIGTERM"
                     if controller.config.stand_s is not None else "until Ctrl-C or SIGTERM")
            log.warning("clip done: balancing on the standing pose %s, then damping, which drops the robot unless "
                        "it is supported", until)
        if info.phase == Phase.TRACK and previous != Phase.TRACK:
            log.warning("tracking%s", f" (first the {controller.lead_in_s:g} s lead-in from standing)"
                        if controller.lead_in_s else "")
        previous = info.phase
        next_t += period
        delay = next_t - time.perf_counter()
        if delay > 0:
            if stop is not None and not stop.is_set() and stop.wait(delay):
                next_t = time.perf_counter()  # a stop request wakes the loop: damping at once
            elif stop is None or stop.is_set():
                time.sleep(delay)
        else:
            next_t = time.perf_counter()  # late: do not try to catch up with a burst of commands
    return control_log
