"""genmimic-policy's sampling MPC on held-out procedural clips (strict success, errors, walking end point,
compute) and genmimic-retarget's feasibility check on clean clips and on clips made infeasible on purpose.

The default run tracks a few 10 s clips; ``GENMIMIC_BENCH_MPC_FULL=1`` runs the target set (8 kinds x 3
seeds = 24 clips of 10 s). ``GENMIMIC_BENCH_MPC_CLIPS=DIR`` reads the clips from DIR (``<kind>_<seed>.npz``,
as written by ``python benchmarks/bench_mpc.py --write-clips DIR``) instead of making them
(``GENMIMIC_BENCH_MPC_ORDER=hard-first``: the walking and squat clips first), and
``GENMIMIC_BENCH_MPC_WORKERS=N`` tracks N clips at a time in worker processes (each MPC uses
``GENMIMIC_BENCH_MPC_THREADS`` rollout threads, default 2); ``GENMIMIC_BENCH_MPC_OPTIONS`` (JSON) sets
``MPCConfig`` fields other than the shipped defaults. ``GENMIMIC_BENCH_MPC_ONLY=walk_9002,squat_9001`` tracks
only the named clips of the set (and skips the feasibility rows); ``GENMIMIC_BENCH_MPC_SAVE=DIR`` writes each
trajectory (``<kind>_<seed>.npz``) and its result (``<kind>_<seed>.json``) there as it finishes.
Run alone: ``python benchmarks/bench_mpc.py``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import numpy as np
from common import Result

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip, load_clip, save_clip
from genmimic.core.tracking import score_trajectory

KINDS = ("stand", "gestures", "squat", "step", "turn", "walk", "walk_with_action", "wave_step_turn")
GESTURES = ("wave", "thumbs_up", "point", "arms_cross", "reach", "composition")
WALKING = ("walk", "walk_with_action")
SEEDS = (9000, 9001, 9002)  # held out: training used 1000-2999
DURATION_S = 10.0
G1_WEIGHT_N = g1.TOTAL_MASS * 9.81
QUICK = (("stand", 9000), ("gestures", 9000), ("walk", 9000))


def _clip_set() -> list[tuple[str, int]]:
    only = [n.strip() for n in os.environ.get("GENMIMIC_BENCH_MPC_ONLY", "").split(",") if n.strip()]
    if only:
        every = {f"{k}_{s}": (k, s) for k in KINDS for s in SEEDS}
        unknown = [n for n in only if n not in every]
        if unknown:
            raise SystemExit(f"GENMIMIC_BENCH_MPC_ONLY: unknown clip(s) {', '.join(unknown)}; "
                             f"use <kind>_<seed> with kind in {', '.join(KINDS)} and seed in {SEEDS}")
        return [every[n] for n in only]
    if os.environ.get("GENMIMIC_BENCH_MPC_FULL"):
        if os.environ.get("GENMIMIC_BENCH_MPC_ORDER") == "hard-first":  # what failed before comes first
            hard = ("walk", "walk_with_action", "squat")
            return [(k, s) for k in hard for s in SEEDS] + [(k, s) for s in SEEDS for k in KINDS if k not in hard]
        return [(k, s) for s in SEEDS for k in KINDS]
    return list(QUICK)


def _make(kind: str, seed: int) -> G1Clip | None:
    folder = os.environ.get("GENMIMIC_BENCH_MPC_CLIPS")
    if folder:
        path = Path(folder) / f"{kind}_{seed}.npz"
        return load_clip(path, G1Clip) if path.exists() else None
    from genmimic.policy.corpus import synth_retarget_available

    make = synth_retarget_available()
    if make is None:
        return None
    synth_kind = GESTURES[seed % len(GESTURES)] if kind == "gestures" else kind
    return make(synth_kind, seed, DURATION_S)


def _options() -> dict:
    """MPCConfig fields from ``GENMIMIC_BENCH_MPC_OPTIONS`` (JSON, e.g. '{"iterations": 1}'); {} = what ships."""
    import json

    text = os.environ.get("GENMIMIC_BENCH_MPC_OPTIONS", "")
    return json.loads(text) if text else {}


def _track(item: tuple[str, int, G1Clip]) -> dict:
    from genmimic.policy.mpc import make_mpc
    from genmimic.policy.track import track_clip

    kind, seed, clip = item
    mpc = make_mpc(threads=int(os.environ.get("GENMIMIC_BENCH_MPC_THREADS", "2")), **_options())
    start = time.perf_counter()
    traj = track_clip(clip, mpc, source=f"{kind}_{seed}")
    wall = time.perf_counter() - start
    mpc.close()
    s = score_trajectory(traj, clip)
    fall_s = float(np.argmax(traj.fallen) / traj.fps) if traj.fallen.any() else None
    result = {"kind": kind, "seed": seed, "fell": s.fell, "fall_s": fall_s, "strict": s.strict_success,
            "rel": s.root_relative_error,
            "worst": s.worst_window_error, "end": float(np.linalg.norm(traj.root_pos[-1, :2] - clip.root_pos[-1, :2])),
            "wall": wall, "sim": clip.duration, "steps": mpc.stats["rollout_steps"],
            "samples": mpc.stats["plans"] * mpc.config.num_samples * mpc.config.iterations,
            "options": _options(), "load": os.getloadavg()[0]}
    save = os.environ.get("GENMIMIC_BENCH_MPC_SAVE")
    if save:
        import json

        Path(save).mkdir(parents=True, exist_ok=True)
        save_clip(traj, Path(save) / f"{kind}_{seed}.npz")
        (Path(save) / f"{kind}_{seed}.json").write_text(json.dumps(result))
    return result


def rollout_throughput(threads: int = 2, seconds: float = 3.0) -> float:
    """Physics steps/s of ``mujoco.rollout`` on the MPC's planning model (64 rollouts of 0.8 s from a standing
    G1, ``threads`` threads): what the MPC's compute is divided by for its real-time factor on this machine."""
    import mujoco
    from mujoco import rollout

    from genmimic.core import g1_constants as g1c
    from genmimic.core.g1_model import joint_qpos_indices, standing_pelvis_height
    from genmimic.policy.mpc import planning_model

    model = planning_model(0.01)
    data = mujoco.MjData(model)
    data.qpos[2], data.qpos[3] = standing_pelvis_height(g1c.DEFAULT_DOF_POS), 1.0
    data.qpos[joint_qpos_indices(model)] = g1c.DEFAULT_DOF_POS
    state = np.empty(mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_FULLPHYSICS))
    mujoco.mj_getState(model, data, state, mujoco.mjtState.mjSTATE_FULLPHYSICS)
    ctrl = np.tile(np.asarray(g1c.DEFAULT_DOF_POS), (64, 80, 1))
    datas = [mujoco.MjData(model) for _ in range(threads)]
    with rollout.Rollout(nthread=threads) as pool:
        pool.rollout(model, datas, state[None], ctrl, nstep=80)
        start, steps = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            pool.rollout(model, datas, state[None], ctrl, nstep=80)
            steps += 64 * 80
        return steps / (time.perf_counter() - start)


def _say(r: dict) -> dict:
    """Print one clip's result as it finishes (a long run stopped early still shows what it did)."""
    fell = f"at {r['fall_s']:.1f} s" if r["fell"] else "no"
    print(f"  mpc {r['kind']}_{r['seed']}: fell={fell} strict={r['strict']} rel={r['rel']:.3f} m "
          f"worst={r['worst']:.3f} m end={r['end']:.2f} m {r['wall'] / r['sim']:.1f}x real time, "
          f"{r['steps'] / r['sim']:.0f} physics steps per simulated s", file=sys.stderr, flush=True)
    return r


def track_all(clips: list[tuple[str, int, G1Clip]]) -> list[dict]:
    workers = int(os.environ.get("GENMIMIC_BENCH_MPC_WORKERS", "1"))
    if workers <= 1:
        return [_say(_track(c)) for c in clips]
    with mp.get_context("spawn").Pool(workers) as pool:
        return [_say(r) for r in pool.imap_unordered(_track, clips, chunksize=1)]


def _mpc_rows() -> list[Result]:
    clips = [(k, s, c) for k, s in _clip_set() if (c := _make(k, s)) is not None]
    if not clips:
        return [Result("MPC tracking", float("nan"), "", "skipped: no procedural clips (genmimic-lift synth + "
                                                             "retarget not installed)")]
    threads = int(os.environ.get("GENMIMIC_BENCH_MPC_THREADS", "2"))
    before = rollout_throughput(threads)
    runs = track_all(clips)
    throughput = max(before, rollout_throughput(threads))  # the less loaded of the two measurements
    ok = [r for r in runs if r["strict"]]
    walks = [r for r in runs if r["kind"] in WALKING]
    wall, sim = sum(r["wall"] for r in runs), sum(r["sim"] for r in runs)
    what = (f"{len(runs)} clips of {DURATION_S:.0f} s, seeds {sorted({r['seed'] for r in runs})}, "
            f"MPCConfig {_options() or 'defaults'}")
    rows = [
        Result("MPC strict success (held-out procedural clips)", 100.0 * len(ok) / len(runs), "%",
               f"{len(ok)}/{len(runs)}, {what}; fell on {sum(r['fell'] for r in runs)}", ">= 90 %"),
        Result("MPC root-relative keypoint error on successes", 100 * float(np.mean([r["rel"] for r in ok]))
               if ok else float("nan"), "cm", "mean over successful clips", "<= 8 cm"),
        Result("MPC compute, wall / simulated time", wall / sim, "x real time",
               f"{os.environ.get('GENMIMIC_BENCH_MPC_THREADS', '2')} rollout threads per clip, "
               f"{os.environ.get('GENMIMIC_BENCH_MPC_WORKERS', '1')} clip(s) at a time", "<= 10x"),
        Result("MPC sampled rollouts per second", sum(r["samples"] for r in runs) / wall, "samples/s",
               f"{sum(r['steps'] for r in runs) / wall:.0f} physics steps/s per clip while tracking"),
        Result("MPC physics steps per simulated second", sum(r["steps"] for r in runs) / sim, "steps/s",
               "rollout steps the planner takes per second of motion (the machine-independent cost)"),
        Result("MPC real-time factor at the rollout microbenchmark's throughput", sum(r["steps"] for r in runs) / sim
               / throughput, "x real time", f"{throughput:.0f} physics steps/s on {threads} thread(s) measured "
               f"now (load average {os.getloadavg()[0]:.1f})", "<= 10x"),
    ]
    if walks:
        rows.append(Result("MPC walking clips: end point error (worst)", max(r["end"] for r in walks), "m",
                           f"{sum(r['end'] <= 0.3 for r in walks)}/{len(walks)} within 0.3 m", "<= 0.3 m"))
    return rows


def _bumped(clip: G1Clip, dz: np.ndarray, contacts: np.ndarray | None = None) -> G1Clip:
    root, kp = clip.root_pos.copy(), clip.keypoints.copy()
    root[:, 2] += dz
    kp[..., 2] += dz[:, None]
    return clip.replace(root_pos=root, keypoints=kp, contacts=clip.contacts if contacts is None else contacts)


def _feasibility_rows() -> list[Result]:
    from genmimic.retarget.feasibility import check_feasibility

    clean = [(k, s, c) for k in KINDS for s in SEEDS[:1] if (c := _make(k, s)) is not None]
    if not clean:
        return [Result("feasibility check", float("nan"), "", "skipped: no procedural clips")]
    start = time.perf_counter()
    reports = {f"{k}_{s}": check_feasibility(c) for k, s, c in clean}
    per_s = sum(c.num_frames for _, _, c in clean) / (time.perf_counter() - start)
    verdicts = {k: r.verdict for k, r in reports.items()}
    n = len(verdicts)
    infeasible = [k for k, v in verdicts.items() if v == "infeasible"]
    weight = G1_WEIGHT_N
    adapt = [f"{k} (centre of pressure up to {100 * reports[k].checks.base_torque.max() / weight:.1f} cm outside "
             f"the feet, 0.3 s mean)" for k, v in verdicts.items() if v == "adapt"]
    rows = [Result("feasibility: clean procedural clips not infeasible", n - len(infeasible), f"of {n}",
                   f"feasible: {n - len(infeasible) - len(adapt)}; adapt (a controller must deviate): "
                   f"{', '.join(adapt) or 'none'}; infeasible: {', '.join(infeasible) or 'none'}", f"{n} of {n}"),
            Result("feasibility check speed", per_s, "frames/s", "inverse dynamics + contact NNLS per frame")]
    base = next(c for k, _, c in clean if k == "wave_step_turn") if any(k == "wave_step_turn" for k, _, _ in clean) \
        else clean[0][2]
    fast = next((c for k, _, c in clean if k == "walk_with_action"), base)  # the fastest joints
    t = np.arange(base.num_frames) / base.fps
    jump = (t >= 4.0) & (t < 5.0)
    bump = np.where(jump, 1.5 * np.sin(np.pi * (t - 4.0)) ** 2, 0.0)
    cases = {
        "floating 20 cm": (_bumped(base, np.full(base.num_frames, 0.2)), {"base_wrench"}, np.ones_like(jump)),
        "joint velocities x3": (fast.replace(fps=3 * fast.fps), {"joint_velocity"}, None),
        "jump of 1.5 m": (_bumped(base, bump, base.contacts & ~jump[:, None]), {"base_wrench", "torque"}, jump),
    }
    for name, (clip, reasons, frames) in cases.items():
        r = check_feasibility(clip)
        named = {f.reason for f in r.findings if f.level == "infeasible"}
        ok = r.verdict == "infeasible" and bool(named & reasons)
        if frames is not None:  # the infeasible frames lie in the bad part (0.2 s margin) and cover most of it
            bad, pad = r.frame_verdict == 2, round(0.2 * clip.fps)
            near = np.convolve(frames.astype(float), np.ones(2 * pad + 1), "same") > 0
            ok = ok and not (bad & ~near).any() and bad[frames].mean() >= 0.5
        rows.append(Result(f"feasibility: {name} caught", float(ok), "1 = yes",
                           f"verdict {r.verdict}; infeasible reasons {', '.join(sorted(named)) or 'none'}", "1"))
    return rows


def run() -> list[Result]:
    if os.environ.get("GENMIMIC_BENCH_MPC_ONLY"):
        return _mpc_rows()
    return _feasibility_rows() + _mpc_rows()


def write_clips(folder: Path) -> None:
    """Write the full clip set (for GENMIMIC_BENCH_MPC_CLIPS on a machine without the retargeter)."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, seed in [(k, s) for s in SEEDS for k in KINDS]:
        clip = _make(kind, seed)
        if clip is not None:
            save_clip(clip, folder / f"{kind}_{seed}.npz")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write-clips":
        write_clips(Path(sys.argv[2]))
    else:
        for row in run():
            print(f"{row.name}: {row.value:.4g} {row.unit} ({row.note}) target {row.target}")
