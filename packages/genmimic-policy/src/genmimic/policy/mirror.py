"""Left/right mirror maps of the G1 as explicit tables: ``mirrored = x[..., index] * sign``.

Mirroring is reflection in the robot's sagittal (x-z) plane: left and right swap; a position or
linear velocity flips y; an angular velocity flips x and z; a joint angle moves to its mirror joint,
with the sign flipped for roll and yaw joints (axes x and z) and kept for pitch joints (axis y).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip

from .observation import Block


class MirrorMap(NamedTuple):
    """``index`` (D,) int and ``sign`` (D,) float: ``mirror(x) = x[..., index] * sign``."""

    index: np.ndarray
    sign: np.ndarray

    def __call__(self, x):
        return x[..., self.index] * self.sign

    def to_jax(self) -> MirrorMap:
        """The same map as JAX arrays (``sign`` float32), for jitted losses."""
        import jax.numpy as jnp

        return MirrorMap(jnp.asarray(self.index), jnp.asarray(self.sign, jnp.float32))


def joint_mirror() -> MirrorMap:
    """The 29 joints (SDK order): mirror joint, sign -1 for joints about x or z (roll, yaw)."""
    return MirrorMap(np.array(g1.MIRROR_DOF_INDEX), np.array(g1.MIRROR_DOF_SIGN))


def keypoint_mirror() -> MirrorMap:
    """19 keypoints x (x, y, z) flattened: mirror keypoint, y negated."""
    idx = [3 * k + c for k in g1.MIRROR_KEYPOINT_INDEX for c in range(3)]
    return MirrorMap(np.array(idx), np.tile([1.0, -1.0, 1.0], len(g1.KEYPOINT_NAMES)))


def _block_map(block: Block) -> MirrorMap:
    if block.kind == "joint":
        return joint_mirror()
    if block.kind == "keypoints":
        return keypoint_mirror()
    if block.kind == "polar":
        return MirrorMap(np.arange(3), np.array([1.0, -1.0, 1.0]))
    if block.kind == "axial":
        return MirrorMap(np.arange(3), np.array([-1.0, 1.0, -1.0]))
    if block.kind == "pair":
        return MirrorMap(np.array([1, 0]), np.ones(2))
    if block.kind == "scalar":
        return MirrorMap(np.arange(block.size), np.ones(block.size))
    raise ValueError(f"unknown block kind {block.kind!r}")


def observation_mirror(layout: Sequence[Block]) -> MirrorMap:
    """The mirror table of an observation with ``layout`` (blocks from :mod:`observation`)."""
    index, sign, offset = [], [], 0
    for block in layout:
        m = _block_map(block)
        if len(m.index) != block.size:
            raise ValueError(f"block {block.name} has size {block.size}, its mirror map {len(m.index)}")
        index.append(m.index + offset)
        sign.append(m.sign)
        offset += block.size
    return MirrorMap(np.concatenate(index), np.concatenate(sign))


def action_mirror() -> MirrorMap:
    """Actions are joint offsets from the default pose, which is itself mirror-symmetric."""
    return joint_mirror()


def mirror_clip(clip: G1Clip) -> G1Clip:
    """``clip`` reflected in the world's x-z plane: the same motion done with the other side (a hop-turn to
    the left becomes one to the right), for the training corpus (mocap is scarce; a mirrored copy is the
    usual augmentation of motion-imitation corpora, e.g. DeepMimic's and BeyondMimic's symmetry).

    Root position (x, -y, z); root orientation wxyz (w, -x, y, -z); joints by :func:`joint_mirror`; foot
    contacts swapped; keypoints recomputed by forward kinematics (they equal :func:`keypoint_mirror` of the
    clip's own, which the tests check). Meta keeps the source and records ``mirrored: true``."""
    from genmimic.core.g1_kinematics import g1_clip_from_joints

    root_pos = clip.root_pos * np.array([1.0, -1.0, 1.0])
    root_quat = clip.root_quat * np.array([1.0, -1.0, 1.0, -1.0])
    return g1_clip_from_joints(root_pos, root_quat, joint_mirror()(clip.dof_pos), clip.fps,
                               meta={**clip.meta, "mirrored": True}, contacts=clip.contacts[:, ::-1])
