"""Every command's help, as a terminal shows it, keeps what its source says: units in brackets such as ``[s]``
are not swallowed as markup (``[s]`` is Rich's strike-through tag), nor placeholders such as ``<name>`` (an
HTML tag to Markdown)."""

from __future__ import annotations

import importlib
import re

import pytest
import typer
from typer.testing import CliRunner

APPS = ["genmimic.core.cli:app", "genmimic.lift.cli:lift_app", "genmimic.lift.cli:synth_app",
        "genmimic.retarget.cli:app", "genmimic.policy.cli:app", "genmimic.deploy.cli:app", "genmimic.bench.cli:app"]
BRACKETED = re.compile(r"(?<!\\)\[[^\]\s]{1,12}\]|<[a-z_]{1,12}>")  # [s], [m], [Hz]; <name>


def _commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


@pytest.mark.parametrize("target", APPS)
def test_bracketed_units_survive_in_the_help(target):
    module, name = target.split(":")
    app = getattr(importlib.import_module(module), name)
    root = typer.main.get_command(app)
    checked = 0
    for path, command in _commands(root):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        wanted = {m.group(0) for t in texts for m in BRACKETED.finditer(t)}
        if not wanted:
            continue
        out = CliRunner().invoke(app, [*path, "--help"], terminal_width=400, env={"COLUMNS": "400"}).output
        flat = " ".join(out.split())
        for unit in wanted:
            assert unit in flat, f"{target} {' '.join(path)} --help lost {unit!r}"
        checked += 1
    assert checked or target in {"genmimic.core.cli:app", "genmimic.retarget.cli:app"}


@pytest.mark.parametrize("target", APPS)
def test_every_option_says_what_it_does(target):
    """A fresh user found `genmimic-deploy run --verbose` described by nothing."""
    module, name = target.split(":")
    root = typer.main.get_command(getattr(importlib.import_module(module), name))
    bare = [f"{' '.join(path)} {p.opts[0]}" for path, command in _commands(root) for p in command.params
            if isinstance(p, typer.core.TyperOption) and not (p.help or "").strip()]
    assert not bare, f"{target}: options without help: {bare}"
