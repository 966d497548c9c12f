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

from .observation import Block


class MirrorMap(NamedTuple):
    """``index`` (D,) int and ``sign`` (D,) float: ``mirror(x) = x[..., index] * sign``."""

    index: np.ndarray
    sign: np.ndarray

    def __call__(self, x):
        return x[..., self.index] * self.sign


def _swap_side(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name.removeprefix("left_")
    if name.startswith("right_"):
        return "left_" + name.removeprefix("right_")
    return name


def joint_mirror() -> MirrorMap:
    """The 29 joints (SDK order): mirror joint, sign -1 for joints about x or z (roll, yaw)."""
    index = np.array([g1.JOINT_NAMES.index(_swap_side(n)) for n in g1.JOINT_NAMES])
    sign = np.array([1.0 if j.axis == (0, 1, 0) else -1.0 for j in g1.JOINTS])
    return MirrorMap(index, sign)


def keypoint_mirror() -> MirrorMap:
    """19 keypoints x (x, y, z) flattened: mirror keypoint, y negated."""
    names = g1.KEYPOINT_NAMES
    idx = [3 * names.index(_swap_side(n)) + c for n in names for c in range(3)]
    return MirrorMap(np.array(idx), np.tile([1.0, -1.0, 1.0], len(names)))


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
