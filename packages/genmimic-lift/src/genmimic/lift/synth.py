"""The project's procedural human motions, as SMPL clips: gestures, compositions, squats, steps, turns,
walks (also with an upper-body action), jumps and random blends.

>>> from genmimic.lift.synth import KINDS, synthesize
>>> clip = synthesize("wave", seed=3, duration=4.0, fps=30.0)   # an SmplClip, z up, feet on z = 0

Every movement follows a minimum-jerk profile (bell-shaped velocity); feet are planted: a foot that is
down stays exactly where it landed (the legs are solved by inverse kinematics), the sole of the lowest
foot is on z = 0 (except in a jump's flight, where both feet are in the air) and joint rotations stay in
human ranges (:mod:`.limits`). The same ``(kind, seed, duration, fps)`` always gives the same clip. The
body is genmimic.core's default skeleton (``betas`` 0); it starts facing +x at the origin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

from genmimic.core import SmplClip, make_meta, smpl
from genmimic.core import rotations as rot
from genmimic.core.errors import GenMimicError

from . import gestures as g
from .gait import (
    STAND_HEIGHT,
    Jump,
    LowerBody,
    LowerPlan,
    Step,
    body_com,
    feet_apart,
    lipm_zmp,
    multibody_zmp,
    sample_lower_body,
    walk_steps,
)
from .posture import REST, ArmPose, J, axis_rotation, upper_body_rotations
from .timing import sample_rotations

Array = NDArray[np.float64]
RNG = np.random.Generator


class SynthError(GenMimicError):
    """Bad arguments to :func:`synthesize` (unknown kind, duration or fps out of range)."""


@dataclasses.dataclass
class Program:
    """What a kind builds: upper-body keyframes, the lower-body plan, walking arm swing [rad] and the
    natural length of the motion [s]."""

    upper: g.Timeline
    lower: LowerPlan = dataclasses.field(default_factory=LowerPlan)
    arm_swing: float = 0.0
    length: float = 0.0


class Synthesis(NamedTuple):
    """A synthesised clip and what made it: ``planted`` (T, 2) bool (left, right foot down) and the ankle
    targets (T, 2, 3) [m] the legs were solved for."""

    clip: SmplClip
    planted: NDArray[np.bool_]
    ankle_target: Array


def _lead_in(rng: RNG) -> g.Timeline:
    return g.Timeline().hold(rng.uniform(0.3, 0.6))


def _gesture_kind(name: str) -> Callable[[RNG, float | None], Program]:
    def build(rng: RNG, duration: float | None) -> Program:
        tl = _lead_in(rng)
        side = "right" if rng.random() < 0.75 else "left"
        while True:
            g.GESTURES[name](tl, rng, side)
            if duration is None or tl.end + 3.5 > duration:
                break
            tl.hold(rng.uniform(0.4, 1.0))
        return Program(tl, length=tl.end + rng.uniform(0.3, 0.6))

    build.__doc__ = f"The {name.replace('_', ' ')} gesture (repeated to fill a longer duration)."
    return build


def _composition(rng: RNG, duration: float | None) -> Program:
    """Gestures one after another: the benchmark's "cross the arms, uncross them, wave" or a random sequence."""
    tl = _lead_in(rng)
    names = ["arms_cross", "wave"] if rng.random() < 0.4 else list(
        rng.choice(list(g.GESTURES), size=int(rng.integers(2, 4)), replace=False))
    for name in names:
        g.GESTURES[name](tl, rng, "right" if rng.random() < 0.7 else "left")
        tl.hold(rng.uniform(0.2, 0.5))
    return Program(tl, length=tl.end + 0.3)


def _stand(rng: RNG, duration: float | None) -> Program:
    """Standing relaxed, shifting the weight a little."""
    length = duration or 3.0
    n = max(2, int(length / 1.5))
    times = tuple(np.linspace(0.0, length, n))
    heights = tuple(STAND_HEIGHT - rng.uniform(0.0, 0.01, n))
    tl = g.Timeline()
    for t in times[1:]:
        tl.move(t - tl.end, dataclasses.replace(REST, head_yaw=rng.uniform(-0.2, 0.2), lean=rng.uniform(0, 0.05)))
    return Program(tl, LowerPlan(height=(times, heights)), length=length)


def _squat(rng: RNG, duration: float | None) -> Program:
    """Squats with the arms forward for balance: feet planted a little wider, hips back and down."""
    start = feet_apart(half_width=rng.uniform(0.11, 0.14))
    reps = 1 if duration is None else max(1, int((duration - 0.8) / 3.2))
    depth = rng.uniform(0.25, 0.33)
    t, times, h, back, pitch = rng.uniform(0.3, 0.6), [0.0], [STAND_HEIGHT], [0.0], [0.0]
    tl = g.Timeline()
    arms = ArmPose(direction=(0.15, -0.05, 1.0), bend=(0.0, 1.0, 0.0), elbow=0.2)
    down_pose = dataclasses.replace(REST, left=arms, right=arms, lean=0.1, head_pitch=-0.2)
    for _ in range(reps):
        down, up, pause = rng.uniform(1.1, 1.4), rng.uniform(1.1, 1.4), rng.uniform(0.2, 0.5)
        times += [t, t + down, t + down + pause, t + down + pause + up]
        h += [STAND_HEIGHT, STAND_HEIGHT - depth, STAND_HEIGHT - depth, STAND_HEIGHT]
        back += [0.0, 0.45 * depth, 0.45 * depth, 0.0]
        pitch += [0.0, 1.4 * depth, 1.4 * depth, 0.0]
        tl.hold(t - tl.end).move(down, down_pose).hold(pause).move(up, REST)
        t += down + pause + up + rng.uniform(0.3, 0.6)
    plan = LowerPlan(start=start, height=(tuple(times), tuple(h)), back=(tuple(times), tuple(back)),
                     pitch=(tuple(times), tuple(pitch)))
    return Program(tl, plan, length=t)


def _step(rng: RNG, duration: float | None) -> Program:
    """A step forward, back or to a side with one foot, the other joining it; then back again if time allows."""
    direction = rng.choice(["forward", "back", "left", "right"])
    length = rng.uniform(0.22, 0.34) if direction in ("forward", "back") else rng.uniform(0.15, 0.25)
    offset = {"forward": (length, 0.0), "back": (-length, 0.0), "left": (0.0, length), "right": (0.0, -length)}
    dx, dy = offset[str(direction)]
    lead = "left" if direction == "left" else "right" if direction == "right" else str(rng.choice(["left", "right"]))
    trail = "left" if lead == "right" else "right"
    feet = feet_apart()
    t = rng.uniform(0.4, 0.7)
    steps: list[Step] = []
    trips = 1 if duration is None or duration < 4.5 else 2
    for trip in range(trips):
        sign = 1.0 if trip == 0 else -1.0
        for foot in (lead, trail) if trip == 0 else (trail, lead):
            f = feet[foot]
            swing = rng.uniform(0.55, 0.75)
            feet[foot] = dataclasses.replace(f, x=f.x + sign * dx, y=f.y + sign * dy)
            steps.append(Step(foot, t, t + swing, feet[foot], clearance=rng.uniform(0.05, 0.08)))
            t += swing + rng.uniform(0.15, 0.3)
        t += rng.uniform(0.3, 0.6)
    tl = g.Timeline().hold(t)
    height = ((0.0,), (STAND_HEIGHT - 0.03,))
    return Program(tl, LowerPlan(steps=tuple(steps), height=height), length=t + 0.2)


def _turn(rng: RNG, duration: float | None) -> Program:
    """Turning in place by 90 to 180 degrees in small steps, leading with the foot on the turning side."""
    angle = rng.uniform(np.pi / 2, np.pi) * (1.0 if rng.random() < 0.5 else -1.0)
    n = int(np.ceil(abs(angle) / 0.5))
    step_time = rng.uniform(0.6, 0.75)
    t0 = rng.uniform(0.3, 0.6)
    steps, _, end = walk_steps(feet_apart(), t0, n, 0.0, step_time, first="left" if angle > 0 else "right",
                               turn_per_step=angle / n, clearance=0.05)
    tl = g.Timeline().hold(end)
    return Program(tl, LowerPlan(steps=tuple(steps)), arm_swing=0.05, length=end + 0.4)


def _turn_around(rng: RNG, duration: float | None) -> Program:
    """Quick turn-arounds in place: 150 to 200 degrees either way in 3 or 4 brisk steps (0.38-0.5 s apart), up
    to 135-225 deg/s; a longer clip turns back and forth.

    As the CMU forward-jumps subject turns back at 8.8 s (mocap 01_01: 177 deg in about 1.2 s, up to 200 deg/s);
    :func:`_turn` peaks at 65-80 deg/s. The teacher (524.7 M env steps) and student v0.4 fell there, and on 3 of
    3 (teacher) and 2 of 3 (student) such retargeted turns (2026-12-04): the corpus had no turn this fast."""
    feet, end, steps = feet_apart(), rng.uniform(0.3, 0.6), []
    while not steps or (duration is not None and end < duration - 2.5):  # more turns while a clip has room
        angle = rng.uniform(np.radians(150.0), np.radians(200.0)) * (1.0 if rng.random() < 0.5 else -1.0)
        n = int(rng.integers(3, 5))
        more, feet, end = walk_steps(feet, end, n, 0.0, rng.uniform(0.38, 0.5), first="left" if angle > 0 else "right",
                                     turn_per_step=angle / n, clearance=0.05)
        steps += more
        end += rng.uniform(0.3, 1.0)  # a pause before the next
    tl = g.Timeline().hold(end)
    return Program(tl, LowerPlan(steps=tuple(steps)), arm_swing=0.1, length=end + 0.2)


def _walk_plan(rng: RNG, duration: float | None, step_time: tuple[float, float] = (0.52, 0.62),
               step_length: tuple[float, float] = (0.36, 0.46), turn: float = 0.0, direction: float = 0.0,
               first: str | None = None) -> tuple[LowerPlan, float, float]:
    """A walk of uniformly drawn step time [s] and length [m] within the ranges, turning ``turn`` [rad] per
    step, travelling ``direction`` [rad] from the heading."""
    st = rng.uniform(*step_time)
    t0 = rng.uniform(0.3, 0.6)
    n = 8 if duration is None else max(2, int((duration - t0 - 0.8) / st))
    steps, _, end = walk_steps(feet_apart(), t0, n, rng.uniform(*step_length), st,
                               first=first or str(rng.choice(["left", "right"])), turn_per_step=turn,
                               direction=direction)
    plan = LowerPlan(steps=tuple(steps), height=((0.0,), (STAND_HEIGHT - 0.02,)))
    return plan, t0, end


def _walk(rng: RNG, duration: float | None) -> Program:
    """Walking in a straight line (+x), arms swinging, starting and stopping with the feet side by side."""
    plan, _, end = _walk_plan(rng, duration)
    return Program(g.Timeline().hold(end), plan, arm_swing=rng.uniform(0.2, 0.35), length=end + 0.4)


def _walk_with_action(rng: RNG, duration: float | None) -> Program:
    """Walking in a line while waving, pointing, giving a thumbs up or crossing the arms."""
    plan, t0, end = _walk_plan(rng, duration)
    tl = g.Timeline().hold(t0 + rng.uniform(0.5, 1.0))
    action = str(rng.choice(["wave", "point", "thumbs_up", "arms_cross"]))
    g.GESTURES[action](tl, rng, "right" if rng.random() < 0.7 else "left")
    return Program(tl, plan, arm_swing=rng.uniform(0.2, 0.3), length=max(end, tl.end) + 0.4)


def _walk_speed(rng: RNG, duration: float | None) -> Program:
    """Walking straight at a speed from a slow stroll to a brisk walk (about 0.25 to 1.0 m/s)."""
    plan, _, end = _walk_plan(rng, duration, step_time=(0.45, 0.8), step_length=(0.2, 0.46))
    return Program(g.Timeline().hold(end), plan, arm_swing=rng.uniform(0.1, 0.4), length=end + 0.4)


def _walk_turn(rng: RNG, duration: float | None) -> Program:
    """Walking along a curve: turning 0.1 to 0.3 rad per step to the left or right."""
    turn = rng.uniform(0.1, 0.3) * (1.0 if rng.random() < 0.5 else -1.0)
    plan, _, end = _walk_plan(rng, duration, step_length=(0.25, 0.4), turn=turn,
                              first="left" if turn > 0 else "right")
    return Program(g.Timeline().hold(end), plan, arm_swing=rng.uniform(0.15, 0.3), length=end + 0.4)


def _side_step(rng: RNG, duration: float | None) -> Program:
    """Stepping sideways to the left or right, leading with the foot on that side."""
    side = "left" if rng.random() < 0.5 else "right"
    plan, _, end = _walk_plan(rng, duration, step_time=(0.6, 0.8), step_length=(0.1, 0.2),
                              direction=np.pi / 2 if side == "left" else -np.pi / 2, first=side)
    return Program(g.Timeline().hold(end), plan, arm_swing=0.05, length=end + 0.4)


def _walk_back(rng: RNG, duration: float | None) -> Program:
    """Walking backwards with short, slow steps."""
    plan, _, end = _walk_plan(rng, duration, step_time=(0.6, 0.8), step_length=(0.12, 0.25), direction=np.pi)
    return Program(g.Timeline().hold(end), plan, arm_swing=rng.uniform(0.05, 0.15), length=end + 0.4)


def _stop_and_go(rng: RNG, duration: float | None) -> Program:
    """Walking a few steps, stopping with the feet together for a moment, and walking on."""
    st, length, t = rng.uniform(0.52, 0.65), rng.uniform(0.3, 0.42), rng.uniform(0.3, 0.6)
    feet, steps = feet_apart(), []
    legs = 2 if duration is None else max(1, int((duration - 0.8) / (4 * st + 1.2)))
    for _ in range(legs):
        more, feet, t = walk_steps(feet, t, int(rng.integers(2, 5)), length, st,
                                   first=str(rng.choice(["left", "right"])))
        steps += more
        t += rng.uniform(0.6, 1.2)
    plan = LowerPlan(steps=tuple(steps), height=((0.0,), (STAND_HEIGHT - 0.02,)))
    return Program(g.Timeline().hold(t), plan, arm_swing=rng.uniform(0.15, 0.3), length=t + 0.2)


def _crouch(rng: RNG, duration: float | None) -> Program:
    """A deep crouch held for a moment (pelvis 0.35 to 0.45 m down), arms forward, then standing up."""
    start = feet_apart(half_width=rng.uniform(0.12, 0.15))
    depth, t0 = rng.uniform(0.35, 0.45), rng.uniform(0.3, 0.6)
    down, hold, up = rng.uniform(1.3, 1.7), rng.uniform(0.8, 1.5), rng.uniform(1.3, 1.7)
    times = (0.0, t0, t0 + down, t0 + down + hold, t0 + down + hold + up)
    arms = ArmPose(direction=(0.2, -0.1, 1.0), bend=(0.0, 1.0, 0.0), elbow=0.3)
    tl = g.Timeline().hold(t0).move(down, dataclasses.replace(REST, left=arms, right=arms, lean=0.15,
                                                                head_pitch=-0.2)).hold(hold).move(up, REST)
    plan = LowerPlan(start=start, height=(times, (STAND_HEIGHT,) * 2 + (STAND_HEIGHT - depth,) * 2 + (STAND_HEIGHT,)),
                     back=(times, (0.0, 0.0, 0.45 * depth, 0.45 * depth, 0.0)),
                     pitch=(times, (0.0, 0.0, 1.4 * depth, 1.4 * depth, 0.0)))
    return Program(tl, plan, length=times[-1] + rng.uniform(0.3, 0.6))


def _jump(rng: RNG, duration: float | None) -> Program:
    """Two-footed jumps (:class:`gait.Jump`): forward (0.15-0.7 m), in place, or turning up to 45 degrees,
    0.28-0.46 s in the air (0.1-0.26 m high), with a 0.12-0.22 m crouch before, the arms swung back in the
    crouch and forward through the takeoff, and a landing absorbed in the knees."""
    half_width = rng.uniform(0.09, 0.13)
    feet, t = feet_apart(half_width=half_width), rng.uniform(0.3, 0.6)
    count = 1 if duration is None else max(1, int((duration - 0.6) / 3.0))
    jumps, tl = [], g.Timeline()
    times, pitch, back = [0.0], [0.0], [0.0]
    swing_back = ArmPose(direction=(0.15, -0.95, -0.3), bend=(0.0, 0.0, 1.0), elbow=0.3)
    swing_up = ArmPose(direction=(0.15, -0.05, 1.0), bend=(0.0, 1.0, 0.0), elbow=0.3)
    forward = ArmPose(direction=(0.15, -0.6, 0.8), bend=(0.0, 1.0, 0.0), elbow=0.4)
    for _ in range(count):
        yaw = feet["left"].yaw
        distance = 0.0 if rng.random() < 0.3 else rng.uniform(0.15, 0.7)
        turn = rng.uniform(-np.pi / 4, np.pi / 4) if rng.random() < 0.25 else 0.0
        x = 0.5 * (feet["left"].x + feet["right"].x) + distance * np.cos(yaw)
        y = 0.5 * (feet["left"].y + feet["right"].y) + distance * np.sin(yaw)
        crouch, flight, prepare = rng.uniform(0.12, 0.22), rng.uniform(0.28, 0.46), rng.uniform(0.4, 0.6)
        start = t + prepare + Jump.push_time(crouch, flight)
        jump = Jump(start, start + flight, feet_apart(x, y, yaw + turn, half_width), crouch=crouch,
                    landing=rng.uniform(0.08, 0.15), prepare=prepare, recover=rng.uniform(0.5, 0.8),
                    tuck=rng.uniform(0.02, 0.08))
        first, bottom, up, _, absorbed, stood = jump.phases
        tl.hold(first - tl.end)
        tl.move(bottom - first, dataclasses.replace(REST, left=swing_back, right=swing_back, lean=0.3))
        tl.move(up + 0.35 - bottom, dataclasses.replace(REST, left=swing_up, right=swing_up, lean=0.05))
        tl.move(absorbed + 0.1 - tl.end, dataclasses.replace(REST, left=forward, right=forward, lean=0.25))
        tl.move(stood - tl.end, REST)
        times += [first, bottom, up, absorbed, stood]
        pitch += [0.0, 1.6 * crouch, 0.05, 1.6 * jump.landing, 0.0]
        back += [0.0, 0.3 * crouch, 0.0, 0.3 * jump.landing, 0.0]
        jumps.append(jump)
        feet, t = jump.target, stood + rng.uniform(0.3, 0.8)
    plan = LowerPlan(start=feet_apart(half_width=half_width), jumps=tuple(jumps),
                     pitch=(tuple(times), tuple(pitch)), back=(tuple(times), tuple(back)))
    return Program(tl, plan, length=t)


def _dance(rng: RNG, duration: float | None) -> Program:
    """Dance-like whole-body motion: side steps to and fro in rhythm with the pelvis bobbing and swaying,
    while the arms run through random gestures."""
    beat = rng.uniform(0.45, 0.6)
    feet, steps, t = feet_apart(), [], rng.uniform(0.3, 0.6)
    n = 6 if duration is None else max(2, int((duration - 1.5) / (2 * beat + 0.1)))
    for i in range(n):
        side = "left" if i % 2 == 0 else "right"
        more, feet, t = walk_steps(feet, t, 1, rng.uniform(0.08, 0.16), beat, first=side,
                                   direction=np.pi / 2 if side == "left" else -np.pi / 2, clearance=0.05)
        steps += more
        t += 0.1
    times = tuple(np.arange(0.0, t + beat, beat / 2))
    heights = tuple(STAND_HEIGHT - 0.02 - rng.uniform(0.0, 0.06) * (np.arange(len(times)) % 2))
    tl = _lead_in(rng)
    while tl.end < t - 1.5:
        g.GESTURES[str(rng.choice(list(g.GESTURES)))](tl, rng, "right" if rng.random() < 0.5 else "left")
    tl.hold(max(0.0, t - tl.end))
    plan = LowerPlan(steps=tuple(steps), height=(times, heights))
    return Program(tl, plan, arm_swing=0.1, length=t + 0.3)


def _wave_step_turn(rng: RNG, duration: float | None) -> Program:
    """A composed action (the demo's): a wave, then a step forward, then a quarter turn in place."""
    tl = _lead_in(rng)
    g.GESTURES["wave"](tl, rng, "right")
    step_time = rng.uniform(0.6, 0.7)
    forward, feet, t = walk_steps(feet_apart(), tl.end + 0.2, 1, rng.uniform(0.25, 0.32), step_time,
                                  first="right", clearance=0.06)
    angle = np.pi / 2 * (1.0 if rng.random() < 0.5 else -1.0)
    turn, _, end = walk_steps(feet, t + 0.4, 3, 0.0, step_time, first="left" if angle > 0 else "right",
                              turn_per_step=angle / 3, clearance=0.05)
    tl.hold(end - tl.end)
    return Program(tl, LowerPlan(steps=(*forward, *turn)), arm_swing=0.05, length=end + 0.5)


def _random(rng: RNG, duration: float | None) -> Program:
    """A random blend: a random lower-body motion with one to three random gestures on random arms."""
    lower = str(rng.choice(["stand", "stand", "walk", "step", "turn", "squat"]))
    if lower == "squat":
        return _squat(rng, duration)
    base = {"stand": _stand, "walk": _walk, "step": _step, "turn": _turn}[lower](rng, duration)
    tl = _lead_in(rng)
    for _ in range(int(rng.integers(1, 4))):
        g.GESTURES[str(rng.choice(list(g.GESTURES)))](tl, rng, "right" if rng.random() < 0.6 else "left")
        tl.hold(rng.uniform(0.1, 0.6))
        if duration is not None and tl.end > duration - 2.0:
            break
    base.upper = tl
    base.length = max(base.length, tl.end + 0.3)
    return base


#: Kinds of motion and what builds them; each builder is ``fn(rng, duration or None) -> Program``.
BUILDERS: dict[str, Callable[[RNG, float | None], Program]] = {
    **{name: _gesture_kind(name) for name in g.GESTURES},
    "composition": _composition, "stand": _stand, "squat": _squat, "step": _step, "turn": _turn,
    "walk": _walk, "walk_with_action": _walk_with_action, "wave_step_turn": _wave_step_turn, "random": _random,
    "walk_speed": _walk_speed, "walk_turn": _walk_turn, "side_step": _side_step, "walk_back": _walk_back,
    "stop_and_go": _stop_and_go, "crouch": _crouch, "dance": _dance, "jump": _jump, "turn_around": _turn_around,
}
#: Passes correcting the pelvis so that the whole body's centre of mass follows the planned path.
COM_PASSES = 2
#: The names :func:`synthesize` accepts.
KINDS: tuple[str, ...] = tuple(BUILDERS)


def _gate(busy: list[tuple[float, float]], t: Array, fps: float) -> Array:
    """1 where an arm is free to swing, fading to 0 around the intervals it is busy."""
    on = np.zeros(len(t))
    for a, b in busy:
        on[(t >= a - 0.3) & (t <= b + 0.3)] = 1.0
    return 1.0 - np.clip(2.0 * gaussian_filter1d(on, 0.15 * fps, mode="nearest"), 0.0, 1.0)


def _assemble(program: Program, lower: LowerBody, t: Array, fps: float) -> tuple[Array, Array, Array, Array]:
    """The whole body from the sampled lower body and the upper-body keyframes: global_orient (T, 3),
    body_pose (T, 23, 3) axis-angle [rad], transl (T, 3) [m] and joints (T, 24, 3) [m]."""
    key_times = [k[0] for k in program.upper.keys]
    key_quats = np.stack([rot.quat_from_matrix(upper_body_rotations(p)) for _, p in program.upper.keys])
    local = rot.matrix_from_quat(sample_rotations(key_times, key_quats, t))
    for side in ("left", "right"):
        for name in ("hip", "knee", "ankle"):
            j = J(f"{side}_{name}")
            local[:, j] = lower.local_rot[:, j]
    if program.arm_swing:
        fwd = np.stack([np.cos(lower.heading), np.sin(lower.heading)], -1)
        for k, side in enumerate(("left", "right")):
            other = lower.ankle_target[:, 1 - k, :2] - lower.pelvis[:, :2]
            phase = np.clip(np.sum(other * fwd, -1) / 0.2, -1.0, 1.0)  # the opposite foot ahead -> arm forward
            angle = program.arm_swing * phase * _gate(program.upper.busy[side], t, fps)
            j = J(f"{side}_shoulder")
            local[:, j] = axis_rotation([1, 0, 0], -angle) @ local[:, j]
    global_orient = rot.axis_angle_from_matrix(lower.pelvis_rot)
    body_pose = rot.axis_angle_from_matrix(local[:, 1:])
    transl = lower.pelvis - smpl.DEFAULT_REST_JOINTS[0]
    joints, _ = smpl.forward_kinematics(global_orient, body_pose, transl)
    return global_orient, body_pose, transl, joints


def synthesize_detailed(kind: str, seed: int = 0, duration: float | None = None, fps: float = 30.0) -> Synthesis:
    """:func:`synthesize`, also returning which feet are planted and the ankle targets."""
    if kind not in BUILDERS:
        raise SynthError(f"unknown motion kind {kind!r}; known kinds: {', '.join(KINDS)}")
    if not np.isfinite(fps) or not 1.0 <= fps <= 1000.0:
        raise SynthError(f"fps must be between 1 and 1000, got {fps}")
    if duration is not None and (not np.isfinite(duration) or not 0.5 <= duration <= 600.0):
        raise SynthError(f"duration must be between 0.5 and 600 s, got {duration}")
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    program = BUILDERS[kind](rng, duration)
    length = duration if duration is not None else max(program.length, 1.0)
    num_frames = round(length * fps) + 1
    # a motion that does not fit is played up to 30 % faster, and cut beyond that
    speed = 1.0 if duration is None else float(np.clip(program.length / duration, 1.0, 1.3))
    t = np.arange(num_frames) / fps * speed
    # the body's centre of mass, not the pelvis, follows the inverted pendulum: correct the pelvis for
    # the offset the legs and arms give it (a fixed point reached in a few passes; 2 leave < 1 mm)
    # (and the pendulum's ZMP is shifted by what the limbs' own motion adds: Kajita et al. 2003's
    # multibody correction, here on the whole clip at once)
    lower = sample_lower_body(program.lower, t)
    global_orient, body_pose, transl, joints = _assemble(program, lower, t, fps)
    shift = np.zeros((len(t), 2))
    for _ in range(COM_PASSES):
        com = body_com(joints)
        if len(t) >= 5:
            shift = np.nan_to_num(lipm_zmp(com[:, :2], t) - multibody_zmp(joints, t))  # 0 in the air
        lower = sample_lower_body(program.lower, t, com_offset=com[:, :2] - lower.pelvis[:, :2], zmp_shift=shift)
        global_orient, body_pose, transl, joints = _assemble(program, lower, t, fps)
    from . import __version__

    meta = make_meta("genmimic-synth", __version__, source=f"synth:{kind}",
                     params={"kind": kind, "seed": int(seed), "duration": duration, "fps": float(fps)})
    clip = SmplClip(fps=fps, meta=meta, global_orient=global_orient, body_pose=body_pose, transl=transl,
                    betas=np.zeros(smpl.NUM_BETAS), joints=joints, confidence=np.ones((num_frames, smpl.NUM_JOINTS)))
    return Synthesis(clip, lower.planted, lower.ankle_target)


def synthesize(kind: str, seed: int = 0, duration: float | None = None, fps: float = 30.0) -> SmplClip:
    """A procedural human motion as an SMPL clip (genmimic.core's default skeleton, z up, feet on z = 0).

    Args:
        kind: one of :data:`KINDS`.
        seed: random seed; the same arguments always give the same clip.
        duration: length [s] (0.5 to 600); ``None`` for the motion's natural length. Gestures repeat and
            walks take more steps to fill a longer duration; a motion longer than ``duration`` plays up to
            30 % faster and is cut beyond that.
        fps: frames per second (1 to 1000).

    Raises:
        SynthError: unknown ``kind``, or ``duration``/``fps`` out of range.
    """
    return synthesize_detailed(kind, seed, duration, fps).clip
