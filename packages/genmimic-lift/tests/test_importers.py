"""Importers: BVH (a file the test writes from known joint positions, and CMU's when present), AMASS-style
npz, GVHMR results, and their error paths; the genmimic-lift command on each."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from genmimic.core import SmplClip, load_clip, smpl
from genmimic.core.testing import write_tiny_smpl_model
from genmimic.lift import bvh
from genmimic.lift.amass import import_amass
from genmimic.lift.cli import lift_app
from genmimic.lift.errors import LiftError
from genmimic.lift.gvhmr import GVHMR_TO_WORLD, import_gvhmr
from genmimic.lift.importers import lift_any
from genmimic.lift.limits import range_violations
from genmimic.lift.retarget_joints import sole_heights
from genmimic.lift.testing import write_bvh


def test_bvh_written_from_known_positions_imports_to_them(tmp_path, walk_clip):
    path = write_bvh(tmp_path / "walk.bvh", walk_clip)
    motion = bvh.parse_bvh(path.read_text())
    assert len(motion.names) == 24 and motion.frames.shape == (walk_clip.num_frames, 6 + 23 * 3)
    # the parser's forward kinematics reproduces the known positions exactly
    pos = bvh.bvh_positions(motion) * 0.01 @ bvh.BVH_TO_WORLD.T
    k = [motion.names.index(n) for n in ("LeftForeArm", "RightFoot", "Head")]
    np.testing.assert_allclose(pos[:, k], walk_clip.joints[:, [18, 8, 15]], atol=1e-4)
    clip = bvh.import_bvh(path)
    assert clip.meta["params"]["unit_m"] == 0.01 and abs(clip.meta["body_scale"] - 1.0) < 0.01
    mapped = [smpl.JOINT_NAMES.index(n) for n in clip.meta["params"]["mapped"]]
    err = np.linalg.norm(clip.joints[:, mapped] - walk_clip.joints[:, mapped], axis=-1)
    assert err.mean() < 0.005 and err.max() < 0.03, f"mean {err.mean():.4f} max {err.max():.4f} m"
    assert clip.fps == pytest.approx(30.0, rel=1e-6)


def test_bvh_units_are_guessed(tmp_path, walk_clip):
    short = walk_clip.replace(**{k: getattr(walk_clip, k)[:10] for k in
                                 ("global_orient", "body_pose", "transl", "joints", "confidence")})
    for unit in (1.0, 0.001, 0.0254):
        clip = bvh.import_bvh(write_bvh(tmp_path / f"u{unit}.bvh", short, unit=unit))
        assert clip.meta["params"]["unit_m"] == unit
        assert abs(clip.joints[:, 15, 2].max() - walk_clip.joints[:10, 15, 2].max()) < 0.02


def _with_t_pose_first(clip: SmplClip, count: int = 1) -> SmplClip:
    """``clip`` with ``count`` T-pose frames (body pose zero, the first frame's root) put before it."""
    def lead(a):
        first = np.zeros_like(a[:1]) if a is clip.body_pose else a[:1]
        return np.concatenate([np.repeat(first, count, axis=0), a])

    return clip.replace(**{k: lead(getattr(clip, k)) for k in
                           ("global_orient", "body_pose", "transl", "joints", "confidence")})


@pytest.mark.parametrize("count", [1, 2])
def test_a_t_pose_the_capture_starts_with_is_dropped_and_said(tmp_path, walk_clip, count):
    """CMU's BVH files start with a T-pose; imported as is, the clip starts with the arms flying down at
    tens of m/s. The import drops it, says so in its summary line, and is the import of the file without it."""
    from genmimic.lift.importers import import_summary

    plain = bvh.import_bvh(write_bvh(tmp_path / "walk.bvh", walk_clip))
    clip = bvh.import_bvh(write_bvh(tmp_path / "tposed.bvh", _with_t_pose_first(walk_clip, count)))
    assert clip.num_frames == walk_clip.num_frames and clip.meta["params"]["calibration_frames_dropped"] == count
    np.testing.assert_allclose(clip.joints, plain.joints, atol=1e-6)
    first = "frame 0" if count == 1 else "frames 0-1"
    line = import_summary("tposed.bvh", clip)
    assert f" fps, {walk_clip.num_frames + count} frames; {first} dropped (a calibration pose: joints leave it " in line
    assert line.endswith(f" m/s), {walk_clip.num_frames} kept")
    assert plain.meta["params"]["calibration_frames_dropped"] == 0
    assert "dropped" not in import_summary("walk.bvh", plain)


def test_calibration_frames_known_answers():
    """A jump out of the first frames counts; a motion that starts fast and stays fast does not."""
    t = np.arange(60) / 30.0
    smooth = np.stack([np.stack([np.sin(t + j), np.cos(t), 0.01 * j * t], -1) for j in range(5)], 1)  # (60, 5, 3)
    assert bvh.calibration_frames(smooth, 30.0) == (0, 0.0)
    jumped = smooth.copy()
    jumped[:2] += 0.6  # two frames 0.6 m off, then the motion
    count, speed = bvh.calibration_frames(jumped, 30.0)
    assert count == 2 and speed > 15.0
    fast = smooth * 10.0  # 10 m/s from the first frame on, continuously
    assert bvh.calibration_frames(fast, 30.0).count == 0
    assert bvh.calibration_frames(jumped[:9], 30.0).count == 0  # too short to tell


def test_cmu_bvh(shared_data):
    clip = bvh.import_bvh(shared_data / "motions" / "cmu_01_01_forward_jumps.bvh")
    assert clip.meta["params"]["unit_m"] == bvh.CMU_UNIT and clip.fps == pytest.approx(120.0, rel=1e-3)
    assert clip.num_frames == 2751 and clip.meta["params"]["calibration_frames_dropped"] == 1  # frame 0: T-pose
    speed = np.linalg.norm(np.diff(clip.joints[:30], axis=0), axis=-1).max() * clip.fps
    assert speed < 3.0, f"a joint at {speed:.1f} m/s in the first 0.25 s: the T-pose is still there"
    assert clip.meta["fit_rms_error_m"] < 0.02
    head = clip.joints[:, 15, 2]
    # subject 01 stands about 1.7 m; the file's own Head joint (where the clip puts SMPL's head) is at the skull's
    # base, 1.42 m up standing, and the jumps crouch
    assert 1.3 < np.median(head) < 1.8
    soles = sole_heights(clip.joints, clip.meta["body_scale"])
    assert abs(np.percentile(soles, 10)) < 1e-3 and soles.min() > -0.05
    assert clip.joints[-1, 0, 0] - clip.joints[0, 0, 0] > 2.0, "forward jumps travel along +x"
    assert len(range_violations(clip.body_pose)) <= 1  # the mocap's own extremes (neck) at most


HEAD6 = ("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n"
         " CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation\n")


@pytest.mark.parametrize(("text", "problem"), [
    ("", "the file is empty"),
    ("\n \n", "the file is empty"),
    ("ROOT Hips\n", "not a BVH file"),
    (HEAD6, "without a MOTION section .*fix: re-export"),
    ("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Zrotation Yrotation Wrotation\n}\nMOTION\n", "CHANNELS"),
    ("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Zrotation Yrotation Xrotation\n}\nMOTION\nFrames: 5\n"
     "Frame Time: 0.033\n0 0 0\n0 0 0\n", "declares 5 frames but holds 2"),
    ("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Zrotation Yrotation Xrotation\n}\nMOTION\nFrames: 2\n"
     "Frame Time: 0.033\n0 0 0\n0 x 0\n", "a frame value is not a number"),
    ("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Zrotation Yrotation Xrotation\n}\nMOTION\nFrames: 2\n"
     "Frame Time: 0.033\n0 0 0\n0 0 0\n", "cannot map the skeleton"),
])
def test_bad_bvh_names_file_and_problem(tmp_path, text, problem):
    path = tmp_path / "bad.bvh"
    path.write_text(text)
    with pytest.raises(LiftError, match=problem) as info:
        bvh.import_bvh(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def _amass_arrays(clip: SmplClip, layout: int) -> dict[str, np.ndarray]:
    T = clip.num_frames
    poses = np.zeros((T, layout))
    n = 23 if layout == 72 else 21
    poses[:, :3] = clip.global_orient
    poses[:, 3:3 + 3 * n] = clip.body_pose[:, :n].reshape(T, -1)
    return {"poses": poses, "trans": clip.transl, "betas": np.zeros(16), "mocap_framerate": np.array(clip.fps),
            "gender": np.array("neutral")}


@pytest.mark.parametrize("layout", [72, 156])
def test_amass_import_keeps_the_motion(tmp_path, walk_clip, layout):
    path = tmp_path / "amass.npz"
    np.savez(path, **_amass_arrays(walk_clip, layout))
    clip = import_amass(path)
    body = list(range(22))  # SMPL-H has no SMPL hand joints (22, 23)
    np.testing.assert_allclose(clip.joints[:, body], walk_clip.joints[:, body], atol=1e-6)
    assert clip.fps == walk_clip.fps and clip.meta["params"]["layout"] == f"poses{layout}"


def test_amass_is_put_on_the_ground(tmp_path, walk_clip):
    arrays = _amass_arrays(walk_clip, 156)
    arrays["trans"] = arrays["trans"] + [0.0, 0.0, 0.25]
    np.savez(tmp_path / "high.npz", **arrays)
    clip = import_amass(tmp_path / "high.npz")
    np.testing.assert_allclose(clip.joints, walk_clip.joints, atol=1e-6)


def test_amass_with_a_body_model(tmp_path, walk_clip):
    model = write_tiny_smpl_model(tmp_path / "SMPL_NEUTRAL.pkl")
    arrays = _amass_arrays(walk_clip, 72)
    arrays["betas"] = np.array([1.0] + [0.0] * 9)  # the tiny model is 10 % larger for beta0 = 1
    np.savez(tmp_path / "a.npz", **arrays)
    clip = import_amass(tmp_path / "a.npz", body_model=model)
    assert clip.meta["skeleton"] == "body_model" and clip.meta["body_scale"] == pytest.approx(1.1, rel=1e-3)
    leg = np.linalg.norm(clip.joints[:, 4] - clip.joints[:, 1], axis=-1)
    np.testing.assert_allclose(leg, 1.1 * np.linalg.norm(smpl.DEFAULT_REST_JOINTS[4] - smpl.DEFAULT_REST_JOINTS[1]),
                               rtol=1e-4)
    assert clip.betas[0] == 1.0


def test_bad_amass(tmp_path):
    np.savez(tmp_path / "x.npz", foo=np.zeros(3))
    with pytest.raises(LiftError, match="missing 'poses', 'trans'"):
        import_amass(tmp_path / "x.npz")
    np.savez(tmp_path / "y.npz", poses=np.zeros((5, 10)), trans=np.zeros((5, 3)), mocap_framerate=30.0)
    with pytest.raises(LiftError, match="poses: expected"):
        import_amass(tmp_path / "y.npz")
    (tmp_path / "z.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(LiftError, match="z.npz"):
        import_amass(tmp_path / "z.npz")


def test_a_genmimic_clip_given_to_lift_is_sent_to_the_next_stage(tmp_path, walk_clip):
    from genmimic.core import save_clip
    from genmimic.core.testing import waving_g1_clip

    save_clip(walk_clip, tmp_path / "human.npz")
    save_clip(waving_g1_clip(10), tmp_path / "robot.npz")
    result = CliRunner().invoke(lift_app, [str(tmp_path / "human.npz"), "-o", str(tmp_path / "out.npz")])
    assert result.exit_code == 1 and not (tmp_path / "out.npz").exists()
    assert "human.npz: a genmimic.smpl/1 clip, already made by a genmimic command: nothing to lift; " \
           "fix: give it to genmimic-retarget" in result.output
    with pytest.raises(LiftError, match="robot.npz: a genmimic.g1/1 clip.*give it to genmimic-policy track"):
        import_amass(tmp_path / "robot.npz")
    from genmimic.core.testing import tracked_trajectory

    save_clip(tracked_trajectory(waving_g1_clip(10)), tmp_path / "tracked.npz")
    with pytest.raises(LiftError, match="tracked.npz: a genmimic.trajectory/1 clip.*give it to genmimic-core view"):
        import_amass(tmp_path / "tracked.npz")
    np.savez(tmp_path / "odd.npz", format="genmimic.dance/1")
    with pytest.raises(LiftError, match="odd.npz: not an AMASS-style motion but a clip: unknown clip format"):
        import_amass(tmp_path / "odd.npz")


def test_gvhmr_import_converts_y_up(tmp_path, walk_clip):
    from genmimic.core import rotations as rot

    w2g = GVHMR_TO_WORLD.T  # the test writes GVHMR's y-up frame from the known z-up motion
    go = rot.axis_angle_from_matrix(w2g @ rot.matrix_from_axis_angle(walk_clip.global_orient))
    params = {"global_orient": torch.tensor(go), "body_pose": torch.tensor(walk_clip.body_pose[:, :21].reshape(-1, 63)),
              "transl": torch.tensor(walk_clip.transl @ w2g.T), "betas": torch.zeros(walk_clip.num_frames, 10)}
    torch.save({"smpl_params_global": params, "smpl_params_incam": params}, tmp_path / "hmr4d_results.pt")
    clip = import_gvhmr(tmp_path / "hmr4d_results.pt", fps=30.0)
    np.testing.assert_allclose(clip.joints[:, :22], walk_clip.joints[:, :22], atol=1e-5)
    torch.save({"something": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(LiftError, match="no 'smpl_params_global'"):
        import_gvhmr(tmp_path / "other.pt", fps=30.0)


def test_unknown_extension_and_misplaced_options(tmp_path):
    with pytest.raises(LiftError, match="unknown file type '.txt'"):
        lift_any(tmp_path / "a.txt")
    # robot motion (a BeyondMimic CSV, a GMR pickle) is named as such, with the command that imports it
    for name in ("motion.csv", "motion.pkl"):
        with pytest.raises(LiftError, match=rf"robot motion .*genmimic-retarget import .*{name} -o g1.npz"):
            lift_any(tmp_path / name)
    with pytest.raises(LiftError, match="--render"):
        lift_any(tmp_path / "a.bvh", render=tmp_path / "r.mp4")


def test_cli_imports_each_kind(tmp_path, walk_clip):
    runner = CliRunner()
    write_bvh(tmp_path / "m.bvh", walk_clip)
    np.savez(tmp_path / "m.npz", **_amass_arrays(walk_clip, 156))
    for name in ("m.bvh", "m.npz"):
        out = tmp_path / f"{name}.out.npz"
        result = runner.invoke(lift_app, [str(tmp_path / name), "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert load_clip(out, SmplClip).num_frames == walk_clip.num_frames
    result = runner.invoke(lift_app, [str(tmp_path / "m.bvh"), "-o", "-"])
    assert result.exit_code == 0 and result.stdout_bytes[:2] == b"PK"


def test_cli_errors_are_one_line_without_output(tmp_path):
    runner = CliRunner()
    (tmp_path / "bad.bvh").write_text("HIERARCHY\nROOT Hips\n{\n")
    out = tmp_path / "o.npz"
    for args in ([str(tmp_path / "bad.bvh")], [str(tmp_path / "missing.npz")], [str(tmp_path / "x.doc")]):
        result = runner.invoke(lift_app, [*args, "-o", str(out)])
        assert result.exit_code == 1 and result.output.startswith("error: ") and result.output.count("\n") == 1
        assert not out.exists()
    assert runner.invoke(lift_app, ["--version"]).output.startswith("genmimic-lift ")
    # a mistyped output folder fails before the input is even read
    result = runner.invoke(lift_app, [str(tmp_path / "bad.bvh"), "-o", str(tmp_path / "nodir" / "o.npz")])
    assert result.exit_code == 1 and "does not exist; fix: create it" in result.output


def test_a_directory_is_named_as_one(tmp_path):
    from genmimic.lift.importers import input_kind

    with pytest.raises(LiftError, match="is a directory; fix: give one motion or video file"):
        input_kind(tmp_path)
