"""Legal inputs of pathological size cost work in proportion to their size.

Each test counts the work an input causes (merge steps, evaluations, lookups) or checks
the answer for a size the old code could not finish in a reasonable time; none times
anything. The sizes are small enough that the tests run in a few seconds, and large
enough that quadratic work would be orders of magnitude more.
"""

from __future__ import annotations

import random
from functools import reduce
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import pytest
from packaging.markers import Marker
from packaging.ranges import VersionRange
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from resolvent import markers as markers_module
from resolvent.markers import extra_gate, requirement_applies
from resolvent.requirement_parsing import parse_requirement, prepare_bounds
from resolvent.solver import sat as sat_module
from resolvent.solver._internal.cnf import Cnf
from resolvent.solver._internal.sat_explain import _disjoint_demands
from resolvent.solver.memory import InMemoryProvider
from resolvent.solver.provider import Unavailable
from resolvent.solver.ranges import from_specifier, intersect_all
from resolvent.solver.report import _SPELL_LIMIT, RangeFormatter
from resolvent.solver.result import NoSolution, Solution
from resolvent.solver.sat import SatEngine
from resolvent.solver.universe import Universe
from tests.support.counting import SOLVER_MARKERS, count_calls, count_merge_steps

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from resolvent.solver._internal.cnf import Group

MARKERS = SOLVER_MARKERS


def _universe(table: Mapping[str, Mapping[str, Sequence[str]]], *requires: str) -> Universe:
    return Universe(
        InMemoryProvider.from_simple(table),
        [Requirement(r) for r in requires],
        markers=MARKERS,
        python_version=Version("3.12"),
    )


def _holes(count: int) -> str:
    return ",".join(f"!=0.0.{i}" for i in range(count))


def _bounds(rng: VersionRange) -> list[tuple[str, bool, str, bool]]:
    """The intervals exactly as stored, the bound objects' own spellings included."""
    return [
        (repr(lo.version), lo.inclusive, repr(hi.version), hi.inclusive) for lo, hi in rng._bounds
    ]


@pytest.fixture
def merge_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the steps of packaging's interval merges (one emptiness test per step)."""
    return count_merge_steps(monkeypatch)


# -- long specifier sets -----------------------------------------------------------------


def _random_specifiers(seed: int, count: int) -> Iterator[str]:
    """Long sets of mixed clauses, most of them holes so that many sets are not empty."""
    rng = random.Random(seed)  # noqa: S311 - reproducible inputs, not secrets

    def version() -> str:
        text = ".".join(str(rng.choice([0, 1, 2, 10])) for _ in range(rng.choice([1, 2, 3])))
        if rng.random() < 0.1:
            text = "1!" + text
        extra = rng.random()
        if extra < 0.15:
            text += rng.choice(["a", "b", "rc"]) + str(rng.randint(0, 2))
        elif extra < 0.25:
            text += f".post{rng.randint(0, 2)}"
        elif extra < 0.35:
            text += f".dev{rng.randint(0, 2)}"
        return text

    def clause() -> str:
        if rng.random() < 0.9:
            op = rng.choice(["!=", "!=", "!=*", "!=+"])
        else:
            op = rng.choice(["==", "<=", ">=", "<", ">", "~=", "==*", "==+", "<=+"])
        base = version()
        if op.endswith("*"):
            release = base.split("!")[-1]
            for mark in ("a", "b", "rc", ".post", ".dev"):
                release = release.split(mark)[0]
            return f"{op[:-1]}{release}.*"
        if op.endswith("+"):
            return f"{op[:-1]}{base}+local{rng.randint(0, 1)}"
        if op == "~=" and "." not in base.split("!")[-1]:
            base += ".0"
        return op + base

    made = 0
    while made < count:
        text = ",".join(clause() for _ in range(rng.choice([17, 20, 33, 64])))
        try:
            SpecifierSet(text)
        except InvalidSpecifier:  # ``<=1.dev1+local1``: only ==, != and === take locals
            continue
        made += 1
        yield text


def test_a_long_specifier_set_folds_to_packagings_own_bounds() -> None:
    """The balanced fold keeps the very bounds packaging's left fold keeps."""
    nonempty = 0
    for text in _random_specifiers(seed=7, count=400):
        theirs = SpecifierSet(text, prereleases=True).to_range()
        ours = prepare_bounds(SpecifierSet(text, prereleases=True)).to_range()
        assert _bounds(ours) == _bounds(theirs), text
        assert str(ours.to_specifier_set()) == str(theirs.to_specifier_set()), text
        nonempty += not theirs.is_empty
    assert nonempty > 100  # the comparison covered real ranges, not only empty ones


def test_a_long_requirement_answers_membership_as_packaging_does() -> None:
    for index, text in enumerate(_random_specifiers(seed=11, count=100)):
        requirement = parse_requirement(f"p{index}{text}")
        plain = SpecifierSet(text)
        for version in ("0", "1.0", "2.1", "10.0.post1", "1!2.0", "1.0+local0", "2.0a1"):
            assert requirement.specifier.contains(version, prereleases=True) == plain.contains(
                version, prereleases=True
            ), (text, version)


def test_thousands_of_holes_fold_in_n_log_n_merge_steps(merge_steps: list[int]) -> None:
    count = 3000  # packaging's left fold: 4.5 million steps (about 15 s)
    rng = from_specifier(_holes(count))
    assert len(rng._bounds) == count + 1
    assert merge_steps[0] < 20 * count
    assert Version("0.0.2999") not in rng
    assert Version("0.0.2999.1") in rng


def test_a_parsed_requirement_with_thousands_of_wildcards_tests_membership_once_folded(
    merge_steps: list[int],
) -> None:
    # Wildcards are not answered clause by clause, so membership folds the whole set.
    text = "p" + ",".join(f"!=0.{2 * i}.*" for i in range(3000))
    requirement = parse_requirement(text)
    assert requirement.specifier.contains("0.1.5", prereleases=True)
    assert not requirement.specifier.contains("0.4.5", prereleases=True)
    assert merge_steps[0] < 20 * 3000


def test_intersecting_many_ranges_keeps_the_left_folds_bounds() -> None:
    rng = random.Random(3)  # noqa: S311 - reproducible inputs, not secrets
    for text in _random_specifiers(seed=5, count=200):
        clauses = text.split(",")
        rng.shuffle(clauses)
        cut = sorted(rng.sample(range(1, len(clauses)), 5))
        pieces = [
            ",".join(clauses[a:b]) for a, b in zip([0, *cut], [*cut, len(clauses)], strict=True)
        ]
        ranges = [from_specifier(piece) for piece in pieces]
        left = reduce(lambda a, b: a.intersection(b), ranges)
        assert _bounds(intersect_all(ranges)) == _bounds(left)


def test_thousands_of_ranges_intersect_in_n_log_n_merge_steps(merge_steps: list[int]) -> None:
    ranges = [from_specifier(f"!=0.0.{i}") for i in range(3000)]
    merge_steps[0] = 0
    assert len(intersect_all(ranges)._bounds) == 3001
    assert merge_steps[0] < 20 * 3000


# -- explanations of ranges with thousands of holes ---------------------------------------


def test_a_range_of_thousands_of_holes_is_written_without_spelling_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Spelling such a range re-parses it, clause by clause: written by its intervals."""
    spelled: list[VersionRange] = []
    real = VersionRange.to_specifier_set

    def counted(self: VersionRange) -> SpecifierSet | None:
        spelled.append(self)
        return real(self)

    monkeypatch.setattr(VersionRange, "to_specifier_set", counted)
    universe = _universe({"a": {"1.0": [], "2.0": []}}, "a")
    fmt = RangeFormatter(universe)
    huge = from_specifier(_holes(3000) + ",!=1.0,!=2.0")  # spelled: 9 million merge steps
    parts = fmt.parts("a", huge)
    assert spelled == []
    assert parts[0] == "<0.0.0"
    assert parts[1] == ">0.0.0,<0.0.1"
    assert parts[-1] == ">2.0"
    assert len(parts) == 3003
    # With a usable version inside, the runs of usable versions say it, as before.
    assert fmt.parts("a", from_specifier(_holes(3000) + ",!=1.0")) == ("==2.0",)
    assert spelled == []
    # A range of a few intervals is still spelled as its specifier set.
    assert fmt.parts("a", from_specifier(_holes(_SPELL_LIMIT - 3) + ",!=1.0,!=2.0"))[0][:2] == "!="
    assert len(spelled) == 1


# -- markers of projects with thousands of extras ----------------------------------------


def test_a_marker_for_another_extra_is_answered_without_evaluating_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluated: list[Marker] = []
    real = Marker.evaluate

    def counted(self: Marker, *args: object, **kwargs: object) -> bool:
        evaluated.append(self)
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Marker, "evaluate", counted)
    requirement = parse_requirement('b>=1; extra == "e7" and python_version >= "3"')
    env = dict(MARKERS)
    holds = []
    for i in range(2000):
        env["extra"] = f"e{i}"
        holds.append(requirement_applies(requirement, env))
    assert holds == [i == 7 for i in range(2000)]
    assert len(evaluated) <= 2  # the first extra (to learn that packaging evaluates it), e7


@pytest.mark.parametrize(
    ("marker", "gate"),
    [
        ('extra == "a"', {"a"}),
        ('"a" == extra', {"a"}),
        ('extra == "Foo_Bar"', {"foo-bar"}),
        ('extra == "a" or extra == "b"', {"a", "b"}),
        ('extra == "a" and python_version >= "3"', {"a"}),
        ('python_version >= "3" and (extra == "a" or extra == "b")', {"a", "b"}),
        ('extra == "a" or python_version >= "3"', None),
        ('extra != "a"', None),
        ('python_version >= "3"', None),
        ('(extra == "a" or os_name == "nt") and extra == "b"', {"b"}),
    ],
)
def test_extra_gate_names_the_extras_a_marker_can_hold_for(
    marker: str, gate: set[str] | None
) -> None:
    assert extra_gate(Marker(marker)) == (None if gate is None else frozenset(gate))


@pytest.mark.parametrize(
    "marker",
    [
        'extra == "a"',
        '"a" == extra',
        'extra == "Foo_Bar"',
        'extra == "a" or extra == "b"',
        'extra == "a" and python_version >= "3"',
        'extra == "a" and python_version < "3"',
        'python_version >= "3" and (extra == "a" or extra == "b")',
        'extra == "a" or python_version >= "3"',
        'extra != "a"',
        '(extra == "a" or os_name == "nt") and extra == "b"',
    ],
)
def test_gated_markers_hold_exactly_where_packaging_says(marker: str) -> None:
    requirement = Requirement(f"x; {marker}")
    env = dict(MARKERS)
    for extra in ["", "a", "b", "foo-bar", "Foo.Bar", "c", "a", ""]:  # again once known
        env["extra"] = extra
        assert requirement_applies(requirement, env) == Marker(marker).evaluate(env), extra


def test_a_marker_packaging_refuses_is_still_warned_about(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The gate never answers for a marker that packaging has not evaluated."""
    warned: list[str] = []
    monkeypatch.setattr(markers_module, "_warn", lambda shown, ignored: warned.append(shown))
    requirement = Requirement('x; extra == "a" and python_version ~= "foo"')
    env = {**MARKERS, "extra": "b"}
    assert not requirement_applies(requirement, env)
    assert not requirement_applies(requirement, env)
    assert len(warned) == 2  # both went the lenient way (``_warn`` logs once per text)


# -- the SAT engine on thousands of versions and extras ------------------------------------


def test_sat_takes_in_each_demand_on_a_package_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each of a project's extras requires the project: n demands, not n^2 lookups."""
    count = 400
    extras = ",".join(f"e{i}" for i in range(count))
    lines = [f'b>=1; extra == "e{i}"' for i in range(count)]
    universe = Universe(
        InMemoryProvider.from_simple({"a": {"1.0": lines}, "b": {"1.0": [], "2.0": []}}),
        [Requirement(f"a[{extras}]")],
        markers=MARKERS,
        python_version=Version("3.12"),
    )
    asked = count_calls(monkeypatch, Cnf, "allowed")
    outcome = SatEngine().solve(universe)
    assert isinstance(outcome, Solution)
    assert outcome.selected["b"] == Version("2.0")
    assert len(outcome.selected) == count + 2
    assert asked[0] < 30 * count  # recomputed intersections: over 160,000


def test_sat_looks_up_each_blocked_versions_package_once(monkeypatch: pytest.MonkeyPatch) -> None:
    count = 600
    table: dict[str, dict[str, list[str]]] = {
        "deep": {f"{i // 10}.{i % 10}": ["b>=3"] for i in range(count)},
        "b": {"1.0": []},
    }
    looked_up = count_calls(monkeypatch, sat_module._Greedy, "_owner")
    outcome = SatEngine().solve(_universe(table, "deep"))
    assert isinstance(outcome, NoSolution)
    assert "depend on b>=3" in outcome.explanation
    assert looked_up[0] <= 2 * count  # two searches; before: once per core, 13,000 here


def test_a_core_of_thousands_of_one_packages_versions_reads_each_range_once() -> None:
    class Counted:
        """A range that counts membership tests."""

        def __init__(self, members: set[str]) -> None:
            self.members = members
            self.tests = 0

        def __contains__(self, version: object) -> bool:
            self.tests += 1
            return str(version) in self.members

    def demands(*pairs: tuple[str, Counted]) -> list[Group]:
        """Groups of the core naming one target: who requires it, and in what range."""
        return [cast("Group", SimpleNamespace(package=p, range=r)) for p, r in pairs]

    versions = [Version(f"1.{i}") for i in range(50)]
    shared = Counted({"1.1", "1.2"})
    same = demands(("z", shared), *[("a", shared)] * 3000)
    assert not _disjoint_demands(same, versions)
    assert shared.tests <= len(versions)  # the old pairing: 300,000
    other = Counted({"1.3"})
    assert _disjoint_demands([*same, *demands(("b", other))], versions)
    assert not _disjoint_demands(demands(("a", shared), ("a", other)), versions)
    assert not _disjoint_demands(demands(("a", shared), ("b", Counted(set()))), versions)


def test_an_extras_requirements_are_sorted_out_once_per_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each of n extras used to evaluate every requirement line's marker again: n^2
    # evaluations (2,000 extras: minutes and a verdict cache of millions of entries).
    count = 300
    lines = [f'dep{i}; extra == "e{i}"' for i in range(count)]
    lines += ['both; extra == "e1" or extra == "e2"', 'any; python_version >= "3" and extra != ""']
    table: dict[str, dict[str, list[str]]] = {
        "pkg": {"1.0": lines},
        "both": {"1.0": []},
        "any": {"1.0": []},
    }
    table |= {f"dep{i}": {"1.0": []} for i in range(count)}
    universe = _universe(table, "pkg[e1]")
    asked = count_calls(monkeypatch, Universe, "_marker_holds")
    named: dict[int, list[str]] = {}
    for i in range(count):
        edges = universe.dependencies(f"pkg[e{i}]", Version("1.0"))
        assert not isinstance(edges, Unavailable)
        named[i] = [edge.package for edge in edges]
    assert named[1] == ["pkg", "dep1", "both", "any"]
    assert named[2] == ["pkg", "dep2", "both", "any"]
    assert named[7] == ["pkg", "dep7", "any"]
    assert asked[0] <= 4 * count
