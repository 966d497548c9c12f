"""A training run's directory, owned by one object: :class:`RunDir`.

Layout (what ``genmimic-policy train --out RUN`` writes)::

    RUN/config.json                        the TrainConfig (written when a run starts; read to resume)
    RUN/teacher.msgpack, teacher.json      teacher checkpoint (PPO learner, PRNG key, env snapshot) and its info
    RUN/student.msgpack, student.json      student checkpoint (DAgger) and its info
    RUN/metrics_teacher.csv, metrics_student.csv, tb/   metrics (CSV and TensorBoard events)
    RUN/policy.npz                         the exported student (genmimic.core.runtime.save_npz_policy)
    RUN/kept/it<N>/                        copies of the student at iteration N (distill.keep_every), runs of their own

Methods whose names start with ``read``/``load`` never write; the ones that write say so (``start``,
``export_policy``). Checkpoint *contents* (pytrees) are restored by the trainers
(:mod:`~genmimic.policy.checkpoint`), which take their paths from here. Reading a run needs no JAX; turning
a student checkpoint into a policy does (``genmimic-policy[train]``).
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genmimic.core.files import write_bytes_atomic
from genmimic.core.runtime import Inference, NumpyPolicy, PolicySpec, load_onnx_policy, save_npz_policy

from .config import TrainConfig, config_from_dict, config_to_dict, default_config
from .errors import CheckpointError
from .policy_file import load_policy, policy_spec

PHASES = ("teacher", "student")


@dataclass(frozen=True)
class RunDir:
    """The files of one training run under ``path`` (see the module docstring)."""

    path: Path

    @classmethod
    def of(cls, run: RunDir | str | os.PathLike[str]) -> RunDir:
        return run if isinstance(run, RunDir) else cls(Path(run))

    # ------------------------------------------------------------ paths
    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    def checkpoint(self, phase: str) -> Path:
        """``<phase>.msgpack`` (its info is the same name with ``.json``); phase in :data:`PHASES`."""
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
        return self.path / f"{phase}.msgpack"

    def metrics_path(self, phase: str) -> Path:
        return self.path / f"metrics_{phase}.csv"

    @property
    def tb_dir(self) -> Path:
        return self.path / "tb"

    @property
    def policy_path(self) -> Path:
        return self.path / "policy.npz"

    # ------------------------------------------------------------ reads
    def is_run(self) -> bool:
        """Whether ``path`` holds a run (its ``config.json``)."""
        return self.config_path.is_file()

    def read_config(self) -> TrainConfig:
        """The run's config. Raises :class:`CheckpointError` when ``path`` is not a run or the file is bad."""
        if not self.is_run():
            raise CheckpointError(f"{self.path}: not a training run (no config.json); pass the folder "
                                  "`genmimic-policy train --out` wrote")
        try:
            return config_from_dict(json.loads(self.config_path.read_text()))
        except json.JSONDecodeError as err:
            raise CheckpointError(f"{self.config_path}: not valid JSON ({err}); fix: restore it from the run's "
                                  "copy in git or a backup, or start a new run in another folder") from None

    def read_info(self, phase: str) -> dict[str, Any] | None:
        """The info of ``phase``'s checkpoint (iteration, env_steps, seconds, finished), None if not started."""
        path = self.checkpoint(phase).with_suffix(".json")
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise CheckpointError(f"{path}: not valid JSON ({err}); fix: restore it from the run's copy in git or "
                                  "a backup, or start a new run in another folder") from None

    def read_metrics(self, phase: str) -> list[dict[str, str]]:
        """The rows of ``metrics_<phase>.csv`` (empty when absent), values as written."""
        path = self.metrics_path(phase)
        if not path.is_file():
            return []
        with path.open(newline="") as f:
            return list(csv.DictReader(f))

    def read_policy(self) -> tuple[NumpyPolicy, PolicySpec]:
        """The run's student: ``policy.npz`` when exported, else built in memory from the student checkpoint
        (nothing is written; needs the training stack). Raises :class:`CheckpointError` when there is neither."""
        if self.policy_path.is_file():
            return load_policy(self.policy_path)
        if not self.checkpoint("student").is_file():
            what = "no student yet" if self.is_run() else "not a training run"
            raise CheckpointError(f"{self.path}: {what} (no policy.npz or student.msgpack)")
        return self.student_policy()

    def student_policy(self, extra: dict[str, Any] | None = None,
                       average_with: tuple[RunDir, ...] = ()) -> tuple[NumpyPolicy, PolicySpec]:
        """The student checkpoint as a NumPy policy and its spec (training record: both phases' info and
        ``extra``). Reads only; needs the training stack.

        ``average_with``: other runs (e.g. copies of this run's checkpoint at other iterations) whose
        students' weights are averaged with this one's, leaf by leaf (checkpoint averaging: SWA, Izmailov et
        al. 2018, "Averaging Weights Leads to Wider Optima"; the students must come from one DAgger run so
        their weights share a basin); the observation normaliser stays this run's. The record then lists
        the runs and their iterations under ``"averaged"``. Raises CheckpointError when a checkpoint is
        unreadable, is this run itself, or has another config (hence network) or teacher."""
        try:
            import jax

            from .distill import load_student
            from .networks import numpy_policy
        except ImportError as err:
            raise CheckpointError(f"{self.path}: reading the student checkpoint needs the training stack ({err}): "
                                  "pip install 'genmimic-policy[train]'") from None

        cfg = self.read_config()
        state, info = load_student(self.checkpoint("student"), cfg)
        teacher = self.read_info("teacher")
        record = {"teacher": teacher or {}, "student": info, **(extra or {})}
        weights = [state.average]
        for other in average_with:
            if other.path.resolve() == self.path.resolve():
                raise CheckpointError(f"{other.path}: is the run itself; fix: pass copies of its checkpoint taken at "
                                      "other iterations")
            if not other.path.is_dir():
                raise CheckpointError(f"{other.path}: no such folder; fix: pass a copy of a run directory")
            if other.read_config() != cfg or other.read_info("teacher") != teacher:
                raise CheckpointError(f"{other.path}: not a copy of {self.path} (another config or teacher); "
                                      "average students of one run")
            other_state, other_info = load_student(other.checkpoint("student"), cfg)  # same config: same network
            weights.append(other_state.average)
            record.setdefault("averaged", [{"run": self.path.name, "iteration": info.get("iteration")}]).append(
                {"run": other.path.name, "iteration": other_info.get("iteration")})
        average = jax.tree.map(lambda *leaves: sum(leaves) / len(leaves), *weights)
        return numpy_policy(average, state.normalizer), policy_spec(cfg.env, record)

    # ------------------------------------------------------------ writes
    def start(self, config: TrainConfig | None) -> TrainConfig:
        """Begin or resume training here: ``config`` for a new run (or to replace the saved one), else the
        saved config (resuming), else the defaults; written to ``config.json`` (the folder is created)."""
        if config is None:
            config = self.read_config() if self.is_run() else default_config()
        blocker = next((p for p in (self.path, *self.path.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise CheckpointError(f"{self.path}: cannot be a run folder, {blocker} is a file; fix: pass --out a "
                                  "folder (new or an earlier run's)")
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.config_path.with_name("config.json.tmp")
        tmp.write_text(json.dumps(config_to_dict(config), indent=1))
        os.replace(tmp, self.config_path)
        return config

    def keep_student_copy(self) -> RunDir:
        """Write a copy of the student checkpoint (with ``config.json`` and ``teacher.json``) to
        ``kept/it<iteration>/``, a run directory of its own (``DistillConfig.keep_every``); returns it."""
        info = self.read_info("student")
        if info is None:
            raise CheckpointError(f"{self.path}: no student checkpoint to keep")
        copy = RunDir(self.path / "kept" / f"it{int(info['iteration'])}")
        copy.path.mkdir(parents=True, exist_ok=True)
        for src in (self.config_path, self.path / "teacher.json", self.checkpoint("student"),
                    self.checkpoint("student").with_suffix(".json")):
            if src.is_file():
                write_bytes_atomic(copy.path / src.name, src.read_bytes())
        return copy

    def export_policy(self, extra: dict[str, Any] | None = None, average_with: tuple[RunDir, ...] = ()) -> Path:
        """Write ``policy.npz`` from the student checkpoint (:meth:`student_policy`, averaged with
        ``average_with``'s); returns its path."""
        net, spec = self.student_policy(extra, average_with)
        save_npz_policy(net, spec, self.policy_path)
        return self.policy_path


def load_policy_or_run(source: str | os.PathLike[str] | None = None) -> tuple[Inference, PolicySpec]:
    """A policy from a run directory (:meth:`RunDir.read_policy`), a ``policy.onnx``
    (:func:`genmimic.core.runtime.load_onnx_policy`), a ``policy.npz`` or, for None, the shipped one
    (:func:`~genmimic.policy.policy_file.load_policy`); errors as theirs. Never writes."""
    if source is not None and Path(source).is_dir():
        return RunDir(Path(source)).read_policy()
    if source is not None and Path(source).suffix.lower() == ".onnx":
        return load_onnx_policy(source)
    return load_policy(source)
