"""Tracking quality of a policy on a set of clips: success rate and keypoint error."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .corpus import load_clip_dir
from .numpy_policy import NumpyPolicy
from .track import SUCCESS_ERROR, success, track_clip


class Evaluation(NamedTuple):
    clips: int
    success_rate: float  # share of clips with no fall and mean keypoint error < 0.25 m
    fall_rate: float
    mean_keypoint_error: float  # [m], over all frames of all clips
    mean_error_of_successes: float  # [m]
    per_clip: list[dict[str, Any]]


def evaluate_clips(clips: str | Path, policy: NumpyPolicy, meta: dict[str, Any]) -> Evaluation:
    rows = []
    for name, clip in load_clip_dir(clips):
        traj = track_clip(clip, policy, meta, source=name)
        rows.append({"clip": Path(name).name, "fell": traj.fell, "error": float(traj.tracking_error.mean()),
                     "success": success(traj, SUCCESS_ERROR)})
    ok = [r["error"] for r in rows if r["success"]]
    rate = lambda key: float(np.mean([r[key] for r in rows]))  # noqa: E731
    return Evaluation(len(rows), rate("success"), rate("fell"), rate("error"),
                      float(np.mean(ok)) if ok else float("nan"), rows)


def evaluate_teacher(run: str | Path, clips: str | Path) -> Evaluation:
    """The teacher of a training run on ``clips`` (privileged observations, no noise or randomisation)."""
    import jax.numpy as jnp

    from .env_cpu import TrackingEnv
    from .networks import policy_mean
    from .reference import make_bank, reference_from_clip
    from .train import load_teacher, run_config

    cfg = run_config(Path(run), None)
    teacher, _ = load_teacher(Path(run), cfg)
    rows = []
    for name, clip in load_clip_dir(clips):
        env = TrackingEnv(make_bank([reference_from_clip(clip, cfg.env.ctrl_dt, name)]), cfg.env, randomize=False)
        _, obs = env.reset(clip=0, start=0)
        errors, fell = [], False
        for _ in range(int(env.bank.clip_len[0]) - 1):
            action = np.asarray(policy_mean(teacher.params.policy, teacher.normalizer, jnp.asarray(obs[None])))[0]
            _, obs, _, term, _, err, _ = env.step(action)
            errors.append(err)
            if term:
                fell = True
                break
        # a fall or drift ends the episode: count the rest of the clip at the last error (at least 0.5 m)
        error = float(np.mean(errors + [max(errors[-1], 0.5)] * (int(env.bank.clip_len[0]) - 1 - len(errors))))
        rows.append({"clip": Path(name).name, "fell": fell, "error": error,
                     "success": (not fell) and error < SUCCESS_ERROR})
    ok = [r["error"] for r in rows if r["success"]]
    rate = lambda key: float(np.mean([r[key] for r in rows]))  # noqa: E731
    return Evaluation(len(rows), rate("success"), rate("fell"), rate("error"),
                      float(np.mean(ok)) if ok else float("nan"), rows)
