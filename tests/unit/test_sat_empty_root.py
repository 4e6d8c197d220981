"""A root requirement that no version meets: SAT answers from the loaded root, no call.

The clause of such a requirement is empty, so the encoding is unsatisfiable and that
group alone is a minimal core; the engine reports it without the lazy loop, the solver
or the core extraction (``sat._empty_root_group``). The answer must be the one the full
path gives.
"""

from __future__ import annotations

import random

import pytest

from resolvent.solver import sat
from resolvent.solver.result import NoSolution
from resolvent.solver.sat import SatEngine
from tests.unit.test_sat import Table, universe


def test_an_unmet_root_requirement_needs_no_solver_call() -> None:
    table: Table = {"a": {"1.0": ["b"]}, "b": {"1.0": [], "2.0": []}}
    outcome = SatEngine().solve(universe(table, "a", "b>=5")[0])
    assert isinstance(outcome, NoSolution)
    assert outcome.core == ("b",)
    assert outcome.explanation.splitlines()[0] == "You require b>=5."
    assert outcome.stats["sat_calls"] == 0
    assert outcome.stats["loaded"] == 0  # no version's requirements were read


def test_a_missing_project_is_unmet_too() -> None:
    outcome = SatEngine(optimal=True).solve(universe({"a": {"1.0": []}}, "a", "nowhere")[0])
    assert isinstance(outcome, NoSolution)
    assert outcome.core == ("nowhere",)
    assert outcome.stats["sat_calls"] == 0


def _random_case(rng: random.Random) -> tuple[Table, list[str]]:
    """Projects with a few versions and requirements; root requirements on distinct
    projects, some of which no version meets."""
    names = [f"p{i}" for i in range(rng.randint(2, 7))]
    table: Table = {}
    for name in names:
        table[name] = {}
        for major in range(1, rng.randint(2, 4)):
            deps = [
                f"{other}>={rng.randint(1, 3)}"
                for other in rng.sample(names, rng.randint(0, 2))
                if other != name
            ]
            table[name][f"{major}.0"] = deps
    picked = rng.sample([*names, "gone"], rng.randint(1, len(names)))
    return table, [f"{name}>={rng.randint(1, 5)}" for name in picked]


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("optimal", [False, True])
def test_the_shortcut_answers_as_the_full_path(
    seed: int, optimal: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    table, roots = _random_case(random.Random(seed))  # noqa: S311 - reproducible cases
    short = SatEngine(optimal=optimal).solve(universe(table, *roots)[0])
    with monkeypatch.context() as patch:
        patch.setattr(sat, "_empty_root_group", lambda cnf: None)
        full = SatEngine(optimal=optimal).solve(universe(table, *roots)[0])
    assert type(short) is type(full)
    if isinstance(full, NoSolution):
        assert isinstance(short, NoSolution)
        assert (short.explanation, short.core) == (full.explanation, full.core)


def test_the_random_cases_take_the_shortcut_often() -> None:
    taken = 0
    for seed in range(60):
        table, roots = _random_case(random.Random(seed))  # noqa: S311 - reproducible cases
        outcome = SatEngine().solve(universe(table, *roots)[0])
        taken += isinstance(outcome, NoSolution) and outcome.stats["sat_calls"] == 0
    assert taken >= 15
