"""A user's SMPL body model (read with smplx): rest joints as a linear function of ``betas``, and the
``betas`` that give wanted bone lengths."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from genmimic.core import smpl
from genmimic.core.errors import ModelError

Array = NDArray[np.float64]
BONES = tuple((j, p) for j, p in enumerate(smpl.PARENTS) if p >= 0)


def shape_basis(model_path: str | os.PathLike[str], gender: str = "neutral") -> tuple[Array, Array]:
    """Rest joints at zero shape (24, 3) [m] and their change per unit of each beta (24, 3, 10): the model's
    joint regressor applied to its template and shape directions (SMPL's rest joints are linear in betas)."""
    try:
        import smplx
        import torch
    except ImportError as err:  # pragma: no cover - both are dependencies of this package
        raise ModelError(f"SMPL model files need smplx and torch ({err})") from None
    path = Path(model_path)
    if not path.exists():
        raise ModelError(f"{path}: no such SMPL model file or folder")
    try:
        model = smplx.create(str(path), model_type="smpl", gender=gender, num_betas=smpl.NUM_BETAS)
        with torch.no_grad():
            out = [model(betas=torch.as_tensor(b, dtype=torch.float32)[None], return_verts=False).joints[0, :24]
                   for b in np.vstack([np.zeros(smpl.NUM_BETAS), np.eye(smpl.NUM_BETAS)])]
    except (OSError, ValueError, KeyError, AssertionError, RuntimeError, pickle.UnpicklingError, EOFError) as err:
        raise ModelError(f"{path}: cannot load SMPL model: {str(err).splitlines()[0] if str(err) else err!r}") from None
    joints = np.stack([o.numpy().astype(np.float64) for o in out])
    return joints[0], np.moveaxis(joints[1:] - joints[0], 0, -1)


def fit_betas(base: Array, basis: Array, bone_lengths: dict[tuple[int, int], float], prior: float = 0.01) -> Array:
    """``betas`` (10,) whose rest skeleton has the given bone lengths [m] ((joint, parent) -> length),
    with a small pull toward zero (``prior``)."""
    pairs = list(bone_lengths)
    want = np.array([bone_lengths[p] for p in pairs])

    def residual(b: Array) -> Array:
        rest = base + basis @ b
        got = np.array([np.linalg.norm(rest[j] - rest[p]) for j, p in pairs])
        return np.concatenate([(got - want) / np.maximum(want, 1e-3), prior * b])

    return least_squares(residual, np.zeros(smpl.NUM_BETAS), bounds=(-5.0, 5.0)).x
