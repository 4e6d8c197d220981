"""The mirror: fetch a stack's files (with other platforms' dependencies) and serve them."""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING

from bench.harness.mirror import ChannelServer, Mirror
from bench.harness.stacks import Stack
from tests.support.dists import Dist
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from pathlib import Path

DISTS = [
    Dist("app", "1.0", requires=["lib>=1", 'winonly; sys_platform == "win32"', "extra-host[x]"]),
    Dist("lib", "1.0"),
    Dist("lib", "2.0"),
    Dist("winonly", "3.0"),
    Dist("extra-host", "1.0", extras={"x": ["extra-dep"]}),
    Dist("extra-dep", "0.5"),
    Dist("unrelated", "9.0"),
]


def _stack(tmp_path: Path) -> Stack:
    path = tmp_path / "tiny.txt"
    path.write_text("# a tiny stack\napp\n", encoding="utf-8")
    return Stack("tiny", path)


def test_mirror_fetches_the_stack_and_other_platforms_needs(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    mirror = Mirror(tmp_path / "mirror")
    with serve_dists(tmp_path, DISTS) as source:
        warnings = mirror.add_stack(stack, index_url=source.url)
    assert warnings == []
    names = sorted(p.name for p in mirror.files.iterdir())
    assert names == [
        "app-1.0-py3-none-any.whl",
        "extra_dep-0.5-py3-none-any.whl",
        "extra_host-1.0-py3-none-any.whl",
        "lib-2.0-py3-none-any.whl",
        # Only Windows installs it, but a universal lock (poetry, pdm) needs it.
        "winonly-3.0-py3-none-any.whl",
    ]
    assert mirror.is_current(stack, None)
    # A changed stack file is fetched again.
    stack.path.write_text("app\nlib\n", encoding="utf-8")
    assert not mirror.is_current(stack, None)


def test_mirror_serves_its_files_with_caching_headers(tmp_path: Path) -> None:
    mirror = Mirror(tmp_path / "mirror")
    with serve_dists(tmp_path, DISTS[:2]) as source:
        mirror.add_stack(_stack_with(tmp_path, "lib"), index_url=source.url)
    with mirror.serve() as server:
        request = urllib.request.Request(  # noqa: S310 - a local http URL
            server.url + "/lib/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local
            page = json.load(response)
            assert response.headers["Cache-Control"].startswith("max-age")
        (entry,) = page["files"]
        assert entry["filename"] == "lib-1.0-py3-none-any.whl"
        url = server.base_url + "/files/" + entry["filename"]
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local
            assert "immutable" in response.headers["Cache-Control"]


def _stack_with(tmp_path: Path, line: str) -> Stack:
    path = tmp_path / f"{line}.txt"
    path.write_text(line + "\n", encoding="utf-8")
    return Stack(line, path)


def test_channel_server_serves_a_folder(tmp_path: Path) -> None:
    (tmp_path / "noarch").mkdir()
    (tmp_path / "noarch" / "repodata.json").write_text("{}", encoding="utf-8")
    with ChannelServer(tmp_path) as server:
        url = server.url + "noarch/repodata.json"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local
            assert response.read() == b"{}"
