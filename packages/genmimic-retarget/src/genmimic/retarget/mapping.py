"""Which SMPL joint each G1 keypoint follows, how the human skeleton is scaled to the G1, and task costs.

Data only. Keypoint names are genmimic.core's ``KEYPOINT_NAMES``; SMPL names are ``genmimic.core.smpl``'s.
"""

from __future__ import annotations

from typing import NamedTuple


class Link(NamedTuple):
    """One G1 keypoint and how its target is made from the human.

    keypoint: the G1 keypoint. smpl_joint: the human joint it stands for.
    parent: the keypoint it hangs from in the scaled skeleton (None for the pelvis).
    rigid: True when the G1 cannot move it relative to ``parent``'s body frame (hips on the pelvis,
        shoulders and head on the torso): the target is the G1's own offset, turned by the human's
        frame; False: the human's bone direction with the G1's bone length.
    position_cost: Pink frame-task position cost [cost/m]; 0 with no orientation cost means no IK task
        (rigid keypoints follow from their parent's pose, so a task would only cost time).
    orientation_cost: Pink frame-task orientation cost [cost/rad]; 0 leaves orientation free.
    """

    keypoint: str
    smpl_joint: str
    parent: str | None
    rigid: bool
    position_cost: float
    orientation_cost: float = 0.0


def _sides(keypoint: str, smpl_joint: str, parent: str, rigid: bool, pos: float, ori: float = 0.0) -> tuple[Link, ...]:
    return tuple(
        Link(f"{s}_{keypoint}", f"{s}_{smpl_joint}", parent if parent in ("pelvis", "torso") else f"{s}_{parent}",
             rigid, pos, ori)
        for s in ("left", "right")
    )


#: The scaled skeleton, parents before children. End effectors (hands, feet, head) cost the most,
#: as in GenMimic's weighting; orientation is tracked where it is meaningful (pelvis, torso, feet).
LINKS: tuple[Link, ...] = (
    Link("pelvis", "pelvis", None, False, 1.0, 0.5),
    Link("torso", "spine3", "pelvis", False, 0.5, 0.5),
    Link("head", "head", "torso", True, 0.0),
    *_sides("hip", "hip", "pelvis", True, 0.0),
    *_sides("knee", "knee", "hip", False, 1.0),
    *_sides("ankle", "ankle", "knee", False, 2.0, 0.3),
    *_sides("toe", "foot", "ankle", False, 1.0),
    *_sides("shoulder", "shoulder", "torso", True, 0.0),
    *_sides("elbow", "elbow", "shoulder", False, 1.0),
    *_sides("wrist", "wrist", "elbow", False, 1.5),
    *_sides("hand", "hand", "wrist", False, 1.0),
)

#: Keypoints whose frame orientation follows the human joint's (pelvis, torso, ankles = feet).
ORIENTED = tuple(link.keypoint for link in LINKS if link.orientation_cost > 0)
