"""The SMPL skeleton: 24 joints, their tree, rest positions and forward kinematics in NumPy.

SMPL's canonical body frame is y-up, facing +z, x to the body's left. A clip's ``global_orient``
rotates that frame into the z-up world (:data:`CANONICAL_TO_WORLD` for a person standing upright and
facing +x). As in smplx, the root rotates about the rest pelvis position and ``transl`` is added after:
``pelvis_world = rest_joints[0] + transl``.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from .errors import ModelError
from .rotations import axis_angle_from_matrix, matrix_from_axis_angle

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hand", "right_hand",
)
#: Parent of each joint (-1 for the pelvis), SMPL's kinematic tree.
PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
NUM_JOINTS = 24
NUM_BETAS = 10

#: Rotation from SMPL's canonical frame (y-up, facing +z) to the world (z-up, facing +x).
CANONICAL_TO_WORLD = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

#: The project's default rest skeleton (T-pose) in SMPL's canonical frame [m], pelvis at the origin:
#: an adult of about 1.70 m (the project's own proportions after common anthropometric ratios:
#: thigh 0.39 m, shank 0.40 m, upper arm 0.27 m, forearm 0.25 m, shoulder width 0.36 m).
#: Standing, the pelvis is :data:`DEFAULT_PELVIS_HEIGHT` above the ground.
DEFAULT_REST_JOINTS = np.array([
    [0.000, 0.000, 0.000],    # pelvis
    [0.075, -0.085, -0.005],  # left_hip
    [-0.075, -0.085, -0.005],  # right_hip
    [0.000, 0.110, -0.020],   # spine1
    [0.090, -0.475, 0.000],   # left_knee
    [-0.090, -0.475, 0.000],  # right_knee
    [0.000, 0.245, 0.000],    # spine2
    [0.085, -0.870, -0.035],  # left_ankle
    [-0.085, -0.870, -0.035],  # right_ankle
    [0.000, 0.300, 0.020],    # spine3
    [0.100, -0.920, 0.095],   # left_foot (ball of the foot)
    [-0.100, -0.920, 0.095],  # right_foot
    [0.000, 0.510, -0.015],   # neck
    [0.075, 0.420, -0.005],   # left_collar
    [-0.075, 0.420, -0.005],  # right_collar
    [0.000, 0.600, 0.040],    # head (skull base)
    [0.180, 0.440, -0.015],   # left_shoulder
    [-0.180, 0.440, -0.015],  # right_shoulder
    [0.450, 0.440, -0.030],   # left_elbow
    [-0.450, 0.440, -0.030],  # right_elbow
    [0.700, 0.440, -0.025],   # left_wrist
    [-0.700, 0.440, -0.025],  # right_wrist
    [0.790, 0.440, -0.030],   # left_hand (knuckles)
    [-0.790, 0.440, -0.030],  # right_hand
])
#: Height of the default pelvis above the ground when standing [m] (ankles 0.87 m below the pelvis
#: and 0.065 m above the ground).
DEFAULT_PELVIS_HEIGHT = 0.935
#: Left/right joint pairs, for mirroring.
MIRROR_INDEX: tuple[int, ...] = tuple(
    JOINT_NAMES.index(n.replace("left_", "#").replace("right_", "left_").replace("#", "right_"))
    for n in JOINT_NAMES
)


def forward_kinematics(
    global_orient: ArrayLike,
    body_pose: ArrayLike,
    transl: ArrayLike,
    rest_joints: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """World joint positions and orientations of the SMPL skeleton, batched over leading axes.

    Args:
        global_orient: (..., 3) root axis-angle [rad].
        body_pose: (..., 23, 3) joint axis-angles relative to the parent [rad].
        transl: (..., 3) [m].
        rest_joints: (24, 3) or (..., 24, 3) rest (T-pose) joint positions in the canonical frame [m];
            default :data:`DEFAULT_REST_JOINTS`.

    Returns:
        positions (..., 24, 3) [m] and rotations (..., 24, 3, 3) (joint-to-world).
    """
    rest = DEFAULT_REST_JOINTS if rest_joints is None else np.asarray(rest_joints, float)
    go, bp, tr = (np.asarray(a, float) for a in (global_orient, body_pose, transl))
    local_rot = matrix_from_axis_angle(np.concatenate([go[..., None, :], bp], axis=-2))  # (..., 24, 3, 3)
    batch = local_rot.shape[:-3]
    rest = np.broadcast_to(rest, (*batch, NUM_JOINTS, 3))
    pos = np.empty((*batch, NUM_JOINTS, 3))
    rot = np.empty((*batch, NUM_JOINTS, 3, 3))
    pos[..., 0, :] = rest[..., 0, :] + tr
    rot[..., 0, :, :] = local_rot[..., 0, :, :]
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        offset = rest[..., j, :] - rest[..., p, :]
        pos[..., j, :] = pos[..., p, :] + np.einsum("...ij,...j->...i", rot[..., p, :, :], offset)
        rot[..., j, :, :] = rot[..., p, :, :] @ local_rot[..., j, :, :]
    return pos, rot


def bone_lengths(rest_joints: ArrayLike = DEFAULT_REST_JOINTS) -> np.ndarray:
    """Distance (24,) [m] from each joint to its parent (0 for the pelvis)."""
    rest = np.asarray(rest_joints, float)
    out = np.zeros(NUM_JOINTS)
    for j in range(1, NUM_JOINTS):
        out[j] = np.linalg.norm(rest[j] - rest[PARENTS[j]])
    return out


def rest_joints_from_body_model(
    model_path: str | os.PathLike[str], betas: ArrayLike | None = None, gender: str = "neutral"
) -> np.ndarray:
    """Rest joint positions (24, 3) [m] of an SMPL body model for shape ``betas``, via smplx.

    Args:
        model_path: an SMPL model file (``SMPL_NEUTRAL.pkl`` and the like) or a folder that smplx
            searches (``<folder>/smpl/SMPL_<GENDER>.pkl``). The files are the user's; none ship.
        betas: (10,) shape coefficients; zeros by default.
        gender: "neutral", "male" or "female" (used when ``model_path`` is a folder).

    Raises:
        ModelError: smplx is missing, or the files cannot be found or read.
    """
    try:
        import smplx
        import torch
    except ImportError as err:
        raise ModelError(f"loading SMPL model files needs smplx and torch ({err}); "
                         "install genmimic-core[smpl]") from None
    path = Path(model_path)
    if not path.exists():
        raise ModelError(f"{path}: no such SMPL model file or folder")
    b = np.zeros(NUM_BETAS) if betas is None else np.asarray(betas, float).reshape(-1)
    try:
        model = smplx.create(str(path), model_type="smpl", gender=gender, num_betas=b.shape[0])
        with torch.no_grad():
            out = model(betas=torch.as_tensor(b, dtype=torch.float32)[None], return_verts=False)
    except (OSError, ValueError, KeyError, AssertionError, RuntimeError, pickle.UnpicklingError, EOFError) as err:
        raise ModelError(f"{path}: cannot load SMPL model: {str(err).splitlines()[0] if str(err) else err!r}") from None
    joints = out.joints[0, :NUM_JOINTS].numpy().astype(np.float64)
    return joints


#: World reflection of the left/right mirror (y -> -y) and the same in SMPL's canonical frame (x -> -x).
_FLIP_WORLD = np.diag([1.0, -1.0, 1.0])
_FLIP_CANONICAL = np.diag([-1.0, 1.0, 1.0])


def mirror_motion(
    global_orient: ArrayLike, body_pose: ArrayLike, transl: ArrayLike, joints: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The left/right mirror image (world y -> -y) of an SMPL motion, batched over leading axes.

    Left and right joints swap; each local axis-angle ``(x, y, z)`` becomes ``(x, -y, -z)`` in the
    canonical frame. ``transl`` is mirrored as is, which is exact when the rest pelvis lies on the body's
    mid-plane (as in :data:`DEFAULT_REST_JOINTS` and SMPL's models, to within millimetres).
    World ``joints`` (..., 24, 3), when given, are mirrored too.

    Returns:
        (global_orient, body_pose, transl, joints or None), mirrored.
    """
    go, bp, tr = (np.asarray(a, float) for a in (global_orient, body_pose, transl))
    go_m = axis_angle_from_matrix(_FLIP_WORLD @ matrix_from_axis_angle(go) @ _FLIP_CANONICAL)
    full = np.concatenate([go[..., None, :], bp], axis=-2)[..., list(MIRROR_INDEX), :]
    bp_m = full[..., 1:, :] * [1.0, -1.0, -1.0]
    j_m = None if joints is None else np.asarray(joints, float)[..., list(MIRROR_INDEX), :] * [1.0, -1.0, 1.0]
    return go_m, bp_m, tr * [1.0, -1.0, 1.0], j_m
