"""Errors of the policy runtime: a policy file or its spec that cannot be used. Messages name the file."""

from __future__ import annotations

from ..errors import GenMimicError


class PolicyFileError(GenMimicError):
    """A policy file (``.npz``, ``.onnx`` or its JSON) that cannot be read or run.

    Attributes: source (the file), problem (one line).
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source, self.problem = str(source), problem
        super().__init__(f"{self.source}: {problem}")


#: The fix a spec error names unless its problem names its own.
SPEC_FIX = ("fix: export the policy again (genmimic-policy export RUN -o policy.onnx writes the spec), or correct "
            "this field in the policy's JSON")


class PolicySpecError(PolicyFileError):
    """A policy spec with a missing or wrong field. Attributes: source, field (dotted path), problem (with a
    fix: :data:`SPEC_FIX` unless it names its own)."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.field = field
        fix = "" if "fix:" in problem else f"; {SPEC_FIX}"
        super().__init__(source, f"policy spec field '{field}': {problem}{fix}")
