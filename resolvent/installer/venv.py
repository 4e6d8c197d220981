"""A virtual environment is a folder whose ``pyvenv.cfg`` gives a base Python its own packages.

Creating one needs no subprocess beyond one query of the base interpreter: the layout
(``pyvenv.cfg``, ``bin/python*`` links to the base executable, ``lib/pythonX.Y/
site-packages``, activation scripts) is plain files, so writing them directly takes
milliseconds where ``python -m venv`` with ensurepip takes seconds. The new folder is
built beside its target and renamed into place, so a failed creation leaves nothing.

Example::

    venv = create_venv(Path(".venv"), python=Path("/usr/bin/python3"))
    venv.python  # PosixPath('.venv/bin/python')
"""

# Hot paths use str paths and os calls, as DESIGN.md asks:
# ruff: noqa: PTH100, PTH101, PTH103, PTH105, PTH109, PTH110, PTH112, PTH116, PTH118
# ruff: noqa: PTH119, PTH120, PTH211
from __future__ import annotations

import contextlib
import functools
import os
import sys
import time

# Not imported here: ``dataclasses`` (see ``Interpreter``) and ``threading`` (queries
# only): with what they import, they were a sixth of ``resolvent venv``'s instructions.
# Nor ``hashlib``, ``tempfile`` and ``shutil`` (see :func:`~resolvent.hashes.sha256_hex`,
# :mod:`resolvent.folders`): a fifth of what was left. Nor ``pathlib`` (with ``re``,
# ``fnmatch``, ``urllib.parse`` and ``ipaddress``: 5 of the 20 ms ``resolvent venv``
# took) and ``json`` (1 ms more): a venv is made with str paths (see :func:`make_venv`),
# and the interpreter's answer is kept in a format of its own (see :func:`_record`);
# ``Path`` objects are made only for the callers that are given a :class:`Venv`.
from resolvent import TYPE_CHECKING, __version__
from resolvent.atomic_write import write_atomically
from resolvent.errors import VenvError, os_paths, os_reason
from resolvent.folders import make_private_folder, remove_tree
from resolvent.hashes import sha256_hex
from resolvent.value_class import DataclassLike, Value

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import IO, Any, Final, TypeVar

    from resolvent.installer.destination import Scheme, SchemeDestination
    from resolvent.installer.link import LinkMode

    T = TypeVar("T")  # a field's type in the interpreter's answer

__all__ = ["Interpreter", "Venv", "create_venv", "make_venv", "query_interpreter"]

_BASE = "/@resolvent-base@"

# Runs inside the target interpreter (any Python 3): what a venv needs to know of it.
_QUERY = f"""
import json, os, sys, sysconfig
names = sysconfig.get_scheme_names()
scheme = "venv" if "venv" in names else ("nt" if os.name == "nt" else "posix_prefix")
base = {_BASE!r}
bundled = os.path.join(sysconfig.get_paths()["stdlib"], "ensurepip", "_bundled")
def names_in(folder):
    try:
        return sorted(n for n in os.listdir(folder) if n.endswith(".whl"))
    except OSError:
        return []
paths = sysconfig.get_paths(scheme, vars={{"base": base, "platbase": base,
    "installed_base": base, "installed_platbase": base}})
print(json.dumps({{
    "version": list(sys.version_info),
    "implementation": sys.implementation.name,
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "executable": sys.executable,
    "base_executable": getattr(sys, "_base_executable", sys.executable),
    "platform": sys.platform,
    "is_64bit": sys.maxsize > 2 ** 32,
    "paths": {{k: v for k, v in paths.items() if k in ("purelib", "platlib", "scripts")}},
    "bundled": [os.path.join(bundled, name) for name in names_in(bundled)],
}}))
"""


class Interpreter(Value, DataclassLike):
    """What a venv needs to know of a base Python, from one query of it.

    ``dataclasses.replace``, ``asdict`` and ``fields`` work on it, through
    :class:`~resolvent.value_class.DataclassFields`: the ``@dataclass`` decorator it
    had imported ``dataclasses`` for every ``resolvent venv``.
    """

    __slots__ = (
        "base_executable",
        "base_prefix",
        "bundled_wheels",
        "executable",
        "implementation",
        "is_64bit",
        "platform",
        "platlib",
        "prefix",
        "purelib",
        "release",
        "scripts",
        "version",
    )

    executable: Final[str]
    base_executable: Final[str]
    prefix: Final[str]
    base_prefix: Final[str]
    version: Final[tuple[int, int, int]]
    release: Final[str]
    implementation: Final[str]
    platform: Final[str]
    is_64bit: Final[bool]
    purelib: Final[str]
    platlib: Final[str]
    scripts: Final[str]
    bundled_wheels: Final[tuple[str, ...]]

    def __init__(  # noqa: PLR0917 -- one per answer of the query, in its order
        self,
        executable: str,
        base_executable: str,
        prefix: str,
        base_prefix: str,
        version: tuple[int, int, int],
        release: str,
        implementation: str,
        platform: str,
        is_64bit: bool,  # noqa: FBT001
        purelib: str,
        platlib: str,
        scripts: str,
        bundled_wheels: tuple[str, ...] = (),
    ) -> None:
        self.executable = executable
        self.base_executable = base_executable
        self.prefix = prefix
        self.base_prefix = base_prefix
        self.version = version
        self.release = release
        self.implementation = implementation
        self.platform = platform
        self.is_64bit = is_64bit
        self.purelib = purelib
        self.platlib = platlib
        self.scripts = scripts
        self.bundled_wheels = bundled_wheels

    @property
    def version_text(self) -> str:
        """``X.Y.Z`` (with ``a1``, ``rc1``... for pre-releases), as ``pyvenv.cfg`` writes."""
        return ".".join(map(str, self.version)) + self.release

    @property
    def short_version(self) -> str:
        """``X.Y``."""
        return f"{self.version[0]}.{self.version[1]}"


def _relative(path: str) -> str:
    if not path.startswith(_BASE):
        raise VenvError(f"the interpreter reports a path outside its prefix: `{path}`")
    return path[len(_BASE) :].lstrip("/\\")


#: How long an interpreter may take to answer: a Python starts in tens of milliseconds,
#: and even a cold start from a slow disk takes seconds, not a minute.
_QUERY_TIMEOUT = 60
#: Most output an interpreter's answer (or its error) may have. The answer is a few KB
#: (paths, some wheel names); ``--python`` can name any program, and one that prints
#: without end (``yes``) filled memory for the whole timeout.
_QUERY_OUTPUT_LIMIT = 1 << 20


def _run_bounded(command: list[str]) -> tuple[bytes, bytes]:
    """Run ``command``; return its output and error output, each cut after the limit.

    As soon as either passes :data:`_QUERY_OUTPUT_LIMIT` the program is killed and the
    answer returned, so a returned stream longer than the limit means "too long". uv
    aborts on such a program (it runs out of memory); the caller reports it in one line.
    A stream that a program's own child keeps open (after the program exits) is waited
    for only up to :data:`_QUERY_TIMEOUT`, then the query times out; its reader thread
    is a daemon, left blocked rather than joined, so it never holds up the exit.

    :raises subprocess.TimeoutExpired: the program ran for :data:`_QUERY_TIMEOUT`.
    :raises OSError: the program cannot be started.
    """
    import subprocess  # noqa: PLC0415 -- see _seed
    import threading  # noqa: PLC0415 -- as subprocess: a warm run asks no interpreter

    process = subprocess.Popen(  # noqa: S603 -- the interpreter the user chose
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    # Both are pipes, as asked: never None.
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None
    assert stderr is not None
    streams: list[IO[bytes]] = [stdout, stderr]
    captured = [b"" for _ in streams]
    finished = [False for _ in streams]
    changed = threading.Event()

    def drain(index: int) -> None:
        try:
            captured[index] = streams[index].read(_QUERY_OUTPUT_LIMIT + 1)
        except (OSError, ValueError):
            pass
        finally:
            # Closed by its reader: at once, a program still writing gets SIGPIPE; and
            # once its child closes it, a stream the query no longer waits for.
            with contextlib.suppress(OSError):
                streams[index].close()
            finished[index] = True
            changed.set()

    readers = [threading.Thread(target=drain, args=(i,), daemon=True) for i in range(len(streams))]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + _QUERY_TIMEOUT

    def too_long() -> bool:
        return any(len(data) > _QUERY_OUTPUT_LIMIT for data in captured)

    while not all(finished) and not too_long():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        changed.wait(remaining)
        changed.clear()  # the loop's test reads the state itself: no wake-up is lost
    timed_out = not all(finished) and not too_long()
    if not timed_out and not too_long():
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:  # it closed its output but runs on
            timed_out = True
    if process.poll() is None:
        with contextlib.suppress(OSError):
            process.kill()
        process.wait()
        for reader in readers:  # killed, it closes its ends: the readers see the end
            reader.join(1.0)
    if timed_out:
        raise subprocess.TimeoutExpired(command, _QUERY_TIMEOUT)
    return captured[0], captured[1]


@functools.cache
def _query(executable: str, _stamp: tuple[int, int, int]) -> Interpreter:
    import subprocess  # noqa: PLC0415 -- see _seed

    from resolvent.json_text import parse_json  # noqa: PLC0415 -- as subprocess

    try:
        stdout, stderr = _run_bounded([executable, "-I", "-S", "-c", _QUERY])
    except subprocess.TimeoutExpired:
        # The exception's text quotes the whole command, query script included.
        raise VenvError(
            f"cannot run the interpreter `{executable}`: "
            f"it did not answer within {_QUERY_TIMEOUT} seconds"
        ) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise VenvError(f"cannot run the interpreter `{executable}`: {reason}") from None
    if len(stdout) > _QUERY_OUTPUT_LIMIT or len(stderr) > _QUERY_OUTPUT_LIMIT:
        raise VenvError(
            f"`{executable}` did not answer as a Python interpreter: it printed "
            f"over {_QUERY_OUTPUT_LIMIT >> 20} MiB"
        )
    try:
        data = parse_json(stdout)
    except ValueError:
        error_text = stderr.decode("utf-8", errors="replace")
        detail = error_text.strip().splitlines()[-1:] or ["no output"]
        raise VenvError(
            f"`{executable}` did not answer as a Python interpreter: {detail[0]}"
        ) from None
    try:
        return _interpreter(data)
    except VenvError:  # a ValueError too, already saying what is wrong (a path)
        raise
    except ValueError as error:
        # Any program can be named with `--python`; one that prints other JSON is as
        # much "not a Python" as one that prints nothing.
        raise VenvError(f"`{executable}` did not answer as a Python interpreter: {error}") from None


#: What :func:`_interpreter` says of a field of another type than the query prints.
_UNEXPECTED = "its answer has an unexpected `{}`"


def _interpreter(data: Any) -> Interpreter:
    """Build the :class:`Interpreter` from the query's answer, checking every field's type.

    :raises ValueError: saying which field is missing or of another type, or that the
        answer is not an object, in the words the error shows after the executable.
    """
    if not isinstance(data, dict):
        raise ValueError("its answer is not what the query prints")  # noqa: TRY004 -- bad data
    version = _typed(data, "version", list)
    if len(version) != 5 or not all(isinstance(version[i], int) for i in (0, 1, 2, 4)):
        raise ValueError(_UNEXPECTED.format("version"))
    major, minor, micro, level, serial = version
    release = {"alpha": f"a{serial}", "beta": f"b{serial}", "candidate": f"rc{serial}"}
    paths = _typed(data, "paths", dict)
    bundled = data.get("bundled", [])
    if not isinstance(bundled, list) or not all(isinstance(b, str) for b in bundled):
        raise ValueError(_UNEXPECTED.format("bundled"))
    executable = _typed(data, "executable", str)
    return Interpreter(
        executable=executable,
        base_executable=_typed(data, "base_executable", str) or executable,
        prefix=_typed(data, "prefix", str),
        base_prefix=_typed(data, "base_prefix", str),
        version=(major, minor, micro),
        release=release.get(level, "") if isinstance(level, str) else "",
        implementation=_typed(data, "implementation", str),
        platform=_typed(data, "platform", str),
        is_64bit=_typed(data, "is_64bit", bool),
        purelib=_relative(_typed(paths, "purelib", str)),
        platlib=_relative(_typed(paths, "platlib", str)),
        scripts=_relative(_typed(paths, "scripts", str)),
        bundled_wheels=tuple(bundled),
    )


def _typed(data: dict[str, Any], key: str, kind: type[T]) -> T:
    """Return ``data[key]``, which must be a ``kind``.

    :raises ValueError: naming ``key`` when it is missing or its value is of another type.
    """
    if key not in data:
        raise ValueError(f"its answer has no `{key}`")
    value = data[key]
    if not isinstance(value, kind):
        raise ValueError(_UNEXPECTED.format(key))  # noqa: TRY004 -- bad data, not a bug
    return value


def query_interpreter(python: Path | str, *, cache_root: Path | str | None = None) -> Interpreter:
    """Ask ``python`` once for its version, prefixes and layout (cached per file state).

    With ``cache_root`` (a resolvent cache folder) the answer is also kept on disk, as
    uv keeps its interpreter info: starting a Python to ask it costs tens of
    milliseconds, a good share of a warm install. The answer is keyed by the path and
    reused only while the executable (and the venv's ``pyvenv.cfg`` contents) is unchanged.
    A venv's answer is also kept by the venv's shape (see :func:`_shape_key`), so that a
    fresh venv elsewhere for the same interpreter (one per CI job or benchmark run) is
    answered without a query too.

    Raises :class:`VenvError` when ``python`` does not exist or is not a Python.
    """
    try:
        info = os.stat(python)
    except OSError:
        raise VenvError(f"no interpreter at `{python}`") from None
    executable = os.path.abspath(python)
    stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
    if cache_root is None:
        return _query(executable, stamp)
    root = os.path.dirname(os.path.dirname(executable))
    try:
        # The venv's configuration by contents, not by file identity: a venv made again
        # at the same path for the same interpreter answers the same.
        with open(os.path.join(root, "pyvenv.cfg"), "rb") as stream:  # noqa: PTH123
            config = stream.read()
    except OSError:
        config = None
    config_stamp = [] if config is None else [sha256_hex(config)[:32]]
    key = [executable, *stamp, *config_stamp, _query_version()]
    bucket = os.path.join(cache_root, INTERPRETER_BUCKET)
    record = os.path.join(bucket, sha256_hex(executable.encode())[:32])
    found = _load_interpreter(record, key)
    if found is not None:
        return found
    shaped: tuple[str, list[object]] | None = None  # (record, key) by the venv's shape
    if config is not None:
        shape = _shape_key(executable, stamp, config)
        name = sha256_hex(_record_fields(shape))[:32]
        shaped = (os.path.join(bucket, f"venv-{name}"), shape)
        found = _load_interpreter(*shaped)
        if found is not None:
            found = _moved(found, executable)
    interpreter = found or _query(executable, stamp)
    with contextlib.suppress(OSError):
        _store_interpreter(record, key, interpreter)
        if shaped is not None and found is None and _relocatable(interpreter, executable):
            _store_interpreter(*shaped, interpreter)
    return interpreter


def _shape_key(executable: str, stamp: tuple[int, int, int], config: bytes) -> list[object]:
    """Return what a venv's answer depends on besides the venv's own place.

    That is the base interpreter's file (the stat of the followed link), the
    executable's name (the base executable is ``home`` plus that name) and
    ``pyvenv.cfg`` less its ``command`` line, which only records how the venv was made
    (and names its path); the interpreter does not read it.
    """
    kept = [
        line
        for line in config.splitlines()
        if line.partition(b"=")[0].strip().lower() != b"command"
    ]
    digest = sha256_hex(b"\n".join(kept))[:32]
    return [os.path.basename(executable), *stamp, digest, _query_version()]


def _relocatable(interpreter: Interpreter, executable: str) -> bool:
    """Whether the answer names the venv's place only where :func:`_moved` changes it.

    That is: the executable is the path asked, and the prefix is the venv's root (a
    Python whose ``sys.prefix`` follows ``pyvenv.cfg`` without ``site``) or lies
    outside the venv, as every other path in the answer must.
    """
    root = os.path.dirname(os.path.dirname(executable))
    inside = root + os.sep
    others = (interpreter.base_executable, interpreter.base_prefix, *interpreter.bundled_wheels)
    return (
        interpreter.executable == executable
        and (interpreter.prefix == root or not interpreter.prefix.startswith(inside))
        and not any(path == root or path.startswith(inside) for path in others)
    )


def _moved(interpreter: Interpreter, executable: str) -> Interpreter:
    """Return a relocatable answer for another venv of the same shape, placed at ``executable``."""
    old_root = os.path.dirname(os.path.dirname(interpreter.executable))
    root = os.path.dirname(os.path.dirname(executable))
    prefix = root if interpreter.prefix == old_root else interpreter.prefix
    fields = _fields(interpreter)
    fields.update(executable=executable, prefix=prefix)
    return Interpreter(**fields)


def _fields(interpreter: Interpreter) -> dict[str, Any]:
    """Return the answer's fields by name, in order (as ``dataclasses.asdict`` does)."""
    return dict(zip(Interpreter.value_fields, interpreter.field_values(), strict=True))


#: The answers' bucket; the number is the records' format (see :func:`_record`): a new
#: format never reads an old one, nor an older resolvent a newer one (each would take
#: the other's file for a miss, and replace it, at every run).
INTERPRETER_BUCKET = "interpreter-v2"


@functools.cache
def _query_version() -> str:
    """Return the digest of the query's code, part of every cached answer's key.

    Made on first use, not on import: an install imports this module before it loads
    ``hashlib``, and a digest made then would load the SHA-256 module ``hashlib`` makes
    needless (see :func:`~resolvent.hashes.sha256_hex`).
    """
    return sha256_hex(_QUERY.encode())[:16]


#: The first field of every record (see :func:`_record`): a file that does not start so
#: (damaged, or written by something else) is a miss.
_RECORD_FORMAT = "resolvent interpreter answer 2"
#: Most bytes a record may have: it is about 1 KB (paths, some wheel names). A longer
#: file is not one of ours, and is a miss; a longer answer is not kept. A read of 1 MiB
#: mapped and unmapped that much memory (three calls of the system) for each read.
_RECORD_LIMIT = 1 << 16


def _record_fields(fields: Sequence[object]) -> bytes:
    """Return ``fields`` as text, each ended by a NUL (which no path or name can hold)."""
    return "".join(f"{field}\0" for field in fields).encode("utf-8", "surrogatepass")


def _record_start(key: Sequence[object]) -> bytes:
    """Return the start of every record kept under ``key``: the format, then the key."""
    return _record_fields((_RECORD_FORMAT, len(key), *key))


def _record(key: Sequence[object], interpreter: Interpreter) -> bytes:
    """Return the record of ``interpreter``'s answer kept under ``key``.

    The format, the key, then the answer's fields: plain NUL-ended text, which reads
    back with ``str.split`` (:func:`_load_interpreter`). It was JSON, whose module
    (``json.decoder`` imports ``re``) was a tenth of ``resolvent venv``'s imports.
    """
    bundled = interpreter.bundled_wheels
    answer = (
        interpreter.executable,
        interpreter.base_executable,
        interpreter.prefix,
        interpreter.base_prefix,
        *interpreter.version,
        interpreter.release,
        interpreter.implementation,
        interpreter.platform,
        int(interpreter.is_64bit),
        interpreter.purelib,
        interpreter.platlib,
        interpreter.scripts,
        len(bundled),
        *bundled,
    )
    return _record_start(key) + _record_fields(answer)


def _load_interpreter(record: str, key: Sequence[object]) -> Interpreter | None:
    """Return the answer kept in the file ``record`` under ``key``, else ``None``.

    Anything else is a miss, answered by a query whose answer replaces the file: no
    file, another key, a file damaged, cut short or of another format (an answer is
    used only when writing it again gives the very bytes read).
    """
    try:
        handle = os.open(record, os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(handle, _RECORD_LIMIT + 1)
    except OSError:
        return None
    finally:
        os.close(handle)
    return _parse_record(key, data)


def _parse_record(key: Sequence[object], data: bytes) -> Interpreter | None:
    """Return the answer :func:`_record` wrote as ``data`` under ``key``, else ``None``."""
    start = _record_start(key)
    if not data.startswith(start):
        return None
    try:
        (
            executable, base_executable, prefix, base_prefix, major, minor, micro, release,
            implementation, platform, is_64bit, purelib, platlib, scripts, _count, *rest,
        ) = data[len(start) :].decode("utf-8", "surrogatepass").split("\0")  # fmt: skip
        found = Interpreter(
            executable,
            base_executable,
            prefix,
            base_prefix,
            (int(major), int(minor), int(micro)),
            release,
            implementation,
            platform,
            is_64bit == "1",
            purelib,
            platlib,
            scripts,
            tuple(rest[:-1]),  # the text after the last NUL: none
        )
    except ValueError:  # too few fields, a version that is not a number, not UTF-8
        return None
    return found if _record(key, found) == data else None


def _store_interpreter(record: str, key: Sequence[object], interpreter: Interpreter) -> None:
    data = _record(key, interpreter)
    if len(data) > _RECORD_LIMIT or _parse_record(key, data) != interpreter:
        return  # it would not be read whole, or not back as it is (a field with a NUL)
    os.makedirs(os.path.dirname(record), exist_ok=True)
    write_atomically(record, data)


class Venv(Value):
    """A virtual environment on disk: where its interpreter, scripts and packages are."""

    __slots__ = ("platlib", "python", "root", "scripts", "site_packages", "version")

    def __init__(  # noqa: PLR0917 -- callers pass the fields in order
        self,
        root: Path,
        python: Path,
        scripts: Path,
        site_packages: Path,
        platlib: Path,
        version: tuple[int, int, int],
    ) -> None:
        self.root: Final = root
        self.python: Final = python
        self.scripts: Final = scripts
        self.site_packages: Final = site_packages
        self.platlib: Final = platlib
        self.version: Final = version

    @classmethod
    def open(cls, root: Path) -> Venv:
        """Return the venv at ``root`` from its ``pyvenv.cfg`` and layout.

        Raises :class:`VenvError` when ``root`` is not a virtual environment.
        """
        config = _read_config(root / "pyvenv.cfg")
        if config is None:
            raise VenvError(f"`{root}` is not a virtual environment (no `pyvenv.cfg`)")
        text = config.get("version_info") or config.get("version") or ""
        # ASCII digits, and few: int() accepts other scripts' digits and refuses 4,300 of them.
        numbers = [int(part) for part in text.split(".")[:3] if _small_number(part)]
        if len(numbers) < 2:
            raise VenvError(f"`{root / 'pyvenv.cfg'}` names no Python version")
        version = (numbers[0], numbers[1], numbers[2] if len(numbers) > 2 else 0)
        if os.name == "nt":
            scripts, site = root / "Scripts", root / "Lib" / "site-packages"
            python = scripts / "python.exe"
        else:
            scripts, python = root / "bin", root / "bin" / "python"
            site = root / "lib" / f"python{version[0]}.{version[1]}" / "site-packages"
            if not site.is_dir():
                found = sorted((root / "lib").glob("*/site-packages"))
                site = found[0] if found else site
        return cls(root, python, scripts, site, site, version)

    @property
    def scheme(self) -> Scheme:
        """The install scheme: packages, scripts, headers and data of this venv."""
        # Imported on use, as below: creating a venv installs nothing.
        from resolvent.installer.destination import Scheme  # noqa: PLC0415

        major, minor, _ = self.version
        headers = self.root / "include" / "site" / f"python{major}.{minor}"
        return Scheme(self.site_packages, self.platlib, self.scripts, headers, self.root, self.root)

    def destination(self, link_mode: LinkMode | None = None) -> SchemeDestination:
        """Return a destination that installs into this venv with ``link_mode`` (hardlink)."""
        from resolvent.installer.destination import SchemeDestination  # noqa: PLC0415
        from resolvent.installer.link import LinkMode  # noqa: PLC0415

        mode = LinkMode.HARDLINK if link_mode is None else link_mode
        return SchemeDestination(self.scheme, python=os.fspath(self.python), link_mode=mode)


def _small_number(text: str) -> bool:
    """Whether ``text`` is one to nine ASCII digits (``re`` is not imported for it)."""
    return 0 < len(text) < 10 and text.isascii() and text.isdigit()


def _read_config(path: Path) -> dict[str, str] | None:
    """Read ``pyvenv.cfg``; ``None`` when there is none, :class:`VenvError` when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except UnicodeDecodeError:
        raise VenvError(f"`{path}` is not a text file") from None
    except OSError as error:
        raise VenvError(f"cannot read `{path}`: {os_reason(error)}") from None
    config = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            config[key.strip().lower()] = value.strip()
    return config


def create_venv(
    path: Path | str,
    *,
    python: Path | str,
    seed: bool = False,
    prompt: str | None = None,
    system_site_packages: bool = False,
    clear: bool = False,
    cache_root: Path | str | None = None,
) -> Venv:
    """Create a virtual environment at ``path`` for the interpreter ``python``.

    :param python: any Python executable; a venv's python is followed to its base.
    :param seed: also install pip: the wheel the interpreter's ``ensurepip`` bundles,
        or, when it has none, by running ``ensurepip`` inside the new venv.
    :param prompt: the activation prompt (default: the folder name; ``.``: the current
        folder's name).
    :param system_site_packages: let the venv see the base interpreter's packages.
    :param clear: replace an existing venv at ``path``; without it that is an error.
    :param cache_root: a resolvent cache folder that keeps the interpreter's answers
        (see :func:`query_interpreter`).

    Raises :class:`VenvError` when ``path`` is a file, a folder that is not a venv and not
    empty, or an existing venv without ``clear``, and when the file system refuses (a
    parent that is a file, a read-only folder); nothing is left behind then.

    Example::

        venv = create_venv(Path(".venv"), python=Path(sys.executable))
    """
    interpreter = query_interpreter(python, cache_root=cache_root)
    target = make_venv(
        path,
        interpreter,
        seed=seed,
        prompt=prompt,
        system_site_packages=system_site_packages,
        clear=clear,
    )
    return _venv_at(target, interpreter)


def make_venv(
    path: Path | str,
    interpreter: Interpreter,
    *,
    seed: bool = False,
    prompt: str | None = None,
    system_site_packages: bool = False,
    clear: bool = False,
) -> str:
    """Create the venv at ``path`` as :func:`create_venv` does; return its absolute path.

    For an interpreter already asked (:func:`query_interpreter`), and without the
    :class:`Venv` of :func:`create_venv`, whose paths are ``Path`` objects:
    ``resolvent venv`` needs neither, and importing :mod:`pathlib` (with ``re``,
    ``urllib.parse`` and ``ipaddress``) was a quarter of its 20 ms. Raises as
    :func:`create_venv` does.
    """
    target = os.path.abspath(path)
    if prompt == ".":
        prompt = os.path.basename(os.getcwd())
    try:
        existing = _check_target(target, clear=clear)
        _build(target, interpreter, prompt, system_site_packages, existing=existing)
    except OSError as error:
        raise _os_failure(target, error) from None
    if seed:
        _seed(_venv_at(target, interpreter), interpreter)
    return target


def _venv_at(target: str, interpreter: Interpreter) -> Venv:
    """Return the venv :func:`make_venv` made at ``target`` for ``interpreter``."""
    from pathlib import Path  # noqa: PLC0415 -- see make_venv

    root = Path(target)
    return Venv(
        root=root,
        python=root / interpreter.scripts / "python",
        scripts=root / interpreter.scripts,
        site_packages=root / interpreter.purelib,
        platlib=root / interpreter.platlib,
        version=interpreter.version,
    )


def _build(
    target: str,
    interpreter: Interpreter,
    prompt: str | None,
    system_site_packages: bool,  # noqa: FBT001 -- private, positional by design
    *,
    existing: bool,
) -> None:
    """Write the venv beside ``target`` and rename it into place (replacing ``existing``)."""
    _make_parents(target)
    parent, name = os.path.split(target)
    build = make_private_folder(parent, f".{name}.tmp-")
    trash: str | None = None
    try:
        os.chmod(build, 0o755)  # noqa: S103 -- made private, as mkdtemp makes it; a venv is not
        _write_layout(build, target, interpreter, prompt, system_site_packages)
        if existing:
            trash = make_private_folder(parent, f".{name}.old-")
            os.replace(target, os.path.join(trash, "venv"))
        os.replace(build, target)  # an empty folder at ``target`` is replaced
    except BaseException:
        if trash is not None:
            old = os.path.join(trash, "venv")
            if os.path.lexists(old) and not os.path.lexists(target):
                os.replace(old, target)  # the new one did not take its place: the old comes back
            remove_tree(trash)
        remove_tree(build)
        raise
    if trash is not None:
        remove_tree(trash)


def _make_parents(target: str) -> None:
    """Make the parents of ``target``; a file in the way is bad input, said as such."""
    if os.path.isdir(os.path.dirname(target)):
        return  # what ``mkdir(parents=True, exist_ok=True)`` below would find
    from pathlib import Path  # noqa: PLC0415 -- only when there are parents to make

    path = Path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        # ``mkdir`` names the path it tried, not the file in the way: find that file.
        blocker = path.parent
        while not os.path.lexists(blocker) and blocker.parent != blocker:
            blocker = blocker.parent
        if os.path.lexists(blocker) and not blocker.is_dir():
            raise VenvError(
                f"cannot create a virtual environment at `{target}`: `{blocker}` is a file"
            ) from None
        raise


def _os_failure(target: str, error: OSError) -> VenvError:
    """Return the one-line error for the file system refusing to create ``target``."""
    reason = os_reason(error)
    where = next(iter(os_paths(error)), None)
    if where is not None and os.path.basename(where).startswith(f".{os.path.basename(target)}."):
        where = None  # our temporary folder beside the target: name the target instead
    detail = f" (`{where}`)" if where is not None and where != target else ""
    return VenvError(f"cannot create a virtual environment at `{target}`: {reason}{detail}")


def _check_target(target: str, *, clear: bool) -> bool:
    """Return whether ``target`` is a venv to replace; raise when it cannot be used."""
    if not os.path.lexists(target):
        return False
    from pathlib import Path  # noqa: PLC0415 -- only for a path that exists

    path = Path(target)
    if not path.is_dir() or path.is_symlink():
        raise VenvError(f"`{target}` exists and is not a folder")
    if (path / "pyvenv.cfg").is_file():
        if not clear:
            raise VenvError(
                f"`{target}` is already a virtual environment",
                hint="pass `clear=True` (`--clear`) to replace it",
            )
        return True
    if any(path.iterdir()):
        raise VenvError(
            f"`{target}` exists and is not a virtual environment",
            hint="choose another path, or empty the folder first",
        )
    return False


def _write_file(path: str, text: str) -> None:
    """Write ``text`` to the new file ``path`` in UTF-8, as ``Path.write_text`` does.

    With three calls of the system (open, write, close) where ``open()`` makes six (it
    also asks the file's size, whether it is a terminal, and where it stands).
    """
    data = memoryview(text.encode("utf-8"))
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        while data:
            data = data[os.write(handle, data) :]
    finally:
        os.close(handle)


def _write_layout(
    build: str,
    target: str,
    interpreter: Interpreter,
    prompt: str | None,
    system_site_packages: bool,  # noqa: FBT001 -- private, positional by design
) -> None:
    """Write the venv for ``target`` into ``build``."""
    if interpreter.platform == "win32":
        raise VenvError("creating virtual environments for Windows is not supported yet")
    base = interpreter.base_executable
    version = interpreter.short_version
    lines = [
        f"home = {os.path.dirname(base)}",
        f"implementation = {_IMPLEMENTATIONS.get(interpreter.implementation, 'CPython')}",
        f"version_info = {interpreter.version_text}",
        f"include-system-site-packages = {'true' if system_site_packages else 'false'}",
        f"version = {interpreter.version_text}",
        f"executable = {os.path.realpath(base)}",
        f"command = {sys.executable} -m resolvent venv {target}",
        f"resolvent = {__version__}",
    ]
    if prompt is not None:
        lines.append(f"prompt = {prompt}")
    _write_file(os.path.join(build, "pyvenv.cfg"), "\n".join(lines) + "\n")
    _write_file(os.path.join(build, ".gitignore"), "# created by resolvent\n*\n")
    scripts = os.path.join(build, interpreter.scripts)
    os.makedirs(scripts)
    names = ["python", "python3", f"python{version}"]
    if interpreter.implementation == "pypy":
        names += ["pypy", "pypy3", f"pypy{version}"]
    for name in dict.fromkeys(names):
        os.symlink(base, os.path.join(scripts, name))
    os.makedirs(os.path.join(build, interpreter.purelib))
    if interpreter.platlib != interpreter.purelib:  # made just now
        os.makedirs(os.path.join(build, interpreter.platlib), exist_ok=True)
    lib64 = os.path.join(build, "lib64")
    if (
        interpreter.is_64bit
        and interpreter.platform.startswith("linux")
        and not os.path.exists(lib64)
    ):
        os.symlink("lib", lib64)
    shown = prompt if prompt is not None else os.path.basename(target)
    activate = _ACTIVATE.replace("__VENV_DIR__", _sh_quote(target))
    activate = activate.replace("__VENV_PROMPT__", _sh_quote(f"({shown}) "))
    activate = activate.replace("__VENV_BIN_NAME__", interpreter.scripts.split("/")[-1])
    _write_file(os.path.join(scripts, "activate"), activate)


def _seed(venv: Venv, interpreter: Interpreter) -> None:
    """Install pip: from the wheel ensurepip bundles (fast), else by running ensurepip."""
    bundled = [
        wheel for wheel in interpreter.bundled_wheels if os.path.basename(wheel).startswith("pip-")
    ]
    if bundled:
        from pathlib import Path  # noqa: PLC0415 -- see make_venv

        from resolvent.installer.install import install_wheel  # noqa: PLC0415 -- only seeding

        install_wheel(Path(bundled[-1]), venv.destination())
        return
    # Imported where a program runs (here and in a query, which a warm install answers
    # from the cache): ``subprocess`` and what it loads cost a run ~2 ms of imports.
    import subprocess  # noqa: PLC0415

    completed = subprocess.run(  # noqa: S603 -- the venv's own interpreter, fixed arguments
        [os.fspath(venv.python), "-m", "ensurepip", "--default-pip"],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        detail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        raise VenvError(f"seeding pip into `{venv.root}` failed: {detail[0]}")


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}

# The POSIX ``activate`` script (bash, zsh, dash, ksh), modeled on CPython's template.
_ACTIVATE = """\
# This file must be used with "source bin/activate" *from bash or a POSIX sh*.
# You cannot run it directly.

deactivate () {
    if [ -n "${_OLD_VIRTUAL_PATH:-}" ] ; then
        PATH="${_OLD_VIRTUAL_PATH:-}"
        export PATH
        unset _OLD_VIRTUAL_PATH
    fi
    if [ -n "${_OLD_VIRTUAL_PYTHONHOME:-}" ] ; then
        PYTHONHOME="${_OLD_VIRTUAL_PYTHONHOME:-}"
        export PYTHONHOME
        unset _OLD_VIRTUAL_PYTHONHOME
    fi

    # Forget remembered command locations (bash, zsh).
    hash -r 2> /dev/null || true

    if [ -n "${_OLD_VIRTUAL_PS1:-}" ] ; then
        PS1="${_OLD_VIRTUAL_PS1:-}"
        export PS1
        unset _OLD_VIRTUAL_PS1
    fi

    unset VIRTUAL_ENV
    unset VIRTUAL_ENV_PROMPT
    if [ ! "${1:-}" = "nondestructive" ] ; then
        unset -f deactivate
    fi
}

# Unset irrelevant variables.
deactivate nondestructive

VIRTUAL_ENV=__VENV_DIR__
export VIRTUAL_ENV

_OLD_VIRTUAL_PATH="$PATH"
PATH="$VIRTUAL_ENV/__VENV_BIN_NAME__:$PATH"
export PATH

VIRTUAL_ENV_PROMPT=__VENV_PROMPT__
export VIRTUAL_ENV_PROMPT

if [ -n "${PYTHONHOME:-}" ] ; then
    _OLD_VIRTUAL_PYTHONHOME="${PYTHONHOME:-}"
    unset PYTHONHOME
fi

if [ -z "${VIRTUAL_ENV_DISABLE_PROMPT:-}" ] ; then
    _OLD_VIRTUAL_PS1="${PS1:-}"
    PS1="${VIRTUAL_ENV_PROMPT}${PS1:-}"
    export PS1
fi

hash -r 2> /dev/null || true
"""
