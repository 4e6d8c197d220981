"""A failed sdist build met by the SAT engine's exploration does not stop ``auto`` mode.

The SAT engine's intermediate models may select any version, and closing them loads the
requirements of versions that no newest-first search would visit: on the real index,
ancient sdists that no longer build (jupyter reached ``bleach`` 0.2.1). uv stops on a
failed build only when its own search needs the version; in ``auto`` mode resolvent
then lets PubGrub, which walks uv's order, answer alone. Here the SAT engine is made to
wander to the failing sdist of an old version (the real build runs and fails); ``auto``
still answers, while ``--solver sat`` reports the build failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from packaging.version import Version

from resolvent.solver.sat import SatEngine
from tests.support.dists import Dist, build_sdist
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


@pytest.mark.parametrize("solver", ["auto", "sat"])
def test_sat_exploration_build_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, solver: str
) -> None:
    monkeypatch.setattr(SatEngine, "solve", _wandering(SatEngine.solve))
    env = hermetic_env()
    log = tmp_path / "builds.log"
    env["RV_TEST_BUILD_LOG"] = str(log)
    requirements = tmp_path / "requirements.in"
    requirements.write_text("demo\n", encoding="utf-8")
    dists = [Dist("demo", "2.0", requires=["dep"]), Dist("dep", "1.0")]
    with serve_dists(tmp_path, dists) as server:
        build_sdist(
            server.folder,
            Dist("demo", "1.0"),
            in_tree_backend=True,
            dynamic=True,
            replace={"FAIL": ""},
        )
        result = compile_pins(server, requirements, "--solver", solver, env=env)
    assert log.read_text(encoding="utf-8").splitlines() == [
        "prepare_metadata_for_build_wheel demo-1.0"
    ]  # built once, by the exploration; PubGrub never needs it
    if solver == "sat":
        assert result.exit_code == 1
        assert "failed to build `demo-1.0.tar.gz`" in result.stderr
    else:
        assert result.exit_code == 0, result.output
        assert result.stdout.split() == ["demo==2.0", "dep==1.0"]
