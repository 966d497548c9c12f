"""Peers side by side: the shipped student, TWIST2's released tracker (where ../shared/baselines/twist2 holds
it), the MPC (on a few clean clips, when asked) and open-loop replay, on the default benchmark
(``genmimic-bench make``) and on the CMU mocap clip in ../shared/data/motions; one definition of success
for all (genmimic.core.tracking). Writes the benchmark's report to ``bench_out/peers/`` and the README's
comparison table to ``bench_out/peers/comparison.md``.

Environment: ``BENCH_PEERS_MPC_MOTIONS=N`` also runs the MPC on the N shortest clean motions (with the other
methods on the same clips; the MPC runs ~40x slower than real time on 2 cores); ``BENCH_PEERS_OUT`` the folder.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import date
from pathlib import Path

import numpy as np
from common import Result

from genmimic.bench.manifest import is_current, load_manifest, make_benchmark, save_manifest
from genmimic.bench.metrics import evaluate
from genmimic.bench.report import summary_table
from genmimic.bench.runner import TrackerOptions, default_methods, make_tracker, run_benchmark
from genmimic.core.clips import SmplClip, load_clip
from genmimic.retarget import retarget

REPO = Path(__file__).resolve().parent.parent
CMU_CLIP = REPO.parent / "shared" / "data" / "motions" / "cmu_01_01_forward_jumps.bvh"
#: Training compute of each method, with its source.
COMPUTE = {
    "twist2": "not stated in the sources reachable here (TWIST2, Ze et al. 2025); its predecessor TWIST: "
              "1-2 days on one RTX 4090",
    "mpc": "none (sampling MPC, ~40x slower than real time on 2 cores)",
    "replay": "none",
}


def shipped_compute() -> str:
    """The shipped student's training compute, from the record in its policy file (never stale)."""
    from genmimic.policy.policy_file import load_policy

    training = load_policy()[1].training
    teacher, student = training["teacher"], training["student"]
    return (f"{training.get('name', 'the shipped student')}: teacher {teacher['env_steps'] / 1e6:.1f} M env steps "
            f"(~{teacher['seconds'] / 3600:.0f} h, mostly on a 2-core CPU, 7 min on one H200 GPU) + DAgger "
            f"{student['env_steps'] / 1e6:.1f} M env steps ({student['seconds'] / 60:.0f} min) (this project)")


def _cmu_rows(methods: tuple[str, ...]) -> dict[str, dict]:
    from genmimic.lift.importers import lift_any

    if not CMU_CLIP.is_file():
        return {}
    reference = retarget(lift_any(CMU_CLIP)).clip  # the lift drops CMU's T-pose first frame
    out = {}
    for m in methods:
        start = time.perf_counter()
        traj = make_tracker(m)(reference)
        metrics = evaluate(traj, reference)
        fell_at = float(np.argmax(traj.fallen) / traj.fps) if traj.fell else float("nan")
        out[m] = {**metrics._asdict(), "wall_s": time.perf_counter() - start, "duration_s": reference.duration,
                  "fell_at_s": fell_at}
    return out


def _mpc_subset(bench: Path, out: Path, motions: int, methods: tuple[str, ...]) -> list[dict]:
    clean = [e for e in load_manifest(bench) if e.corruption == "none"]
    durations = [load_clip(bench / e.file, SmplClip).duration for e in clean]
    entries = [clean[i] for i in np.argsort(durations, kind="stable")[:motions]]  # the shortest motions
    sub = out / "mpc_bench"
    sub.mkdir(parents=True, exist_ok=True)
    if not (sub / "clips").exists():
        (sub / "clips").symlink_to((bench / "clips").resolve())
    save_manifest(entries, sub)
    return run_benchmark(sub, out / "mpc_results", methods, workers=1)


def _table(overall: list[dict], cmu: dict[str, dict], subset: list[dict]) -> str:
    lines = [f"Measured {date.today().isoformat()} with `make bench` (`benchmarks/bench_peers.py`); "
             "strict success = no fall and root-relative keypoint error <= 0.25 m in every 1 s window.", "",
             "| method | benchmark: strict success | falls | root-relative error | worst 1 s | hands / feet | "
             "joint angles | root error per m | CMU jumps (23 s): fell | root-relative error | MPKPE | "
             "training compute |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|"]
    compute = {**COMPUTE, "policy": shipped_compute()}
    for r in overall:
        c = cmu.get(r["method"])
        cmu_cells = "- | - | -"
        if c:
            fell = f"at {c['fell_at_s']:.1f} s" if c["fell"] else "no"
            cmu_cells = f"{fell} | {c['root_relative_mm']:.0f} mm | {c['mpkpe_mm']:.0f} mm"
        lines.append(f"| {r['method']} | {r['strict_%']:.1f} % ({r['clips']} clips) | {r['fall_%']:.1f} % | "
                     f"{r['rel_mm']:.0f} mm | {r['worst_1s_mm']:.0f} mm | "
                     f"{r['hands_mm']:.0f} / {r['feet_mm']:.0f} mm | {r['joint_deg']:.1f} deg | "
                     f"{r['root_err_m_per_m']:.2f} m/m | {cmu_cells} | {compute.get(r['method'], '')} |")
    if subset:
        lines += ["", f"With the MPC, on the {len({r['clip_id'] for r in subset})} shortest clean motions:", "",
                  "| method | clips | strict success | falls | root-relative error |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {r['method']} | {r['clips']} | {r['strict_%']:.0f} % | {r['fall_%']:.0f} % | "
                  f"{r['rel_mm']:.0f} mm |" for r in summary_table(subset, "method")]
    return "\n".join(lines) + "\n"


def run() -> list[Result]:
    out = Path(os.environ.get("BENCH_PEERS_OUT", REPO / "bench_out" / "peers"))
    bench = out / "bench"
    if not is_current(bench):
        shutil.rmtree(bench, ignore_errors=True)  # none yet, or written by an older make_benchmark
        make_benchmark(bench)
    methods = default_methods(TrackerOptions())
    start = time.perf_counter()
    rows = run_benchmark(bench, out / "results", methods)
    wall = time.perf_counter() - start
    overall = summary_table(rows, "method")
    cmu = _cmu_rows(methods)
    motions = int(os.environ.get("BENCH_PEERS_MPC_MOTIONS", "0"))
    subset = _mpc_subset(bench, out, motions, ("mpc", *methods)) if motions > 0 else []
    (out / "comparison.md").write_text(_table(overall, cmu, subset))
    results = []
    for r in overall:
        note = f"{r['clips']} clips, falls {r['fall_%']:.0f} %, root-relative {r['rel_mm']:.0f} mm"
        results.append(Result(f"peers: {r['method']} strict success, default benchmark", r["strict_%"], "%", note))
    for m, c in cmu.items():
        results.append(Result(f"peers: {m} root-relative error, CMU forward jumps", c["root_relative_mm"], "mm",
                              f"fell: {c['fell']}, {c['duration_s']:.0f} s clip"))
    results.append(Result("peers: benchmark wall time", wall, "s", f"{len(rows)} rows, {', '.join(methods)}"))
    if "twist2" not in methods:
        results.append(Result("peers: TWIST2", float("nan"), "", "skipped: ../shared/baselines/twist2 not found"))
    return results


if __name__ == "__main__":
    for r in run():
        print(r)
    print((Path(os.environ.get("BENCH_PEERS_OUT", REPO / "bench_out" / "peers")) / "comparison.md").read_text())
