"""The procedural motion library: every kind builds, feet planted on the ground, human joint ranges,
natural timing, determinism, and the genmimic-synth command."""

from __future__ import annotations

import io

import numpy as np
import pytest
from typer.testing import CliRunner

from genmimic.core import SmplClip, load_clip, smpl
from genmimic.lift import gait
from genmimic.lift.cli import synth_app
from genmimic.lift.limits import range_violations
from genmimic.lift.synth import KINDS, SynthError, synthesize, synthesize_detailed
from genmimic.lift.timing import minimum_jerk, sample_values

ANKLES = [smpl.JOINT_NAMES.index("left_ankle"), smpl.JOINT_NAMES.index("right_ankle")]
BALLS = [smpl.JOINT_NAMES.index("left_foot"), smpl.JOINT_NAMES.index("right_foot")]


def sole_height(joints: np.ndarray) -> np.ndarray:
    """Lowest sole point per frame and foot (T, 2) [m] for flat or tilted feet."""
    return np.minimum(joints[:, ANKLES, 2] - gait.ANKLE_HEIGHT, joints[:, BALLS, 2] - gait.BALL_HEIGHT)


@pytest.fixture(scope="module", params=[(k, s) for k in KINDS for s in (0, 7)], ids=lambda p: f"{p[0]}-{p[1]}")
def synthesis(request):
    kind, seed = request.param
    return synthesize_detailed(kind, seed=seed)


def test_every_kind_builds_a_valid_clip(synthesis):
    clip = synthesis.clip
    assert isinstance(clip, SmplClip)
    assert clip.num_frames >= 30 and clip.fps == 30.0
    joints, _ = smpl.forward_kinematics(clip.global_orient, clip.body_pose, clip.transl)
    np.testing.assert_allclose(clip.joints, joints, atol=1e-9)
    assert clip.meta["params"]["kind"] == clip.meta["source"].removeprefix("synth:")


def _kind(synthesis) -> str:
    return synthesis.clip.meta["params"]["kind"]


def test_feet_on_the_ground(synthesis):
    soles = sole_height(synthesis.clip.joints)
    planted = synthesis.planted
    airborne = ~planted.any(axis=1)
    assert np.abs(soles.min(axis=1)[~airborne]).max() < 0.005, "the lowest foot is on z = 0 while one is down"
    assert np.abs(soles[planted]).max() < 0.005, "a planted foot rests on the ground"
    if _kind(synthesis) == "jump":
        assert airborne.any() and (soles[airborne] > -0.001).all(), "a jump's flight: both feet off the ground"
    else:
        assert not airborne.any(), "there is always a foot on the ground (no flight phase)"


def test_no_foot_slide_during_stance(synthesis):
    clip = synthesis.clip
    ankles = clip.joints[:, ANKLES, :2]
    both = synthesis.planted[1:] & synthesis.planted[:-1]
    speed = np.linalg.norm(np.diff(ankles, axis=0), axis=-1) * clip.fps
    assert speed[both].max(initial=0.0) < 0.01, "planted ankles move less than 1 cm/s"
    reached = np.linalg.norm(clip.joints[:, ANKLES] - synthesis.ankle_target, axis=-1)
    assert reached.max() < 0.003, "the legs reach every ankle target"


def test_joint_angles_in_human_ranges(synthesis):
    assert range_violations(synthesis.clip.body_pose) == []


def test_motion_is_smooth(synthesis):
    """No glitches: joint speeds a person can make (< 6 m/s) and accelerations well under 200 m/s^2, but for
    the touchdown of a jump (the feet stop at once: an impact)."""
    j = synthesis.clip.joints
    fps = synthesis.clip.fps
    vel = np.linalg.norm(np.diff(j, axis=0), axis=-1) * fps
    acc = np.linalg.norm(np.diff(j, 2, axis=0), axis=-1) * fps**2
    down = synthesis.planted.any(axis=1)
    touchdown = np.flatnonzero(down[1:] & ~down[:-1]) + 1
    impact = np.zeros(len(acc), bool)
    for k in touchdown:
        impact[max(0, k - 2):k + 1] = True
    assert vel.max() < 6.0 and acc[~impact].max() < 200.0


def test_jump_flies_a_ballistic_arc_and_lands_where_planned():
    from genmimic.lift.gait import GRAVITY, Jump, LowerPlan, feet_apart, sample_lower_body

    jump = Jump(1.0, 1.36, feet_apart(0.3, 0.0, 0.2), crouch=0.15, landing=0.1)
    first, bottom, up, down, absorbed, stood = jump.phases
    assert first < bottom < up == 1.0 < down == 1.36 < absorbed < stood
    fps = 200.0
    t = np.arange(0.0, 3.5, 1.0 / fps)
    lower = sample_lower_body(LowerPlan(jumps=(jump,)), t)
    z = lower.pelvis[:, 2]
    flight = (t > up + 0.01) & (t < down - 0.01)
    acc = np.diff(z, 2) * fps**2
    np.testing.assert_allclose(acc[flight[1:-1]], -GRAVITY, atol=0.05)
    assert abs(z[flight].max() - z[np.searchsorted(t, up)] - jump.apex) < 0.005
    assert jump.apex == pytest.approx(GRAVITY * 0.36**2 / 8)
    assert (~lower.planted[flight]).all() and lower.planted[(t < up) | (t >= down)].all()
    assert z[(t > bottom - 0.01) & (t < bottom + 0.01)].min() == pytest.approx(z[0] - 0.15, abs=0.01)
    np.testing.assert_allclose(lower.ankle_target[-1, :, :2], [[jump.target[s].x, jump.target[s].y]
                                                              for s in ("left", "right")], atol=1e-9)
    np.testing.assert_allclose(lower.heading[-1], 0.2, atol=1e-3)
    np.testing.assert_allclose(z[-1], z[0], atol=1e-6)  # standing again


def test_jump_clip_leaves_the_ground_and_moves_on():
    clip = synthesize("jump", seed=3, duration=8.0, fps=50.0)
    soles = sole_height(clip.joints).min(axis=1)
    assert soles.max() > 0.08, "the feet leave the ground"
    assert 1 <= np.count_nonzero(np.diff((soles > 0.02).astype(int)) == 1) <= 3, "one to three jumps"


def test_walk_moves_forward_in_a_line():
    clip = synthesize("walk", seed=2, duration=6.0)
    pelvis = clip.joints[:, 0]
    assert pelvis[-1, 0] - pelvis[0, 0] > 2.0
    assert np.abs(pelvis[:, 1]).max() < 0.1
    heading = clip.joints[:, smpl.JOINT_NAMES.index("left_hip")] - clip.joints[:, smpl.JOINT_NAMES.index("right_hip")]
    assert np.all(heading[:, 1] > 0.1), "facing +x (left hip on +y) the whole way"


def test_turn_changes_heading():
    clip = synthesize("turn", seed=0)
    hips = clip.joints[:, [1, 2]]
    lateral = hips[:, 0] - hips[:, 1]
    start, end = np.arctan2(lateral[0, 1], lateral[0, 0]), np.arctan2(lateral[-1, 1], lateral[-1, 0])
    assert abs(np.angle(np.exp(1j * (end - start)))) > np.pi / 2 - 0.1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_turn_around_turns_back_twice_as_fast_as_a_turn(seed):
    """turn_around: 150-200 deg (the hips' heading) within 3.3 s, settling included, peaking over 120 deg/s
    (seeds 0-5: 135-223; turn's 65-80 deg/s), in place."""
    def heading(kind):
        clip = synthesize(kind, seed=seed)
        lateral = clip.joints[:, 1] - clip.joints[:, 2]  # left hip - right hip
        yaw = np.unwrap(np.arctan2(lateral[:, 1], lateral[:, 0]))
        return clip, yaw, np.abs(np.gradient(yaw, 1.0 / clip.fps))

    clip, yaw, rate = heading("turn_around")
    turned = np.flatnonzero(np.abs(yaw - yaw[0]) > np.radians(10.0))
    assert np.radians(140.0) < abs(yaw[-1] - yaw[0]) < np.radians(210.0)
    assert (turned[-1] - turned[0]) / clip.fps < 3.3 and np.degrees(rate.max()) > 120.0
    assert np.linalg.norm(clip.joints[-1, 0, :2] - clip.joints[0, 0, :2]) < 0.25
    assert np.degrees(heading("turn")[2].max()) < 0.7 * np.degrees(rate.max())


def test_wave_raises_the_hand_above_the_shoulder():
    clip = synthesize("wave", seed=0)
    hands = clip.joints[:, [22, 23], 2]
    shoulders = clip.joints[:, [16, 17], 2]
    assert (hands - shoulders).max() > 0.2


def test_velocity_profile_is_bell_shaped():
    s = minimum_jerk(np.linspace(0, 1, 101))
    v = np.diff(s)
    assert s[0] == 0 and s[-1] == 1 and abs(np.argmax(v) - 50) <= 1
    assert v[0] < 1e-4 and v[-1] < 1e-4
    np.testing.assert_allclose(sample_values([0.0, 2.0], [[0.0], [4.0]], [0.0, 1.0, 2.0, 3.0])[:, 0], [0, 2, 4, 4])


def test_deterministic_and_seed_dependent():
    a = synthesize("random", seed=5, duration=3.0)
    b = synthesize("random", seed=5, duration=3.0)
    c = synthesize("random", seed=6, duration=3.0)
    np.testing.assert_array_equal(a.joints, b.joints)
    assert a.joints.shape != c.joints.shape or not np.allclose(a.joints, c.joints)


@pytest.mark.parametrize("kind", ["wave", "walk", "squat", "composition"])
@pytest.mark.parametrize("duration", [2.0, 9.0])
def test_duration_and_fps_are_honoured(kind, duration):
    clip = synthesize(kind, seed=1, duration=duration, fps=50.0)
    assert clip.num_frames == round(duration * 50) + 1
    assert abs(clip.duration - duration) < 1e-9


def test_bad_arguments_name_the_problem():
    with pytest.raises(SynthError, match="unknown motion kind 'moonwalk'.*wave"):
        synthesize("moonwalk")
    with pytest.raises(SynthError, match="duration"):
        synthesize("wave", duration=-1.0)
    with pytest.raises(SynthError, match="fps"):
        synthesize("wave", fps=0.0)


def test_cli_round_trip(tmp_path):
    out = tmp_path / "wave.npz"
    result = CliRunner().invoke(synth_app, ["wave", "-o", str(out), "--seed", "3", "--duration", "3", "--fps", "25"])
    assert result.exit_code == 0, result.output
    clip = load_clip(out, SmplClip)
    np.testing.assert_allclose(clip.joints, synthesize("wave", seed=3, duration=3.0, fps=25.0).joints)


def test_cli_writes_to_stdout_and_lists_kinds():
    runner = CliRunner()
    result = runner.invoke(synth_app, ["squat", "-o", "-"])
    assert result.exit_code == 0
    with np.load(io.BytesIO(result.stdout_bytes)) as npz:
        assert str(npz["format"]) == "genmimic.smpl/1"
    assert result.stderr.startswith("genmimic-synth: squat seed 0: ") and result.stderr.rstrip().endswith("-> stdout")
    listed = runner.invoke(synth_app, ["--list"])
    assert listed.exit_code == 0 and all(k in listed.output for k in KINDS)
    assert runner.invoke(synth_app, ["--version"]).output.startswith("genmimic-lift")
    quiet = runner.invoke(synth_app, ["squat", "-o", "-", "-q"])  # -q as genmimic-lift and genmimic-retarget
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout_bytes == result.stdout_bytes


def test_cli_bad_kind_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "x.npz"
    result = CliRunner().invoke(synth_app, ["moonwalk", "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "unknown motion kind" in result.output
    assert not out.exists()


#: The default body's foot around its ankle [m]: heel 5 cm behind, toes 15 cm ahead, 4.5 cm to either
#: side of the ankle-to-ball line (a foot breadth of about 0.055 of stature, Drillis and Contini 1966).
FOOT_BEHIND, FOOT_AHEAD, FOOT_HALF_BREADTH = 0.05, 0.15, 0.045


def zmp_in_stance_foot(synthesis) -> tuple[np.ndarray, np.ndarray]:
    """(along, outward) [m] of the clip's ZMP (segment masses, :func:`gait.multibody_zmp`) from the
    stance ankle, in the stance foot's frame, over the single-support frames."""
    clip = synthesis.clip
    t = np.arange(clip.num_frames) / clip.fps
    zmp = gait.multibody_zmp(clip.joints, t)
    along, outward = [], []
    for k, sign in ((0, 1.0), (1, -1.0)):
        frames = synthesis.planted[:, k] & ~synthesis.planted[:, 1 - k]
        ankle = clip.joints[frames, ANKLES[k], :2]
        axis = clip.joints[frames, BALLS[k], :2] - ankle
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        rel = zmp[frames] - ankle
        along.append(np.sum(rel * axis, -1))
        outward.append(sign * (rel[:, 1] * axis[:, 0] - rel[:, 0] * axis[:, 1]))
    return np.concatenate(along), np.concatenate(outward)


def test_zmp_stays_in_the_stance_foot(synthesis):
    """Balance: in single support the ZMP the motion needs (from the whole body's centre of mass) is
    under the stance foot, so a body could do the motion without falling over. (The pelvis of commit
    c7653ce, midway between the feet with a little sway, put it up to 15 cm inside of the stance foot
    and 0.3 to 0.9 m ahead of or behind it on walk and step, seed 0.)"""
    along, outward = zmp_in_stance_foot(synthesis)
    assert along.size == 0 or (along.min() > -FOOT_BEHIND and along.max() < FOOT_AHEAD)
    assert outward.size == 0 or np.abs(outward).max() < FOOT_HALF_BREADTH


@pytest.mark.parametrize("seed", [0, 3])
def test_walk_sways_like_a_person(seed):
    """Side-to-side excursion of the centre of mass in steady walking: 3 to 9 cm peak to peak (about 4 cm
    at brisk and 7 cm at slow speeds, Orendurff et al. 2004, J. Rehabil. Res. Dev. 41(6))."""
    clip = synthesize("walk_speed", seed=seed)
    com = gait.body_com(clip.joints)
    middle = com[len(com) // 3: 2 * len(com) // 3, 1]
    assert 0.03 < np.ptp(middle) < 0.09


def test_lipm_com_known_answer():
    """A ZMP swaying as A cos(w t) gives the pendulum's centre of mass A cos(w t) / (1 + w^2 z_c / g) in
    the steady state (Kajita et al. 2003), and the ZMP of the result is the reference."""
    fps, w, amplitude = 100.0, 2 * np.pi / 1.1, 0.1
    t = np.arange(int(12 * fps)) / fps
    zmp = np.column_stack([amplitude * np.cos(w * t), np.zeros_like(t)])
    com = gait.lipm_com(zmp, np.ones_like(t), t)
    middle = slice(len(t) // 3, 2 * len(t) // 3)
    expected = zmp[middle, 0] / (1.0 + w * w * gait.COM_HEIGHT / gait.GRAVITY)
    np.testing.assert_allclose(com[middle, 0], expected, atol=1e-3)
    np.testing.assert_allclose(gait.lipm_zmp(com, t)[middle], zmp[middle], atol=1e-3)
    np.testing.assert_allclose(com[:2], zmp[[0, 0]], atol=1e-4)  # starts at rest over the reference


def test_lipm_com_holds_still_over_a_still_zmp():
    t = np.arange(60) / 30.0
    zmp = np.tile([0.3, -0.1], (60, 1))
    np.testing.assert_allclose(gait.lipm_com(zmp, np.ones(60), t), zmp, atol=1e-9)


def test_multibody_zmp_of_a_sliding_body_is_the_pendulum_zmp():
    """A rigid body translating horizontally at constant height: the multibody ZMP is the LIPM formula
    with the centre of mass's own height; standing still, it is under the centre of mass."""
    rest = synthesize("stand", seed=0).joints[0]
    t = np.arange(90) / 30.0
    x = 0.2 * np.sin(2 * np.pi * t / 1.5)
    joints = rest[None] + np.stack([x, 0.5 * x, np.zeros_like(x)], -1)[:, None, :]
    com = gait.body_com(joints)
    np.testing.assert_allclose(gait.multibody_zmp(joints, t), gait.lipm_zmp(com[:, :2], t, com_height=com[0, 2]),
                               atol=1e-9)
    still = np.repeat(rest[None], 10, 0)
    np.testing.assert_allclose(gait.multibody_zmp(still, t[:10]), gait.body_com(still)[:, :2], atol=1e-12)


def test_body_com_segments_sum_to_the_whole_body():
    assert sum(m for _, _, m, _ in gait._SEGMENTS) == pytest.approx(1.0)
    rest = synthesize("stand", seed=0).joints[0]
    com = gait.body_com(rest)
    assert rest[0, 2] - 0.1 < com[2] < rest[smpl.JOINT_NAMES.index("spine2"), 2]
    assert abs(com[1] - rest[0, 1]) < 0.01, "left-right symmetric body: the COM is on the midline"


def test_walk_is_deterministic():
    a = synthesize_detailed("walk_turn", seed=11)
    b = synthesize_detailed("walk_turn", seed=11)
    np.testing.assert_array_equal(a.clip.joints, b.clip.joints)
    np.testing.assert_array_equal(a.planted, b.planted)


def test_fit_distance_keeps_a_walking_figure_in_front_of_and_in_view_of_the_camera():
    """A static render camera moved back just enough: the pelvis's whole path at least 3 m in front of it and,
    with 0.5 m either side, inside the horizontal field of view (the tightest frame exactly on a bound); a
    figure that stays in place, or a following camera, leaves the setup as it was."""
    from genmimic.lift.figure import RenderSetup, fit_distance

    setup = RenderSetup(width=360, height=480, distance=4.2)
    assert fit_distance(synthesize("stand", seed=0, duration=3.0), setup) == setup
    walk = synthesize("walk", seed=4000, duration=8.0, fps=25.0)
    assert fit_distance(walk, setup._replace(follow=True)) == setup._replace(follow=True)
    fitted = fit_distance(walk, setup)
    pelvis = walk.joints[:, 0, :2]
    assert pelvis[:, 0].max() > 4.0 and fitted.distance > 7.0  # 4.8 m forward: it would walk into the camera
    ahead = fitted.distance - pelvis[:, 0]
    half_width = np.tan(np.radians(setup.fovy) / 2.0) * setup.width / setup.height
    slack = np.minimum(ahead - 3.0, ahead * half_width - np.abs(pelvis[:, 1]) - 0.5)
    assert slack.min() == pytest.approx(0.0, abs=1e-9)
