"""Resumable checkpoints (msgpack via flax.serialization, written atomically) and training metrics
(CSV plus TensorBoard event files)."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path
from typing import Any

from flax import serialization

from .errors import CheckpointError


def save_checkpoint(path: Path, target: Any, info: dict[str, Any]) -> None:
    """Write ``target`` (a pytree) to ``path`` and ``info`` to ``path.json``, each atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for dest, data in ((path, serialization.to_bytes(target)), (path.with_suffix(".json"),
                                                                json.dumps(info, indent=1).encode())):
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dest)


def load_checkpoint(path: Path, template: Any) -> tuple[Any, dict[str, Any]]:
    """Restore a pytree shaped like ``template`` and its info; a one-line error if unreadable."""
    try:
        target = serialization.from_bytes(template, path.read_bytes())
        info = json.loads(path.with_suffix(".json").read_text())
    except FileNotFoundError as err:
        raise CheckpointError(f"{path}: checkpoint missing ({Path(err.filename).name})") from None
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: unreadable checkpoint ({str(err).splitlines()[0][:120]})") from None
    return target, info


class MetricsLog:
    """One CSV per phase (``metrics_<phase>.csv``) and TensorBoard events under ``tb/``."""

    def __init__(self, run: Path, phase: str, resume_from: int = 0) -> None:
        """``resume_from``: the checkpoint's iteration; rows logged after it (lost work) are dropped."""
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.path = run / f"metrics_{phase}.csv"
        self.phase = phase
        self.tb = EventFileWriter(str(run / "tb"))
        self._fields: list[str] | None = None
        if self.path.exists():
            with self.path.open() as f:
                rows = list(csv.reader(f))
            if rows:
                self._fields = rows[0]
                kept = [rows[0]] + [r for r in rows[1:] if r and int(r[0]) <= resume_from]
                if len(kept) != len(rows):
                    with self.path.open("w", newline="") as f:
                        csv.writer(f).writerows(kept)

    def write(self, step: int, values: dict[str, float]) -> None:
        from tensorboard.compat.proto import event_pb2, summary_pb2

        row = {"iteration": step, "wall_time": round(time.time(), 1), **values}
        if self._fields is None:
            self._fields = list(row)
            with self.path.open("w", newline="") as f:
                csv.writer(f).writerow(self._fields)
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([row.get(k, "") for k in self._fields])
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=f"{self.phase}/{k}", simple_value=float(v))
                                             for k, v in values.items()])
        self.tb.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
        self.tb.flush()

    def close(self) -> None:
        self.tb.close()
