"""Exceptions of genmimic.lift; all derive from genmimic.core's :class:`GenMimicError`."""

from __future__ import annotations

from genmimic.core.errors import GenMimicError


class LiftError(GenMimicError):
    """An input cannot be lifted or imported: names the file and the problem in one line.

    Attributes:
        source: the input file; problem: what is wrong with it.
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")
