"""The environment's fall termination is the project's one fall test (genmimic.core.tracking.fallen)."""

from __future__ import annotations

import dataclasses

import numpy as np

from genmimic.core import tracking
from genmimic.core.rotations import quat_from_axis_angle
from genmimic.policy import rewards
from genmimic.policy.config import EnvConfig


def _frames(n: int, rng: np.random.Generator) -> tuple[rewards.RobotFrame, rewards.RefFrame]:
    axis_angle = rng.normal(size=(n, 3)) * 0.8
    quat = np.stack([quat_from_axis_angle(a) for a in axis_angle])
    pos = np.column_stack([np.zeros((n, 2)), rng.uniform(0.2, 1.0, n)])
    z = np.zeros((n, 29))
    robot = rewards.RobotFrame(pos, quat, np.zeros((n, 3)), np.zeros((n, 3)), z, z, np.zeros((n, 19, 3)), z,
                               np.zeros((n, 2), bool), np.zeros((n, 2, 3)))
    ref_pos = np.column_stack([np.zeros((n, 2)), np.full(n, 0.75)])
    ref = rewards.RefFrame(ref_pos, np.tile([1.0, 0, 0, 0], (n, 1)), z, np.zeros((n, 19, 3)))
    return robot, ref


def test_env_termination_uses_the_core_fall_test_and_its_constants():
    cfg = EnvConfig()
    assert (cfg.fall_tilt, cfg.fall_height_drop) == (tracking.FALL_TILT_RAD, tracking.FALL_HEIGHT_DROP_M)
    robot, ref = _frames(200, np.random.default_rng(0))
    got = rewards.fallen(np, robot, ref, cfg)
    want = tracking.fallen(np, robot.root_pos, robot.root_quat, ref.root_pos[:, 2])
    assert 20 < got.sum() < 180 and np.array_equal(got, want)  # both outcomes occur, all agree
    lax = dataclasses.replace(cfg, fall_tilt=np.pi, fall_height_drop=10.0)
    assert not rewards.fallen(np, robot, ref, lax).any()  # the config's values are the ones used
