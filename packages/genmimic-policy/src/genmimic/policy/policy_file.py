"""The deployable student as one ``.npz`` (:func:`genmimic.core.runtime.save_npz_policy`: normaliser, dense
layers and its :class:`~genmimic.core.runtime.PolicySpec`), the one shipped in this package, and the spec of
a policy trained with an :class:`~genmimic.policy.config.EnvConfig`. NumPy only: ``track`` runs it without JAX.
A run directory's policy: :class:`~genmimic.policy.run_dir.RunDir` (and ``run_dir.load_policy_or_run``)."""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

from genmimic.core import g1_constants as g1
from genmimic.core.runtime import NumpyPolicy, PolicySpec, load_npz_policy, make_spec

from .config import EnvConfig, action_clip, action_scale

SHIPPED = "g1_student.npz"


def policy_spec(env: EnvConfig, training: dict[str, Any] | None = None) -> PolicySpec:
    """The spec of a student trained in ``env`` (observation, control period, the actions' clip) with the
    project's tracking gains and action scale; ``training``: its training record. The clip enters the spec
    only where it is not +-ACTION_CLIP for all (``env.action_clip_to_limits``), so older specs read the same."""
    clip = action_clip(env.action_clip_to_limits) if env.action_clip_to_limits else None
    return make_spec(env.student_frames, env.student_goals, env.ctrl_dt, action_scale(), g1.TRACKING_GAINS, training,
                     clip)


def load_policy(source: str | os.PathLike[str] | None = None) -> tuple[NumpyPolicy, PolicySpec]:
    """A ``policy.npz`` (default: the one shipped in this package) as (policy, spec).

    Raises :class:`~genmimic.core.runtime.PolicyFileError` (or its ``PolicySpecError``) naming the file."""
    if source is None:
        data = resources.files("genmimic.policy").joinpath("data", SHIPPED).read_bytes()
        return load_npz_policy(data, f"<shipped {SHIPPED}>")
    return load_npz_policy(source)
