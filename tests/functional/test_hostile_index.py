"""What a hostile or broken index serves, through ``pip compile``: skipped, or one line.

A local index serves real wheels; a hook rewrites its PEP 691 page of ``alpha`` to add
what an index controls: a wheel name whose tag sets expand to a million tags, and PEP
700 upload times that ``datetime`` cannot hold in UTC. An sdist whose ``pyproject.toml``
``tomllib`` rejects with a plain ``ValueError`` must fail its build in one line.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from resolvent.cli import cli
from tests.support.dists import Dist, build_sdist, project_files
from tests.support.environment import hermetic_env
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from resolvent.index.serve import IndexRequestHandler, IndexServer

JSON = "application/vnd.pypi.simple.v1+json"


def _fields(count: int, prefix: str) -> str:
    return ".".join(f"{prefix}{index}" for index in range(count))


#: 100 parts in each tag field: a million tags (the sweep's had 300, 27 million).
BOMB = f"alpha-2.0-{_fields(100, 'p')}-{_fields(100, 'a')}-{_fields(100, 'x')}.whl"


class RewrittenPage:
    """Serve ``alpha``'s JSON page as the server makes it, rewritten by ``edit``."""

    def __init__(self) -> None:
        self.original: dict[str, object] | None = None
        self.upload_time = "2020-01-01T00:00:00Z"

    def intercept(self, handler: IndexRequestHandler, path: str) -> bool:
        if self.original is None or path.rstrip("/") != "/simple/alpha":
            return False
        page = json.loads(json.dumps(self.original))
        files = page["files"]
        for entry in files:
            entry["upload-time"] = self.upload_time
        url = files[0]["url"].replace(files[0]["filename"], BOMB)
        files.append(dict(files[0], filename=BOMB, url=url))
        body = json.dumps(page).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", JSON)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return True


@pytest.fixture(scope="module")
def rewritten() -> RewrittenPage:
    return RewrittenPage()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, rewritten: RewrittenPage
) -> Iterator[IndexServer]:
    root = tmp_path_factory.mktemp("srv")
    for name, extra in (
        ("sbig", "[tool.x]\ny = " + "1" * 5000 + "\n"),
        ("sdeep", "[tool.x]\ny = " + "[" * 3000 + "]" * 3000 + "\n"),
    ):
        dist = Dist(name, "1.0")
        pyproject = project_files(dist, in_tree_backend=True)["pyproject.toml"].decode()
        build_sdist(
            root / "index",
            dist,
            in_tree_backend=True,
            dynamic=True,
            replace={"pyproject.toml": pyproject + extra},
        )
    with serve_dists(root, [Dist("alpha", "1.0")], hooks=rewritten) as running:
        page_url = f"{running.url}/alpha/"  # http, on 127.0.0.1
        request = urllib.request.Request(page_url, headers={"Accept": JSON})  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            rewritten.original = json.loads(answer.read())
        yield running


def _compile(tmp_path: Path, server: IndexServer, name: str, *, code: int) -> Result:
    (tmp_path / "in.txt").write_text(f"{name}\n")
    args = ["pip", "compile", str(tmp_path / "in.txt"), "--index-url", server.url]
    args += ["--no-header", "--no-annotate", "--quiet"]
    env = hermetic_env(tmp_path / "cache") | {"RV_TEST_BUILD_LOG": os.devnull}
    result = CliRunner().invoke(cli, args, env=env)
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert result.exit_code == code, (result.output, result.exception)
    if code:
        assert result.stderr.startswith("error: ")
        assert result.stderr.count("\n") == 1, result.stderr
    return result


@pytest.mark.parametrize(
    "moment", ["2020-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
)
def test_a_tag_bomb_and_upload_times_beyond_datetime_are_passed_over(
    tmp_path: Path, server: IndexServer, rewritten: RewrittenPage, moment: str
) -> None:
    rewritten.upload_time = moment
    # Twice: the second run reads the listing the first one cached.
    for _ in range(2):
        assert _compile(tmp_path, server, "alpha", code=0).stdout.split() == ["alpha==1.0"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [("sbig", "an integer has more than 4300 digits"), ("sdeep", "nested too deeply")],
)
def test_an_sdist_whose_pyproject_python_cannot_hold_fails_in_one_line(
    tmp_path: Path, server: IndexServer, name: str, problem: str
) -> None:
    result = _compile(tmp_path, server, name, code=1)
    assert "is not valid TOML" in result.stderr
    assert problem in result.stderr
