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
