"""The user's home folder, and ``~`` in paths the user gives, for processes that lack one.

``Path.home()`` and ``Path.expanduser()`` raise :class:`RuntimeError` when they cannot
find the folder: ``~nosuchuser/x`` names a user without a passwd entry, and a process
whose ``HOME`` is unset and whose uid has no passwd entry (containers run as an
arbitrary uid: ``docker run -u 12345``) has no home at all. Both gave tracebacks, and
the second stopped every run before it began, even one given its cache folder and its
index, only because pip's per-user configuration files are looked for under the home.

Here, ``~`` in a path the user gave is an error about that input (uv refuses ``~user``
in requirements files too), and a missing home is ``None`` to callers that can do
without one.
"""

from __future__ import annotations

from pathlib import Path

from resolvent.errors import BadInputError

__all__ = ["expand_user", "home_folder"]


def home_folder() -> Path | None:
    """Return the user's home folder, or ``None`` when the process has none.

    ``None`` means: ``HOME`` is unset (or empty) and the uid has no passwd entry.
    """
    try:
        return Path.home()
    except RuntimeError:  # "Could not determine home directory."
        return None


def expand_user(path: str | Path, what: str) -> Path:
    """Return ``path`` with a leading ``~`` or ``~user`` replaced by that home folder.

    :param what: names the input in the error: ``` `r.txt` line 3 ```, ``` `-p` ```.
    :raises BadInputError: the user is unknown, or (for ``~``) the process has no home.
    """
    path = Path(path)
    try:
        return path.expanduser()
    except RuntimeError:  # "Could not determine home directory."
        first = path.parts[0] if path.parts else str(path)
        reason = (
            "the home folder is unknown (`HOME` is not set)"
            if first == "~"
            else f"there is no user `{first[1:]}`"
        )
        raise BadInputError(f"{what}: cannot expand `{first}` in `{path}`: {reason}") from None
