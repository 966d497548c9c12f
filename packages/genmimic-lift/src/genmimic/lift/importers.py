"""One entry point for every input: :func:`lift_any` picks the importer by the file's extension."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from genmimic.core import SmplClip

from .errors import LiftError

if TYPE_CHECKING:
    from .lift_video import Progress

VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")
MOCAP_EXTENSIONS = (".bvh", ".npz", ".pt", ".pth")


def input_kind(source: str | os.PathLike[str]) -> str:
    """"video", "bvh", "amass" or "gvhmr" by extension; :class:`LiftError` for anything else."""
    name = str(source)
    suffix = Path(name).suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    kinds = {".bvh": "bvh", ".npz": "amass", ".pt": "gvhmr", ".pth": "gvhmr"}
    if suffix in kinds:
        return kinds[suffix]
    known = " ".join(VIDEO_EXTENSIONS + MOCAP_EXTENSIONS)
    raise LiftError(name, f"unknown file type {suffix or '(no extension)'!r}; expected one of: {known}")


def lift_any(source: str | os.PathLike[str], *, focal: float | None = None,
             body_model: str | os.PathLike[str] | None = None, render: str | os.PathLike[str] | None = None,
             progress: Progress | None = None) -> SmplClip:
    """Lift a video or import a mocap file into an SMPL clip (z up, metres, ground at z = 0).

    Args:
        source: a video (:data:`VIDEO_EXTENSIONS`), ``.bvh``, AMASS-style ``.npz`` or GVHMR ``.pt``.
        focal: the video camera's focal length [px] (videos only).
        body_model: a user's SMPL model file or folder (read with smplx).
        render: for videos, also write the lifted skeleton drawn over the video to this path.
        progress: for videos, wraps the frames going into detection (see :func:`lift_video.lift_video`).
    """
    kind = input_kind(source)
    if kind != "video" and render is not None:
        raise LiftError(str(source), "--render draws over a video; this input is mocap")
    if kind != "video" and focal is not None:
        raise LiftError(str(source), "--focal is for videos; this input is mocap")
    if kind == "video":
        from .lift_video import lift_video

        return lift_video(source, focal=focal, body_model=body_model, render=render, progress=progress).clip
    if kind == "bvh":
        from .bvh import import_bvh

        if body_model is not None:
            raise LiftError(str(source), "--body-model is not used for BVH input (its skeleton comes from the file)")
        return import_bvh(source)
    if kind == "amass":
        from .amass import import_amass

        return import_amass(source, body_model=body_model)
    from .gvhmr import import_gvhmr

    return import_gvhmr(source, body_model=body_model)
