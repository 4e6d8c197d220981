"""Index priority: extra indexes come before the main one, as in uv.

uv's default ``first-index`` strategy searches ``--extra-index-url`` indexes first (in
the order given), then ``--index-url``, and takes all of a project's versions from the
first index that has it. The main index is usually the public default and the extras a
user's own, so this order is what stops dependency confusion: a same-named project on
the public index, even in a newer version, must not replace the private one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from resolvent.cli import cli
from tests.support.dists import Dist
from tests.support.environment import hermetic_env
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from click.testing import Result

    from resolvent.index.serve import IndexServer

#: The main index (``--index-url``): the public one, in the story.
MAIN = [
    Dist("shared", "3.0"),
    Dist("private", "2.0"),  # a same-named public project, newer: the attack
    Dist("public-only", "1.0"),
    Dist("both", "1.0", requires=["from-main"]),  # the same file name as the extra's
    Dist("from-main", "1.0"),
]
#: The extra index (``--extra-index-url``): the user's own.
EXTRA = [
    Dist("shared", "1.0"),
    Dist("private", "1.0"),
    Dist("both", "1.0", requires=["from-extra"]),
    Dist("from-extra", "1.0"),
]
#: A second extra index, given after the first.
EXTRA2 = [Dist("shared", "2.0"), Dist("second-only", "1.0")]


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[IndexServer, IndexServer, IndexServer]]:
    with (
        serve_dists(tmp_path_factory.mktemp("main"), MAIN) as main,
        serve_dists(tmp_path_factory.mktemp("extra"), EXTRA) as extra,
        serve_dists(tmp_path_factory.mktemp("extra2"), EXTRA2) as extra2,
    ):
        yield main, extra, extra2


def _compile(tmp_path: Path, text: str, *flags: str) -> Result:
    requirements = tmp_path / "requirements.in"
    requirements.write_text(text, encoding="utf-8")
    args = ["pip", "compile", str(requirements), "--no-header", "--no-annotate", "--quiet"]
    args += ["--cache-dir", str(tmp_path / "cache"), *flags]
    return CliRunner().invoke(cli, args, env=hermetic_env())


def _indexes(
    servers: tuple[IndexServer, IndexServer, IndexServer], *, second: bool = False
) -> list[str]:
    main, extra, extra2 = servers
    flags = ["--index-url", main.url, "--extra-index-url", extra.url]
    if second:
        flags += ["--extra-index-url", extra2.url]
    return flags


def test_the_extra_index_wins_even_with_an_older_version(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer, IndexServer]
) -> None:
    for run in ("cold", "warm"):  # the network path, then the cached pages
        result = _compile(tmp_path, "shared\npublic-only\n", *_indexes(servers))
        assert result.exit_code == 0, (run, result.output)
        assert result.stdout.split() == ["public-only==1.0", "shared==1.0"], run


def test_extra_indexes_keep_their_order(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer, IndexServer]
) -> None:
    result = _compile(tmp_path, "shared\nsecond-only\n", *_indexes(servers, second=True))
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["second-only==1.0", "shared==1.0"]


def test_a_private_project_is_not_taken_from_the_main_index(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer, IndexServer]
) -> None:
    """Dependency confusion: only the extra index's 1.0 may be used, so there is no answer."""
    for run in ("cold", "warm"):
        result = _compile(tmp_path, "private>=2\n", *_indexes(servers))
        assert result.exit_code == 1, (run, result.output)
        assert result.stdout == ""
        assert "private" in result.stderr
        assert "Traceback" not in result.stderr


def test_unsafe_best_match_merges_every_index_in_priority_order(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer, IndexServer]
) -> None:
    """The best version of any index wins; one on two indexes is read from the extra."""
    flags = [*_indexes(servers, second=True), "--index-strategy", "unsafe-best-match"]
    result = _compile(tmp_path, "shared\nprivate\nboth\n", *flags)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["both==1.0", "from-extra==1.0", "private==2.0", "shared==3.0"]
