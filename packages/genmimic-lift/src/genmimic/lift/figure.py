"""A human-like figure of capsules rendered with MuJoCo offscreen (``MUJOCO_GL=osmesa`` without a GPU):
synthetic videos of a known SMPL motion from a known camera, for closed-loop accuracy tests.

The figure has skin-coloured head, forearms and hands, a shirt on the torso and upper arms, trousers and
shoes, and a face (eyes, brows, nose, mouth, ears) under a cap of hair: without a face a detector cannot
tell a front view from a back view. Each segment is a mocap body placed per frame on the clip's joints;
the face follows the head joint's orientation. The camera looks
horizontally at the person from ``distance`` [m] in front (the person faces it), at ``height`` [m].
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from genmimic.core import SmplClip, smpl

from .fit import Camera

Array = NDArray[np.float64]
_J = smpl.JOINT_NAMES.index
SKIN, SHIRT, TROUSERS, SHOES, HAIR = "0.87 0.68 0.55 1", "0.25 0.45 0.75 1", "0.2 0.2 0.25 1", "0.1 0.1 0.1 1", \
    "0.2 0.12 0.08 1"
#: Face features: (name, "sphere" or "capsule", radius [m], colour, offset from the head's centre along
#: (forward, left, up) [m], half-length [m] of a capsule lying along the head's left axis).
FACE = (
    *((f"{s}_eye_white", "sphere", 0.016, "0.95 0.95 0.93 1", (0.088, y, 0.018), 0.0) for s, y in
      (("left", 0.034), ("right", -0.034))),
    *((f"{s}_pupil", "sphere", 0.009, "0.08 0.06 0.05 1", (0.101, y, 0.018), 0.0) for s, y in
      (("left", 0.034), ("right", -0.034))),
    *((f"{s}_brow", "capsule", 0.005, HAIR, (0.094, y, 0.042), 0.014) for s, y in
      (("left", 0.034), ("right", -0.034))),
    ("nose", "sphere", 0.02, "0.8 0.58 0.46 1", (0.1, 0.0, -0.008), 0.0),
    ("mouth", "capsule", 0.008, "0.6 0.2 0.2 1", (0.092, 0.0, -0.045), 0.02),
    *((f"{s}_ear", "sphere", 0.026, SKIN, (0.0, y, 0.0), 0.0) for s, y in (("left", 0.1), ("right", -0.1))),
)
#: Segments: (name, from joint, to joint, radius [m], colour, extend the far end by [m]).
SEGMENTS = (
    ("pelvis", "left_hip", "right_hip", 0.095, TROUSERS, 0.0),
    ("belly", "pelvis", "spine2", 0.12, SHIRT, 0.0),
    ("chest", "spine2", "neck", 0.13, SHIRT, -0.04),
    ("shoulders", "left_shoulder", "right_shoulder", 0.075, SHIRT, 0.0),
    ("neck", "neck", "head", 0.05, SKIN, 0.0),
    ("head", "head", "head", 0.105, SKIN, 0.0),
    *((f"{s}_{a}", f"{s}_{b}", f"{s}_{c}", r, col, e) for s in ("left", "right") for a, b, c, r, col, e in (
        ("thigh", "hip", "knee", 0.075, TROUSERS, 0.0), ("shank", "knee", "ankle", 0.055, TROUSERS, 0.0),
        ("foot", "ankle", "foot", 0.045, SHOES, 0.05), ("upper_arm", "shoulder", "elbow", 0.048, SHIRT, 0.0),
        ("forearm", "elbow", "wrist", 0.04, SKIN, 0.0), ("hand", "wrist", "hand", 0.035, SKIN, 0.03)))
)


class RenderSetup(NamedTuple):
    """Image ``width``, ``height`` [px], vertical field of view ``fovy`` [deg], camera ``distance`` and
    ``height`` [m] (in front of the person's start, looking back at it horizontally). ``follow``: the camera
    keeps ``distance`` in front of the pelvis's current (x, y) instead (the same view as
    :data:`genmimic.core.g1_render.FRONT`); ``fast``: no shadows, reflections, skybox or multisampling
    (:func:`genmimic.core.g1_render.make_renderer`)."""

    width: int = 360
    height: int = 480
    fovy: float = 55.0
    distance: float = 3.4
    cam_height: float = 1.0
    follow: bool = False
    fast: bool = False


def camera_of(setup: RenderSetup) -> Camera:
    """The pinhole camera [px] of a render (square pixels, centred principal point)."""
    f = setup.height / 2.0 / np.tan(np.radians(setup.fovy) / 2.0)
    return Camera(float(f), setup.width / 2.0, setup.height / 2.0)


def fit_distance(clip: SmplClip, setup: RenderSetup, nearest: float = 3.0, margin: float = 0.5) -> RenderSetup:
    """``setup`` with the static camera moved back along +x (it looks along -x at the person's start) until
    the pelvis's whole path stays at least ``nearest`` [m] in front of it and, ``margin`` [m] added to each
    side, inside its horizontal field of view; never nearer than ``setup.distance``. Without it a figure that
    walks forward for a few seconds walks into the camera and its lift is lost (measured 2026-12-02: an 8 s
    walk of 4.8 m rendered with the camera 4.2 m away lifted to 2.3 m of travel). ``follow`` setups are
    returned unchanged. Shapes: the clip's joints (T, 24, 3) [m], z up."""
    if setup.follow:
        return setup
    pelvis = clip.joints[:, 0, :2]
    half_width = np.tan(np.radians(setup.fovy) / 2.0) * setup.width / setup.height  # tan of half the hfov
    need = pelvis[:, 0] + np.maximum(nearest, (np.abs(pelvis[:, 1]) + margin) / half_width)
    return setup._replace(distance=float(max(setup.distance, need.max())))


def _mjcf(setup: RenderSetup) -> str:
    bodies = []
    for name, _, _, r, colour, _ in SEGMENTS:
        geom = (f'<geom type="sphere" size="{r}" rgba="{colour}"/>' if name == "head"
                else f'<geom type="capsule" size="{r} 0.1" rgba="{colour}"/>')
        bodies.append(f'<body name="{name}" mocap="true">{geom}</body>')
    bodies.append(f'<body name="hair" mocap="true"><geom type="sphere" size="0.1" rgba="{HAIR}"/></body>')
    for name, kind, r, colour, _, half in FACE:
        size = f"{r} {half}" if kind == "capsule" else f"{r}"
        bodies.append(f'<body name="{name}" mocap="true"><geom type="{kind}" size="{size}" rgba="{colour}"/></body>')
    return f"""<mujoco><visual><global offwidth="{setup.width}" offheight="{setup.height}"/>
<headlight ambient="0.45 0.45 0.45" diffuse="0.5 0.5 0.5"/></visual>
<asset><texture type="skybox" builtin="gradient" rgb1="0.75 0.8 0.85" rgb2="0.45 0.5 0.55" width="64"
height="64"/><texture name="grid" type="2d" builtin="checker" rgb1="0.62 0.6 0.55" rgb2="0.55 0.53 0.5" width="256"
height="256"/><material name="floor" texture="grid" texrepeat="8 8"/></asset>
<worldbody><light pos="2 -1 4" dir="-0.4 0.2 -1"/>
<geom type="plane" size="20 20 0.1" material="floor"/>
<camera name="cam" pos="{setup.distance} 0 {setup.cam_height}" xyaxes="0 1 0 0 0 1" fovy="{setup.fovy}"/>
{''.join(bodies)}</worldbody></mujoco>"""


def _align_z(d: Array) -> Array:
    """Unit quaternions (..., 4) wxyz turning +z into the unit vectors ``d`` (..., 3)."""
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(z, d)
    w = 1.0 + d[..., 2]
    q = np.concatenate([w[..., None], axis], -1)
    flip = w < 1e-6
    q[flip] = [0.0, 1.0, 0.0, 0.0]
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def render_frames(clip: SmplClip, setup: RenderSetup | None = None) -> Iterator[NDArray[np.uint8]]:
    """RGB frames (H, W, 3) of the figure performing ``clip`` (its joints, z up), seen by the camera."""
    import mujoco

    setup = setup or RenderSetup()
    model = mujoco.MjModel.from_xml_string(_mjcf(setup))
    data = mujoco.MjData(model)
    ids = [model.body(name).mocapid[0] for name, *_ in SEGMENTS]
    hair = model.body("hair").mocapid[0]
    face = [model.body(name).mocapid[0] for name, *_ in FACE]
    offsets = np.array([f[4] for f in FACE])
    # the head joint's frame in the world (SMPL's canonical axes: x left, y up, z forward)
    _, head_rot = smpl.forward_kinematics(clip.global_orient, clip.body_pose, clip.transl)
    head_rot = head_rot[:, _J("head")]
    from genmimic.core.g1_render import make_renderer

    renderer = make_renderer(model, setup.width, setup.height, setup.fast)
    cam = model.camera("cam").id
    try:
        for t in range(clip.num_frames):
            j = clip.joints[t]
            if setup.follow:
                model.cam_pos[cam, :2] = j[0, :2] + [setup.distance, 0.0]
            for k, (name, a, b, _r, _, extend) in enumerate(SEGMENTS):
                pa, pb = j[_J(a)], j[_J(b)]
                if name == "head":  # skull-base joint -> centre of the head, up and a little forward
                    left, up, fwd = head_rot[t].T
                    centre = pb + 0.09 * up + 0.02 * fwd
                    data.mocap_pos[ids[k]] = centre
                    data.mocap_pos[hair] = centre + 0.03 * up - 0.035 * fwd
                    frame = np.stack([fwd, left, up], -1)  # columns: head forward, left, up in the world
                    data.mocap_pos[face] = centre + offsets @ frame.T
                    data.mocap_quat[face] = _align_z(left)
                    continue
                d = pb - pa
                length = np.linalg.norm(d)
                d = d / max(length, 1e-9)
                pb = pb + extend * d
                data.mocap_pos[ids[k]] = 0.5 * (pa + pb)
                data.mocap_quat[ids[k]] = _align_z(d)
                model.geom_size[model.body_geomadr[model.body(name).id]][1] = max(0.5 * (length + extend), 0.01)
            mujoco.mj_forward(model, data)
            renderer.update_scene(data, camera="cam")
            yield renderer.render().copy()
    finally:
        renderer.close()


def world_to_camera(setup: RenderSetup) -> Array:
    """4x4 transform from the world to the render camera's frame (x right, y down, z forward)."""
    R = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])  # camera looks along -x
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = -R @ np.array([setup.distance, 0.0, setup.cam_height])
    return T
