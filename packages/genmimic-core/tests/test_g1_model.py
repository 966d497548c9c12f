"""The G1 model: facts from Unitree's files, MJCF and URDF agree, NumPy FK agrees, the robot stands."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from genmimic.core import g1_constants as g1
from genmimic.core import g1_kinematics as fk
from genmimic.core.errors import ModelError
from genmimic.core.g1_model import (
    KEYPOINT_PREFIX,
    g1_mjcf,
    g1_urdf,
    joint_dof_indices,
    joint_qpos_indices,
    load_mujoco_model,
    set_pd_gains,
    standing_pelvis_height,
)
from genmimic.core.rotations import xyzw_from_wxyz

# World body positions at qpos0 (pelvis at z = 0.793, all joints 0) from the facts sheet
# (g1_29dof_facts.md, read off Unitree's rev 1.0 MJCF in MuJoCo), [m].
ZERO_POSE_FACTS = {
    "pelvis": (0.00000, 0.00000, 0.79300),
    "left_hip_pitch_link": (0.00000, 0.06445, 0.69030),
    "left_hip_roll_link": (0.00000, 0.11645, 0.65984),
    "left_hip_yaw_link": (0.04622, 0.11645, 0.54196),
    "left_knee_link": (-0.00000, 0.11860, 0.35370),
    "left_ankle_pitch_link": (-0.00000, 0.11851, 0.05369),
    "left_ankle_roll_link": (-0.00000, 0.11851, 0.03614),
    "right_hip_pitch_link": (0.00000, -0.06445, 0.69030),
    "right_hip_roll_link": (0.00000, -0.11645, 0.65984),
    "right_hip_yaw_link": (0.04622, -0.11645, 0.54196),
    "right_knee_link": (-0.00000, -0.11860, 0.35370),
    "right_ankle_pitch_link": (-0.00000, -0.11851, 0.05369),
    "right_ankle_roll_link": (-0.00000, -0.11851, 0.03614),
    "waist_yaw_link": (0.00000, 0.00000, 0.79300),
    "waist_roll_link": (-0.00396, 0.00000, 0.83700),
    "torso_link": (-0.00396, 0.00000, 0.83700),
    "left_shoulder_pitch_link": (-0.00001, 0.10022, 1.08478),
    "left_shoulder_roll_link": (0.00000, 0.14056, 1.08196),
    "left_shoulder_yaw_link": (-0.00000, 0.14681, 0.97876),
    "left_elbow_link": (0.01577, 0.14681, 0.89824),
    "left_wrist_roll_link": (0.11577, 0.14868, 0.88824),
    "left_wrist_pitch_link": (0.15377, 0.14867, 0.88824),
    "left_wrist_yaw_link": (0.19977, 0.14866, 0.88823),
    "right_shoulder_pitch_link": (-0.00001, -0.10021, 1.08478),
    "right_shoulder_roll_link": (0.00000, -0.14055, 1.08196),
    "right_shoulder_yaw_link": (-0.00000, -0.14680, 0.97876),
    "right_elbow_link": (0.01577, -0.14680, 0.89824),
    "right_wrist_roll_link": (0.11577, -0.14867, 0.88824),
    "right_wrist_pitch_link": (0.15377, -0.14866, 0.88824),
    "right_wrist_yaw_link": (0.19977, -0.14865, 0.88823),
}


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return load_mujoco_model()


def _random_configs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lo = np.array([j.lower for j in g1.JOINTS])
    hi = np.array([j.upper for j in g1.JOINTS])
    q = rng.normal(size=(n, 4))
    return rng.normal(size=(n, 3)), q / np.linalg.norm(q, axis=1, keepdims=True), rng.uniform(lo, hi, size=(n, 29))


def test_total_mass(model):
    assert mujoco.mj_getTotalmass(model) == pytest.approx(33.341142, abs=1e-6)
    assert sum(b.inertial.mass for b in g1.BODIES) == pytest.approx(g1.TOTAL_MASS, abs=1e-6)


def test_joint_order_limits_and_effort_in_the_mjcf(model):
    assert g1.NUM_DOF == 29 and model.nu == 29
    for i, j in enumerate(g1.JOINTS):
        mj = model.joint(j.name)
        assert model.jnt_qposadr[mj.id] == 7 + i  # SDK order is MuJoCo's qpos order
        np.testing.assert_allclose(model.jnt_range[mj.id], (j.lower, j.upper))
        np.testing.assert_allclose(model.jnt_actfrcrange[mj.id], (-j.motor.effort, j.motor.effort))
        assert model.dof_armature[model.jnt_dofadr[mj.id]] == pytest.approx(j.motor.armature)
    np.testing.assert_array_equal(joint_qpos_indices(model), np.arange(7, 36))
    np.testing.assert_array_equal(joint_dof_indices(model), np.arange(6, 35))


def test_zero_pose_body_positions_match_the_facts_within_1mm(model):
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    for name, expected in ZERO_POSE_FACTS.items():
        np.testing.assert_allclose(data.xpos[model.body(name).id], expected, atol=1e-3, err_msg=name)


def test_feet_touch_the_ground_at_the_official_pelvis_height():
    # Unitree's MJCF: at pelvis height 0.793 the foot spheres' bottoms are at z = 0.00114.
    assert standing_pelvis_height(np.zeros(29)) == pytest.approx(0.793 - 0.00114, abs=1e-4)


def test_mujoco_and_pinocchio_agree_at_100_random_configurations(model):
    pin = pytest.importorskip("pinocchio")
    pmodel = pin.buildModelFromXML(g1_urdf(), pin.JointModelFreeFlyer())
    pdata = pmodel.createData()
    data = mujoco.MjData(model)
    names = [b.name for b in g1.BODIES] + [KEYPOINT_PREFIX + f.name for f in g1.KEYPOINT_FRAMES]
    frame_ids = [pmodel.getFrameId(n) for n in names]
    assert all(i < pmodel.nframes for i in frame_ids)
    # Pinocchio orders its joints by name lookup, not necessarily SDK order
    pin_idx = [pmodel.joints[pmodel.getJointId(n)].idx_q for n in g1.JOINT_NAMES]
    for pos, quat, dof in zip(*_random_configs(100), strict=True):
        data.qpos[:] = np.concatenate([pos, quat, dof])
        mujoco.mj_kinematics(model, data)
        q = np.zeros(pmodel.nq)
        q[:3], q[3:7] = pos, xyzw_from_wxyz(quat)
        q[pin_idx] = dof
        pin.framesForwardKinematics(pmodel, pdata, q)
        for name, fid in zip(names, frame_ids, strict=True):
            if name.startswith(KEYPOINT_PREFIX):
                mj_pos, mj_rot = data.site_xpos[model.site(name).id], data.site_xmat[model.site(name).id]
            else:
                mj_pos, mj_rot = data.xpos[model.body(name).id], data.xmat[model.body(name).id]
            np.testing.assert_allclose(pdata.oMf[fid].translation, mj_pos, atol=1e-6, err_msg=name)
            np.testing.assert_allclose(pdata.oMf[fid].rotation.ravel(), mj_rot, atol=1e-6, err_msg=name)


def test_numpy_forward_kinematics_matches_mujoco(model):
    data = mujoco.MjData(model)
    pos, quat, dof = _random_configs(20, seed=1)
    poses = fk.forward_kinematics(pos, quat, dof)
    kps = fk.keypoint_positions(pos, quat, dof)
    body_ids = [model.body(b.name).id for b in g1.BODIES]
    site_ids = [model.site(KEYPOINT_PREFIX + n).id for n in g1.KEYPOINT_NAMES]
    for t in range(20):
        data.qpos[:] = np.concatenate([pos[t], quat[t], dof[t]])
        mujoco.mj_kinematics(model, data)
        np.testing.assert_allclose(poses.pos[t], data.xpos[body_ids], atol=1e-9)
        np.testing.assert_allclose(poses.rot[t].reshape(-1, 9), data.xmat[body_ids], atol=1e-9)
        np.testing.assert_allclose(kps[t], data.site_xpos[site_ids], atol=1e-9)


def test_standing_pose_is_mirror_symmetric():
    kp = fk.keypoint_positions([0, 0, 0.8], [1, 0, 0, 0], g1.DEFAULT_DOF_POS)
    for i, name in enumerate(g1.KEYPOINT_NAMES):
        if name.startswith("left_"):
            r = kp[g1.KEYPOINT_NAMES.index(name.replace("left_", "right_"))]
            np.testing.assert_allclose(kp[i] * [1, -1, 1], r, atol=2e-4, err_msg=name)


def _drop(model: mujoco.MjModel, seconds: float) -> tuple[np.ndarray, float]:
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    data.qpos[2] += 0.05  # dropped from 5 cm
    heights = []
    for _ in range(round(seconds / model.opt.timestep)):
        mujoco.mj_step(model, data)
        heights.append(data.qpos[2])
    up = 1.0 - 2.0 * (data.qpos[4] ** 2 + data.qpos[5] ** 2)  # cosine of the pelvis tilt
    return np.array(heights), up


def test_dropped_in_the_standing_pose_with_hold_gains_it_stands_for_5s():
    model = load_mujoco_model(gains=g1.HOLD_GAINS)
    expected = standing_pelvis_height(g1.DEFAULT_DOF_POS)
    heights, up = _drop(model, 5.0)
    assert up > np.cos(np.deg2rad(5))
    assert np.all(heights[-200:] == pytest.approx(expected, abs=0.02))  # the last second


def test_tracking_gains_alone_do_not_hold_it_up():
    """The field notes' warning, reproduced: armature gains need a balancing policy."""
    _, up = _drop(load_mujoco_model(gains=g1.TRACKING_GAINS), 3.0)
    assert up < np.cos(np.deg2rad(30))


def test_set_pd_gains_writes_position_actuators(model):
    m = load_mujoco_model()
    set_pd_gains(m, g1.HOLD_GAINS)
    a = m.actuator("left_knee").id
    assert m.actuator_gainprm[a, 0] == 300 and tuple(m.actuator_biasprm[a, 1:3]) == (-300, -6)


def test_tracking_gains_follow_the_armature_formula_and_stiffen_the_waist():
    i = g1.JOINT_NAMES.index("left_knee_joint")
    w = 2 * np.pi * 10
    assert g1.TRACKING_GAINS.kp[i] == g1.ARMATURE_GAINS.kp[i] == pytest.approx(0.025102 * w**2)
    assert g1.TRACKING_GAINS.kd[i] == g1.ARMATURE_GAINS.kd[i] == pytest.approx(4 * 0.025102 * w)
    for name in ("waist_roll_joint", "waist_pitch_joint"):
        j = g1.JOINT_NAMES.index(name)
        assert g1.ARMATURE_GAINS.kp[j] == pytest.approx(2 * 0.003609725 * w**2, rel=1e-3)  # two 5020 motors
        assert g1.TRACKING_GAINS.kp[j] == pytest.approx(g1.WAIST_STIFFNESS * g1.ARMATURE_GAINS.kp[j])
        assert g1.TRACKING_GAINS.kd[j] == pytest.approx(np.sqrt(g1.WAIST_STIFFNESS) * g1.ARMATURE_GAINS.kd[j])


def _waist_roll_under_a_raised_arm(gains: g1.PDGains) -> float:
    """Waist roll [deg] after 2 s with the pelvis fixed, every PD target at the default pose but the right arm
    raised sideways above the shoulder (shoulder roll -1.5 rad)."""
    import mujoco

    spec = mujoco.MjSpec.from_string(g1_mjcf(gains))
    spec.delete(spec.joint("floating_base"))
    for key in list(spec.keys):
        spec.delete(key)
    m = spec.compile()
    d = mujoco.MjData(m)
    target = np.asarray(g1.DEFAULT_DOF_POS, float).copy()
    target[g1.JOINT_NAMES.index("right_shoulder_roll_joint")] = -1.5
    target[g1.JOINT_NAMES.index("right_elbow_joint")] = 0.0
    d.qpos[:] = target
    for _ in range(400):
        d.ctrl[:] = target
        mujoco.mj_step(m, d)
    return float(np.degrees(d.qpos[g1.JOINT_NAMES.index("waist_roll_joint")]))


def test_the_tracking_gains_hold_the_upper_body_up_under_a_raised_arm():
    """The armature gains leave the upper body ~9 Nm/rad on the waist roll (kp 28.5 against m g l = 19.3):
    the right arm raised sideways tips it to the joint's 30 deg limit; the tracking gains hold it at 6 deg."""
    soft, stiff = (_waist_roll_under_a_raised_arm(g) for g in (g1.ARMATURE_GAINS, g1.TRACKING_GAINS))
    assert abs(soft) > 10.0
    assert abs(stiff) < 0.4 * abs(soft)


def test_an_external_mjcf_is_accepted_and_checked(tmp_path):
    good = tmp_path / "g1.xml"
    good.write_text(g1_mjcf())
    assert load_mujoco_model(good).nu == 29
    with pytest.raises(ModelError, match="cannot load MJCF"):
        load_mujoco_model(tmp_path / "missing.xml")
    arm = tmp_path / "arm.xml"
    arm.write_text('<mujoco><worldbody><body><joint name="left_knee_joint"/><geom size="0.1"/></body>'
                   "</worldbody></mujoco>")
    with pytest.raises(ModelError, match=r"not a G1 29-DoF model: missing joints left_hip_pitch_joint, .* more"):
        load_mujoco_model(arm)


def test_mirror_tables_mirror_the_kinematics():
    idx, sign = np.array(g1.MIRROR_DOF_INDEX), np.array(g1.MIRROR_DOF_SIGN)
    np.testing.assert_array_equal(idx[idx], np.arange(29))
    _, _, dof = _random_configs(10, seed=3)
    dof = np.clip(sign * dof[:, idx], [j.lower for j in g1.JOINTS], [j.upper for j in g1.JOINTS])
    mirrored = sign * dof[:, idx]
    kp = fk.keypoint_positions([0, 0, 0.8], [1, 0, 0, 0], dof)
    kp_m = fk.keypoint_positions([0, 0, 0.8], [1, 0, 0, 0], mirrored)
    np.testing.assert_allclose(kp_m, kp[:, list(g1.MIRROR_KEYPOINT_INDEX)] * [1, -1, 1], atol=2e-4)
