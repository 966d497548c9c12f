"""Feet on the ground: ground height, contact detection, pinning feet during contact, penetration.

The G1's foot keypoints: ``ankle`` (ankle_roll_link origin) is :data:`ANKLE_HEIGHT` above the sole
when the foot is flat, ``toe`` is :data:`TOE_HEIGHT` above it. Heights [m], world z-up, ground z = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.g1_kinematics import foot_contact_points

#: Height of the ankle keypoint above the sole of a flat foot [m] (ankle_roll origin to sphere bottoms).
ANKLE_HEIGHT = 0.03 + g1.FOOT_SPHERE_RADIUS
#: Height of the toe keypoint above the sole of a flat foot [m] (it sits at the toe spheres' centres).
TOE_HEIGHT = g1.FOOT_SPHERE_RADIUS
SIDES = ("left", "right")


@dataclass(frozen=True)
class ContactConfig:
    """Contact detection on the feet.

    height: a foot whose sole is below this [m] may be in contact ...
    speed: ... if its ankle also moves slower than this horizontally [m/s] (height AND speed, the usual
        rule of retargeting tools, e.g. PHC/GMR: a foot skimming the floor is not standing on it).
    hysteresis: a contact starts only once the sole is below ``height / hysteresis`` and the ankle
        slower than ``speed / hysteresis``, then lasts while both stay under ``height`` and ``speed``:
        a landing foot is not pinned while it still moves, and a foot near a threshold does not flicker.
    min_duration: contacts shorter than this [s] are dropped, gaps shorter than this are filled.
    blend: pinning corrections fade in and out over this long [s] around a contact.
    pinned_cost_gain: IK costs of a foot in contact are multiplied by this.
    ground_window: the ground under the feet is found per frame over this long [s] (:func:`ground_heights`;
        0: one ground for the whole clip). Longer than any flight of a jump, shorter than a lift's drift.
    hover_ratio: both feet off the ground lower than this times a ballistic flight of that length is a
        hover of the input, and put on the ground (:func:`ground_heights`; 0: never), and a glide (both feet
        near the floor but moving) gives the lower foot the contact ...
    max_hover: ... if no higher than this [m] (a jump rises more).
    max_slide: a foot whose path during a contact, smoothed over ``slide_smoothing`` [s] (Gaussian sigma),
        strays farther than this [m] from its mean is sliding with the whole body (a drifting camera, a lift's
        foot skate): it is pinned to that smoothed path, not to one point (:func:`pin_feet`).
    """

    height: float = 0.02
    speed: float = 0.35
    hysteresis: float = 1.5
    min_duration: float = 0.1
    blend: float = 0.1
    pinned_cost_gain: float = 10.0
    ground_window: float = 1.0
    hover_ratio: float = 0.5
    max_hover: float = 0.05
    max_slide: float = 0.05
    slide_smoothing: float = 0.25


def sole_height(ankle: np.ndarray, toe: np.ndarray) -> np.ndarray:
    """Estimated sole height (...,) [m] of a foot from its ankle and toe keypoints (..., 3)."""
    return np.minimum(ankle[..., 2] - ANKLE_HEIGHT, toe[..., 2] - TOE_HEIGHT)


def _clean_runs(flags: np.ndarray, min_len: int) -> np.ndarray:
    """Fill interior gaps shorter than ``min_len`` frames, then drop runs shorter than it."""
    out = flags.copy()
    for start, stop in _runs(~out):
        if start > 0 and stop < len(out) and stop - start < min_len:
            out[start:stop] = True
    for start, stop in _runs(out):
        if stop - start < min_len:
            out[start:stop] = False
    return out


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index ranges where ``flags`` is True."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def contact_segments(contacts: np.ndarray) -> list[tuple[int, int, int]]:
    """(side, start, stop) of every contact run in (T, 2) flags."""
    return [(s, a, b) for s in range(contacts.shape[1]) for a, b in _runs(contacts[:, s])]


def hysteresis(enter: np.ndarray, stay: np.ndarray) -> np.ndarray:
    """Flags (T, ...) that turn on where ``enter`` holds and stay on while ``stay`` holds (a Schmitt trigger).

    ``enter`` implies ``stay`` in normal use (the stay thresholds are the looser ones).
    """
    out = np.zeros(enter.shape, bool)
    state = np.zeros(enter.shape[1:], bool)
    for t in range(len(enter)):
        state = enter[t] | (state & stay[t])
        out[t] = state
    return out


def _ankle_speed(ankle: np.ndarray, fps: float) -> np.ndarray:
    """Horizontal speed (T, 2) [m/s] of the ankles (T, 2, 3) (0 for a single frame)."""
    if len(ankle) < 2:
        return np.zeros(ankle.shape[:2])
    return np.linalg.norm(np.gradient(ankle[..., :2], 1.0 / fps, axis=0), axis=-1)


def detect_contacts(ankle: np.ndarray, toe: np.ndarray, fps: float, config: ContactConfig) -> np.ndarray:
    """Contact flags (T, 2) for (left, right) from ankle and toe keypoints (T, 2, 3) [m].

    A contact starts where the sole is below ``config.height / config.hysteresis`` and the ankle slower
    than ``config.speed / config.hysteresis``, lasts while they stay below ``config.height`` and
    ``config.speed``. A frame where no foot is in contact but one meets the plain rule (below
    ``config.height``, slower than ``config.speed``) gives that foot (the lower, if both) the contact:
    the stricter start must not leave the body unsupported, nor may a glide (:func:`_glides`: both feet
    near the floor for longer than a flight that low could last). Then runs shorter than
    ``config.min_duration`` are dropped and gaps shorter than it filled.
    """
    height = sole_height(ankle, toe)
    speed = _ankle_speed(ankle, fps)
    k = config.hysteresis
    stay = (height < config.height) & (speed < config.speed)
    raw = hysteresis((height < config.height / k) & (speed < config.speed / k), stay)
    # a body is never unsupported while a foot still meets the plain rule: the lower such foot stands
    unsupported = ~raw.any(axis=1) & stay.any(axis=1)
    lower = np.argmin(np.where(stay, height, np.inf), axis=1)
    raw[unsupported, lower[unsupported]] = True
    raw |= _glides(height, raw, fps, config)
    min_len = max(1, round(config.min_duration * fps))
    return np.stack([_clean_runs(raw[:, s], min_len) for s in range(2)], axis=-1)


def foot_rest_offsets(ankle: np.ndarray, toe: np.ndarray, fps: float, config: ContactConfig) -> np.ndarray:
    """How far (2,) [m] each foot's sole rests above the ground when it stands still (left, right), to take
    off that foot's keypoints: the 20th percentile of its sole height over the frames where its ankle moves
    slower than ``config.speed / config.hysteresis`` (a contact's start rule), kept only where at least 0.2 s
    are that slow and the height is at most ``config.max_hover`` (a foot held up still is no offset).

    Mocap markers and lifts place the two feet differently: CMU 01_01's right sole rests 1.2-2.2 cm above
    its left (measured 2026-12-02, scaled to the G1), over the 2 cm contact height, so the right foot was in
    contact on 22 % of the frames and the G1's stood 3-5 cm above the floor.

    Args:
        ankle, toe: (T, 2, 3) foot keypoints [m], z-up, the ground at z = 0.
    """
    height = sole_height(ankle, toe)
    still = _ankle_speed(ankle, fps) < config.speed / config.hysteresis
    out = np.zeros(2)
    for side in range(2):
        if still[:, side].sum() >= 0.2 * fps:
            rest = float(np.percentile(height[still[:, side], side], 20))
            out[side] = rest if 0.0 < rest <= config.max_hover else 0.0
    return out


def _is_hover(lower: np.ndarray, fps: float, config: ContactConfig) -> bool:
    """Whether a run of frames with both feet off the ground, the lower sole at ``lower`` (n,) [m], is the
    input's error rather than a flight: lower than ``config.hover_ratio`` times the height a ballistic flight
    of that length reaches (g T^2 / 8), and than ``config.max_hover``."""
    ballistic = 9.81 * (len(lower) / fps) ** 2 / 8
    return bool(lower.max() < min(config.hover_ratio * ballistic, config.max_hover))


def _glides(height: np.ndarray, contacts: np.ndarray, fps: float, config: ContactConfig) -> np.ndarray:
    """Contacts (T, 2) for the lower foot where the body would otherwise float: a run of frames with no
    foot in contact that :func:`_is_hover` calls a hover (the rule of :func:`ground_heights`) is no flight,
    whatever the feet's speed. Lifted videos glide (both feet sliding near the floor at the body's speed,
    never slow enough to count as planted): measured 2026-12-02, a lifted 10 s walk had no contact on 54 %
    of its frames, and the feasibility check found the whole body weight unsupported there (270 of 501
    frames infeasible; 29 with this rule). Feet that jump higher than the hover bound (the bundled
    generated turn-around video's, 2-8 cm) still get none."""
    out = np.zeros(contacts.shape, bool)
    lower = height.min(axis=1)
    for start, stop in _runs(~contacts.any(axis=1)):
        if _is_hover(lower[start:stop], fps, config):
            out[np.arange(start, stop), np.argmin(height[start:stop], axis=1)] = True
    return out


#: [m] a sole this close to the ground counts as on it when looking for hovers (:func:`ground_heights`)
ON_GROUND = 0.005


def ground_heights(ankle: np.ndarray, toe: np.ndarray, fps: float, config: ContactConfig) -> np.ndarray:
    """Height [m] of the ground under the feet, per frame (T,).

    1. Drift: the lower sole's running minimum over ``config.ground_window`` (``window``) seconds
       centred on each frame, then its running mean over the same window. A clip whose feet return to
       one height gets that height throughout (a jump's flight, shorter than ``window``, keeps the
       ground of the frames around it); feet that drift up or down over seconds (a monocular lift's
       depth drift: 3-7 cm on the demo video) get a ground that follows them. ``window`` 0: one ground
       for the clip, the 5th percentile of the lower sole's height.
    2. Hovers: both feet off that ground for T seconds, the lower sole never higher than
       ``config.max_hover`` [m] nor than ``config.hover_ratio`` times the height a ballistic flight of
       that length reaches (g T^2 / 8), is not a flight but the input's error (a 0.6 s flight rises
       0.44 m; the demo's lift hovers 3-4 cm; CMU 01_01's jumps rise 10-20 cm): the ground follows the
       lower sole there, blended in and out over 0.1 s. ``hover_ratio`` 0: no hovers.

    So contacts are found, and the feet put on z = 0, where the person stands.

    Args:
        ankle, toe: (T, 2, 3) foot keypoints [m], z-up. fps: frame rate [Hz].
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    window = config.ground_window
    lower = sole_height(ankle, toe).min(axis=-1)
    if window <= 0:
        ground = np.full(len(lower), float(np.percentile(lower, 5)))
    else:
        width = max(1, round(window * fps)) | 1  # odd: centred
        ground = uniform_filter1d(minimum_filter1d(lower, width, mode="nearest"), width, mode="nearest")
    above = lower - ground
    hover = np.zeros(len(lower))
    for start, stop in _runs(above > ON_GROUND):
        if _is_hover(above[start:stop], fps, config):
            hover[start:stop] = above[start:stop]
    blend = max(1, round(0.1 * fps)) | 1
    return ground + uniform_filter1d(hover, blend, mode="nearest") if hover.any() else ground


def _yaw_only(rot: np.ndarray) -> np.ndarray:
    """The heading part (rotation about z) of rotation matrices (..., 3, 3)."""
    yaw = np.arctan2(rot[..., 1, 0], rot[..., 0, 0])
    c, s = np.cos(yaw), np.sin(yaw)
    out = np.zeros(rot.shape)
    out[..., 0, 0], out[..., 0, 1], out[..., 1, 0], out[..., 1, 1], out[..., 2, 2] = c, -s, s, c, 1.0
    return out


def pin_feet(
    positions: np.ndarray, rotations: np.ndarray, index: dict[str, int], contacts: np.ndarray, fps: float,
    config: ContactConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Targets with each foot held still and flat on z = 0 during its contacts.

    During a contact the ankle and toe targets take their mean horizontal position over the contact
    and their flat-foot heights, and the foot's orientation keeps only its heading. The correction fades
    in and out over ``config.blend`` seconds around the contact so the foot lands and lifts smoothly.
    A foot that slides with the body during the contact (its smoothed path strays over ``config.max_slide``
    from the mean, :class:`ContactConfig`) follows that smoothed path instead: held to one point while the
    person's body drifts 1 m, the legs were stretched to the joint limits (keypoints 40 cm off, the pelvis
    7 cm low) and every tracker fell on the bench's global-drift clips.

    Args:
        positions: (T, K, 3) keypoint targets [m]. rotations: (T, K, 3, 3).
        index: keypoint name -> position along K.
        contacts: (T, 2) flags for (left, right).
    """
    from scipy.ndimage import gaussian_filter1d  # here: the command starts without scipy.ndimage

    pos, rot = positions.copy(), rotations.copy()
    T = len(pos)
    n_blend = max(1, round(config.blend * fps))
    for side, start, stop in contact_segments(contacts):
        s = SIDES[side]
        a, k_toe = index[f"{s}_ankle"], index[f"{s}_toe"]
        # smoothed horizontal paths (T_c, 2, 2) of the ankle and the toe; the ankle's decides whether the foot slides
        paths = gaussian_filter1d(positions[start:stop][:, [a, k_toe], :2], config.slide_smoothing * fps, axis=0,
                                  mode="nearest")
        slides = np.linalg.norm(paths[:, 0] - paths[:, 0].mean(axis=0), axis=-1).max() > config.max_slide
        for j, (k, height) in enumerate(((a, ANKLE_HEIGHT), (k_toe, TOE_HEIGHT))):
            pinned = np.tile(positions[start:stop, k].mean(axis=0), (stop - start, 1))
            if slides:
                pinned[:, :2] = paths[:, j]
            pinned[:, 2] = height
            delta = pinned - positions[start:stop, k]
            pos[start:stop, k] = pinned
            # fade the correction of the first/last contact frame out over the neighbouring frames
            for j in range(1, n_blend + 1):
                w = 0.5 * (1 + np.cos(np.pi * j / (n_blend + 1)))
                if start - j >= 0 and not contacts[start - j, side]:
                    pos[start - j, k] += w * delta[0]
                if stop - 1 + j < T and not contacts[stop - 1 + j, side]:
                    pos[stop - 1 + j, k] += w * delta[-1]
        rot[start:stop, a] = _yaw_only(rotations[start:stop, a])
    return pos, rot


def robot_sole_heights(root_pos: np.ndarray, root_quat: np.ndarray, dof_pos: np.ndarray) -> np.ndarray:
    """Lowest point (T, 2) [m] of each G1 foot: the bottom of its lowest contact sphere."""
    pts = foot_contact_points(root_pos, root_quat, dof_pos)
    return pts[..., 2].min(axis=-1) - g1.FOOT_SPHERE_RADIUS


def settle_on_ground(root_pos: np.ndarray, soles: np.ndarray, contacts: np.ndarray) -> np.ndarray:
    """Root positions shifted so feet in contact rest on z = 0 and no foot goes below it.

    A constant shift puts the contacting feet's median height on the ground; frames where a foot would
    still be under the ground are then raised by exactly the depth.
    """
    out = root_pos.copy()
    in_contact = soles[contacts]
    out[:, 2] -= float(np.median(in_contact)) if in_contact.size else float(soles.min())
    depth = np.maximum(0.0, -(soles.min(axis=-1) + (out[:, 2] - root_pos[:, 2])))
    out[:, 2] += depth
    return out


def foot_slide(root_pos: np.ndarray, root_quat: np.ndarray, dof_pos: np.ndarray, contacts: np.ndarray,
               fps: float) -> float:
    """Mean horizontal speed [m/s] of the feet while in contact (0 with no contact)."""
    pts = foot_contact_points(root_pos, root_quat, dof_pos).mean(axis=-2)  # (T, 2, 3) sole centres
    speeds = []
    for side, start, stop in contact_segments(contacts):
        if stop - start > 1:
            step = np.linalg.norm(np.diff(pts[start:stop, side, :2], axis=0), axis=-1) * fps
            speeds.append(step)
    return float(np.concatenate(speeds).mean()) if speeds else 0.0
