"""A valid answer can still deserve a warning: a yanked pick, an extra that does not exist.

uv warns in both cases (and so do we, in its words); the answer and the exit code stay
as they are. ``--quiet`` hides the warnings, as uv's ``-q`` does.
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

DISTS = [
    Dist("plain", "1.0"),
    Dist("plain", "2.0"),
    Dist("plain", "3.0"),  # yanked, with a reason
    Dist("plain", "4.0"),  # yanked, without one
    Dist("fancy", "1.0", extras={"speed": ["plain<3"]}),
    Dist("wrapper", "1.0", requires=["fancy[spede]"]),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    with serve_dists(tmp_path_factory.mktemp("index"), DISTS) as running:
        folder = running.folder
        (folder / "plain-3.0-py3-none-any.whl.yanked").write_text("broken build")
        (folder / "plain-4.0-py3-none-any.whl.yanked").write_text("")
        yield running


def _compile(tmp_path: Path, server: IndexServer, text: str, *flags: str) -> Result:
    requirements = tmp_path / "requirements.in"
    requirements.write_text(text, encoding="utf-8")
    args = ["pip", "compile", str(requirements), "--index-url", server.url, "--no-header"]
    args += ["--cache-dir", str(tmp_path / "cache"), *flags]
    return CliRunner().invoke(cli, args, env=hermetic_env())


def _warnings(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning:")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain==3.0\n", ['warning: `plain==3.0` is yanked (reason: "broken build")']),
        ("plain==4.0\n", ["warning: `plain==4.0` is yanked"]),
        ("plain\n", []),  # yanked versions are not chosen unpinned
        (
            "fancy[speed,sped]\n",
            ["warning: The package `fancy==1.0` does not have an extra named `sped`"],
        ),
        (  # a transitive requirement's extra is checked too
            "wrapper\n",
            ["warning: The package `fancy==1.0` does not have an extra named `spede`"],
        ),
        ("fancy[speed]\n", []),
    ],
)
def test_compile_warns_as_uv_does(
    tmp_path: Path, server: IndexServer, text: str, expected: list[str]
) -> None:
    result = _compile(tmp_path, server, text)
    assert result.exit_code == 0, result.output
    assert _warnings(result) == expected
    assert "warning" not in result.stdout  # the pins file stays clean


def test_quiet_hides_the_warnings(tmp_path: Path, server: IndexServer) -> None:
    result = _compile(tmp_path, server, "plain==3.0\nfancy[sped]\n", "--quiet")
    assert result.exit_code == 0, result.output
    assert _warnings(result) == []
    assert "plain==3.0" in result.stdout


def test_install_warns_after_resolving(tmp_path: Path, server: IndexServer) -> None:
    runner = CliRunner()
    env = hermetic_env(tmp_path / "cache")
    venv = tmp_path / "venv"
    assert runner.invoke(cli, ["venv", str(venv), "-q"], env=env).exit_code == 0
    args = ["pip", "install", "--python", str(venv), "-i", server.url, "plain==3.0", "fancy[sped]"]
    result = runner.invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Resolved 2 packages")
    assert lines[1:3] == [
        "warning: The package `fancy==1.0` does not have an extra named `sped`",
        'warning: `plain==3.0` is yanked (reason: "broken build")',
    ]


def test_a_cross_check_out_of_time_is_noted_and_the_answer_stands(
    tmp_path: Path, server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When SAT's check of PubGrub's answer runs out of time, compile and install say so."""
    from resolvent.solver.result import BudgetExceeded  # noqa: PLC0415
    from resolvent.solver.sat import SatEngine  # noqa: PLC0415

    note = (
        "note: the sat cross-check stopped at its time budget; "
        "the answer passed the independent checker"
    )
    for folder in ("checked", "late", "quiet"):
        (tmp_path / folder).mkdir()
    checked = _compile(tmp_path / "checked", server, "plain\n")
    assert checked.exit_code == 0, checked.output
    assert note not in checked.stderr

    def out_of_time(self: SatEngine, *args: object, **kwargs: object) -> object:
        raise BudgetExceeded("sat", 0)

    monkeypatch.setattr(SatEngine, "confirm", out_of_time)
    result = _compile(tmp_path / "late", server, "plain\n")
    assert result.exit_code == 0, result.output
    assert "plain==2.0" in result.stdout
    assert note in result.stderr.splitlines()
    quiet = _compile(tmp_path / "quiet", server, "plain\n", "--quiet")
    assert note not in quiet.stderr
