"""Errors of genmimic.deploy."""

from genmimic.core.errors import GenMimicError


class DeployError(GenMimicError):
    """A policy, clip or connection that cannot be used on the robot (refused before anything moves)."""
