"""Training stops cleanly on SIGINT/SIGTERM: the iteration finishes, a checkpoint is written, a resume
continues from it."""

from __future__ import annotations

import os
import signal

from genmimic.policy.config import config_from_dict


class SignalOnStep:
    """A real env that sends this process SIGTERM from inside its ``at``-th step (as ``kill`` would)."""

    def __init__(self, env, at: int) -> None:
        self.env, self.at, self.steps = env, at, 0

    def step(self, actions):
        self.steps += 1
        if self.steps == self.at:
            os.kill(os.getpid(), signal.SIGTERM)
        return self.env.step(actions)

    def __getattr__(self, name):
        return getattr(self.env, name)


def test_teacher_stops_after_the_iteration_and_saves(bank, tmp_path):
    import jax

    from genmimic.policy.ppo import init_state
    from genmimic.policy.train import make_env, read_checkpoint, teacher_sizes, train_teacher

    cfg = config_from_dict({"num_envs": 4, "threads": 1, "checkpoint_every": 100,
                            "ppo": {"iterations": 50, "unroll_length": 8, "hidden": [16]}})
    env = make_env(cfg, bank)
    before = signal.getsignal(signal.SIGTERM)  # not always SIG_DFL: Ray, when started in this process, sets one
    info = train_teacher(tmp_path, cfg, SignalOnStep(env, at=8 + 3), show_progress=False)  # in iteration 2
    env.close()
    assert info["iteration"] == 2 and not info["finished"]
    key = jax.random.PRNGKey(0)
    _, _, snap, saved = read_checkpoint(tmp_path / "teacher.msgpack", init_state(key, *teacher_sizes(cfg), cfg.ppo),
                                        key)
    assert saved["iteration"] == 2 and saved["env_steps"] == 2 * 8 * 4 and snap is not None
    assert signal.getsignal(signal.SIGTERM) is before
