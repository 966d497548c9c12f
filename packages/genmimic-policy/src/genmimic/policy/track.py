"""Run a student policy in C MuJoCo on a G1 clip and record what the robot physically did.

The student's observation comes from :class:`~genmimic.policy.observation.StudentObservationBuilder`
fed with the simulated IMU (gyro and orientation sensors on ``imu_in_pelvis``) and joint encoders,
exactly as genmimic-deploy feeds it from ``rt/lowstate``. The output :class:`Trajectory` has the input
clip's frame rate and length (the 50 Hz simulation is sampled at the clip's frame times).
"""

from __future__ import annotations

import logging
import os
from typing import Any, NamedTuple

import mujoco
import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip, Trajectory, make_meta
from genmimic.core.g1_model import joint_dof_indices, joint_qpos_indices, load_mujoco_model
from genmimic.core.rotations import quat_normalize, quat_rotate

from .config import SIM_DT
from .env_cpu import keypoint_site_ids
from .errors import PolicyError
from .numpy_policy import NumpyPolicy
from .observation import StudentObservationBuilder
from .reference import ReferenceMotion, reference_from_clip
from .rewards import mean_keypoint_error

log = logging.getLogger(__name__)
SUCCESS_ERROR = 0.25  #: [m] mean keypoint error under which (and no fall) a tracked clip counts as a success


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


def _fell(root_pos: np.ndarray, quat: np.ndarray, ref_height: float, tilt: float = 1.0, drop: float = 0.3) -> bool:
    up = quat_rotate(quat, np.array([0.0, 0.0, 1.0]))[2]
    return bool(up < np.cos(tilt) or root_pos[2] < ref_height - drop)


def simulate(ref: ReferenceMotion, policy: NumpyPolicy, meta: dict[str, Any], frame_callback=None) -> Rollout:
    """Run ``policy`` for the whole reference (no noise, no randomisation), starting in its first state."""
    model = load_mujoco_model(gains=g1.PDGains("policy", tuple(meta["kp"]), tuple(meta["kd"])))
    model.opt.timestep = SIM_DT
    data = mujoco.MjData(model)
    qi, di, sites = joint_qpos_indices(model), joint_dof_indices(model), keypoint_site_ids(model)
    substeps = round(meta["control_period_s"] / SIM_DT)
    default, scale = np.asarray(meta["default_dof_pos"]), np.asarray(meta["action_scale"])
    data.qpos[0:3], data.qpos[3:7], data.qpos[qi] = ref.root_pos[0], ref.root_quat[0], ref.dof_pos[0]
    data.qvel[0:3], data.qvel[3:6], data.qvel[di] = ref.root_lin_vel[0], ref.root_ang_vel[0], ref.dof_vel[0]
    data.ctrl[:] = ref.dof_pos[0]
    mujoco.mj_forward(model, data)
    obs = meta["observation"]
    builder = StudentObservationBuilder(ref, obs["history"], obs["future_frames"])
    last = np.clip((ref.dof_pos[0] - default) / scale, -5, 5)
    cols: dict[str, list] = {k: [] for k in Rollout._fields}
    fallen = False
    for t in range(ref.num_frames):
        quat = _sensor(model, data, "imu_quat")
        fallen = fallen or _fell(data.qpos[0:3], data.qpos[3:7], ref.root_pos[t, 2])
        for name, value in (("root_pos", data.qpos[0:3]), ("root_quat", data.qpos[3:7]), ("dof_pos", data.qpos[qi]),
                            ("dof_vel", data.qvel[di]), ("torque", data.actuator_force),
                            ("root_lin_vel", data.qvel[0:3]),
                            ("root_ang_vel", quat_rotate(data.qpos[3:7], data.qvel[3:6])),
                            ("keypoints", data.site_xpos[sites]), ("fallen", fallen)):
            cols[name].append(np.array(value, copy=True))
        if frame_callback is not None:
            frame_callback(t, data)
        if t == ref.num_frames - 1:
            break
        o = builder.observe(t, data.qpos[qi], data.qvel[di], _sensor(model, data, "imu_gyro"), quat, last)
        action = np.clip(np.nan_to_num(policy(o)), -5, 5)
        data.ctrl[:] = default + scale * action
        last = action
        for _ in range(substeps):
            mujoco.mj_step(model, data)
        mujoco.mj_forward(model, data)  # sensors of the new state (mj_step leaves them one substep behind)
    return Rollout(*(np.stack(cols[k]) for k in Rollout._fields))


def _resample(x: np.ndarray, src_t: np.ndarray, dst_t: np.ndarray) -> np.ndarray:
    pos = np.clip(np.searchsorted(src_t, dst_t, side="right") - 1, 0, len(src_t) - 2)
    w = np.clip((dst_t - src_t[pos]) / (src_t[pos + 1] - src_t[pos]), 0, 1).reshape((-1,) + (1,) * (x.ndim - 1))
    return (1 - w) * x[pos] + w * x[pos + 1]


def track_clip(clip: G1Clip, policy: NumpyPolicy, meta: dict[str, Any], source: str = "clip",
               render: str | os.PathLike[str] | None = None, version: str = "0") -> Trajectory:
    """Track ``clip`` with ``policy``; a :class:`Trajectory` at the clip's frame rate and length."""
    if meta["observation"]["size"] != policy.obs_size:
        raise PolicyError(f"{source}: policy expects {policy.obs_size} observations, its meta says "
                          f"{meta['observation']['size']}")
    ref = reference_from_clip(clip, meta["control_period_s"], source)
    recorder = None
    if render is not None:
        from .render import VideoRecorder

        recorder = VideoRecorder(render, ref.dt)
    try:
        roll = simulate(ref, policy, meta, recorder.frame if recorder else None)
    except BaseException:
        if recorder is not None:
            recorder.close(keep=False)
        raise
    if recorder is not None:
        recorder.close()
    src_t = np.arange(ref.num_frames) * ref.dt
    dst_t = np.minimum(np.arange(clip.num_frames) / clip.fps, src_t[-1])
    r = {k: _resample(getattr(roll, k).astype(float), src_t, dst_t) for k in Rollout._fields}
    fallen = r["fallen"] > 0
    quat = quat_normalize(r["root_quat"])
    error = mean_keypoint_error(np, r["keypoints"], clip.keypoints)
    feet = r["keypoints"][:, [g1.KEYPOINT_NAMES.index("left_ankle"), g1.KEYPOINT_NAMES.index("right_ankle")], 2]
    params = {"policy": meta.get("training", {}).get("name", "policy"), "control_period_s": ref.dt,
              "fell": bool(fallen.any()), "mean_keypoint_error_m": float(error.mean())}
    return Trajectory(
        fps=clip.fps, meta=make_meta("genmimic-policy track", version, source=source, params=params, parent=clip.meta),
        root_pos=r["root_pos"], root_quat=quat, dof_pos=r["dof_pos"], keypoints=r["keypoints"],
        contacts=feet < 0.06, dof_vel=r["dof_vel"], torque=r["torque"], root_lin_vel=r["root_lin_vel"],
        root_ang_vel=r["root_ang_vel"], reference_keypoints=clip.keypoints, tracking_error=error, fallen=fallen)


def success(traj: Trajectory, threshold: float = SUCCESS_ERROR) -> bool:
    """No fall and mean keypoint error under ``threshold`` [m]."""
    return (not traj.fell) and float(traj.tracking_error.mean()) < threshold
