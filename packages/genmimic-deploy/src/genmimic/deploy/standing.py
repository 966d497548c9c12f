"""The standing reference the policy keeps balancing on after a clip (the safe end of a run).

The clip's last frame is blended into the default standing pose (``g1_constants.DEFAULT_DOF_POS``,
pelvis upright at its standing height, same place and heading) and appended to the clip, so the
policy's future keypoints already look into the blend before the clip ends and nothing jumps.
"""

from __future__ import annotations

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip
from genmimic.core.g1_kinematics import g1_clip_from_joints
from genmimic.core.g1_model import standing_pelvis_height
from genmimic.core.rotations import quat_normalize, yaw_from_quat


def standing_tail(clip: G1Clip, blend_s: float = 2.0) -> G1Clip:
    """Frames after ``clip`` (same fps) that blend its last frame into the default standing pose over
    ``blend_s`` [s] (cosine profile), ending on one frame of pure standing pose.

    Root: x, y [m] and heading kept from the last frame; roll and pitch go to 0; height to the standing
    pelvis height of the default pose. Keypoints are the G1's forward kinematics of the blended frames.
    """
    n = max(2, round(blend_s * clip.fps))
    a = np.arange(1, n + 1) / n
    w = (0.5 * (1.0 - np.cos(np.pi * a)))[:, None]
    last_q, last_pos, last_quat = clip.dof_pos[-1], clip.root_pos[-1], clip.root_quat[-1]
    dof = (1 - w) * last_q + w * np.asarray(g1.DEFAULT_DOF_POS)
    yaw = float(yaw_from_quat(last_quat))
    upright = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
    sign = 1.0 if float(np.dot(upright, last_quat)) >= 0 else -1.0
    quat = quat_normalize((1 - w) * last_quat + w * sign * upright)
    pos = np.repeat(last_pos[None], n, 0)
    pos[:, 2] = (1 - w[:, 0]) * last_pos[2] + w[:, 0] * standing_pelvis_height(g1.DEFAULT_DOF_POS)
    return g1_clip_from_joints(pos, quat, dof, clip.fps, meta=dict(clip.meta))


def with_standing_end(clip: G1Clip, blend_s: float = 2.0) -> G1Clip:
    """``clip`` followed by :func:`standing_tail` (T + blend_s * fps frames)."""
    tail = standing_tail(clip, blend_s)
    return clip.replace(**{k: np.concatenate([getattr(clip, k), getattr(tail, k)], 0)
                           for k in ("root_pos", "root_quat", "dof_pos", "keypoints", "contacts")})
