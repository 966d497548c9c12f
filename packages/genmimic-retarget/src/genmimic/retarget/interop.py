"""The G1 motion formats users already have: BeyondMimic/Unitree CSV and GMR ``.pkl``.

- CSV (BeyondMimic, unitree_rl_mjlab): no header, one row per frame: root ``x,y,z`` [m], root quaternion
  ``qx,qy,qz,qw`` (scalar last), then the 29 joint angles [rad] in SDK order; 30 fps by convention.
- GMR pickle: a dict with ``fps``, ``root_pos`` (T,3), ``root_rot`` (T,4, xyzw), ``dof_pos`` (T,29),
  ``local_body_pos`` (T,B,3: body positions in the root frame) and ``link_body_list`` (B names).
"""

from __future__ import annotations

import io
import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genmimic.core import conventions
from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip, make_meta
from genmimic.core.errors import GenMimicError
from genmimic.core.files import display_name, read_bytes, write_bytes_atomic
from genmimic.core.g1_kinematics import (
    foot_contact_points,
    forward_kinematics,
    g1_clip_from_joints,
    keypoint_positions,
)
from genmimic.core.rotations import matrix_from_quat, wxyz_from_xyzw, xyzw_from_wxyz

from . import __version__
from .timeseries import resample_linear, resample_quat, resampled_times

log = logging.getLogger(__name__)
CSV_FPS = 30.0
CSV_COLUMNS = 7 + g1.NUM_DOF
FORMATS = ("csv", "gmr")


class InteropError(GenMimicError):
    """A CSV or GMR file cannot be read or written."""


def _resampled(clip: G1Clip, fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if fps == clip.fps:
        return clip.root_pos, clip.root_quat, clip.dof_pos
    times = resampled_times(clip.num_frames, clip.fps, fps)
    return (resample_linear(clip.root_pos, clip.fps, times), resample_quat(clip.root_quat, clip.fps, times),
            resample_linear(clip.dof_pos, clip.fps, times))


def to_csv(clip: G1Clip, fps: float = CSV_FPS) -> bytes:
    """The clip as BeyondMimic CSV text, resampled to ``fps``."""
    root_pos, root_quat, dof = _resampled(clip, fps)
    rows = np.concatenate([root_pos, xyzw_from_wxyz(root_quat), dof], axis=1)
    buf = io.StringIO()
    np.savetxt(buf, rows, delimiter=",", fmt="%.7g")
    return buf.getvalue().encode()


def to_gmr(clip: G1Clip) -> bytes:
    """The clip as a GMR-style pickle (protocol 4)."""
    poses = forward_kinematics(clip.root_pos, clip.root_quat, clip.dof_pos)
    root_rot = matrix_from_quat(clip.root_quat)
    local = np.einsum("tji,tbj->tbi", root_rot, poses.pos - clip.root_pos[:, None, :])
    data = {"fps": clip.fps, "root_pos": clip.root_pos, "root_rot": xyzw_from_wxyz(clip.root_quat),
            "dof_pos": clip.dof_pos, "local_body_pos": local, "link_body_list": [b.name for b in g1.BODIES]}
    return pickle.dumps(data, protocol=4)


def export_clip(clip: G1Clip, dest: str | os.PathLike[str], fmt: str, fps: float = CSV_FPS) -> None:
    """Write ``clip`` as ``fmt`` ("csv" or "gmr") to ``dest`` (atomically; ``-`` for stdout)."""
    if fmt not in FORMATS:
        raise InteropError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    write_bytes_atomic(dest, to_csv(clip, fps) if fmt == "csv" else to_gmr(clip))


QUAT_ORDERS = ("xyzw", "wxyz")


@dataclass(frozen=True)
class ImportOptions:
    """How to read a CSV or GMR motion: ``quat_order`` of the root quaternion (None: the format's, xyzw),
    ``scale`` [m per file unit] of ``root_pos``, ``degrees`` (joint angles in degrees), ``ground`` (shift the
    root so the lowest foot is on z = 0 in most frames), ``check`` (refuse clips that break the conventions
    of :mod:`genmimic.core.conventions`)."""

    quat_order: str | None = None
    scale: float = 1.0
    degrees: bool = False
    ground: bool = False
    check: bool = True


def _fix_for(kind: str, problem: str, other_order_upright: bool, options: ImportOptions, fmt: str) -> str:
    if kind in ("upside_down", "lying"):
        if other_order_upright:
            other = "wxyz" if (options.quat_order or "xyzw") == "xyzw" else "xyzw"
            return (f"the root quaternion looks like {other} order (the {fmt.upper()} format says xyzw): "
                    f"pass --quat-order {other}")
        return "check the root quaternion (z up, scalar last in this format), or pass --no-checks to import as is"
    if kind == "unit":
        return f"pass --scale {0.01 if 'centimetres' in problem else 0.001}"
    if kind in ("below_ground", "above_ground"):
        return "pass --ground to put the feet on z = 0 (or check root_pos: z up, metres)"
    if kind == "degrees":
        return "pass --degrees"
    return "check the joint order (29 angles in the G1's SDK order), or pass --no-checks to import as is"


def _clip(root_pos, root_quat_raw, dof, fps: float, source: str, fmt: str,
          options: ImportOptions = ImportOptions()) -> G1Clip:
    """A checked G1 clip from arrays as read (``root_quat_raw`` in the file's order)."""
    if options.quat_order not in (None, *QUAT_ORDERS):
        raise InteropError(f"{source}: unknown quaternion order {options.quat_order!r}; choose xyzw or wxyz")
    if not (np.isfinite(options.scale) and options.scale > 0):
        raise InteropError(f"{source}: --scale must be positive, got {options.scale}")
    norms = np.linalg.norm(root_quat_raw, axis=-1)
    if np.any(norms < 1e-6):
        raise InteropError(f"{source}: zero root quaternion at frame {int(np.argmin(norms))}")
    order = options.quat_order or "xyzw"
    as_wxyz = {"xyzw": wxyz_from_xyzw, "wxyz": np.asarray}
    quat = as_wxyz[order](root_quat_raw / norms[:, None])
    root_pos = np.asarray(root_pos, float) * options.scale
    dof = np.radians(dof) if options.degrees else np.asarray(dof, float)
    params = {"format": fmt, "quat_order": order, "scale": options.scale, "degrees": options.degrees}
    if options.ground:
        soles = foot_contact_points(root_pos, quat, dof)[..., 2]
        shift = float(np.median(soles.reshape(len(soles), -1).min(axis=1))) - g1.FOOT_SPHERE_RADIUS
        root_pos = root_pos - [0.0, 0.0, shift]
        params["ground_shift_m"] = shift
    if options.check:
        keypoints = keypoint_positions(root_pos, quat, dof)
        found = conventions.check_g1_motion(root_pos, quat, dof, keypoints)
        if found:
            other = as_wxyz["wxyz" if order == "xyzw" else "xyzw"](root_quat_raw[:1] / norms[:1, None])
            upright = conventions.g1_root_tilt_deg(other) < 30.0
            raise conventions.ConventionError(source, found[0].problem,
                                              _fix_for(found[0].kind, found[0].problem, upright, options, fmt))
        excess = conventions.joint_excess(dof)
        if excess.max() > 0:
            worst = g1.JOINTS[int(np.argmax(excess.max(axis=0)))].name
            log.warning("%s: joint angles up to %.3f rad outside the G1's limits (worst %s): clamped to the limits",
                        source, excess.max(), worst)
            dof = conventions.clamp_to_limits(dof)
            params["clamped_rad"] = float(excess.max())
    meta = make_meta("genmimic-retarget import", __version__, source=source, params=params)
    return g1_clip_from_joints(root_pos, quat, dof, fps, meta=meta)


def _number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _csv_rows(data: bytes, name: str) -> np.ndarray:
    """The rows (T, 36) of a BeyondMimic CSV. What spreadsheets and pandas add is read with a warning that
    says so: a header row of column names, semicolons as the separator (with decimal commas), a leading index
    column (0, 1, 2, ...: pandas' ``to_csv`` without ``index=False``) and a trailing separator on each row.

    Raises :class:`InteropError` naming the file, the problem and the fix."""
    text = data.decode("utf-8-sig", errors="replace")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise InteropError(f"{name}: empty; expected x,y,z,qx,qy,qz,qw and 29 joint angles per row")
    notes = []
    sep = ";" if ";" in lines[0] else ","
    if sep == ";":
        notes.append("semicolons as the separator" + (" and decimal commas" if "," in text else ""))
    fields = [[f.strip().replace(",", ".") if sep == ";" else f.strip() for f in ln.split(sep)] for ln in lines]
    if not any(_number(f) for f in fields[0] if f):  # column names: the format has none
        notes.append(f"a header row ({lines[0][:40]}{'...' if len(lines[0]) > 40 else ''})")
        fields = fields[1:]
        if not fields:
            raise InteropError(f"{name}: a header row and no motion rows; expected x,y,z,qx,qy,qz,qw and 29 joint "
                               "angles per row")
    if all(row and row[-1] == "" for row in fields):
        notes.append("a trailing separator on each row")
        fields = [row[:-1] for row in fields]
    widths = {len(row) for row in fields}
    if len(widths) != 1:
        row = next(i for i, r in enumerate(fields) if len(r) != len(fields[0]))
        raise InteropError(f"{name}: rows of different lengths ({len(fields[0])} fields in the first, "
                           f"{len(fields[row])} in motion row {row + 1}); fix: export each frame with the same columns")
    try:
        rows = np.array([[float(f) for f in row] for row in fields], dtype=float).reshape(len(fields), -1)
    except ValueError:
        bad = next((i, j) for i, r in enumerate(fields) for j, f in enumerate(r) if not _number(f))
        raise InteropError(f"{name}: not a number at motion row {bad[0] + 1}, column {bad[1] + 1} "
                           f"({fields[bad[0]][bad[1]][:20]!r}); expected x,y,z,qx,qy,qz,qw and 29 joint angles per "
                           "row") from None
    if rows.shape[1] == CSV_COLUMNS + 1 and np.array_equal(rows[:, 0], np.arange(len(rows)) + rows[0, 0]):
        notes.append("a leading index column (0, 1, 2, ...)")
        rows = rows[:, 1:]
    if rows.shape[1] != CSV_COLUMNS:
        raise InteropError(f"{name}: expected {CSV_COLUMNS} columns (x,y,z,qx,qy,qz,qw + 29 joints), "
                           f"got {rows.shape[1]}; fix: export the G1 motion with its root pose and all 29 joint "
                           "angles per row, in the Unitree SDK joint order (LAFAN1/BeyondMimic CSV)")
    if not np.all(np.isfinite(rows)):
        bad = np.argwhere(~np.isfinite(rows))[0]
        raise InteropError(f"{name}: contains NaN or Inf (first at motion row {bad[0] + 1}, column {bad[1] + 1}); "
                           "fix: export it again, or fill or cut those rows")
    if len(rows) < 2:
        raise InteropError(f"{name}: a clip needs at least 2 frames, got {len(rows)}")
    if notes:
        log.warning("%s: read with %s (not in the format; check the motion)", name, ", ".join(notes))
    return rows


def from_csv(source: str | os.PathLike[str], fps: float = CSV_FPS, options: ImportOptions = ImportOptions(), *,
             data: bytes | None = None) -> G1Clip:
    """A G1 clip from a BeyondMimic CSV file (keypoints by forward kinematics, contacts from foot height).

    ``data``: the file's bytes when already read (``source`` then only names it). Raises
    :class:`InteropError` for a malformed file and :class:`~genmimic.core.conventions.ConventionError` for one
    that breaks the conventions (with the option that fixes it).
    """
    name = display_name(source)
    rows = _csv_rows(read_bytes(source) if data is None else data, name)
    return _clip(rows[:, :3], rows[:, 3:7], rows[:, 7:], fps, name, "csv", options)


def from_gmr(source: str | os.PathLike[str], options: ImportOptions = ImportOptions(), *,
             data: bytes | None = None) -> G1Clip:
    """A G1 clip from a GMR pickle; keys it does not use (``local_body_pos``...) are ignored. Only open
    pickles you trust: unpickling can run code. Errors as :func:`from_csv`."""
    name = display_name(source)
    try:
        data = pickle.loads(read_bytes(source) if data is None else data)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as err:
        raise InteropError(f"{name}: not a readable pickle ({type(err).__name__}); expected a GMR motion .pkl"
                           ) from None
    if not isinstance(data, dict):
        raise InteropError(f"{name}: expected a dict, got {type(data).__name__}")
    missing = [k for k in ("fps", "root_pos", "root_rot", "dof_pos") if k not in data]
    if missing:
        raise InteropError(f"{name}: missing key {missing[0]!r} of a GMR motion")
    try:
        fps = float(np.asarray(data["fps"]).item())
        root_pos, root_rot, dof = (np.asarray(data[k], dtype=float) for k in ("root_pos", "root_rot", "dof_pos"))
    except (TypeError, ValueError) as err:
        raise InteropError(f"{name}: non-numeric motion arrays ({err})") from None
    if dof.ndim != 2 or dof.shape[1] != g1.NUM_DOF:
        raise InteropError(f"{name}: dof_pos must be (T, 29) for the G1, got {dof.shape}")
    if root_pos.shape != (len(dof), 3) or root_rot.shape != (len(dof), 4):
        raise InteropError(f"{name}: root_pos/root_rot shapes {root_pos.shape}/{root_rot.shape} do not match "
                           f"{len(dof)} frames")
    if not (np.isfinite(fps) and fps > 0):
        raise InteropError(f"{name}: fps must be positive, got {fps}")
    for key, arr in (("root_pos", root_pos), ("root_rot", root_rot), ("dof_pos", dof)):
        if not np.all(np.isfinite(arr)):
            frame = int(np.argwhere(~np.isfinite(arr))[0][0])
            raise InteropError(f"{name}: {key} contains NaN or Inf (first at frame {frame}); fix: retarget it "
                               "again, or fill or cut those frames")
    if len(dof) < 2:
        raise InteropError(f"{name}: a clip needs at least 2 frames, got {len(dof)}")
    return _clip(root_pos, root_rot, dof, fps, name, "gmr", options)


def sniff_format(data: bytes) -> str:
    """"gmr" for a pickle (protocol 2+ starts with 0x80), else "csv"."""
    return "gmr" if data[:1] == b"\x80" else "csv"


def import_clip(source: str | os.PathLike[str], fps: float = CSV_FPS,
                options: ImportOptions = ImportOptions()) -> G1Clip:
    """A G1 clip from a CSV (``.csv``) or GMR (``.pkl``) file, by extension; ``-`` reads stdin and tells the
    two apart by content. ``fps`` is the CSV's frame rate (GMR files carry theirs)."""
    if str(source) == "-":
        data = read_bytes(source)
        if sniff_format(data) == "gmr":
            return from_gmr(source, options, data=data)
        return from_csv(source, fps, options, data=data)
    suffix = Path(str(source)).suffix.lower()
    if suffix == ".csv":
        return from_csv(source, fps, options)
    if suffix in (".pkl", ".pickle"):
        return from_gmr(source, options)
    raise InteropError(f"{source}: unknown motion file type {suffix or '(none)'!r}; expected .csv or .pkl "
                       "(or - for stdin)")
