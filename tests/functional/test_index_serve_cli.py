"""``resolvent index serve FOLDER``: prints the URL, serves, stops; bad input is one line."""

from __future__ import annotations

import contextlib
import selectors
import signal
import socket
import subprocess
import sys
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest

from resolvent.index.serve import IndexServer
from tests.support.dists import Dist
from tests.support.index import add_dists

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

# The lead registers the group in resolvent/cli/__init__.py; call it directly meanwhile.
ENTRY = "from resolvent.cli.index import index; index()"


def _first_line(process: subprocess.Popen[str], timeout: float = 60) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline().strip()


def test_serve_prints_url_and_serves(tmp_path: Path) -> None:
    folder = tmp_path / "wheelhouse"
    add_dists(folder, [Dist("Hello_World", "1.0")], sdists=True)
    process = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "serve", str(folder), "--host", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = _first_line(process)
        assert url.startswith("http://127.0.0.1:"), url
        assert url.endswith("/simple")
        page = httpx.get(f"{url}/hello-world/", timeout=30)
        assert page.status_code == 200
        assert "hello_world-1.0-py3-none-any.whl" in page.text
        assert "hello_world-1.0.tar.gz" in page.text
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@contextlib.contextmanager
def _serving(
    folder: Path, inherit: Callable[[], Callable[[], object]] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start `index serve FOLDER` and read its URL; the process never outlives the test.

    ``inherit`` changes this process's signal state for the child to inherit through
    fork and exec, and returns how to undo it.
    """
    undo = inherit() if inherit is not None else None
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", ENTRY, "serve", str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        if undo is not None:
            undo()
    try:
        url = _first_line(process)
        assert url.startswith("http://127.0.0.1:"), url
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _assert_stops_cleanly(process: subprocess.Popen[str], signum: int) -> None:
    """Send ``signum``; the server must exit 0 with "Stopped." and no traceback.

    The timeout only bounds a hang (the failure this guards against); it is no speed test.
    """
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert stderr.rstrip().endswith("Stopped."), stderr


def _ignore_sigint() -> Callable[[], object]:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    return lambda: signal.signal(signal.SIGINT, previous)


def _block_sigint() -> Callable[[], object]:
    # Only this (main) thread's mask, which is what the child inherits: it forks here.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    return lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.parametrize("inherit", [_ignore_sigint, _block_sigint], ids=["ignored", "blocked"])
def test_stops_when_sigint_is_inherited_ignored_or_blocked(
    tmp_path: Path, inherit: Callable[[], Callable[[], object]]
) -> None:
    # A background job of a non-interactive shell (`resolvent index serve DIR &` in a
    # script or a CI step) starts with SIGINT ignored, and a parent may have it blocked;
    # both are inherited through exec, and Python on its own leaves them so: SIGINT then
    # does nothing, and the first test in this file times out waiting for the exit.
    add_dists(tmp_path, [Dist("demo", "1.0")])
    with _serving(tmp_path, inherit) as (process, _):
        _assert_stops_cleanly(process, signal.SIGINT)


def _hammer(port: int, done: threading.Event) -> None:
    """Keep requests in flight, each on a new connection, until ``done``."""
    request = b"GET /simple/demo/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    while not done.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                connection.sendall(request)
                while connection.recv(65536):
                    pass
        except OSError:
            if done.wait(0.01):  # the server is gone, or going
                return


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stops_cleanly_at_any_moment(tmp_path: Path, signum: int) -> None:
    """A stop signal right after the URL, or with clients connected, still stops cleanly.

    The rounds leave the signal to land at different points: just after the URL line
    (the server may still be starting), or with an idle keep-alive connection, a
    half-sent request and requests in flight (handler threads must not keep the process
    alive, nor the signal land inside serving a request).
    """
    add_dists(tmp_path, [Dist("demo", "1.0")])
    with _serving(tmp_path) as (process, _):
        _assert_stops_cleanly(process, signum)
    for _ in range(2):
        with (
            _serving(tmp_path) as (process, url),
            socket.create_connection(("127.0.0.1", _port(url)), timeout=30) as idle,
            socket.create_connection(("127.0.0.1", _port(url)), timeout=30) as partial,
        ):
            idle.sendall(b"GET /simple/demo/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert idle.recv(65536).startswith(b"HTTP/1.1 200")  # now idle, kept alive
            partial.sendall(b"GET /simple/de")  # a client stalled mid-request
            done = threading.Event()
            hammer = threading.Thread(target=_hammer, args=(_port(url), done))
            hammer.start()
            try:
                _assert_stops_cleanly(process, signum)
            finally:
                done.set()
                hammer.join()


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None, url
    return port


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_missing_folder_is_one_line_error(tmp_path: Path) -> None:
    result = _run("serve", str(tmp_path / "absent"))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "absent" in lines[0]
    assert "does not exist" in lines[0]


def test_file_instead_of_folder(tmp_path: Path) -> None:
    file = tmp_path / "a.whl"
    file.write_bytes(b"")
    result = _run("serve", str(file))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: `{file}` is not a folder"]


def test_port_in_use_is_one_line_error(tmp_path: Path) -> None:
    with IndexServer(tmp_path) as busy:
        result = _run("serve", str(tmp_path), "--port", str(busy.port))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot listen on")


def test_help() -> None:
    result = _run("serve", "--help")
    assert result.returncode == 0
    assert "--port" in result.stdout
