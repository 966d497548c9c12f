"""The pipeline on a folder of videos: lift, retarget, track; which stage failed for each video."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genmimic.core.clips import save_clip
from genmimic.core.errors import GenMimicError

from .metrics import evaluate

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".webm")


def run_videos(folder: Path, out: Path, policy: str | None = None) -> list[dict[str, Any]]:
    from genmimic.lift.importers import lift_any
    from genmimic.retarget import retarget

    from .runner import TrackerOptions, make_tracker

    if not folder.is_dir():
        raise GenMimicError(f"{folder}: not a folder")
    videos = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    if not videos:
        raise GenMimicError(f"{folder}: no videos ({', '.join(VIDEO_SUFFIXES)})")
    out.mkdir(parents=True, exist_ok=True)
    track = make_tracker("policy", TrackerOptions(policy=policy))
    results = []
    for video in videos:
        r: dict[str, Any] = {"video": video.name, "failed_stage": None, "error": None, "success": False}
        stage = "lift"
        try:
            human = lift_any(video)
            save_clip(human, out / f"{video.stem}.smpl.npz")
            stage = "retarget"
            robot = retarget(human, source=str(video)).clip
            save_clip(robot, out / f"{video.stem}.g1.npz")
            stage = "track"
            traj = track(robot)
            save_clip(traj, out / f"{video.stem}.robot.npz")
            m = evaluate(traj, robot)
            r.update(success=m.success, strict_success=m.strict_success, fell=m.fell, mpkpe_mm=m.mpkpe_mm,
                     root_relative_mm=m.root_relative_mm)
        except GenMimicError as err:
            r.update(failed_stage=stage, error=str(err))
        results.append(r)
    return results
