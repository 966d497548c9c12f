"""BVH motion capture (CMU and generic) into SMPL clips.

A BVH file holds a joint hierarchy (offsets, channels) and per-frame channel values; joints are placed by
forward kinematics, converted from the file's Y-up frame (facing +Z) to the z-up world (facing +x) and
to metres, mapped to SMPL joints by name (:data:`NAME_CANDIDATES`), and the SMPL skeleton is fitted to
them (:mod:`.retarget_joints`).

Units: CMU's files (recognised by their joint names) use 1 unit = 0.056444 m; otherwise the unit is
guessed from the leg length (m, cm, mm or inches) unless ``scale`` is given.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from genmimic.core import SmplClip, make_meta, smpl
from genmimic.core.files import read_bytes

from .errors import LiftError
from .posture import axis_rotation
from .retarget_joints import clip_from_positions

Array = NDArray[np.float64]
log = logging.getLogger(__name__)
CMU_UNIT = 0.056444  #: metres per CMU BVH unit ((1/0.45) * 2.54 / 100)
_AXES = {"X": (1.0, 0.0, 0.0), "Y": (0.0, 1.0, 0.0), "Z": (0.0, 0.0, 1.0)}
#: BVH Y-up facing +Z to the world (z up, facing +x): the same turn as SMPL's canonical frame.
BVH_TO_WORLD = smpl.CANONICAL_TO_WORLD


@dataclass(frozen=True)
class BvhMotion:
    """A parsed BVH file: joint ``names`` (J,), ``parents`` (J,) (-1 root), ``offsets`` (J, 3) [file units],
    ``channels`` per joint (names like "Xrotation"), ``frames`` (F, C) channel values (degrees for
    rotations) and ``frame_time`` [s]."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: Array
    channels: tuple[tuple[str, ...], ...]
    frames: Array
    frame_time: float


def parse_bvh(text: str, source: str = "<bvh>") -> BvhMotion:
    """Parse BVH text; raises :class:`LiftError` naming ``source`` and the line of a problem."""
    lines = text.splitlines()
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []
    stack: list[int] = []
    pending: int | None = None
    in_end_site = False
    i = 0
    if not lines or lines[0].strip().upper() != "HIERARCHY":
        raise LiftError(source, "not a BVH file (it must start with HIERARCHY)")
    try:
        for i in range(1, len(lines)):
            tok = lines[i].split()
            if not tok:
                continue
            key = tok[0].upper()
            if key in ("ROOT", "JOINT"):
                if key == "ROOT" and names:
                    raise ValueError("more than one ROOT (only one skeleton per file is supported)")
                names.append(" ".join(tok[1:]) or f"joint{len(names)}")
                parents.append(stack[-1] if stack else -1)
                offsets.append([0.0, 0.0, 0.0])
                channels.append(())
                pending = len(names) - 1
            elif key == "END":
                in_end_site, pending = True, None
            elif key == "{":
                if in_end_site:
                    stack.append(-2)
                elif pending is not None:
                    stack.append(pending)
                    pending = None
                else:
                    raise ValueError("unexpected '{'")
            elif key == "}":
                if not stack:
                    raise ValueError("unbalanced '}'")
                if stack.pop() == -2:
                    in_end_site = False
            elif key == "OFFSET":
                if not in_end_site:
                    offsets[stack[-1]] = [float(x) for x in tok[1:4]]
            elif key == "CHANNELS":
                n = int(tok[1])
                chans = tuple(tok[2:2 + n])
                if len(chans) != n or any(c[1:] not in ("position", "rotation") or c[0] not in "XYZ" for c in chans):
                    raise ValueError(f"bad CHANNELS line {lines[i].strip()!r}")
                channels[stack[-1]] = chans
            elif key == "MOTION":
                break
            else:
                raise ValueError(f"unexpected {tok[0]!r}")
        else:
            raise LiftError(source, "no MOTION section (truncated file?)")
    except (ValueError, IndexError) as err:
        raise LiftError(source, f"line {i + 1}: {err}") from None
    if stack or not names:
        raise LiftError(source, "the HIERARCHY is incomplete (truncated file?)")
    header: dict[str, str] = {}
    j = i + 1
    while j < len(lines) and len(header) < 2:
        if lines[j].strip():
            k, _, v = lines[j].partition(":")
            header[k.strip().lower()] = v.strip()
        j += 1
    try:
        num_frames, frame_time = int(header["frames"]), float(header["frame time"])
    except (KeyError, ValueError):
        raise LiftError(source, f"line {j}: expected 'Frames: N' and 'Frame Time: dt' after MOTION") from None
    if not (np.isfinite(frame_time) and frame_time > 0):
        raise LiftError(source, f"frame time must be positive, got {frame_time}")
    width = sum(len(c) for c in channels)
    rows = [ln for ln in lines[j:] if ln.strip()]
    if len(rows) < num_frames:
        raise LiftError(source, f"declares {num_frames} frames but holds {len(rows)} (truncated file?)")
    try:
        frames = np.array([np.array(r.split(), dtype=float) for r in rows[:num_frames]], dtype=float)
    except ValueError as err:
        raise LiftError(source, f"bad frame values: {err}") from None
    if num_frames < 2 or frames.ndim != 2 or frames.shape[1] != width:
        got = frames.shape[1] if frames.ndim == 2 and num_frames else "?"
        raise LiftError(source, f"each frame must hold {width} values and there must be >= 2 frames "
                        f"(got {num_frames} frames of {got})")
    if not np.all(np.isfinite(frames)):
        raise LiftError(source, "frame values contain NaN or Inf")
    return BvhMotion(tuple(names), tuple(parents), np.array(offsets), tuple(channels), frames, frame_time)


def bvh_positions(motion: BvhMotion) -> Array:
    """World positions (F, J, 3) of every joint in the file's frame and units (rotations applied in each
    joint's channel order, e.g. ZYX means R = Rz Ry Rx)."""
    F, J = len(motion.frames), len(motion.names)
    pos = np.zeros((F, J, 3))
    rots = np.zeros((F, J, 3, 3))
    col = 0
    for j in range(J):
        local = np.tile(np.eye(3), (F, 1, 1))
        trans = np.tile(motion.offsets[j], (F, 1))
        for c in motion.channels[j]:
            v = motion.frames[:, col]
            col += 1
            if c.endswith("rotation"):
                local = local @ axis_rotation(_AXES[c[0]], np.radians(v))
            else:
                trans[:, "XYZ".index(c[0])] = v
        p = motion.parents[j]
        if p < 0:
            pos[:, j], rots[:, j] = trans, local
        else:
            pos[:, j] = pos[:, p] + np.einsum("fij,fj->fi", rots[:, p], trans)
            rots[:, j] = rots[:, p] @ local
    return pos


def _side(names: str, side: str) -> tuple[str, ...]:
    """Candidate names for one side: ``{L}`` becomes the side's spellings (left/l/l_/left_)."""
    long, short = side, side[0]
    out = []
    for pattern in names.split():
        for s in (long, short, f"{short}_", f"{long}_"):
            out.append(pattern.replace("{L}", s))
        out.append(pattern.replace("{L}", "") + f"_{short}")
    return tuple(out)


#: Candidate BVH joint names (lower case, no prefix) for each SMPL joint, in order of preference.
NAME_CANDIDATES: dict[str, tuple[str, ...]] = {
    "pelvis": ("hips", "hip", "pelvis", "root"),
    "neck": ("neck1", "neck", "neck_01"),
    "head": ("head",),
}
for _s in ("left", "right"):
    NAME_CANDIDATES.update({
        f"{_s}_hip": _side("{L}upleg {L}hip {L}thigh {L}upperleg", _s),
        f"{_s}_knee": _side("{L}leg {L}knee {L}shin {L}lowerleg {L}calf", _s),
        f"{_s}_ankle": _side("{L}foot {L}ankle", _s),
        f"{_s}_foot": _side("{L}toebase {L}toe {L}toes {L}ball", _s),
        f"{_s}_shoulder": _side("{L}arm {L}shldr {L}upperarm", _s),
        f"{_s}_elbow": _side("{L}forearm {L}elbow {L}lowerarm", _s),
        f"{_s}_wrist": _side("{L}hand {L}wrist", _s),
        f"{_s}_hand": _side("{L}fingers {L}handmiddle1 {L}handindex1 {L}fingerbase", _s),
    })
#: Weight of each mapped joint in the fit (joints whose placement differs between skeletons count less).
MAP_WEIGHTS: dict[str, float] = {"pelvis": 0.5, "neck": 0.3, "head": 0.3, "left_foot": 0.5, "right_foot": 0.5,
                                 "left_hand": 0.2, "right_hand": 0.2}


def _normalise(name: str) -> str:
    return re.sub(r"^.*:", "", name).lower().replace(" ", "")


def smpl_joint_map(names: tuple[str, ...]) -> dict[str, int]:
    """SMPL joint name -> index of the BVH joint that corresponds (those found)."""
    lookup = {_normalise(n): k for k, n in enumerate(names)}
    out = {}
    for smpl_name, candidates in NAME_CANDIDATES.items():
        for c in candidates:
            if c in lookup:
                out[smpl_name] = lookup[c]
                break
    return out


def guess_unit(motion: BvhMotion, joint_map: dict[str, int]) -> float:
    """Metres per file unit: CMU's unit for CMU skeletons, else by the leg length (about 0.8 m)."""
    lowered = {_normalise(n) for n in motion.names}
    if {"lhipjoint", "lowerback"} <= lowered:
        return CMU_UNIT
    rest = bvh_rest_positions(motion)
    leg = [np.linalg.norm(rest[joint_map[a]] - rest[joint_map[b]]) for a, b in
           (("left_hip", "left_knee"), ("left_knee", "left_ankle")) if a in joint_map and b in joint_map]
    length = sum(leg) if len(leg) == 2 else float(np.ptp(rest[:, 1]) / 2.0)
    for unit in (1.0, 0.01, 0.001, 0.0254, CMU_UNIT):
        if 0.55 <= length * unit <= 1.15:
            return unit
    return 0.8 / max(length, 1e-9)


def bvh_rest_positions(motion: BvhMotion) -> Array:
    """Joint positions (J, 3) of the hierarchy's offsets alone (its rest pose) [file units]."""
    pos = np.zeros((len(motion.names), 3))
    for j, p in enumerate(motion.parents):
        pos[j] = motion.offsets[j] + (pos[p] if p >= 0 else 0.0)
    return pos


def import_bvh(source: str | os.PathLike[str], scale: float | None = None) -> SmplClip:
    """Import a BVH file as an SMPL clip (z up, metres, ground at z = 0).

    Args:
        source: ``.bvh`` path (or ``-`` for stdin).
        scale: metres per file unit; guessed when None (see :func:`guess_unit`).
    """
    name = str(source)
    try:
        text = read_bytes(source).decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise LiftError(name, "not a text BVH file (cannot decode as UTF-8)") from None
    motion = parse_bvh(text, name)
    jmap = smpl_joint_map(motion.names)
    needed = {"pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"}
    if not needed <= jmap.keys() or not any(k.endswith("shoulder") for k in jmap):
        missing = sorted(needed - jmap.keys()) or ["shoulders"]
        raise LiftError(name, f"cannot map the skeleton to SMPL: no joint for {', '.join(missing)} "
                        f"(joints in the file: {', '.join(motion.names[:12])}...)")
    unit = scale if scale is not None else guess_unit(motion, jmap)
    positions = bvh_positions(motion) * unit @ BVH_TO_WORLD.T
    fps = 1.0 / motion.frame_time
    targets = np.zeros((len(positions), smpl.NUM_JOINTS, 3))
    weights = np.zeros((len(positions), smpl.NUM_JOINTS))
    for smpl_name, k in jmap.items():
        j = smpl.JOINT_NAMES.index(smpl_name)
        targets[:, j] = positions[:, k]
        weights[:, j] = MAP_WEIGHTS.get(smpl_name, 1.0)
    from . import __version__

    meta = make_meta("genmimic-lift", __version__, source=name,
                     params={"importer": "bvh", "unit_m": unit, "mapped": sorted(jmap)})
    clip, err = clip_from_positions(targets, weights, fps, meta)
    log.info("%s: %d frames, %d joints mapped, fit RMS error %.1f mm", name, len(targets), len(jmap), err * 1e3)
    return clip
