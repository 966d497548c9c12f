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


class CutShortStreamError(LiftError):
    """A video stream breaks or ends before its declared length. ``genmimic-lift`` lifts the frames read
    with ``--allow-partial``; a caller without that option gives its own advice from the attributes.

    Attributes:
        source; problem (with the fix); stream_problem: what went wrong, without a fix; frames_read.
    """

    def __init__(self, source: str, stream_problem: str, frames_read: int) -> None:
        self.stream_problem = stream_problem
        self.frames_read = frames_read
        super().__init__(source, f"{stream_problem}; fix: pass --allow-partial to lift the {frames_read} frames read")
