"""Exceptions of genmimic.policy: all derive from :class:`PolicyError` (a ``GenMimicError``)."""

from __future__ import annotations

from genmimic.core.errors import GenMimicError


class PolicyError(GenMimicError):
    """Root of the errors genmimic.policy raises on bad input."""


class ConfigError(PolicyError):
    """A configuration file or value is invalid."""


class CheckpointError(PolicyError):
    """A run directory, checkpoint or policy file is missing or unreadable."""
