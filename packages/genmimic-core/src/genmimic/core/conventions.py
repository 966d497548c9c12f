"""Conventions an imported motion must meet, checked where files from other tools come in.

Every genmimic clip is z up, in metres, with the ground at z = 0 and the body starting upright. A file
written with another convention (Y up, centimetres, a quaternion in the other order, degrees) reads
without an error yet gives a human lying on the ground or an upside-down robot, so the importers
(``genmimic-lift`` for human motion, ``genmimic-retarget import`` for G1 motion) check the result with
:func:`check_human_joints` or :func:`check_g1_motion` and refuse it with the likely cause and the option
that fixes it (the caller adds the option: they differ per command).

The thresholds are generous on purpose: a real motion (a crouch, a jump, a bow) passes; only a frame or
unit mistake fails.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import g1_constants as g1
from .errors import GenMimicError
from .rotations import matrix_from_quat

#: A start more than this far [deg] from upright (body axis against +z) counts as lying.
LYING_DEG = 60.0
#: More than this [deg] counts as upside down.
UPSIDE_DOWN_DEG = 120.0
#: Plausible head-above-ankles distance of a human [m] (children to tall adults, crouched to standing).
HUMAN_EXTENT_M = (0.5, 2.6)
#: How far [m] the lowest foot may be from z = 0 in most frames (median over the frames).
GROUND_TOLERANCE_M = 0.15
#: How far [rad] a G1 joint may pass its limit before the clip is refused (smaller excursions are clamped).
JOINT_MARGIN_RAD = 0.2


class ConventionError(GenMimicError):
    """An imported motion breaks a convention: ``source``, the ``problem`` (with its likely cause) and the
    ``fix`` (the option to pass), in one line."""

    def __init__(self, source: str, problem: str, fix: str) -> None:
        self.source, self.problem, self.fix = source, problem, fix
        super().__init__(f"{source}: {problem}; {fix}")


class Violation(NamedTuple):
    """One broken convention: ``kind`` (``"upside_down"``, ``"lying"``, ``"size"``, ``"below_ground"``,
    ``"above_ground"``, ``"unit"``, ``"joint_range"``, ``"degrees"``) and the ``problem`` in words."""

    kind: str
    problem: str


def tilt_deg(body_up: ArrayLike) -> float:
    """Angle [deg] between a body's up vector (3,) (any length) and the world's +z."""
    v = np.asarray(body_up, float)
    return float(np.degrees(np.arccos(np.clip(v[2] / max(np.linalg.norm(v), 1e-12), -1.0, 1.0))))


def _posture(tilt: float, what: str) -> Violation | None:
    if tilt > UPSIDE_DOWN_DEG:
        return Violation("upside_down", f"{what} starts upside down ({tilt:.0f} deg from upright)")
    if tilt > LYING_DEG:
        return Violation("lying", f"{what} starts lying ({tilt:.0f} deg from upright)")
    return None


def check_human_joints(joints: ArrayLike, ankles: tuple[int, int] = (7, 8), head: int = 15,
                       feet: tuple[int, ...] = (7, 8, 10, 11)) -> tuple[Violation, ...]:
    """Check a human's world joint positions (T, J, 3) [m] (SMPL order by default): upright at the start
    (ankles to head against +z), a human size, and the lowest foot joint near z = 0 in most frames.

    Returns the violations (empty when the motion meets the conventions).
    """
    x = np.asarray(joints, float)
    out = []
    axis = x[0, head] - x[0, list(ankles)].mean(0)
    if (v := _posture(tilt_deg(axis), "the body")) is not None:
        out.append(v)
    extent = float(np.median(np.linalg.norm(x[:, head] - x[:, list(ankles)].mean(1), axis=-1)))
    if not HUMAN_EXTENT_M[0] <= extent <= HUMAN_EXTENT_M[1]:
        out.append(Violation("size", f"the body is {extent:.3g} m from ankles to head (a human is about 1.4 m): "
                             "the unit is probably wrong"))
    lowest = float(np.median(x[:, list(feet), 2].min(axis=1)))
    if lowest < -GROUND_TOLERANCE_M:
        out.append(Violation("below_ground", f"the feet are {-lowest:.2f} m below the ground (z = 0) in most frames"))
    elif lowest > 0.1 + GROUND_TOLERANCE_M:
        out.append(Violation("above_ground", f"the feet are {lowest:.2f} m above the ground (z = 0) in most frames"))
    return tuple(out)


def g1_root_tilt_deg(root_quat_wxyz: ArrayLike) -> float:
    """Angle [deg] of the G1's pelvis z axis from the world's +z in the first frame of (T, 4) wxyz."""
    R = matrix_from_quat(np.asarray(root_quat_wxyz, float)[0])
    return tilt_deg(R[:, 2])


def check_g1_motion(root_pos: ArrayLike, root_quat_wxyz: ArrayLike, dof_pos: ArrayLike,
                    keypoints: ArrayLike | None = None) -> tuple[Violation, ...]:
    """Check a G1 motion: root (T, 3) [m], root quaternion (T, 4) wxyz, joint angles (T, 29) [rad] in SDK
    order, keypoints (T, K, 3) [m] in :data:`g1_constants.KEYPOINT_NAMES` order (for the feet): an upright
    start, the feet near z = 0 in most frames, and joint angles within the G1's limits plus
    :data:`JOINT_MARGIN_RAD` (angles above 2 pi read as degrees).

    Returns the violations (empty when the motion meets the conventions).
    """
    out = []
    if (v := _posture(g1_root_tilt_deg(root_quat_wxyz), "the root")) is not None:
        out.append(v)
    dof = np.asarray(dof_pos, float)
    if np.abs(dof).max() > 2 * np.pi:
        out.append(Violation("degrees", f"joint angles up to {np.abs(dof).max():.0f}: they look like degrees, "
                             "not radians"))
        return tuple(out)
    if keypoints is not None:
        k = np.asarray(keypoints, float)
        feet = [g1.KEYPOINT_NAMES.index(n) for n in g1.KEYPOINT_NAMES if n.endswith(("ankle", "toe"))]
        lowest = float(np.median(k[:, feet, 2].min(axis=1)))
        root_z = float(np.median(np.asarray(root_pos, float)[:, 2]))
        unit = (" (root_pos looks like centimetres)" if 30.0 < root_z < 150.0 else
                " (root_pos looks like millimetres)" if 300.0 < root_z < 1500.0 else "")
        if unit and abs(lowest) > GROUND_TOLERANCE_M:
            out.append(Violation("unit", f"the root is {root_z:.0f} m above the ground in most frames{unit}"))
        elif lowest < -GROUND_TOLERANCE_M:
            out.append(Violation("below_ground", f"the feet are {-lowest:.2f} m below the ground (z = 0) in most "
                                 "frames"))
        elif lowest > GROUND_TOLERANCE_M:
            out.append(Violation("above_ground", f"the feet are {lowest:.2f} m above the ground (z = 0) in most "
                                 "frames"))
    excess = joint_excess(dof)
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
    if excess[worst] > JOINT_MARGIN_RAD:
        j = g1.JOINTS[worst[1]]
        out.append(Violation("joint_range", f"{j.name} is {dof[worst]:.2f} rad at frame {worst[0]}, "
                             f"{excess[worst]:.2f} rad outside its range [{j.lower:.2f}, {j.upper:.2f}] (joint "
                             "order or sign differs from the G1's SDK order?)"))
    return tuple(out)


def joint_excess(dof_pos: ArrayLike) -> np.ndarray:
    """How far [rad] each G1 joint angle (T, 29) is outside its limits (0 inside)."""
    dof = np.asarray(dof_pos, float)
    lower = np.array([j.lower for j in g1.JOINTS])
    upper = np.array([j.upper for j in g1.JOINTS])
    return np.maximum(lower - dof, 0.0) + np.maximum(dof - upper, 0.0)


def clamp_to_limits(dof_pos: ArrayLike) -> np.ndarray:
    """G1 joint angles (T, 29) [rad] clamped to the joints' limits."""
    lower = np.array([j.lower for j in g1.JOINTS])
    upper = np.array([j.upper for j in g1.JOINTS])
    return np.clip(np.asarray(dof_pos, float), lower, upper)
