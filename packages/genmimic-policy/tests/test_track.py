import dataclasses

import mujoco
import numpy as np
import pytest

from genmimic.core import g1_constants as g1
from genmimic.core.clips import Trajectory
from genmimic.core.runtime import StudentObservationBuilder
from genmimic.policy.config import default_config
from genmimic.policy.env_cpu import TrackingEnv
from genmimic.policy.policy_file import policy_spec
from genmimic.policy.reference import make_bank, reference_from_clip
from genmimic.policy.track import track_clip


@pytest.mark.parametrize(("student_history", "student_goal_frames"), [(0, ()), (10, ()), (10, (0, 2, 5, 10, -2, -5))])
def test_deploy_observation_builder_equals_the_training_observation(g1_clip, student_history, student_goal_frames):
    """The NumPy builder that track and genmimic-deploy use gives the env's student observation (with the
    student's history as the teacher's, and longer; with past goal frames)."""
    cfg = dataclasses.replace(default_config().env, student_history=student_history,
                              student_goal_frames=student_goal_frames)
    ref = reference_from_clip(g1_clip)
    env = TrackingEnv(make_bank([ref]), cfg, seed=0, randomize=False)
    s, _ = env.reset(clip=0, start=0)
    builder = StudentObservationBuilder.for_spec(ref, policy_spec(cfg))
    d, rng = env.data, np.random.default_rng(0)

    def measured():
        mujoco.mj_forward(env.model, d)  # refresh the sensors (mj_step leaves them one substep behind)
        return d.qpos[env.qpos_idx], d.qvel[env.qvel_idx], d.sensor("imu_gyro").data, d.sensor("imu_quat").data

    np.testing.assert_allclose(builder.observe(0, *measured(), env.last_action), s, atol=1e-5)
    for t in range(1, 6):
        s = env.step(rng.normal(size=29) * 0.2)[0]
        np.testing.assert_allclose(builder.observe(t, *measured(), env.last_action), s, atol=1e-5)


def test_track_writes_a_trajectory_as_long_as_the_input(policy, g1_clip):
    net, spec, _, _ = policy
    clip = g1_clip.replace(fps=30.0)  # the output follows the input's frame rate and length
    traj = track_clip(clip, net, spec, source="wave.npz")
    assert isinstance(traj, Trajectory) and traj.num_frames == clip.num_frames and traj.fps == 30.0
    assert np.isfinite(traj.dof_pos).all() and traj.tracking_error[0] == pytest.approx(0.0, abs=1e-3)
    np.testing.assert_allclose(traj.reference_keypoints, clip.keypoints)
    assert traj.meta["history"][-1]["tool"] == "genmimic.core.testing"
    # an untrained policy cannot keep the G1 up on tracking gains: the fall is recorded, and stays recorded
    assert traj.fell and traj.fallen[-1] and not traj.fallen[0]
    first = int(np.argmax(traj.fallen))
    assert traj.fallen[first:].all()


def test_track_refuses_clips_with_other_keypoints(policy, g1_clip):
    from genmimic.core.errors import ClipError

    net, spec, _, _ = policy
    clip = g1_clip.replace(keypoints=g1_clip.keypoints[:, :5], keypoint_names=np.array(g1.KEYPOINT_NAMES[:5]))
    with pytest.raises(ClipError, match="bad.npz: keypoints"):
        track_clip(clip, net, spec, source="bad.npz")


TRACK_WITHOUT_JAX = """
import sys
from typer.testing import CliRunner
from genmimic.core import save_clip
from genmimic.core.testing import waving_g1_clip
from genmimic.policy.cli import app

save_clip(waving_g1_clip(25), sys.argv[1] + "/wave.npz")
r = CliRunner().invoke(app, ["track", sys.argv[1] + "/wave.npz", "-o", sys.argv[1] + "/t.npz"])
assert r.exit_code == 0, r.output
r = CliRunner().invoke(app, ["evaluate", sys.argv[1] + "/wave.npz"])
assert r.exit_code == 0 and '"clips": 1' in r.stdout, r.output
r = CliRunner().invoke(app, ["export", "--shipped", "-o", sys.argv[1] + "/p.onnx"])
assert r.exit_code == 1 and "pip install 'genmimic-policy[train]'" in r.output, r.output
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"jax", "jaxlib", "flax", "optax", "tensorboard", "onnx"})
assert not heavy, heavy
print("ok")
"""


def test_track_evaluate_and_the_shipped_policy_work_without_the_training_stack(tmp_path):
    """With JAX, Flax, Optax, MJX, TensorBoard and onnx unimportable, ``track`` and ``evaluate`` run the shipped
    policy, and ``export`` says in one line which extra to install."""
    import subprocess
    import sys

    from genmimic.core.testing import TRAINING_STACK, env_without_modules

    env = env_without_modules(tmp_path / "blocker", TRAINING_STACK + ("onnx",))
    out = subprocess.run([sys.executable, "-c", TRACK_WITHOUT_JAX, str(tmp_path)], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stdout[-1500:] + out.stderr[-1500:]


class _RecordingReplay:
    """Open-loop replay that keeps the reference it was given and the first state it saw."""

    def __init__(self):
        from genmimic.policy.controllers import ReplayController

        self.replay = ReplayController()
        self.name, self.control_period_s, self.gains = "replay", self.replay.control_period_s, self.replay.gains
        self.reference, self.first = None, None

    def reset(self, reference):
        self.reference, self.first = reference, None
        self.replay.reset(reference)

    def act(self, state):
        if self.first is None:
            self.first = state
        return self.replay.act(state)


@pytest.mark.parametrize(("lead_in_s", "expected"), [(None, 1.5), (0.0, 0.0), (0.8, 0.8)])
def test_track_starts_a_clip_in_motion_standing(moving_g1_clip, lead_in_s, expected):
    """A clip whose pelvis starts at 0.67 m/s: by default the robot starts standing still in the default pose and
    tracks a 1.5 s blend into the clip's first frame; the trajectory covers the clip only. ``lead_in_s=0``
    starts it in the clip's first state, with the clip's velocity."""
    clip, ctrl = moving_g1_clip, _RecordingReplay()
    traj = track_clip(clip, ctrl, source="moving.npz", lead_in_s=lead_in_s)
    assert traj.num_frames == clip.num_frames and traj.meta["params"]["lead_in_s"] == pytest.approx(expected)
    lead = round(expected / ctrl.control_period_s)
    assert ctrl.reference.num_frames == clip.num_frames + lead
    np.testing.assert_allclose(ctrl.reference.dof_pos[lead:], clip.dof_pos, atol=1e-9)
    start = g1.DEFAULT_DOF_POS if expected else clip.dof_pos[0]
    np.testing.assert_allclose(ctrl.first.dof_pos, start, atol=1e-6)
    speed = np.linalg.norm(ctrl.first.qvel[:3])
    assert speed < 1e-6 if expected else speed == pytest.approx(np.hypot(0.6, 0.3), rel=0.05)


def test_track_refuses_a_negative_lead_in(moving_g1_clip):
    from genmimic.policy.errors import PolicyError

    with pytest.raises(PolicyError, match="moving.npz: lead-in must be 0 or more seconds.*fix:"):
        track_clip(moving_g1_clip, _RecordingReplay(), source="moving.npz", lead_in_s=-1.0)


def test_evaluate_starts_only_the_clips_in_motion_standing(g1_clip, moving_g1_clip, tmp_path):
    from genmimic.core.clips import save_clip
    from genmimic.policy.controllers import ReplayController
    from genmimic.policy.evaluate import evaluate_clips, summary_lines

    save_clip(g1_clip, tmp_path / "at_rest.npz")
    save_clip(moving_g1_clip, tmp_path / "moving.npz")
    ev = evaluate_clips(tmp_path, ReplayController())
    assert {r["clip"]: r["lead_in_s"] for r in ev.per_clip} == {"at_rest.npz": 0.0, "moving.npz": 1.5}
    lines = dict(zip(["at_rest.npz", "moving.npz"], summary_lines(ev)[:2], strict=True))
    assert "started standing: 1.5 s lead-in" in lines["moving.npz"] and "lead-in" not in lines["at_rest.npz"]
    assert all(r["lead_in_s"] == 0.0 for r in evaluate_clips(tmp_path, ReplayController(), 0.0).per_clip)
