"""`genmimic-retarget import` checks conventions: a root quaternion in the other order, feet off the ground,
root_pos in centimetres, angles in degrees, joints past their limits are refused with the option that fixes
them (and the option works); standard input; the field cases in ../shared/data/field_cases."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
from typer.testing import CliRunner

from genmimic.core import G1Clip, load_clip
from genmimic.core import g1_constants as g1
from genmimic.core.conventions import ConventionError
from genmimic.core.g1_kinematics import foot_contact_points, g1_clip_from_joints
from genmimic.core.rotations import quat_from_axis_angle, xyzw_from_wxyz
from genmimic.core.testing import waving_g1_clip
from genmimic.retarget.cli import app
from genmimic.retarget.interop import ImportOptions, import_clip, to_gmr

runner = CliRunner()


@pytest.fixture(scope="module")
def turned_clip() -> G1Clip:
    """The waving G1 turned 0.7 rad about z (a root quaternion with no symmetric components)."""
    base = waving_g1_clip(60, 30.0)
    quat = np.tile(quat_from_axis_angle([0.0, 0.0, 0.7]), (base.num_frames, 1))
    return g1_clip_from_joints(base.root_pos, quat, base.dof_pos, 30.0)


def _csv(root_pos, quat_cols, dof) -> bytes:
    buf = io.StringIO()
    np.savetxt(buf, np.concatenate([root_pos, quat_cols, dof], axis=1), delimiter=",", fmt="%.9g")
    return buf.getvalue().encode()


def _import_cli(tmp_path, data: bytes, suffix: str, *options: str):
    src, out = tmp_path / f"in{suffix}", tmp_path / "out.npz"
    src.write_bytes(data)
    out.unlink(missing_ok=True)
    result = runner.invoke(app, ["import", str(src), "-o", str(out), *options])
    return result, src, out


def _assert_refused(result, src, out, *words: str) -> None:
    assert result.exit_code == 1, result.output
    line = result.output.strip()
    assert line.startswith(f"error: {src}: ") and "\n" not in line
    for w in words:
        assert w in line, line
    assert not out.exists()


def test_csv_in_wxyz_order_is_refused_and_the_option_fixes_it(tmp_path, turned_clip):
    c = turned_clip
    result, src, out = _import_cli(tmp_path, _csv(c.root_pos, c.root_quat, c.dof_pos), ".csv")
    _assert_refused(result, src, out, "upside down", "looks like wxyz", "--quat-order wxyz")
    result = runner.invoke(app, ["import", str(src), "-o", str(out), "--quat-order", "wxyz"])
    assert result.exit_code == 0, result.output
    back = load_clip(out, G1Clip)
    np.testing.assert_allclose(back.keypoints, c.keypoints, atol=1e-6)
    assert back.meta["params"]["quat_order"] == "wxyz"
    # the control: the same motion in the format's own order imports without options
    result, _, out = _import_cli(tmp_path, _csv(c.root_pos, xyzw_from_wxyz(c.root_quat), c.dof_pos), ".csv")
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(load_clip(out, G1Clip).keypoints, c.keypoints, atol=1e-6)


def _spreadsheet(csv: bytes, dialect: str) -> bytes:
    """``csv`` as a spreadsheet or pandas writes it."""
    lines = csv.decode().splitlines()
    names = ",".join(["x", "y", "z", "qx", "qy", "qz", "qw", *(j.name for j in g1.JOINTS)])
    if dialect == "header":
        lines = [names, *lines]
    elif dialect == "semicolons":  # a European spreadsheet: ';' between fields, ',' as the decimal mark
        lines = [ln.replace(",", ";").replace(".", ",") for ln in lines]
    elif dialect == "pandas_index":  # DataFrame.to_csv() without index=False: a header and an index column
        lines = ["," + names, *(f"{i},{ln}" for i, ln in enumerate(lines))]
    elif dialect == "trailing_comma":
        lines = [ln + "," for ln in lines]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(("dialect", "said"), [
    ("header", "a header row (x,y,z,qx,qy,qz,qw,"),
    ("semicolons", "semicolons as the separator and decimal commas"),
    ("pandas_index", "a header row (,x,y,z,"),
    ("trailing_comma", "a trailing separator on each row"),
])
def test_what_spreadsheets_and_pandas_add_to_a_csv_is_read_and_said(tmp_path, turned_clip, caplog, dialect, said):
    """The format has no header and commas only; files users have often do. Each reads to the same clip as
    the plain file, with a warning that says what was read."""
    c = turned_clip
    plain = _csv(c.root_pos, xyzw_from_wxyz(c.root_quat), c.dof_pos)
    with caplog.at_level("WARNING"):
        result, _, out = _import_cli(tmp_path, _spreadsheet(plain, dialect), ".csv")
    assert result.exit_code == 0, result.output
    assert said in caplog.text
    if dialect == "pandas_index":
        assert "a leading index column (0, 1, 2, ...)" in caplog.text
    np.testing.assert_allclose(load_clip(out, G1Clip).keypoints, c.keypoints, atol=1e-6)


def test_nan_and_ragged_rows_in_a_csv_are_located(tmp_path, turned_clip):
    c = turned_clip
    dof = c.dof_pos.copy()
    dof[4, 2] = np.nan
    result, src, out = _import_cli(tmp_path, _csv(c.root_pos, xyzw_from_wxyz(c.root_quat), dof), ".csv")
    _assert_refused(result, src, out, "contains NaN or Inf (first at motion row 5, column 10); fix: ")
    lines = _csv(c.root_pos, xyzw_from_wxyz(c.root_quat), c.dof_pos).decode().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0]  # one field short
    result, src, out = _import_cli(tmp_path, ("\n".join(lines) + "\n").encode(), ".csv")
    _assert_refused(result, src, out, "rows of different lengths (36 fields in the first, 35 in motion row 4)")


def test_gmr_in_wxyz_order_is_refused_and_extra_keys_are_ignored(tmp_path, turned_clip):
    data = pickle.loads(to_gmr(turned_clip))
    data["root_rot"] = turned_clip.root_quat  # the mistake: scalar first
    data["extra"] = "ignored"
    result, src, out = _import_cli(tmp_path, pickle.dumps(data), ".pkl")
    _assert_refused(result, src, out, "looks like wxyz", "--quat-order wxyz")
    clip = import_clip(src, options=ImportOptions(quat_order="wxyz"))
    np.testing.assert_allclose(clip.keypoints, turned_clip.keypoints, atol=1e-6)


@pytest.mark.parametrize(("change", "words", "fix"), [
    (lambda p, d: (p - [0, 0, 0.5], d), ("m below the ground",), ["--ground"]),
    (lambda p, d: (p * 100.0, d), ("centimetres",), ["--scale", "0.01"]),
    (lambda p, d: (p, np.degrees(d)), ("look like degrees",), ["--degrees"]),
])
def test_other_conventions_are_refused_and_the_option_fixes_them(tmp_path, turned_clip, change, words, fix):
    c = turned_clip
    pos, dof = change(c.root_pos, c.dof_pos)
    result, src, out = _import_cli(tmp_path, _csv(pos, xyzw_from_wxyz(c.root_quat), dof), ".csv")
    _assert_refused(result, src, out, *words, fix[0])
    result = runner.invoke(app, ["import", str(src), "-o", str(out), *fix])
    assert result.exit_code == 0, result.output
    back = load_clip(out, G1Clip)
    np.testing.assert_allclose(back.dof_pos, c.dof_pos, atol=1e-6)
    soles = foot_contact_points(back.root_pos, back.root_quat, back.dof_pos)[..., 2].min(axis=(1, 2))
    assert abs(np.median(soles) - g1.FOOT_SPHERE_RADIUS) < 0.01


def test_joints_past_their_limits(tmp_path, turned_clip):
    c = turned_clip
    knee = g1.JOINT_NAMES.index("left_knee_joint")
    dof = c.dof_pos.copy()
    dof[10:20, knee] = g1.JOINTS[knee].upper + 0.5  # far outside: refused, the joint named
    result, src, out = _import_cli(tmp_path, _csv(c.root_pos, xyzw_from_wxyz(c.root_quat), dof), ".csv")
    _assert_refused(result, src, out, "left_knee_joint", "frame 10", "joint order")
    assert runner.invoke(app, ["import", str(src), "-o", str(out), "--no-checks"]).exit_code == 0
    dof[10:20, knee] = g1.JOINTS[knee].upper + 0.05  # slightly outside: clamped with a warning
    src.write_bytes(_csv(c.root_pos, xyzw_from_wxyz(c.root_quat), dof))
    clip = import_clip(src)
    assert clip.dof_pos[:, knee].max() == pytest.approx(g1.JOINTS[knee].upper)
    assert clip.meta["params"]["clamped_rad"] == pytest.approx(0.05)


def test_stdin_csv_and_gmr(tmp_path, turned_clip):
    c = turned_clip
    out = tmp_path / "o.npz"
    for data in (_csv(c.root_pos, xyzw_from_wxyz(c.root_quat), c.dof_pos), to_gmr(c)):
        result = runner.invoke(app, ["import", "-", "-o", str(out), "--fps", "30"], input=data)
        assert result.exit_code == 0, result.output
        np.testing.assert_allclose(load_clip(out, G1Clip).keypoints, c.keypoints, atol=1e-6)
    result = runner.invoke(app, ["import", "-", "-o", str(out)], input=_csv(c.root_pos, c.root_quat, c.dof_pos))
    assert result.exit_code == 1 and result.output.startswith("error: <stdin>: ") and "--quat-order" in result.output


def test_field_cases(shared_data):
    cases = shared_data / "field_cases"
    if not cases.is_dir():
        pytest.skip(f"{cases} not found")
    good = import_clip(cases / "csv_correct_xyzw_30fps.csv")
    for name in ("csv_root_quat_wxyz_by_mistake.csv", "gmr_root_rot_wxyz_by_mistake.pkl"):
        with pytest.raises(ConventionError, match="looks like wxyz.*--quat-order wxyz"):
            import_clip(cases / name)
        fixed = import_clip(cases / name, options=ImportOptions(quat_order="wxyz"))
        assert fixed.keypoints[0, g1.KEYPOINT_NAMES.index("head"), 2] > 1.0  # upright
    fixed = import_clip(cases / "csv_root_quat_wxyz_by_mistake.csv", options=ImportOptions(quat_order="wxyz"))
    np.testing.assert_allclose(fixed.keypoints, good.keypoints, atol=1e-5)
