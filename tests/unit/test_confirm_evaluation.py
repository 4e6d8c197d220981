"""A confirmation decided by evaluation says what the SAT solver's call says.

``SatEngine.confirm`` first evaluates its call's clauses at the one assignment its
assumptions fix (``sat._evaluate``); only when that assignment is no model does the
solver run. These tests compare the two on random universes and selections (valid
answers, and answers changed in every way a wrong answer can differ), and check that a
confirmation that holds needs no pysat.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from resolvent.solver import sat
from resolvent.solver.memory import InMemoryProvider, Release
from resolvent.solver.provider import Unavailable, VersionInfo
from resolvent.solver.result import BudgetExceeded, Solution
from resolvent.solver.sat import SatEngine
from resolvent.solver.universe import Universe
from tests.support.counting import SOLVER_MARKERS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from packaging.utils import NormalizedName

NAMES = ["a", "b", "c", "d", "e", "f"]
EXTRAS = ["x", "y"]


class _SomeUnavailable(InMemoryProvider):
    """Releases in memory, some of whose metadata cannot be had."""

    def __init__(self, releases: Mapping[str, list[Release]], broken: set[tuple[str, str]]):
        super().__init__(releases)
        self.broken = broken

    def get_requirements(
        self, name: NormalizedName, version: Version
    ) -> Sequence[Requirement] | Unavailable:
        if (name, str(version)) in self.broken:
            return Unavailable(f"no metadata for `{name}=={version}`")
        return super().get_requirements(name, version)


def _spec(rng: random.Random, count: int) -> str:
    """A random specifier over versions 1..count, sometimes with an arbitrary literal."""
    low = rng.randint(1, count)
    choice = rng.random()
    if choice < 0.3:
        return f">={low}"
    if choice < 0.6:
        return f">={low},<{rng.randint(low, count + 1)}"
    if choice < 0.75:
        return f"=={low}.0"
    if choice < 0.85:
        return f"!={low}.0"
    if choice < 0.95:
        return f"~={low}.0"
    return f"==={low}.0"  # a literal: membership is by string, not by value


def _universe(seed: int) -> tuple[Universe, Universe]:
    """Two fresh universes (one per engine path) over the same random releases."""
    rng = random.Random(seed)  # noqa: S311 - reproducible cases
    count = rng.randint(1, 4)
    releases: dict[str, list[Release]] = {}
    broken: set[tuple[str, str]] = set()
    for index, name in enumerate(NAMES):
        items: list[Release] = []
        for number in range(1, count + 1):
            requires: list[str] = []
            # Acyclic-ish requirements on later packages, some under extras.
            for target in NAMES[index + 1 :]:
                if rng.random() < 0.35:
                    extra = f"[{rng.choice(EXTRAS)}]" if rng.random() < 0.2 else ""
                    requires.append(f"{target}{extra}{_spec(rng, count)}")
            requires.extend(
                f"{target}{_spec(rng, count)}; extra == '{extra}'"
                for extra in EXTRAS
                for target in NAMES[index + 1 :]
                if rng.random() < 0.15
            )
            if rng.random() < 0.05 and index:
                requires.append(f"{NAMES[0]}>=1")  # a cycle back to the root's target
            yanked = rng.random() < 0.05
            items.append(
                Release(
                    VersionInfo(Version(f"{number}.0"), yanked=yanked),
                    tuple(Requirement(r) for r in requires),
                )
            )
            if rng.random() < 0.05:
                broken.add((name, f"{number}.0"))
        releases[name] = items
    roots = [f"{name}{_spec(rng, count)}" for name in NAMES[:2] if rng.random() < 0.8] or ["a"]

    def make() -> Universe:
        provider = _SomeUnavailable(releases, broken)
        return Universe(
            provider,
            [Requirement(r) for r in roots],
            markers=SOLVER_MARKERS,
            python_version=Version("3.12"),
        )

    return make(), make()


def _selections(seed: int, universe: Universe) -> list[dict[str, Version]]:
    """The SAT search's answer (if any), changed answers, and random selections."""
    rng = random.Random(seed * 7919 + 1)  # noqa: S311 - reproducible cases
    found = SatEngine().solve(universe)
    selections: list[dict[str, Version]] = []
    if isinstance(found, Solution):
        answer = dict(found.selected)
        selections.append(answer)
        for _ in range(4):
            changed = dict(answer)
            move = rng.random()
            key = rng.choice(sorted(changed))
            if move < 0.4:
                changed[key] = Version(f"{rng.randint(1, 5)}.0")  # another (or no) version
            elif move < 0.6:
                del changed[key]  # a package the answer lacks
            elif move < 0.8:
                changed[rng.choice(NAMES)] = Version("1.0")  # one nothing may require
            else:
                changed[key] = Version(f"{changed[key]}.0")  # equal, another object
            selections.append(changed)
    for _ in range(3):
        picks = rng.sample(NAMES, rng.randint(1, len(NAMES)))
        selections.append({name: Version(f"{rng.randint(1, 4)}.0") for name in picks})
    return selections


def _solver_only(universe: Universe, selected: Mapping[str, Version]) -> Solution | str:
    """Confirm as before evaluation existed: every call on the solver."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sat, "_evaluate", lambda *_: None)
        return SatEngine().confirm(universe, selected)


@pytest.mark.parametrize("seed", range(150))
def test_evaluation_decides_as_the_solver_does(seed: int) -> None:
    fast, slow = _universe(seed)
    for selected in _selections(seed, fast):
        evaluated = sat._evaluate(fast, selected, sat._Steps(None, None))
        confirmed = SatEngine().confirm(fast, selected)
        reference = _solver_only(slow, selected)
        if evaluated is None:
            # Not a model: the solver's reason, unchanged.
            assert isinstance(reference, str), (selected, reference)
            assert confirmed == reference
        else:
            assert isinstance(reference, Solution), (selected, reference)
            assert isinstance(confirmed, Solution)
            assert confirmed.selected == reference.selected == selected
            assert confirmed.stats == reference.stats == evaluated


def test_the_property_meets_every_kind_of_answer() -> None:
    """The random cases hold confirmed answers and rejected ones of each kind."""
    kinds = [
        "the encoding has no model that selects",
        "the encoding requires packages the answer lacks",
        "the answer selects packages nothing requires",
        "has no version",
    ]
    reasons: set[str] = set()
    confirmed = 0
    for seed in range(150):
        universe, _ = _universe(seed)
        for selected in _selections(seed, universe):
            outcome = SatEngine().confirm(universe, selected)
            if isinstance(outcome, Solution):
                confirmed += 1
            else:
                reasons.update(kind for kind in kinds if kind in outcome)
    assert confirmed >= 100
    assert reasons == set(kinds)


def test_evaluation_counts_steps_against_the_budget() -> None:
    """A confirmation of n pins is n loads and one call, evaluated or not."""
    for seed in range(40):
        universe, _ = _universe(seed)
        found = SatEngine().solve(universe)
        if isinstance(found, Solution) and len(found.selected) >= 2:
            break
    else:  # pragma: no cover - the seeds above hold such an answer
        pytest.fail("no answer with two packages")
    steps = len(found.selected) + 1
    outcome = SatEngine().confirm(universe, found.selected, budget=steps)
    assert isinstance(outcome, Solution)
    assert outcome.stats["sat_calls"] == 1
    assert outcome.stats["loaded"] == len(found.selected)
    with pytest.raises(BudgetExceeded):
        SatEngine().confirm(universe, found.selected, budget=steps - 1)


def test_a_confirmation_that_holds_imports_no_pysat(tmp_path: Path) -> None:
    """pysat is imported when a call needs the solver, not for a model found by evaluation.

    Nor are the clause encoding and the explanations of conflicts: a warm install's
    answer is confirmed by evaluation, and imported them for nothing.
    """
    script = tmp_path / "confirm.py"
    script.write_text(
        "import sys\n"
        "from packaging.requirements import Requirement\n"
        "from packaging.version import Version\n"
        "from resolvent.solver.memory import InMemoryProvider\n"
        "from resolvent.solver.sat import SatEngine\n"
        "from resolvent.solver.universe import Universe\n"
        "from tests.support.counting import SOLVER_MARKERS\n"
        "table = {'a': {'1.0': ['b>=1']}, 'b': {'1.0': [], '2.0': ['c']}}\n"
        "def make():\n"
        "    return Universe(InMemoryProvider.from_simple(table), [Requirement('a')],\n"
        "                    markers=SOLVER_MARKERS, python_version=Version('3.12'))\n"
        "ok = SatEngine().confirm(make(), {'a': Version('1.0'), 'b': Version('1.0')})\n"
        "assert not isinstance(ok, str), ok\n"
        "print(sorted(m for m in sys.modules if m.startswith('pysat')))\n"
        "encoding = ('resolvent.solver._internal.cnf', 'resolvent.solver._internal.sat_explain')\n"
        "print(sorted(m for m in encoding if m in sys.modules))\n"
        "no = SatEngine().confirm(make(), {'a': Version('1.0'), 'b': Version('2.0')})\n"
        "assert isinstance(no, str), no\n"
        "print('pysat.solvers' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "[]", "True"]
