import dataclasses

import numpy as np
import pytest

from genmimic.policy import observation as obs
from genmimic.policy import rewards as rw
from genmimic.policy.config import default_config
from genmimic.policy.env_cpu import CpuVecEnv, TrackingEnv, ref_frame

CFG = default_config().env
S_SIZE = obs.layout_size(obs.student_layout(CFG.history, CFG.future_frames))
T_SIZE = obs.layout_size(obs.teacher_layout(CFG.history, CFG.future_frames))


def test_reset_and_step_give_finite_observations_of_the_documented_sizes(bank):
    env = TrackingEnv(bank, CFG, seed=0)
    s, t = env.reset()
    assert s.shape == (S_SIZE,) and t.shape == (T_SIZE,) and np.isfinite(t).all()
    np.testing.assert_array_equal(t[:S_SIZE], s)  # the teacher sees the student's observation first
    rng = np.random.default_rng(0)
    for _ in range(60):
        s, t, r, term, trunc, err, terms = env.step(rng.normal(size=29) * 0.3)
        assert np.isfinite(s).all() and np.isfinite(t).all() and np.isfinite(r) and np.isfinite(terms).all()
        assert terms.shape == (len(rw.RewardTerms._fields),) and err >= 0
        if term or trunc:
            s, t = env.reset()


def test_a_longer_student_history_keeps_the_teachers_observation(bank):
    """student_history 10: the student sees 10 proprioception frames, newest first (the teacher's 3 among
    them), then the same goals; the teacher's observation is unchanged."""
    cfg = dataclasses.replace(CFG, student_history=10)
    env = TrackingEnv(bank, cfg, seed=0, randomize=False)
    s, t = env.reset()
    rows = 93
    assert s.shape == (obs.layout_size(obs.student_layout(10, CFG.future_frames)),) and t.shape == (T_SIZE,)
    seen = [s[:rows]]
    for _ in range(12):
        s, t, *_ = env.step(np.zeros(29))
        seen.insert(0, s[:rows])
    np.testing.assert_array_equal(s[:10 * rows].reshape(10, rows), np.stack(seen[:10]))
    np.testing.assert_array_equal(t[:3 * rows], s[:3 * rows])  # the teacher's frames are the newest three
    np.testing.assert_array_equal(t[3 * rows:S_SIZE], s[10 * rows:])  # the same goals after them


def test_reward_is_maximal_on_the_reference(bank):
    env = TrackingEnv(bank, CFG, seed=0, randomize=False)
    tracking = ("keypoint_local", "keypoint_global", "root_orientation", "root_height", "joint_position")
    for clip, t in ((0, 5), (1, 40), (2, 70)):
        env.set_reference_state(clip, t)
        sim = env.sim_arrays()
        ref = ref_frame(bank, bank.frame(clip, t))
        best = rw.reward_terms(np, env.robot(sim), ref, env.last_action, env.last_action, np.asarray(False), CFG)
        for name in tracking:
            assert getattr(best, name) == pytest.approx(1.0, abs=1e-6), name
        total = rw.total_reward(best, CFG.reward_scales)
        rng = np.random.default_rng(t)
        for _ in range(5):  # any other pose of the robot scores lower
            q = env.data.qpos.copy()
            q[env.qpos_idx] += rng.normal(size=29) * 0.2
            q[0:3] += rng.normal(size=3) * 0.05
            env.data.qpos[:] = q
            import mujoco

            mujoco.mj_forward(env.model, env.data)
            worse = rw.reward_terms(np, env.robot(env.sim_arrays()), ref, env.last_action, env.last_action,
                                    np.asarray(False), CFG)
            assert rw.total_reward(worse, CFG.reward_scales) < total
            env.set_reference_state(clip, t)


def test_falling_and_drifting_terminate_the_episode(bank):
    env = TrackingEnv(bank, CFG, seed=0, randomize=False)
    env.reset(clip=0, start=0)
    env.data.qpos[2] -= 0.5  # pelvis far below the reference
    import mujoco

    mujoco.mj_forward(env.model, env.data)
    _, _, r, term, _, _, terms = env.step(np.zeros(29))
    assert term and terms[rw.RewardTerms._fields.index("termination")] == 1.0 and r < 0
    env.reset(clip=0, start=0)
    env.data.qpos[0] += 0.3  # the whole robot 0.3 m behind in the same pose: within the root bound
    mujoco.mj_forward(env.model, env.data)
    assert not env.step(np.zeros(29))[3]
    env.reset(clip=0, start=0)
    env.data.qpos[0] += 0.6  # past the root-drift bound
    mujoco.mj_forward(env.model, env.data)
    assert env.step(np.zeros(29))[3]
    # with zero actions on tracking gains the G1 cannot stand: it falls within a few seconds
    env.reset(clip=0, start=0)
    assert any(env.step(np.zeros(29))[3] for _ in range(150))


def test_episodes_are_truncated_at_the_end_of_the_clip(bank):
    steady = dataclasses.replace(CFG, max_root_relative_error=1e3, max_root_drift=1e3, max_heading_error=4.0,
                                 max_joint_position_error=10.0, max_joint_error=10.0,
                                 fall_tilt=3.2, fall_height_drop=5.0)
    env = TrackingEnv(bank, steady, seed=0, randomize=False)
    n = int(bank.clip_len[0])
    env.reset(clip=0, start=n - 4)
    flags = [env.step(np.zeros(29))[4] for _ in range(3)]
    assert flags == [False, False, True]


def test_randomization_changes_physics_per_episode(bank):
    env = TrackingEnv(bank, CFG, seed=3)
    seen = set()
    for _ in range(3):
        env.reset()
        seen.add((round(float(env.model.geom_friction[env.floor, 0]), 6), round(float(env.dr[2]), 6)))
    assert len(seen) == 3


def test_vector_env_gives_the_same_episodes_for_the_same_seed_at_any_thread_count(bank):
    with CpuVecEnv(bank, CFG, num_envs=4, threads=2, seed=0) as venv:
        s, t = venv.reset()
        assert s.shape == (4, S_SIZE) and t.shape == (4, T_SIZE)
        out = venv.step(np.zeros((4, 29)))
        assert out.student.shape == (4, S_SIZE) and out.reward.shape == (4,)
        assert out.terms.shape == (4, len(rw.RewardTerms._fields))
    with CpuVecEnv(bank, CFG, num_envs=4, threads=1, seed=0) as one:
        s2, _ = one.reset()
        np.testing.assert_array_equal(s2, s)
        np.testing.assert_array_equal(one.step(np.zeros((4, 29))).teacher, out.teacher)
