"""AMASS-style ``.npz`` motions (``poses``, ``trans``, ``betas``, ``mocap_framerate``) into SMPL clips.

AMASS is z up already and follows smplx's conventions, so the parameters are kept; ``poses`` (T, 156)
is SMPL-H (root, 21 body joints, 30 hand joints: the hands are dropped), (T, 165) SMPL-X and (T, 72)
plain SMPL. Keys the importer does not use (``gender``, ``dmpls``, ``marker_data``, object arrays...) are
ignored, never read; only a missing or malformed needed key is an error. The frame rate comes from
``mocap_framerate`` (or ``mocap_frame_rate``/``fps``), else from ``fps=`` (``--fps``); with neither the
file is refused rather than assumed. Joint positions use the user's SMPL model with ``--body-model`` (for
the file's ``betas``), else genmimic.core's default skeleton; the clip is then put on the ground (lowest
sole at z = 0).
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np

from genmimic.core import SmplClip, make_meta, smpl
from genmimic.core.clips import next_command
from genmimic.core.errors import ClipError
from genmimic.core.files import display_name, read_bytes

from .errors import LiftError
from .smpl_params import clip_from_smpl_params

FPS_KEYS = ("mocap_framerate", "mocap_frame_rate", "fps")


def _array(npz, key: str, name: str) -> np.ndarray:
    try:
        value = npz[key]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise LiftError(name, f"{key!r} cannot be read ({str(err).splitlines()[0] if str(err) else err!r}): "
                        "the archive is damaged or the key is not a numeric array") from None
    if value.dtype.kind not in "fiub":
        raise LiftError(name, f"{key!r} must be numeric, got dtype {value.dtype}")
    return value.astype(float)


def import_amass(source: str | os.PathLike[str], body_model: str | os.PathLike[str] | None = None, *,
                 fps: float | None = None, up: str | None = None, data: bytes | None = None) -> SmplClip:
    """Import an AMASS-style npz file as an SMPL clip.

    Args:
        source: the ``.npz`` path, or ``-`` for stdin. body_model: a user's SMPL model file or folder.
        fps: the frame rate [1/s] when the file has none (a stored rate wins unless they disagree: error).
        up: the file's up axis, "z" (AMASS, default) or "y" (y up, facing +z: turned to z up).
        data: the file's bytes when already read (``source`` then only names it).
    Raises:
        LiftError: not an npz, a needed key missing or malformed, no frame rate anywhere.
    """
    name = display_name(source)
    data = read_bytes(source) if data is None else data
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LiftError(name, "not an npz archive (wrong file type or truncated); expected an AMASS-style .npz; "
                        "fix: copy or download it again if it was cut short")
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
        keys = set(npz.files)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise LiftError(name, f"damaged npz archive: {str(err).splitlines()[0] if str(err) else err!r}; "
                        "fix: copy or download it again (it is cut short or corrupted)") from None
    with npz:
        missing = [k for k in ("poses", "trans") if k not in keys]
        if missing and "format" in keys:
            fmt = str(npz["format"])
            try:
                fix = f"fix: give it to {next_command(fmt)}"
            except ClipError as err:
                raise LiftError(name, f"not an AMASS-style motion but a clip: {err.problem}") from None
            raise LiftError(name, f"a {fmt} clip, already made by a genmimic command: nothing to lift; {fix}")
        if missing:
            raise LiftError(name, f"missing {', '.join(repr(k) for k in missing)}: not an AMASS-style motion "
                            f"(keys: {', '.join(sorted(keys)) or 'none'})")
        poses, trans = _array(npz, "poses", name), _array(npz, "trans", name)
        betas = _array(npz, "betas", name).reshape(-1) if "betas" in keys else np.zeros(10)
        fps_key = next((k for k in FPS_KEYS if k in keys), None)
        stored = float(_array(npz, fps_key, name).reshape(-1)[0]) if fps_key else None
    if poses.ndim != 2 or poses.shape[1] not in (72, 156, 165) or trans.shape != (len(poses), 3):
        raise LiftError(name, f"poses: expected (T, 72), (T, 156) or (T, 165) matching trans (T, 3), "
                        f"got {poses.shape} and {trans.shape}")
    if stored is not None and not (np.isfinite(stored) and stored > 0):
        raise LiftError(name, f"{fps_key} must be positive, got {stored}")
    if stored is None and fps is None:
        raise LiftError(name, f"the file holds no frame rate (none of {', '.join(FPS_KEYS)}): pass --fps")
    if stored is not None and fps is not None and abs(stored - fps) > 1e-6 * stored:
        raise LiftError(name, f"--fps {fps:g} differs from the file's {fps_key} {stored:g}; drop --fps")
    rate = stored if stored is not None else float(fps)  # type: ignore[arg-type]
    T = len(poses)
    n_body = 23 if poses.shape[1] == 72 else 21
    to_world = {None: None, "z": None, "+z": None, "y": smpl.CANONICAL_TO_WORLD, "+y": smpl.CANONICAL_TO_WORLD}
    if up not in to_world:
        raise LiftError(name, f"--up {up} is not supported for AMASS files; choose z (AMASS) or y")
    from . import __version__

    meta = make_meta("genmimic-lift", __version__, source=name,
                     params={"importer": "amass", "layout": f"poses{poses.shape[1]}", "fps": rate,
                             "fps_from": fps_key or "--fps", "up": (up or "z").lstrip("+")})
    return clip_from_smpl_params(name, poses[:, :3], poses[:, 3:3 + 3 * n_body].reshape(T, n_body, 3), trans,
                                 betas, rate, meta, to_world=to_world[up], body_model=body_model)
