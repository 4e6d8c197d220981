"""The one exception hierarchy of resolvent, whose messages are meant for users.

Every error the command line can show derives from :class:`ResolventError`; the CLI
catches that root once, prints ``error: <message>`` and exits non-zero. Errors about bad
input also derive from :class:`ValueError`, as ``packaging``'s ``InvalidVersion`` does.
Messages follow uv's style: names and paths in backticks, ``hint:`` lines after a blank
line.
"""

from __future__ import annotations

import os

__all__ = [
    "BadInputError",
    "BuildError",
    "CrossCheckError",
    "HashMismatchError",
    "HttpStatusError",
    "IndexDataError",
    "IndexUnreachableError",
    "InstallError",
    "InvalidWheelError",
    "NetworkError",
    "NotCachedError",
    "RangeNotSupportedError",
    "ResolventError",
    "ScenarioError",
    "SolverError",
    "UnsafeWheelError",
    "VenvError",
    "os_paths",
    "os_reason",
]


def os_reason(error: OSError) -> str:
    """Return the system's reason for ``error`` (``Permission denied``), for one line."""
    return error.strerror or str(error) or type(error).__name__


def os_paths(error: OSError) -> list[str]:
    """Return the paths ``error`` names (a rename names two), decoded for messages."""
    return [
        os.fsdecode(path)
        for path in (error.filename, error.filename2)
        if isinstance(path, (str, bytes))
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


class InstallError(ResolventError):
    """Installing into or creating an environment failed; the environment is unchanged."""

    exit_code = 1


class InvalidWheelError(InstallError, ValueError):
    """A wheel that does not follow the binary distribution format, or is corrupt."""

    kind = "invalid"

    def __init__(self, wheel: str, problem: str) -> None:
        super().__init__(f"{self.kind} wheel `{wheel}`: {problem}")
        self.wheel = wheel
        self.problem = problem


class UnsafeWheelError(InvalidWheelError):
    """A wheel that would write outside its destination: traversal, absolute paths, links."""

    kind = "unsafe"


class HashMismatchError(InstallError, ValueError):
    """A downloaded or local file whose hash is not one the lock, ``--hash`` or index expects."""

    def __init__(self, filename: str, actual: str, expected: list[str]) -> None:
        super().__init__(
            f"hash mismatch for `{filename}`: computed `{actual}`, "
            f"expected {' or '.join(f'`{value}`' for value in expected)}",
            hint="the file was not unpacked; check the `--hash` values or the index",
        )
        self.filename = filename
        self.actual = actual
        self.expected = expected


class BuildError(InstallError):
    """Building a wheel from a source distribution or a local project failed."""


class VenvError(InstallError, BadInputError):
    """A virtual environment cannot be created or opened at the path given."""

    exit_code = 2  # bad input (a path, an interpreter request), as BadInputError


class NetworkError(ResolventError):
    """A package index could not be reached, refused a request or sent unusable data."""

    exit_code = 1


class IndexUnreachableError(NetworkError):
    """A request failed before any answer arrived: DNS, connection, TLS or a timeout."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"failed to fetch `{url}`: {reason}",
            hint="check the network connection and the index URL, or pass `--offline`",
        )
        self.url = url
        self.reason = reason


class HttpStatusError(NetworkError):
    """A server answered with an error status (after any retries)."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"`{url}` answered HTTP status {status}")
        self.url = url
        self.status = status


class NotCachedError(NetworkError):
    """Offline mode was asked for, and the answer is not in the cache."""

    def __init__(self, url: str) -> None:
        super().__init__(f"`{url}` is not in the cache and `--offline` is set")
        self.url = url


class RangeNotSupportedError(NetworkError):
    """A server ignored an HTTP ``Range`` request; callers fall back to a full download."""

    def __init__(self, url: str) -> None:
        super().__init__(f"`{url}` does not support range requests")
        self.url = url


class IndexDataError(NetworkError):
    """An index sent data that is wrong: a page that does not parse, a hash mismatch."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"invalid data from `{url}`: {problem}")
        self.url = url
        self.problem = problem
