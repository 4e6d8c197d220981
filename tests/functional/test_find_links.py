"""``--find-links`` end to end: a wheelhouse folder and a flat page of links over HTTP.

A flat page (a web server's directory listing, a vendor's page of builds) lists files of
many projects on one page; every project found there must be a candidate, not only the
one the page's URL happens to name.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from resolvent.cli import cli
from tests.support.dists import Dist, build_wheel
from tests.support.environment import hermetic_env

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DISTS = [
    Dist("app", "1.0", requires=["lib-core>=1", "helper"]),
    Dist("lib-core", "1.0"),
    Dist("lib-core", "1.5"),
    Dist("helper", "0.3"),
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheelhouse")
    for dist in DISTS:
        build_wheel(folder, dist)
    (folder / "README.txt").write_text("not a distribution\n")
    return folder


@pytest.fixture(scope="module")
def listing_url(wheelhouse: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(wheelhouse))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _compile(tmp_path: Path, location: str, *extra: str) -> str:
    requirements = tmp_path / "requirements.in"
    requirements.write_text("app\n")
    env = hermetic_env()
    env["RESOLVENT_CACHE_DIR"] = str(tmp_path / "cache")
    args = ["pip", "compile", str(requirements), "--no-index", "-f", location, "--no-header"]
    result = CliRunner().invoke(cli, [*args, "--no-annotate", *extra], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


@pytest.mark.parametrize("kind", ["folder", "page"])
def test_find_links_offers_every_project(
    kind: str, wheelhouse: Path, listing_url: str, tmp_path: Path
) -> None:
    location = str(wheelhouse) if kind == "folder" else listing_url
    assert _compile(tmp_path, location).split() == ["app==1.0", "helper==0.3", "lib-core==1.5"]


def test_find_links_page_hashes_are_the_files(listing_url: str, tmp_path: Path) -> None:
    output = _compile(tmp_path, listing_url, "--generate-hashes")
    assert output.count("--hash=sha256:") == 3
