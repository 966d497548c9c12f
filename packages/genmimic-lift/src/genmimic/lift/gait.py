"""Feet, pelvis and legs: footstep plans turned into planted-foot leg motion.

A :class:`LowerPlan` lists where each foot starts, the steps it takes (swing start and end [s], landing
footprint), two-footed jumps (:class:`Jump`) and keyframes of the pelvis height, its backward shift and pitch
(for squats). Between steps a foot stays exactly where it landed; swinging, it follows a minimum-jerk path
with a bell-shaped lift. In a jump's flight the pelvis follows a ballistic arc and both feet leave the ground.
The body's centre of mass follows a linear inverted pendulum whose zero-moment point (ZMP) stays in the
stance foot during single support and passes to the next foot in double support (:func:`zmp_reference`,
:func:`lipm_com`): the sway toward the stance foot and the speeding and slowing over each step follow
from the footsteps, as in a walker that keeps its balance. The pelvis dips where the spread legs could
not reach otherwise; the legs are then solved by inverse kinematics so the ankles land on the
footprints, feet flat.

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
#: Lateral distance of each footfall from the line of travel when walking [m]: a step width of 0.10 m
#: between ankle centres (normal men walk with about 8 cm between heel centres, Murray, Drought and Kory
#: 1964, "Walking patterns of normal men", J. Bone Joint Surg. 46-A; the ankles sit a little wider).
WALK_HALF_WIDTH = 0.05
#: Pelvis height when standing relaxed, knees slightly bent [m].
STAND_HEIGHT = 0.915
#: How straight a leg may get, as a fraction of thigh plus shank length (the pelvis dips below that).
MAX_LEG_EXTENSION = 0.985
#: Standard gravity [m/s^2].
GRAVITY = 9.81
#: Height of the centre of mass for the inverted pendulum [m]: that of :func:`body_com` on the default
#: body while walking (0.86 m; 0.89 m standing), a little over half the stature as in Winter (Biomechanics
#: and Motor Control of Human Movement, 4th ed., 2009, ch. 4).
COM_HEIGHT = 0.87
#: The ZMP reference in a stance foot [m]: ZMP_ALONG ahead of the ankle (the middle of the sole),
#: rolling ZMP_ROLL back and forth from heel to toe over single support, ZMP_OUTWARD toward its outer
#: edge (inside the foot: its breadth is about 0.055 of stature, ~9 cm, Drillis and Contini 1966; the
#: outer half gives the G1, whose feet the retargeting places wider, the most lateral balance).
ZMP_ALONG = 0.03
ZMP_ROLL = 0.03
ZMP_OUTWARD = 0.035
#: Weight of the ZMP reference with both feet down, relative to single support (where it is 1).
ZMP_DOUBLE_SUPPORT_WEIGHT = 0.1
#: Time to shift the weight onto the stance foot before a step from standing, and back after [s].
WEIGHT_SHIFT = 0.3


@dataclass(frozen=True)
class Footprint:
    """Where a planted foot is: ankle ground position ``x``, ``y`` [m] and heading ``yaw`` [rad]."""

    x: float
    y: float
    yaw: float


@dataclass(frozen=True)
class Step:
    """One foot's swing from time ``start`` to ``end`` [s], landing on ``target``; ``clearance`` [m]: the
    highest lift, a smooth bump (:func:`timing.bump`), or with ``ballistic`` a parabola ``4 tau (1 - tau)``
    (the foot leaves and lands with the speed of a jump's flight, :class:`Jump`)."""

    foot: str
    start: float
    end: float
    target: Footprint
    clearance: float = 0.07
    ballistic: bool = False


@dataclass(frozen=True)
class Jump:
    """A two-footed jump: crouch, push off, fly from ``start`` to ``end`` [s] (takeoff to touchdown), land on
    ``target`` (left and right footprints), absorb the landing and stand up.

    The pelvis, from its standing height: down by ``crouch`` [m] over ``prepare`` [s] (minimum jerk), then up
    at constant acceleration to takeoff at the standing height with the flight's vertical speed
    ``v0 = g T / 2`` (T the flight time), a ballistic arc ``v0 s - g s^2 / 2`` of apex ``g T^2 / 8`` (0.11 m
    for 0.3 s, 0.20 m for 0.4 s), at constant deceleration from ``-v0`` down by ``landing`` [m], and up again
    over ``recover`` [s]. Both feet leave the ground at takeoff on a parabola ``tuck`` [m] higher than the
    pelvis's (the knees bend a little in the air). The push's ~1 g above gravity and a human's 0.1-0.2 m
    countermovement are those of a standing jump (Linthorne 2001, "Analysis of standing vertical jumps using
    a force platform", Am. J. Phys. 69).
    """

    start: float
    end: float
    target: dict[str, Footprint]
    crouch: float = 0.12
    landing: float = 0.10
    prepare: float = 0.5
    recover: float = 0.6
    tuck: float = 0.04

    @property
    def takeoff_speed(self) -> float:
        """Vertical speed at takeoff and touchdown [m/s]."""
        return GRAVITY * (self.end - self.start) / 2.0

    @property
    def apex(self) -> float:
        """Height of the flight's arc above the takeoff [m]."""
        return GRAVITY * (self.end - self.start) ** 2 / 8.0

    @staticmethod
    def push_time(crouch: float, flight: float) -> float:
        """How long [s] the push from a ``crouch`` [m] deep to a takeoff for ``flight`` [s] in the air lasts
        (constant acceleration from rest to the takeoff speed: also the landing's, for its depth)."""
        return 2.0 * crouch / (GRAVITY * flight / 2.0)

    @property
    def phases(self) -> tuple[float, float, float, float, float, float]:
        """Times [s]: crouch starts, crouch bottom, takeoff, touchdown, landing absorbed, standing again."""
        flight = self.end - self.start
        bottom = self.start - self.push_time(self.crouch, flight)
        absorbed = self.end + self.push_time(self.landing, flight)
        return bottom - self.prepare, bottom, self.start, self.end, absorbed, absorbed + self.recover

    def steps(self) -> tuple[Step, ...]:
        """Both feet's flights (ballistic :class:`Step`s, each from wherever the foot is at takeoff)."""
        return tuple(Step(side, self.start, self.end, self.target[side], self.apex + self.tuck, ballistic=True)
                     for side in ("left", "right"))

    def height(self, t: Array) -> Array:
        """The pelvis's height (T,) [m] relative to standing at times ``t`` (T,) [s]; 0 outside the jump."""
        t0, bottom, up, down, absorbed, stood = self.phases
        v0, out = self.takeoff_speed, np.zeros(len(t))
        crouching = (t >= t0) & (t < bottom)
        out[crouching] = -self.crouch * minimum_jerk((t[crouching] - t0) / self.prepare)
        push = (t >= bottom) & (t < up)
        out[push] = -self.crouch * (1.0 - ((t[push] - bottom) / (up - bottom)) ** 2)
        flight = (t >= up) & (t < down)
        s = t[flight] - up
        out[flight] = v0 * s - 0.5 * GRAVITY * s**2
        absorb = (t >= down) & (t < absorbed)
        out[absorb] = -self.landing * (1.0 - (1.0 - (t[absorb] - down) / (absorbed - down)) ** 2)
        rising = (t >= absorbed) & (t < stood)
        out[rising] = -self.landing * (1.0 - minimum_jerk((t[rising] - absorbed) / self.recover))
        return out


def feet_apart(x: float = 0.0, y: float = 0.0, yaw: float = 0.0,
               half_width: float = STANCE_HALF_WIDTH) -> dict[str, Footprint]:
    """Both feet side by side about ``(x, y)`` facing ``yaw`` [rad]."""
    left = np.array([-np.sin(yaw), np.cos(yaw)]) * half_width
    return {"left": Footprint(x + left[0], y + left[1], yaw), "right": Footprint(x - left[0], y - left[1], yaw)}


@dataclass(frozen=True)
class LowerPlan:
    """The lower body over a clip: initial footprints, steps and pelvis keyframes.

    ``jumps`` lift both feet at once (:class:`Jump`; their pelvis heights add to ``height``'s).
    ``height`` is (times [s], pelvis heights [m]); ``back`` shifts the pelvis backward along the heading
    [m] and ``pitch`` tilts it forward [rad] (both as (times, values)). The pelvis's sway toward the
    stance foot is not a parameter: it follows from the steps (:func:`zmp_reference`, :func:`lipm_com`).
    """

    start: dict[str, Footprint] = field(default_factory=feet_apart)
    steps: tuple[Step, ...] = ()
    jumps: tuple[Jump, ...] = ()
    height: tuple[tuple[float, ...], tuple[float, ...]] = ((0.0,), (STAND_HEIGHT,))
    back: tuple[tuple[float, ...], tuple[float, ...]] = ((0.0,), (0.0,))
    pitch: tuple[tuple[float, ...], tuple[float, ...]] = ((0.0,), (0.0,))


class FootTrack(NamedTuple):
    """One foot over time: ankle position (T, 3) [m], yaw (T,) [rad], planted (T,) bool."""

    ankle: Array
    yaw: Array
    planted: NDArray[np.bool_]


class LowerBody(NamedTuple):
    """The sampled lower body: pelvis position (T, 3) [m] and rotation (T, 3, 3) (joint-to-world),
    local rotations (T, 24, 3, 3) of the leg joints (others identity), heading (T,) [rad], per foot
    (left, right) the planted flags (T, 2), the ankle targets and the ankles reached (T, 2, 3) [m], and
    the ZMP reference (T, 2) [m] the centre of mass was planned for (:func:`zmp_reference`)."""

    pelvis: Array
    pelvis_rot: Array
    local_rot: Array
    heading: Array
    planted: NDArray[np.bool_]
    ankle_target: Array
    ankle_reached: Array
    zmp: Array


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
        shape = 4.0 * tau[swing] * (1.0 - tau[swing]) if step.ballistic else bump(tau[swing])
        lift[swing] = step.clearance * shape
        planted[swing] = False
        prev = Footprint(step.target.x, step.target.y, prev.yaw + d_yaw)
    ankle = np.column_stack([xy, ANKLE_HEIGHT + lift])
    return FootTrack(ankle, yaw, planted)


def _heading_frame(yaw: Array) -> tuple[Array, Array]:
    fwd = np.stack([np.cos(yaw), np.sin(yaw), np.zeros_like(yaw)], -1)
    left = np.stack([-np.sin(yaw), np.cos(yaw), np.zeros_like(yaw)], -1)
    return fwd, left


def sample_lower_body(plan: LowerPlan, t: Array, rest_joints: Array = smpl.DEFAULT_REST_JOINTS,
                      com_offset: Array | None = None, zmp_shift: Array | None = None) -> LowerBody:
    """Sample ``plan`` at times ``t`` (T,) [s] and solve both legs (feet flat, knees over the toes).

    The pelvis follows the centre of mass of a linear inverted pendulum whose ZMP tracks
    :func:`zmp_reference` (:func:`lipm_com`); ``com_offset`` (T, 2) [m], the horizontal offset of the
    whole body's centre of mass from the pelvis (see :func:`body_com`), is subtracted so that the
    body's centre of mass, not the pelvis, follows the pendulum; ``zmp_shift`` (T, 2) [m] is added to
    the pendulum's ZMP reference (the multibody correction, see :func:`multibody_zmp`).
    """
    from scipy.ndimage import gaussian_filter1d  # here: importing SciPy's ndimage takes ~1 s (mocap imports skip it)

    fps = 1.0 / max(float(np.median(np.diff(t))), 1e-6) if len(t) > 1 else 30.0
    steps = [*plan.steps, *(s for jump in plan.jumps for s in jump.steps())]
    feet = {side: foot_track(plan.start[side], [s for s in steps if s.foot == side], t)
            for side in ("left", "right")}
    heading = gaussian_filter1d(0.5 * (feet["left"].yaw + feet["right"].yaw), 0.1 * fps, mode="nearest")
    fwd, _ = _heading_frame(heading)
    zmp = zmp_reference(plan, feet, t)
    center = lipm_com(zmp.position if zmp_shift is None else zmp.position + zmp_shift, zmp.weight, t)
    back = sample_values(*plan.back, t)
    pitch = sample_values(*plan.pitch, t)
    if com_offset is None:  # a first guess: the hips go back by ``back`` to keep the balance
        pelvis = np.column_stack([center, np.zeros(len(t))]) - back[:, None] * fwd
    else:
        pelvis = np.column_stack([center - np.asarray(com_offset, float), np.zeros(len(t))])
    pelvis[:, 2] = sample_values(*plan.height, t) + sum((jump.height(t) for jump in plan.jumps), np.zeros(len(t)))
    pelvis_rot = (axis_rotation([0, 0, 1], heading) @ axis_rotation([0, 1, 0], pitch)) @ smpl.CANONICAL_TO_WORLD
    rest = np.asarray(rest_joints, float)
    pelvis[:, 2] -= _reach_dip(pelvis, pelvis_rot, feet, rest, fps)
    local = np.tile(np.eye(3), (len(t), smpl.NUM_JOINTS, 1, 1))
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
    return LowerBody(pelvis, pelvis_rot, local, heading, planted, np.stack(targets, 1), np.stack(reached, 1),
                     zmp.position)


class ZmpReference(NamedTuple):
    """Where the zero-moment point should be: ``position`` (T, 2) [m] world x, y; ``weight`` (T,) how
    strictly (1 in single support, :data:`ZMP_DOUBLE_SUPPORT_WEIGHT` with both feet down, where the
    support polygon spans both feet); ``single`` (T,) bool, a foot in swing; ``stance`` (T,) int, the
    foot bearing the weight in single support (0 left, 1 right; -1 with both feet down)."""

    position: Array
    weight: Array
    single: NDArray[np.bool_]
    stance: NDArray[np.int64]


def _foot_point(print_: Footprint, along: float, outward: float, side: str) -> Array:
    """A point ``along`` [m] forward of the ankle and ``outward`` [m] away from the midline in a footprint."""
    c, s = np.cos(print_.yaw), np.sin(print_.yaw)
    sign = 1.0 if side == "left" else -1.0
    return np.array([print_.x + along * c - sign * outward * s, print_.y + along * s + sign * outward * c])


def zmp_reference(plan: LowerPlan, feet: dict[str, FootTrack], t: Array) -> ZmpReference:
    """The ZMP reference of a footstep plan: in the stance foot during each single support, moving from
    heel to toe (:data:`ZMP_ALONG` +- :data:`ZMP_ROLL` ahead of the ankle, :data:`ZMP_OUTWARD` toward
    the outer edge), handed to the next stance foot in minimum-jerk during double support, between the
    feet when standing. The weight is shifted onto the stance foot in the :data:`WEIGHT_SHIFT` [s]
    before a step from standing and back to both feet in the same time after the last one. Over a jump's
    flight (:class:`Jump`) it moves at constant speed from between the feet at takeoff to between them at
    touchdown, with the double-support weight (no ZMP exists in the air; the pendulum carries the body).
    ``feet`` (left, right) are the tracks from :func:`foot_track` at times ``t`` (T,) [s].
    The pattern (centre of pressure rolling from heel to toe in single support, transferred during
    double support) is that of human walking (Perry and Burnfield, Gait Analysis, 2nd ed., 2010, ch. 2).
    """
    n = len(t)
    side_of = {"left": 0, "right": 1}

    def print_at(side: str, time: float) -> Footprint:
        k = int(np.clip(np.searchsorted(t, time), 0, n - 1))
        tr = feet[side]
        return Footprint(float(tr.ankle[k, 0]), float(tr.ankle[k, 1]), float(tr.yaw[k]))

    def between(time: float) -> Array:
        left, right = print_at("left", time), print_at("right", time)
        return 0.5 * (_foot_point(left, ZMP_ALONG, 0.0, "left") + _foot_point(right, ZMP_ALONG, 0.0, "right"))

    steps = sorted([*plan.steps, *plan.jumps], key=lambda s: s.start)
    position = np.tile(between(float(t[0]) if n else 0.0), (n, 1))
    weight = np.full(n, ZMP_DOUBLE_SUPPORT_WEIGHT)
    single = np.zeros(n, bool)
    stance = np.full(n, -1, np.int64)

    def ramp(a: float, b: float, pa: Array, pb: Array, shape=minimum_jerk) -> None:
        span = max(b - a, 1e-6)
        on = (t >= a) if b <= a else (t >= a) & (t < b)
        position[on] = pa + shape((t[on] - a) / span)[:, None] * (pb - pa)
        position[t >= b] = pb

    prev_end, prev_point = None, position[0] if n else np.zeros(2)
    for step in steps:
        if isinstance(step, Jump):  # between the feet from the crouch on, carried to the landing in the air
            first, *_ = step.phases
            if prev_end is not None:
                ramp(prev_end, max(first, prev_end + 1e-3), prev_point, between(step.start))
            ramp(step.start, step.end, between(step.start), between(step.end), shape=lambda tau: np.clip(tau, 0, 1))
            prev_end, prev_point = step.end, between(step.end)
            continue
        other = "right" if step.foot == "left" else "left"
        hold = print_at(other, 0.5 * (step.start + step.end))
        heel = _foot_point(hold, ZMP_ALONG - ZMP_ROLL, ZMP_OUTWARD, other)
        toe = _foot_point(hold, ZMP_ALONG + ZMP_ROLL, ZMP_OUTWARD, other)
        if prev_end is None or step.start - prev_end > 2 * WEIGHT_SHIFT + 0.2:
            if prev_end is not None:  # a pause with both feet down: back to the middle, then out again
                ramp(prev_end, prev_end + WEIGHT_SHIFT, prev_point, between(prev_end + WEIGHT_SHIFT))
                prev_point = between(prev_end + WEIGHT_SHIFT)
            ramp(max(step.start - WEIGHT_SHIFT, float(t[0])), step.start, prev_point, heel)
        else:
            ramp(prev_end, step.start, prev_point, heel)
        ramp(step.start, step.end, heel, toe, shape=lambda tau: np.clip(tau, 0.0, 1.0))
        swing = (t >= step.start) & (t < step.end)
        single[swing], stance[swing], weight[swing] = True, side_of[other], 1.0
        prev_end, prev_point = step.end, toe
    if prev_end is not None:
        ramp(prev_end, prev_end + WEIGHT_SHIFT, prev_point, between(prev_end + WEIGHT_SHIFT))
    return ZmpReference(position, weight, single, stance)


def lipm_com(zmp: Array, weight: Array, t: Array, com_height: float | None = None) -> Array:
    """Horizontal centre-of-mass path (T, 2) [m] of a linear inverted pendulum whose ZMP
    ``p = c - (z_c / g) c''`` follows ``zmp`` (T, 2) [m] at times ``t`` (T,) [s] (uniform steps), starting
    and ending at rest over the reference; ``com_height`` [m] defaults to :data:`COM_HEIGHT`.

    The cart-table / linear-inverted-pendulum model of Kajita et al. (2003, "Biped walking pattern
    generation by using preview control of zero-moment point", ICRA): the ZMP equation, discretised with
    central differences, is solved over the whole clip at once as a weighted least-squares problem (rows
    ``sqrt(weight) * (p(c) - zmp)``, a banded system; the finite-horizon counterpart of preview control,
    as in the tridiagonal method of Kajita et al., Introduction to Humanoid Robotics, Springer 2014,
    ch. 4). ``weight`` (T,) > 0 says where the reference binds (single support) and where the ZMP may
    move inside a wider support polygon (double support). The ZMP of the result, by central differences,
    equals the reference wherever the weight is 1 up to the least-squares residual.
    """
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    n = len(t)
    zmp = np.asarray(zmp, float)
    if n < 5:
        return zmp.copy()
    dt = float(np.median(np.diff(t)))
    a = (COM_HEIGHT if com_height is None else com_height) / GRAVITY / dt**2
    i = np.arange(1, n - 1)
    w = np.sqrt(np.maximum(np.asarray(weight, float)[i], 1e-6))
    rows = np.concatenate([np.repeat(np.arange(n - 2), 3)])
    cols = np.stack([i - 1, i, i + 1], 1).ravel()
    vals = (w[:, None] * np.array([-a, 1.0 + 2.0 * a, -a])).ravel()
    big = 1e3 * (1.0 + 2.0 * a)  # rest at both ends: c0 = c1 = zmp0, c(T-1) = c(T-2) = zmp(T-1)
    rows = np.concatenate([rows, n - 2 + np.arange(4)])
    cols = np.concatenate([cols, [0, 1, n - 1, n - 2]])
    vals = np.concatenate([vals, [big] * 4])
    A = sparse.csr_matrix((vals, (rows, cols)), shape=(n + 2, n))
    b = np.concatenate([w[:, None] * zmp[i], big * zmp[[0, 0, n - 1, n - 1]]])
    ata = (A.T @ A).tocsc()
    return np.column_stack([spsolve(ata, A.T @ b[:, k]) for k in range(zmp.shape[1])])


def _acceleration(x: Array, dt: float) -> Array:
    """Second derivative along axis 0 by the 3-point central difference (one-sided at the ends)."""
    acc = np.gradient(np.gradient(x, dt, axis=0), dt, axis=0)
    acc[1:-1] = (x[2:] - 2 * x[1:-1] + x[:-2]) / dt**2
    return acc


def lipm_zmp(com: Array, t: Array, com_height: float | None = None) -> Array:
    """The ZMP ``c - (z_c / g) c''`` (T, 2) [m] of a horizontal centre-of-mass path ``com`` (T, 2) [m]
    at uniform times ``t`` (T,) [s] (central differences, one-sided at the ends); ``com_height`` [m]
    defaults to :data:`COM_HEIGHT`."""
    acc = _acceleration(np.asarray(com, float), float(np.median(np.diff(t))))
    return com - (COM_HEIGHT if com_height is None else com_height) / GRAVITY * acc


#: The least vertical load on the feet, as a fraction of the body's weight, for which :func:`multibody_zmp`
#: gives a ZMP.
MIN_LOAD = 0.2
#: Segment masses (fractions of body mass) and where each segment's centre of mass lies between two
#: joints (0 at the first), after de Leva (1996, "Adjustments to Zatsiorsky-Seluyanov's segment inertia
#: parameters", J. Biomech. 29(9)), male values, mapped onto SMPL joints; the trunk's 43.5 % is spread
#: over the spine joints and the head's 6.9 % put between neck and head.
_SEGMENTS: tuple[tuple[str, str, float, float], ...] = (
    ("pelvis", "spine1", 0.1117, 0.0), ("spine1", "spine2", 0.1633, 0.5), ("spine2", "spine3", 0.1596, 0.5),
    ("neck", "head", 0.0694, 0.6),
    *((f"{s}_shoulder", f"{s}_elbow", 0.0271, 0.5772) for s in ("left", "right")),
    *((f"{s}_elbow", f"{s}_wrist", 0.0162, 0.4574) for s in ("left", "right")),
    *((f"{s}_wrist", f"{s}_hand", 0.0061, 0.79) for s in ("left", "right")),
    *((f"{s}_hip", f"{s}_knee", 0.1416, 0.4095) for s in ("left", "right")),
    *((f"{s}_knee", f"{s}_ankle", 0.0433, 0.4459) for s in ("left", "right")),
    *((f"{s}_ankle", f"{s}_foot", 0.0137, 0.4415) for s in ("left", "right")),
)


def body_com(joints: Array) -> Array:
    """Whole-body centre of mass (..., 3) [m] of SMPL joint positions (..., 24, 3) [m], from the segment
    table above (de Leva 1996); the fractions sum to 1."""
    joints = np.asarray(joints, float)
    com = np.zeros(joints.shape[:-2] + (3,))
    for a, b, mass, at in _SEGMENTS:
        pa, pb = joints[..., J(a), :], joints[..., J(b), :]
        com += mass * (pa + at * (pb - pa))
    return com


def multibody_zmp(joints: Array, t: Array) -> Array:
    """ZMP (T, 2) [m] on the ground z = 0 of the segment masses of :func:`body_com` at SMPL joint positions
    (T, 24, 3) [m] and uniform times ``t`` (T,) [s]: ``sum m ((z'' + g) x - x'' z) / sum m (z'' + g)``
    (Kajita et al., Introduction to Humanoid Robotics, 2014, ch. 3; point masses, so the segments' spin
    is left out). Unlike :func:`lipm_zmp` it counts the vertical motion of the body and of each limb,
    e.g. a swing leg lifted beside the stance foot. Accelerations by central differences. NaN where the
    feet bear less than :data:`MIN_LOAD` of the body's weight (a jump's flight, where no ZMP exists)."""
    joints = np.asarray(joints, float)
    dt = float(np.median(np.diff(t)))
    points = np.stack([joints[:, J(a)] + at * (joints[:, J(b)] - joints[:, J(a)]) for a, b, _, at in _SEGMENTS], 1)
    mass = np.array([m for _, _, m, _ in _SEGMENTS])[None, :]
    acc = _acceleration(points, dt)
    load = mass * (acc[..., 2] + GRAVITY)  # (T, S) vertical force on each segment [N/kg of body]
    moment = load[..., None] * points[..., :2] - mass[..., None] * acc[..., :2] * points[..., 2:3]
    total = load.sum(1)
    return moment.sum(1) / np.where(total > MIN_LOAD * GRAVITY, total, np.nan)[:, None]


def _reach_dip(pelvis: Array, pelvis_rot: Array, feet: dict[str, FootTrack], rest: Array, fps: float) -> Array:
    """How far (T,) [m] to lower the pelvis so that both legs reach their ankles with the knees at most
    :data:`MAX_LEG_EXTENSION` straight: the dip of the pelvis in double support of human walking, where
    the legs are spread (the vertical excursion of the centre of mass, lowest in double support, Saunders,
    Inman and Eberhart 1953). Widened by 0.1 s and smoothed so the pelvis sinks and rises gently."""
    from scipy.ndimage import gaussian_filter1d, maximum_filter1d

    dip = np.zeros(len(pelvis))
    for side in ("left", "right"):
        hip, knee, ankle = J(f"{side}_hip"), J(f"{side}_knee"), J(f"{side}_ankle")
        reach = MAX_LEG_EXTENSION * (np.linalg.norm(rest[knee] - rest[hip]) + np.linalg.norm(rest[ankle] - rest[knee]))
        hip_world = pelvis + np.einsum("tij,j->ti", pelvis_rot, rest[hip] - rest[0])
        v = feet[side].ankle - hip_world
        horizontal = np.minimum(np.linalg.norm(v[:, :2], axis=-1), reach)
        dip = np.maximum(dip, -v[:, 2] - np.sqrt(reach**2 - horizontal**2))
    dip = maximum_filter1d(np.maximum(dip, 0.0), max(1, round(0.3 * fps)), mode="nearest")
    return gaussian_filter1d(dip, 0.1 * fps, mode="nearest") if len(dip) > 1 else dip


def walk_steps(start: dict[str, Footprint], t0: float, num_steps: int, step_length: float, step_time: float,
               first: str = "right", turn_per_step: float = 0.0, clearance: float = 0.07,
               double_support: float = 0.25, direction: float = 0.0, half_width: float | None = None,
               ) -> tuple[list[Step], dict[str, Footprint], float]:
    """Steps of a walk (or a turn) from ``start``, plus a last step that brings the feet side by side.

    ``step_length`` [m] is how far each footfall lands ahead of the previous one, ``step_time`` [s] the
    time from one footfall to the next (a fraction ``double_support`` of it with both feet down), and
    ``turn_per_step`` [rad] the change of heading per step (turning in place when ``step_length`` is 0),
    ``direction`` [rad] the direction of travel from the heading (0 forward, pi backward, +-pi/2 sideways
    to the left/right; lead with the foot on that side for side steps), ``half_width`` [m] the lateral
    distance of each footfall from the line of travel (default :data:`WALK_HALF_WIDTH`).
    Returns the steps, the final footprints and the time [s] the last step lands.
    """
    feet = dict(start)
    yaw = 0.5 * (feet["left"].yaw + feet["right"].yaw)
    center = np.array([0.5 * (feet["left"].x + feet["right"].x), 0.5 * (feet["left"].y + feet["right"].y)])
    swing = step_time * (1.0 - double_support)
    width = WALK_HALF_WIDTH if half_width is None else half_width
    steps: list[Step] = []
    t, foot = t0, first

    def place(side: str, start_time: float) -> None:
        lateral = np.array([-np.sin(yaw), np.cos(yaw)]) * width * (1.0 if side == "left" else -1.0)
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
