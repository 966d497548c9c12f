"""A trivial, fast vector env with the tracking env's interface, so trainer tests run in seconds.

Each of ``N`` points on a plane must move to its target; obs = (position, target) (4,), action =
velocity (2,) [m/s] clipped to +-1, reward = -distance [m]; episodes last ``horizon`` steps. Its reward
terms have the tracking env's layout (:class:`~genmimic.policy.rewards.RewardTerms`, the distance in the
first, zeros elsewhere), so the trainer's metrics take them as they are. It is
mirror-symmetric under y -> -y, like the G1 under left/right, so the symmetry loss applies too.
"""

from __future__ import annotations

import numpy as np

from .env_cpu import StepBatch
from .mirror import MirrorMap
from .rewards import RewardTerms

OBS_MIRROR = MirrorMap(np.arange(4), np.array([1.0, -1.0, 1.0, -1.0]))
ACT_MIRROR = MirrorMap(np.arange(2), np.array([1.0, -1.0]))


class PointEnv:
    def __init__(self, num_envs: int = 32, horizon: int = 20, seed: int = 0, dt: float = 0.2) -> None:
        self.n, self.horizon, self.dt = num_envs, horizon, dt
        self.rng = np.random.default_rng(seed)

    def _obs(self) -> np.ndarray:
        o = np.concatenate([self.pos, self.target], -1).astype(np.float32)
        return o

    def _reset_rows(self, rows: np.ndarray) -> None:
        self.pos[rows] = self.rng.uniform(-1, 1, (rows.sum(), 2))
        self.target[rows] = self.rng.uniform(-1, 1, (rows.sum(), 2))
        self.t[rows] = 0

    def reset(self) -> tuple[np.ndarray, np.ndarray]:
        self.pos, self.target, self.t = np.zeros((self.n, 2)), np.zeros((self.n, 2)), np.zeros(self.n, int)
        self._reset_rows(np.ones(self.n, bool))
        o = self._obs()
        return o, o

    def step(self, actions: np.ndarray) -> StepBatch:
        self.pos += self.dt * np.clip(actions, -1, 1)
        dist = np.linalg.norm(self.pos - self.target, axis=-1)
        self.t += 1
        trunc = self.t >= self.horizon
        final = self._obs()
        self._reset_rows(trunc)
        o = self._obs()
        terms = np.zeros((self.n, len(RewardTerms._fields)))
        terms[:, 0] = dist
        return StepBatch(o, o, -dist, np.zeros(self.n, bool), trunc, final, dist, terms)

    def close(self) -> None:
        pass
