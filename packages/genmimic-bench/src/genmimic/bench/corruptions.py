"""Artefacts of generated video, applied to clean SMPL motion at stated severities (seeded).

Each corruption acts on the clip's world joint positions (what the retargeter follows; root translation
too where the artefact moves the whole body) and leaves joint rotations alone. Severity 1-3 picks a
parameter from :data:`SEVERITY`; the values are the corruption's physical size, in its docstring's units.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.ndimage import gaussian_filter1d

from genmimic.core import smpl
from genmimic.core.clips import SmplClip

J = smpl.JOINT_NAMES.index
#: Limbs that can snap, drift or vanish: (joint, its children...) per limb.
LIMBS = {
    "left_arm": ("left_elbow", "left_wrist", "left_hand"), "right_arm": ("right_elbow", "right_wrist", "right_hand"),
    "left_leg": ("left_knee", "left_ankle", "left_foot"), "right_leg": ("right_knee", "right_ankle", "right_foot"),
}
#: The parent joint each limb hangs from.
LIMB_ROOT = {"left_arm": "left_shoulder", "right_arm": "right_shoulder", "left_leg": "left_hip",
             "right_leg": "right_hip"}


class Corruption(NamedTuple):
    name: str
    doc: str
    unit: str
    apply: Callable[[SmplClip, float, np.random.Generator], SmplClip]


def jitter(clip: SmplClip, sigma: float, rng: np.random.Generator) -> SmplClip:
    """Independent Gaussian noise of std ``sigma`` [m] on every joint and frame (temporal jitter)."""
    return clip.replace(joints=clip.joints + rng.normal(scale=sigma, size=clip.joints.shape))


def _limb_joints(limb: str) -> list[int]:
    return [J(n) for n in LIMBS[limb]]


def flicker(clip: SmplClip, rate: float, rng: np.random.Generator) -> SmplClip:
    """On a fraction ``rate`` of frames one limb snaps to a random wrong pose for that frame [fraction]."""
    joints = clip.joints.copy()
    frames = np.flatnonzero(rng.random(clip.num_frames) < rate)
    for t in frames:
        limb = rng.choice(list(LIMBS))
        root = joints[t, J(LIMB_ROOT[limb])]
        angle = rng.uniform(0.6, 1.5) * rng.choice([-1, 1])
        axis = rng.normal(size=3)
        axis /= np.linalg.norm(axis)
        k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        rot = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
        for j in _limb_joints(limb):
            joints[t, j] = root + rot @ (joints[t, j] - root)
    return clip.replace(joints=joints)


def limb_drift(clip: SmplClip, amount: float, rng: np.random.Generator) -> SmplClip:
    """Limb lengths drift smoothly over the clip by up to ``amount`` (fraction of the length, +-)."""
    joints = clip.joints.copy()
    T = clip.num_frames
    for limb in LIMBS:
        factor = 1.0 + amount * np.sin(2 * np.pi * rng.uniform(0.1, 0.3) * np.arange(T) / clip.fps
                                       + rng.uniform(0, 2 * np.pi))
        root = joints[:, J(LIMB_ROOT[limb])]
        for j in _limb_joints(limb):
            joints[:, j] = root + (clip.joints[:, j] - root) * factor[:, None]
    return clip.replace(joints=joints)


def missing_frames(clip: SmplClip, rate: float, rng: np.random.Generator) -> SmplClip:
    """A fraction ``rate`` of frames (in runs of 1-4) lost and filled by holding the last good frame,
    with confidence 0 there, as a lifter does when the person is not found."""
    joints, conf = clip.joints.copy(), clip.confidence.copy()
    T = clip.num_frames
    t = 1
    while t < T:
        if rng.random() < rate / 2.5:
            n = int(rng.integers(1, 5))
            joints[t : t + n] = joints[t - 1]
            conf[t : t + n] = 0.0
            t += n
        t += 1
    return clip.replace(joints=joints, confidence=conf)


def foot_skate(clip: SmplClip, speed: float, rng: np.random.Generator) -> SmplClip:
    """The whole body glides sideways-forward at up to ``speed`` [m/s] while the feet should stand still."""
    direction = rng.normal(size=2)
    direction /= np.linalg.norm(direction)
    t = np.arange(clip.num_frames) / clip.fps
    offset = np.zeros((clip.num_frames, 3))
    offset[:, :2] = (speed * np.sin(np.pi * t / max(t[-1], 1e-9)) * t)[:, None] * direction
    return clip.replace(joints=clip.joints + offset[:, None], transl=clip.transl + offset)


def floating(clip: SmplClip, height: float, rng: np.random.Generator) -> SmplClip:
    """The body floats up to ``height`` [m] above the ground, slowly bobbing."""
    t = np.arange(clip.num_frames) / clip.fps
    lift = height * (0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t))
    offset = np.zeros((clip.num_frames, 3))
    offset[:, 2] = lift
    return clip.replace(joints=clip.joints + offset[:, None], transl=clip.transl + offset)


def global_drift(clip: SmplClip, speed: float, rng: np.random.Generator) -> SmplClip:
    """A camera-motion artefact: the whole trajectory drifts at ``speed`` [m/s] in a random direction."""
    direction = rng.normal(size=2)
    direction /= np.linalg.norm(direction)
    t = np.arange(clip.num_frames) / clip.fps
    offset = np.zeros((clip.num_frames, 3))
    offset[:, :2] = (speed * t)[:, None] * direction
    offset = gaussian_filter1d(offset, 1.0, axis=0)
    return clip.replace(joints=clip.joints + offset[:, None], transl=clip.transl + offset)


def wrong_scale(clip: SmplClip, amount: float, rng: np.random.Generator) -> SmplClip:
    """The person is ``1 + amount`` (or ``1 - amount``) times too big, scaled about the ground point."""
    factor = 1.0 + amount * rng.choice([-1.0, 1.0])
    ground = np.array([clip.joints[0, 0, 0], clip.joints[0, 0, 1], 0.0])
    return clip.replace(joints=ground + (clip.joints - ground) * factor,
                        transl=ground + (clip.transl - ground) * factor)


CORRUPTIONS: dict[str, Corruption] = {c.name: c for c in (
    Corruption("jitter", "Gaussian noise on every joint", "m (std)", jitter),
    Corruption("flicker", "a limb snaps for one frame", "fraction of frames", flicker),
    Corruption("limb_drift", "limb lengths change within the clip", "fraction of length", limb_drift),
    Corruption("missing_frames", "frames lost and held", "fraction of frames", missing_frames),
    Corruption("foot_skate", "body glides while feet should stand", "m/s", foot_skate),
    Corruption("floating", "body floats above the ground", "m", floating),
    Corruption("global_drift", "trajectory drifts (camera motion)", "m/s", global_drift),
    Corruption("wrong_scale", "person too big or too small", "fraction", wrong_scale),
)}

#: Parameter of each corruption at severity 1, 2, 3.
SEVERITY: dict[str, tuple[float, float, float]] = {
    "jitter": (0.01, 0.025, 0.05), "flicker": (0.03, 0.08, 0.15), "limb_drift": (0.05, 0.12, 0.25),
    "missing_frames": (0.05, 0.15, 0.3), "foot_skate": (0.1, 0.25, 0.5), "floating": (0.03, 0.08, 0.15),
    "global_drift": (0.05, 0.15, 0.3), "wrong_scale": (0.1, 0.2, 0.35),
}


def corrupt(clip: SmplClip, name: str, severity: int, seed: int) -> SmplClip:
    """``clip`` with corruption ``name`` at ``severity`` (1-3), deterministic in ``seed``."""
    if name not in CORRUPTIONS:
        raise KeyError(f"unknown corruption {name!r}; known: {', '.join(CORRUPTIONS)}")
    if severity not in (1, 2, 3):
        raise ValueError(f"severity must be 1, 2 or 3, got {severity}")
    value = SEVERITY[name][severity - 1]
    out = CORRUPTIONS[name].apply(clip, value, np.random.default_rng(seed))
    meta = dict(clip.meta)
    meta["corruption"] = {"name": name, "severity": severity, "value": value, "unit": CORRUPTIONS[name].unit,
                          "seed": seed}
    return out.replace(meta=meta)
