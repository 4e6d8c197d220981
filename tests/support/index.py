"""A local index for tests: serve generated distributions, and make the server misbehave.

``serve_dists`` builds wheels (and optionally sdists) with :mod:`tests.support.dists` and
serves them with the product's own :class:`~resolvent.index.serve.IndexServer`. The
fault hooks below plug into its one hook point (:class:`ServerHooks`); each fires a
bounded number of times, on request paths matching a regular expression (``re.search``),
and counts its firings in ``fired`` so a test can check that the fault really happened.

Example::

    with serve_dists(tmp_path, [Dist("a", "1.0")], hooks=ServerError(503, r"/simple/a/")) as server:
        ...  # the first page request gets a 503, the second the page
"""

from __future__ import annotations

import io
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from resolvent.index.serve import IndexRequestHandler, IndexServer, ServerHooks
from tests.support.dists import Dist, build_sdist, build_wheel

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from _typeshed import ReadableBuffer
    from click.testing import Result

__all__ = [
    "DropConnection",
    "HookChain",
    "RequestLog",
    "ServerError",
    "SlowBody",
    "WrongBody",
    "add_dists",
    "compile_pins",
    "serve_dists",
    "set_upload_time",
    "yank",
]


def add_dists(folder: Path, dists: Sequence[Dist], *, sdists: bool = False) -> list[Path]:
    """Build a wheel (and with ``sdists``, also an sdist) of each dist into ``folder``."""
    paths: list[Path] = []
    for dist in dists:
        paths.append(build_wheel(folder, dist))
        if sdists:
            paths.append(build_sdist(folder, dist))
    return paths


def serve_dists(
    tmp_path: Path,
    dists: Sequence[Dist],
    *,
    sdists: bool = False,
    hooks: ServerHooks | None = None,
) -> IndexServer:
    """Build ``dists`` into ``tmp_path / "index"`` and return a started server on it.

    The caller stops it: ``with serve_dists(...) as server:`` (entering a started server
    is fine), or ``server.stop()`` in a fixture's teardown. More files can be added to
    ``server.folder`` while it runs (see :func:`add_dists`).
    """
    folder = tmp_path / "index"
    folder.mkdir(parents=True, exist_ok=True)
    add_dists(folder, dists, sdists=sdists)
    return IndexServer(folder, hooks=hooks).start()


def compile_pins(
    server: IndexServer, requirements: Path, *extra: str, env: Mapping[str, str | None]
) -> Result:
    """Run ``resolvent pip compile REQUIREMENTS`` in process against ``server`` alone.

    The cache sits next to the requirements file; the output is the pins only (no
    header, no annotations, no progress), so ``result.stdout.split()`` lists them.
    """
    from click.testing import CliRunner  # noqa: PLC0415 - only the compile tests need it

    from resolvent.cli import cli  # noqa: PLC0415

    args = ["pip", "compile", str(requirements), "--index-url", server.url]
    args += ["--cache-dir", str(requirements.parent / "cache")]
    args += ["--no-header", "--no-annotate", "--quiet", *extra]
    return CliRunner().invoke(cli, args, env=dict(env))


def yank(file: Path, reason: str = "") -> None:
    """Mark a served file as yanked (PEP 592), with an optional reason."""
    file.with_name(file.name + ".yanked").write_text(reason, encoding="utf-8")


def set_upload_time(file: Path, when: datetime) -> None:
    """Set a served file's PEP 700 upload time (naive times are UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    file.with_name(file.name + ".upload-time").write_text(when.isoformat(), encoding="utf-8")


class HookChain:
    """Several hooks as one: each is asked in turn until one answers."""

    def __init__(self, *hooks: ServerHooks) -> None:
        self.hooks = hooks

    def intercept(self, handler: IndexRequestHandler, path: str) -> bool:
        return any(hook.intercept(handler, path) for hook in self.hooks)


@dataclass(frozen=True)
class Request:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case


class RequestLog:
    """Record every request (never answers), to assert what a client asked for."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def intercept(self, handler: IndexRequestHandler, path: str) -> bool:
        with self._lock:
            self.requests.append(
                Request(handler.command, path, {k.lower(): v for k, v in handler.headers.items()})
            )
        return False

    def paths(self, method: str = "GET") -> list[str]:
        """The paths requested with ``method``, in order."""
        with self._lock:
            return [r.path for r in self.requests if r.method == method]


@dataclass
class _Bounded:
    """A fault that fires on matching paths, at most ``times`` times."""

    path_pattern: str
    times: int = 1
    fired: int = field(default=0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _claim(self, path: str) -> bool:
        """Whether to fire for ``path`` now; counts the firing."""
        if re.search(self.path_pattern, path) is None:
            return False
        with self._lock:
            if self.fired >= self.times:
                return False
            self.fired += 1
            return True


@dataclass
class DropConnection(_Bounded):
    """Close the connection without sending any response."""

    def intercept(self, handler: IndexRequestHandler, path: str) -> bool:
        if not self._claim(path):
            return False
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)
        return True


@dataclass(init=False)
class ServerError(_Bounded):
    """Answer with an error status (503 by default), optionally with ``Retry-After``."""

    status: int = 503
    retry_after: int | None = None

    def __init__(
        self,
        status: int = 503,
        path_pattern: str = "",
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(path_pattern, times)
        self.status = status
        self.retry_after = retry_after

    def intercept(self, handler: IndexRequestHandler, path: str) -> bool:
        if not self._claim(path):
            return False
        body = f"{self.status} injected error\n".encode()
        handler.send_response(self.status)
        if self.retry_after is not None:
            handler.send_header("Retry-After", str(self.retry_after))
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)
        return True


class _BodyFilter(io.BufferedIOBase):
    """Wrap a connection's writer so that the body of the next response is transformed.

    The server writes a response's headers in one call, then the body; the filter reads
    ``Content-Length`` from the headers, hands exactly that many body bytes to
    ``transform``, and is transparent afterwards, so a kept-alive connection stays sound.
    """

    def __init__(
        self, inner: io.BufferedIOBase, transform: Callable[[io.BufferedIOBase, bytes], None]
    ) -> None:
        super().__init__()
        self._inner = inner
        self._transform = transform
        self._remaining: int | None = None  # None: headers not written yet

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer, /) -> int:
        chunk = bytes(data)
        if self._remaining is None:
            match = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", chunk)
            self._remaining = int(match.group(1)) if match else 0
            return self._inner.write(chunk)
        if self._remaining <= 0:
            return self._inner.write(chunk)
        body, rest = chunk[: self._remaining], chunk[self._remaining :]
        self._remaining -= len(body)
        self._transform(self._inner, body)
        if rest:
            self._inner.write(rest)
        return len(chunk)

    def flush(self) -> None:
        self._inner.flush()

    def close(self) -> None:
        self._inner.close()
        super().close()


@dataclass(init=False)
class SlowBody(_Bounded):
    """Send the headers and half of the body, then stall for ``delay`` seconds."""

    delay: float = 1.0

    def __init__(self, path_pattern: str = "", delay: float = 1.0, times: int = 1) -> None:
        super().__init__(path_pattern, times)
        self.delay = delay

    def intercept(self, handler: IndexRequestHandler, path: str) -> bool:
        if handler.command != "GET" or not self._claim(path):
            return False
        stalled = False

        def stall(out: io.BufferedIOBase, body: bytes) -> None:
            nonlocal stalled
            if stalled:
                out.write(body)
                return
            stalled = True
            half = len(body) // 2
            out.write(body[:half])
            out.flush()
            time.sleep(self.delay)
            out.write(body[half:])

        handler.wfile = _BodyFilter(handler.wfile, stall)
        return False


@dataclass
class WrongBody(_Bounded):
    """Serve the right headers with a body of the right length but the wrong bytes."""

    def intercept(self, handler: IndexRequestHandler, path: str) -> bool:
        if handler.command != "GET" or not self._claim(path):
            return False

        def corrupt(out: io.BufferedIOBase, body: bytes) -> None:
            out.write(bytes(byte ^ 0xFF for byte in body))

        handler.wfile = _BodyFilter(handler.wfile, corrupt)
        return False
