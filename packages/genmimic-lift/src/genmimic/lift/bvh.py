"""BVH motion capture (any exporter's dialect) into SMPL clips.

A BVH file holds a joint hierarchy (offsets, channels) and per-frame channel values. The text may start
with a byte-order mark or blank lines and use tabs or CRLF line ends. Joints are placed by forward
kinematics; the skeleton is mapped to SMPL's joints by topology and rest-pose geometry, and its up axis,
facing and unit are found from the same rest pose (:mod:`.skeleton_map`; ``up`` and ``scale`` override the
detection). The joints are turned to the z-up world facing +x, in metres, and the SMPL skeleton is fitted
to them (:mod:`.retarget_joints`). A calibration pose the capture starts with (CMU's BVH files start with a
T-pose) is dropped (:func:`calibration_frames`) and the import's summary says so. The frame rate is the
nicest rate within the printed frame time's precision (``0.0333333`` is 30 fps, ``0.008333`` 120 fps,
``0.0333667`` 29.97 fps).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from genmimic.core import SmplClip, make_meta, smpl
from genmimic.core.files import display_name, read_bytes

from .errors import LiftError
from .skeleton_map import CMU_UNIT, SkeletonMap, map_skeleton, rest_positions

Array = NDArray[np.float64]
log = logging.getLogger(__name__)
__all__ = ["BVH_TO_WORLD", "CMU_UNIT", "FIT_WEIGHTS", "BvhMotion", "FileJoints", "bvh_forward_kinematics",
           "bvh_positions", "calibration_frames", "decode_bvh", "file_joints", "frame_rate", "import_bvh", "parse_bvh",
           "world_targets"]
#: The usual BVH frame (Y up, facing +Z) to the world (z up, facing +x): the same turn as SMPL's canonical frame.
BVH_TO_WORLD = smpl.CANONICAL_TO_WORLD


@dataclass(frozen=True)
class BvhMotion:
    """A parsed BVH file: joint ``names`` (J,), ``parents`` (J,) (-1 root), ``offsets`` (J, 3) [file units],
    ``channels`` per joint (names like "Xrotation"), ``frames`` (F, C) channel values (degrees for
    rotations), ``frame_time`` [s] and ``fps`` (the frame rate read from the frame time, see
    :func:`frame_rate`)."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: Array
    channels: tuple[tuple[str, ...], ...]
    frames: Array
    frame_time: float
    fps: float


def frame_rate(frame_time: str) -> float:
    """Frames per second from a BVH ``Frame Time`` as written: the integer rate (else the NTSC rate
    n * 1000/1001) nearest to 1/dt within the precision it was printed with, else exactly 1/dt.

    Raises:
        ValueError: not a positive finite number.
    """
    try:
        dt = Decimal(frame_time.strip())
    except InvalidOperation:
        raise ValueError(f"frame time {frame_time!r} is not a number") from None
    if not dt.is_finite() or dt <= 0:
        raise ValueError(f"frame time must be positive, got {frame_time.strip()}")
    half_ulp = float(Decimal(1).scaleb(dt.as_tuple().exponent)) / 2
    value = float(dt)
    lo, hi = 1.0 / (value + half_ulp), 1.0 / max(value - half_ulp, value * 0.5)
    rate = 1.0 / value
    for candidate in (float(round(rate)), round(rate * 1.001) * 1000.0 / 1001.0):
        if candidate > 0 and lo <= candidate <= hi:
            return candidate
    return rate


def decode_bvh(data: bytes, source: str = "<bvh>") -> str:
    """BVH bytes as text: UTF-8 with or without a byte-order mark, else Latin-1 (old exporters' names);
    :class:`LiftError` for binary data."""
    if b"\x00" in data[:4096]:
        raise LiftError(source, "not a text BVH file (binary data); pass a .bvh text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _is_channel(word: str) -> bool:
    """A BVH channel name: X, Y or Z then position or rotation, in any case."""
    return word[:1].upper() in ("X", "Y", "Z") and word[1:].lower() in ("position", "rotation")


#: the error for a file cut short inside its HIERARCHY
_NO_MOTION = "the file ends in its HIERARCHY, without a MOTION section (cut short?); fix: re-export or re-copy it"


def parse_bvh(text: str, source: str = "<bvh>") -> BvhMotion:
    """Parse BVH text (a byte-order mark, blank lines, tabs, CRLF, ``{`` on the joint's line accepted);
    raises :class:`LiftError` naming ``source`` and the line of a problem."""
    lines = text.lstrip("\ufeff").splitlines()
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []
    stack: list[int] = []
    pending: int | None = None
    in_end_site = False
    first = next((k for k, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise LiftError(source, "the file is empty (no BVH text in it); export the motion again as BVH from the "
                                "mocap tool, or check that the copy finished")
    if lines[first].split()[0].upper() != "HIERARCHY":
        raise LiftError(source, "not a BVH file (it must start with HIERARCHY, whatever its name); "
                                "export the motion again as BVH from the mocap tool")
    i = first
    try:
        for i in range(first + 1, len(lines)):
            tok = lines[i].replace("{", " { ").replace("}", " } ").split()
            while tok:
                key = tok[0].upper()
                if key in ("ROOT", "JOINT"):
                    if key == "ROOT" and names:
                        raise ValueError("more than one ROOT (only one skeleton per file is supported)")
                    name_tokens = []
                    for t in tok[1:]:
                        if t == "{":
                            break
                        name_tokens.append(t)
                    names.append(" ".join(name_tokens) or f"joint{len(names)}")
                    parents.append(stack[-1] if stack else -1)
                    offsets.append([0.0, 0.0, 0.0])
                    channels.append(())
                    pending = len(names) - 1
                    tok = tok[1 + len(name_tokens):]
                elif key == "END":
                    in_end_site, pending = True, None
                    tok = [t for t in tok[1:] if t.upper() != "SITE"]
                elif key == "{":
                    if in_end_site:
                        stack.append(-2)
                    elif pending is not None:
                        stack.append(pending)
                        pending = None
                    else:
                        raise ValueError("unexpected '{'")
                    tok = tok[1:]
                elif key == "}":
                    if not stack:
                        raise ValueError("unbalanced '}'")
                    if stack.pop() == -2:
                        in_end_site = False
                    tok = tok[1:]
                elif key == "OFFSET":
                    if not in_end_site:
                        offsets[stack[-1]] = [float(x) for x in tok[1:4]]
                    tok = tok[4:]
                elif key == "CHANNELS":
                    if len(tok) < 2 or not tok[1].isdigit():
                        raise ValueError(f"CHANNELS needs a count of channels, got {' '.join(tok[1:2]) or 'nothing'!r}")
                    n = int(tok[1])
                    chans = tuple(tok[2:2 + n])
                    listed = [t for t in tok[2:] if _is_channel(t)]
                    if len(listed) != n and len(listed) == len(tok) - 2:  # every word a channel, a wrong count
                        raise ValueError(f"CHANNELS says {n} but lists {len(listed)} channel names "
                                         f"({' '.join(listed)})")
                    if len(chans) != n or not all(_is_channel(c) for c in chans):
                        raise ValueError(f"bad CHANNELS line {lines[i].strip()!r}")
                    channels[stack[-1]] = tuple(c[0].upper() + c[1:].lower() for c in chans)
                    tok = tok[2 + n:]
                elif key == "MOTION":
                    break
                else:
                    raise ValueError(f"unexpected {tok[0]!r}")
            if tok and tok[0].upper() == "MOTION":
                break
        else:
            raise LiftError(source, _NO_MOTION)
    except (ValueError, IndexError) as err:
        cut = not any(ln.strip().upper() == "MOTION" for ln in lines[i:])
        fix = (_NO_MOTION if cut else "fix: correct that line, or re-export the file from its source")
        raise LiftError(source, f"line {i + 1}: {err}; {fix}") from None
    if stack or not names:
        what = f"{len(stack)} '{{' without a matching '}}'" if stack else "no joints"
        raise LiftError(source, f"the HIERARCHY is incomplete ({what}; truncated or hand-edited?); fix: re-export "
                                "the file from its source, or close each joint's braces before MOTION")
    header: dict[str, str] = {}
    j = i + 1
    while j < len(lines) and len(header) < 2:
        if lines[j].strip():
            k, _, v = lines[j].partition(":")
            header[" ".join(k.split()).lower()] = v.strip()
        j += 1
    try:
        num_frames = int(header["frames"])
        fps = frame_rate(header["frame time"])
    except KeyError:
        raise LiftError(source, f"line {j}: expected 'Frames: N' and 'Frame Time: dt' after MOTION") from None
    except ValueError as err:
        raise LiftError(source, f"line {j}: {err}") from None
    width = sum(len(c) for c in channels)
    rows = [ln for ln in lines[j:] if ln.strip()]
    if len(rows) < num_frames:
        raise LiftError(source, f"declares {num_frames} frames but holds {len(rows)} (truncated file?); "
                        "fix: re-export or re-copy it, or correct the 'Frames:' line to the frames it holds")
    first = j + 1 + next((k for k, ln in enumerate(lines[j:]) if ln.strip()), 0)  # 1-based line of frame 0
    for f, r in enumerate(rows[:num_frames]):
        values = r.split()
        if len(values) != width:
            raise LiftError(source, f"frame {f} (about line {first + f}) holds {len(values)} values, the "
                            f"hierarchy's channels need {width}; the MOTION section is damaged; fix: re-export or "
                            "re-copy it, or correct that frame or the hierarchy's CHANNELS lines")
    try:
        frames = np.array([r.split() for r in rows[:num_frames]], dtype=float)
    except ValueError as err:
        raise LiftError(source, f"a frame value is not a number ({str(err).splitlines()[0]}); the MOTION section "
                        "is damaged; fix: re-export or re-copy it") from None
    if num_frames < 2 or frames.ndim != 2 or frames.shape[1] != width:
        got = frames.shape[1] if frames.ndim == 2 and num_frames else "?"
        raise LiftError(source, f"each frame must hold {width} values and there must be >= 2 frames "
                        f"(got {num_frames} frames of {got})")
    if not np.all(np.isfinite(frames)):
        raise LiftError(source, "frame values contain NaN or Inf")
    return BvhMotion(tuple(names), tuple(parents), np.array(offsets), tuple(channels), frames,
                     float(header["frame time"]), fps)


def bvh_forward_kinematics(motion: BvhMotion) -> tuple[Array, Array]:
    """World positions (F, J, 3) and joint-to-file rotations (F, J, 3, 3) of every joint, in the file's frame
    and units (rotations applied in each joint's channel order, e.g. ZYX means R = Rz Ry Rx)."""
    F, J = len(motion.frames), len(motion.names)
    pos = np.zeros((F, J, 3))
    rots = np.zeros((F, J, 3, 3))
    col = 0
    for j in range(J):
        local = None  # identity until the first rotation channel
        trans = np.tile(motion.offsets[j], (F, 1))
        for c in motion.channels[j]:
            v = motion.frames[:, col]
            col += 1
            if c.endswith("rotation"):
                turn = _principal_rotation("XYZ".index(c[0]), np.radians(v))
                local = turn if local is None else local @ turn
            else:
                trans[:, "XYZ".index(c[0])] = v
        if local is None:
            local = np.broadcast_to(np.eye(3), (F, 3, 3))
        p = motion.parents[j]
        if p < 0:
            pos[:, j], rots[:, j] = trans, local
        else:
            pos[:, j] = pos[:, p] + np.einsum("fij,fj->fi", rots[:, p], trans)
            rots[:, j] = rots[:, p] @ local
    return pos, rots


def _principal_rotation(axis: int, angle: Array) -> Array:
    """Rotations (F, 3, 3) by ``angle`` (F,) [rad] about the file's x, y or z axis (``axis`` 0, 1, 2)."""
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros((len(angle), 3, 3))
    i, k = (axis + 1) % 3, (axis + 2) % 3
    out[:, axis, axis] = 1.0
    out[:, i, i] = out[:, k, k] = c
    out[:, i, k], out[:, k, i] = -s, s
    return out


def bvh_positions(motion: BvhMotion) -> Array:
    """World positions (F, J, 3) of every joint in the file's frame and units."""
    return bvh_forward_kinematics(motion)[0]


#: Weight of each mapped joint in the fit (joints whose placement differs between skeletons count less); SMPL
#: joints not listed here (spine, collars) are not fitted to.
FIT_WEIGHTS: dict[str, float] = {
    "pelvis": 0.5, "neck": 0.3, "head": 0.3, "left_foot": 0.5, "right_foot": 0.5, "left_hand": 0.2, "right_hand": 0.2,
    **{f"{s}_{j}": 1.0 for s in ("left", "right") for j in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")},
}


#: A leading frame is a calibration pose when some joint leaves it for the next frame faster than this [m/s]
#: (0.17 m in one frame at 30 fps; CMU 01_01's T-pose: 0.68 m in one frame at 120 fps, 81 m/s) ...
CALIBRATION_JUMP_MPS = 5.0
#: ... and this many times faster than any joint moves over the next quarter second: a motion's own fastest
#: frame is followed by frames nearly as fast (CMU 01_01: 81 m/s, then at most 0.3 m/s).
CALIBRATION_JUMP_RATIO = 4.0
#: At most this many leading frames are dropped.
MAX_CALIBRATION_FRAMES = 3


class CalibrationFrames(NamedTuple):
    """Leading frames of a capture that are a calibration pose, not the motion: ``count`` frames, left at
    ``jump_mps`` [m/s] (the fastest joint's speed from the last of them to the motion's first frame)."""

    count: int
    jump_mps: float


def calibration_frames(positions: Array, fps: float) -> CalibrationFrames:
    """The calibration pose a capture starts with, if any: many mocap files (CMU's BVH conversions, and
    exports that keep the bind pose) hold a T-pose in frame 0, then jump to the motion. Kept, it starts the
    clip with joints at tens of m/s, which a tracker reads as a motion and falls on (every tracker in the
    project's peer comparison did on CMU 01_01).

    Args:
        positions: (F, J, 3) joint positions [m], any frame.
        fps: frame rate [frames/s].
    Returns:
        the last of the first :data:`MAX_CALIBRATION_FRAMES` frame-to-frame jumps where the fastest joint
        moves faster than :data:`CALIBRATION_JUMP_MPS` and :data:`CALIBRATION_JUMP_RATIO` times faster than
        any joint over the next 0.25 s; ``count`` 0 when there is none (or the clip has under 10 frames).
    """
    if len(positions) < 10:
        return CalibrationFrames(0, 0.0)
    speed = np.linalg.norm(np.diff(positions, axis=0), axis=-1).max(axis=-1) * fps  # (F-1,) fastest joint
    window = max(2, int(np.ceil(0.25 * fps)))
    for count in range(MAX_CALIBRATION_FRAMES, 0, -1):
        jump, after = float(speed[count - 1]), speed[count:count + window]
        if jump > CALIBRATION_JUMP_MPS and jump > CALIBRATION_JUMP_RATIO * float(after.max()):
            return CalibrationFrames(count, jump)
    return CalibrationFrames(0, 0.0)


def bvh_rest_positions(motion: BvhMotion) -> Array:
    """Joint positions (J, 3) of the hierarchy's offsets alone (its rest pose) [file units]."""
    return rest_positions(motion.parents, motion.offsets)


def world_targets(motion: BvhMotion, skeleton: SkeletonMap) -> tuple[Array, Array]:
    """SMPL joint targets (F, 24, 3) [m] in the world (z up, facing +x) and fit weights (F, 24) (0 where the
    skeleton has no such joint)."""
    return _targets(bvh_positions(motion) * skeleton.unit_m @ skeleton.file_to_world.T, skeleton)


def _targets(positions: Array, skeleton: SkeletonMap) -> tuple[Array, Array]:
    targets = np.zeros((len(positions), smpl.NUM_JOINTS, 3))
    weights = np.zeros((len(positions), smpl.NUM_JOINTS))
    for j, (name, k) in enumerate(zip(smpl.JOINT_NAMES, skeleton.source_of, strict=True)):
        if k >= 0 and name in FIT_WEIGHTS:
            targets[:, j] = positions[:, k]
            weights[:, j] = FIT_WEIGHTS[name]
    return targets, weights


class FileJoints(NamedTuple):
    """A BVH file's own joints at the SMPL joints they map to.

    positions: (F, 24, 3) world positions [m] (z up, facing +x), as in the file (not put on the ground);
        zero where ``mapped`` is False.
    mapped: (24,) bool, SMPL joints the file has (``SkeletonMap.source_of >= 0``).
    """

    positions: Array
    mapped: Array


def file_joints(source: str | os.PathLike[str], scale: float | None = None, up: str | None = None) -> FileJoints:
    """The file's own joint positions at SMPL's mapped joints (without a leading calibration pose, as
    :func:`import_bvh`), the reference for the import's joint error:
    ``clip.joints - (file_joints(f).positions - [0, 0, clip.meta["ground_offset_m"]])`` on the mapped joints.

    Raises:
        LiftError: as :func:`import_bvh`.
    """
    name = display_name(source)
    motion = parse_bvh(decode_bvh(read_bytes(source), name), name)
    skeleton = map_skeleton(motion.names, motion.parents, motion.offsets, source=name, up=up, unit_m=scale)
    positions = bvh_positions(motion) * skeleton.unit_m @ skeleton.file_to_world.T
    positions = positions[calibration_frames(positions, motion.fps).count:]  # as import_bvh
    source_of = np.asarray(skeleton.source_of)
    mapped = source_of >= 0
    out = np.zeros((len(positions), smpl.NUM_JOINTS, 3))
    out[:, mapped] = positions[:, source_of[mapped]]
    return FileJoints(out, mapped)


def _closed_form_clip(motion: BvhMotion, skeleton: SkeletonMap, positions: Array, file_rotations: Array,
                      targets: Array, weights: Array, rest_world: Array, rest: Array,
                      meta: dict) -> tuple[SmplClip, float]:
    """The clip by :func:`.closed_form.smpl_pose_from_source` on the rest skeleton ``rest`` (24, 3) (the
    file's proportions; ``rest_world`` (J, 3) is the file's rest pose in the world [m]), put on the ground;
    and its weighted RMS distance [m] to the conformed targets."""
    from .closed_form import smpl_pose_from_source
    from .retarget_joints import body_scale, conform_to_skeleton, ground_offset

    W = skeleton.file_to_world
    rotations = W @ file_rotations @ W.T
    scale = body_scale(targets, weights)
    conformed = conform_to_skeleton(targets, weights, rest)
    go, bp, transl = smpl_pose_from_source(positions, rotations, rest_world, skeleton.source_of, rest)
    joints, _ = smpl.forward_kinematics(go, bp, transl, rest)
    shift = ground_offset(joints, scale)
    transl, joints, conformed = (a - [0.0, 0.0, shift] for a in (transl, joints, conformed))
    w_sum = max(float(np.sum(weights)), 1e-9)
    err = float(np.sqrt(np.sum(weights * np.sum((joints - conformed) ** 2, -1)) / w_sum))
    source_err = float(np.sqrt(np.sum(weights * np.sum((joints - (targets - [0.0, 0.0, shift])) ** 2, -1)) / w_sum))
    meta = {**meta, "body_scale": scale, "fit_rms_error_m": err, "source_rms_distance_m": source_err,
            "ground_offset_m": shift}
    meta["params"] = {**meta.get("params", {}), "body_scale": scale}
    clip = SmplClip(fps=motion.fps, meta=meta, global_orient=go, body_pose=bp, transl=transl,
                    betas=np.zeros(smpl.NUM_BETAS), joints=joints,
                    confidence=np.where(weights > 0, 1.0, 0.5))
    return clip, err


def import_bvh(source: str | os.PathLike[str], scale: float | None = None, up: str | None = None, *,
               refine: bool = False, data: bytes | None = None) -> SmplClip:
    """Import a BVH file as an SMPL clip (z up, metres, ground at z = 0).

    A calibration pose the file starts with is dropped (:func:`calibration_frames`; ``meta["params"]``
    ``calibration_frames_dropped``). SMPL's rotations come in closed form from the file's own rotations
    (:mod:`.closed_form`); with
    ``refine`` they are fitted to the joint positions over the whole sequence instead (:mod:`.fit`, about
    100x slower; it also smooths).

    Args:
        source: ``.bvh`` path, or ``-`` for stdin.
        scale: metres per file unit; found from the skeleton's size when None.
        up: the file's up axis ("y" or "z"; "-y"... too); found from the skeleton when None.
        refine: fit the rotations by optimisation (``--refine``).
        data: the file's bytes when already read (``source`` then only names it).
    Raises:
        LiftError: unreadable or malformed file, or a skeleton that cannot be mapped to SMPL (the message
            says what was found, what is missing and which option fixes it).
    """
    name = display_name(source)
    if scale is not None and not (np.isfinite(scale) and scale > 0):
        raise LiftError(name, f"--scale must be a positive number of metres per file unit, got {scale}")
    text = decode_bvh(read_bytes(source) if data is None else data, name)
    motion = parse_bvh(text, name)
    skeleton = map_skeleton(motion.names, motion.parents, motion.offsets, source=name, up=up, unit_m=scale)
    file_positions, file_rotations = bvh_forward_kinematics(motion)
    positions = file_positions * skeleton.unit_m @ skeleton.file_to_world.T
    calibration = calibration_frames(positions, motion.fps)
    if calibration.count:
        n = calibration.count
        motion = dataclasses.replace(motion, frames=motion.frames[n:])
        positions, file_rotations = positions[n:], file_rotations[n:]
    targets, weights = _targets(positions, skeleton)
    from . import __version__

    mapping = {n: motion.names[k] for n, k in skeleton.mapped().items()}
    meta = make_meta("genmimic-lift", __version__, source=name,
                     params={"importer": "bvh", "unit_m": skeleton.unit_m, "unit": skeleton.unit_source,
                             "up": skeleton.up, "up_axis": skeleton.up_source, "fps": motion.fps,
                             "frame_time_s": motion.frame_time,
                             "mapped": sorted(n for n in mapping if n in FIT_WEIGHTS),
                             "joint_map": mapping, "method": "fit" if refine else "closed_form",
                             "calibration_frames_dropped": calibration.count,
                             "calibration_jump_mps": calibration.jump_mps})
    from .closed_form import source_rest_joints

    rest_world = rest_positions(motion.parents, motion.offsets) * skeleton.unit_m @ skeleton.file_to_world.T
    rest = source_rest_joints(rest_world, skeleton.source_of, motion.parents)
    meta["skeleton"], meta["rest_joints"] = "source", rest.tolist()
    if refine:
        from .retarget_joints import clip_from_positions

        clip, err = clip_from_positions(targets, weights, motion.fps, meta, rest=rest)
    else:
        clip, err = _closed_form_clip(motion, skeleton, positions, file_rotations, targets, weights, rest_world,
                                      rest, meta)
    log.info("%s: %d frames at %g fps, up %s (%s), %g m per unit (%s), %d joints mapped, %s, RMS error to the "
             "conformed joints %.1f mm", name, len(targets), motion.fps, skeleton.up, skeleton.up_source,
             skeleton.unit_m, skeleton.unit_source, len(mapping), "fitted" if refine else "closed form", err * 1e3)
    return clip
