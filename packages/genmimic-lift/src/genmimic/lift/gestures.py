"""Upper-body gestures as keyframed postures: wave, thumbs up, point, arms cross and uncross, reach.

Each gesture appends keyframes to a :class:`Timeline`; consecutive keyframes are joined by minimum-jerk
movements (:mod:`.timing`), so every movement has a bell-shaped velocity. Gestures take a random
generator for natural variation (timing within about +-20 %, small changes of posture) and the arm
``side`` ("left" or "right") they use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .posture import REST, ArmPose, UpperPose

RNG = np.random.Generator


class Timeline:
    """Keyframes ``(time [s], UpperPose)``, starting at ``start`` with ``pose``; ``busy`` marks per arm the
    intervals it is used by a gesture (walking arm swing is turned off there)."""

    def __init__(self, start: float = 0.0, pose: UpperPose = REST) -> None:
        self.keys: list[tuple[float, UpperPose]] = [(start, pose)]
        self.busy: dict[str, list[tuple[float, float]]] = {"left": [], "right": []}

    @property
    def end(self) -> float:
        return self.keys[-1][0]

    @property
    def pose(self) -> UpperPose:
        return self.keys[-1][1]

    def move(self, duration: float, pose: UpperPose) -> Timeline:
        """Move to ``pose`` over ``duration`` [s] (minimum jerk)."""
        self.keys.append((self.end + max(duration, 0.05), pose))
        return self

    def hold(self, duration: float) -> Timeline:
        """Stay still for ``duration`` [s]."""
        return self.move(duration, self.pose)

    def mark_busy(self, side: str, start: float) -> None:
        self.busy[side].append((start, self.end))


def _jitter(rng: RNG, value: float, rel: float = 0.2) -> float:
    return float(value * rng.uniform(1.0 - rel, 1.0 + rel))


def _vary(rng: RNG, arm: ArmPose, scale: float = 0.08) -> ArmPose:
    """Small random change of an arm posture (directions by about ``scale``, elbow by ``2 scale`` rad)."""
    d = np.asarray(arm.direction) + rng.normal(0.0, scale, 3)
    return dataclasses.replace(arm, direction=tuple(float(x) for x in d),
                               elbow=float(np.clip(arm.elbow + rng.normal(0.0, 2 * scale), 0.05, 2.3)))


REST_ARM = ArmPose()
WAVE_ARM = ArmPose(direction=(0.85, 0.25, 0.35), bend=(0.0, 1.0, 0.1), elbow=1.35, twist=-0.3)
THUMBS_UP_ARM = ArmPose(direction=(0.15, -0.8, 0.55), bend=(-0.1, 0.6, 0.8), elbow=1.45, twist=-0.9)
POINT_ARM = ArmPose(direction=(0.3, 0.12, 1.0), bend=(-0.3, 0.2, 0.0), elbow=0.08, twist=0.3)
CROSS_ARM = ArmPose(direction=(0.25, -0.8, 0.45), bend=(-1.0, 0.35, 0.3), elbow=2.0, twist=0.2)
REACH_FORWARD_ARM = ArmPose(direction=(0.1, -0.15, 1.0), bend=(0.0, 1.0, 0.0), elbow=0.1, twist=0.3)
REACH_UP_ARM = ArmPose(direction=(0.2, 1.0, 0.3), bend=(0.0, 0.0, 1.0), elbow=0.1, twist=0.0)


def wave(tl: Timeline, rng: RNG, side: str = "right", cycles: int | None = None) -> None:
    """Raise the hand beside the head, wave it side to side ``cycles`` times, lower it."""
    start = tl.end
    raised = _vary(rng, WAVE_ARM, 0.05)
    tl.move(_jitter(rng, 0.9), tl.pose.with_arm(side, raised))
    n = int(cycles if cycles is not None else rng.integers(2, 5))
    half = _jitter(rng, 0.28, 0.15)
    amp = rng.uniform(0.3, 0.45)
    for _ in range(n):
        tl.move(half, tl.pose.with_arm(side, dataclasses.replace(raised, elbow=raised.elbow - amp)))
        tl.move(half, tl.pose.with_arm(side, dataclasses.replace(raised, elbow=raised.elbow + amp)))
    tl.move(half, tl.pose.with_arm(side, raised))
    tl.move(_jitter(rng, 0.9), tl.pose.with_arm(side, REST_ARM))
    tl.mark_busy(side, start)


def thumbs_up(tl: Timeline, rng: RNG, side: str = "right") -> None:
    """Bring the fist up in front of the chest, thumb up, hold it, lower it."""
    start = tl.end
    tl.move(_jitter(rng, 0.8), tl.pose.with_arm(side, _vary(rng, THUMBS_UP_ARM, 0.05)))
    tl.hold(_jitter(rng, 1.0, 0.3))
    tl.move(_jitter(rng, 0.8), tl.pose.with_arm(side, REST_ARM))
    tl.mark_busy(side, start)


def point(tl: Timeline, rng: RNG, side: str = "right") -> None:
    """Point with a straight arm toward a direction in front (random azimuth), looking that way."""
    start = tl.end
    azimuth = rng.uniform(-0.2, 0.6)  # outward > 0 [rad]
    elevation = rng.uniform(-0.15, 0.35)
    d = (np.sin(azimuth) * np.cos(elevation), np.sin(elevation), np.cos(azimuth) * np.cos(elevation))
    arm = dataclasses.replace(POINT_ARM, direction=tuple(float(x) for x in d))
    yaw = (azimuth if side == "left" else -azimuth) * 0.6
    pose = dataclasses.replace(tl.pose.with_arm(side, arm), head_yaw=yaw, head_pitch=-0.3 * elevation)
    tl.move(_jitter(rng, 0.75), pose)
    tl.hold(_jitter(rng, 1.1, 0.3))
    tl.move(_jitter(rng, 0.8), dataclasses.replace(tl.pose.with_arm(side, REST_ARM), head_yaw=0.0, head_pitch=0.0))
    tl.mark_busy(side, start)


def arms_cross(tl: Timeline, rng: RNG, side: str = "right", uncross: bool = True) -> None:
    """Cross both forearms in front of the chest (``side``'s arm on top), hold, and uncross."""
    start = tl.end
    other = "left" if side == "right" else "right"
    top = dataclasses.replace(_vary(rng, CROSS_ARM, 0.03), direction=(0.25, -0.75, 0.55))
    under = _vary(rng, CROSS_ARM, 0.03)
    pose = dataclasses.replace(tl.pose.with_arm(side, top).with_arm(other, under), head_pitch=0.05)
    tl.move(_jitter(rng, 1.0), pose)
    tl.hold(_jitter(rng, 1.4, 0.3))
    if uncross:
        tl.move(_jitter(rng, 1.0), dataclasses.replace(tl.pose.with_arm(side, REST_ARM).with_arm(other, REST_ARM),
                                                       head_pitch=0.0))
    tl.mark_busy(side, start)
    tl.mark_busy(other, start)


def reach(tl: Timeline, rng: RNG, side: str = "right") -> None:
    """Reach forward (leaning in) or up with one arm, hold briefly, come back."""
    start = tl.end
    if rng.random() < 0.5:
        arm, lean, pitch = _vary(rng, REACH_FORWARD_ARM, 0.05), rng.uniform(0.25, 0.45), 0.25
    else:
        arm, lean, pitch = _vary(rng, REACH_UP_ARM, 0.05), rng.uniform(-0.05, 0.05), -0.3
    twist = 0.25 if side == "right" else -0.25  # the reaching shoulder comes forward
    tl.move(_jitter(rng, 1.0), dataclasses.replace(tl.pose.with_arm(side, arm), lean=lean, twist=twist,
                                                   head_pitch=pitch))
    tl.hold(_jitter(rng, 0.5, 0.3))
    tl.move(_jitter(rng, 1.0), dataclasses.replace(tl.pose.with_arm(side, REST_ARM), lean=0.0, twist=0.0,
                                                   head_pitch=0.0))
    tl.mark_busy(side, start)


#: The gestures by name; each is ``fn(timeline, rng, side)``.
GESTURES: dict[str, Callable[..., None]] = {
    "wave": wave, "thumbs_up": thumbs_up, "point": point, "arms_cross": arms_cross, "reach": reach,
}
