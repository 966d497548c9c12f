"""All keypoint frame tasks of the IK as one task (the same QP as one ``pink.FrameTask`` per keypoint).

Pink builds the QP objective task by task, each in Python (error, Jacobian, a 6 x 6 weight matrix, two
products); with 14 keypoint tasks and two QP solves per frame that overhead was most of the retargeting
time. :class:`KeypointTasks` stacks them: one error (6K,), one Jacobian (6K, nv), one weight per row,
so ``H = (W J)^T (W J)`` and ``c = -(W e)^T (W J)`` are two matrix products per solve. Each block is exactly
Pink's ``FrameTask`` (body twist ``e = log(T_frame^-1 T_target)`` [m, rad], Jacobian
``-Jlog6(T_target^-1 T_frame) J_frame`` in the local frame, linear coordinates first), with gain 1 and no
Levenberg-Marquardt damping (``FrameTask``'s defaults); tests check the equality.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pinocchio as pin


class Configuration(Protocol):
    """What the task reads of a configuration (:class:`.ik.Kinematics` or Pink's ``Configuration``): the model
    and its data after forward kinematics (joint Jacobians and frame placements computed)."""

    model: pin.Model
    data: pin.Data


class KeypointTasks:
    """Frame tasks for ``frames`` of a configuration, as one stacked task (a Pink task by its methods).

    Args:
        model: the robot's pinocchio model (frames looked up by name once).
        frames: frame names, K of them.
        position_costs, orientation_costs: (K,) costs [cost/m] and [cost/rad] of each frame's task.
    Raises:
        KeyError: a frame name the model does not have (the message lists none of the ~100 frames).
    """

    def __init__(self, model: pin.Model, frames: Sequence[str], position_costs: Sequence[float],
                 orientation_costs: Sequence[float]) -> None:
        missing = [f for f in frames if not model.existFrame(f)]
        if missing:
            raise KeyError(f"frames not in the model: {', '.join(missing)}")
        self.cost = np.repeat(np.stack([position_costs, orientation_costs], axis=1), 3, axis=1).reshape(-1)
        self.frames = tuple(frames)
        self.frame_ids = [model.getFrameId(f) for f in frames]
        self.targets: list[pin.SE3] = [pin.SE3.Identity() for _ in frames]

    def set_targets(self, rotations: np.ndarray, positions: np.ndarray) -> None:
        """Target poses: ``rotations`` (K, 3, 3) frame-to-world and ``positions`` (K, 3) [m], world frame."""
        self.targets = [pin.SE3(r, p) for r, p in zip(rotations, positions, strict=True)]

    def set_costs(self, position_costs: np.ndarray, orientation_costs: np.ndarray) -> None:
        """Per-frame costs (K,) [cost/m], [cost/rad]."""
        self.cost = np.repeat(np.stack([position_costs, orientation_costs], axis=1), 3, axis=1).reshape(-1)

    def _blocks(self, configuration: Configuration) -> tuple[np.ndarray, np.ndarray]:
        data, model = configuration.data, configuration.model
        frames, local = data.oMf, pin.ReferenceFrame.LOCAL
        errors, jlogs, jacobians = [], [], []
        for fid, target in zip(self.frame_ids, self.targets, strict=True):
            target_to_frame = frames[fid].actInv(target)
            errors.append(pin.log6(target_to_frame).vector)
            jlogs.append(pin.Jlog6(target_to_frame.inverse()))
            jacobians.append(pin.getFrameJacobian(model, data, fid, local))
        jac = np.matmul(np.array(jlogs), np.array(jacobians)).reshape(6 * len(errors), model.nv)
        return np.concatenate(errors), np.negative(jac, out=jac)

    def compute_error(self, configuration: Configuration) -> np.ndarray:
        """Stacked body twists (6K,) from each frame to its target [m, rad]."""
        return self._blocks(configuration)[0]

    def compute_jacobian(self, configuration: Configuration) -> np.ndarray:
        """Stacked Jacobians (6K, nv) of :meth:`compute_error`."""
        return self._blocks(configuration)[1]

    def compute_qp_objective(self, configuration: Configuration) -> tuple[np.ndarray, np.ndarray]:
        """``(H, c)`` of ``1/2 |W (J dq - e)|^2`` (Pink's task objective with gain 1, no damping)."""
        error, jac = self._blocks(configuration)
        weighted_jac = self.cost[:, None] * jac
        weighted_error = -self.cost * error
        return weighted_jac.T @ weighted_jac, -weighted_error @ weighted_jac

    def __repr__(self) -> str:
        return f"KeypointTasks(frames={list(self.frames)}, cost={self.cost.tolist()})"
