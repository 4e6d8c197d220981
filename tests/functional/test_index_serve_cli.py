"""``resolvent index serve FOLDER``: prints the URL, serves, stops; bad input is one line."""

from __future__ import annotations

import selectors
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import httpx

from resolvent.index.serve import IndexServer
from tests.support.dists import Dist
from tests.support.index import add_dists

if TYPE_CHECKING:
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
