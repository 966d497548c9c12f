"""Exceptions of genmimic.core. Every error a user can cause derives from :class:`GenMimicError`."""

from __future__ import annotations


class GenMimicError(Exception):
    """Root of all errors raised by genmimic packages on bad input.

    Command-line tools catch it and print ``str(err)`` as one line, then exit non-zero.
    """


class ClipError(GenMimicError):
    """A motion clip is malformed: missing key, wrong shape or dtype, non-finite values, bad format.

    Attributes:
        problem: What is wrong, in one line.
        source: The file the clip came from or was going to (``<stdin>``/``<stdout>`` for streams); None in memory.
        key: The offending array name, when there is one.
    """

    def __init__(self, problem: str, source: str | None = None, key: str | None = None) -> None:
        self.problem = problem
        self.source = source
        self.key = key
        super().__init__(self._message())

    def _message(self) -> str:
        return f"{self.source}: {self.problem}" if self.source else self.problem

    def at(self, source: str) -> ClipError:
        """The same error, naming ``source`` as the file it concerns."""
        return ClipError(self.problem, source=source, key=self.key)


class ModelError(GenMimicError):
    """A robot or body model cannot be built or loaded (bad path, missing joints, bad files)."""
