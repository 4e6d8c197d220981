"""Discovery finds the interpreter or environment a command means (``--python``, venvs).

Users name interpreters in several ways (a path, a venv folder, a version like
``3.11``, a name like ``python3.12``), and commands that act on an environment pick
one as uv does: an explicit ``--python``, else ``--system``'s interpreter, else the
active ``VIRTUAL_ENV``, else a ``.venv`` in the working folder or one of its parents.

Example::

    find_python("3.11")             # '/usr/bin/python3.11'
    find_environment(None).root     # the active venv, or ./.venv

``pathlib`` and ``re`` are imported where they are used, not with the module:
``resolvent venv --python PATH`` needs neither (see :func:`find_python`).
"""

# ruff: noqa: PTH100, PTH110, PTH116
from __future__ import annotations

import os
import stat
import sys

from resolvent import TYPE_CHECKING
from resolvent.errors import BadInputError, VenvError
from resolvent.installer.venv import Venv, query_interpreter
from resolvent.user_home import expand_user

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "environment_of",
    "externally_managed",
    "find_environment",
    "find_python",
    "refuse_externally_managed",
]


#: Compiled on first use (``re`` keeps it): an install into a venv given by path, or the
#: active one, asks no interpreter by version.
_VERSION = r"^(?:(?:python|py|cpython)[-@]?)?(\d+)(?:\.(\d+))?(?:\.(\d+))?$"


def _venv_python(folder: Path) -> Path:
    if os.name == "nt":
        return folder / "Scripts" / "python.exe"
    return folder / "bin" / "python"


def find_python(request: str | None) -> str:
    """Return the interpreter that ``request`` names (``None``: the one running resolvent).

    ``request`` may be a path to an executable, a venv folder, an executable name on
    ``PATH`` (``python3.12``) or a version (``3``, ``3.12``, ``3.12.1``). The answer is
    its path as ``str(Path(...))`` spells it, absolute when it names an existing file.

    :raises VenvError: nothing matches.
    """
    if request is None:
        running = getattr(sys, "_base_executable", None) or sys.executable
        return _existing_file(running) or _path_text(running)
    text = request.strip()
    found = _existing_file(text)
    if found is not None:
        return found
    try:
        candidate = expand_user(text, "`--python`")
    except BadInputError as error:  # `~nosuchuser/python`
        raise VenvError(error.message) from None
    if os.sep in text or text.startswith(".") or candidate.exists():
        if candidate.is_dir():
            candidate = _venv_python(candidate)
        if not os.path.exists(candidate):
            raise VenvError(f"no Python interpreter at `{request}`")
        return os.path.abspath(candidate)
    import re  # noqa: PLC0415 -- see _VERSION

    match = re.match(_VERSION, text)
    if match is None:
        found = _which(text)
        if found is None:
            raise VenvError(f"no Python interpreter named `{request}` on `PATH`")
        return _path_text(found)
    wanted = tuple(int(part) for part in match.groups() if part is not None)
    names = []
    if len(wanted) >= 2:
        names.append(f"python{wanted[0]}.{wanted[1]}")
    names += [f"python{wanted[0]}", "python3", "python"]
    for name in dict.fromkeys(names):
        found = _which(name)
        if found is None:
            continue
        try:
            version = query_interpreter(found).version
        except VenvError:
            continue
        if version[: len(wanted)] == wanted:
            return _path_text(found)
    raise VenvError(
        f"no Python {'.'.join(map(str, wanted))} interpreter found on `PATH`",
        hint="pass the interpreter's path with `--python`",
    )


def _existing_file(text: str) -> str | None:
    """Return the absolute path of the file (not folder) ``text`` names, else ``None``.

    What the rest of :func:`find_python` answers for such a path (the most common
    request: ``--python /usr/bin/python3.12``), found with one ``stat`` and without
    :mod:`pathlib`. ``None`` leaves every other case to it: ``~``, a folder, a path that
    cannot be read, a name on ``PATH``, a version.
    """
    if "~" in text:
        return None
    try:
        mode = os.stat(text).st_mode
    except (OSError, ValueError):
        return None
    # A path that ``stat`` reaches as given, ``Path(text)`` (which drops `.` parts and
    # doubled slashes) reaches too; and ``os.path.abspath`` spells it as ``Path`` would.
    return None if stat.S_ISDIR(mode) else os.path.abspath(text)


def _path_text(path: str) -> str:
    """Return ``str(Path(path))``, the spelling :func:`find_python` answers with."""
    from pathlib import Path  # noqa: PLC0415 -- see _existing_file

    return str(Path(path))


def _which(name: str) -> str | None:
    """``shutil.which``, with :mod:`shutil` imported only when a name is looked up on ``PATH``.

    ``resolvent venv --python PATH`` and an install into the active venv never look one
    up; importing ``shutil`` (with ``bz2`` and ``lzma``) cost ``resolvent venv`` 6 M
    instructions.
    """
    import shutil  # noqa: PLC0415 -- see the docstring

    return shutil.which(name)


def environment_of(python: Path | str) -> Venv:
    """Return the environment ``python`` installs into: its venv, or its own prefix.

    :raises VenvError: ``python`` is not a Python interpreter.
    """
    from pathlib import Path  # noqa: PLC0415 -- see the module's docstring

    # A venv is found by its ``pyvenv.cfg`` beside or above the (unresolved) executable;
    # the query runs with ``-S``, which leaves ``sys.prefix`` at the base on 3.11.
    folder = Path(os.path.abspath(python)).parent
    for candidate in (folder, folder.parent):
        if (candidate / "pyvenv.cfg").is_file():
            return Venv.open(candidate)
    info = query_interpreter(python)
    prefix = Path(info.prefix)
    return Venv(
        root=prefix,
        python=Path(info.executable),
        scripts=prefix / info.scripts,
        site_packages=prefix / info.purelib,
        platlib=prefix / info.platlib,
        version=info.version,
    )


def find_environment(python: str | None = None, *, system: bool = False) -> Venv:
    """Return the environment a pip-style command acts on, chosen as uv chooses.

    :param python: an explicit interpreter or venv (see :func:`find_python`).
    :param system: use the first ``python3`` on ``PATH`` even outside a venv.
    :raises VenvError: no environment can be found.
    """
    from pathlib import Path  # noqa: PLC0415 -- see the module's docstring

    if python is not None:
        environment = environment_of(find_python(python))
        _refuse_broken_venv(python, environment)
        return environment
    if system:
        found = _which("python3") or _which("python")
        if found is None:
            raise VenvError("no `python3` on `PATH` for `--system`")
        return environment_of(Path(found))
    active = os.environ.get("VIRTUAL_ENV")
    if active:
        return Venv.open(Path(active))
    folder = Path(os.path.abspath(os.curdir))
    while True:
        if (folder / ".venv" / "pyvenv.cfg").is_file():
            return Venv.open(folder / ".venv")
        if (folder / ".venv").is_dir():  # as uv: not skipped for a parent's, nor the base
            raise VenvError(
                f"broken virtual environment `{folder / '.venv'}`: `pyvenv.cfg` is missing",
                hint="recreate it with `resolvent venv`, or pass `--python`",
            )
        if folder.parent == folder:
            break
        folder = folder.parent
    raise VenvError(
        "no virtual environment found",
        hint="create one with `resolvent venv`, or pass `--python` or `--system`",
    )


def _refuse_broken_venv(request: str, environment: Venv) -> None:
    """Refuse a ``--python`` folder that is a venv without its ``pyvenv.cfg``.

    Its ``bin/python`` is a link to the base interpreter, which without ``pyvenv.cfg``
    runs as itself: the environment found was the base interpreter's, and installing
    or uninstalling there changed the wrong environment. A folder that is an
    interpreter's own prefix (``/usr/local``, a pyenv version) has no ``pyvenv.cfg``
    either, and is what it names.
    """
    try:
        folder = expand_user(request.strip(), "`--python`")
    except BadInputError:
        return
    if not folder.is_dir() or (folder / "pyvenv.cfg").is_file():
        return
    try:
        same = folder.samefile(environment.root)
    except OSError:
        same = False
    if not same:
        raise VenvError(
            f"broken virtual environment `{request}`: `pyvenv.cfg` is missing",
            hint=f"its interpreter runs as the one at `{environment.root}`; "
            "recreate the environment with `resolvent venv`",
        )


def externally_managed(environment: Venv) -> str | None:
    """Return the distributor's message if ``environment`` is externally managed (PEP 668).

    A distribution that manages its Python's packages itself (Debian, Fedora, Arch)
    puts an ``EXTERNALLY-MANAGED`` file in the interpreter's standard library folder;
    installers must then refuse to change that environment unless told to go ahead,
    as pip and uv do (``--break-system-packages``). A virtual environment is never
    managed so (it has a ``pyvenv.cfg``). The standard library folder is where
    ``sysconfig`` puts it for a prefix: ``lib/pythonX.Y`` (or ``lib64``), ``Lib`` on
    Windows. Returns the file's ``Error`` text, ``""`` when it states none or cannot be
    read, and ``None`` when the environment is not externally managed.
    """
    root = environment.root
    if (root / "pyvenv.cfg").is_file():
        return None
    short = f"python{environment.version[0]}.{environment.version[1]}"
    folders = [root / "Lib"] if os.name == "nt" else [root / "lib" / short, root / "lib64" / short]
    for folder in folders:
        marker = folder / "EXTERNALLY-MANAGED"
        try:
            text = marker.read_bytes().decode("utf-8", errors="replace")
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            return ""  # there, but unreadable: still a managed interpreter
        return _managed_message(text)
    return None


def refuse_externally_managed(environment: Venv, *, break_system_packages: bool) -> Venv:
    """Return ``environment`` unless it is externally managed (PEP 668) and not overridden.

    As pip and uv do: installing into or removing from a Python that the operating
    system's package manager owns can break the system's own tools. Every command that
    changes an environment calls this, so that each refuses alike.

    :raises BadInputError: the environment is externally managed and
        ``break_system_packages`` is not set; the distributor's first line is quoted.
    """
    message = externally_managed(environment)
    if message is None or break_system_packages:
        return environment
    said = f": {message.splitlines()[0]}" if message else ""
    raise BadInputError(
        f"the interpreter at `{environment.root}` is externally managed (PEP 668){said}",
        hint="create a virtual environment with `resolvent venv`, "
        "or pass `--break-system-packages`",
    )


def _managed_message(text: str) -> str:
    """Return the ``Error`` value of an ``EXTERNALLY-MANAGED`` file (``""`` if none)."""
    import configparser  # noqa: PLC0415 -- only for interpreters outside a venv

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return ""
    return parser.get("externally-managed", "Error", fallback="").strip()
