"""The no-policy baseline: open-loop PD replay of the retargeted joints in C MuJoCo.

The G1 starts in the reference's first pose, at rest, and its position actuators (tracking gains, the
same as the policy's) get the reference joint angles at 50 Hz. Nothing balances it, so a motion that
needs balance ends on the floor: the gap to the policy is what the policy contributes.
"""

from __future__ import annotations

import mujoco
import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip, Trajectory, make_meta
from genmimic.core.g1_kinematics import keypoint_positions
from genmimic.core.g1_model import joint_dof_indices, joint_qpos_indices, load_mujoco_model
from genmimic.core.rotations import matrix_from_quat

from . import __version__

CONTROL_DT = 0.02  #: [s] 50 Hz, as the policy
FALL_HEIGHT = 0.35  #: pelvis below this [m] ...
FALL_TILT = np.deg2rad(60.0)  #: ... or tilted more than this counts as a fall


def is_fallen(root_pos: np.ndarray, root_quat: np.ndarray) -> bool:
    """The project's fall test: pelvis lower than 0.35 m or tilted more than 60 deg from upright."""
    up = matrix_from_quat(root_quat)[2, 2]
    return bool(root_pos[2] < FALL_HEIGHT or up < np.cos(FALL_TILT))


def replay(reference: G1Clip, gains: g1.PDGains = g1.TRACKING_GAINS) -> Trajectory:
    """Simulate open-loop PD tracking of ``reference`` and return what the robot did, at 50 fps."""
    model = load_mujoco_model(gains=gains)
    data = mujoco.MjData(model)
    qadr, vadr = joint_qpos_indices(model), joint_dof_indices(model)
    substeps = round(CONTROL_DT / model.opt.timestep)
    n = int(np.floor(reference.duration / CONTROL_DT)) + 1
    t_ref = np.arange(reference.num_frames) / reference.fps
    targets = np.stack([np.interp(np.arange(n) * CONTROL_DT, t_ref, reference.dof_pos[:, j]) for j in range(29)], 1)
    data.qpos[:3], data.qpos[3:7], data.qpos[qadr] = reference.root_pos[0], reference.root_quat[0], targets[0]
    mujoco.mj_forward(model, data)
    act = np.array([next(a for a in range(model.nu) if model.actuator_trnid[a, 0] == model.joint(name).id)
                    for name in g1.JOINT_NAMES])
    out = {k: np.zeros((n, d)) for k, d in (("root_pos", 3), ("root_quat", 4), ("dof_pos", 29), ("dof_vel", 29),
                                           ("torque", 29), ("lin", 3), ("ang", 3))}
    fallen = np.zeros(n, bool)
    for t in range(n):
        data.ctrl[act] = targets[t]
        for _ in range(substeps):
            mujoco.mj_step(model, data)
        out["root_pos"][t], out["root_quat"][t] = data.qpos[:3], data.qpos[3:7]
        out["dof_pos"][t], out["dof_vel"][t] = data.qpos[qadr], data.qvel[vadr]
        out["torque"][t] = data.actuator_force[act]
        out["lin"][t] = data.qvel[:3]
        out["ang"][t] = matrix_from_quat(data.qpos[3:7]) @ data.qvel[3:6]  # free-joint ang. vel. is local
        fallen[t] = (t > 0 and fallen[t - 1]) or is_fallen(data.qpos[:3], data.qpos[3:7])
    kp = keypoint_positions(out["root_pos"], out["root_quat"], out["dof_pos"])
    idx = np.minimum(np.round(np.arange(n) * CONTROL_DT * reference.fps).astype(int), reference.num_frames - 1)
    ref_kp = reference.keypoints[idx]
    from genmimic.core.g1_kinematics import contacts_from_height, foot_contact_points

    contacts = contacts_from_height(foot_contact_points(out["root_pos"], out["root_quat"], out["dof_pos"]))
    return Trajectory(
        fps=1.0 / CONTROL_DT,
        meta=make_meta("genmimic-bench replay", __version__, params={"gains": gains.name}, parent=reference.meta),
        root_pos=out["root_pos"], root_quat=out["root_quat"], dof_pos=out["dof_pos"], keypoints=kp,
        contacts=contacts, dof_vel=out["dof_vel"], torque=out["torque"], root_lin_vel=out["lin"],
        root_ang_vel=out["ang"], reference_keypoints=ref_kp,
        tracking_error=np.linalg.norm(kp - ref_kp, axis=-1).mean(axis=1), fallen=fallen,
    )
