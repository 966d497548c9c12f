"""BVH import in closed form (issue 16): known answers, agreement with the optimised fit (``refine``), no heavy
imports, and the field cases in ../shared/data where present."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from genmimic.core import SmplClip, load_clip, smpl
from genmimic.core import rotations as rot
from genmimic.lift import bvh
from genmimic.lift.cli import lift_app
from genmimic.lift.closed_form import _within_range, swing
from genmimic.lift.limits import range_violations
from genmimic.lift.testing import bvh_every_nth_frame, write_bvh


@pytest.fixture(scope="module")
def walk_bvh(tmp_path_factory, walk_clip):
    return write_bvh(tmp_path_factory.mktemp("cf") / "walk.bvh", walk_clip)


def _mapped(clip: SmplClip) -> list[int]:
    return [smpl.JOINT_NAMES.index(n) for n in clip.meta["params"]["mapped"]]


def test_swing_is_the_smallest_rotation():
    a = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.3, -0.2, 0.9]])
    b = np.array([[0.0, 3.0, 0.0], [0.0, 0.0, 1.0], [-0.5, 0.4, 0.1]])
    R = swing(a, b)
    np.testing.assert_allclose(R[0], [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)  # 90 deg about z
    np.testing.assert_allclose(R[1], np.eye(3), atol=1e-12)
    turned = np.einsum("nij,nj->ni", R, a / np.linalg.norm(a, axis=1, keepdims=True))
    np.testing.assert_allclose(turned, b / np.linalg.norm(b, axis=1, keepdims=True), atol=1e-12)
    axis = np.cross(a[2], b[2])  # the rotation axis is across both directions
    np.testing.assert_allclose(R[2] @ axis, axis, atol=1e-12)


def test_closed_form_reproduces_a_known_motion(walk_bvh, walk_clip):
    clip = bvh.import_bvh(walk_bvh)
    assert clip.meta["params"]["method"] == "closed_form"
    err = np.linalg.norm(clip.joints[:, _mapped(clip)] - walk_clip.joints[:, _mapped(clip)], axis=-1)
    assert err.mean() < 0.002 and err.max() < 0.01, f"mean {err.mean():.4f} max {err.max():.4f} m"
    assert not range_violations(clip.body_pose)
    # rotations and joints agree (the clip is self-consistent)
    assert clip.meta["skeleton"] == "source"
    fk, _ = smpl.forward_kinematics(clip.global_orient, clip.body_pose, clip.transl, np.array(clip.meta["rest_joints"]))
    np.testing.assert_allclose(fk, clip.joints, atol=1e-9)


def test_closed_form_matches_the_fit(walk_bvh, walk_clip, tmp_path):
    short = walk_clip.replace(**{k: getattr(walk_clip, k)[:15] for k in
                                 ("global_orient", "body_pose", "transl", "joints", "confidence")})
    path = write_bvh(tmp_path / "short.bvh", short)
    closed, fitted = bvh.import_bvh(path), bvh.import_bvh(path, refine=True)
    assert fitted.meta["params"]["method"] == "fit"
    err = np.linalg.norm(closed.joints[:, _mapped(closed)] - fitted.joints[:, _mapped(closed)], axis=-1)
    assert err.mean() < 0.01, f"mean {err.mean():.4f} m"


def test_bvh_import_starts_no_heavy_module(walk_bvh, tmp_path):
    """``genmimic-lift X.bvh -o h.npz`` as the command runs it (typer app, importers, save), in a fresh process."""
    code = ("import sys; from genmimic.lift.cli import lift_app; lift_app(sys.argv[1:], standalone_mode=False); "
            "print(sorted(m for m in ('torch', 'mediapipe', 'jax', 'av', 'scipy.ndimage') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(walk_bvh), "-o", str(tmp_path / "h.npz")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert load_clip(tmp_path / "h.npz", SmplClip).meta["params"]["method"] == "closed_form"


def test_bvh_from_standard_input(walk_bvh, tmp_path):
    out = tmp_path / "o.npz"
    result = CliRunner().invoke(lift_app, ["-", "-o", str(out)], input=walk_bvh.read_bytes())
    assert result.exit_code == 0, result.output
    assert load_clip(out, SmplClip).meta["source"] == "<stdin>"


def test_field_cases_closed_form_against_the_fit(shared_data):
    cases = shared_data / "field_cases"
    if not cases.is_dir():
        pytest.skip(f"{cases} not found")
    fitted = bvh.import_bvh(cases / "baseline_yup_metres.bvh", refine=True)
    for name in ("baseline_yup_metres", "old_cmu_joint_names", "utf8_bom", "zup_centimetres"):
        closed = bvh.import_bvh(cases / f"{name}.bvh")
        err = np.linalg.norm(closed.joints[:, _mapped(closed)] - fitted.joints[:, _mapped(closed)], axis=-1)
        assert err.mean() < 0.01 and err.max() < 0.03, f"{name}: mean {err.mean():.4f} max {err.max():.4f} m"


def _file_errors(path, clip: SmplClip) -> tuple[np.ndarray, list[str]]:
    """Distances (F, M) [m] from the clip's mapped joints to the file's own joints, and the M joint names."""
    ref = bvh.file_joints(path)
    truth = ref.positions - [0.0, 0.0, clip.meta["ground_offset_m"]]
    names = [n for n, m in zip(smpl.JOINT_NAMES, ref.mapped, strict=True) if m]
    return np.linalg.norm(clip.joints[:, ref.mapped] - truth[:, ref.mapped], axis=-1), names


def test_a_skeleton_of_smpls_proportions_keeps_them(walk_bvh, walk_clip):
    clip = bvh.import_bvh(walk_bvh)
    np.testing.assert_allclose(np.array(clip.meta["rest_joints"]), smpl.DEFAULT_REST_JOINTS, atol=1e-6)


def test_cmu_clip_lands_on_the_files_own_joints(shared_data):
    """Issue 16's target: <= 1 cm mean, <= 3 cm max against the BVH's joints. Every joint is within 1 mm but the
    head: where the file's neck turns past the neck's range (``limits.MAX_ANGLE``, which the import keeps), the
    neck gives up its twist first (the head takes it), so only the neck's bend past its range moves the head:
    0.5 cm on 11 frames (the README's table; 3.3 cm when the whole rotation was shortened)."""
    path = shared_data / "motions" / "cmu_01_01_forward_jumps.bvh"
    clip = bvh.import_bvh(path)
    err, names = _file_errors(path, clip)
    assert err.mean() < 0.0001, f"mean {err.mean() * 100:.4f} cm"
    assert err.max() < 0.01, f"max {err.max() * 100:.2f} cm"
    worst = {n: float(e) for n, e in zip(names, err.max(axis=0), strict=True)}
    assert {n for n, e in worst.items() if e > 0.001} <= {"head"}, worst
    assert not range_violations(clip.body_pose)


def test_a_rotation_past_the_range_gives_up_its_twist_first():
    """``_within_range`` with a bone keeps the bone's direction when the swing alone fits, keeps the
    rotation within the range, and shortens only the swing when the swing alone does not fit."""
    rng = np.random.default_rng(3)
    bone = np.array([0.0, 1.0, 0.0])
    T = 200
    swing_axis = np.stack([np.cos(a := rng.uniform(0, 2 * np.pi, T)), np.zeros(T), np.sin(a)], axis=-1)
    s, t = rng.uniform(0.0, 1.2, T), rng.uniform(-1.5, 1.5, T)
    local = rot.matrix_from_axis_angle(swing_axis * s[:, None]) @ rot.matrix_from_axis_angle(t[:, None] * bone)
    parent = rot.matrix_from_axis_angle(rng.normal(size=(T, 3)))
    kept = _within_range(parent, parent @ local, 0.8, bone)
    kept_local = np.swapaxes(parent, -1, -2) @ kept
    angle = np.linalg.norm(rot.axis_angle_from_matrix(kept_local), axis=-1)
    assert angle.max() <= 0.8
    fits = s < 0.8
    np.testing.assert_allclose((kept_local @ bone)[fits], (local @ bone)[fits], atol=1e-9)  # bone aimed as wanted
    inside = np.linalg.norm(rot.axis_angle_from_matrix(local), axis=-1) <= 0.8
    np.testing.assert_allclose(kept_local[inside], local[inside], atol=1e-9)  # untouched inside the range
    np.testing.assert_allclose(angle[~fits], 0.8, atol=1e-5)  # a swing past the range: shortened to it
    bent = np.arccos(np.clip((kept_local @ bone) @ bone, -1, 1))
    np.testing.assert_allclose(bent[~fits], 0.8, atol=1e-5)


def test_cmu_clip_closed_form_matches_the_fit(shared_data, tmp_path):
    """The closed form against ``--refine`` on 60 frames of CMU 01_01 (every 8th: 4 s with jumps)."""
    path = bvh_every_nth_frame(shared_data / "motions" / "cmu_01_01_forward_jumps.bvh", tmp_path / "cmu_excerpt.bvh",
                               step=8, count=60)
    assert bvh.import_bvh(path).fps == pytest.approx(15.0)
    closed, fitted = bvh.import_bvh(path), bvh.import_bvh(path, refine=True)
    err = np.linalg.norm(closed.joints[:, _mapped(closed)] - fitted.joints[:, _mapped(closed)], axis=-1)
    assert err.mean() < 0.01, f"mean {err.mean() * 100:.2f} cm"
