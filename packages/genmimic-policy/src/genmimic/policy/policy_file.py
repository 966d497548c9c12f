"""The deployable student as one ``.npz``: normaliser, dense layers and a JSON ``meta`` with everything
needed to run it (observation layout, joint order, default pose, PD gains, action scale, control
period). NumPy only: ``track`` and deploy run it without JAX."""

from __future__ import annotations

import io
import json
import os
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.files import read_bytes, write_bytes_atomic

from . import observation as obs_mod
from .config import EnvConfig, action_scale
from .errors import CheckpointError
from .numpy_policy import NumpyPolicy

FORMAT = "genmimic.policy/1"
SHIPPED = "g1_student.npz"


def policy_meta(env: EnvConfig, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a controller needs besides the weights (also the JSON written next to the ONNX file)."""
    layout = obs_mod.student_layout(env.history, env.future_frames)
    offsets = np.cumsum([0] + [b.size for b in layout])
    return {
        "format": FORMAT,
        "observation": {
            "size": int(offsets[-1]), "history": env.history, "future_frames": list(env.future_frames),
            "blocks": [{"name": b.name, "start": int(o), "size": b.size, "kind": b.kind}
                       for b, o in zip(layout, offsets, strict=False)],
            "dof_vel_scale": obs_mod.DOF_VEL_SCALE, "gyro_scale": obs_mod.GYRO_SCALE,
            "goal_frame": "goal keypoints minus the reference root position at the current frame, rotated by "
                          "minus the robot's IMU yaw (heading frame); keypoint order as keypoint_names",
            "normalization": "inside the network",
        },
        "keypoint_names": list(g1.KEYPOINT_NAMES),
        "joint_names": list(g1.JOINT_NAMES),
        "default_dof_pos": list(g1.DEFAULT_DOF_POS),
        "action": "joint position target = default_dof_pos + action_scale * action (SDK order)",
        "action_scale": list(action_scale()),
        "kp": list(g1.TRACKING_GAINS.kp), "kd": list(g1.TRACKING_GAINS.kd),
        "control_period_s": env.ctrl_dt,
        "training": extra or {},
    }


def save_policy(policy: NumpyPolicy, meta: dict[str, Any], dest: str | os.PathLike[str]) -> None:
    arrays = {"mean": policy.mean, "std": policy.std, "meta": np.array(json.dumps(meta))}
    for i, (w, b) in enumerate(zip(policy.weights, policy.biases, strict=True)):
        arrays[f"w{i}"], arrays[f"b{i}"] = w, b
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_bytes_atomic(dest, buf.getvalue())


def load_policy(source: str | os.PathLike[str] | None = None) -> tuple[NumpyPolicy, dict[str, Any]]:
    """A policy file (default: the one shipped in this package) as (policy, meta)."""
    if source is None:
        data = resources.files("genmimic.policy").joinpath("data", SHIPPED).read_bytes()
        name = f"<shipped {SHIPPED}>"
    else:
        name = str(source)
        data = read_bytes(source)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            n = sum(1 for k in z.files if k.startswith("w"))
            policy = NumpyPolicy(z["mean"], z["std"], tuple(z[f"w{i}"] for i in range(n)),
                                 tuple(z[f"b{i}"] for i in range(n)))
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{name}: not a genmimic policy file ({str(err).splitlines()[0][:100]})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{name}: unknown policy format {meta.get('format')!r} (expected {FORMAT})")
    if policy.obs_size != meta["observation"]["size"] or policy.weights[0].shape[0] != policy.obs_size:
        raise CheckpointError(f"{name}: weights do not match the observation size {meta['observation']['size']}")
    return policy, meta


def policy_from_run(run: str | os.PathLike[str]) -> tuple[NumpyPolicy, dict[str, Any]]:
    """The student of a run directory (its ``policy.npz``, else its student checkpoint)."""
    run = Path(run)
    if (run / "policy.npz").exists():
        return load_policy(run / "policy.npz")
    if not (run / "student.msgpack").exists():
        raise CheckpointError(f"{run}: not a training run (no policy.npz or student.msgpack)")
    save_policy_from_run(run, run / "policy.npz")
    return load_policy(run / "policy.npz")


def save_policy_from_run(run: Path, dest: Path, extra: dict[str, Any] | None = None) -> None:
    from .distill import load_student
    from .networks import numpy_policy
    from .train import run_config

    cfg = run_config(run, None)
    state, info = load_student(run, cfg)
    teacher_info = json.loads((run / "teacher.json").read_text()) if (run / "teacher.json").exists() else {}
    meta = policy_meta(cfg.env, {"teacher": teacher_info, "student": info, **(extra or {})})
    save_policy(numpy_policy(state.params, state.normalizer), meta, dest)


def load_policy_or_run(source: str | os.PathLike[str] | None = None) -> tuple[NumpyPolicy, dict[str, Any]]:
    """A policy from a run directory (:func:`policy_from_run`), a ``policy.npz`` or, for None, the shipped
    one (:func:`load_policy`); errors as theirs."""
    if source is not None and Path(source).is_dir():
        return policy_from_run(source)
    return load_policy(source)
