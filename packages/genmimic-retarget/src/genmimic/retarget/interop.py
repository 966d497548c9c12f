"""The G1 motion formats users already have: BeyondMimic/Unitree CSV and GMR ``.pkl``.

- CSV (BeyondMimic, unitree_rl_mjlab): no header, one row per frame: root ``x,y,z`` [m], root quaternion
  ``qx,qy,qz,qw`` (scalar last), then the 29 joint angles [rad] in SDK order; 30 fps by convention.
- GMR pickle: a dict with ``fps``, ``root_pos`` (T,3), ``root_rot`` (T,4, xyzw), ``dof_pos`` (T,29),
  ``local_body_pos`` (T,B,3: body positions in the root frame) and ``link_body_list`` (B names).
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip, make_meta
from genmimic.core.errors import GenMimicError
from genmimic.core.files import display_name, read_bytes, write_bytes_atomic
from genmimic.core.g1_kinematics import forward_kinematics, g1_clip_from_joints
from genmimic.core.rotations import matrix_from_quat, wxyz_from_xyzw, xyzw_from_wxyz

from . import __version__
from .timeseries import resample_linear, resample_quat, resampled_times

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


def _clip(root_pos, root_quat_wxyz, dof, fps: float, source: str, fmt: str) -> G1Clip:
    norms = np.linalg.norm(root_quat_wxyz, axis=-1)
    if np.any(norms < 1e-6):
        raise InteropError(f"{source}: zero root quaternion at frame {int(np.argmin(norms))}")
    meta = make_meta("genmimic-retarget import", __version__, source=source, params={"format": fmt})
    return g1_clip_from_joints(root_pos, root_quat_wxyz / norms[:, None], dof, fps, meta=meta)


def from_csv(source: str | os.PathLike[str], fps: float = CSV_FPS) -> G1Clip:
    """A G1 clip from a BeyondMimic CSV file (keypoints by forward kinematics, contacts from foot height)."""
    name = display_name(source)
    text = read_bytes(source).decode("utf-8", errors="replace")
    try:
        rows = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)
    except ValueError as err:
        raise InteropError(f"{name}: not a numeric CSV ({str(err).splitlines()[0]})") from None
    if rows.shape[1] != CSV_COLUMNS:
        raise InteropError(f"{name}: expected {CSV_COLUMNS} columns (x,y,z,qx,qy,qz,qw + 29 joints), "
                           f"got {rows.shape[1]}")
    if not np.all(np.isfinite(rows)):
        raise InteropError(f"{name}: contains NaN or Inf")
    if len(rows) < 2:
        raise InteropError(f"{name}: a clip needs at least 2 frames, got {len(rows)}")
    return _clip(rows[:, :3], wxyz_from_xyzw(rows[:, 3:7]), rows[:, 7:], fps, name, "csv")


def from_gmr(source: str | os.PathLike[str]) -> G1Clip:
    """A G1 clip from a GMR pickle. Only open pickles you trust: unpickling can run code."""
    name = display_name(source)
    try:
        data = pickle.loads(read_bytes(source))
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as err:
        raise InteropError(f"{name}: not a readable pickle ({type(err).__name__})") from None
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
    return _clip(root_pos, wxyz_from_xyzw(root_rot), dof, fps, name, "gmr")


def import_clip(source: str | os.PathLike[str], fps: float = CSV_FPS) -> G1Clip:
    """A G1 clip from a CSV (``.csv``) or GMR (``.pkl``) file, by extension."""
    suffix = Path(str(source)).suffix.lower()
    if suffix == ".csv":
        return from_csv(source, fps)
    if suffix in (".pkl", ".pickle"):
        return from_gmr(source)
    raise InteropError(f"{source}: unknown motion file type {suffix or '(none)'!r}; expected .csv or .pkl")
