"""SMPL rotations from a source skeleton's own rotations, in closed form (no optimisation).

For each SMPL joint ``j`` mapped to a source joint ``k`` (:class:`~.skeleton_map.SkeletonMap`) that has a
mapped joint further down its main chain (hip -> knee -> ankle -> ball, pelvis -> spine -> neck -> head,
collar -> shoulder -> elbow -> wrist -> hand), a rest-pose alignment is computed once per skeleton:

    A_j = F_source_rest @ F_smpl_rest^T

where each F (3, 3) is the frame of the bone (to that chain joint) and a second direction (the body's
left for the pelvis, the chest and the feet, its forward for every other bone), SMPL's in its canonical
frame and the source's in the world. Per frame, SMPL's joint-to-world rotation is the source joint's
world rotation times that alignment, ``G_j = S_k @ A_j`` (so the twist follows the source), then swung
by the smallest rotation that points the bone from where SMPL's joint is at the source's chain joint
(so joints between ``k`` and its chain joint in the source, such as twist or zero-length joints, do not
matter); the pelvis keeps ``S_k @ A_j`` and the source pelvis's place. Joints the source lacks take their
parent's rotation swung the same way; joints with no chain joint (head, hands, balls of the feet) keep
their parent's rotation; every rotation is kept within a person's range (:data:`.limits.MAX_ANGLE`). The
local rotations are ``G_parent^T @ G_j``.

SMPL's skeleton is given the source's proportions first (:func:`source_rest_joints`: the torso as the
source's rest pose has it, each limb bone SMPL's rest direction at the source's length), so the mapped
joints land on the source's own joints, not only along its bones (a body of SMPL's default proportions put
along CMU 01_01's bones was 4-14 cm off its joints; on its own proportions 0.002 cm mean, see the
package README). The BVH importer (:func:`.bvh.import_bvh`) records that skeleton in ``meta["rest_joints"]``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from genmimic.core import rotations as rot
from genmimic.core import smpl

from .limits import MAX_ANGLE

Array = NDArray[np.float64]
_J = smpl.JOINT_NAMES.index
#: The next joint down each SMPL joint's main chain (the bone the rotation aims).
MAIN_CHILD: dict[str, str] = {
    "pelvis": "spine1", "spine1": "spine2", "spine2": "spine3", "spine3": "neck", "neck": "head",
    **{f"{s}_{a}": f"{s}_{b}" for s in ("left", "right") for a, b in (
        ("hip", "knee"), ("knee", "ankle"), ("ankle", "foot"), ("collar", "shoulder"), ("shoulder", "elbow"),
        ("elbow", "wrist"), ("wrist", "hand"))},
}
#: Joints whose second frame direction is the body's left (pelvis and chest: between their side children;
#: the feet: their bone points forward).
_LATERAL = {"pelvis": ("left_hip", "right_hip"), "spine3": ("left_shoulder", "right_shoulder")}
_CANONICAL_FORWARD, _CANONICAL_LEFT = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
_WORLD_FORWARD, _WORLD_LEFT = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])


def _frame(primary: Array, secondary: Array) -> Array:
    """Orthonormal frames (..., 3, 3) with columns: primary, secondary across it, their cross product."""
    b = primary / np.linalg.norm(primary, axis=-1, keepdims=True)
    f = secondary - np.sum(secondary * b, axis=-1, keepdims=True) * b
    f = f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), 1e-12)
    return np.stack([b, f, np.cross(b, f)], axis=-1)


def swing(current: Array, target: Array) -> Array:
    """The smallest rotations (..., 3, 3) turning directions ``current`` (..., 3) into ``target`` (..., 3)."""
    a = current / np.linalg.norm(current, axis=-1, keepdims=True)
    b = target / np.maximum(np.linalg.norm(target, axis=-1, keepdims=True), 1e-12)
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(s, np.sum(a * b, axis=-1, keepdims=True))
    return rot.matrix_from_axis_angle(axis / np.maximum(s, 1e-12) * angle)


def _within_range(parent: Array, world: Array, max_angle: float, bone: Array | None = None) -> Array:
    """Joint-to-world rotations (T, 3, 3) whose rotation from ``parent`` is at most ``max_angle`` [rad]
    (:data:`.limits.MAX_ANGLE`: a person's range).

    With ``bone`` (3,) (the joint's aimed bone in its own frame, canonical), a rotation past the range gives
    up its twist about the bone first, so the bone still points where it was aimed (the joints down it stay
    in place): a rotation = swing (angle s, axis across the bone) times twist (angle t, about the bone) has
    cos(angle / 2) = cos(s / 2) cos(t / 2) (the quaternion product's scalar part; the axes are orthogonal),
    so the largest twist that fits is 2 arccos(cos(max / 2) / cos(s / 2)). Only a swing past the range
    itself is shortened, as is any rotation without ``bone``. The twist given up is the child's to take (see
    :func:`smpl_pose_from_source`: the head turns on the neck as the atlas turns on the axis).
    """
    local = rot.axis_angle_from_matrix(np.swapaxes(parent, -1, -2) @ world)
    angle = np.linalg.norm(local, axis=-1, keepdims=True)
    if np.all(angle <= max_angle):
        return world
    limit = max_angle * (1.0 - 1e-6)  # strictly inside, after the round trip through matrices
    if bone is None:
        return parent @ rot.matrix_from_axis_angle(local * np.minimum(1.0, limit / np.maximum(angle, 1e-12)))
    over = angle[:, 0] > limit
    L = rot.matrix_from_axis_angle(local[over])
    b = bone / np.linalg.norm(bone)
    S = swing(np.broadcast_to(b, (len(L), 3)), L @ b)  # L = S @ Tw, Tw about b
    s_aa = rot.axis_angle_from_matrix(S)
    s = np.linalg.norm(s_aa, axis=-1)
    t = rot.axis_angle_from_matrix(np.swapaxes(S, -1, -2) @ L) @ b  # signed twist [rad]
    fits = np.arccos(np.clip(np.cos(limit / 2) / np.maximum(np.cos(np.minimum(s, limit) / 2), 1e-12), -1.0, 1.0))
    t_kept = np.sign(t) * np.minimum(np.abs(t), 2 * fits)
    s_kept = s_aa * np.minimum(1.0, limit / np.maximum(s, 1e-12))[:, None]
    out = np.array(world, copy=True)
    out[over] = parent[over] @ rot.matrix_from_axis_angle(s_kept) @ rot.matrix_from_axis_angle(t_kept[:, None] * b)
    return out


def _chain_target(usable: Array, j: int) -> int | None:
    """The first usable SMPL joint (``usable`` (24,) bool) down ``j``'s main chain (None if none)."""
    name = smpl.JOINT_NAMES[j]
    while name in MAIN_CHILD:
        name = MAIN_CHILD[name]
        if usable[_J(name)]:
            return _J(name)
    return None


#: SMPL joints carried rigidly by the torso (their rest offsets come from the source's rest pose as they are);
#: the others are limb joints, whose rest bones keep SMPL's rest direction and take the source's length.
TORSO = frozenset({"pelvis", "left_hip", "right_hip", "spine1", "spine2", "spine3", "neck", "left_collar",
                   "right_collar", "head", "left_shoulder", "right_shoulder"})


def _mapped_ancestor(mapped: Array, j: int) -> int:
    """The nearest ancestor of SMPL joint ``j`` with ``mapped`` (24,) True (the pelvis at worst)."""
    a = smpl.PARENTS[j]
    while a > 0 and not mapped[a]:
        a = smpl.PARENTS[a]
    return a


def source_rest_joints(rest_positions: Array, source_of: tuple[int, ...], source_parents: tuple[int, ...],
                       default: Array = smpl.DEFAULT_REST_JOINTS) -> Array:
    """SMPL's rest skeleton (24, 3) [m] in its canonical frame (y up, facing +z, pelvis at the origin) with the
    source skeleton's proportions, so that SMPL's mapped joints can land on the source's joints.

    Torso joints (:data:`TORSO`: pelvis, hips, spine, neck, head, collars, shoulders) sit where the source's
    rest pose has them relative to its pelvis (a source's rest pose stands upright facing +x, so this is its
    torso's shape); each limb bone (knee, ankle, ball, elbow, wrist, hand) keeps ``default``'s rest direction
    (SMPL's T-pose, whatever the source's rest arm pose) with the length of the source's bone between the two
    mapped joints. SMPL joints the source lacks (a collar, a spine joint) are placed by the similarity
    (rotation and uniform scale) that takes ``default``'s nearest mapped ancestor and the next mapped joint
    down the chain onto their new places, or, where the source has joints between those two (CMU's collar
    ``LeftShoulder`` between the chest and the upper arm, unmapped because it starts at the chest), on the
    one of them nearest that place, so SMPL's joint turns about the source's own pivot; with no mapped joint
    down the chain, by the body's scale.

    Args:
        rest_positions: (J, 3) the source's rest-pose joint positions in the world (z up, facing +x) [m].
        source_of: (24,) source joint of each SMPL joint, -1 where none (``SkeletonMap.source_of``).
        source_parents: (J,) the source tree's parent of each joint, -1 for the root.
        default: (24, 3) SMPL's rest joints whose directions the limbs keep (canonical frame) [m].
    Returns:
        (24, 3) rest joints; with a source of ``default``'s own proportions, ``default`` itself.
    """
    src = np.asarray(source_of)
    mapped = src >= 0
    w2c = smpl.CANONICAL_TO_WORLD.T
    rest = np.array(default, dtype=float)
    placed = np.zeros(smpl.NUM_JOINTS, bool)
    placed[0] = True
    origin = rest_positions[src[0]]
    for j in range(1, smpl.NUM_JOINTS):
        if not mapped[j]:
            continue
        name = smpl.JOINT_NAMES[j]
        a = _mapped_ancestor(mapped, j)
        if name in TORSO:
            rest[j] = rest[0] + w2c @ (rest_positions[src[j]] - origin)
        else:
            length = np.linalg.norm(rest_positions[src[j]] - rest_positions[src[a]])
            d = default[j] - default[a]
            rest[j] = rest[a] + d / np.linalg.norm(d) * length
        placed[j] = True
    scale = _scale(rest, default, placed)
    for j in range(1, smpl.NUM_JOINTS):  # joints the source lacks
        if placed[j]:
            continue
        a = smpl.PARENTS[j]
        c = _chain_target(placed, j)
        if c is None:
            rest[j] = rest[a] + scale * (default[j] - default[a])
        else:
            before, after = default[c] - default[a], rest[c] - rest[a]
            s = np.linalg.norm(after) / max(np.linalg.norm(before), 1e-12)
            rest[j] = rest[a] + s * swing(before, after) @ (default[j] - default[a])
            between = _between(source_parents, src[a], src[c]) if mapped[a] else []
            if between and smpl.JOINT_NAMES[j] in TORSO:
                pivots = rest[0] + (rest_positions[between] - origin) @ w2c.T
                rest[j] = pivots[np.argmin(np.linalg.norm(pivots - rest[j], axis=-1))]
        placed[j] = True
    return rest


def _between(parents: tuple[int, ...], top: int, bottom: int) -> list[int]:
    """Source joints strictly between ``top`` and its descendant ``bottom`` ([] if ``bottom`` is not one)."""
    out, k = [], parents[bottom]
    while k >= 0 and k != top:
        out.append(k)
        k = parents[k]
    return out if k == top else []


def _scale(rest: Array, default: Array, placed: Array) -> float:
    """Median ratio of bone lengths between ``rest`` and ``default`` over bones whose both ends are placed."""
    ratios = [np.linalg.norm(rest[j] - rest[p]) / np.linalg.norm(default[j] - default[p])
              for j, p in enumerate(smpl.PARENTS) if p >= 0 and placed[j] and placed[p]]
    return float(np.median(ratios)) if ratios else 1.0


def smpl_pose_from_source(positions: Array, rotations: Array, rest_positions: Array, source_of: tuple[int, ...],
                          rest: Array) -> tuple[Array, Array, Array]:
    """SMPL parameters that follow a source skeleton's motion, on a rest skeleton of its proportions.

    The pelvis takes the source pelvis's own rotation and place; every other mapped joint takes its source
    joint's rotation (times the rest alignment) swung to aim its bone at the source's next mapped joint down
    its chain (so joints the source has between the two, such as twist joints, and a neck the source turns
    about a joint at the chest, CMU's zero-length ``Neck``, are met by the aim); joints the source lacks (a
    collar, a spine joint) take their parent's rotation swung the same way; joints with no mapped joint down
    their chain (head, hands, balls of the feet) keep their parent's rotation.

    Args:
        positions: (T, J, 3) source joint positions in the world (z up, facing +x) [m].
        rotations: (T, J, 3, 3) source joint-to-world rotations in the world frame (identity in its rest pose).
        rest_positions: (J, 3) source rest-pose joint positions in the world [m].
        source_of: (24,) source joint of each SMPL joint, -1 where none (see ``SkeletonMap.source_of``).
        rest: (24, 3) SMPL rest joints (canonical frame, y up facing +z) [m] with the source's proportions
            (:func:`source_rest_joints`).
    Returns:
        ``global_orient`` (T, 3), ``body_pose`` (T, 23, 3) axis-angle [rad] and ``transl`` (T, 3) [m] such that
        :func:`genmimic.core.smpl.forward_kinematics` with ``rest`` puts every mapped joint on its source joint
        wherever the source's motion is one SMPL can make within a person's range (:data:`.limits.MAX_ANGLE`).
    """
    T = len(positions)
    c2w = smpl.CANONICAL_TO_WORLD
    world = np.empty((T, smpl.NUM_JOINTS, 3, 3))
    wanted = np.empty_like(world)  # each joint's rotation before its range was applied
    place = np.empty((T, smpl.NUM_JOINTS, 3))  # SMPL's joints as they are placed
    place[:, 0] = positions[:, source_of[0]]
    mapped = np.asarray(source_of) >= 0
    for j in range(smpl.NUM_JOINTS):  # tree order: parents first
        parent = smpl.PARENTS[j]
        if parent >= 0:
            place[:, j] = place[:, parent] + world[:, parent] @ (rest[j] - rest[parent])
        k = source_of[j]
        apart = np.linalg.norm(rest - rest[j], axis=-1) > 1e-6  # a bone of zero length aims nowhere
        c = _chain_target(mapped & apart, j)
        name = smpl.JOINT_NAMES[j]
        if c is None or (k < 0 and parent < 0):
            # the end of a chain (head, hands, balls of the feet): its parent's rotation as it was wanted,
            # i.e. with the twist the parent's range made it give up, within this joint's own range
            world[:, j] = _within_range(world[:, parent], wanted[:, parent], MAX_ANGLE[name]) if parent >= 0 else c2w
            wanted[:, j] = world[:, j]
            continue
        target = positions[:, source_of[c]] - place[:, j]
        if k < 0:  # a joint the source lacks (a collar, a spine joint): its parent's rotation, swung to aim
            g = world[:, parent]
            wanted[:, j] = g = swing(g @ (rest[c] - rest[j]), target) @ g
            world[:, j] = _within_range(world[:, parent], g, MAX_ANGLE[name], rest[c] - rest[j])
            continue
        kc = source_of[c]
        if name in _LATERAL and all(source_of[_J(n)] >= 0 for n in _LATERAL[name]):
            left, right = (_J(n) for n in _LATERAL[name])
            sec_canon = rest[left] - rest[right]
            sec_src = rest_positions[source_of[left]] - rest_positions[source_of[right]]
        elif name.endswith("ankle"):
            sec_canon, sec_src = _CANONICAL_LEFT, _WORLD_LEFT
        else:
            sec_canon, sec_src = _CANONICAL_FORWARD, _WORLD_FORWARD
        bone_canon = rest[c] - rest[j]
        align = _frame(rest_positions[kc] - rest_positions[k], sec_src) @ _frame(bone_canon, sec_canon).T
        g = rotations[:, k] @ align
        if j > 0:  # (the pelvis keeps its own rotation: the hips hang from it rigidly)
            g = swing(g @ bone_canon, target) @ g
        wanted[:, j] = g
        world[:, j] = g if parent < 0 else _within_range(world[:, parent], g, MAX_ANGLE[name], bone_canon)
    local = np.swapaxes(world[:, smpl.PARENTS[1:]], -1, -2) @ world[:, 1:]
    global_orient = rot.axis_angle_from_matrix(world[:, 0])
    body_pose = rot.axis_angle_from_matrix(local)
    transl = place[:, 0] - rest[0]
    return global_orient, body_pose, transl
