"""Run every scenario of our own corpus (``specs/scenarios/**/*.toml``) through both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolvent.solver.crosscheck import resolve
from resolvent.solver.result import Solution
from resolvent.solver.scenario import parse_scenario

CORPUS = Path(__file__).resolve().parents[2] / "specs" / "scenarios"
FILES = sorted(CORPUS.rglob("*.toml"))


def test_corpus_is_not_empty() -> None:
    assert len(FILES) >= 36


def test_names_are_unique_and_match_files() -> None:
    names = [parse_scenario(f.read_text(encoding="utf-8"), f.name)[0].name for f in FILES]
    assert len(set(names)) == len(names)
    assert names == [f.stem for f in FILES]


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_scenario(path: Path) -> None:
    (scenario,) = parse_scenario(path.read_text(encoding="utf-8"), str(path))
    assert scenario.expected.explanation, "every scenario says why its outcome is right"
    if scenario.expected.satisfiable:
        assert scenario.expected.packages, "a satisfiable scenario names its packages"
    resolution = resolve(scenario.universe(), solver="both")

    assert resolution.problems == []
    assert resolution.agree is True
    assert resolution.satisfiable == scenario.expected.satisfiable
    assert [run.engine for run in resolution.runs] == ["sat", "pubgrub"]
    expected = {str(name): str(version) for name, version in scenario.expected.packages.items()}
    for run in resolution.runs:
        assert run.gave_up is None
        if scenario.expected.satisfiable:
            assert isinstance(run.outcome, Solution), run.engine
            chosen = {str(name): str(v) for name, v in run.outcome.packages().items()}
            assert chosen == expected, run.engine
        else:
            assert run.outcome is not None
            assert not isinstance(run.outcome, Solution), run.engine
            assert run.outcome.explanation.strip(), run.engine
