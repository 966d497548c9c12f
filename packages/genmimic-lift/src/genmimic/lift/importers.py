"""One entry point for every input: :func:`lift_any` picks the importer by the file's extension (for ``-``,
standard input, by its content), and checks the conventions of the result (upright start, human size:
:mod:`genmimic.core.conventions`)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from genmimic.core import SmplClip
from genmimic.core.conventions import ConventionError, Violation, check_human_joints
from genmimic.core.files import STREAM, display_name, looks_like_bvh, looks_like_video, read_bytes

from .errors import LiftError

if TYPE_CHECKING:
    from .lift_video import Progress

VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")
MOCAP_EXTENSIONS = (".bvh", ".npz", ".pt", ".pth")
UP_AXES = ("y", "z")
# robot-motion files that genmimic-retarget imports (its interop module: BeyondMimic/mjlab CSV, GMR pickle)
ROBOT_MOTION_EXTENSIONS = (".csv", ".pkl", ".pickle")


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
    if name != "-" and Path(name).is_dir():
        raise LiftError(name, f"is a directory; fix: give one motion or video file ({known})")
    if suffix in ROBOT_MOTION_EXTENSIONS:
        raise LiftError(name, f"a {suffix} file is robot motion (G1 joint angles), not human motion; fix: import it "
                        f"with `genmimic-retarget import {name} -o g1.npz`")
    raise LiftError(name, f"unknown file type {suffix or '(no extension)'!r}; expected one of: {known} (or - for "
                    "standard input)")


def sniff_kind(data: bytes, source: str = "<stdin>") -> str:
    """The kind of a file from its first bytes: "bvh" (text starting with HIERARCHY, after a byte-order mark
    or blank lines), "amass" (a zip of ``.npy`` arrays), "gvhmr" (a torch.save zip), "video" (a container's
    signature); :class:`LiftError` for anything else."""
    if looks_like_bvh(data[:4096]):
        return "bvh"
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
        if any(n.endswith("data.pkl") for n in names):
            return "gvhmr"
        if names and all(n.endswith(".npy") for n in names):
            return "amass"
    if looks_like_video(data[:200]):
        return "video"
    if not data:
        raise LiftError(source, "standard input is empty: pipe a BVH, AMASS .npz, GVHMR .pt or video into it; "
                        "in a pipe, look at the error of the command before this one")
    raise LiftError(source, "not a BVH, AMASS-style .npz, GVHMR .pt or video (by its first bytes); pass a file "
                    "with one of: " + " ".join(VIDEO_EXTENSIONS + MOCAP_EXTENSIONS))


def _scale_fix(clip: SmplClip) -> str:
    """``--scale`` that would make a BVH body human-sized: the file's unit nearest to it, else the figure."""
    from .skeleton_map import UNITS

    unit_m = float(clip.meta.get("params", {}).get("unit_m", 0.0))
    ankles_to_head = clip.joints[:, 15] - clip.joints[:, [7, 8]].mean(axis=1)
    extent = float(np.median(np.linalg.norm(ankles_to_head, axis=-1)))
    if not (unit_m > 0 and extent > 0):
        return "pass --scale METRES_PER_UNIT"
    wanted = unit_m * 1.4 / extent  # a human: about 1.4 m from ankles to head
    m, name = min(UNITS, key=lambda u: abs(np.log(u[0] / wanted)))
    if abs(np.log(m / wanted)) < np.log(1.5):
        return f"pass --scale {m:g} (metres per unit: the file is in {name}, the body then {extent * m / unit_m:.2f} m)"
    return f"pass --scale {wanted:.3g} (metres per unit, for a body of about 1.4 m from ankles to head)"


def _fix(kind: str, violation: Violation, clip: SmplClip) -> str:
    if violation.kind in ("upside_down", "lying"):
        other = {"bvh": "--up y or --up z (the file's up axis)", "amass": "--up y (AMASS files are z up)",
                 "gvhmr": "--up z (GVHMR results are y up)"}[kind]
        params = clip.meta.get("params", {})
        if kind == "bvh" and params.get("up_axis") != "detected" and str(params.get("up", "")) in ("+y", "+z"):
            # the user chose the axis: name the other one, not the one just passed
            other = f"--up {'z' if params['up'] == '+y' else 'y'} (this run assumed {params['up']} up, as asked)"
        return f"the file's up axis is probably not the one assumed: pass {other}, or --no-checks if it truly " \
               "starts lying"
    if violation.kind == "size":
        return _scale_fix(clip) if kind == "bvh" else "check the file's transl and betas units"
    return "pass --no-checks to import it as it is"


def check_conventions(clip: SmplClip, source: str, kind: str) -> None:
    """Refuse a clip that starts lying or upside down or is not human-sized, with the option that fixes it.

    Raises:
        ConventionError: naming the file, the problem and the fix.
    """
    scale = float(clip.meta.get("body_scale", 1.0))
    found = check_human_joints(clip.joints)
    if not found and not 0.4 < scale < 2.5:
        found = (Violation("size", f"the body is {scale:.3g} times SMPL's default size: the unit is probably "
                           "wrong"),)
    if found:
        raise ConventionError(source, found[0].problem, _fix(kind, found[0], clip))


def lift_any(source: str | os.PathLike[str], *, focal: float | None = None,
             body_model: str | os.PathLike[str] | None = None, render: str | os.PathLike[str] | None = None,
             progress: Progress | None = None, fps: float | None = None, up: str | None = None,
             scale: float | None = None, check: bool = True, refine: bool = False) -> SmplClip:
    """Lift a video or import a mocap file into an SMPL clip (z up, metres, ground at z = 0).

    Args:
        source: a video (:data:`VIDEO_EXTENSIONS`), ``.bvh``, AMASS-style ``.npz`` or GVHMR ``.pt``; ``-``
            reads standard input and tells the kind by its content.
        focal: the video camera's focal length [px] (videos only).
        body_model: a user's SMPL model file or folder (read with smplx).
        render: for videos, also write the lifted skeleton drawn over the video to this path.
        progress: for videos, wraps the frames going into detection (see :func:`lift_video.lift_video`).
        fps: frame rate [1/s] of a file that holds none (GVHMR results, AMASS variants); for a video, the
            rate to resample to.
        up: the file's up axis ("y" or "z"; mocap only), found or assumed per format when None.
        scale: metres per BVH unit, found from the skeleton when None.
        check: refuse mocap that starts lying or upside down or is not human-sized (see
            :func:`check_conventions`).
        refine: BVH: fit SMPL's rotations by optimisation instead of the closed form (see
            :func:`.bvh.import_bvh`).
    Raises:
        LiftError: unreadable or malformed input, or an option that does not apply to it.
        ConventionError: the result breaks a convention (the message names the option that fixes it).
    """
    name = display_name(source)
    data = None
    if str(source) == STREAM:
        data = read_bytes(source)
        kind = sniff_kind(data, name)
    else:
        kind = input_kind(source)
    if up is not None and up.lstrip("+") not in UP_AXES:
        raise LiftError(name, f"--up must be one of {', '.join(UP_AXES)}, got {up!r}")
    if kind != "video" and render is not None:
        raise LiftError(name, "--render draws over a video; this input is mocap")
    if kind != "video" and focal is not None:
        raise LiftError(name, "--focal is for videos; this input is mocap")
    if kind != "bvh" and scale is not None:
        raise LiftError(name, "--scale is for BVH files (their unit); this input is not BVH")
    if kind != "bvh" and refine:
        raise LiftError(name, "--refine is for BVH files; this input is not BVH")
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise LiftError(name, f"--fps must be positive, got {fps}")
    if kind == "video":
        if up is not None:
            raise LiftError(name, "--up is for mocap files; a video's up comes from the person")
        from .lift_video import lift_video
        from .video import VideoBytes

        video = VideoBytes(data, name) if data is not None else source
        extra = {"fps": fps} if fps is not None else {}
        return lift_video(video, focal=focal, body_model=body_model, render=render, progress=progress,
                          **extra).clip
    if kind == "bvh":
        from .bvh import import_bvh

        if body_model is not None:
            raise LiftError(name, "--body-model is not used for BVH input (its skeleton comes from the file)")
        if fps is not None:
            raise LiftError(name, "--fps is not used for BVH input (the file's Frame Time sets the rate)")
        clip = import_bvh(source, scale=scale, up=up, refine=refine, data=data)
    elif kind == "amass":
        from .amass import import_amass

        clip = import_amass(source, body_model=body_model, fps=fps, up=up, data=data)
    else:
        from .gvhmr import import_gvhmr

        clip = import_gvhmr(source, fps=fps, body_model=body_model, up=up, data=data)
    if check:
        check_conventions(clip, name, kind)
    return clip


def _video_summary(clip: SmplClip, timing: dict) -> str:
    """What a video lift did to time: frames decoded, a variable frame rate or a new rate resampled, the
    display rotation applied."""
    text = f"video, {timing['source_frames']} frames over {float(timing['duration']):.2f} s"
    if timing.get("variable"):
        text += f" at uneven times (a variable frame rate): resampled to {clip.fps:g} fps, {clip.num_frames} frames"
    elif timing.get("resampled"):
        text += f", resampled to {clip.fps:g} fps (--fps): {clip.num_frames} frames"
    else:
        text += f" at {clip.fps:g} fps"
    if timing.get("rotation_deg"):
        text += f"; turned upright by its display rotation ({timing['rotation_deg']} deg)"
    return text


def import_summary(name: str, clip: SmplClip) -> str | None:
    """One line saying what a mocap import found, or how a video's frames became the clip's, for the user to
    check; None for other clips.

    E.g. ``x.bvh: BVH, up axis +y (detected), unit cm (0.01 m per unit, detected), 120 fps, 2752 frames; frame 0
    dropped (a calibration pose: joints leave it at 81 m/s), 2751 kept``.
    Read from ``clip.meta["params"]`` (written by the importers), so it says what was used, not what was asked.
    """
    params = clip.meta.get("params", {})
    importer = params.get("importer")
    timing = clip.meta.get("video_timing")
    if importer == "video" and isinstance(timing, dict):
        return f"{name}: " + _video_summary(clip, timing)
    if importer not in ("bvh", "amass", "gvhmr"):
        return None
    parts = [importer.upper() if importer != "amass" else "AMASS npz"]
    if importer == "bvh":
        from .skeleton_map import UNITS

        unit_m = float(params["unit_m"])
        unit = next((u for m, u in UNITS if abs(m - unit_m) <= 1e-9 * m), None)
        parts.append(f"up axis {params['up']} ({params['up_axis']})")
        parts.append(f"unit {unit + ' ' if unit else ''}({unit_m:g} m per unit, {params['unit']})")
    elif "up" in params:
        parts.append(f"up axis {params['up']}")
    dropped = int(params.get("calibration_frames_dropped", 0))
    if dropped:
        first = "frame 0" if dropped == 1 else f"frames 0-{dropped - 1}"
        parts.append(f"{clip.fps:g} fps, {clip.num_frames + dropped} frames; {first} dropped (a calibration pose: "
                     f"joints leave it at {float(params['calibration_jump_mps']):.0f} m/s), {clip.num_frames} kept")
    else:
        parts.append(f"{clip.fps:g} fps, {clip.num_frames} frames")
    return f"{name}: " + ", ".join(parts)
