"""A deterministic policy as plain NumPy arrays: what ``track`` and genmimic-deploy run (no JAX)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

NORM_CLIP = 10.0  #: normalised observations are clipped to +- this
STD_EPS = 1e-6  #: added to the running variance before the square root


class NumpyPolicy(NamedTuple):
    """A deterministic policy as plain arrays: normaliser ``mean``, ``std`` (D,), and dense layers
    ``weights[i]`` (in, out), ``biases[i]`` (out,), ELU between layers."""

    mean: np.ndarray
    std: np.ndarray
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = np.clip((np.asarray(obs, np.float32) - self.mean) / self.std, -NORM_CLIP, NORM_CLIP)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = x @ w + b
            if i < len(self.weights) - 1:
                x = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
        return x

    @property
    def obs_size(self) -> int:
        return int(self.mean.shape[0])


