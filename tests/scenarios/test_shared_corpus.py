"""uv's scenario corpus, read in place from ../shared/scenarios, through both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolvent.solver.crosscheck import resolve
from resolvent.solver.result import Solution
from resolvent.solver.scenario import parse_scenario

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "scenarios"
FILES = sorted(CORPUS.rglob("*.toml")) if CORPUS.is_dir() else []


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.skipif(not FILES, reason="../shared/scenarios is absent (a clone elsewhere)")
@pytest.mark.parametrize("path", FILES, ids=[_id(p) for p in FILES])
def test_shared_scenario(path: Path) -> None:
    (scenario,) = parse_scenario(path.read_text(encoding="utf-8"), str(path))
    if scenario.universal:
        pytest.skip("universal (multi-environment) scenario: checked by universal locking")
    resolution = resolve(scenario.universe(), solver="both")
    assert resolution.problems == []
    assert resolution.agree is True
    assert resolution.satisfiable == scenario.expected.satisfiable, resolution.outcome
    if scenario.expected.satisfiable and scenario.expected.packages:
        expected = {name: str(v) for name, v in scenario.expected.packages.items()}
        for run in resolution.runs:
            assert isinstance(run.outcome, Solution)
            got = {name: str(v) for name, v in run.outcome.packages().items()}
            assert got == expected, run.engine
