"""The Unitree G1 29-DoF (rev 1.0) as data: bodies, joints, inertias, motors, poses and gains.

Everything else about the G1 in this project (MJCF, URDF, NumPy forward kinematics) is generated from
these tables, so a figure is changed in one place.

Sources (see ``../shared/reference/g1_29dof_facts.md`` in the development tree):
- Kinematics, limits, masses and inertias: Unitree's ``g1_29dof_rev_1_0.urdf`` (BSD-3-Clause),
  figures transcribed by hand. Frames: z-up, x forward, y left; lengths [m], angles [rad],
  masses [kg], inertias [kg m^2] about the COM in the link frame.
- Motor classes (armature, peak effort, speed): Unitree motor specs as quoted by mjlab's
  ``g1_constants.py``; armature = reflected rotor inertia through the gearbox.
- Collision and visual geometry: the project's own primitives, sized from the zero-pose joint
  positions; only the foot contact spheres come from Unitree's MJCF (4 spheres, r = 5 mm, per foot).
"""

from __future__ import annotations

import math
from typing import NamedTuple

Vec3 = tuple[float, float, float]


class Motor(NamedTuple):
    """One actuator class. ``effort`` [Nm] and ``velocity`` [rad/s] are the motor's peak figures."""

    name: str
    armature: float  # reflected inertia [kg m^2]
    effort: float  # [Nm]
    velocity: float  # [rad/s]


MOTOR_7520_14 = Motor("7520-14.3", 0.010178, 88.0, 32.0)
MOTOR_7520_22 = Motor("7520-22.5", 0.025102, 139.0, 20.0)
MOTOR_5020_16 = Motor("5020-16", 0.003610, 25.0, 37.0)
MOTOR_4010_25 = Motor("4010-25", 0.004250, 5.0, 22.0)
# Ankles and waist roll/pitch: two 5020 motors through a four-bar linkage (nominal 1:1). Unitree's
# URDF lists 35 Nm for these joints, its MJCF 50 Nm (2 x 25); the URDF figure is kept on the joint.
MOTOR_2X5020 = Motor("2x5020", 2 * 0.003610, 50.0, 37.0)


class Inertial(NamedTuple):
    """Mass [kg], COM [m] in the link frame, inertia (ixx, iyy, izz, ixy, ixz, iyz) [kg m^2] at the COM."""

    mass: float
    com: Vec3
    inertia: tuple[float, float, float, float, float, float]


class Joint(NamedTuple):
    """A revolute joint: ``axis`` in the child frame, position limits [rad], URDF effort/velocity limits."""

    name: str
    axis: Vec3
    lower: float
    upper: float
    effort: float  # [Nm], URDF
    velocity: float  # [rad/s], URDF
    motor: Motor


class Geom(NamedTuple):
    """A primitive shape on a body. ``kind`` is "capsule" (``a``-``b`` segment, ``size`` = radius),
    "sphere" (centre ``a``, radius ``size``) or "box" (centre ``a``, half extents ``b``).
    ``role`` is "collision" or "visual"."""

    kind: str
    a: Vec3
    b: Vec3
    size: float
    role: str = "collision"


class Body(NamedTuple):
    """A link, attached to ``parent`` by ``joint`` (None: rigidly fixed) at ``xyz``/``rpy`` (URDF origin)."""

    name: str
    parent: str | None
    xyz: Vec3
    rpy: Vec3
    joint: Joint | None
    inertial: Inertial
    geoms: tuple[Geom, ...] = ()


class Frame(NamedTuple):
    """A massless frame rigidly attached to ``parent`` (sensors, tracked keypoints)."""

    name: str
    parent: str
    xyz: Vec3
    rpy: Vec3 = (0.0, 0.0, 0.0)


def _cap(a: Vec3, b: Vec3, r: float, role: str = "collision") -> Geom:
    return Geom("capsule", a, b, r, role)


_O: Vec3 = (0.0, 0.0, 0.0)

# Foot contact spheres on ankle_roll_link (Unitree's MJCF): heel at x = -0.05, toe at x = 0.12.
FOOT_SPHERE_RADIUS = 0.005
_FOOT_POINTS: tuple[Vec3, ...] = (
    (-0.05, 0.025, -0.03), (-0.05, -0.025, -0.03), (0.12, 0.03, -0.03), (0.12, -0.03, -0.03),
)
_FOOT_GEOMS = (
    *(Geom("sphere", p, _O, FOOT_SPHERE_RADIUS) for p in _FOOT_POINTS),
    Geom("box", (0.035, 0.0, -0.018), (0.085, 0.03, 0.012), 0.0, "visual"),
)


def _mirror(side: str) -> float:
    return 1.0 if side == "left" else -1.0


def _leg(side: str) -> tuple[Body, ...]:
    """The six leg links of one side; ``s`` = +1 left, -1 right flips y and the mirrored products."""
    s = _mirror(side)
    p = f"{side}_"
    roll_lo, roll_hi = (-0.5236, 2.9671) if s > 0 else (-2.9671, 0.5236)
    return (
        Body(p + "hip_pitch_link", "pelvis", (0.0, s * 0.064452, -0.1027), _O,
             Joint(p + "hip_pitch_joint", (0, 1, 0), -2.5307, 2.8798, 88, 32, MOTOR_7520_14),
             Inertial(1.35, (0.002741, s * 0.047791, -0.02606),
                      (0.001811, 0.0014193, 0.0012812, s * 3.68e-05, -3.44e-05, s * 0.000171))),
        Body(p + "hip_roll_link", p + "hip_pitch_link", (0.0, s * 0.052, -0.030465), (0.0, -0.1749, 0.0),
             Joint(p + "hip_roll_joint", (1, 0, 0), roll_lo, roll_hi, 139, 20, MOTOR_7520_22),
             Inertial(1.52, (0.029812, -s * 0.001045, -0.087934),
                      (0.0023773, 0.0024123, 0.0016595, -s * 3.8e-06, -0.0003908, s * 1.84e-05)),
             (_cap((0.0, 0.0, -0.02), (0.025, 0.0, -0.11), 0.055),)),
        Body(p + "hip_yaw_link", p + "hip_roll_link", (0.025001, 0.0, -0.12412), _O,
             Joint(p + "hip_yaw_joint", (0, 0, 1), -2.7576, 2.7576, 88, 32, MOTOR_7520_14),
             Inertial(1.702, (-0.057709, -s * 0.010981, -0.15078),
                      (0.0057774, 0.0076124, 0.003149, -s * 0.0005411, -0.0023948, -s * 0.0007072)),
             (_cap((-0.01, 0.0, -0.02), (-0.07, s * 0.002, -0.15), 0.055),)),
        Body(p + "knee_link", p + "hip_yaw_link", (-0.078273, s * 0.0021489, -0.17734), (0.0, 0.1749, 0.0),
             Joint(p + "knee_joint", (0, 1, 0), -0.087267, 2.8798, 139, 20, MOTOR_7520_22),
             Inertial(1.932, (0.005457, s * 0.003964, -0.12074),
                      (0.011329, 0.011277, 0.0015168, s * 4.82e-05, -s * 4.49e-05, -s * 0.0007146)),
             (_cap((0.0, 0.0, -0.03), (0.0, 0.0, -0.26), 0.045),)),
        Body(p + "ankle_pitch_link", p + "knee_link", (0.0, -s * 9.4445e-05, -0.30001), _O,
             Joint(p + "ankle_pitch_joint", (0, 1, 0), -0.87267, 0.5236, 35, 30, MOTOR_2X5020),
             Inertial(0.074, (-0.007269, 0.0, 0.011137), (8.4e-06, 1.89e-05, 1.26e-05, 0.0, -2.9e-06, 0.0))),
        Body(p + "ankle_roll_link", p + "ankle_pitch_link", (0.0, 0.0, -0.017558), _O,
             Joint(p + "ankle_roll_joint", (1, 0, 0), -0.2618, 0.2618, 35, 30, MOTOR_2X5020),
             Inertial(0.608, (0.026505, 0.0, -0.016425),
                      (0.0002231, 0.0016161, 0.0016667, s * 2e-07, 8.91e-05, -s * 1e-07)),
             _FOOT_GEOMS),
    )


_WRIST_LIM = 1.972222054
_HAND_LIM = 1.614429558


def _arm(side: str) -> tuple[Body, ...]:
    """The seven arm links and the rubber hand of one side (``s`` as in :func:`_leg`)."""
    s = _mirror(side)
    p = f"{side}_"
    roll_lo, roll_hi = (-1.5882, 2.2515) if s > 0 else (-2.2515, 1.5882)
    shoulder_y = 0.10022 if s > 0 else -0.10021  # the URDF's figures differ by 10 um between sides
    return (
        Body(p + "shoulder_pitch_link", "torso_link", (0.0039563, shoulder_y, 0.24778),
             (s * 0.27931, 5.4949e-05, -s * 0.00019159),
             Joint(p + "shoulder_pitch_joint", (0, 1, 0), -3.0892, 2.6704, 25, 37, MOTOR_5020_16),
             Inertial(0.718, (0.0, s * 0.035892, -0.011628),
                      (0.0004291, 0.000453, 0.000423, -s * 9.2e-06, 6.4e-06, s * 2.26e-05))),
        Body(p + "shoulder_roll_link", p + "shoulder_pitch_link", (0.0, s * 0.038, -0.013831),
             (-s * 0.27925, 0.0, 0.0),
             Joint(p + "shoulder_roll_joint", (1, 0, 0), roll_lo, roll_hi, 25, 37, MOTOR_5020_16),
             Inertial(0.643, (-0.000227, s * 0.00727, -0.063243),
                      (0.0006177, 0.0006912, 0.0003894, -s * 1e-06, 8.7e-06, -s * 5.3e-06)),
             (_cap((0.0, s * 0.003, -0.01), (0.0, s * 0.006, -0.1), 0.04),)),
        Body(p + "shoulder_yaw_link", p + "shoulder_roll_link", (0.0, s * 0.00624, -0.1032), _O,
             Joint(p + "shoulder_yaw_joint", (0, 0, 1), -2.618, 2.618, 25, 37, MOTOR_5020_16),
             Inertial(0.734, (0.010773, -s * 0.002949, -0.072009),
                      (0.0009988, 0.0010605, 0.0004354, s * 7.9e-06, 0.0001412, -s * 2.86e-05)),
             (_cap((0.0, 0.0, -0.01), (0.0158, 0.0, -0.08), 0.038),)),
        Body(p + "elbow_link", p + "shoulder_yaw_link", (0.015783, 0.0, -0.080518), _O,
             Joint(p + "elbow_joint", (0, 1, 0), -1.0472, 2.0944, 25, 37, MOTOR_5020_16),
             Inertial(0.6, (0.064956, s * 0.004454, -0.010062),
                      (0.0002891, 0.0004152, 0.0004197, s * 6.53e-05, 1.72e-05, -s * 5.6e-06)),
             (_cap((0.01, 0.0, -0.002), (0.1, s * 0.0019, -0.01), 0.035),)),
        Body(p + "wrist_roll_link", p + "elbow_link", (0.100, s * 0.00188791, -0.010), _O,
             Joint(p + "wrist_roll_joint", (1, 0, 0), -_WRIST_LIM, _WRIST_LIM, 25, 37, MOTOR_5020_16),
             Inertial(0.08544498, (0.01713944778, s * 0.00053759094, 0.00000048864),
                      (0.00004821544023, 0.00003722899093, 0.00005482106541,
                       -s * 0.00000424511021, 0.00000000510599, -s * 0.00000000123525))),
        Body(p + "wrist_pitch_link", p + "wrist_roll_link", (0.038, 0.0, 0.0), _O,
             Joint(p + "wrist_pitch_joint", (0, 1, 0), -_HAND_LIM, _HAND_LIM, 5, 22, MOTOR_4010_25),
             Inertial(0.48404956, (0.02299989837, -s * 0.00111685314, -0.00111658096),
                      (0.00016579646273, 0.00042954057410, 0.00042953697654,
                       -s * 0.00001231206746, 0.00001231699194, s * 0.00000081417712)),
             (_cap((0.0, 0.0, 0.0), (0.04, 0.0, 0.0), 0.03),)),
        Body(p + "wrist_yaw_link", p + "wrist_pitch_link", (0.046, 0.0, 0.0), _O,
             Joint(p + "wrist_yaw_joint", (0, 0, 1), -_HAND_LIM, _HAND_LIM, 5, 22, MOTOR_4010_25),
             Inertial(0.08457647, (0.02200381568, s * 0.00049485096, 0.00053861123),
                      (0.00004929128828, 0.00005973338134, 0.00003928083826,
                       -s * 0.00000045735494, 0.00000445867591, s * 0.00000043217198))),
        Body(p + "rubber_hand", p + "wrist_yaw_link", (0.0415, s * 0.003, 0.0), _O, None,
             Inertial(0.17, (0.05361310808, -s * 0.00295905240, 0.00215413091),
                      (0.00010099485234748, 0.00028135871571621, 0.00021894770413514,
                       s * 0.00003618590790516, -0.00000074301518642, s * 0.00000330189743286)),
             (_cap((0.0, 0.0, 0.0), (0.09, 0.0, 0.0), 0.03),)),
    )


_TINY = Inertial(0.001, _O, (1e-7, 1e-7, 1e-7, 0.0, 0.0, 0.0))

#: Every body of the G1, parents before children, in Unitree's URDF order (depth first), so that the
#: actuated joints appear in SDK ``LowCmd.motor_cmd`` order.
BODIES: tuple[Body, ...] = (
    Body("pelvis", None, _O, _O, None,
         Inertial(3.813, (0.0, 0.0, -0.07605), (0.010549, 0.0093089, 0.0079184, 0.0, 2.1e-06, 0.0)),
         (_cap((0.0, 0.08, -0.06), (0.0, -0.08, -0.06), 0.07),)),
    Body("pelvis_contour_link", "pelvis", _O, _O, None, _TINY),
    *_leg("left"),
    *_leg("right"),
    Body("waist_yaw_link", "pelvis", _O, _O,
         Joint("waist_yaw_joint", (0, 0, 1), -2.618, 2.618, 88, 32, MOTOR_7520_14),
         Inertial(0.214, (0.003494, 0.000233, 0.018034),
                  (0.00010673, 0.00010422, 0.0001625, 2.703e-06, -7.631e-06, -2.01e-07))),
    Body("waist_roll_link", "waist_yaw_link", (-0.0039635, 0.0, 0.044), _O,
         Joint("waist_roll_joint", (1, 0, 0), -0.52, 0.52, 35, 30, MOTOR_2X5020),
         Inertial(0.086, (0.0, 2.3e-05, 0.0), (7.079e-06, 6.339e-06, 8.245e-06, 0.0, 0.0, 0.0))),
    Body("torso_link", "waist_roll_link", _O, _O,
         Joint("waist_pitch_joint", (0, 1, 0), -0.52, 0.52, 35, 30, MOTOR_2X5020),
         Inertial(6.78, (0.000931, 0.000346, 0.15082),
                  (0.05905, 0.047014, 0.025652, 3.3302e-05, -0.0017715, -2.2399e-05)),
         (Geom("box", (0.0, 0.0, 0.14), (0.07, 0.1, 0.13), 0.0),)),
    Body("logo_link", "torso_link", (0.0039635, 0.0, -0.044), _O, None, _TINY),
    Body("head_link", "torso_link", (0.0039635, 0.0, -0.044), _O, None,
         Inertial(1.036, (0.005267, 0.000299, 0.449869),
                  (0.004085051, 0.004185212, 0.001807911, -2.543e-06, -6.9455e-05, -3.726e-06)),
         (Geom("sphere", (0.005, 0.0, 0.445), _O, 0.075),)),
    *_arm("left"),
    *_arm("right"),
)

#: Sensor frames of the URDF (no mass).
SENSOR_FRAMES: tuple[Frame, ...] = (
    Frame("imu_in_torso", "torso_link", (-0.03959, -0.00224, 0.14792)),
    Frame("imu_in_pelvis", "pelvis", (0.04525, 0.0, -0.08339)),
    Frame("d435_link", "torso_link", (0.0576235, 0.01753, 0.42987), (0.0, 0.8307767239493009, 0.0)),
    Frame("mid360_link", "torso_link", (0.0002835, 0.00003, 0.428434), (math.pi, 0.05112069379091391, 0.0)),
)


def _sided(name: str, body: str, xyz: Vec3) -> tuple[Frame, Frame]:
    return tuple(  # type: ignore[return-value]
        Frame(f"{side}_{name}", f"{side}_{body}", (xyz[0], _mirror(side) * xyz[1], xyz[2]))
        for side in ("left", "right")
    )


#: The tracked points of the G1 (the project's choice), named after the human joints they stand for.
#: A G1 clip's ``keypoints`` are the world positions of these frames, in this order.
KEYPOINT_FRAMES: tuple[Frame, ...] = (
    Frame("pelvis", "pelvis", _O),
    Frame("torso", "torso_link", (0.0, 0.0, 0.15)),
    Frame("head", "head_link", (0.005, 0.0, 0.445)),
    *_sided("hip", "hip_roll_link", _O),
    *_sided("knee", "knee_link", _O),
    *_sided("ankle", "ankle_roll_link", _O),
    *_sided("toe", "ankle_roll_link", (0.12, 0.0, -0.03)),
    *_sided("shoulder", "shoulder_roll_link", _O),
    *_sided("elbow", "elbow_link", _O),
    *_sided("wrist", "wrist_yaw_link", _O),
    *_sided("hand", "rubber_hand", (0.06, 0.0, 0.0)),
)

#: Keypoint names, in the order of a G1 clip's ``keypoints`` axis.
KEYPOINT_NAMES: tuple[str, ...] = tuple(f.name for f in KEYPOINT_FRAMES)

#: The 29 actuated joints in SDK order (``LowCmd.motor_cmd`` index = position here).
JOINTS: tuple[Joint, ...] = tuple(b.joint for b in BODIES if b.joint is not None)
JOINT_NAMES: tuple[str, ...] = tuple(j.name for j in JOINTS)
NUM_DOF = len(JOINTS)

#: Bodies whose soles touch the ground, (left, right): the order of a clip's ``contacts``.
FOOT_BODIES: tuple[str, str] = ("left_ankle_roll_link", "right_ankle_roll_link")
#: Contact points of each foot in its ankle_roll_link frame [m] (centres of the contact spheres).
FOOT_CONTACT_POINTS: tuple[Vec3, ...] = _FOOT_POINTS


def _per_joint(values: dict[str, float], sided: bool = True) -> tuple[float, ...]:
    """Expand ``{"hip_pitch": v, ...}`` (side-free joint names without ``_joint``) to SDK order."""
    out = []
    for name in JOINT_NAMES:
        key = name.removesuffix("_joint")
        key = key.removeprefix("left_").removeprefix("right_") if sided else key
        out.append(float(values[key]))
    return tuple(out)


#: Default standing pose [rad], SDK order: knees slightly bent, arms relaxed (mjlab's HOME keyframe).
DEFAULT_DOF_POS: tuple[float, ...] = tuple(
    v * (-1.0 if n.startswith("right_shoulder_roll") else 1.0)
    for v, n in zip(
        _per_joint({
            "hip_pitch": -0.1, "hip_roll": 0.0, "hip_yaw": 0.0, "knee": 0.3, "ankle_pitch": -0.2,
            "ankle_roll": 0.0, "waist_yaw": 0.0, "waist_roll": 0.0, "waist_pitch": 0.0,
            "shoulder_pitch": 0.2, "shoulder_roll": 0.2, "shoulder_yaw": 0.0, "elbow": 1.28,
            "wrist_roll": 0.0, "wrist_pitch": 0.0, "wrist_yaw": 0.0,
        }),
        JOINT_NAMES,
        strict=True,
    )
)
#: Pelvis height [m] with all joints at zero and the feet on the ground (Unitree's MJCF).
ZERO_POSE_PELVIS_HEIGHT = 0.793


class PDGains(NamedTuple):
    """Joint-space PD gains in SDK order: ``kp`` [Nm/rad], ``kd`` [Nm s/rad]."""

    name: str
    kp: tuple[float, ...]
    kd: tuple[float, ...]


def _armature_gains(natural_freq_hz: float = 10.0, damping_ratio: float = 2.0) -> PDGains:
    """BeyondMimic/mjlab gains: kp = armature * w^2, kd = 2 * zeta * armature * w, w = 2 pi f."""
    w = 2.0 * math.pi * natural_freq_hz
    arm = [j.motor.armature for j in JOINTS]
    return PDGains("armature", tuple(a * w * w for a in arm), tuple(2.0 * damping_ratio * a * w for a in arm))


#: The gains of BeyondMimic/mjlab derived from the motor armature (soft, they need a balancing policy). The
#: action scale is defined by them (``genmimic.policy.config.action_scale``).
ARMATURE_GAINS = _armature_gains()

#: How much stiffer :data:`TRACKING_GAINS` hold the waist's roll and pitch than :data:`ARMATURE_GAINS`.
WAIST_STIFFNESS = 2.0


def _stiffer_waist(gains: PDGains, factor: float) -> PDGains:
    """``gains`` with the waist's roll and pitch ``kp`` times ``factor`` and ``kd`` times its square root (the
    same damping ratio against the same armature)."""
    kp, kd = list(gains.kp), list(gains.kd)
    for name in ("waist_roll_joint", "waist_pitch_joint"):
        i = JOINT_NAMES.index(name)
        kp[i] *= factor
        kd[i] *= math.sqrt(factor)
    return PDGains("tracking", tuple(kp), tuple(kd))


#: The tracker's PD gains: :data:`ARMATURE_GAINS` with the waist's roll and pitch :data:`WAIST_STIFFNESS`
#: times stiffer (57.0 Nm/rad, natural frequency 14 Hz). At the armature gains (28.5 Nm/rad) the upper body
#: barely stands on the waist: its 14.9 kg sit 0.13 m above the roll axis in the default pose, m g l = 19.3
#: Nm/rad, so 9 Nm/rad is left, and the 3.3 Nm of a raised arm tips the torso ~20 deg unless the policy leads
#: the target by as much. Measured 2026-12-03: the teacher at 330 M env steps had not learnt that lead; it held
#: the waist roll 15-20 deg off the reference's on synthetic waves, the raised right hand 20-27 cm off. The
#: same teacher at twice the stiffness, not retrained (`teacher_eval --falls-only`; hands: both, about the
#: pelvis, over the clip): hands on the held-out synthetic wave 13.5 -> 8.6 cm, on the bundled demo 12.3 ->
#: 10.8 cm; falls on the 22 held-out synthetic clips and on the 21 lifted ones 1 -> 0 each (it drifted more:
#: mean world keypoint error 14.9 -> 18.1 cm); trained 9 M env steps more at them (342.6 M): hands 6.2 and 7.3
#: cm on those two sets, world error 11.1 and 11.5 cm, no fall. BeyondMimic trains at the armature gains (its
#: policies lead the waist's target); Unitree's SDK example holds the waist roll and pitch at 40 Nm/rad.
TRACKING_GAINS = _stiffer_waist(ARMATURE_GAINS, WAIST_STIFFNESS)

#: Unitree's low-level SDK example (500 Hz loop): legs 60,60,60,100,40,40, waist 60,40,40, arms 40.
UNITREE_LOWLEVEL_GAINS = PDGains(
    "unitree_lowlevel",
    _per_joint({"hip_pitch": 60, "hip_roll": 60, "hip_yaw": 60, "knee": 100, "ankle_pitch": 40,
                "ankle_roll": 40, "waist_yaw": 60, "waist_roll": 40, "waist_pitch": 40,
                "shoulder_pitch": 40, "shoulder_roll": 40, "shoulder_yaw": 40, "elbow": 40,
                "wrist_roll": 40, "wrist_pitch": 40, "wrist_yaw": 40}),
    _per_joint({"hip_pitch": 1, "hip_roll": 1, "hip_yaw": 1, "knee": 2, "ankle_pitch": 1, "ankle_roll": 1,
                "waist_yaw": 1, "waist_roll": 1, "waist_pitch": 1, "shoulder_pitch": 1, "shoulder_roll": 1,
                "shoulder_yaw": 1, "elbow": 1, "wrist_roll": 1, "wrist_pitch": 1, "wrist_yaw": 1}),
)

#: The project's stiff "hold" gains: keep a posture without a balancing controller (static balance on
#: stiff ankles needs ~ m g h = 230 Nm/rad in total, see the field notes). For holding poses, tests and
#: the simulator's start-up, not for tracking.
HOLD_GAINS = PDGains(
    "hold",
    _per_joint({"hip_pitch": 200, "hip_roll": 200, "hip_yaw": 150, "knee": 300, "ankle_pitch": 300,
                "ankle_roll": 300, "waist_yaw": 200, "waist_roll": 200, "waist_pitch": 200,
                "shoulder_pitch": 60, "shoulder_roll": 60, "shoulder_yaw": 40, "elbow": 40,
                "wrist_roll": 20, "wrist_pitch": 10, "wrist_yaw": 10}),
    _per_joint({"hip_pitch": 5, "hip_roll": 5, "hip_yaw": 4, "knee": 6, "ankle_pitch": 6, "ankle_roll": 6,
                "waist_yaw": 5, "waist_roll": 5, "waist_pitch": 5, "shoulder_pitch": 2, "shoulder_roll": 2,
                "shoulder_yaw": 1.5, "elbow": 1.5, "wrist_roll": 0.5, "wrist_pitch": 0.3, "wrist_yaw": 0.3}),
)

GAINS: dict[str, PDGains] = {g.name: g for g in (TRACKING_GAINS, ARMATURE_GAINS, UNITREE_LOWLEVEL_GAINS, HOLD_GAINS)}

#: Total mass of the rev 1.0 robot [kg] (sum of the URDF link masses).
TOTAL_MASS = 33.341142


def _mirror_tables() -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Left/right mirror of the joints across the sagittal (x-z) plane.

    A joint maps to its other-side twin; its angle keeps its sign when the axis is y (pitch) and flips
    for x (roll) and z (yaw) axes, because the reflection y -> -y reverses rotation sense.
    """
    index, sign = [], []
    for j in JOINTS:
        twin = j.name.replace("left_", "#").replace("right_", "left_").replace("#", "right_")
        index.append(JOINT_NAMES.index(twin))
        sign.append(1.0 if tuple(j.axis) == (0, 1, 0) else -1.0)
    return tuple(index), tuple(sign)


#: ``mirrored_dof[i] = MIRROR_DOF_SIGN[i] * dof[MIRROR_DOF_INDEX[i]]`` mirrors a pose left/right.
MIRROR_DOF_INDEX, MIRROR_DOF_SIGN = _mirror_tables()
#: Keypoint ``i`` of a mirrored pose is keypoint ``MIRROR_KEYPOINT_INDEX[i]`` with y negated.
MIRROR_KEYPOINT_INDEX: tuple[int, ...] = tuple(
    KEYPOINT_NAMES.index(n.replace("left_", "#").replace("right_", "left_").replace("#", "right_"))
    for n in KEYPOINT_NAMES
)
