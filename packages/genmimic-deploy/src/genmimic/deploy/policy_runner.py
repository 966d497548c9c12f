"""An exported policy (``policy.onnx`` plus its JSON) run with ONNX Runtime, and its contract checked."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from genmimic.core import g1_constants as g1

from .errors import DeployError


def meta_path(onnx_path: Path) -> Path:
    """The JSON that goes with ``policy.onnx``: ``policy.json`` or ``policy.onnx.json``."""
    for candidate in (onnx_path.with_suffix(".json"), onnx_path.with_name(onnx_path.name + ".json")):
        if candidate.is_file():
            return candidate
    raise DeployError(f"{onnx_path}: no policy JSON beside it (expected {onnx_path.with_suffix('.json').name})")


class OnnxPolicy:
    """Observation (D,) float32 -> action (29,) in SDK order, plus everything the controller needs."""

    def __init__(self, path: str | os.PathLike[str], meta: dict[str, Any] | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise DeployError(f"{self.path}: no such policy file")
        if meta is None:
            try:
                meta = json.loads(meta_path(self.path).read_text())
            except json.JSONDecodeError as err:
                raise DeployError(f"{meta_path(self.path)}: not valid JSON ({err})") from None
        self.meta = meta
        self._check_meta()
        try:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1  # one small MLP: threads only add latency
            self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types
            raise DeployError(f"{self.path}: not a loadable ONNX model ({str(err).splitlines()[0][:120]})") from None
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        size = inp.shape[-1]
        if isinstance(size, int) and size != self.obs_size:
            raise DeployError(f"{self.path}: model takes {size} inputs but its JSON says {self.obs_size}")

    def _check_meta(self) -> None:
        m = self.meta
        missing = [k for k in ("observation", "default_dof_pos", "action_scale", "kp", "kd", "control_period_s",
                               "joint_names") if k not in m]
        if missing:
            raise DeployError(f"{self.path}: policy JSON lacks {', '.join(missing)}")
        if tuple(m["joint_names"]) != g1.JOINT_NAMES:
            raise DeployError(f"{self.path}: policy joint order is not the G1 SDK order")
        if not 0.002 <= float(m["control_period_s"]) <= 0.1:
            raise DeployError(f"{self.path}: implausible control period {m['control_period_s']} s")

    @property
    def obs_size(self) -> int:
        return int(self.meta["observation"]["size"])

    @property
    def control_period(self) -> float:
        return float(self.meta["control_period_s"])

    @property
    def default_dof_pos(self) -> np.ndarray:
        return np.asarray(self.meta["default_dof_pos"], float)

    @property
    def action_scale(self) -> np.ndarray:
        return np.asarray(self.meta["action_scale"], float)

    @property
    def kp(self) -> np.ndarray:
        return np.asarray(self.meta["kp"], float)

    @property
    def kd(self) -> np.ndarray:
        return np.asarray(self.meta["kd"], float)

    def act(self, obs: np.ndarray) -> np.ndarray:
        out = self.session.run(None, {self.input_name: np.asarray(obs, np.float32)[None]})[0]
        return np.asarray(out, float).reshape(-1)[: g1.NUM_DOF]

    def targets(self, action: np.ndarray) -> np.ndarray:
        """Joint position targets [rad] for an action: default pose + scale * action."""
        return self.default_dof_pos + self.action_scale * action
