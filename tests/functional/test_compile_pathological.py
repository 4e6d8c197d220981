"""``pip compile`` of legal but pathologically large inputs answers in seconds.

Each input here took the old code tens of seconds (packaging folds a specifier set's
clauses one by one, so n ``!=`` clauses cost O(n^2)); the tests check the answer and
count the interval merge steps of the whole run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.counting import count_merge_steps
from tests.support.dists import Dist
from tests.support.environment import hermetic_env
from tests.support.index import compile_pins, serve_dists

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from resolvent.index.serve import IndexServer

HOLES = 5000  # the old code: about 25 s for the requirement, as long again to explain it


def _holes(count: int) -> list[str]:
    return [f"!=0.0.{i}" for i in range(count)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    dists = [Dist("pkg", version) for version in ("1.0", "1.1", "2.0", "2.1")]
    with serve_dists(tmp_path_factory.mktemp("index"), dists) as started:
        yield started


@pytest.fixture
def merge_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The interval merge steps of the whole run (the compile runs in this process)."""
    return count_merge_steps(monkeypatch)


def _compile(server: IndexServer, tmp_path: Path, text: str, *extra: str) -> tuple[int, str]:
    requirements = tmp_path / "requirements.in"
    requirements.write_text(text, encoding="utf-8")
    result = compile_pins(server, requirements, *extra, env=hermetic_env())
    return result.exit_code, result.output


def test_a_specifier_with_thousands_of_holes(
    server: IndexServer, tmp_path: Path, merge_steps: list[int]
) -> None:
    code, output = _compile(server, tmp_path, "pkg" + ",".join(_holes(HOLES)) + ",!=2.1\n")
    assert code == 0, output[-2000:]
    assert output.split() == ["pkg==2.0"]
    assert merge_steps[0] < 50 * HOLES


def test_a_specifier_with_thousands_of_holes_and_no_version(
    server: IndexServer, tmp_path: Path, merge_steps: list[int]
) -> None:
    excluded = [*_holes(HOLES), "!=1.0", "!=1.1", "!=2.0", "!=2.1"]
    code, output = _compile(server, tmp_path, "pkg" + ",".join(excluded) + "\n")
    assert code == 1
    # The range is written by its intervals' ends: the versions it names, none usable.
    assert "no versions of pkg match <0.0.0 | >0.0.0,<0.0.1 | " in output
    assert " | >2.0,<2.1 | >2.1, we can conclude" in output
    assert merge_steps[0] < 50 * HOLES


def test_a_constraints_file_with_thousands_of_lines(
    server: IndexServer, tmp_path: Path, merge_steps: list[int]
) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("".join(f"pkg{hole}\n" for hole in _holes(HOLES)) + "pkg<2.1\n")
    code, output = _compile(server, tmp_path, "pkg\n", "-c", str(constraints))
    assert code == 0, output[-2000:]
    assert output.split() == ["pkg==2.0"]
    assert merge_steps[0] < 50 * HOLES


def test_a_requirements_file_with_thousands_of_lines_on_one_project(
    server: IndexServer, tmp_path: Path, merge_steps: list[int]
) -> None:
    # Each line is its own requirement: the root's edges on `pkg` were folded one by one
    # (and each text searched for in a list), which took minutes for 20,000 lines.
    text = "".join(f"pkg{hole}\n" for hole in _holes(HOLES)) + "pkg<2.1\n"
    code, output = _compile(server, tmp_path, text)
    assert code == 0, output[-2000:]
    assert output.split() == ["pkg==2.0"]
    assert merge_steps[0] < 50 * HOLES
