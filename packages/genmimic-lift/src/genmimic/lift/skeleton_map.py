"""Any humanoid joint tree (a BVH skeleton) mapped to SMPL's joints by its topology and rest-pose geometry.

Names are hints only, so unseen naming schemes work. From the rest pose (the hierarchy's offsets):

- the **pelvis** is the first joint from the root with three or more child chains; of its chains, the two
  that reach the same way are the **legs** and the one reaching the opposite way is the **spine**;
- **up** is the feet-to-chest direction, snapped to the nearest file axis (or given); **forward** is the
  way the toes point (else the file's usual convention: +Z for Y-up, -Y for Z-up); **left** = up x forward;
- the **chest** is the spine's first branching joint: its chain reaching highest leads to the **head**
  (neck, head), the two longest others are the **arms**;
- in a leg or an arm chain, the two consecutive bones of greatest total length are the thigh and shin
  (upper arm and forearm): hip/knee/ankle (shoulder/elbow/wrist); the joint after the ankle is the ball
  of the foot, the one after the wrist the hand, the one before the shoulder the collar;
- a chain on the +left side is the left one; joints at the same place as their parent (zero-length
  bones, as in CMU's ``LHipJoint``) stand for the deeper joint; joints named ``...Twist``/``...Roll``
  along a limb are skipped; legs under a joint of their own (DAZ/Poser: ``hip`` -> ``pelvis`` ->
  thighs, ``hip`` -> ``abdomen``) count as the pelvis's chains;
- the unit: the rest-pose stature (legs plus pelvis to head) against SMPL's, snapped to metres,
  centimetres, millimetres, inches or CMU's unit (0.056444 m), or given.

:func:`map_skeleton` returns a :class:`SkeletonMap` that both the position fit and a closed-form
rotation conversion can use; it raises :class:`~genmimic.lift.errors.LiftError` listing what was found
and what is missing when the tree is not a recognisable humanoid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from genmimic.core import smpl

from .errors import LiftError

Array = NDArray[np.float64]
CMU_UNIT = 0.056444  #: metres per CMU BVH unit ((1/0.45) * 2.54 / 100)
#: Units a skeleton is snapped to [m per file unit] and their names.
UNITS: tuple[tuple[float, str], ...] = ((1.0, "m"), (0.01, "cm"), (0.001, "mm"), (0.0254, "inch"),
                                        (CMU_UNIT, "CMU unit"))
#: How far [factor] a skeleton's stature may be from SMPL's default (1.70 m) for a unit to be accepted.
STATURE_TOLERANCE = 1.45
_AXIS_NAMES = ("x", "y", "z")
#: Names of twist (roll) joints along a limb bone, which are not limb joints of their own.
_TWIST = re.compile(r"twist|roll", re.IGNORECASE)
_J = smpl.JOINT_NAMES.index
_R = smpl.DEFAULT_REST_JOINTS
#: Legs (hip-knee-ankle) plus pelvis-to-head of SMPL's default skeleton [m]: the stature reference.
REFERENCE_LENGTH = float(np.linalg.norm(_R[_J("left_knee")] - _R[_J("left_hip")])
                         + np.linalg.norm(_R[_J("left_ankle")] - _R[_J("left_knee")])
                         + np.linalg.norm(_R[_J("head")] - _R[_J("pelvis")]))


@dataclass(frozen=True)
class SkeletonMap:
    """Where SMPL's joints are in a source skeleton, and the source's frame and unit.

    Attributes:
        source_of: (24,) index of the source joint for each SMPL joint (:data:`genmimic.core.smpl.JOINT_NAMES`
            order), -1 where the source has none (e.g. no toes, no collar).
        file_to_world: (3, 3) rotation, world = ``file_to_world @ p_file``; its rows are the file's forward,
            left and up axes (world x forward, y left, z up).
        unit_m: metres per file unit.
        up: the file's up axis as found or given, e.g. ``"+y"``; ``up_source``/``unit_source``: "detected" or
            "given".
        spine: source joints from the pelvis (excluded) to the chest (included), bottom to top.
    """

    source_of: tuple[int, ...]
    file_to_world: Array
    unit_m: float
    up: str
    up_source: str
    unit_source: str
    spine: tuple[int, ...]

    def mapped(self) -> dict[str, int]:
        """SMPL joint name -> source joint index, for the joints found."""
        return {n: k for n, k in zip(smpl.JOINT_NAMES, self.source_of, strict=True) if k >= 0}


def normalise_name(name: str) -> str:
    """A joint name without namespace prefix (``mixamorig:``), spaces or case."""
    return re.sub(r"^.*:", "", name).lower().replace(" ", "").replace("_", "")


def rest_positions(parents: tuple[int, ...], offsets: Array) -> Array:
    """Joint positions (J, 3) of a tree's offsets alone (its rest pose), in the offsets' units."""
    pos = np.zeros((len(parents), 3))
    for j, p in enumerate(parents):
        pos[j] = offsets[j] + (pos[p] if p >= 0 else 0.0)
    return pos


def axis_vector(axis: str) -> Array:
    """``"+y"``, ``"-z"``, ``"y"``... as a unit vector."""
    v = np.zeros(3)
    v[_AXIS_NAMES.index(axis[-1].lower())] = -1.0 if axis.startswith("-") else 1.0
    return v


def _axis_name(v: Array) -> str:
    k = int(np.argmax(np.abs(v)))
    return ("+" if v[k] > 0 else "-") + _AXIS_NAMES[k]


class _Tree:
    def __init__(self, names: tuple[str, ...], parents: tuple[int, ...], rest: Array, source: str) -> None:
        self.names, self.parents, self.rest, self.source = names, parents, rest, source
        self.children: list[list[int]] = [[] for _ in names]
        for j, p in enumerate(parents):
            if p >= 0:
                self.children[p].append(j)
        self.size = max(float(np.ptp(rest, axis=0).max()), 1e-9)

    def subtree(self, j: int) -> list[int]:
        out, todo = [], [j]
        while todo:
            k = todo.pop()
            out.append(k)
            todo.extend(self.children[k])
        return out

    def first_branch(self, j: int) -> int:
        """The first joint from ``j`` down its single-child chain with several children (or the leaf)."""
        while len(self.children[j]) == 1:
            j = self.children[j][0]
        return j

    def path(self, top: int, bottom: int) -> list[int]:
        """Joints from ``top`` (excluded) down to ``bottom`` (included)."""
        out = [bottom]
        while self.parents[out[-1]] != top:
            out.append(self.parents[out[-1]])
        return out[::-1]

    def distinct(self, start: int, chain: list[int]) -> list[int]:
        """``chain`` without joints at the same place as the one before (the deeper joint stands for both);
        a joint at ``start``'s place is dropped."""
        eps = 1e-6 * self.size
        out: list[int] = []
        prev = self.rest[start]
        for j in chain:
            if np.linalg.norm(self.rest[j] - prev) < eps:
                if out:
                    out[-1] = j
            else:
                out.append(j)
            prev = self.rest[j]
        return out

    def fail(self, found: list[str], missing: str) -> LiftError:
        listed = ", ".join(self.names[:40]) + (" ..." if len(self.names) > 40 else "")
        return LiftError(self.source, f"cannot map the skeleton to SMPL: found {'; '.join(found) or 'nothing'}; "
                         f"missing {missing} (joints in the file: {listed}); fix: export the whole body (a root with "
                         "two legs, a spine up to the neck and both arms)")


def _limb(tree: _Tree, start: int, chain: list[int]) -> tuple[int, int, int, int | None, int | None]:
    """(before, top, middle, end, after) of a limb chain: the joints around its two longest consecutive bones
    (before/after: the joints just outside them, None where there are none)."""
    pts = [start, *(j for j in tree.distinct(start, chain) if not _TWIST.search(tree.names[j]))]
    if len(pts) < 4:  # start + at least three joints: top, middle, end
        raise ValueError
    lengths = np.linalg.norm(np.diff(tree.rest[pts], axis=0), axis=-1)
    i = 1 + int(np.argmax(lengths[1:-1] + lengths[2:])) if len(pts) > 4 else 1
    if len(pts) > 4 and lengths[0] + lengths[1] > lengths[i] + lengths[i + 1]:
        i = 1  # never start the limb at ``start`` itself
    before = pts[i - 1] if i >= 2 else None
    after = pts[i + 3] if i + 3 < len(pts) else None
    return before, pts[i], pts[i + 1], pts[i + 2], after  # type: ignore[return-value]


def _side_hint(names: list[str]) -> float:
    """+1 if the names say left (``Left...``, ``L...``/``l_...``, ``..._L``/``....l``), -1 if right, 0 if they do
    not say."""
    score = 0.0
    for n in names:
        n = re.sub(r"^.*:", "", n)
        if re.match(r"(?i:left)|L(?=[A-Z_.\s])|l_", n) or re.search(r"(?i)[_.\s]l$", n):
            score += 1.0
        elif re.match(r"(?i:right)|R(?=[A-Z_.\s])|r_", n) or re.search(r"(?i)[_.\s]r$", n):
            score -= 1.0
    return float(np.sign(score))


def map_skeleton(names: tuple[str, ...], parents: tuple[int, ...], offsets: Array, *, source: str = "<skeleton>",
                 up: str | None = None, unit_m: float | None = None) -> SkeletonMap:
    """Map a joint tree to SMPL by topology and rest-pose geometry (see the module's docstring).

    Args:
        names: (J,) joint names (hints only); parents: (J,) parent index, -1 for the root;
        offsets: (J, 3) offset of each joint from its parent [file units].
        source: the file, for messages. up: the file's up axis ("y", "z", "-y"...), detected when None.
        unit_m: metres per file unit, detected when None.
    Raises:
        LiftError: the tree is not a recognisable humanoid (what was found and what is missing), its up
            axis is not along a file axis, or no common unit gives it a human size.
    """
    tree = _Tree(names, parents, rest_positions(parents, offsets), source)
    rest, kids = tree.rest, tree.children
    roots = [j for j, p in enumerate(parents) if p < 0]
    pelvis = tree.first_branch(roots[0]) if roots else 0
    options = [list(kids[pelvis])]
    if len(kids[pelvis]) == 2:  # legs under their own joint (DAZ/Poser: hip -> pelvis -> thighs, hip -> abdomen)
        for c in kids[pelvis]:
            b = tree.first_branch(c)
            if len(kids[b]) == 2:
                options.append([x for x in kids[pelvis] if x != c] + kids[b])
    if max(len(o) for o in options) < 3:
        raise tree.fail([f"root {names[roots[0]] if roots else '?'}"],
                        "a pelvis: a joint with three chains (two legs and the spine)")
    best, spine_c, legs_c, starts = -np.inf, -1, (-1, -1), options[0]
    for chains in options:
        reach = {c: rest[tree.first_branch(c)] - rest[pelvis] for c in chains}
        unit_dir = {c: v / max(np.linalg.norm(v), 1e-12) for c, v in reach.items()}
        for s in chains:
            others = [c for c in chains if c != s]
            for a_i, a in enumerate(others):
                for b in others[a_i + 1:]:
                    la, lb = np.linalg.norm(reach[a]), np.linalg.norm(reach[b])
                    score = (float(unit_dir[a] @ unit_dir[b]) - float(unit_dir[s] @ (unit_dir[a] + unit_dir[b]))
                             - abs(la - lb) / max(la, lb, 1e-12))
                    if score > best:
                        best, spine_c, legs_c, starts = score, s, (a, b), chains
    reach = {c: rest[tree.first_branch(c)] - rest[pelvis] for c in starts}
    unit_dir = {c: v / max(np.linalg.norm(v), 1e-12) for c, v in reach.items()}
    leg_dir = unit_dir[legs_c[0]] + unit_dir[legs_c[1]]
    if unit_dir[legs_c[0]] @ unit_dir[legs_c[1]] < 0.5 or unit_dir[spine_c] @ leg_dir > -0.5:
        raise tree.fail([f"pelvis {names[pelvis]} with chains {', '.join(names[c] for c in starts)}"],
                        "two legs reaching the same way and a spine reaching the other way")
    found = [f"pelvis {names[pelvis]}", f"legs from {names[legs_c[0]]} and {names[legs_c[1]]}"]
    chest = tree.first_branch(spine_c)
    if len(kids[chest]) < 3:
        raise tree.fail(found + [f"spine from {names[spine_c]} to {names[chest]}"],
                        "a chest: a spine joint with three chains (the neck and two arms)")
    found.append(f"spine {names[spine_c]} to chest {names[chest]}")

    # up: the file axis nearest to the feet-to-chest direction (unless given)
    raw = unit_dir[spine_c] - leg_dir / np.linalg.norm(leg_dir)
    raw /= np.linalg.norm(raw)
    if up is None:
        up_vec = axis_vector(_axis_name(raw))
        if raw @ up_vec < np.cos(np.radians(35.0)):
            raise LiftError(source, f"the skeleton's feet-to-head direction {np.round(raw, 2).tolist()} is not along "
                            "a file axis; pass --up y or --up z")
        up_source = "detected"
    else:
        up_vec, up_source = axis_vector(up), "given"

    # the chest's chains: the one reaching highest is the head, the two longest others the arms
    def tip(c: int, key) -> int:
        return max(tree.subtree(c), key=key)

    heads = {c: tip(c, lambda k: float(rest[k] @ raw)) for c in kids[chest]}  # the skeleton's own up
    head_c = max(kids[chest], key=lambda c: float((rest[heads[c]] - rest[chest]) @ raw))
    arm_tips = {c: tip(c, lambda k: float(np.linalg.norm(rest[k] - rest[chest]))) for c in kids[chest] if c != head_c}
    arms_c = sorted(arm_tips, key=lambda c: -float(np.linalg.norm(rest[arm_tips[c]] - rest[chest])))[:2]

    source_of = [-1] * smpl.NUM_JOINTS
    source_of[_J("pelvis")] = pelvis
    legs, arms = [], []
    try:
        for c in legs_c:
            legs.append(_limb(tree, pelvis, tree.path(pelvis, tree.first_branch(c))))
    except ValueError:
        raise tree.fail(found, "hip, knee and ankle joints in each leg chain") from None
    try:
        for c in arms_c:
            arms.append(_limb(tree, chest, tree.path(chest, arm_tips[c])))
    except ValueError:
        raise tree.fail(found + [f"head chain from {names[head_c]}"],
                        "shoulder, elbow and wrist joints in two arm chains from the chest") from None

    # the ball of the foot: the next joint on the chain, else the ankle's most horizontal child bone
    feet = []
    for _, _, _, ankle, after in legs:
        if after is None and kids[ankle]:
            after = min(kids[ankle], key=lambda k: abs(float(unit(rest[k] - rest[ankle]) @ up_vec)))
            if np.linalg.norm(rest[after] - rest[ankle]) < 1e-6 * tree.size:
                after = None
        feet.append(after)

    # forward: where the toes point; else the names' sides; else the file's usual facing
    toe = [rest[f] - rest[leg[3]] for leg, f in zip(legs, feet, strict=True) if f is not None]
    horizontal = np.sum(toe, axis=0) - (np.sum(toe, axis=0) @ up_vec) * up_vec if toe else np.zeros(3)
    if np.linalg.norm(horizontal) > 0.02 * tree.size:
        forward = axis_vector(_axis_name(horizontal - (horizontal @ up_vec) * up_vec))
    else:
        lateral = rest[legs[0][1]] - rest[legs[1][1]]
        hint = _side_hint([names[k] for k in tree.subtree(legs_c[0])])
        left_guess = lateral * (hint or 0.0)
        if hint and np.linalg.norm(left_guess - (left_guess @ up_vec) * up_vec) > 1e-9:
            forward = axis_vector(_axis_name(np.cross(left_guess, up_vec)))
        else:
            forward = axis_vector("-y") if abs(up_vec[2]) > 0.5 else axis_vector("+z")
    if abs(forward @ up_vec) > 0.5:
        forward = axis_vector("+x")
    left = np.cross(up_vec, forward)

    def sided(limbs: list, what: str) -> list:
        side = [float((rest[limb[1]] - rest[pelvis if what == "legs" else chest]) @ left) for limb in limbs]
        if abs(side[0] - side[1]) < 1e-3 * tree.size:
            hint = _side_hint([names[limbs[0][1]], names[limbs[0][2]]])
            if not hint:
                raise tree.fail(found, f"which of the {what} is left (they are not apart along the left axis "
                                "and their names do not say)")
            side = [hint, -hint]
        return limbs if side[0] > side[1] else limbs[::-1]

    order = sided([(leg[0], leg[1], leg[2], leg[3], f) for leg, f in zip(legs, feet, strict=True)], "legs")
    for s, (_, hip, knee, ankle, foot) in zip(("left", "right"), order, strict=True):
        source_of[_J(f"{s}_hip")], source_of[_J(f"{s}_knee")], source_of[_J(f"{s}_ankle")] = hip, knee, ankle
        if foot is not None:
            source_of[_J(f"{s}_foot")] = foot
    for s, (collar, shoulder, elbow, wrist, hand) in zip(("left", "right"), sided(arms, "arms"), strict=True):
        source_of[_J(f"{s}_shoulder")], source_of[_J(f"{s}_elbow")], source_of[_J(f"{s}_wrist")] = \
            shoulder, elbow, wrist
        if collar is not None:
            source_of[_J(f"{s}_collar")] = collar
        if hand is not None:
            source_of[_J(f"{s}_hand")] = hand

    # neck and head: a joint named "head" if the chain has one, else the first two joints above the chest
    head_chain = tree.distinct(chest, tree.path(chest, heads[head_c]))
    named = [i for i, k in enumerate(head_chain)
             if "head" in normalise_name(names[k]) and not re.search(r"end|top|site|nub", normalise_name(names[k]))]
    h = named[0] if named else min(1, len(head_chain) - 1)
    source_of[_J("head")] = head_chain[h]
    if h >= 1:
        source_of[_J("neck")] = head_chain[h - 1]
    spine = tuple(tree.distinct(pelvis, tree.path(pelvis, chest)))
    first = tree.path(pelvis, chest)[0]
    if len(spine) < 3 and first not in spine:  # a joint at the pelvis's place (CMU's LowerBack) turns the spine
        spine = (first, *spine)
    spine_slots = {1: ("spine3",), 2: ("spine1", "spine3")}.get(len(spine), ("spine1", "spine2", "spine3"))
    picks = {1: [0], 2: [0, 1]}.get(len(spine), [0, len(spine) // 2, len(spine) - 1])
    for slot, i in zip(spine_slots, picks, strict=True):
        source_of[_J(slot)] = spine[i]

    # unit: stature (legs + pelvis to head) against SMPL's default
    left_leg = order[0]
    measured = float(np.linalg.norm(rest[left_leg[2]] - rest[left_leg[1]])
                     + np.linalg.norm(rest[left_leg[3]] - rest[left_leg[2]])
                     + np.linalg.norm(rest[source_of[_J("head")]] - rest[pelvis]))
    if unit_m is None:
        wanted = REFERENCE_LENGTH / max(measured, 1e-12)
        unit_m, _ = min(UNITS, key=lambda u: abs(np.log(wanted / u[0])))
        if abs(np.log(wanted / unit_m)) > np.log(STATURE_TOLERANCE):
            raise LiftError(source, f"the skeleton's legs plus pelvis-to-head measure {measured:.4g} file units, "
                            "a human size in none of m, cm, mm, inches or CMU units; pass --scale METRES_PER_UNIT")
        unit_source = "detected"
    else:
        unit_source = "given"
    return SkeletonMap(tuple(source_of), np.stack([forward, left, up_vec]), float(unit_m), _axis_name(up_vec),
                       up_source, unit_source, spine)


def unit(v: Array) -> Array:
    return v / max(float(np.linalg.norm(v)), 1e-12)
