"""``--find-links`` end to end: a wheelhouse folder and a flat page of links over HTTP.

A flat page (a web server's directory listing, a vendor's page of builds) lists files of
many projects on one page; every project found there must be a candidate, not only the
one the page's URL happens to name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from resolvent.cli import cli
from tests.support.dists import Dist, build_wheel
from tests.support.environment import hermetic_env
from tests.support.static import serve_folder

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DISTS = [
    Dist("app", "1.0", requires=["lib-core>=1", "helper"]),
    Dist("lib-core", "1.0"),
    Dist("lib-core", "1.5"),
    Dist("helper", "0.3"),
]


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheelhouse")
    for dist in DISTS:
        build_wheel(folder, dist)
    (folder / "README.txt").write_text("not a distribution\n")
    return folder


@pytest.fixture(scope="module")
def listing_url(wheelhouse: Path) -> Iterator[str]:
    with serve_folder(wheelhouse) as url:
        yield url


def _compile(
    tmp_path: Path, location: str, *extra: str, text: str = "app\n", annotate: bool = False
) -> str:
    requirements = tmp_path / "requirements.in"
    requirements.write_text(text)
    env = hermetic_env()
    env["RESOLVENT_CACHE_DIR"] = str(tmp_path / "cache")
    args = ["pip", "compile", str(requirements), "--no-index", "-f", location, "--no-header"]
    if not annotate:
        args.append("--no-annotate")
    result = CliRunner().invoke(cli, [*args, *extra], env=env)
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


def test_via_leaves_out_input_lines_whose_marker_does_not_hold(
    wheelhouse: Path, tmp_path: Path
) -> None:
    # As uv: `helper; os_name == "nt"` requires nothing on Linux, so helper is there only
    # because app needs it; the input file is named for lines that apply.
    text = 'app\nhelper; os_name == "nt"\nlib-core; os_name == "posix"\n'
    linux = ("--python-platform", "x86_64-manylinux_2_28")
    output = _compile(tmp_path, str(wheelhouse), *linux, text=text, annotate=True)
    source = f"-r {tmp_path / 'requirements.in'}"
    assert output.split("\n")[:8] == [
        "app==1.0",
        f"    # via {source}",
        "helper==0.3",
        "    # via app",
        "lib-core==1.5",
        "    # via",
        f"    #   {source}",
        "    #   app",
    ]


def test_a_find_links_folder_is_read_offline_with_an_empty_cache(
    wheelhouse: Path, tmp_path: Path
) -> None:
    # As uv: `--offline` forbids the network, not local files. Each wheel's metadata
    # used to be refused as "not in the cache", so nothing resolved.
    output = _compile(tmp_path, str(wheelhouse), "--offline")
    assert output.split() == ["app==1.0", "helper==0.3", "lib-core==1.5"]
