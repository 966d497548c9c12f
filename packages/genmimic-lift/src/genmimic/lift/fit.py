"""Fitting the SMPL skeleton over a whole sequence in PyTorch: joint rotations, translation and a body
scale from 3D joint targets and/or 2D keypoints seen by a pinhole camera, with smoothness and priors.

The skeleton is a rest pose (24, 3) [m] (genmimic.core's default, or a body model's) times ``scale``.
Rotations are optimised in the 6D representation; the objective per frame is, in
units where 1 cm of joint error costs 1,

- 3D: weighted squared distance of joints to targets (absolute, or relative to the hip centre);
- 2D: weighted squared reprojection error [px] of joints through ``x = f X/Z + c`` (camera frame: x right,
  y down, z forward);
- ground (optional, :class:`Ground`): the lowest sole under a plane costs its squared depth, above it a
  bounded cost (a foot in the air is allowed, a foot in the floor is not);
- smoothness: squared joint acceleration; priors: knees and elbows bend about their hinge axis, joints
  stay within :data:`genmimic.lift.limits.MAX_ANGLE`, unobserved joints stay near their rest rotation.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import torch
from numpy.typing import NDArray
from scipy.optimize import minimize

from genmimic.core import rotations as rot
from genmimic.core import smpl

from .limits import HINGES, MAX_ANGLE
from .posture import frame_rotation

Array = NDArray[np.float64]
log = logging.getLogger(__name__)
_PARENTS = smpl.PARENTS
_J = smpl.JOINT_NAMES.index


class Camera(NamedTuple):
    """Pinhole camera: focal length ``focal`` [px], principal point ``cx``, ``cy`` [px]."""

    focal: float
    cx: float
    cy: float


class Ground(NamedTuple):
    """The ground plane in the fitting frame: points ``X`` with ``normal @ X == offset`` (``normal`` (3,) a
    unit vector pointing up, ``offset`` [m]); ``sole_heights`` (2,) [m]: how far the sole is below the left
    and right ankle joints (a flat foot's; the balls of the feet are left out, else the fit stood on tiptoe
    to reach the floor). The lowest sole (a soft minimum over the two, 1 cm wide) costs ``weight`` times
    its squared depth under the plane (1: 1 cm under costs as much as 1 cm of error at every joint), and
    above it ``air_weight`` times a Geman-McClure penalty of scale ``air`` [m], bounded by
    ``air_weight * air**2`` (a foot a little above the floor is pulled down, a jump's flight is left in the
    air).

    The floor moves the whole body (``transl``), never poses it: the soles' offsets from the pelvis are held
    out of its gradient. Where it could pose the body, the fit rolled the pelvis to set a sole on the floor:
    on the 15 cached closed-loop renders of :data:`genmimic.lift.lift_video.GROUND_WEIGHT` (2026-12-03) the
    hip line rolled 7.1 deg from the truth's on average (turn 13.7, point 10.2); 4.2 deg with the floor
    placing the body only, MPJPE 80.3 -> 77.3 mm, PA-MPJPE 57.2 -> 55.8 mm, root trajectory error 77.8 ->
    78.3 mm (crouch and squat worse: MPJPE 100 -> 106 and 121 -> 130 mm, their knees no longer bent to reach
    the floor)."""

    normal: Array
    offset: float
    sole_heights: Array
    weight: float = 1.0
    air: float = 0.05
    air_weight: float = 1.0


class FitResult(NamedTuple):
    """Fitted sequence: ``global_orient`` (T, 3), ``body_pose`` (T, 23, 3) axis-angle [rad], ``transl`` (T, 3)
    [m], ``joints`` (T, 24, 3) [m] in the fitting frame, ``scale`` of the rest skeleton, final loss terms."""

    global_orient: Array
    body_pose: Array
    transl: Array
    joints: Array
    scale: float
    losses: dict[str, float]


def _sixd_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    a, b = d6[..., :3], d6[..., 3:]
    c0 = torch.nn.functional.normalize(a, dim=-1)
    b = b - (c0 * b).sum(-1, keepdim=True) * c0
    c1 = torch.nn.functional.normalize(b, dim=-1)
    return torch.stack([c0, c1, torch.cross(c0, c1, dim=-1)], dim=-1)


def torch_forward_kinematics(local: torch.Tensor, transl: torch.Tensor, rest: torch.Tensor) -> torch.Tensor:
    """Joint positions (T, 24, 3) from local rotations (T, 24, 3, 3), ``transl`` (T, 3), rest (24, 3)."""
    pos = [rest[0] + transl]
    world = [local[:, 0]]
    for j in range(1, smpl.NUM_JOINTS):
        p = _PARENTS[j]
        pos.append(pos[p] + world[p] @ (rest[j] - rest[p]))
        world.append(world[p] @ local[:, j])
    return torch.stack(pos, 1)


def _top(points: Array, observed: NDArray[np.bool_]) -> Array:
    """The top of the torso in ``points`` (..., 24, 3): the neck joint where observed, else the shoulders'
    midpoint (a keypoint detector has no neck)."""
    ls, rs, neck = _J("left_shoulder"), _J("right_shoulder"), _J("neck")
    if observed[neck] or not observed[[ls, rs]].all():
        return points[..., neck, :]
    return 0.5 * (points[..., ls, :] + points[..., rs, :])


def initial_root(targets: Array, rest: Array, observed: NDArray[np.bool_] | None = None) -> tuple[Array, Array]:
    """Root rotation (T, 3, 3) and ``transl`` (T, 3) that put the rest hips and torso top (neck, or the
    shoulders' midpoint where the neck is not ``observed`` (24,)) on the targets'."""
    observed = np.ones(smpl.NUM_JOINTS, bool) if observed is None else observed
    lh, rh = _J("left_hip"), _J("right_hip")
    hip_mid, rest_mid = 0.5 * (targets[:, lh] + targets[:, rh]), 0.5 * (rest[lh] + rest[rh])
    R = frame_rotation(rest[lh] - rest[rh], _top(rest, observed) - rest_mid, targets[:, lh] - targets[:, rh],
                       _top(targets, observed) - hip_mid)
    transl = hip_mid - np.einsum("tij,j->ti", R, rest_mid - rest[0]) - rest[0]
    return R, transl


def _perp(v: Array, axis: Array) -> Array:
    return v - np.sum(v * axis, -1, keepdims=True) * axis


def _unit(v: Array) -> Array:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


#: Limb chains for the analytic start: (joint, child it points at, grandchild that sets the bend plane,
#: the rest direction the limb bends toward).
_LIMBS = tuple(
    (f"{s}_{a}", f"{s}_{b}", f"{s}_{c}", bend)
    for s in ("left", "right")
    for a, b, c, bend in (("hip", "knee", "ankle", (0.0, 0.0, -1.0)), ("shoulder", "elbow", "wrist", (0.0, 0.0, 1.0)))
)


def initial_pose(targets: Array, weights: Array, rest: Array) -> tuple[Array, Array]:
    """Local rotations (T, 24, 3, 3) and ``transl`` (T, 3) that point each observed bone at its target.

    Root from the hips and neck; spine turned toward the neck and shoulders in three equal parts; thighs
    and upper arms aligned with their bones, twisted so that the knee/elbow bends in the plane the targets
    show (the body's forward direction when the limb is straight); shanks and forearms as hinges; feet,
    hands and head swung toward their targets. Joints without targets keep the rest rotation.
    """
    ok = (weights > 0).all(axis=0)
    root, transl = initial_root(targets, rest, ok)
    world = np.empty((len(targets), smpl.NUM_JOINTS, 3, 3))
    world[:, 0] = root
    ls, rs, lh, rh = _J("left_shoulder"), _J("right_shoulder"), _J("left_hip"), _J("right_hip")
    spine_rel = None
    if ok[[ls, rs]].all():
        top, rest_top = _top(targets, ok), _top(rest, ok)
        torso = frame_rotation(rest[ls] - rest[rs], rest_top - 0.5 * (rest[lh] + rest[rh]),
                               targets[:, ls] - targets[:, rs], top - 0.5 * (targets[:, lh] + targets[:, rh]))
        spine_rel = rot.axis_angle_from_matrix(np.swapaxes(root, -1, -2) @ torso)
    limbs = {_J(a): (_J(b), _J(c), bend) for a, b, c, bend in _LIMBS}
    swings = {_J("left_ankle"): _J("left_foot"), _J("right_ankle"): _J("right_foot"), _J("neck"): _J("head"),
              _J("left_wrist"): _J("left_hand"), _J("right_wrist"): _J("right_hand")}
    hinge_of: dict[int, Array] = {}
    for j in range(1, smpl.NUM_JOINTS):  # tree order: a joint's parent is always set before it
        parent = world[:, _PARENTS[j]]
        world[:, j] = parent
        name = smpl.JOINT_NAMES[j]
        if name.startswith("spine") and spine_rel is not None:
            world[:, j] = root @ rot.matrix_from_axis_angle(spine_rel * int(name[-1]) / 3.0)
        elif j in limbs and ok[[j, limbs[j][0], limbs[j][1]]].all():
            ib, ic, bend = limbs[j]
            upper, lower = _unit(targets[:, ib] - targets[:, j]), _unit(targets[:, ic] - targets[:, ib])
            fwd = _unit(parent @ np.asarray(bend))
            bend_dir = _perp(lower, upper) + 0.4 * _unit(_perp(fwd, upper))
            world[:, j] = frame_rotation(rest[ib] - rest[j], bend, upper, bend_dir)
            # the lower bone's bend direction is the upper one's turned about the hinge axis with it
            lower_bend = np.cross(np.cross(upper, _unit(_perp(bend_dir, upper))), lower)
            hinge_of[ib] = frame_rotation(rest[ic] - rest[ib], bend, lower, lower_bend)
        elif j in hinge_of:
            world[:, j] = hinge_of[j]
        if j in swings and ok[[j, swings[j]]].all():
            child = swings[j]
            bone = _unit(targets[:, child] - targets[:, j])
            cur = _unit(np.einsum("tij,j->ti", world[:, j], rest[child] - rest[j]))
            world[:, j] = _swing(cur, bone) @ world[:, j]
    local = np.swapaxes(world[:, np.maximum(_PARENTS, 0)], -1, -2) @ world
    local[:, 0] = root
    return local, transl


def _swing(a: Array, b: Array) -> Array:
    """The smallest rotations (T, 3, 3) turning unit vectors ``a`` into ``b`` (T, 3)."""
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1)
    angle = np.arctan2(sin, np.sum(a * b, -1))
    return rot.matrix_from_axis_angle(_unit(axis) * angle[:, None])


def fit_sequence(
    rest_joints: Array,
    fps: float,
    *,
    targets3d: Array | None = None,
    weights3d: Array | None = None,
    relative3d: bool = False,
    keypoints2d: Array | None = None,
    weights2d: Array | None = None,
    camera: Camera | None = None,
    init_local: Array | None = None,
    init_transl: Array | None = None,
    fit_scale: bool = False,
    ground: Ground | None = None,
    smooth: float = 1.0,
    hinge_weight: float = 1.0,
    weight3d: float = 1.0,
    threads: int = 1,
    iterations: int = 200,
) -> FitResult:
    """Fit rotations, translation (and with ``fit_scale`` a body scale) to the targets over all T frames.

    Args:
        rest_joints: (24, 3) rest skeleton [m].
        fps: frame rate [1/s] (scales the smoothness term to accelerations).
        targets3d, weights3d: (T, 24, 3) [m] and (T, 24) >= 0; with ``relative3d`` only positions relative to
            the hip centre count (and ``transl`` comes from the 2D term).
        keypoints2d, weights2d, camera: (T, 24, 2) [px], (T, 24) >= 0 and the camera; joints are in the
            camera frame then.
        init_local, init_transl: local rotations (T, 24, 3, 3) and ``transl`` (T, 3) to start from
            (:func:`initial_pose`); rest rotations and zeros by default.
        ground: a ground plane the lowest sole should rest on (:class:`Ground`); none by default.
        smooth: weight of the acceleration term (1.0: 10 m/s^2 cost as much as 1 cm of error).
        hinge_weight: weight of the knee/elbow hinge prior; weight3d: of the 3D term against the 2D one.
        iterations: L-BFGS iterations.
        threads: torch intra-op threads during the fit (restored after). One is fastest on a busy machine:
            with more threads than free cores torch's workers spin and a fit can run 20x slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    try:
        return _fit(rest_joints, fps, targets3d, weights3d, relative3d, keypoints2d, weights2d, camera, init_local,
                    init_transl, fit_scale, ground, smooth, hinge_weight, weight3d, iterations)
    finally:
        torch.set_num_threads(previous)


def _fit(rest_joints, fps, targets3d, weights3d, relative3d, keypoints2d, weights2d, camera, init_local,
         init_transl, fit_scale, ground, smooth, hinge_weight, weight3d, iterations) -> FitResult:
    rest_t = torch.as_tensor(rest_joints, dtype=torch.float32)
    T = len(targets3d if targets3d is not None else keypoints2d)
    local0 = np.tile(np.eye(3), (T, smpl.NUM_JOINTS, 1, 1)) if init_local is None else init_local.copy()
    transl0 = np.zeros((T, 3)) if init_transl is None else init_transl
    d6 = torch.tensor(rot.sixd_from_matrix(local0), dtype=torch.float32, requires_grad=True)
    transl = torch.tensor(transl0, dtype=torch.float32, requires_grad=True)
    log_scale = torch.zeros((), requires_grad=True)
    params = [d6, transl] + ([log_scale] if fit_scale else [])
    tgt3 = None if targets3d is None else torch.as_tensor(targets3d, dtype=torch.float32)
    w3 = None if targets3d is None else torch.as_tensor(
        np.ones(targets3d.shape[:2]) if weights3d is None else weights3d, dtype=torch.float32)
    kp2 = None if keypoints2d is None else torch.as_tensor(keypoints2d, dtype=torch.float32)
    w2 = None if keypoints2d is None else torch.as_tensor(
        np.ones(keypoints2d.shape[:2]) if weights2d is None else weights2d, dtype=torch.float32)
    observed = torch.zeros(smpl.NUM_JOINTS)
    if w3 is not None:
        observed += (w3 > 0).float().mean(0)
    if w2 is not None:
        observed += (w2 > 0).float().mean(0)
    # unobserved joints (beyond pelvis): weak pull to rest; observed ones get a very weak one
    prior_w = torch.where(observed > 0, 0.01, 0.2)
    prior_w[0] = 0.0
    cos_max = torch.cos(torch.tensor([MAX_ANGLE[n] for n in smpl.JOINT_NAMES], dtype=torch.float32))
    hinge = [(_J(n), torch.as_tensor(a, dtype=torch.float32)) for n, a in HINGES.items()]
    lh, rh = _J("left_hip"), _J("right_hip")
    eye = torch.eye(3)
    dt2 = float(fps) ** 2
    feet = [_J("left_ankle"), _J("right_ankle")]
    if ground is not None:
        up = torch.as_tensor(ground.normal, dtype=torch.float32)
        sole_h = torch.as_tensor(ground.sole_heights, dtype=torch.float32)

    def evaluate() -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        local = _sixd_to_matrix(d6)
        joints = torch_forward_kinematics(local, transl, rest_t * torch.exp(log_scale))
        terms: dict[str, torch.Tensor] = {}
        if tgt3 is not None:
            p, q = joints, tgt3
            if relative3d:
                p = p - 0.5 * (p[:, lh] + p[:, rh])[:, None]
                q = q - 0.5 * (q[:, lh] + q[:, rh])[:, None]
            terms["3d"] = weight3d * 1e4 * (w3 * ((p - q) ** 2).sum(-1)).sum() / w3.sum().clamp(min=1e-6)
        if kp2 is not None and camera is not None:
            z = joints[..., 2].clamp(min=0.1)
            uv = torch.stack([camera.focal * joints[..., 0] / z + camera.cx,
                              camera.focal * joints[..., 1] / z + camera.cy], -1)
            # [px^2] to about [cm^2] at 3 m from the camera
            terms["2d"] = (w2 * ((uv - kp2) ** 2).sum(-1)).sum() / w2.sum().clamp(min=1e-6) / camera.focal**2 * 9e4
        if ground is not None:
            # the floor places the body, it does not pose it: the soles follow the pelvis, their offsets
            # from it are held (see Ground)
            soles = joints[:, :1] + (joints[:, feet] - joints[:, :1]).detach()
            h = soles @ up - sole_h * torch.exp(log_scale) - ground.offset
            low = -0.01 * torch.logsumexp(-h / 0.01, dim=1)
            under, above = torch.relu(-low) ** 2, torch.relu(low) ** 2
            terms["ground"] = 1e4 * (ground.weight * under
                                     + ground.air_weight * ground.air**2 * above / (above + ground.air**2)).mean()
        if T >= 3 and smooth > 0:
            acc = (joints[2:] - 2 * joints[1:-1] + joints[:-2]) * dt2
            terms["smooth"] = smooth * 1e-2 * (acc**2).sum(-1).mean()
        cos = ((local[:, :, 0, 0] + local[:, :, 1, 1] + local[:, :, 2, 2]) - 1.0) / 2.0
        terms["limits"] = 1e3 * (torch.relu(cos_max - cos) ** 2).mean()
        terms["hinge"] = hinge_weight * sum(((local[:, j] @ a - a) ** 2).sum(-1).mean() for j, a in hinge)
        terms["prior"] = (prior_w[None, :, None, None] * (local - eye) ** 2).sum((-1, -2)).mean()
        return sum(terms.values()), terms, joints

    # L-BFGS with a line search: a smooth least-squares problem started near its optimum (see initial_pose).
    # SciPy's L-BFGS-B with torch's gradients: as accurate as torch.optim.LBFGS here, and it does not import
    # torch._dynamo (0.8 s per process)
    sizes = np.cumsum([p.numel() for p in params])[:-1]

    def loss_and_grad(x: Array) -> tuple[float, Array]:
        with torch.no_grad():
            for p, chunk in zip(params, np.split(x, sizes), strict=True):
                p.copy_(torch.from_numpy(chunk).view_as(p))
                p.grad = None
        loss, _, _ = evaluate()
        loss.backward()
        return float(loss.detach()), np.concatenate([p.grad.reshape(-1).double().numpy() for p in params])

    x0 = np.concatenate([p.detach().reshape(-1).double().numpy() for p in params])
    best = minimize(loss_and_grad, x0, jac=True, method="L-BFGS-B",
                    options={"maxiter": iterations, "maxcor": 10, "ftol": 1e-12, "gtol": 1e-9})
    loss_and_grad(best.x)
    with torch.no_grad():
        _, terms, joints = evaluate()
        local = _sixd_to_matrix(d6).double().numpy()
    aa = rot.axis_angle_from_matrix(local)
    return FitResult(aa[:, 0], aa[:, 1:], transl.detach().double().numpy(), joints.double().numpy(),
                     float(torch.exp(log_scale).detach()), {k: float(v) for k, v in terms.items()})
