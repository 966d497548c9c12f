"""The Unitree G1 hardware revisions, as data: the ``mode_machine`` each one reports in ``LowState_``,
and, for the revisions the project supports, the joint limits a controller must respect.

A G1 tells which hardware it is through ``LowState_.mode_machine``. Source of the values below:
Unitree's robot description README, ``unitreerobotics/unitree_ros``,
``robots/g1_description/README.md`` (table "MJCF/URDF file name | mode_machine"; commit
``cc56fb92d6bea70114c5bfcb6e50feb29562279e`` for modes 1-9, a later version of the same table for
modes 10-16). The project's model and limits (:mod:`genmimic.core.g1_constants`) are those of
``g1_29dof_rev_1_0`` (mode 5; hip roll and knee on 7520-22.5 motors, 139 Nm, 4010 wrist motors), so
that is the one revision supported today. Earlier robots (mode 2, ``g1_29dof``) have 88 Nm hip roll
motors and a heavier torso; later ones (modes 11-16) other gears or wrist motors: running rev 1.0
limits on them is refused rather than guessed.
"""

from __future__ import annotations

from typing import NamedTuple

from . import g1_constants as g1
from .errors import ModelError

#: Every ``mode_machine`` Unitree's description README lists, with its model file name(s).
KNOWN_MODE_MACHINES: dict[int, str] = {
    1: "g1_23dof",
    2: "g1_29dof (deprecated), g1_29dof_with_hand",
    3: "g1_29dof_lock_waist",
    4: "g1_23dof_rev_1_0",
    5: "g1_29dof_rev_1_0, g1_29dof_with_hand_rev_1_0",
    6: "g1_29dof_lock_waist_rev_1_0",
    9: "g1_dual_arm",
    10: "g1_23dof_mode_10",
    11: "g1_29dof_mode_11",
    12: "g1_29dof_mode_12",
    13: "g1_29dof_mode_13",
    14: "g1_29dof_mode_14",
    15: "g1_29dof_mode_15",
    16: "g1_29dof_mode_16",
}


class G1Revision(NamedTuple):
    """One supported G1 hardware revision. Per-joint tuples have ``num_dof`` entries in SDK order.

    lower, upper: joint position limits [rad]; effort: the joint's peak motor torque [Nm] (the MJCF's
    ``actuatorfrcrange``: 50 Nm on ankles and waist roll/pitch, where the URDF says 35); velocity: peak
    joint speed [rad/s]; mode_machine: what its ``LowState_`` reports.
    """

    name: str
    mode_machine: int
    num_dof: int
    joint_names: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    effort: tuple[float, ...]
    velocity: tuple[float, ...]


#: The G1 29-DoF rev 1.0: the robot genmimic.core models (limits from :mod:`.g1_constants`).
G1_29DOF_REV_1_0 = G1Revision(
    name="g1_29dof_rev_1_0",
    mode_machine=5,
    num_dof=g1.NUM_DOF,
    joint_names=g1.JOINT_NAMES,
    lower=tuple(j.lower for j in g1.JOINTS),
    upper=tuple(j.upper for j in g1.JOINTS),
    effort=tuple(j.motor.effort for j in g1.JOINTS),
    velocity=tuple(j.velocity for j in g1.JOINTS),
)

#: The revisions whose limits the project has, by name.
SUPPORTED: dict[str, G1Revision] = {r.name: r for r in (G1_29DOF_REV_1_0,)}


class RevisionError(ModelError):
    """A robot revision the project has no limits for.

    Attributes:
        found: what was asked for or reported (a revision name or a ``mode_machine``).
        supported: the names of the supported revisions.
    """

    def __init__(self, message: str, found: str | int) -> None:
        self.found = found
        self.supported = tuple(SUPPORTED)
        super().__init__(message)


def _supported_text() -> str:
    return ", ".join(f"{r.name} (mode_machine {r.mode_machine})" for r in SUPPORTED.values())


def describe_mode_machine(mode_machine: int) -> str:
    """``mode_machine`` in words: the Unitree model(s) it stands for, or that it is unknown."""
    known = KNOWN_MODE_MACHINES.get(int(mode_machine))
    return f"mode_machine {mode_machine} ({known})" if known else f"mode_machine {mode_machine} (not a known G1)"


def revision_by_name(name: str) -> G1Revision:
    """The supported revision called ``name``.

    Raises:
        RevisionError: no supported revision has that name (the message lists the supported ones).
    """
    try:
        return SUPPORTED[name]
    except KeyError:
        raise RevisionError(f"unknown G1 revision {name!r}; supported: {_supported_text()}", name) from None


def revision_for_mode_machine(mode_machine: int) -> G1Revision:
    """The supported revision whose robots report ``mode_machine``.

    Raises:
        RevisionError: the robot is another revision (named when known), with the supported ones listed.
    """
    for rev in SUPPORTED.values():
        if rev.mode_machine == int(mode_machine):
            return rev
    raise RevisionError(f"robot reports {describe_mode_machine(mode_machine)}, which the project has no limits "
                        f"for; supported: {_supported_text()}", int(mode_machine))
