"""Test inputs made by the project: mocap files written from known motions (for genmimic-lift's tests and
users' own)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from genmimic.core import SmplClip, smpl
from genmimic.core import rotations as rot

#: BVH names for SMPL joints (CMU/Mixamo style), written by :func:`write_bvh`.
BVH_NAMES = {
    "pelvis": "Hips", "left_hip": "LeftUpLeg", "right_hip": "RightUpLeg", "spine1": "Spine", "left_knee": "LeftLeg",
    "right_knee": "RightLeg", "spine2": "Spine1", "left_ankle": "LeftFoot", "right_ankle": "RightFoot",
    "spine3": "Spine2", "left_foot": "LeftToeBase", "right_foot": "RightToeBase", "neck": "Neck",
    "left_collar": "LeftShoulder", "right_collar": "RightShoulder", "head": "Head", "left_shoulder": "LeftArm",
    "right_shoulder": "RightArm", "left_elbow": "LeftForeArm", "right_elbow": "RightForeArm",
    "left_wrist": "LeftHand", "right_wrist": "RightHand", "left_hand": "LeftHandIndex1",
    "right_hand": "RightHandIndex1",
}


def write_bvh(path: Path, clip: SmplClip, unit: float = 0.01, rest: np.ndarray = smpl.DEFAULT_REST_JOINTS) -> Path:
    """Write ``clip`` as a BVH file: SMPL's tree with BVH names, Y up facing +Z, ``unit`` metres per unit
    (centimetres by default), ZYX Euler channels. Its joint positions are the clip's."""
    children: dict[int, list[int]] = {j: [] for j in range(smpl.NUM_JOINTS)}
    for j, p in enumerate(smpl.PARENTS):
        if p >= 0:
            children[p].append(j)
    order: list[int] = []
    lines = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        order.append(j)
        pad = "  " * depth
        name = BVH_NAMES[smpl.JOINT_NAMES[j]]
        offset = (rest[j] - rest[smpl.PARENTS[j]]) / unit if j else rest[0] / unit
        lines.append(f"{pad}{'ROOT' if j == 0 else 'JOINT'} {name}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}")
        pos = "Xposition Yposition Zposition " if j == 0 else ""
        lines.append(f"{pad}  CHANNELS {6 if j == 0 else 3} {pos}Zrotation Yrotation Xrotation")
        for c in children[j]:
            emit(c, depth + 1)
        if not children[j]:
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0.0 5.0 0.0", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    emit(0, 0)
    c2w = smpl.CANONICAL_TO_WORLD
    local = rot.matrix_from_axis_angle(np.concatenate([clip.global_orient[:, None], clip.body_pose], 1))
    local[:, 0] = c2w.T @ local[:, 0]
    root_pos = (clip.joints[:, 0] @ c2w) / unit  # world -> BVH frame, then units
    lines += ["MOTION", f"Frames: {clip.num_frames}", f"Frame Time: {1.0 / clip.fps:.8f}"]
    for t in range(clip.num_frames):
        values = list(root_pos[t] - rest[0] / unit)
        for j in order:
            values += list(Rotation.from_matrix(local[t, j]).as_euler("ZYX", degrees=True))
        lines.append(" ".join(f"{v:.6f}" for v in values))
    path.write_text("\n".join(lines) + "\n")
    return path


def bvh_every_nth_frame(source: Path, dest: Path, step: int, count: int | None = None) -> Path:
    """Write ``source``'s BVH with every ``step``-th frame (at most ``count`` of them) at its frame rate over
    ``step`` (CMU's 120 fps file with ``step=4`` is the same motion at 30 fps); the hierarchy is kept."""
    from .bvh import frame_rate

    text = Path(source).read_text().splitlines()
    at = next(i for i, line in enumerate(text) if line.strip().upper() == "MOTION")
    frame_time = step / frame_rate(text[at + 2].split(":", 1)[1].strip())
    frames = [line for line in text[at + 3:] if line.strip()][::step][:count]
    dest.write_text("\n".join([*text[:at + 1], f"Frames: {len(frames)}", f"Frame Time: {frame_time:.7f}", *frames])
                    + "\n")
    return dest
