"""Feet, pelvis and legs: footstep plans turned into planted-foot leg motion.

A :class:`LowerPlan` lists where each foot starts, the steps it takes (swing start and end [s], landing
footprint) and keyframes of the pelvis height, its backward shift and pitch (for squats). Between steps a
foot stays exactly where it landed; swinging, it follows a minimum-jerk path with a bell-shaped lift.
The pelvis follows the middle of the feet, sways toward the stance foot and is smoothed; the legs are
then solved by inverse kinematics so the ankles land on the footprints, feet flat.

World frame: z up, x forward at yaw 0, y to the person's left; a footprint is the ankle's ground
position [m] and the foot's yaw [rad]; the sole is :data:`ANKLE_HEIGHT` below the ankle joint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from genmimic.core import smpl

from .posture import J, axis_rotation, solve_leg
from .timing import bump, minimum_jerk, sample_values

Array = NDArray[np.float64]

#: Height of the ankle joint above the sole for the default skeleton [m] (core's standing pelvis height
#: 0.935 m less the 0.870 m from pelvis to ankle); the ball-of-foot joint is 0.015 m above the sole.
ANKLE_HEIGHT = smpl.DEFAULT_PELVIS_HEIGHT - (smpl.DEFAULT_REST_JOINTS[0, 1] - smpl.DEFAULT_REST_JOINTS[7, 1])
BALL_HEIGHT = smpl.DEFAULT_PELVIS_HEIGHT - (smpl.DEFAULT_REST_JOINTS[0, 1] - smpl.DEFAULT_REST_JOINTS[10, 1])
#: Lateral distance of each ankle from the body's midline when standing [m].
STANCE_HALF_WIDTH = 0.09
#: Pelvis height when standing relaxed, knees slightly bent [m].
STAND_HEIGHT = 0.915


@dataclass(frozen=True)
class Footprint:
    """Where a planted foot is: ankle ground position ``x``, ``y`` [m] and heading ``yaw`` [rad]."""

    x: float
    y: float
    yaw: float


@dataclass(frozen=True)
class Step:
    """One foot's swing from time ``start`` to ``end`` [s], landing on ``target``; ``clearance`` [m]."""

    foot: str
    start: float
    end: float
    target: Footprint
    clearance: float = 0.07


def feet_apart(x: float = 0.0, y: float = 0.0, yaw: float = 0.0,
               half_width: float = STANCE_HALF_WIDTH) -> dict[str, Footprint]:
    """Both feet side by side about ``(x, y)`` facing ``yaw`` [rad]."""
    left = np.array([-np.sin(yaw), np.cos(yaw)]) * half_width
    return {"left": Footprint(x + left[0], y + left[1], yaw), "right": Footprint(x - left[0], y - left[1], yaw)}


@dataclass(frozen=True)
class LowerPlan:
    """The lower body over a clip: initial footprints, steps and pelvis keyframes.

    ``height`` is (times [s], pelvis heights [m]); ``back`` shifts the pelvis backward along the heading
    [m] and ``pitch`` tilts it forward [rad] (both as (times, values)). ``sway`` [0, 1] is how far the
    pelvis leans toward the stance foot during a step.
    """

    start: dict[str, Footprint] = field(default_factory=feet_apart)
    steps: tuple[Step, ...] = ()
    height: tuple[tuple[float, ...], tuple[float, ...]] = ((0.0,), (STAND_HEIGHT,))
    back: tuple[tuple[float, ...], tuple[float, ...]] = ((0.0,), (0.0,))
    pitch: tuple[tuple[float, ...], tuple[float, ...]] = ((0.0,), (0.0,))
    sway: float = 0.5


class FootTrack(NamedTuple):
    """One foot over time: ankle position (T, 3) [m], yaw (T,) [rad], planted (T,) bool."""

    ankle: Array
    yaw: Array
    planted: NDArray[np.bool_]


class LowerBody(NamedTuple):
    """The sampled lower body: pelvis position (T, 3) [m] and rotation (T, 3, 3) (joint-to-world),
    local rotations (T, 24, 3, 3) of the leg joints (others identity), heading (T,) [rad], and per foot
    (left, right) the planted flags (T, 2), the ankle targets and the ankles reached (T, 2, 3) [m]."""

    pelvis: Array
    pelvis_rot: Array
    local_rot: Array
    heading: Array
    planted: NDArray[np.bool_]
    ankle_target: Array
    ankle_reached: Array


def foot_track(start: Footprint, steps: list[Step], t: Array) -> FootTrack:
    """Ankle path of one foot: planted between steps, a minimum-jerk swing with a lift during each."""
    xy = np.tile([start.x, start.y], (len(t), 1))
    yaw = np.full(len(t), start.yaw)
    lift = np.zeros(len(t))
    planted = np.ones(len(t), bool)
    prev = start
    for step in sorted(steps, key=lambda s: s.start):
        tau = (t - step.start) / max(step.end - step.start, 1e-6)
        s = minimum_jerk(tau)
        after = t >= step.start
        d_yaw = np.angle(np.exp(1j * (step.target.yaw - prev.yaw)))
        xy[after] = np.array([prev.x, prev.y]) + s[after, None] * np.array([step.target.x - prev.x,
                                                                            step.target.y - prev.y])
        yaw[after] = prev.yaw + s[after] * d_yaw
        swing = after & (t < step.end)
        lift[swing] = step.clearance * bump(tau[swing])
        planted[swing] = False
        prev = Footprint(step.target.x, step.target.y, prev.yaw + d_yaw)
    ankle = np.column_stack([xy, ANKLE_HEIGHT + lift])
    return FootTrack(ankle, yaw, planted)


def _heading_frame(yaw: Array) -> tuple[Array, Array]:
    fwd = np.stack([np.cos(yaw), np.sin(yaw), np.zeros_like(yaw)], -1)
    left = np.stack([-np.sin(yaw), np.cos(yaw), np.zeros_like(yaw)], -1)
    return fwd, left


def sample_lower_body(plan: LowerPlan, t: Array, rest_joints: Array = smpl.DEFAULT_REST_JOINTS) -> LowerBody:
    """Sample ``plan`` at times ``t`` (T,) [s] and solve both legs (feet flat, knees over the toes)."""
    from scipy.ndimage import gaussian_filter1d  # here: importing SciPy's ndimage takes ~1 s (mocap imports skip it)

    fps = 1.0 / max(float(np.median(np.diff(t))), 1e-6) if len(t) > 1 else 30.0
    feet = {side: foot_track(plan.start[side], [s for s in plan.steps if s.foot == side], t)
            for side in ("left", "right")}
    heading = gaussian_filter1d(0.5 * (feet["left"].yaw + feet["right"].yaw), 0.1 * fps, mode="nearest")
    fwd, left_dir = _heading_frame(heading)
    mid = 0.5 * (feet["left"].ankle + feet["right"].ankle)
    # sway toward the stance foot during a step (lateral only)
    sway = np.zeros_like(mid)
    for step in plan.steps:
        stance = feet["right" if step.foot == "left" else "left"].ankle
        w = plan.sway * bump((t - step.start) / max(step.end - step.start, 1e-6))
        lateral = np.sum((stance - mid) * left_dir, -1, keepdims=True) * left_dir
        sway += w[:, None] * lateral
    center = gaussian_filter1d(mid + sway, 0.12 * fps, axis=0, mode="nearest")
    back = sample_values(*plan.back, t)
    pitch = sample_values(*plan.pitch, t)
    pelvis = center - back[:, None] * fwd
    pelvis[:, 2] = sample_values(*plan.height, t)
    pelvis_rot = (axis_rotation([0, 0, 1], heading) @ axis_rotation([0, 1, 0], pitch)) @ smpl.CANONICAL_TO_WORLD
    local = np.tile(np.eye(3), (len(t), smpl.NUM_JOINTS, 1, 1))
    rest = np.asarray(rest_joints, float)
    targets, reached = [], []
    for side in ("left", "right"):
        track = feet[side]
        hip_world = pelvis + np.einsum("tij,j->ti", pelvis_rot, rest[J(f"{side}_hip")] - rest[0])
        foot_fwd, _ = _heading_frame(track.yaw)
        foot_rot = axis_rotation([0, 0, 1], track.yaw) @ smpl.CANONICAL_TO_WORLD
        hip, knee, ankle, got = solve_leg(side, hip_world, track.ankle, foot_fwd, pelvis_rot, foot_rot, rest)
        local[:, J(f"{side}_hip")], local[:, J(f"{side}_knee")], local[:, J(f"{side}_ankle")] = hip, knee, ankle
        targets.append(track.ankle)
        reached.append(got)
    planted = np.stack([feet["left"].planted, feet["right"].planted], -1)
    return LowerBody(pelvis, pelvis_rot, local, heading, planted, np.stack(targets, 1), np.stack(reached, 1))


def walk_steps(start: dict[str, Footprint], t0: float, num_steps: int, step_length: float, step_time: float,
               first: str = "right", turn_per_step: float = 0.0, clearance: float = 0.07,
               double_support: float = 0.25, direction: float = 0.0) -> tuple[list[Step], dict[str, Footprint], float]:
    """Steps of a walk (or a turn) from ``start``, plus a last step that brings the feet side by side.

    ``step_length`` [m] is how far each footfall lands ahead of the previous one, ``step_time`` [s] the
    time from one footfall to the next (a fraction ``double_support`` of it with both feet down), and
    ``turn_per_step`` [rad] the change of heading per step (turning in place when ``step_length`` is 0),
    ``direction`` [rad] the direction of travel from the heading (0 forward, pi backward, +-pi/2 sideways
    to the left/right; lead with the foot on that side for side steps).
    Returns the steps, the final footprints and the time [s] the last step lands.
    """
    feet = dict(start)
    yaw = 0.5 * (feet["left"].yaw + feet["right"].yaw)
    center = np.array([0.5 * (feet["left"].x + feet["right"].x), 0.5 * (feet["left"].y + feet["right"].y)])
    swing = step_time * (1.0 - double_support)
    steps: list[Step] = []
    t, foot = t0, first

    def place(side: str, start_time: float) -> None:
        lateral = np.array([-np.sin(yaw), np.cos(yaw)]) * STANCE_HALF_WIDTH * (1.0 if side == "left" else -1.0)
        pos = center + lateral
        feet[side] = Footprint(float(pos[0]), float(pos[1]), float(yaw))
        steps.append(Step(side, start_time, start_time + swing, feet[side], clearance))

    for _ in range(num_steps):
        yaw += turn_per_step
        center = center + step_length * np.array([np.cos(yaw + direction), np.sin(yaw + direction)])
        place(foot, t)
        t += step_time
        foot = "left" if foot == "right" else "right"
    place(foot, t)
    return steps, feet, t + swing
