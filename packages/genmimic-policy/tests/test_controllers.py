"""Trackers behind one interface: the student, open-loop replay, and the scores track prints."""

import dataclasses
import re

import numpy as np
import pytest

from genmimic.core.clips import load_clip, save_clip
from genmimic.core.testing import waving_g1_clip
from genmimic.core.tracking import score_trajectory
from genmimic.policy.controllers import CONTROLLERS, PolicyController, ReplayController, make_controller
from genmimic.policy.errors import PolicyError
from genmimic.policy.track import track_clip


def test_replay_follows_a_standing_clip_and_scores_it():
    """Open-loop replay of a standing clip (arms waving) keeps the G1 near the reference for a second."""
    clip = waving_g1_clip(num_frames=50, fps=50.0)
    traj = track_clip(clip, ReplayController(), source="wave.npz")
    assert traj.meta["params"]["controller"] == "replay"
    from genmimic.policy import __version__

    assert traj.meta["version"] == __version__  # the package's, as every other stage writes (was "0")
    s = score_trajectory(traj, clip)
    assert not s.fell and s.strict_success and s.root_relative_error < 0.1


def test_policy_controller_is_what_track_runs_for_a_policy(policy, g1_clip):
    """Passing (policy, spec) and passing a PolicyController give the same trajectory."""
    net, spec, _, _ = policy
    a = track_clip(g1_clip, net, spec, source="x.npz")
    b = track_clip(g1_clip, PolicyController(net, spec), source="x.npz")
    np.testing.assert_array_equal(a.dof_pos, b.dof_pos)


def test_unknown_controller_names_the_known_ones():
    with pytest.raises(PolicyError, match="unknown controller 'nope' \\(known: policy, replay"):
        make_controller("nope")
    assert {"policy", "replay"} <= set(CONTROLLERS)


def test_cli_track_with_replay_prints_scores(tmp_path, capfd):
    from typer.testing import CliRunner

    from genmimic.policy.cli import app

    clip = waving_g1_clip(num_frames=40, fps=50.0)
    save_clip(clip, tmp_path / "g1.npz")
    result = CliRunner().invoke(app, ["track", str(tmp_path / "g1.npz"), "-o", str(tmp_path / "robot.npz"),
                                      "--controller", "replay"])
    assert result.exit_code == 0, result.output
    traj = load_clip(tmp_path / "robot.npz")
    assert traj.num_frames == clip.num_frames and traj.meta["params"]["controller"] == "replay"
    assert f"wrote {tmp_path / 'robot.npz'}; stayed up; strict success yes" in result.output
    assert "hands" in result.output
    # centimetres, as the demo and the README report them (the replay of a clip matches it to the mm)
    assert re.search(r"worst 1 s root-relative error \d+\.\d cm, at most 25 cm to pass", result.output)
    assert re.search(r"hands \d+\.\d, feet \d+\.\d, head \d+\.\d cm\)", result.output)
    # where it went, in words, beside success (the waving clip stands: only the root's distance at the end)
    assert re.search(r"root \d\.\d\d m from the reference's at the end; heading \d+ deg off at the end "
                     r"\(beside success, not in it", result.output)
    assert "tracked trajectory" not in result.output
    # a trajectory is a G1 motion: it is tracked, with a note
    again = CliRunner().invoke(app, ["track", str(tmp_path / "robot.npz"), "-o", str(tmp_path / "again.npz"),
                                     "--controller", "replay"])
    assert again.exit_code == 0 and "robot.npz is a tracked trajectory (genmimic.trajectory/1)" in again.output


def test_cli_track_unknown_controller_is_a_one_line_error(tmp_path):
    from typer.testing import CliRunner

    from genmimic.policy.cli import app

    save_clip(waving_g1_clip(num_frames=10), tmp_path / "g1.npz")
    result = CliRunner().invoke(app, ["track", str(tmp_path / "g1.npz"), "-o", str(tmp_path / "r.npz"),
                                      "--controller", "nope"])
    assert result.exit_code != 0 and "unknown controller 'nope'" in result.output
    assert not (tmp_path / "r.npz").exists()


def test_cli_track_refuses_a_clip_in_degrees_before_simulating(tmp_path):
    from typer.testing import CliRunner

    from genmimic.policy.cli import app

    clip = waving_g1_clip(num_frames=10)
    save_clip(clip.replace(dof_pos=np.degrees(clip.dof_pos) + 30.0), tmp_path / "deg.npz")
    result = CliRunner().invoke(app, ["track", str(tmp_path / "deg.npz"), "-o", str(tmp_path / "r.npz")])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"error: {tmp_path / 'deg.npz'}: dof_pos: ")
    assert "look like degrees" in result.output
    assert not (tmp_path / "r.npz").exists()


def test_cli_track_says_when_and_why_the_robot_fell(tmp_path):
    """A reference 0.5 m above the floor: the replayed G1 drops under it at once, and the report says so."""
    from typer.testing import CliRunner

    from genmimic.policy.cli import app

    clip = waving_g1_clip(num_frames=40, fps=50.0)
    lift = np.array([0.0, 0.0, 0.5])
    floating = dataclasses.replace(clip, root_pos=clip.root_pos + lift, keypoints=clip.keypoints + lift)
    save_clip(floating, tmp_path / "g1.npz")
    result = CliRunner().invoke(app, ["track", str(tmp_path / "g1.npz"), "-o", str(tmp_path / "robot.npz"),
                                      "--controller", "replay"])
    assert result.exit_code == 0, result.output  # a fall is a result, not an error
    assert re.search(r"; FELL at \d+\.\d\d s \(pelvis over 30 cm under the reference's\); strict success no",
                     result.output), result.output
    # the errors before the fall apart from those of lying there, and where it went read as where it lay
    fell_at = float(re.search(r"FELL at (\d+\.\d\d) s", result.output).group(1))
    if fell_at >= 0.04:  # at least two frames up
        assert re.search(r"; before the fall: \d+\.\d cm, root-relative \d+\.\d cm", result.output)
    assert f"genmimic-policy: it fell at {fell_at:.2f} s, so this is where it lay: root " in result.output


def test_evaluate_prints_a_table_for_people_and_json_for_scripts(tmp_path):
    """One stderr line per clip and the totals in cm; stdout is the JSON alone, in m."""
    import json

    from typer.testing import CliRunner

    from genmimic.policy.cli import app

    clip = waving_g1_clip(num_frames=40, fps=50.0)
    save_clip(clip, tmp_path / "a.npz")
    lift = np.array([0.0, 0.0, 0.5])  # a reference in the air: the replayed G1 falls
    save_clip(dataclasses.replace(clip, root_pos=clip.root_pos + lift, keypoints=clip.keypoints + lift),
              tmp_path / "b.npz")
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path), "--controller", "replay"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert data["clips"] == 2 and data["fall_rate"] == 0.5 and data["units"]["heading_error"] == "rad"
    table = result.stderr.splitlines()
    assert re.match(r"a\.npz  up              strict yes  worst 1 s +\d+\.\d cm  legacy", table[0])
    assert re.match(r"b\.npz  FELL at +\d+\.\d s  strict no ", table[1])
    assert re.search(r"root-relative error \d+\.\d cm \(\d+\.\d cm on strict successes\)", table[2])
    assert table[2].startswith("2 clips: strict success 50.0 %, falls 1 (50.0 %)")
    # the legacy verdict beside the strict one, with the global error it rests on
    assert re.search(r"strict yes  worst 1 s +\d+\.\d cm  legacy (yes|no ) \(global +\d+\.\d cm\)", table[0])
    # where the robot went, beside success: the standing clip neither travels nor turns, so neither applies
    assert table[0].endswith("travelled n/a  turned n/a") and data["per_clip"][0]["travelled"] is None
    assert "travelled with the reference on 0 of 0 clips where it travels, turned with it on 0 of 0" in table[2]
    assert data["turned_rate"] is None


def test_evaluate_writes_strict_json_when_nothing_succeeds(tmp_path):
    """No strict success: the error of strict successes is null, not NaN (which JSON parsers refuse)."""
    import json

    from typer.testing import CliRunner

    from genmimic.policy.cli import app

    clip = waving_g1_clip(num_frames=40, fps=50.0)
    lift = np.array([0.0, 0.0, 0.5])
    save_clip(dataclasses.replace(clip, root_pos=clip.root_pos + lift, keypoints=clip.keypoints + lift),
              tmp_path / "b.npz")
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path), "--controller", "replay"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert data["strict_success_rate"] == 0.0 and data["error_of_strict_successes"] is None
    assert data["joint_error"] >= 0 and data["units"]["joint_error"] == "rad"  # the replay's PD lag, in angle
