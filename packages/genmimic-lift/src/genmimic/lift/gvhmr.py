"""GVHMR's output (``hmr4d_results.pt``) into SMPL clips.

The file is a ``torch.save``d dict whose ``smpl_params_global`` holds ``global_orient`` (T, 3),
``body_pose`` (T, 63), ``transl`` (T, 3) and ``betas`` (T, 10). GVHMR's global frame is y up (gravity
along -y) with the person first facing +z, turned here to genmimic's z-up world facing +x. It holds no
frame rate: GVHMR works at 30 frames/s, the default.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np

from genmimic.core import SmplClip, make_meta, smpl
from genmimic.core.files import read_bytes

from .errors import LiftError
from .smpl_params import clip_from_smpl_params

#: GVHMR's y-up global frame to the z-up world (the same turn as SMPL's canonical frame).
GVHMR_TO_WORLD = smpl.CANONICAL_TO_WORLD


def import_gvhmr(source: str | os.PathLike[str], fps: float = 30.0,
                 body_model: str | os.PathLike[str] | None = None) -> SmplClip:
    """Import GVHMR's ``hmr4d_results.pt`` as an SMPL clip (tensors only are loaded: no code runs)."""
    import torch

    name = str(source)
    data = read_bytes(source)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LiftError(name, "not a torch.save file (wrong file type or truncated)")
    try:
        results = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError, KeyError) as err:
        raise LiftError(name, f"cannot read GVHMR results: {str(err).splitlines()[0] if str(err) else err!r}") from None
    params = results.get("smpl_params_global") if isinstance(results, dict) else None
    if not isinstance(params, dict):
        raise LiftError(name, "no 'smpl_params_global' dict: not GVHMR's hmr4d_results.pt")
    missing = [k for k in ("global_orient", "body_pose", "transl") if k not in params]
    if missing:
        raise LiftError(name, f"smpl_params_global lacks {', '.join(missing)}")

    def arr(key: str, default: np.ndarray | None = None) -> np.ndarray:
        value = params.get(key, default)
        return value.detach().double().numpy() if isinstance(value, torch.Tensor) else np.asarray(value, float)

    go, bp, tr = arr("global_orient"), arr("body_pose"), arr("transl")
    betas = arr("betas", np.zeros(10))
    if bp.ndim != 2 or bp.shape[1] % 3:
        raise LiftError(name, f"body_pose: expected (T, 63), got {bp.shape}")
    from . import __version__

    meta = make_meta("genmimic-lift", __version__, source=name, params={"importer": "gvhmr", "fps": fps})
    return clip_from_smpl_params(name, go, bp.reshape(len(bp), -1, 3), tr, betas, fps, meta,
                                 to_world=GVHMR_TO_WORLD, body_model=body_model)
