"""The sampling MPC: its cost's known answers, the sampler's guarantee, a short run, and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from genmimic.core import g1_constants as g1
from genmimic.core.clips import Trajectory, load_clip, save_clip
from genmimic.core.testing import waving_g1_clip
from genmimic.core.tracking import score_trajectory
from genmimic.policy.controllers import ReplayController, make_controller
from genmimic.policy.errors import PolicyError
from genmimic.policy.mpc import (
    SUPPORT_RADIUS,
    MPCConfig,
    MPCController,
    PlanFrames,
    capture_point,
    support_distance,
    tracking_cost,
)
from genmimic.policy.reference import reference_from_clip
from genmimic.policy.track import track_clip

FAST = MPCConfig(num_samples=16, replan_every=2, threads=2, iterations=1)


@pytest.fixture(scope="module")
def clip():
    return waving_g1_clip(num_frames=100, fps=50.0)  # 2 s: replay falls in this time, see below


@pytest.fixture(scope="module")
def mpc(clip):
    c = MPCController(FAST)
    c.reset(reference_from_clip(clip, c.control_period_s))
    yield c
    c.close()


def _reference_frames(c: MPCController, times: np.ndarray) -> PlanFrames:
    """The robot exactly in the reference state at ``times`` (one sample), at rest torque-free."""
    ref = c.reference_at(times)
    h = len(times)
    qpos = np.zeros((1, h, c.model.nq))
    qpos[0, :, 0:3], qpos[0, :, 3:7], qpos[0][:, c.qpos_idx] = ref.root_pos, ref.root_quat, ref.dof_pos
    qvel = np.zeros((1, h, c.model.nv))
    qvel[0, :, 0:3] = ref.root_lin_vel
    return PlanFrames(qpos, qvel, ref.keypoints[None], np.zeros((1, h, 29)), ref.com[None])


def test_the_reference_state_has_the_least_cost(mpc):
    times = np.linspace(0.0, 0.8, 9)
    ref = mpc.reference_at(times)
    exact = _reference_frames(mpc, times)
    base = tracking_cost(exact, ref, mpc.env, mpc.qpos_idx, mpc.qvel_idx)
    assert base.shape == (1,) and base[0] == pytest.approx(0.0, abs=1e-6)
    moved = exact._replace(keypoints=exact.keypoints + np.array([0.05, 0.0, 0.0]))
    lowered = exact._replace(qpos=exact.qpos.copy())
    lowered.qpos[..., 2] -= 0.05
    tilted = exact._replace(qpos=exact.qpos.copy())
    tilted.qpos[..., 3:7] = [np.cos(0.15), np.sin(0.15), 0.0, 0.0]
    pushed = exact._replace(qvel=exact.qvel + np.array([0.3] + [0.0] * (mpc.model.nv - 1)))
    for worse in (moved, lowered, tilted, pushed):
        assert tracking_cost(worse, ref, mpc.env, mpc.qpos_idx, mpc.qvel_idx)[0] > base[0] + 1e-3
    fallen = exact._replace(qpos=exact.qpos.copy())
    fallen.qpos[..., 2] -= 0.4  # pelvis 40 cm under the reference: the fall penalty dominates
    assert tracking_cost(fallen, ref, mpc.env, mpc.qpos_idx, mpc.qvel_idx)[0] > 50 * len(times)


def test_the_best_sample_never_costs_more_than_the_nominal(mpc, clip):
    ref = reference_from_clip(clip, mpc.control_period_s)
    rng = np.random.default_rng(1)
    for t in (0, 20):
        qpos = np.zeros(mpc.model.nq)
        qpos[0:3], qpos[3:7], qpos[mpc.qpos_idx] = ref.root_pos[t], ref.root_quat[t], ref.dof_pos[t]
        qvel = 0.2 * rng.normal(size=mpc.model.nv)
        mpc._nominal = 0.05 * rng.normal(size=mpc._nominal.shape)
        nominal = mpc._nominal.copy()
        best, best_cost, nominal_cost = mpc.plan(qpos, qvel, t * mpc.control_period_s)
        assert best_cost <= nominal_cost
        # the nominal's cost is reproducible: the rollouts are deterministic
        again = mpc.evaluate(np.stack([nominal, best]), qpos, qvel, t * mpc.control_period_s)
        np.testing.assert_allclose(again, [nominal_cost, best_cost], rtol=1e-9)


def test_a_short_mpc_run_keeps_the_standing_robot_up_where_replay_falls(clip):
    replay = track_clip(clip, ReplayController(), source="wave.npz")
    assert replay.fell  # the soft tracking gains cannot hold the G1 by themselves
    c = MPCController(FAST)
    try:
        traj = track_clip(clip, c, source="wave.npz")
    finally:
        c.close()
    assert traj.meta["params"]["controller"] == "mpc"
    s = score_trajectory(traj, clip)
    assert not s.fell and s.strict_success and s.root_relative_error < 0.08
    assert c.stats["plans"] == 50 and c.stats["rollout_steps"] == 50 * 16 * 80


def test_registry_and_bad_settings():
    c = make_controller("mpc", num_samples=8, horizon_s=0.5, policy="ignored", spec=None)
    assert isinstance(c, MPCController) and c.config.num_samples == 8 and c.steps == 50
    c.close()
    with pytest.raises(PolicyError, match="horizon"):
        make_controller("mpc", horizon_s=0.0)
    with pytest.raises(PolicyError, match="samples >= 1"):
        make_controller("mpc", num_samples=0)


def test_cli_tracks_the_first_seconds_with_mpc(tmp_path, clip):
    from genmimic.policy.cli import app

    src, out = tmp_path / "g1.npz", tmp_path / "robot.npz"
    save_clip(clip, src)
    runner = CliRunner()
    result = runner.invoke(app, ["track", str(src), "-o", str(out), "--controller", "mpc", "--samples", "8",
                                 "--seconds", "0.5"])
    assert result.exit_code == 0, result.output
    traj = load_clip(out, Trajectory)
    assert traj.num_frames == 26 and traj.meta["params"]["controller"] == "mpc"
    assert "stayed up" in result.output
    assert "with the sampling MPC (2 x 8 rollouts per plan, 0.8 s ahead)" in result.output
    for bad, message in ((["--horizon", "0"], "horizon"), (["--seconds", "-1"], "--seconds must be positive")):
        out2 = tmp_path / "never.npz"
        result = runner.invoke(app, ["track", str(src), "-o", str(out2), "--controller", "mpc", *bad])
        assert result.exit_code == 1
        last = result.output.strip().splitlines()[-1]
        assert last.startswith("error:") and message in last
        assert not out2.exists()


def _feet(left_z: float, right_z: float) -> np.ndarray:
    """Keypoints (19, 3) with flat feet: left centred at (0, 0.1), right at (0, -0.1), soles at the heights."""
    kp = np.zeros((len(g1.KEYPOINT_NAMES), 3))
    for side, y, z in (("left", 0.1, left_z), ("right", -0.1, right_z)):
        kp[g1.KEYPOINT_NAMES.index(f"{side}_ankle")] = [-0.05, y, z + 0.03 + g1.FOOT_SPHERE_RADIUS]
        kp[g1.KEYPOINT_NAMES.index(f"{side}_toe")] = [0.05, y, z + g1.FOOT_SPHERE_RADIUS]
    return kp


def test_support_distance_known_answers():
    both, left_only, flight = _feet(0.0, 0.0), _feet(0.0, 0.1), _feet(0.1, 0.1)
    points = np.array([[0.0, 0.0], [0.1, 0.05], [0.0, 0.3], [0.0, -0.1]])
    r = SUPPORT_RADIUS  # the segment (or foot centre) widened by half a sole
    np.testing.assert_allclose(support_distance(points, np.stack([both] * 4)), [0.0, 0.1 - r, 0.2 - r, 0.0],
                               atol=1e-12)
    np.testing.assert_allclose(support_distance(points, np.stack([left_only] * 4)),
                               [0.1 - r, np.hypot(0.1, 0.05) - r, 0.2 - r, 0.2 - r], atol=1e-12)
    np.testing.assert_allclose(support_distance(points, np.stack([flight] * 4)), 0.0)


def test_a_longer_far_step_rolls_out_the_same_horizon_in_fewer_steps(clip):
    """far_dt: 0.4 s at 10 ms then 0.4 s at 20 ms (60 steps, not 80), scored on the same 20 ms grid; on a
    nominal plan from rest its cost stays close to the single-step rollout's."""
    costs = []
    for cfg in (MPCConfig(num_samples=2, threads=1), MPCConfig(num_samples=2, threads=1, far_dt=0.02)):
        c = MPCController(cfg)
        try:
            ref = reference_from_clip(clip, c.control_period_s)
            c.reset(ref)
            qpos = np.zeros(c.model.nq)
            qpos[0:3], qpos[3:7], qpos[c.qpos_idx] = ref.root_pos[0], ref.root_quat[0], ref.dof_pos[0]
            costs.append(c.evaluate(np.zeros((1, 3, 29)), qpos, np.zeros(c.model.nv), 0.0)[0])
            steps = c.steps
        finally:
            c.close()
    assert steps == 60
    assert costs[1] == pytest.approx(costs[0], rel=0.25)


def test_a_horizon_past_the_last_frame_holds_it_at_rest(clip):
    walking = np.arange(clip.num_frames)[:, None] / clip.fps * np.array([0.4, 0.0, 0.0])  # 0.4 m/s forward
    moving = clip.replace(root_pos=clip.root_pos + walking, keypoints=clip.keypoints + walking[:, None])
    mpc = MPCController(FAST)
    ref = reference_from_clip(moving, mpc.control_period_s)
    mpc.reset(ref)
    assert ref.root_lin_vel[-1, 0] == pytest.approx(0.4)
    end = (ref.num_frames - 1) * ref.dt
    inside = mpc.reference_at(np.array([end - 0.5, end]))
    past = mpc.reference_at(end + np.array([0.02, 0.4, 0.8]))
    for got, last in ((past.root_pos, ref.root_pos[-1]), (past.dof_pos, ref.dof_pos[-1]),
                      (past.keypoints, ref.keypoints[-1])):
        np.testing.assert_allclose(got, np.broadcast_to(last, got.shape), atol=1e-12)  # held, not extrapolated
    np.testing.assert_allclose(past.root_quat, np.broadcast_to(inside.root_quat[1], past.root_quat.shape), atol=1e-12)
    assert not np.any(past.root_lin_vel)  # the held pose is at rest
    np.testing.assert_allclose(inside.root_lin_vel[1], ref.root_lin_vel[-1])  # the last frame keeps its velocity
    before = mpc.reference_at(np.array([-0.1]))
    np.testing.assert_allclose(before.root_pos[0], ref.root_pos[0])  # no wrap to the end


def test_the_balance_feedback_pulls_a_pushed_robot_back_over_its_feet(clip):
    """Pushed forward, backward or sideways from the reference's standing state, the robot rolled out with the
    ankle feedback ends 0.4 s later with a smaller capture-point error than with the plan alone."""
    c = MPCController(MPCConfig(num_samples=1, threads=1, feedback_s=0.4))
    try:
        ref = reference_from_clip(clip, c.control_period_s)
        c.reset(ref)
        qpos = np.zeros(c.model.nq)
        qpos[0:3], qpos[3:7], qpos[c.qpos_idx] = ref.root_pos[0], ref.root_quat[0], ref.dof_pos[0]
        nq, nv, k = c.model.nq, c.model.nv, c._fb_steps
        for push in ([0.4, 0, 0], [-0.4, 0, 0], [0, 0.3, 0]):
            qvel = np.zeros(nv)
            qvel[0:3] = push
            state0 = c.initial_state(qpos, qvel, 0.0)
            plan = c.controls(np.zeros((1, c.config.num_knots, g1.NUM_DOF)), 0.0)
            with_fb, _ = c._feedback_rollout(state0, plan.copy(), 0.0)
            without, _ = c._pool_get().rollout(c.model, c._datas, state0[None], plan[:, :k], nstep=k)
            goal = capture_point(ref.root_pos[20], ref.root_lin_vel[20])
            errors = [np.linalg.norm(capture_point(s[0, -1, 1:4], s[0, -1, 1 + nq:4 + nq]) - goal)
                      for s in (with_fb, without)]
            assert errors[0] < 0.9 * errors[1], (push, errors)
        assert not c.feedback(qpos, np.zeros(nv), 0.0).any()  # at the reference: no correction
    finally:
        c.close()


def test_a_plan_that_has_drifted_far_from_the_reference_is_never_kept_over_the_reference(clip):
    """The warm start carries the plan's offsets from plan to plan; where the cost is flat (a target past a
    joint limit, a joint the keypoints barely see) they random-walk (0.7 rad rms, 3 rad at most, by 6 s of
    the 10 s squat of seed 9001, which then fell). With ``zero_sample`` the reference itself (offsets 0) is
    a candidate in every plan, so a drifted plan costlier than it is never kept."""
    c = MPCController(MPCConfig(num_samples=8, threads=1, iterations=1, zero_sample=True))
    try:
        ref = reference_from_clip(clip, c.control_period_s)
        c.reset(ref)
        qpos = np.zeros(c.model.nq)
        qpos[0:3], qpos[3:7], qpos[c.qpos_idx] = ref.root_pos[0], ref.root_quat[0], ref.dof_pos[0]
        qvel = np.zeros(c.model.nv)
        zero = np.zeros((1, c.config.num_knots, g1.NUM_DOF))
        drifted = np.random.default_rng(3).normal(size=zero.shape[1:])  # 1 rad rms
        c._nominal = drifted.copy()
        at_zero = c.evaluate(zero, qpos, qvel, 0.0)[0]
        _, best_cost, nominal_cost = c.plan(qpos, qvel, 0.0)
        assert nominal_cost > at_zero  # the drifted plan is worse than the reference itself
        assert best_cost <= at_zero + 1e-9 * abs(at_zero)  # (the same rollout in a batch of 8: rounding)
    finally:
        c.close()
