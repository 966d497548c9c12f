"""Video to SMPL clip: decode, detect (MediaPipe), fit the skeleton over the whole sequence, put it on
the ground.

Camera: a pinhole at the origin (x right, y down, z forward) with focal length ``focal`` [px] (default
the larger image side, about 53 degrees across) and the principal point at the image centre. The fit
uses the 2D keypoints (reprojection) and MediaPipe's metric 3D pose relative to the hips; the body
scale comes from MediaPipe's bone lengths (or, with a body model, ``betas`` fitted to them), and the
distance from the camera from the 2D size. The fit keeps the lowest sole on the floor
(:func:`ground_plane`, ``meta["floor"]``): a crouching figure looks smaller, and read by its size alone it
walks away from the camera (measured 2026-12-03: a lifted crouch's pelvis went 1.0-1.6 m away and back
against a true 0.15 m), while its feet, still in the image, would sink through the floor; the detector's 3D
pose, which leans with the view, is stood up along the floor's normal first. Then the world: z up along the
person's mean vertical (shoulders over ankles), x the way the person faces in the first frame, the first
pelvis above the origin, and the ground at a low percentile of the sole heights (frames where a foot is
down). The path is levelled along the floor (where none was found: along the plane of the feet's contacts,
:func:`genmimic.lift.retarget_joints.ground_tilt`; ``meta["ground_tilt_deg"]``): the detector's 3D pose
leans towards the camera, so without it a walk towards the camera climbs. The ground's slower drift (a few
cm, from depth error) is left to genmimic-retarget, whose ground follows the feet.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import median_filter

from genmimic.core import SmplClip, make_meta, smpl
from genmimic.core import rotations as rot

from .errors import LiftError
from .fit import Camera, Ground, _swing, fit_sequence, initial_pose
from .frame_times import nearest, resample_times, uniform_rate
from .gait import ANKLE_HEIGHT
from .people import Person, choose, follow, frame_ranges, jumps, keypoint_box
from .pose2d import JOINT_WEIGHTS, Keypoints, SeveralPeople, consistent_sides, detect, fill_missing, resample
from .retarget_joints import (
    body_scale,
    conform_to_skeleton,
    contact_plane,
    ground_offset,
    ground_tilt,
    level,
    sole_points,
)
from .video import (
    DecodeStats,
    TimedFrame,
    VideoSource,
    load_source,
    prefetch,
    probe,
    read_timed_frames,
    source_name,
    timed,
)

Array = NDArray[np.float64]
#: Wraps an iterator of frames, e.g. with a progress bar: ``progress(frames, total)`` (total may be None).
Progress = Callable[[Iterator[NDArray[np.uint8]], int | None], Iterator[NDArray[np.uint8]]]
log = logging.getLogger(__name__)
_J = smpl.JOINT_NAMES.index
#: Standing height of genmimic.core's default skeleton, crown of the head to the soles [m].
DEFAULT_STATURE = 1.70


class Timings(NamedTuple):
    """Frames per second of each step: decoding, detection, fitting (and ``frames`` processed)."""

    frames: int
    decode_fps: float
    detect_fps: float
    fit_fps: float


class VideoLift(NamedTuple):
    """A lifted video: the clip (world frame), the keypoints, the camera and its pose in the world
    (``T_camera_to_world`` (4, 4): world point = R @ camera point + t, exact for the pelvis; each body
    stands along its own mean vertical) and the timings."""

    clip: SmplClip
    keypoints: Keypoints
    camera: Camera
    T_camera_to_world: Array
    joints_camera: Array
    timings: Timings


def _initial_translation(kp: Keypoints, camera: Camera) -> Array:
    """Hip-centre positions (T, 3) in the camera frame from the 2D size of the body against its 3D size."""
    lh, rh = _J("left_hip"), _J("right_hip")
    bones = [(_J("left_shoulder"), lh), (_J("right_shoulder"), rh), (lh, _J("left_knee")), (rh, _J("right_knee")),
             (_J("left_knee"), _J("left_ankle")), (_J("right_knee"), _J("right_ankle")), (lh, rh)]
    T = len(kp.uv)
    depth = np.full(T, np.nan)
    for t in range(T):
        ratios = [np.linalg.norm(kp.xyz[t, a] - kp.xyz[t, b]) / np.linalg.norm(kp.uv[t, a] - kp.uv[t, b])
                  for a, b in bones if min(kp.visibility[t, a], kp.visibility[t, b]) > 0.3
                  and np.linalg.norm(kp.uv[t, a] - kp.uv[t, b]) > 2.0]
        if ratios:
            depth[t] = camera.focal * float(np.median(ratios))
    ok = np.isfinite(depth)
    depth = np.interp(np.arange(T), np.flatnonzero(ok), depth[ok]) if ok.any() else np.full(T, 3.0)
    depth = median_filter(depth, size=min(9, T | 1), mode="nearest")
    hip_uv = 0.5 * (kp.uv[:, lh] + kp.uv[:, rh])
    x = (hip_uv[:, 0] - camera.cx) * depth / camera.focal
    y = (hip_uv[:, 1] - camera.cy) * depth / camera.focal
    return np.stack([x, y, depth], -1)


def _body_up(joints_cam: Array) -> Array:
    """The body's mean vertical (ankles to shoulders) in the camera frame, a unit vector."""
    mid_sh = 0.5 * (joints_cam[:, _J("left_shoulder")] + joints_cam[:, _J("right_shoulder")])
    mid_an = 0.5 * (joints_cam[:, _J("left_ankle")] + joints_cam[:, _J("right_ankle")])
    up = mid_sh - mid_an
    up = np.mean(up / np.linalg.norm(up, axis=-1, keepdims=True), axis=0)
    return up / np.linalg.norm(up)


def camera_to_world(joints_cam: Array) -> Array:
    """Rotation (3, 3) from the camera frame to a world with z along the body's mean vertical (ankles to
    shoulders) and x along the way the body faces in the first frame."""
    up = _body_up(joints_cam)
    left = joints_cam[0, _J("left_hip")] - joints_cam[0, _J("right_hip")]
    left = left - np.dot(left, up) * up
    if np.linalg.norm(left) < 1e-6:
        left = np.cross(up, [0.0, 0.0, 1.0])
    left /= np.linalg.norm(left)
    forward = np.cross(left, up)
    return np.stack([forward, left, up])  # rows: world axes in camera coordinates


#: Weight of the floor in the fit (:class:`genmimic.lift.fit.Ground`; 0: none). Chosen 2026-12-03 with the
#: closed loop (:func:`genmimic.lift.evaluate.closed_loop`'s render and detection, refitted) on 14 renders
#: of 8-10 s (crouch, squat, jump, walk, walk_back, walk_speed, side_step, turn, wave, dance, random, point,
#: composition, walk_with_action; camera 1 m high, 4.2 m or further away): without the floor / with it,
#: PA-MPJPE 56.0 / 55.9 mm, MPJPE 83.3 / 79.7 mm, root trajectory error 159 / 80 mm; weights 1 and 30 did no
#: better overall (measured on an earlier form of the term).
GROUND_WEIGHT = 10.0
#: Rows: a level camera's world axes in camera coordinates (x right, y forward, z up): the floor's slope
#: where the contacts do not fix it.
LEVEL_CAMERA = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
#: Contacts within this distance [m] of a candidate floor line count as its inliers (:func:`ground_plane`).
GROUND_INLIER = 0.03
#: The least camera height above the floor [m]: a "floor" through the camera is the line along which a
#: crouch read as receding moves its feet, not a floor.
MIN_CAMERA_HEIGHT = 0.3
#: The steepest floor slope looked for [deg] (the camera's pitch, as seen in its own level frame).
MAX_FLOOR_SLOPE = 30.0
#: Floor lines with at least this share of the most contacts compete by nearness (:func:`ground_plane`). A
#: figure's depth comes from its size in the image, which is right when it stands at full height: a crouch
#: looks smaller, so its feet are placed further along the same rays and lower, on a second level line. On a
#: 5 s crouch (:func:`genmimic.lift.evaluate.closed_loop`, seed 9000, measured 2026-12-03) that line, 1.37 m
#: under the camera, drew 0.8 times the contacts of the true floor 0.97 m under it, and won after a change of
#: 0.1 cm in the detections (the pelvis then wandered 0.83 m, 0.32 m on the true floor). On the 15 closed-loop
#: renders of GROUND_WEIGHT's measurement (their detections cached, refitted), root trajectory error 88.7 mm
#: with the most contacts alone, 77.8 mm with this rule (squat 157 -> 72, walk_with_action 116 -> 59); MPJPE
#: and PA-MPJPE unchanged (80.3, 57.2 mm).
NEAR_SHARE = 0.5
#: At most this many contacts, evenly spaced in time, propose floor lines (pairs of them: ~1,800 lines).
FLOOR_SAMPLE = 60


def ground_plane(joints_cam: Array, scale: float) -> Ground | None:
    """The floor in the camera frame (x right, y down, z forward) under joints (T, 24, 3) [m] placed at the
    distance their 2D size gives (:func:`_initial_translation`), or None when none is found.

    The lowest sole of each frame (:func:`retarget_joints.sole_points`, up along a level camera's vertical)
    is a contact on the floor where the fit's depth is right. A crouch read as a person walking away moves
    its feet along their own rays (they stay still in the image), i.e. along lines through the camera
    centre; a floor cannot pass through the camera. So the floor's profile ``height = a + b * depth`` is the
    line with the most contacts within :data:`GROUND_INLIER` among those through two contacts or level
    through one, with the camera at least :data:`MIN_CAMERA_HEIGHT` above it; where several lines have at
    least :data:`NEAR_SHARE` of the most contacts, the one whose contacts are nearest the camera (ties: more
    contacts, then the more level), since a crouch can only place the same feet further along their rays,
    never nearer. The plane is then refitted to those contacts (:func:`retarget_joints.contact_plane`: the
    slope only where they spread, else level). Jumps (feet above the floor) and crouches (below) fall outside it.
    """
    world = joints_cam @ LEVEL_CAMERA.T
    pts = sole_points(world, scale)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) < 5:
        return None
    step = max(1, len(pts) // FLOOR_SAMPLE)
    sample = pts[::step]
    depth, height = sample[:, 1], sample[:, 2]
    i, j = np.triu_indices(len(sample), 1)
    dz = depth[j] - depth[i]
    ok = np.abs(dz) > 0.2
    slope = np.concatenate([np.zeros(len(sample)), (height[j] - height[i])[ok] / dz[ok]])
    base = np.concatenate([height, height[i][ok] - slope[len(sample):] * depth[i][ok]])
    valid = (base < -MIN_CAMERA_HEIGHT) & (np.abs(slope) < np.tan(np.radians(MAX_FLOOR_SLOPE)))
    if not valid.any():
        return None
    slope, base = slope[valid], base[valid]
    near = np.abs(pts[None, :, 2] - (base[:, None] + slope[:, None] * pts[None, :, 1])) < GROUND_INLIER
    inliers = near.sum(1)
    # of the lines with at least NEAR_SHARE of the most contacts, the one whose contacts are nearest
    depth = (near * pts[None, :, 1]).sum(1) / np.maximum(inliers, 1)
    eligible = inliers >= NEAR_SHARE * inliers.max()
    best = np.lexsort((np.abs(slope), -inliers, np.where(eligible, depth, np.inf)))[0]
    on = np.abs(pts[:, 2] - (base[best] + slope[best] * pts[:, 1])) < GROUND_INLIER
    if on.sum() < 5:
        return None
    ab, c = contact_plane(pts[on])
    normal = np.array([-ab[0], -ab[1], 1.0])
    norm = float(np.linalg.norm(normal))
    return Ground(LEVEL_CAMERA.T @ (normal / norm), c / norm,
                  np.array([ANKLE_HEIGHT, ANKLE_HEIGHT]), weight=GROUND_WEIGHT)


def _confidence(kp: Keypoints) -> Array:
    """Per-joint confidence (T, 24): MediaPipe's visibility for mapped joints, the frame's mean for joints
    between them (pelvis, spine, neck, collars), 0 in frames without a person."""
    vis = kp.visibility.copy()
    mapped = vis.max(axis=0) > 0
    mean = np.where(kp.found, vis[:, mapped].mean(axis=1) if mapped.any() else 0.0, 0.0)
    for j in range(smpl.NUM_JOINTS):
        if not mapped[j]:
            vis[:, j] = 0.8 * mean
    vis = np.where(kp.found[:, None], vis, 0.0)
    return np.clip(vis / max(vis.max(), 1e-9), 0.0, 1.0)


def despike(kp: Keypoints, size: int = 5) -> Keypoints:
    """Keypoints with single- and two-frame glitches removed (a running median over ``size`` frames; the
    detector sometimes swaps or jumps a limb for a frame or two)."""
    if len(kp.found) < size:
        return kp
    uv = median_filter(kp.uv, size=(size, 1, 1), mode="nearest")
    xyz = median_filter(kp.xyz, size=(size, 1, 1), mode="nearest")
    return Keypoints(uv, xyz, kp.visibility, kp.found)


def stature(clip: SmplClip) -> float:
    """Standing height [m] of the lifted person: the default skeleton's 1.70 m times the body scale."""
    return DEFAULT_STATURE * float(clip.meta.get("body_scale", 1.0))


def lift_keypoints(kp: Keypoints, camera: Camera, fps: float, *, body_model: str | os.PathLike[str] | None = None,
                   smooth: float = 0.3, weight3d: float = 1.0, iterations: int = 200, source: str = "",
                   image_size: tuple[int, int] = (0, 0), upright: bool = False) -> tuple[SmplClip, Array, Array]:
    """Fit the skeleton to detected keypoints (gaps filled, see :func:`fill_missing`) and put it in the world.

    Returns the clip (world frame, timings not set), the fitted joints in the camera frame (T, 24, 3) and
    ``T_camera_to_world`` (4, 4). Arguments as :func:`lift_video`'s; ``upright`` (off by default, an
    assumption): the camera is level and the person upright on average, so the detector's 3D pose is
    turned to stand its mean vertical along the image's (MediaPipe's 3D leans ~12 degrees toward the
    camera on the renders; on them this gives about 2 mm lower PA-MPJPE, untested on tilted cameras).
    """
    name = source
    f = camera.focal
    # every detected joint counts by its visibility: MediaPipe's guess for an occluded limb (a profile view's
    # far arm and leg) is better than none (a threshold at 0.5 let those limbs drift: 115 -> 61 mm PA-MPJPE
    # on the turn render)
    weights = JOINT_WEIGHTS * kp.visibility
    weights[~kp.found] = 0.0
    # frames without a person follow the interpolated keypoints, weakly
    mapped_joints = (kp.visibility > 0).any(axis=0)
    fit_w = np.where(kp.found[:, None], weights, 0.2 * mapped_joints[None, :])
    betas = np.zeros(smpl.NUM_BETAS)
    if body_model is not None:
        from .body_model import fit_betas, shape_basis

        base, basis = shape_basis(body_model)
        lengths = {}
        for j, p in ((4, 1), (5, 2), (7, 4), (8, 5), (18, 16), (19, 17), (20, 18), (21, 19)):
            ok = (weights[:, j] > 0.5) & (weights[:, p] > 0.5)
            if ok.any():
                lengths[(j, p)] = float(np.median(np.linalg.norm(kp.xyz[ok, j] - kp.xyz[ok, p], axis=-1)))
        betas = fit_betas(base, basis, lengths)
        rest = base + basis @ betas
        rest = rest - rest[0]  # pelvis at the origin, as the clip's transl convention assumes below
        scale = body_scale(rest[None], np.ones((1, 24)))
    else:
        scale = body_scale(kp.xyz, np.where(weights > 0.5, 1.0, 0.0))
        rest = smpl.DEFAULT_REST_JOINTS * scale
    hips_cam = _initial_translation(kp, camera)
    lh, rh = _J("left_hip"), _J("right_hip")
    rel = kp.xyz - 0.5 * (kp.xyz[:, lh] + kp.xyz[:, rh])[:, None]
    if upright:
        # the detector's 3D leans with the view; stand its mean vertical up along a level camera's
        rel = rel @ _swing(_body_up(rel)[None], np.array([[0.0, -1.0, 0.0]]))[0].T
    mapped = np.broadcast_to((kp.xyz != 0).any(-1).any(0), weights.shape).astype(float)
    targets = conform_to_skeleton(rel, mapped, rest) + hips_cam[:, None]
    # the floor under the initial guess's soles (the distance from the 2D size) holds the feet on it; the
    # detector's 3D pose, which leans with the view, is first stood up along the floor's normal (a body
    # leaning against its floor made the fit bend the spine, and the G1 could not follow)
    ground = ground_plane(targets, scale) if GROUND_WEIGHT > 0 else None
    if ground is not None:
        rel = rel @ _swing(_body_up(rel)[None], ground.normal[None])[0].T
        targets = conform_to_skeleton(rel, mapped, rest) + hips_cam[:, None]
        # (the floor is kept from the first guess: found again from the stood-up pose it came out worse)
    local, transl = initial_pose(targets, mapped, rest)
    res = fit_sequence(rest, fps, targets3d=targets, weights3d=fit_w, relative3d=True, keypoints2d=kp.uv,
                       weights2d=fit_w, camera=camera, init_local=local, init_transl=transl, smooth=smooth,
                       hinge_weight=5.0, weight3d=weight3d, iterations=iterations, ground=ground)
    R = camera_to_world(res.joints)
    go = rot.axis_angle_from_matrix(R @ rot.matrix_from_axis_angle(res.global_orient))
    pelvis = (res.joints[:, 0]) @ R.T
    origin = np.array([pelvis[0, 0], pelvis[0, 1], 0.0])
    joints_w = res.joints @ R.T - origin
    # the path is levelled along the floor the fit stood the feet on (else along the plane of the feet's
    # contacts); each body stays stood along its own mean vertical
    tilt = level(R @ ground.normal) if ground is not None else ground_tilt(joints_w, scale)
    path = (pelvis - origin) @ tilt.T
    path[:, :2] -= path[0, :2]
    joints_w += (path - (pelvis - origin))[:, None]
    path[:, 2] -= ground_offset(joints_w, scale)
    transl = path - rest[0]
    check, _ = smpl.forward_kinematics(go, res.body_pose, transl, rest)
    T_cw = np.eye(4)
    T_cw[:3, :3] = tilt @ R
    T_cw[:3, 3] = path[0] - T_cw[:3, :3] @ res.joints[0, 0]  # the path is the pelvis's, rigidly
    missing = np.flatnonzero(~kp.found).tolist()
    from . import __version__

    meta = make_meta("genmimic-lift", __version__, source=name, params={
        "importer": "video", "focal_px": f, "body_model": body_model is not None, "smooth": smooth})
    meta.update({
        "body_scale": scale, "frames_with_person": int(kp.found.sum()), "interpolated_frames": missing,
        "T_camera_to_world": T_cw.round(6).tolist(), "image_size": list(image_size),
        "ground_tilt_deg": round(float(np.degrees(np.arccos(np.clip(tilt[2, 2], -1.0, 1.0)))), 2),
        "floor": None if ground is None else {
            "camera_height_m": round(-ground.offset, 3),
            "camera_pitch_deg": round(float(np.degrees(np.arcsin(np.clip(ground.normal[2], -1.0, 1.0)))), 2)},
        "fit_losses": {k: round(v, 6) for k, v in res.losses.items()},
    })
    clip = SmplClip(fps=fps, meta=meta, global_orient=go, body_pose=res.body_pose, transl=transl,
                    betas=betas, joints=check, confidence=_confidence(kp))
    return clip, res.joints, T_cw


def _detect_person(frames: Callable[[], Iterator[NDArray[np.uint8]]], name: str, width: int, height: int,
                   workers: int, chunk: int) -> tuple[Keypoints, dict]:
    """Keypoints of one person through the video and what was found about people in view (for
    ``meta["people"]``: ``in_view``, and ``chosen_box_px``, ``unsure`` or ``jumps`` where they apply).

    ``frames()`` decodes the video from the start (again, when the first pass is abandoned). The usual
    detection (:func:`pose2d.detect`, threads) first looks for other people in the first frame; with
    several, the largest and most central is followed (:mod:`people`), with a warning; when the detected
    person jumps (someone else came into view and a fresh detection took them), the first frame's person
    is followed instead, with a warning.
    """
    stream = frames()
    try:
        kp = detect(stream, width, height, workers=workers, chunk=chunk, one_person=True)
    except SeveralPeople as several:
        stream.close()
        chosen = choose(several.people, width / height)
        followed = follow(frames(), width, height, several.people, chosen)
        box = (several.people[chosen].box * [width, height, width, height]).round().tolist()
        unsure = f"; the choice was unsure at frames {frame_ranges(followed.unsure)} (people crossing or the " \
                 "person lost)" if followed.unsure else ""
        log.warning("%s: %d people in view; following the largest, most central one (x %.0f-%.0f px in the "
                    "first frame)%s", name, len(several.people), box[0], box[2], unsure)
        return followed.keypoints, {"in_view": len(several.people), "chosen_box_px": box,
                                    "unsure": followed.unsure}
    moved = jumps(kp)
    if not moved:
        return kp, {"in_view": 1}
    first = int(np.flatnonzero(kp.found)[0])
    log.warning("%s: the detected person jumps at frames %s (someone else came into view?); following the "
                "person of frame %d", name, frame_ranges(moved), first)
    followed = follow(frames(), width, height, [Person(keypoint_box(kp, first, width, height), 1.0)], 0)
    return followed.keypoints, {"in_view": 1, "jumps": moved, "unsure": followed.unsure}


def lift_video(source: VideoSource, *, focal: float | None = None,
               body_model: str | os.PathLike[str] | None = None, render: str | os.PathLike[str] | None = None,
               max_side: int = 640, smooth: float = 0.3, weight3d: float = 1.0, iterations: int = 200,
               workers: int | None = None, progress: Progress | None = None, fps: float | None = None,
               allow_partial: bool = False) -> VideoLift:
    """Lift the person in a video into an SMPL clip (see the module's description).

    Frames are placed by their presentation timestamps: evenly spaced frames give one clip frame each at
    the video's rate (29.97 stays 29.97); a variable-frame-rate video, or ``fps``, is resampled to a
    uniform rate (see :mod:`frame_times`); ``meta["video_timing"]`` states what was done. The stream's
    display rotation is honoured (a phone's portrait video is lifted upright).

    Args:
        source: a video file, ``-`` for standard input, or :class:`video.VideoBytes`.
        focal: focal length [px] in the original frame's pixels; default the larger side.
        body_model: the user's SMPL model file or folder: fit ``betas`` and use its joints.
        render: also write the fitted skeleton drawn over the video to this path (.mp4).
        max_side: frames are downscaled to this longer side [px] for detection.
        smooth: weight of the acceleration term of the fit (generated-video jitter).
        weight3d: weight of MediaPipe's 3D pose against the 2D keypoints (its depth is the weaker part).
        workers: detection threads (default: 2, or 1 on a single core); see :func:`pose2d.detect`.
        progress: wraps the frames going into detection (the command line passes a progress bar).
        fps: the clip's uniform rate [1/s]; default from the timestamps.
        allow_partial: lift the frames of a stream that breaks or ends before its declared frame count,
            with a warning (``meta["video_timing"]["partial"]``), instead of refusing it.

    Raises:
        LiftError: not a readable video, a broken or cut-short stream (without ``allow_partial``), fewer
            than 2 frames, timestamps that do not increase, or no person in any frame.
    """
    source = load_source(source)
    name = source_name(source)
    info = probe(source)
    if focal is not None and not (np.isfinite(focal) and focal > 0):
        raise LiftError(name, f"--focal must be a positive number of pixels, got {focal}")
    if fps is not None and not (np.isfinite(fps) and 0 < fps <= 1000):
        raise LiftError(name, f"--fps must be a positive number of frames per second up to 1000, got {fps}")
    f = float(focal) if focal is not None else float(max(info.width, info.height))
    camera = Camera(f, info.width / 2.0, info.height / 2.0)
    decode_s, wait_s = [0.0], [0.0]
    start = time.perf_counter()
    # decoding (a background thread) overlaps detection; decode time is the decoder's own
    workers = workers or min(2, os.cpu_count() or 1)
    # runs of frames per detection thread: the video split evenly into runs of at most 5 s at 30 frames/s
    runs = workers * -(-info.frames // (workers * 150))
    chunk = max(15, -(-info.frames // runs)) if info.frames else 150
    stats = DecodeStats()
    stamps: list[float] = []

    def images(timed_frames: Iterator[TimedFrame]) -> Iterator[NDArray[np.uint8]]:
        for frame in timed_frames:
            stamps.append(frame.time)
            yield frame.image

    def frames() -> Iterator[NDArray[np.uint8]]:
        stamps.clear()
        stats.frames = 0
        decoded = read_timed_frames(source, max_side, allow_partial=allow_partial, stats=stats)
        stream = images(timed(prefetch(timed(decoded, decode_s)), wait_s))
        return progress(stream, info.frames or None) if progress is not None else stream

    kp, people = _detect_person(frames, name, info.width, info.height, workers, chunk)
    detect_s = time.perf_counter() - start - wait_s[0]
    if stats.problem:
        log.warning("%s: %s; lifting them (--allow-partial)", name, stats.problem)
    T = len(kp.found)
    if T == 0:
        raise LiftError(name, "the video has no frames")
    if T < 2:
        raise LiftError(name, "a single frame (a still image?): a video needs at least 2 frames")
    times = np.asarray(stamps[:T], float)
    if np.any(np.diff(times) <= 0):
        bad = int(np.flatnonzero(np.diff(times) <= 0)[0]) + 1
        raise LiftError(name, f"frame {bad}'s timestamp {times[bad]:.4f} s does not follow frame {bad - 1}'s "
                        f"{times[bad - 1]:.4f} s; re-encode the video (e.g. ffmpeg -i IN -c:v libx264 OUT.mp4)")
    timing = uniform_rate(times, fps)
    if not kp.found.any():
        raise LiftError(name, f"no person found in any of its {T} frames; fix: use a video where one person's "
                        "whole body is in view and at least about a fifth of the picture's height")
    kp, swapped = consistent_sides(fill_missing(kp))
    if timing.resampled:
        at = resample_times(times, timing.fps)
        kp = resample(kp, times, at)
        swapped = swapped[nearest(times, at)]
    kp = despike(kp)
    start = time.perf_counter()
    clip, joints_cam, T_cw = lift_keypoints(kp, camera, timing.fps, body_model=body_model, smooth=smooth,
                                            weight3d=weight3d, iterations=iterations, source=name,
                                            image_size=(info.width, info.height))
    fit_s = time.perf_counter() - start
    timings = Timings(T, T / max(decode_s[0], 1e-9), T / max(detect_s, 1e-9), T / max(fit_s, 1e-9))
    clip.meta["relabelled_frames"] = {"upper": np.flatnonzero(swapped[:, 0]).tolist(),
                                      "lower": np.flatnonzero(swapped[:, 1]).tolist()}
    clip.meta["timings_fps"] = {k: round(v, 2) for k, v in timings._asdict().items() if k != "frames"}
    clip.meta["people"] = people
    clip.meta["video_timing"] = {**timing._asdict(), "declared_frames": info.frames, "rotation_deg": info.rotation,
                                 "partial": stats.problem or None}
    if timing.resampled:
        log.info("%s: %d frames at %s timestamps resampled to %d frames at %.3f fps", name, T,
                 "uneven" if timing.variable else "even", clip.num_frames, timing.fps)
    log.info("%s: %d frames, person in %d; decode %.0f, detect %.0f, fit %.0f frames/s", name, T,
             int(kp.found.sum()), timings.decode_fps, timings.detect_fps, timings.fit_fps)
    result = VideoLift(clip, kp, camera, T_cw, joints_cam, timings)
    if render is not None:
        from .render import render_overlay

        render_overlay(source, joints_cam, camera, render, max_side=max_side)
    return result
