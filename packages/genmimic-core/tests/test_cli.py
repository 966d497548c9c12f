"""``genmimic-core`` as a user runs it: clip info, the model files, one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess

import mujoco
import pytest
import typer
from typer.testing import CliRunner

from genmimic.core import save_clip
from genmimic.core.cli import app

runner = CliRunner()


def test_info_summarises_a_clip(g1_clip, tmp_path):
    path = tmp_path / "wave.npz"
    save_clip(g1_clip, path)
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert "genmimic.g1/1, 100 frames at 50 fps (1.98 s)" in result.output
    result = runner.invoke(app, ["info", str(path), "--json"])
    long_note = "a note of many words " * 10
    save_clip(g1_clip.replace(meta={"tool": "t", "params": {"a": 1, "b": {"c": 2}}, "note": long_note}), path)
    lines = runner.invoke(app, ["info", str(path)]).output.splitlines()
    meta = lines[lines.index("  meta (--json prints all of it):") + 1:]
    assert meta[0].split() == ["tool", '"t"'] and meta[1].split() == ["params", "{a,", "b}"]
    assert meta[2].endswith(" ...") and meta[2][-5] != " " and len(meta[2]) < 120  # cut after a word, said so
    assert json.loads(result.output)["arrays"]["keypoints"] == [100, 19, 3]


def test_info_reads_stdin_in_a_pipeline(g1_clip, tmp_path):
    exe = shutil.which("genmimic-core")
    if exe is None:
        pytest.skip("genmimic-core is not installed as a command")
    path = tmp_path / "wave.npz"
    save_clip(g1_clip, path)
    out = subprocess.run(f"cat {path} | {exe} info -", shell=True, capture_output=True, text=True, check=True)
    assert out.stdout.startswith("-: genmimic.g1/1")


def test_a_stream_error_names_the_stage_it_came_from():
    """In `genmimic-lift ... | genmimic-retarget - ... | genmimic-policy track - ...`, "<stdin>" alone does not
    say which stage failed."""
    exe = shutil.which("genmimic-core")
    if exe is None:
        pytest.skip("genmimic-core is not installed as a command")
    out = subprocess.run(f"printf '' | {exe} info -", shell=True, capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.startswith("genmimic-core: error: <stdin>: standard input is empty: "), out.stderr


def test_info_on_a_bad_file_is_one_line_and_exit_1(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("hello")
    result = runner.invoke(app, ["info", str(bad)])
    assert result.exit_code == 1
    line = result.output.strip()
    assert "\n" not in line
    assert line.startswith(f"error: {bad}: not an npz archive (wrong file type or truncated); fix: ")


def test_g1_model_writes_loadable_files(tmp_path):
    result = runner.invoke(app, ["g1-model", "--mjcf", str(tmp_path / "g1.xml"), "--urdf", str(tmp_path / "g1.urdf"),
                                 "--gains", "hold"])
    assert result.exit_code == 0, result.output
    assert mujoco.MjModel.from_xml_path(str(tmp_path / "g1.xml")).nu == 29
    assert "<robot" in (tmp_path / "g1.urdf").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["g1-model"], "nothing to do"),
    (["g1-model", "--mjcf", "x.xml", "--gains", "soft"], "unknown gains 'soft'"),
])
def test_g1_model_errors(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and message in result.output


def test_log_lines_name_the_command_and_the_module_only_with_verbose(capsys):
    import logging

    from genmimic.core.cli_support import setup_logging

    try:
        for verbose, who in ((False, "genmimic-lift"), (True, "genmimic.lift.lift_video")):
            setup_logging(verbose)
            logging.getLogger("genmimic.lift.lift_video").warning("following the larger person")
            logging.getLogger("absl").warning("chatter")
            err = capsys.readouterr().err.splitlines()
            assert err == [f"{who}: following the larger person", "absl: chatter"]
    finally:
        logging.basicConfig(force=True)


def test_a_shared_modules_log_line_names_the_command_that_runs(capsys, monkeypatch):
    """genmimic-core's signal handling inside `genmimic-policy train` said "genmimic-core: ..." (2026-12-02)."""
    import logging

    from genmimic.core.cli_support import setup_logging

    monkeypatch.setattr("sys.argv", ["/venv/bin/genmimic-policy", "train"])
    try:
        setup_logging(False)
        logging.getLogger("genmimic.core.stopping").warning("teacher PPO: SIGTERM received")
        assert capsys.readouterr().err == "genmimic-policy: teacher PPO: SIGTERM received\n"
    finally:
        logging.basicConfig(force=True)


def test_version_option_as_every_stage_command():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("genmimic-core ")


def test_a_stage_command_help_has_no_source_line_breaks():
    from genmimic.core.cli_support import stage_app

    app = stage_app("genmimic-core", "A test app.")

    @app.command()
    def go() -> None:
        """Do it.

        The second paragraph, wrapped in the source
        right here, continues on this line."""

    out = CliRunner().invoke(app, ["go", "--help"], terminal_width=200).output
    assert "wrapped in the source right here, continues" in out


@pytest.mark.parametrize(("args", "problem"), [
    (["run", "--seconds", "abc"], "Invalid value for '--seconds'"),
    (["run", "--seconds", "-1"], "Invalid value for '--seconds'"),
    (["run", "--nope"], "No such option: --nope"),
])
def test_a_usage_error_is_one_line_with_where_the_help_is(args, problem):
    """Typer's boxed usage errors become the project's one-line form, exit 2, in apps and one-command apps."""
    from genmimic.core.cli_support import HelpTyper, stage_app

    group = stage_app("genmimic-core", "a test app")
    single = HelpTyper(add_completion=False)
    for test_app in (group, single):
        @test_app.command()
        def run(seconds: float = typer.Option(1.0, min=0.0)) -> None:
            print(f"ran {seconds}")

        used = args if test_app is group else args[1:]
        result = CliRunner().invoke(test_app, used)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and problem in lines[0] and "fix: see `" in lines[0] and "--help`" in lines[0]
        ok = CliRunner().invoke(test_app, ["run", "--seconds", "2"] if test_app is group else ["--seconds", "2"])
        assert ok.exit_code == 0 and ok.output == "ran 2.0\n"
