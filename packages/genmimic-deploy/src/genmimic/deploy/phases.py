"""The controller's phases and what follows a clip (no heavy imports: the command line uses them)."""

from __future__ import annotations

import enum


class Phase(enum.IntEnum):
    """The controller's phases (the numbers are stored in the control log)."""

    WAIT = 0
    PREPARE = 1
    TRACK = 2
    HOLD = 3
    DAMP = 4
    DONE = 5
    STAND = 6


#: Phases in which the robot is driven with stiffness (the fall and stale-state checks apply).
ACTIVE = frozenset({Phase.PREPARE, Phase.TRACK, Phase.HOLD, Phase.STAND})


class EndMode(enum.StrEnum):
    """What follows the clip: keep balancing on a standing reference until stopped, or hold and damp."""

    STAND = "stand"
    DAMP = "damp"
