"""A mirror is a local folder holding every file the stacks need, served on 127.0.0.1.

Timings should measure the tools, not the network, so the harness downloads every file a
stack needs once (``pip download -r STACK`` for this interpreter and platform, so the
dependencies come along) into ``bench/.mirror/files`` and serves that folder with
resolvent's own index server (:class:`resolvent.index.serve.IndexServer`: PEP 503/691
pages, PEP 658 metadata files, and the caching headers of a real index, without which
pip's HTTP cache would keep nothing and its warm run would be a second cold run).

Lockers that resolve for every platform (poetry, pdm) also need the dependencies that
only other platforms install (``colorama`` on Windows, say), so after the download the
harness walks the stack's dependency graph with the markers of the other common
platforms and fetches the missing projects' files too. The real index's URL is read at
run time from pip (:func:`default_index_url`), never written down.

Example::

    >>> mirror = Mirror(Path("bench/.mirror"))
    >>> mirror.add_stack(stack, find_links=None)  # doctest: +SKIP
    >>> with mirror.serve() as server:  # doctest: +SKIP
    ...     print(server.url)
"""

from __future__ import annotations

import email.message
import email.parser
import functools
import hashlib
import json
import sys
import threading
import zipfile
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename

from bench.harness.process import CommandFailedError, clean_env, run_quiet

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from types import TracebackType
    from typing import Self

    from packaging.markers import Marker
    from packaging.version import Version

    from bench.harness.stacks import Stack
    from resolvent.index.serve import IndexServer

__all__ = [
    "OTHER_PLATFORMS",
    "ChannelServer",
    "Mirror",
    "TargetPlatform",
    "default_index_url",
    "wheel_metadata",
]


def default_index_url() -> str:
    """Return the real index's simple URL, as pip knows it (read at run time)."""
    from pip._internal.models.index import PyPI  # noqa: PLC0415 - only live runs need pip

    return str(PyPI.simple_url)


@dataclass(frozen=True, slots=True)
class TargetPlatform:
    """A platform poetry and pdm lock for: marker values and ``pip download`` tags."""

    name: str
    markers: dict[str, str]
    tags: tuple[str, ...]


def _markers(sys_platform: str, system: str, machine: str, os_name: str) -> dict[str, str]:
    return {
        "sys_platform": sys_platform,
        "platform_system": system,
        "platform_machine": machine,
        "os_name": os_name,
    }


#: The platforms whose dependencies a universal lock needs, beside the running one.
OTHER_PLATFORMS = (
    TargetPlatform(
        "linux-x86_64",
        _markers("linux", "Linux", "x86_64", "posix"),
        ("manylinux_2_28_x86_64", "manylinux2014_x86_64"),
    ),
    TargetPlatform(
        "linux-aarch64",
        _markers("linux", "Linux", "aarch64", "posix"),
        ("manylinux_2_28_aarch64", "manylinux2014_aarch64"),
    ),
    TargetPlatform(
        "macos-arm64",
        _markers("darwin", "Darwin", "arm64", "posix"),
        ("macosx_14_0_arm64", "macosx_11_0_arm64"),
    ),
    TargetPlatform(
        "macos-x86_64",
        _markers("darwin", "Darwin", "x86_64", "posix"),
        ("macosx_10_15_x86_64", "macosx_10_9_x86_64"),
    ),
    TargetPlatform("windows-amd64", _markers("win32", "Windows", "AMD64", "nt"), ("win_amd64",)),
)


def wheel_metadata(path: Path) -> email.message.Message:
    """Return the parsed ``METADATA`` of a wheel file."""
    with zipfile.ZipFile(path) as archive:
        names = [
            n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        if not names:
            raise ValueError(f"`{path.name}` has no .dist-info/METADATA")
        return email.parser.BytesParser().parsebytes(archive.read(names[0]), headersonly=True)


def _evaluate(marker: Marker | None, env: dict[str, str], extras: Iterable[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({**env, "extra": extra}) for extra in ("", *extras))


class Mirror:
    """The mirror folder: ``files/`` (served), ``stamps/`` (what was fetched for what)."""

    def __init__(self, root: Path, *, python: Path | None = None) -> None:
        self.root = root
        self.files = root / "files"
        self.stamps = root / "stamps"
        #: The interpreter whose ``pip download`` fetches files (same version as the target).
        self.python = python or Path(sys.executable)

    # --------------------------------------------------------------------- fetching

    def _stamp_for(self, stack: Stack, find_links: Path | None) -> dict[str, Any]:
        text = stack.path.read_text(encoding="utf-8")
        return {
            "stack": stack.name,
            "requirements_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "find_links": str(find_links) if find_links else None,
        }

    def is_current(self, stack: Stack, find_links: Path | None) -> bool:
        """Whether the stack's files were fetched already (same file, same find-links)."""
        stamp = self.stamps / f"{stack.name}.json"
        if not stamp.is_file():
            return False
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
        return bool(recorded == self._stamp_for(stack, find_links))

    def _pip(self, args: Sequence[str], index_url: str) -> str:
        env = {**clean_env(), "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        return run_quiet(
            [
                str(self.python),
                "-m",
                "pip",
                "download",
                "--dest",
                str(self.files),
                "--index-url",
                index_url,
                *args,
            ],
            env=env,
        )

    def add_stack(
        self,
        stack: Stack,
        *,
        find_links: Path | None = None,
        index_url: str | None = None,
    ) -> list[str]:
        """Fetch every file ``stack`` needs (once); return warnings about what is missing."""
        if self.is_current(stack, find_links):
            return []
        index_url = index_url or default_index_url()
        self.files.mkdir(parents=True, exist_ok=True)
        args = ["-r", str(stack.path)]
        if find_links is not None:
            args += ["--find-links", str(find_links)]
        self._pip(args, index_url)
        warnings = self._complete_for_other_platforms(stack, index_url)
        self.stamps.mkdir(parents=True, exist_ok=True)
        (self.stamps / f"{stack.name}.json").write_text(
            json.dumps(self._stamp_for(stack, find_links)), encoding="utf-8"
        )
        return warnings

    def _wheels(self) -> dict[str, tuple[Version, Path]]:
        """Return project -> (newest version, one wheel of it) in the mirror."""
        found: dict[str, tuple[Version, Path]] = {}
        for path in sorted(self.files.glob("*.whl")):
            name, version, _, _ = parse_wheel_filename(path.name)
            if name not in found or version > found[name][0]:
                found[name] = (version, path)
        return found

    def _complete_for_other_platforms(self, stack: Stack, index_url: str) -> list[str]:
        """Fetch the dependencies that only other platforms (or extras) pull in."""
        warnings: list[str] = []
        tried: set[str] = set()
        while True:
            wheels = self._wheels()
            missing = self._missing(stack, wheels)
            todo = {name: item for name, item in missing.items() if name not in tried}
            if not todo:
                return warnings
            for name, (specifier, platform) in sorted(todo.items()):
                tried.add(name)
                requirement = f"{name}{specifier}"
                args = ["--no-deps", "--only-binary=:all:", "--python-version", self.python_minor]
                for tag in platform.tags:
                    args += ["--platform", tag]
                try:
                    self._pip([*args, requirement], index_url)
                except CommandFailedError:
                    try:  # no wheel for that platform: the sdist carries the metadata
                        self._pip(["--no-deps", "--no-binary=:all:", requirement], index_url)
                    except CommandFailedError as error:
                        warnings.append(
                            f"could not fetch `{requirement}` (needed on {platform.name}): "
                            + str(error).splitlines()[-1]
                        )

    @functools.cached_property
    def python_minor(self) -> str:
        """The ``X.Y`` version of the interpreter the mirror is fetched for."""
        out = run_quiet(
            [str(self.python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        )
        return out.strip()

    def _missing(
        self, stack: Stack, wheels: dict[str, tuple[Version, Path]]
    ) -> dict[str, tuple[SpecifierSet, TargetPlatform]]:
        """Walk the graph from the stack on every platform; return projects not mirrored."""
        minor = self.python_minor
        missing: dict[str, tuple[SpecifierSet, TargetPlatform]] = {}
        for platform in OTHER_PLATFORMS:
            env = {
                **platform.markers,
                "python_version": minor,
                "python_full_version": f"{minor}.0",
                "implementation_name": "cpython",
                "platform_python_implementation": "CPython",
            }
            seen: set[tuple[str, frozenset[str]]] = set()
            queue = [Requirement(line) for line in stack.requirements()]
            while queue:
                requirement = queue.pop()
                if not _evaluate(requirement.marker, env, ()):
                    continue
                name = canonicalize_name(requirement.name)
                key = (name, frozenset(requirement.extras))
                if key in seen:
                    continue
                seen.add(key)
                if name not in wheels:
                    previous = missing.get(name)
                    spec = requirement.specifier & (previous[0] if previous else SpecifierSet())
                    missing[name] = (spec, previous[1] if previous else platform)
                    continue
                for line in wheel_metadata(wheels[name][1]).get_all("Requires-Dist") or []:
                    try:
                        dependency = Requirement(line)
                    except InvalidRequirement:
                        continue
                    if _evaluate(dependency.marker, env, requirement.extras):
                        # The marker was about this package's extras; it is spent.
                        dependency.marker = None
                        queue.append(dependency)
        return missing

    # --------------------------------------------------------------------- serving

    def serve(self) -> IndexServer:
        """Return resolvent's index server for ``files/`` (a context manager; not started)."""
        from resolvent.index.serve import IndexServer  # noqa: PLC0415 - the product, lazily

        return IndexServer(self.files, port=0)


class _QuietHandler(SimpleHTTPRequestHandler):
    """A static file handler that does not log every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Log nothing."""


class ChannelServer:
    """Serve a conda channel folder over HTTP on 127.0.0.1 (static files, any free port).

    The conda row reads its channel over HTTP, as the other rows read the mirror, so no
    tool gets the shortcut of a ``file://`` URL.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The channel's URL."""
        if self._httpd is None:
            raise RuntimeError("the channel server is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def start(self) -> Self:
        """Start serving from a daemon thread."""
        handler = partial(_QuietHandler, directory=str(self.folder))
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
