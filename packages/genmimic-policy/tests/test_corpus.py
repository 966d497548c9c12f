"""The training corpus the project makes itself: arm-pose variety (``corpus --arm-variety``), and corrupted
goal clips paired with their motions (a corpus folder's ``goals/``)."""

import dataclasses

import numpy as np
import pytest
from typer.testing import CliRunner

from genmimic.core import g1_constants as g1
from genmimic.core.clips import load_clip, save_clip
from genmimic.core.files import current_umask
from genmimic.core.g1_kinematics import keypoint_positions
from genmimic.core.runtime.reference import reference_from_clip
from genmimic.policy.cli import app
from genmimic.policy.corpus import ARM_OFFSET_RANGE, GOALS_DIR, joint_space_motion, vary_arm_pose
from genmimic.policy.errors import PolicyError
from genmimic.policy.train import load_bank

ARM = [i for i, n in enumerate(g1.JOINT_NAMES) if any(p in n for p in ("shoulder", "elbow", "wrist"))]
REST = [i for i in range(g1.NUM_DOF) if i not in ARM]
LOW = np.array([j.lower for j in g1.JOINTS])
HIGH = np.array([j.upper for j in g1.JOINTS])


@pytest.fixture(scope="module")
def squat():
    return joint_space_motion("squat", 3, duration=2.0)


def test_only_the_arms_change_and_the_keypoints_follow_the_joints(squat):
    varied = vary_arm_pose(squat, 11)
    np.testing.assert_array_equal(varied.root_pos, squat.root_pos)
    np.testing.assert_array_equal(varied.root_quat, squat.root_quat)
    np.testing.assert_array_equal(varied.dof_pos[:, REST], squat.dof_pos[:, REST])
    np.testing.assert_array_equal(varied.contacts, squat.contacts)  # legs unchanged: feet where they were
    assert np.abs(varied.dof_pos[0, ARM] - squat.dof_pos[0, ARM]).max() > 0.2  # from the first frame
    np.testing.assert_allclose(varied.keypoints,
                               keypoint_positions(varied.root_pos, varied.root_quat, varied.dof_pos), atol=1e-9)
    assert np.all(varied.dof_pos >= LOW) and np.all(varied.dof_pos <= HIGH)
    reference_from_clip(varied, source="varied")  # training accepts it (keypoints where the joints put them)


def test_the_offsets_are_the_seeds_and_recorded(squat):
    a, b, c = vary_arm_pose(squat, 5), vary_arm_pose(squat, 5), vary_arm_pose(squat, 6)
    np.testing.assert_array_equal(a.dof_pos, b.dof_pos)
    assert not np.allclose(a.dof_pos, c.dof_pos)
    offsets = a.meta["arm_variety"]["offsets_rad"]
    assert a.meta["arm_variety"]["seed"] == 5 and set(offsets) == {
        f"{side}_{j}" for side in ("left", "right") for j in ARM_OFFSET_RANGE}
    i = g1.JOINT_NAMES.index("left_shoulder_yaw_joint")
    sway = a.dof_pos[:, i] - squat.dof_pos[:, i] - offsets["left_shoulder_yaw"]
    inside = (a.dof_pos[:, i] > LOW[i] + 0.051) & (a.dof_pos[:, i] < HIGH[i] - 0.051)
    assert np.abs(sway[inside]).max() <= 0.15 + 1e-3  # constant offset plus at most the sway


def test_the_starts_cover_the_turned_arms_of_lifted_clips(squat):
    """Across seeds the first frame's shoulder yaw reaches both ways past the bundled demo's (0.5 and
    -0.88 rad), and elbows bend as far as the CMU jump's (-0.92 rad) and straighten (pi/2)."""
    firsts = np.stack([vary_arm_pose(squat, s).dof_pos[0] for s in range(60)])
    for side in ("left", "right"):
        yaw = firsts[:, g1.JOINT_NAMES.index(f"{side}_shoulder_yaw_joint")]
        assert yaw.min() < -0.88 and yaw.max() > 0.88
    elbow = firsts[:, g1.JOINT_NAMES.index("left_elbow_joint")]
    assert elbow.min() < -0.92 and elbow.max() > 1.4


def test_corpus_cli_writes_varied_clips(tmp_path):
    r = CliRunner().invoke(app, ["corpus", str(tmp_path / "c"), "--count", "2", "--duration", "1",
                                 "--source", "joints", "--arm-variety"])
    assert r.exit_code == 0, r.output
    clips = [load_clip(p) for p in sorted((tmp_path / "c").glob("*.npz"))]
    assert len(clips) == 2 and all(c.meta["arm_variety"]["seed"] == i for i, c in enumerate(clips))


def test_corpus_cli_makes_only_the_kinds_named(tmp_path):
    r = CliRunner().invoke(app, ["corpus", str(tmp_path / "c"), "--count", "3", "--duration", "1",
                                 "--source", "joints", "--kinds", "squat, twist"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["0000_squat.npz", "0001_twist.npz",
                                                                 "0002_squat.npz"]


@pytest.mark.parametrize(("args", "message"), [
    (["--count", "0"], "--count must be at least 1, got 0"),
    (["--seed", "-5"], "--seed must be 0 or more, got -5"),
    (["--duration", "-2"], "--duration must be between 0.5 and 600 s, got -2"),
    (["--duration", "0.2"], "--duration must be between 0.5 and 600 s, got 0.2"),
    (["--source", "foo"], "--source 'foo' is not one of auto, synth, joints"),
    (["--kinds", "wave,moonwalk"], "--kinds: moonwalk not made by the joints source; fix: choose from wave,"),
])
def test_corpus_cli_refuses_bad_options_and_writes_nothing(tmp_path, args, message):
    r = CliRunner().invoke(app, ["corpus", str(tmp_path / "c"), "--source", "joints", *args])
    assert r.exit_code == 1 and message in r.output, r.output
    assert list(tmp_path.iterdir()) == []


def test_corpus_cli_refuses_a_file_or_a_folder_with_clips(tmp_path):
    (tmp_path / "afile").write_text("x")
    r = CliRunner().invoke(app, ["corpus", str(tmp_path / "afile"), "--count", "1", "--source", "joints"])
    assert r.exit_code == 1 and "is a file; fix: name a new folder" in r.output, r.output
    first = ["corpus", str(tmp_path / "c"), "--count", "1", "--duration", "1", "--source", "joints"]
    assert CliRunner().invoke(app, first).exit_code == 0
    before = (tmp_path / "c" / "0000_wave.npz").read_bytes()
    r = CliRunner().invoke(app, [*first[:3], "2", *first[4:]])
    assert r.exit_code == 1 and "the folder is not empty" in r.output, r.output
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["0000_wave.npz"]
    assert (tmp_path / "c" / "0000_wave.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "c"]  # no temporary folder left
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o777 & ~current_umask()  # not mkdtemp's 0700
    r = CliRunner().invoke(app, ["corpus", str(tmp_path / "afile" / "sub"), "--count", "1", "--source", "joints"])
    assert r.exit_code == 1 and "afile is a file, not a folder" in r.output, r.output


# ---------------------------------------------------------------- goal pairs (corrupted goals for the student)


def _moved(clip, dx):
    """The same motion ``dx`` [m] further along x (root and keypoints: still consistent with its joints)."""
    shift = np.array([dx, 0.0, 0.0])
    return dataclasses.replace(clip, root_pos=clip.root_pos + shift, keypoints=clip.keypoints + shift)


@pytest.fixture()
def paired_dir(tmp_path, squat):
    """A corpus folder of two clips, the first paired with another motion of its length, moved 1 m."""
    wave = joint_space_motion("wave", 4, duration=2.0)
    save_clip(squat, tmp_path / "a_squat.npz")
    save_clip(wave, tmp_path / "b_wave.npz")
    (tmp_path / GOALS_DIR).mkdir()
    save_clip(_moved(joint_space_motion("arms", 5, duration=2.0), 1.0), tmp_path / GOALS_DIR / "a_squat.npz")
    return tmp_path


def test_a_paired_clip_gives_the_student_its_corrupted_keypoints_about_the_clean_root(paired_dir, squat):
    """Known answer: the goal motion's keypoints relative to its own root, placed on the clean root (the 1 m
    move cancels); an unpaired clip's goals are its own keypoints; everything else is the clean motion."""
    bank = load_bank(paired_dir, 0.02)
    clean = reference_from_clip(squat, 0.02)
    goal = reference_from_clip(joint_space_motion("arms", 5, duration=2.0), 0.02)
    rows = slice(0, int(bank.clip_len[0]))
    np.testing.assert_allclose(bank.keypoints[rows], clean.keypoints, atol=1e-9)
    np.testing.assert_allclose(bank.goal_keypoints[rows],
                               goal.keypoints - goal.root_pos[:, None] + clean.root_pos[:, None], atol=1e-6)
    assert np.abs(bank.goal_keypoints[rows] - bank.keypoints[rows]).max() > 0.05
    other = slice(int(bank.clip_start[1]), None)
    np.testing.assert_array_equal(bank.goal_keypoints[other], bank.keypoints[other])
    np.testing.assert_array_equal(load_bank(paired_dir / "b_wave.npz", 0.02).goal_keypoints,
                                  bank.keypoints[other])


def test_a_goal_clip_without_its_motion_or_of_another_length_is_refused(paired_dir):
    save_clip(joint_space_motion("arms", 6, duration=3.0), paired_dir / GOALS_DIR / "b_wave.npz")
    with pytest.raises(PolicyError, match=r"goals/b_wave\.npz: 151 frames .* its clean motion 101; fix: pair"):
        load_bank(paired_dir, 0.02)
    (paired_dir / "b_wave.npz").unlink()
    with pytest.raises(PolicyError, match=r"goals/b_wave\.npz: a goal clip without its clean motion .*; fix:"):
        load_bank(paired_dir, 0.02)
