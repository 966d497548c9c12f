"""The NumPy-only policy runtime: spec round trips and refusals, the .npz policy file, resampling, no JAX."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from genmimic.core import g1_constants as g1
from genmimic.core.errors import ClipError
from genmimic.core.g1_kinematics import keypoint_positions
from genmimic.core.runtime import (
    NumpyPolicy,
    PolicyFileError,
    PolicySpecError,
    StudentObservationBuilder,
    load_npz_policy,
    load_onnx_policy,
    make_spec,
    read_spec,
    reference_from_clip,
    save_npz_policy,
    spec_from_dict,
    write_spec,
)
from genmimic.core.testing import TRAINING_STACK, env_without_modules, waving_g1_clip

SPEC = make_spec(3, (0, 2, 5, 10), 0.02, np.full(29, 0.25), training={"name": "test"})


def _policy(size: int, seed: int = 0) -> NumpyPolicy:
    rng = np.random.default_rng(seed)
    w = (rng.normal(size=(size, 8)).astype(np.float32), rng.normal(size=(8, 29)).astype(np.float32))
    return NumpyPolicy(rng.normal(size=size).astype(np.float32), np.ones(size, np.float32), w,
                       (np.zeros(8, np.float32), np.zeros(29, np.float32)))


def test_spec_layout_known_answer_and_round_trip(tmp_path):
    o = SPEC.observation
    assert o.size == 507 and o.blocks[0].name == "dof_pos[t]" and o.blocks[-1].start == 507 - 57
    assert [b.start + b.size for b in o.blocks[:-1]] == [b.start for b in o.blocks[1:]]  # contiguous
    assert SPEC.name == "test" and SPEC.gains.kp == SPEC.kp
    np.testing.assert_allclose(SPEC.targets(np.ones(29)), np.asarray(g1.DEFAULT_DOF_POS) + 0.25)
    assert read_spec(write_spec(SPEC, tmp_path / "p.json")) == SPEC == spec_from_dict(SPEC.to_dict())


def test_past_goal_frames_round_trip_and_hold_the_clips_first_frame(tmp_path):
    """A spec with past goal frames (negative offsets) round-trips; its builder takes the goals of ``t + f``,
    held at the clip's first frame before its start and at its last past its end (known answer)."""
    spec = make_spec(3, (0, 5, -2, -10), 0.02, np.full(29, 0.25), training={"name": "past"})
    names = [b.name for b in spec.observation.blocks[-4:]]
    assert names == ["goal_keypoints[t+0]", "goal_keypoints[t+5]", "goal_keypoints[t-2]", "goal_keypoints[t-10]"]
    assert read_spec(write_spec(spec, tmp_path / "p.json")) == spec
    ref = reference_from_clip(waving_g1_clip(50, fps=50.0), 0.02)
    builder = StudentObservationBuilder.for_spec(ref, spec)
    for t, frames in ((0, [0, 5, 0, 0]), (6, [6, 11, 4, 0]), (47, [47, 49, 45, 37])):
        np.testing.assert_array_equal(builder.goal_keypoints(t), ref.keypoints[frames])
    obs = builder.observe(6, np.zeros(29), np.zeros(29), np.zeros(3), np.array([1.0, 0, 0, 0]), np.zeros(29))
    assert obs.shape == (spec.observation.size,) and np.isfinite(obs).all()


def test_npz_policy_round_trip_and_a_size_mismatch(tmp_path):
    net = _policy(507)
    save_npz_policy(net, SPEC, tmp_path / "p.npz")
    net2, spec2 = load_npz_policy(tmp_path / "p.npz")
    x = np.random.default_rng(1).normal(size=(3, 507)).astype(np.float32)
    assert spec2 == SPEC and net2(x).shape == (3, 29)
    np.testing.assert_array_equal(net2(x), net(x))
    save_npz_policy(_policy(100), SPEC, tmp_path / "small.npz")
    with pytest.raises(PolicyFileError, match="small.npz: model takes 100 inputs but its spec says 507"):
        load_npz_policy(tmp_path / "small.npz")


def test_a_damaged_onnx_file_says_how_to_get_a_good_one(tmp_path):
    pytest.importorskip("onnxruntime")
    bad = tmp_path / "policy.onnx"
    bad.write_bytes(b"not a protobuf" * 10)
    write_spec(SPEC, tmp_path / "policy.json")
    with pytest.raises(PolicyFileError, match=r"policy.onnx: not a loadable ONNX model .*fix: export it again"):
        load_onnx_policy(bad)


def test_spec_errors_name_the_file_and_the_field(tmp_path):
    d = SPEC.to_dict()
    d["observation"]["history"] = 0
    with pytest.raises(PolicySpecError, match=r"^x.json: policy spec field 'observation.history'") as err:
        spec_from_dict(d, "x.json")
    assert err.value.field == "observation.history" and "fix: export the policy again" in str(err.value)
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(PolicyFileError, match="bad.json: not valid JSON"):
        read_spec(tmp_path / "bad.json")


def test_a_per_joint_action_clip_round_trips_and_clips_each_joint_to_its_own_bound(tmp_path):
    """A spec without ``action_clip`` (every spec before 2026-12-02) clips all to +-ACTION_CLIP and writes no
    such key; one with it clips each joint to its own bound, there and in the holding action, and reads back
    equal; a bad clip is refused naming the field."""
    from genmimic.core.runtime.policy_spec import ACTION_CLIP

    assert SPEC.action_clip is None and "action_clip" not in SPEC.to_dict()
    np.testing.assert_allclose(SPEC.clip_action(np.full(29, 9.0)), ACTION_CLIP)
    clip = np.full(29, ACTION_CLIP)
    clip[[20, 21]] = 21.5  # the wrists' pitch and yaw of the left arm
    wide = make_spec(3, (0, 2, 5, 10), 0.02, np.full(29, 0.25), action_clip=clip)
    assert read_spec(write_spec(wide, tmp_path / "w.json")) == wide == spec_from_dict(wide.to_dict())
    raw = np.full(29, 30.0)
    raw[0] = float("nan")
    out = wide.clip_action(raw)
    assert out[0] == 0.0 and out[20] == out[21] == 21.5 and np.all(out[22:] == ACTION_CLIP)
    far = np.asarray(g1.DEFAULT_DOF_POS) + 0.25 * 10.0  # 10 actions from the default pose on every joint
    held = wide.holding_action(far)
    assert held[20] == pytest.approx(10.0) and held[0] == ACTION_CLIP
    d = wide.to_dict()
    d["action_clip"][3] = -1.0
    with pytest.raises(PolicySpecError, match=r"^x.json: policy spec field 'action_clip'"):
        spec_from_dict(d, "x.json")


def test_reference_resampling_keeps_the_frames_at_the_same_rate_and_refuses_other_keypoints():
    clip = waving_g1_clip(50, fps=50.0)
    ref = reference_from_clip(clip, 0.02)
    np.testing.assert_allclose(ref.keypoints, clip.keypoints, atol=1e-9)
    assert StudentObservationBuilder.for_spec(ref, SPEC).size == SPEC.observation.size
    bad = clip.replace(keypoints=clip.keypoints[:, :5], keypoint_names=np.array(g1.KEYPOINT_NAMES[:5]))
    with pytest.raises(ClipError, match="c.npz: keypoints"):
        reference_from_clip(bad, 0.02, "c.npz")


def test_reference_velocities_are_exact_on_a_steady_motion_and_calm_on_per_frame_noise():
    """A clip with per-frame noise (the bench's jitter) gave the first frame central differences of 15-32 rad/s,
    and the robot, started at that speed, fell within 0.9 s; the line fit keeps a steady motion's velocity."""
    clip = waving_g1_clip(200, fps=50.0)
    t = np.arange(200) / 50.0
    walk = clip.replace(root_pos=clip.root_pos + np.outer(t, [0.8, -0.3, 0.0]))
    yaw = 0.5 * t  # a steady turn at 0.5 rad/s about z
    walk = walk.replace(root_quat=np.stack([np.cos(yaw / 2), 0 * t, 0 * t, np.sin(yaw / 2)], 1))
    walk = walk.replace(keypoints=keypoint_positions(walk.root_pos, walk.root_quat, walk.dof_pos))
    ref = reference_from_clip(walk, 0.02)
    np.testing.assert_allclose(ref.root_lin_vel, np.tile([0.8, -0.3, 0.0], (200, 1)), atol=1e-9)
    np.testing.assert_allclose(ref.root_ang_vel, np.tile([0.0, 0.0, 0.5], (200, 1)), atol=1e-4)
    noisy = clip.dof_pos + np.random.default_rng(0).normal(scale=0.05, size=clip.dof_pos.shape)
    noisy = clip.replace(dof_pos=noisy, keypoints=keypoint_positions(clip.root_pos, clip.root_quat, noisy))
    fast = np.abs(np.gradient(noisy.dof_pos, 0.02, axis=0)[0]).max()
    calm = np.abs(reference_from_clip(noisy, 0.02).dof_vel[0]).max()
    assert fast > 3.0 and calm < fast / 4  # 0.05 rad noise: a few rad/s by differences, a fraction by the fit


def test_joint_angles_far_past_the_limits_are_refused_and_degrees_named():
    """A clip in degrees made the simulation diverge and `track` exit 0 with a broken trajectory (a fresh
    user, 2026-12-01); deploy reads clips the same way, so the robot is protected too."""
    clip = waving_g1_clip(50, fps=50.0)
    reference_from_clip(clip, 0.02)  # within the limits
    knee = [j.name for j in g1.JOINTS].index("left_knee_joint")
    near = clip.dof_pos.copy()
    near[10, knee] = g1.JOINTS[knee].upper + 0.3  # a little past: kept (the PD targets are clamped)
    reference_from_clip(clip.replace(dof_pos=near), 0.02)
    with pytest.raises(ClipError, match=r"deg\.npz: dof_pos: \w+ is [\d.]+ rad past its limit at frame \d+; angles up "
                       r"to [\d.]+ rad look like degrees; fix: convert them to radians"):
        reference_from_clip(clip.replace(dof_pos=np.degrees(clip.dof_pos) + 30.0), 0.02, "deg.npz")
    swapped = clip.dof_pos.copy()
    swapped[:, knee] = -1.5  # a knee bent backwards: another robot's sign convention
    with pytest.raises(ClipError, match="left_knee_joint is .* fix: check the joint order"):
        reference_from_clip(clip.replace(dof_pos=swapped), 0.02, "s.npz")


def test_keypoints_that_are_not_the_joint_angles_motion_are_refused():
    """Left and right leg columns swapped (a fresh user's test): the keypoints, the policy's goal, and the joint
    angles, its start, are then two motions."""
    clip = waving_g1_clip(50, fps=50.0)
    legs = clip.dof_pos.copy()
    legs[:, 0:6], legs[:, 6:12] = clip.dof_pos[:, 6:12] + [0, 0, 0, 0.6, 0, 0], clip.dof_pos[:, 0:6]
    with pytest.raises(ClipError, match=r"sw\.npz: keypoints: \d+ cm from where the joint angles put them .* fix: "):
        reference_from_clip(clip.replace(dof_pos=legs), 0.02, "sw.npz")
    shifted = clip.replace(keypoints=clip.keypoints + [0.0, 0.0, 0.02])  # 2 cm: kept
    reference_from_clip(shifted, 0.02)


def test_the_runtime_imports_without_the_training_stack(tmp_path):
    code = ("import sys, genmimic.core.runtime, genmimic.core.tracking; "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('jax', 'flax', 'optax', 'tensorboard')]")
    env = env_without_modules(tmp_path, TRAINING_STACK)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
