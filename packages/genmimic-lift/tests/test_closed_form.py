"""BVH import in closed form (issue 16): known answers, agreement with the optimised fit (``refine``), no heavy
imports, and the field cases in ../shared/data where present."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from genmimic.core import SmplClip, load_clip, smpl
from genmimic.lift import bvh
from genmimic.lift.cli import lift_app
from genmimic.lift.closed_form import swing
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
    """Issue 16's target: <= 1 cm mean, <= 3 cm max against the BVH's joints. Every joint is within 3 mm but the
    head on the 1 % of frames where the file's neck turns past a person's range (``limits.MAX_ANGLE``, which the
    import keeps): 3.3 cm there (the README's table)."""
    path = shared_data / "motions" / "cmu_01_01_forward_jumps.bvh"
    clip = bvh.import_bvh(path)
    err, names = _file_errors(path, clip)
    assert err.mean() < 0.001, f"mean {err.mean() * 100:.2f} cm"
    worst = {n: float(e) for n, e in zip(names, err.max(axis=0), strict=True)}
    assert {n for n, e in worst.items() if e > 0.005} <= {"head"}, worst
    head = err[:, names.index("head")]
    assert head.max() < 0.035 and np.mean(head > 0.01) < 0.02
    assert not range_violations(clip.body_pose)


def test_cmu_clip_closed_form_matches_the_fit(shared_data, tmp_path):
    """The closed form against ``--refine`` on 60 frames of CMU 01_01 (every 8th: 4 s with jumps)."""
    path = bvh_every_nth_frame(shared_data / "motions" / "cmu_01_01_forward_jumps.bvh", tmp_path / "cmu_excerpt.bvh",
                               step=8, count=60)
    assert bvh.import_bvh(path).fps == pytest.approx(15.0)
    closed, fitted = bvh.import_bvh(path), bvh.import_bvh(path, refine=True)
    err = np.linalg.norm(closed.joints[:, _mapped(closed)] - fitted.joints[:, _mapped(closed)], axis=-1)
    assert err.mean() < 0.01, f"mean {err.mean() * 100:.2f} cm"
