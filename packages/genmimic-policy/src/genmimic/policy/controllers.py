"""Trackers behind one interface: anything that maps (robot state, reference motion) to joint targets.

``track`` (and through it ``evaluate``, the demo and the benchmark) runs any :class:`Controller` in C MuJoCo:
the learned student (:class:`PolicyController`), open-loop replay (:class:`ReplayController`), and others
registered by name in :data:`CONTROLLERS` (the sampling MPC, peers' ONNX trackers). A controller states
its PD gains (the simulator's position actuators use them) and its control period; at every control step
it gets a :class:`RobotState` and returns joint position targets [rad] in the G1's SDK order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.runtime import Inference, PolicySpec, ReferenceMotion, StudentObservationBuilder

from . import onnx_tracker
from .errors import PolicyError


class RobotState(NamedTuple):
    """What a controller may read at control step ``t`` (reference frame ``t``).

    Sensors, as on the robot: ``dof_pos`` (29,) [rad] and ``dof_vel`` (29,) [rad/s] in SDK order,
    ``imu_quat`` (4,) wxyz and ``imu_gyro`` (3,) [rad/s, pelvis frame]. Full simulator state, for
    model-based controllers that assume state estimation: ``qpos`` (36,), ``qvel`` (35,) in the project's
    MuJoCo model's order (free joint first: position [m], wxyz; world linear and local angular velocity).
    """

    t: int
    dof_pos: np.ndarray
    dof_vel: np.ndarray
    imu_quat: np.ndarray
    imu_gyro: np.ndarray
    qpos: np.ndarray
    qvel: np.ndarray


class Controller(Protocol):
    """A tracker. ``name`` goes into the trajectory's meta; ``gains`` are the PD gains of the position
    actuators it commands; ``control_period_s`` its period [s] (a multiple of the 5 ms physics step)."""

    name: str
    gains: g1.PDGains
    control_period_s: float

    def reset(self, reference: ReferenceMotion) -> None:
        """Start a new episode on ``reference`` (resampled to ``control_period_s``)."""

    def act(self, state: RobotState) -> np.ndarray:
        """Joint position targets (29,) [rad], SDK order, for the next control period."""


class PolicyController:
    """The learned student (any :class:`~genmimic.core.runtime.Inference`, NumPy or ONNX, and its
    :class:`~genmimic.core.runtime.PolicySpec`), fed from the IMU and joint encoders through
    :class:`~genmimic.core.runtime.StudentObservationBuilder`, exactly as genmimic-deploy feeds it.

    Raises :class:`PolicyError` when the policy's input size is not its spec's.
    """

    def __init__(self, policy: Inference, spec: PolicySpec, source: str = "policy") -> None:
        if policy.obs_size and spec.observation.size != policy.obs_size:
            raise PolicyError(f"{source}: policy expects {policy.obs_size} observations, its spec says "
                              f"{spec.observation.size}")
        self.policy, self.spec = policy, spec
        self.name = spec.name
        self.gains = spec.gains
        self.control_period_s = spec.control_period_s
        self.default = np.asarray(spec.default_dof_pos)
        self.scale = np.asarray(spec.action_scale)
        self._builder: StudentObservationBuilder | None = None
        self._last = np.zeros(g1.NUM_DOF)

    def reset(self, reference: ReferenceMotion) -> None:
        self._builder = StudentObservationBuilder.for_spec(reference, self.spec)
        self._last = self.spec.holding_action(reference.dof_pos[0])

    def act(self, state: RobotState) -> np.ndarray:
        if self._builder is None:
            raise PolicyError("PolicyController.act called before reset")
        o = self._builder.observe(state.t, state.dof_pos, state.dof_vel, state.imu_gyro, state.imu_quat, self._last)
        action = self.spec.clip_action(np.asarray(self.policy(o), float).reshape(-1))
        self._last = action
        return self.spec.targets(action)


class ReplayController:
    """Open-loop replay: the reference's joint angles as PD targets, nothing balances the robot. The gap
    between a tracker and this is what the tracker contributes."""

    name = "replay"
    control_period_s = 0.02

    def __init__(self, gains: g1.PDGains = g1.TRACKING_GAINS) -> None:
        self.gains = gains
        self._ref: ReferenceMotion | None = None

    def reset(self, reference: ReferenceMotion) -> None:
        self._ref = reference

    def act(self, state: RobotState) -> np.ndarray:
        if self._ref is None:
            raise PolicyError("ReplayController.act called before reset")
        return np.asarray(self._ref.dof_pos[min(state.t + 1, self._ref.num_frames - 1)], float)


def _policy_controller(policy: str | None = None, **_: Any) -> Controller:
    from .run_dir import load_policy_or_run

    net, spec = load_policy_or_run(policy)
    return PolicyController(net, spec, source=str(policy or "shipped policy"))


def _replay_controller(**_: Any) -> Controller:
    return ReplayController()


#: Controllers by name: a factory taking keyword options (``policy``: a policy file or run directory, ...).
CONTROLLERS: dict[str, Callable[..., Controller]] = {"policy": _policy_controller, "replay": _replay_controller}


def _mpc_controller(**options: Any) -> Controller:
    from .mpc import make_mpc

    return make_mpc(**options)


CONTROLLERS["mpc"] = _mpc_controller  # the sampling MPC (genmimic.policy.mpc), no training needed
CONTROLLERS.update(twist2=onnx_tracker.twist2_controller, onnx=onnx_tracker.onnx_controller)  # peers (ONNX + spec)


def make_controller(name: str, **options: Any) -> Controller:
    """The controller ``name`` (see :data:`CONTROLLERS`); :class:`PolicyError` naming the known ones."""
    if name not in CONTROLLERS:
        raise PolicyError(f"unknown controller {name!r} (known: {', '.join(CONTROLLERS)})")
    return CONTROLLERS[name](**options)
