"""AMASS-style ``.npz`` motions (``poses``, ``trans``, ``betas``, ``mocap_framerate``) into SMPL clips.

AMASS is z up already and follows smplx's conventions, so the parameters are kept; ``poses`` (T, 156)
is SMPL-H (root, 21 body joints, 30 hand joints: the hands are dropped) and (T, 72) plain SMPL. Joint
positions use the user's SMPL model with ``--body-model`` (for the file's ``betas``), else
genmimic.core's default skeleton; the clip is then put on the ground (lowest sole at z = 0).
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np

from genmimic.core import SmplClip, make_meta
from genmimic.core.files import read_bytes

from .errors import LiftError
from .smpl_params import clip_from_smpl_params


def import_amass(source: str | os.PathLike[str], body_model: str | os.PathLike[str] | None = None) -> SmplClip:
    """Import an AMASS-style npz file as an SMPL clip."""
    name = str(source)
    data = read_bytes(source)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LiftError(name, "not an npz archive (wrong file type or truncated)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise LiftError(name, f"damaged npz archive: {str(err).splitlines()[0] if str(err) else err!r}") from None
    missing = [k for k in ("poses", "trans") if k not in arrays]
    if missing:
        raise LiftError(name, f"missing {', '.join(repr(k) for k in missing)}: not an AMASS-style motion "
                        f"(keys: {', '.join(sorted(arrays)) or 'none'})")
    poses, trans = arrays["poses"].astype(float), arrays["trans"].astype(float)
    if poses.ndim != 2 or poses.shape[1] not in (72, 156, 165) or len(trans) != len(poses):
        raise LiftError(name, f"poses: expected (T, 72), (T, 156) or (T, 165) matching trans (T, 3), "
                        f"got {poses.shape} and {trans.shape}")
    fps_key = next((k for k in ("mocap_framerate", "mocap_frame_rate", "fps") if k in arrays), None)
    if fps_key is None:
        raise LiftError(name, "missing 'mocap_framerate' (the frame rate)")
    fps = float(np.asarray(arrays[fps_key]).reshape(-1)[0])
    if not np.isfinite(fps) or fps <= 0:
        raise LiftError(name, f"{fps_key} must be positive, got {fps}")
    betas = arrays.get("betas", np.zeros(10)).astype(float).reshape(-1)
    T = len(poses)
    n_body = 23 if poses.shape[1] == 72 else 21
    from . import __version__

    meta = make_meta("genmimic-lift", __version__, source=name,
                     params={"importer": "amass", "layout": f"poses{poses.shape[1]}"})
    return clip_from_smpl_params(name, poses[:, :3], poses[:, 3:3 + 3 * n_body].reshape(T, n_body, 3), trans,
                                 betas, fps, meta, body_model=body_model)
