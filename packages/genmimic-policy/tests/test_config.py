import dataclasses
import inspect
import json

import pytest

from genmimic.policy import rewards
from genmimic.policy.config import RewardScales, config_from_dict, default_config, load_config
from genmimic.policy.errors import ConfigError


def test_default_config_is_fresh_and_overridable():
    a, b = default_config(), default_config()
    assert a == b and a is not b and a.env.keypoint_weights is not b.env.keypoint_weights
    c = config_from_dict({"num_envs": 8, "env": {"reward_scales": {"torque": -1.0}, "keypoint_weights": {"head": 5}}})
    assert c.num_envs == 8 and c.env.reward_scales.torque == -1.0 and c.env.keypoint_weights["head"] == 5
    assert c.env.keypoint_weights["left_hand"] == default_config().env.keypoint_weights["left_hand"]


def test_reward_scale_keys_are_reward_term_names():
    names = [f for f in RewardScales.__dataclass_fields__]
    assert tuple(names) == rewards.RewardTerms._fields
    for name in names:
        assert inspect.isfunction(getattr(rewards, name)), name


def test_keypoint_weights_rank_end_effectors_over_upper_over_lower_body():
    w = default_config().env.keypoint_weights
    assert min(w["left_hand"], w["head"], w["right_toe"]) > max(w["left_elbow"], w["torso"])
    assert min(w["left_elbow"], w["torso"]) > max(w["left_knee"], w["right_hip"])


def test_bad_config_files_fail_with_the_file_and_key(tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps({"ppo": {"learnig_rate": 1}}))
    with pytest.raises(ConfigError, match=r"c.json: unknown config key 'ppo.learnig_rate'"):
        load_config(bad)
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="c.json: not a JSON config"):
        load_config(bad)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.json")


@pytest.mark.parametrize(("data", "message"), [
    ({"env": {"student_goal_frames": [0, 1.5]}}, r"env.student_goal_frames: expected a list of any number of "
                                                 r"integers, got \[0, 1.5\]; fix: write a list"),
    ({"env": {"student_goal_frames": [0, "2"]}}, "env.student_goal_frames: expected a list"),
    ({"env": {"student_goal_frames": [0, True]}}, "env.student_goal_frames: expected a list"),
    ({"env": {"future_frames": 5}}, r"env.future_frames: expected a list .* e.g. \[0, 2, 5, 10\] \(the default\)"),
    ({"env": {"randomization": {"friction": [0.5]}}}, "env.randomization.friction: expected a list of 2 numbers"),
    ({"env": {"student_goal_frames": [0, 2, 0]}}, "env.student_goal_frames: frame 0 is listed twice"),
    ({"env": {"student_history": 2.5}}, "env.student_history: expected an integer, got 2.5; fix: write an integer"),
    ({"env": {"randomize": "yes"}}, 'env.randomize: expected true or false, got "yes"'),
    ({"ppo": {"learning_rate": "fast"}}, 'ppo.learning_rate: expected a number, got "fast"; fix: write a number'),
    ({"env": {"student_goal_frames": None}}, "env.student_goal_frames: expected a list of any number of integers, "
                                             "got null"),
    ({"env": {"noise": 0.1}}, r"env.noise: expected an object of settings, got 0.1; fix: write an object there"),
    ({"env": 3}, "env: expected an object of settings, got 3; fix"),
    ({"env": {"keypoint_weights": 3}}, "env.keypoint_weights: expected an object of numbers"),
])
def test_a_config_value_of_the_wrong_kind_is_refused_naming_the_file_and_key(tmp_path, data, message):
    """Every value is checked against its field's type, list elements too, before anything runs (a goal frame
    of 1.5 once failed only after the teacher phase, with a traceback)."""
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"c.json: " + message):
        load_config(bad)


def test_config_lists_and_numbers_are_read_as_their_fields_types():
    cfg = config_from_dict({"env": {"student_goal_frames": [0, -2], "randomization": {"friction": [1, 2]},
                                    "keypoint_weights": {"pelvis": 2}}, "ppo": {"learning_rate": 1}})
    assert cfg.env.student_goals == (0, -2) and cfg.env.goal_noise_frames == 4
    assert cfg.env.randomization.friction == (1.0, 2.0) and isinstance(cfg.env.randomization.friction[0], float)
    assert cfg.env.keypoint_weights["pelvis"] == 2 and cfg.ppo.learning_rate == 1.0


def test_a_config_file_overrides_a_resumed_runs_saved_config_not_the_defaults(tmp_path):
    """Resuming with --config keeps what the run was trained with, except what the file names."""
    saved = dataclasses.replace(default_config(), num_envs=7)
    saved = dataclasses.replace(saved, env=dataclasses.replace(saved.env, max_root_drift=0.9,
                                                                   reward_scales=dataclasses.replace(
                                                                       saved.env.reward_scales, torque=-0.5)))
    f = tmp_path / "over.json"
    f.write_text(json.dumps({"backend": "cpu", "env": {"reward_scales": {"alive": 0.25}}}))
    cfg = load_config(f, base=saved)
    assert (cfg.num_envs, cfg.env.max_root_drift, cfg.env.reward_scales.torque) == (7, 0.9, -0.5)
    assert cfg.env.reward_scales.alive == 0.25
    assert load_config(f).num_envs == default_config().num_envs  # without a base: over the defaults
    f.write_text(json.dumps({"env": {"max_root_drift_m": 1}}))
    with pytest.raises(ConfigError, match=r"over.json: unknown config key 'env.max_root_drift_m'"):
        load_config(f, base=saved)


def test_the_clip_to_limits_lets_every_pd_target_reach_both_joint_limits():
    """Known answer: the G1's wrist pitch (+-1.614 rad, scale 0.075 rad) needs a clip of ~21.7, where +-5
    reached 0.37 rad; every joint's PD targets at its bounds reach both limits, and without the option every
    clip is ACTION_CLIP."""
    import numpy as np

    from genmimic.core import g1_constants as g1
    from genmimic.core.runtime.policy_spec import ACTION_CLIP
    from genmimic.policy.config import action_bounds, action_clip, action_scale

    assert action_clip() == (ACTION_CLIP,) * 29
    clip, scale = np.asarray(action_clip(True)), np.asarray(action_scale())
    wrist = g1.JOINT_NAMES.index("left_wrist_pitch_joint")
    assert scale[wrist] * ACTION_CLIP == pytest.approx(0.375, abs=0.01) and clip[wrist] == pytest.approx(21.7, abs=0.1)
    assert np.all(clip >= ACTION_CLIP)
    low, high = (np.asarray(b) for b in action_bounds(True))
    default = np.asarray(g1.DEFAULT_DOF_POS)
    np.testing.assert_allclose(default + scale * high, [j.upper for j in g1.JOINTS], atol=1e-9)
    np.testing.assert_allclose(default + scale * low, [j.lower for j in g1.JOINTS], atol=1e-9)


def test_a_students_spec_carries_the_clip_it_was_trained_with():
    import numpy as np

    from genmimic.policy.config import action_clip
    from genmimic.policy.policy_file import policy_spec

    env = default_config().env
    assert policy_spec(env).action_clip is None  # as every spec before the option
    wide = policy_spec(dataclasses.replace(env, action_clip_to_limits=True))
    np.testing.assert_allclose(wide.action_bound, action_clip(True))
