"""GVHMR's output (``hmr4d_results.pt``) into SMPL clips.

The file is a ``torch.save``d dict whose ``smpl_params_global`` holds ``global_orient`` (T, 3),
``body_pose`` (T, 63), ``transl`` (T, 3) and ``betas`` (T, 10). GVHMR's global frame is y up (gravity
along -y) with the person first facing +z, turned here to genmimic's z-up world facing +x (``up="z"``
keeps a file that is z up already). The file holds no frame rate (GVHMR keeps every frame of its video),
so it comes from a ``fps`` entry where a tool added one, else from ``fps=`` (``--fps``, the video's rate);
with neither the file is refused rather than assumed to be 30 frames/s.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np

from genmimic.core import SmplClip, make_meta, smpl
from genmimic.core.files import display_name, read_bytes

from .errors import LiftError
from .smpl_params import clip_from_smpl_params

#: GVHMR's y-up global frame to the z-up world (the same turn as SMPL's canonical frame).
GVHMR_TO_WORLD = smpl.CANONICAL_TO_WORLD


def import_gvhmr(source: str | os.PathLike[str], fps: float | None = None,
                 body_model: str | os.PathLike[str] | None = None, *, up: str | None = None,
                 data: bytes | None = None) -> SmplClip:
    """Import GVHMR's ``hmr4d_results.pt`` as an SMPL clip (tensors only are loaded: no code runs).

    Args:
        source: the ``.pt`` path, or ``-`` for stdin. fps: the frame rate [1/s] of the video GVHMR ran on.
        body_model: a user's SMPL model file or folder. up: "y" (GVHMR, default) or "z".
        data: the file's bytes when already read (``source`` then only names it).
    Raises:
        LiftError: not a torch file, no ``smpl_params_global``, malformed arrays, or no frame rate.
    """
    import torch

    name = display_name(source)
    data = read_bytes(source) if data is None else data
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

    stored = results.get("fps")
    if stored is not None:
        stored = float(np.asarray(stored.item() if isinstance(stored, torch.Tensor) else stored).reshape(-1)[0])
        if fps is not None and abs(stored - fps) > 1e-6 * stored:
            raise LiftError(name, f"--fps {fps:g} differs from the file's fps {stored:g}; drop --fps")
        fps = stored
    if fps is None:
        raise LiftError(name, "GVHMR results hold no frame rate: pass --fps (the frame rate of the video "
                        "GVHMR ran on)")
    if not (np.isfinite(fps) and fps > 0):
        raise LiftError(name, f"the frame rate must be positive, got {fps}")
    to_world = {None: GVHMR_TO_WORLD, "y": GVHMR_TO_WORLD, "+y": GVHMR_TO_WORLD, "z": None, "+z": None}
    if up not in to_world:
        raise LiftError(name, f"--up {up} is not supported for GVHMR results; choose y (GVHMR) or z")
    go, bp, tr = arr("global_orient"), arr("body_pose"), arr("transl")
    betas = arr("betas", np.zeros(10))
    if bp.ndim != 2 or bp.shape[1] % 3:
        raise LiftError(name, f"body_pose: expected (T, 63), got {bp.shape}")
    from . import __version__

    meta = make_meta("genmimic-lift", __version__, source=name, params={"importer": "gvhmr", "fps": fps,
                                                                   "up": (up or "y").lstrip("+")})
    return clip_from_smpl_params(name, go, bp.reshape(len(bp), -1, 3), tr, betas, fps, meta,
                                 to_world=to_world[up], body_model=body_model)
