"""genmimic-bench batch: inputs/s of the batch runner (local process pool, and Ray where installed) against a
shell loop over the stage CLIs (genmimic-lift, genmimic-retarget, genmimic-retarget check, genmimic-policy
track) on the same inputs: 8 BVH files of 2 s procedural motion (genmimic-lift's ``synthesize``).

The loop pays every CLI's start-up (Python, NumPy, MuJoCo, Pinocchio, the policy) four times per input; the
batch runner builds that state once per worker and runs inputs on every core.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Result

from genmimic.bench.batch import collect_inputs
from genmimic.bench.batch_pools import ray_available, run_batch
from genmimic.lift.synth import KINDS, synthesize
from genmimic.lift.testing import write_bvh

NUM_INPUTS = 8
SECONDS = 2.0


def _shell_loop(inputs: list[Path], out: Path) -> float:
    bin_dir = Path(sys.executable).parent
    start = time.perf_counter()
    for f in inputs:
        o = out / f.stem
        o.mkdir(parents=True)
        for cmd in (["genmimic-lift", str(f), "-o", str(o / "human.npz")],
                    ["genmimic-retarget", str(o / "human.npz"), "-o", str(o / "g1.npz")],
                    ["genmimic-retarget", "check", str(o / "g1.npz"), "--json", str(o / "feasibility.json")],
                    ["genmimic-policy", "track", str(o / "g1.npz"), "-o", str(o / "robot.npz")]):
            subprocess.run([str(bin_dir / cmd[0]), *cmd[1:]], check=True, capture_output=True)
    return time.perf_counter() - start


def run() -> list[Result]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for i in range(NUM_INPUTS):
            clip = synthesize(KINDS[i % len(KINDS)], seed=i, duration=SECONDS, fps=30.0)
            write_bvh(src / f"clip{i}.bvh", clip)
        inputs = sorted(src.iterdir())
        loop_rate = NUM_INPUTS / _shell_loop(inputs, Path(tmp) / "loop")
        rows.append(Result("batch: shell loop over the 4 stage CLIs", loop_rate, "inputs/s",
                           f"{NUM_INPUTS} BVH inputs of {SECONDS:g} s, lift -> retarget -> check -> track"))
        for backend in ("local", "ray") if ray_available() else ("local",):
            summary = run_batch(collect_inputs([src]), Path(tmp) / backend, backend=backend)
            assert not summary.failed, summary.failed[0].error
            rate = NUM_INPUTS / summary.wall_s
            rows.append(Result(f"batch: genmimic-bench batch, {backend} ({summary.workers} workers)", rate,
                               "inputs/s", f"{rate / loop_rate:.2f}x the shell loop, start-up included", ">= 1.8x"))
    return rows
