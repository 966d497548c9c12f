"""``python -m genmimic.policy``: the ``genmimic-policy`` command (used where no entry point is installed)."""

from .cli import app

app()
