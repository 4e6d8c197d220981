"""The user's home folder, and ``~`` in paths the user gives, for processes that lack one.

``Path.home()`` and ``Path.expanduser()`` raise :class:`RuntimeError` when they cannot
find the folder: ``~nosuchuser/x`` names a user without a passwd entry, and a process
whose ``HOME`` is unset and whose uid has no passwd entry (containers run as an
arbitrary uid: ``docker run -u 12345``) has no home at all. Both gave tracebacks, and
the second stopped every run before it began, even one given its cache folder and its
index, only because pip's per-user configuration files are looked for under the home.

Here, ``~`` in a path the user gave is an error about that input (uv refuses ``~user``
in requirements files too), and a missing home is ``None`` to callers that can do
without one. The user's cache folder, under the home by default, is found here too
(:func:`default_cache_folder`), as text: ``resolvent venv`` imports no :mod:`pathlib`.
"""

# ruff: noqa: PTH111, PTH117, PTH118
from __future__ import annotations

import os
import sys

from resolvent import TYPE_CHECKING
from resolvent.errors import BadInputError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["default_cache_folder", "expand_user", "home_folder"]


def home_folder() -> Path | None:
    """Return the user's home folder, or ``None`` when the process has none.

    ``None`` means: ``HOME`` is unset (or empty) and the uid has no passwd entry.
    """
    home = _home()
    if home is None:
        return None
    from pathlib import Path  # noqa: PLC0415 -- see the module's docstring

    return Path(home)


def _home() -> str | None:
    """Return the home folder as ``Path.home()`` finds it, or ``None`` where it raises."""
    home = os.path.expanduser("~")
    return None if home[:1] == "~" else home  # "Could not determine home directory."


def expand_user(path: str | Path, what: str) -> Path:
    """Return ``path`` with a leading ``~`` or ``~user`` replaced by that home folder.

    :param what: names the input in the error: ``` `r.txt` line 3 ```, ``` `-p` ```.
    :raises BadInputError: the user is unknown, or (for ``~``) the process has no home.
    """
    from pathlib import Path  # noqa: PLC0415 -- see the module's docstring

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


def default_cache_folder() -> str:
    """Return the user's cache folder: ``$RESOLVENT_CACHE_DIR``, else the XDG cache folder.

    The XDG folder is ``$XDG_CACHE_HOME/resolvent`` when that variable holds an
    absolute path, else ``~/.cache/resolvent`` (``%LOCALAPPDATA%`` on Windows). The
    folder is the one ``Path`` would name, spelled as given (``Path`` of it is equal).

    :raises BadInputError: ``$RESOLVENT_CACHE_DIR`` has a ``~`` that names no home, or
        the default folder is wanted and the process has no home.
    """
    explicit = os.environ.get("RESOLVENT_CACHE_DIR")
    if explicit:
        if "~" not in explicit:
            return explicit  # nothing to expand
        return os.fspath(expand_user(explicit, "`RESOLVENT_CACHE_DIR`"))
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "resolvent")
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return os.path.join(os.environ["LOCALAPPDATA"], "resolvent", "cache")
    home = _home()
    if home is None:
        raise BadInputError(
            "there is no home folder for the default cache",
            hint="set `RESOLVENT_CACHE_DIR` (or `XDG_CACHE_HOME`), or pass `--cache-dir`",
        )
    return os.path.join(home, ".cache", "resolvent")
