"""Joint ranges a person has, for checking SMPL poses (synthesised, imported or lifted).

Each SMPL joint gets a largest rotation from the T-pose [rad] (after common range-of-motion tables,
rounded generously, measured from SMPL's T-pose where the arms are horizontal), and the two hinges
are checked for bending the wrong way (knee and elbow hyperextension beyond ~10 degrees).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from genmimic.core import smpl

#: Largest rotation of each joint relative to its parent [rad], SMPL joint order (pelvis unused).
MAX_ANGLE: dict[str, float] = {
    "pelvis": np.pi, "left_hip": 2.2, "right_hip": 2.2, "spine1": 0.7, "left_knee": 2.6, "right_knee": 2.6,
    "spine2": 0.6, "left_ankle": 0.9, "right_ankle": 0.9, "spine3": 0.6, "left_foot": 0.8, "right_foot": 0.8,
    "neck": 0.8, "left_collar": 0.6, "right_collar": 0.6, "head": 0.8, "left_shoulder": 2.9,
    "right_shoulder": 2.9, "left_elbow": 2.6, "right_elbow": 2.6, "left_wrist": 1.6, "right_wrist": 1.6,
    "left_hand": 1.0, "right_hand": 1.0,
}
#: Hinges: joint name -> (flexion axis in the canonical frame, sign).
HINGES: dict[str, np.ndarray] = {
    "left_knee": np.array([1.0, 0.0, 0.0]), "right_knee": np.array([1.0, 0.0, 0.0]),
    "left_elbow": np.array([0.0, -1.0, 0.0]), "right_elbow": np.array([0.0, 1.0, 0.0]),
}
HYPEREXTENSION = 0.18  # [rad] tolerated bend the wrong way


def range_violations(body_pose: ArrayLike, limit: int = 5) -> list[str]:
    """Up to ``limit`` messages (joint, frame, angle) for rotations beyond :data:`MAX_ANGLE` or hinges bent
    backward; ``body_pose`` is (T, 23, 3) axis-angle [rad]. Empty when the poses are in range."""
    bp = np.asarray(body_pose, float)
    angle = np.linalg.norm(bp, axis=-1)
    out: list[str] = []
    for j, name in enumerate(smpl.JOINT_NAMES[1:], start=0):
        bad = np.flatnonzero(angle[:, j] > MAX_ANGLE[name])
        if bad.size:
            t = int(bad[np.argmax(angle[bad, j])])
            out.append(f"{name}: rotation {angle[t, j]:.2f} rad > {MAX_ANGLE[name]} at frame {t}")
        if name in HINGES:
            flex = bp[:, j] @ HINGES[name]
            back = np.flatnonzero(flex < -HYPEREXTENSION)
            if back.size:
                t = int(back[np.argmin(flex[back])])
                out.append(f"{name}: bent backward by {-flex[t]:.2f} rad at frame {t}")
    return out[:limit]
