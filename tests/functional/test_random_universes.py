"""``pip compile`` on random universes agrees with an exhaustive search.

The differential tester's generator (``bench/difftest``) makes small universes with
extras, markers, pre-releases, yanked versions, ``requires-python`` and local versions;
their wheels are served by the product's index server, and ``resolvent pip compile``
runs on each universe's root requirements. Its answer must exist exactly when the
tester's oracle (a depth-first search over every candidate, sharing no code with the
solver) finds one, and the oracle must accept it. uv is not needed: the oracle is the
reference. The seeds are fixed so a failure reproduces with
``python -m bench.difftest --seed S --only I [--full] --no-uv``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bench.difftest.compilers import TARGET_FLAGS, parse_pins
from bench.difftest.oracle import Oracle
from bench.difftest.universe import RandomUniverse, generate
from bench.difftest.wheels import write_wheels
from resolvent.index.serve import IndexServer
from tests.support.environment import hermetic_env
from tests.support.index import compile_pins

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: (seed, index, every feature): gentle universes of seed 1, and seed 3 with every
#: feature (self-requirements, odd name spellings, yanked pins under markers). Their
#: names never collide (``s<seed>u<idx>-<letter>``), so one index serves them all.
#: Together they hold both answers and failures, extras, markers and pre-releases.
UNIVERSES = [(1, i, False) for i in range(7)] + [(3, i, True) for i in range(8)]


def _universe(case: tuple[int, int, bool]) -> RandomUniverse:
    seed, idx, full = case
    return generate(seed, idx, full=full)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    folder = tmp_path_factory.mktemp("random-index")
    for case in UNIVERSES:
        write_wheels(_universe(case), folder)
    with IndexServer(folder).start() as running:
        yield running


@pytest.mark.parametrize(
    "case", UNIVERSES, ids=lambda c: f"s{c[0]}u{c[1]}{'-full' if c[2] else ''}"
)
def test_compile_agrees_with_the_exhaustive_search(
    tmp_path: Path, server: IndexServer, case: tuple[int, int, bool]
) -> None:
    universe = _universe(case)
    requirements = tmp_path / "in.txt"
    requirements.write_text("\n".join(universe.root) + "\n", encoding="utf-8")
    result = compile_pins(
        server, requirements, *TARGET_FLAGS, *universe.flags(), env=hermetic_env()
    )
    oracle = Oracle(universe)
    brute = oracle.brute()
    assert brute.satisfiable is not None, "the search gave up; choose another universe"
    if brute.satisfiable:
        assert result.exit_code == 0, f"the oracle found {brute.solution}\n{result.output}"
        violations, _ = oracle.check(parse_pins(result.stdout))
        assert violations == [], result.stdout
    else:
        assert result.exit_code == 1, f"no solution exists, but:\n{result.output}"
        assert "no solution" in result.output, result.output
