"""Compiling again keeps the existing output file's pins where they still fit, as uv does.

``pip compile -o FILE`` tries the versions FILE already pins first: a new release, or a
new requirement, changes only what must change. ``--upgrade`` drops every preference
and ``--upgrade-package`` one project's; a pin the inputs rule out is passed over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.dists import Dist
from tests.support.environment import hermetic_env
from tests.support.index import compile_pins, serve_dists

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from resolvent.index.serve import IndexServer

DISTS = [
    Dist("a", "1.0", requires=["b"]),
    Dist("a", "2.0", requires=["b"]),
    Dist("b", "1.0"),
    Dist("b", "2.0"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    with serve_dists(tmp_path_factory.mktemp("index"), DISTS) as running:
        yield running


@pytest.mark.parametrize(
    ("inputs", "flags", "expected"),
    [
        ("a\n", [], ["a==1.0", "b==1.0"]),
        ("a\n", ["--upgrade"], ["a==2.0", "b==2.0"]),
        ("a\n", ["--upgrade-package", "B"], ["a==1.0", "b==2.0"]),
        ("a>=2\n", [], ["a==2.0", "b==1.0"]),  # the pin of a no longer fits; b's still does
    ],
)
def test_existing_pins_are_tried_first(
    tmp_path: Path, server: IndexServer, inputs: str, flags: list[str], expected: list[str]
) -> None:
    requirements = tmp_path / "requirements.in"
    requirements.write_text(inputs, encoding="utf-8")
    output = tmp_path / "requirements.txt"
    output.write_text("# an earlier compile\na==1.0\n    # via -r requirements.in\nb==1.0\n")
    result = compile_pins(server, requirements, "-o", str(output), *flags, env=hermetic_env())
    assert result.exit_code == 0, result.output
    assert [line for line in output.read_text().split() if "==" in line] == expected


def test_an_unreadable_output_file_only_loses_its_preferences(
    tmp_path: Path, server: IndexServer
) -> None:
    requirements = tmp_path / "requirements.in"
    requirements.write_text("a\n", encoding="utf-8")
    output = tmp_path / "requirements.txt"
    output.write_text("a==1.0\n--no-such-option\n")
    result = compile_pins(server, requirements, "-o", str(output), env=hermetic_env())
    assert result.exit_code == 0, result.output
    assert [line for line in output.read_text().split() if "==" in line] == ["a==2.0", "b==2.0"]
