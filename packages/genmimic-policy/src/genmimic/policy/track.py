"""Run a tracker (a :class:`~genmimic.policy.controllers.Controller`) in C MuJoCo on a G1 clip and record
what the robot physically did.

Controllers read the simulated IMU (gyro and orientation sensors on ``imu_in_pelvis``) and joint encoders,
exactly as genmimic-deploy reads them from ``rt/lowstate`` (model-based ones may read the full state).
The output :class:`Trajectory` has the input clip's frame rate and length (the 50 Hz simulation is
sampled at the clip's frame times).
"""

from __future__ import annotations

import logging
import os
from typing import NamedTuple

import mujoco
import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip, Trajectory, make_meta
from genmimic.core.g1_model import joint_dof_indices, joint_qpos_indices, load_mujoco_model
from genmimic.core.rotations import quat_normalize, quat_rotate
from genmimic.core.runtime import Inference, PolicySpec, ReferenceMotion, reference_from_clip
from genmimic.core.standing import resolve_lead_in, with_standing_start
from genmimic.core.tracking import fallen, legacy_success

from . import __version__
from .config import SIM_DT
from .controllers import Controller, PolicyController, RobotState
from .env_cpu import keypoint_site_ids
from .errors import PolicyError
from .rewards import mean_keypoint_error

log = logging.getLogger(__name__)


class Rollout(NamedTuple):
    """The robot at every control step (T = reference frames): world frame, SDK joint order."""

    root_pos: np.ndarray
    root_quat: np.ndarray
    dof_pos: np.ndarray
    dof_vel: np.ndarray
    torque: np.ndarray
    root_lin_vel: np.ndarray
    root_ang_vel: np.ndarray  # world frame
    keypoints: np.ndarray
    fallen: np.ndarray


def _sensor(model: mujoco.MjModel, data: mujoco.MjData, name: str) -> np.ndarray:
    s = model.sensor(name)
    return data.sensordata[s.adr[0]: s.adr[0] + s.dim[0]].copy()


def simulate(ref: ReferenceMotion, controller: Controller, frame_callback=None) -> Rollout:
    """Run ``controller`` for the whole reference (no noise, no randomisation), starting in its first state.

    ``ref`` is at the controller's control period. The model's position actuators use the controller's
    PD gains; physics steps are :data:`~genmimic.policy.config.SIM_DT` (5 ms).
    """
    model = load_mujoco_model(gains=controller.gains)
    model.opt.timestep = SIM_DT
    data = mujoco.MjData(model)
    qi, di, sites = joint_qpos_indices(model), joint_dof_indices(model), keypoint_site_ids(model)
    substeps = round(controller.control_period_s / SIM_DT)
    data.qpos[0:3], data.qpos[3:7], data.qpos[qi] = ref.root_pos[0], ref.root_quat[0], ref.dof_pos[0]
    data.qvel[0:3], data.qvel[3:6], data.qvel[di] = ref.root_lin_vel[0], ref.root_ang_vel[0], ref.dof_vel[0]
    data.ctrl[:] = ref.dof_pos[0]
    mujoco.mj_forward(model, data)
    controller.reset(ref)
    cols: dict[str, list] = {k: [] for k in Rollout._fields}
    fell = False
    for t in range(ref.num_frames):
        quat = _sensor(model, data, "imu_quat")
        fell = fell or bool(fallen(np, data.qpos[0:3], data.qpos[3:7], ref.root_pos[t, 2]))
        for name, value in (("root_pos", data.qpos[0:3]), ("root_quat", data.qpos[3:7]), ("dof_pos", data.qpos[qi]),
                            ("dof_vel", data.qvel[di]), ("torque", data.actuator_force),
                            ("root_lin_vel", data.qvel[0:3]),
                            ("root_ang_vel", quat_rotate(data.qpos[3:7], data.qvel[3:6])),
                            ("keypoints", data.site_xpos[sites]), ("fallen", fell)):
            cols[name].append(np.array(value, copy=True))
        if frame_callback is not None:
            frame_callback(t, data)
        if t == ref.num_frames - 1:
            break
        state = RobotState(t, data.qpos[qi].copy(), data.qvel[di].copy(), quat, _sensor(model, data, "imu_gyro"),
                           data.qpos.copy(), data.qvel.copy())
        data.ctrl[:] = controller.act(state)
        for _ in range(substeps):
            mujoco.mj_step(model, data)
        mujoco.mj_forward(model, data)  # sensors of the new state (mj_step leaves them one substep behind)
    return Rollout(*(np.stack(cols[k]) for k in Rollout._fields))


def _resample(x: np.ndarray, src_t: np.ndarray, dst_t: np.ndarray) -> np.ndarray:
    pos = np.clip(np.searchsorted(src_t, dst_t, side="right") - 1, 0, len(src_t) - 2)
    w = np.clip((dst_t - src_t[pos]) / (src_t[pos + 1] - src_t[pos]), 0, 1).reshape((-1,) + (1,) * (x.ndim - 1))
    return (1 - w) * x[pos] + w * x[pos + 1]


def track_clip(clip: G1Clip, controller: Controller | Inference, spec: PolicySpec | None = None,
               source: str = "clip", render: str | os.PathLike[str] | None = None,
               version: str | None = None, lead_in_s: float | None = None) -> Trajectory:
    """Track ``clip`` with ``controller`` (a :class:`Controller`, or a student policy
    (:class:`~genmimic.core.runtime.Inference`) with its ``spec``); a :class:`Trajectory` at the clip's frame
    rate and length, the controller and the lead-in named in its meta.

    ``lead_in_s`` [s]: the robot starts standing and tracks a standing pose blended into the clip's first frame
    (:func:`genmimic.core.standing.with_standing_start`) for this long before the clip; the trajectory covers
    the clip only (a fall during the lead-in marks every frame fallen). None:
    :func:`~genmimic.core.standing.auto_lead_in_s`; 0: the robot starts in the clip's first state.

    Raises :class:`PolicyError` when a policy comes without its spec or does not match it, or when
    ``lead_in_s`` is negative.
    """
    if not hasattr(controller, "act"):
        if spec is None:
            raise PolicyError(f"{source}: a policy needs its spec")
        controller = PolicyController(controller, spec, source)
    try:
        lead_in_s = resolve_lead_in(clip, lead_in_s)
    except ValueError as e:
        raise PolicyError(f"{source}: {e}") from None
    full = with_standing_start(clip, lead_in_s) if lead_in_s > 0 else clip
    lead = (full.num_frames - clip.num_frames) / clip.fps  # [s]
    ref = reference_from_clip(full, controller.control_period_s, source)
    recorder = None
    if render is not None:
        from .render import VideoRecorder

        recorder = VideoRecorder(render, ref.dt)
    try:
        roll = simulate(ref, controller, recorder.frame if recorder else None)
    except BaseException:
        if recorder is not None:
            recorder.close(keep=False)
        raise
    if recorder is not None:
        recorder.close()
    src_t = np.arange(ref.num_frames) * ref.dt - lead
    dst_t = np.minimum(np.arange(clip.num_frames) / clip.fps, src_t[-1])
    r = {k: _resample(getattr(roll, k).astype(float), src_t, dst_t) for k in Rollout._fields}
    fallen = r["fallen"] > 0
    quat = quat_normalize(r["root_quat"])
    error = mean_keypoint_error(np, r["keypoints"], clip.keypoints)
    feet = r["keypoints"][:, [g1.KEYPOINT_NAMES.index("left_ankle"), g1.KEYPOINT_NAMES.index("right_ankle")], 2]
    params = {"controller": controller.name, "control_period_s": ref.dt,
              "fell": bool(fallen.any()), "mean_keypoint_error_m": float(error.mean()), "lead_in_s": lead}
    return Trajectory(
        fps=clip.fps, meta=make_meta("genmimic-policy track", version or __version__, source=source, params=params,
                                     parent=clip.meta),
        root_pos=r["root_pos"], root_quat=quat, dof_pos=r["dof_pos"], keypoints=r["keypoints"],
        contacts=feet < 0.06, dof_vel=r["dof_vel"], torque=r["torque"], root_lin_vel=r["root_lin_vel"],
        root_ang_vel=r["root_ang_vel"], reference_keypoints=clip.keypoints, tracking_error=error, fallen=fallen)


def success(traj: Trajectory) -> bool:
    """The legacy criterion (:func:`genmimic.core.tracking.legacy_success`) from the trajectory's own
    ``fallen`` and ``tracking_error``; :func:`~genmimic.core.tracking.score_trajectory` gives the strict one."""
    return legacy_success(traj.fell, float(traj.tracking_error.mean()))
