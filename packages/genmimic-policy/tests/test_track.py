import mujoco
import numpy as np
import pytest

from genmimic.core import g1_constants as g1
from genmimic.core.clips import Trajectory
from genmimic.policy.config import default_config
from genmimic.policy.env_cpu import TrackingEnv
from genmimic.policy.observation import StudentObservationBuilder
from genmimic.policy.reference import make_bank, reference_from_clip
from genmimic.policy.track import track_clip


def test_deploy_observation_builder_equals_the_training_observation(g1_clip):
    """The NumPy builder that track and genmimic-deploy use gives the env's student observation."""
    cfg = default_config().env
    ref = reference_from_clip(g1_clip)
    env = TrackingEnv(make_bank([ref]), cfg, seed=0, randomize=False)
    s, _ = env.reset(clip=0, start=0)
    builder = StudentObservationBuilder(ref, cfg.history, cfg.future_frames)
    d, rng = env.data, np.random.default_rng(0)

    def measured():
        mujoco.mj_forward(env.model, d)  # refresh the sensors (mj_step leaves them one substep behind)
        return d.qpos[env.qpos_idx], d.qvel[env.qvel_idx], d.sensor("imu_gyro").data, d.sensor("imu_quat").data

    np.testing.assert_allclose(builder.observe(0, *measured(), env.last_action), s, atol=1e-5)
    for t in range(1, 6):
        s = env.step(rng.normal(size=29) * 0.2)[0]
        np.testing.assert_allclose(builder.observe(t, *measured(), env.last_action), s, atol=1e-5)


def test_track_writes_a_trajectory_as_long_as_the_input(policy, g1_clip):
    net, meta, _, _ = policy
    clip = g1_clip.replace(fps=30.0)  # the output follows the input's frame rate and length
    traj = track_clip(clip, net, meta, source="wave.npz")
    assert isinstance(traj, Trajectory) and traj.num_frames == clip.num_frames and traj.fps == 30.0
    assert np.isfinite(traj.dof_pos).all() and traj.tracking_error[0] == pytest.approx(0.0, abs=1e-3)
    np.testing.assert_allclose(traj.reference_keypoints, clip.keypoints)
    assert traj.meta["history"][-1]["tool"] == "genmimic.core.testing"
    # an untrained policy cannot keep the G1 up on tracking gains: the fall is recorded, and stays recorded
    assert traj.fell and traj.fallen[-1] and not traj.fallen[0]
    first = int(np.argmax(traj.fallen))
    assert traj.fallen[first:].all()


def test_track_refuses_clips_with_other_keypoints(policy, g1_clip):
    from genmimic.policy.errors import PolicyError

    net, meta, _, _ = policy
    clip = g1_clip.replace(keypoints=g1_clip.keypoints[:, :5], keypoint_names=np.array(g1.KEYPOINT_NAMES[:5]))
    with pytest.raises(PolicyError, match="bad.npz: keypoints"):
        track_clip(clip, net, meta, source="bad.npz")


def test_deploy_side_modules_import_without_jax():
    import subprocess
    import sys

    code = ("import sys; import genmimic.policy.observation, genmimic.policy.reference, genmimic.policy.mirror, "
            "genmimic.policy.policy_file, genmimic.policy.export, genmimic.policy.track; "
            "assert 'jax' not in sys.modules, 'jax imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
