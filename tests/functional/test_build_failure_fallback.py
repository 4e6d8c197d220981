"""A failed sdist build stops resolution only when the answer walked past it.

The SAT engine's intermediate models may select any version, and closing them loads the
requirements of versions that no newest-first search would visit: on the real index,
ancient sdists that no longer build (jupyter reached ``bleach`` 0.2.1, boto3's set
``urllib3`` 1.2.1). A failed build makes the version unavailable to the engines; the
resolution then fails with the build error only if the answer chose a version worse
than the one that failed (uv and pip stop at a failed build rather than silently answer
with older releases) or there is no answer. Here the SAT engine is made to wander to the
failing sdist of an old version (the real build runs and fails): every engine answers.
In ``auto`` mode the SAT run does not even build it: such builds are put off, and made
only when the answer would otherwise settle below the version. A failing newest version
still stops the resolution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from packaging.version import Version

from resolvent.solver.pubgrub import PubGrubEngine
from resolvent.solver.result import BudgetExceeded
from resolvent.solver.sat import SatEngine
from tests.support.dists import BuildLog, Dist, build_failing_sdist, build_sdist
from tests.support.environment import hermetic_env
from tests.support.index import compile_pins, serve_dists

if TYPE_CHECKING:
    from pathlib import Path

    from resolvent.solver.result import Outcome
    from resolvent.solver.universe import Universe


def _wandering(original: object) -> object:
    def solve(self: SatEngine, universe: Universe, **kwargs: object) -> Outcome:
        universe.versions("demo")
        universe.dependencies("demo", Version("1.0"))  # an old version: its build fails
        return original(self, universe, **kwargs)  # type: ignore[operator,no-any-return]

    return solve


@pytest.mark.parametrize("solver", ["auto", "sat", "both"])
def test_sat_exploration_build_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, solver: str
) -> None:
    monkeypatch.setattr(SatEngine, "solve", _wandering(SatEngine.solve))
    log = BuildLog(tmp_path)
    requirements = tmp_path / "requirements.in"
    requirements.write_text("demo\n", encoding="utf-8")
    dists = [Dist("demo", "2.0", requires=["dep"]), Dist("dep", "1.0")]
    with serve_dists(tmp_path, dists) as server:
        build_failing_sdist(server.folder, Dist("demo", "1.0"))
        result = compile_pins(server, requirements, "--solver", solver, env=log.env)
    builds = log.hooks()
    if solver == "auto":
        assert builds == []  # put off: the answer prefers what it chose anyway
    else:
        # Built once, by the exploration; the answer prefers what it chose.
        assert builds == ["prepare_metadata_for_build_wheel demo-1.0"]
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["demo==2.0", "dep==1.0"]


@pytest.mark.parametrize("solver", ["auto", "sat", "pubgrub"])
def test_failed_build_of_a_better_version_stops_resolution(tmp_path: Path, solver: str) -> None:
    # demo 2.0 (a wheel) would do, but the newest release fails to build: a newest-first
    # resolver stops there, and so does every engine here.
    requirements = tmp_path / "requirements.in"
    requirements.write_text("demo\n", encoding="utf-8")
    with serve_dists(tmp_path, [Dist("demo", "2.0")]) as server:
        build_failing_sdist(server.folder, Dist("demo", "3.0"))
        result = compile_pins(server, requirements, "--solver", solver, env=hermetic_env())
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: failed to build `demo-3.0.tar.gz`: ")
    assert result.stderr.count("\n") == 1


def test_a_put_off_build_the_answer_needs_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PubGrub hands over at once, so SAT answers; its build of the newest release (an
    # sdist whose metadata only its backend gives) is put off, so the first answer takes
    # demo 1.0, below it. The build is then made and the resolution repeated.
    def thrashing(self: PubGrubEngine, universe: Universe, **kwargs: object) -> Outcome:
        raise BudgetExceeded("pubgrub", 1)

    monkeypatch.setattr(PubGrubEngine, "solve", thrashing)
    log = BuildLog(tmp_path)
    requirements = tmp_path / "requirements.in"
    requirements.write_text("demo\n", encoding="utf-8")
    with serve_dists(tmp_path, [Dist("demo", "1.0"), Dist("dep", "1.0")]) as server:
        build_sdist(
            server.folder, Dist("demo", "2.0", requires=["dep"]), in_tree_backend=True, dynamic=True
        )
        result = compile_pins(server, requirements, env=log.env)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["demo==2.0", "dep==1.0"]
    assert log.hooks() == ["prepare_metadata_for_build_wheel demo-2.0"]


@pytest.mark.parametrize("solver", ["auto", "pubgrub"])
def test_a_failed_build_bound_to_fail_stops_at_once(tmp_path: Path, solver: str) -> None:
    # The newest demo, required directly, fails to build: any answer would settle below
    # it, so the run stops there instead of building demo 2.0 (which fails too) first.
    log = BuildLog(tmp_path)
    requirements = tmp_path / "requirements.in"
    requirements.write_text("demo\n", encoding="utf-8")
    with serve_dists(tmp_path, [Dist("demo", "1.0")]) as server:
        build_failing_sdist(server.folder, Dist("demo", "2.0"))
        build_failing_sdist(server.folder, Dist("demo", "3.0"))
        result = compile_pins(server, requirements, "--solver", solver, env=log.env)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: failed to build `demo-3.0.tar.gz`: ")
    assert log.hooks() == ["prepare_metadata_for_build_wheel demo-3.0"]
