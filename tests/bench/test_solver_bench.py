"""Solver benchmarks: both engines on the synthetic universes of ``bench/universes.py``.

With the project's default ``--benchmark-disable`` (``make test``) every case runs once,
on small universes, as a plain correctness test. ``pytest tests/bench
--benchmark-enable`` measures the full sizes (a 200-package layered universe with 30
versions each, and a wide one). The tests assert correctness only (a checker-accepted
solution from each engine), never time. PubGrub runs under a step budget because it may
legitimately blow up on the adversarial layered shape; when it gives up, the run records
that in ``extra_info`` instead of failing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast

import pytest

from bench.universes import Synthetic, chain, layered, wide
from resolvent.solver.checker import check_solution
from resolvent.solver.pubgrub import PubGrubEngine
from resolvent.solver.result import BudgetExceeded, Solution
from resolvent.solver.sat import SatEngine

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_benchmark.fixture import BenchmarkFixture

    from resolvent.solver.result import Engine, Outcome
    from resolvent.solver.universe import Universe

Shape = Literal["layered", "wide", "chain"]
EngineName = Literal["sat", "pubgrub"]

#: PubGrub's step budget on the full sizes: far above what a real-world graph needs.
PUBGRUB_BUDGET = 50_000
ROUNDS = 3

_SMALL: dict[Shape, Callable[[], Synthetic]] = {
    "layered": lambda: layered(packages=24, versions=6, layers=3),
    "wide": lambda: wide(packages=60, versions=5),
    "chain": lambda: chain(length=20, versions=6),
}
_FULL: dict[Shape, Callable[[], Synthetic]] = {
    "layered": lambda: layered(packages=200, versions=30),
    "wide": lambda: wide(packages=200, versions=30),
    "chain": lambda: chain(length=200, versions=30),
}


def _engine(name: EngineName) -> Engine:
    return SatEngine() if name == "sat" else PubGrubEngine()


@pytest.mark.parametrize("engine_name", ["sat", "pubgrub"])
@pytest.mark.parametrize("shape", ["layered", "wide", "chain"])
def test_solver(benchmark: BenchmarkFixture, shape: Shape, engine_name: EngineName) -> None:
    synthetic = (_SMALL if benchmark.disabled else _FULL)[shape]()
    budget = None if benchmark.disabled or engine_name == "sat" else PUBGRUB_BUDGET
    universes: list[Universe] = []

    def setup() -> tuple[tuple[Universe], dict[str, object]]:
        # A fresh universe per round: universes cache what they load.
        universe = synthetic.universe()
        universes.append(universe)
        return (universe,), {}

    def solve(universe: Universe) -> Outcome | BudgetExceeded:
        try:
            return _engine(engine_name).solve(universe, budget=budget)
        except BudgetExceeded as error:
            return error

    rounds = 1 if benchmark.disabled else ROUNDS
    # pytest-benchmark's fixture is untyped; name the shape of the one call we make.
    pedantic = cast("Callable[..., Outcome | BudgetExceeded]", benchmark.pedantic)
    outcome = pedantic(solve, setup=setup, rounds=rounds, iterations=1)
    benchmark.extra_info["packages"] = len(synthetic)
    if isinstance(outcome, BudgetExceeded):
        assert budget is not None, "only PubGrub on the full sizes runs under a budget"
        benchmark.extra_info["gave_up_after_steps"] = outcome.steps
        return
    assert isinstance(outcome, Solution), f"{engine_name} found no solution for {shape}"
    benchmark.extra_info.update(outcome.stats)
    assert check_solution(universes[-1], outcome.selected) == []


@pytest.mark.parametrize("shape", ["layered", "wide", "chain"])
def test_engines_agree_on_small_universes(shape: Shape) -> None:
    synthetic = _SMALL[shape]()
    outcomes = {name: _engine(name).solve(synthetic.universe()) for name in ("sat", "pubgrub")}
    for name, outcome in outcomes.items():
        assert isinstance(outcome, Solution), name
        assert check_solution(synthetic.universe(), outcome.selected) == [], name
