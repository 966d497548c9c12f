"""An exported policy (``policy.onnx`` with its :class:`~genmimic.core.runtime.PolicySpec`, read from the JSON
beside it or from the graph's metadata) run with ONNX Runtime: :func:`genmimic.core.runtime.load_onnx_policy`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.runtime import PolicyFileError, load_onnx_policy

from .errors import DeployError


class OnnxPolicy:
    """Observation (D,) float32 -> action (29,) in SDK order, and the policy's ``spec``.

    Raises :class:`DeployError` (one line naming the file) when the file, its spec or the two together
    cannot be used: no such file, no spec, a bad spec field (joint order, period, layout), JSON and graph
    metadata that disagree, or a model whose input size is not the spec's.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.session, self.spec = load_onnx_policy(self.path)
        except PolicyFileError as err:
            raise DeployError(str(err)) from None

    @property
    def obs_size(self) -> int:
        return self.spec.observation.size

    @property
    def control_period(self) -> float:
        """[s]"""
        return self.spec.control_period_s

    @property
    def default_dof_pos(self) -> np.ndarray:
        return np.asarray(self.spec.default_dof_pos, float)

    @property
    def action_scale(self) -> np.ndarray:
        return np.asarray(self.spec.action_scale, float)

    @property
    def kp(self) -> np.ndarray:
        return np.asarray(self.spec.kp, float)

    @property
    def kd(self) -> np.ndarray:
        return np.asarray(self.spec.kd, float)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.asarray(self.session(obs), float).reshape(-1)[: g1.NUM_DOF]

    def targets(self, action: np.ndarray) -> np.ndarray:
        """Joint position targets [rad] for an action: default pose + scale * action."""
        return self.spec.targets(action)
