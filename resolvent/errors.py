"""The one exception hierarchy of resolvent, whose messages are meant for users.

Every error the command line can show derives from :class:`ResolventError`; the CLI
catches that root once, prints ``error: <message>`` and exits non-zero. Errors about bad
input also derive from :class:`ValueError`, as ``packaging``'s ``InvalidVersion`` does.
Messages follow uv's style: names and paths in backticks, ``hint:`` lines after a blank
line.
"""

from __future__ import annotations

__all__ = [
    "BadInputError",
    "CrossCheckError",
    "ResolventError",
    "ScenarioError",
    "SolverError",
]


class ResolventError(Exception):
    """Root of every error resolvent reports to a user."""

    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n\nhint: {self.hint}"
        return self.message


class BadInputError(ResolventError, ValueError):
    """Input that cannot be understood: a malformed file, requirement or option."""


class ScenarioError(BadInputError):
    """A resolver scenario file that does not follow the packse format."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"invalid scenario `{path}`: {problem}")
        self.path = path
        self.problem = problem


class SolverError(ResolventError):
    """The solver could not finish: an internal invariant failed or a budget ran out."""

    exit_code = 1


class CrossCheckError(SolverError):
    """The two engines disagree, or a solution failed the independent checker."""
