"""A log of every control step, written as one ``.npz`` so a run on hardware can be replayed and
compared with simulation. Not a motion clip: it holds what the controller saw and sent."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import numpy as np

from genmimic.core.files import write_bytes_atomic

from .controller import StepInfo
from .messages import Command, RobotState

FORMAT = "genmimic.deploylog/1"


class ControlLog:
    """Accumulates steps; :meth:`save` writes arrays (N, ...) with NaN where a step had no value."""

    def __init__(self, meta: dict[str, Any] | None = None) -> None:
        self.meta = meta or {}
        self.rows: list[dict[str, Any]] = []

    def add(self, t: float, state: RobotState | None, command: Command | None, info: StepInfo,
            compute_s: float, missed: bool, published: bool) -> None:
        self.rows.append({"t": t, "state": state, "command": command, "info": info, "compute_s": compute_s,
                          "missed": missed, "published": published})

    def arrays(self) -> dict[str, np.ndarray]:
        n = len(self.rows)

        def stack(get, size: int) -> np.ndarray:
            out = np.full((n, size), np.nan)
            for i, r in enumerate(self.rows):
                v = get(r)
                if v is not None:
                    out[i, : len(v)] = v
            return out

        obs_size = max((len(r["info"].obs) for r in self.rows if r["info"].obs is not None), default=0)
        return {
            "t": np.array([r["t"] for r in self.rows]),
            "phase": np.array([int(r["info"].phase) for r in self.rows]),
            "fault": np.array([r["info"].fault.name if r["info"].fault else "" for r in self.rows]),
            "tick": np.array([r["state"].tick if r["state"] else -1 for r in self.rows]),
            "q": stack(lambda r: r["state"] and r["state"].q, 29),
            "dq": stack(lambda r: r["state"] and r["state"].dq, 29),
            "imu_quat": stack(lambda r: r["state"] and r["state"].imu_quat, 4),
            "gyro": stack(lambda r: r["state"] and r["state"].gyro, 3),
            "obs": stack(lambda r: r["info"].obs, obs_size),
            "action": stack(lambda r: r["info"].action, 29),
            "cmd_q": stack(lambda r: r["command"] and r["command"].q, 29),
            "cmd_kp": stack(lambda r: r["command"] and r["command"].kp, 29),
            "cmd_kd": stack(lambda r: r["command"] and r["command"].kd, 29),
            "clamped": np.array([r["info"].clamped for r in self.rows]),
            "torque_limited": np.array([r["info"].torque_limited for r in self.rows]),
            "compute_s": np.array([r["compute_s"] for r in self.rows]),
            "missed": np.array([r["missed"] for r in self.rows]),
            "published": np.array([r["published"] for r in self.rows]),
        }

    def save(self, dest: str | os.PathLike[str]) -> None:
        buf = io.BytesIO()
        np.savez_compressed(buf, format=np.array(FORMAT), meta=np.array(json.dumps(self.meta)), **self.arrays())
        write_bytes_atomic(dest, buf.getvalue())
