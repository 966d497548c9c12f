"""genmimic-core: forward kinematics, clip I/O and the generated G1 model in C MuJoCo."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mujoco
import numpy as np
from common import Result, rate

from genmimic.core import g1_constants as g1
from genmimic.core import load_clip, load_mujoco_model, save_clip, smpl
from genmimic.core.g1_kinematics import keypoint_positions
from genmimic.core.testing import random_smpl_clip, waving_g1_clip


def run() -> list[Result]:
    rows = []
    T = 500
    rng = np.random.default_rng(0)
    dof = np.tile(g1.DEFAULT_DOF_POS, (T, 1)) + 0.1 * rng.normal(size=(T, 29))
    root = np.tile([0.0, 0.0, 0.8], (T, 1))
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))

    def g1_fk() -> int:
        keypoint_positions(root, quat, dof)
        return T

    rows.append(Result("G1 keypoints by NumPy FK (batch of 500)", rate(g1_fk), "frames/s"))
    go, bp, tr = np.zeros((T, 3)), 0.2 * rng.normal(size=(T, 23, 3)), np.zeros((T, 3))

    def smpl_fk() -> int:
        smpl.forward_kinematics(go, bp, tr)
        return T

    rows.append(Result("SMPL joints by NumPy FK (batch of 500)", rate(smpl_fk), "frames/s"))

    clip = waving_g1_clip(500, 50.0)  # 10 s at 50 fps
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.npz"

        def io_round_trip() -> int:
            save_clip(clip, path)
            load_clip(path)
            return 1

        rows.append(Result("G1 clip save+load (10 s at 50 fps)", rate(io_round_trip), "round trips/s",
                           f"{path.stat().st_size / 1024:.0f} KiB compressed"))
        smpl_clip = random_smpl_clip(300, 30.0)
        path2 = Path(tmp) / "smpl.npz"

        def smpl_io() -> int:
            save_clip(smpl_clip, path2)
            load_clip(path2)
            return 1

        rows.append(Result("SMPL clip save+load (10 s at 30 fps)", rate(smpl_io), "round trips/s"))

    model = load_mujoco_model(gains=g1.HOLD_GAINS)
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0)

    def steps() -> int:
        for _ in range(1000):
            mujoco.mj_step(model, data)
        return 1000

    sps = rate(steps, 2.0)
    rows.append(Result("G1 standing, C MuJoCo, one core", sps, "steps/s",
                       f"{sps * model.opt.timestep:.0f}x real time at dt {model.opt.timestep} s"))
    return rows
