"""uv's scenario corpus through the real path: wheels and sdists on a local index, then
``resolvent pip compile`` (in process, through the click command) against it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from resolvent.cli import cli
from resolvent.index.serve import IndexServer
from resolvent.solver.scenario import parse_scenario
from tests.support.environment import hermetic_env
from tests.support.scenario_index import materialize

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "scenarios"
FILES = sorted(CORPUS.rglob("*.toml")) if CORPUS.is_dir() else []


def _raw_tags(path: Path) -> dict[str, list[str]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for name, package in data.get("packages", {}).items():
        for version, info in package.get("versions", {}).items():
            if "wheel_tags" in info:
                found[f"{name}=={version}"] = info["wheel_tags"]
    return found


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, version = line.partition("==")
            pins[name.strip()] = version.strip()
    return pins


@pytest.mark.skipif(
    not FILES, reason="../shared/scenarios is absent (a clone outside the workplace)"
)
@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_compile_scenario(path: Path, tmp_path: Path) -> None:
    (scenario,) = parse_scenario(path.read_text(encoding="utf-8"), str(path))
    if scenario.universal:
        pytest.skip("universal (multi-environment) scenario: checked by universal locking")
    materialize(scenario, tmp_path / "dists", raw_tags=_raw_tags(path))
    requirements = tmp_path / "requirements.in"
    requirements.write_text("".join(f"{r}\n" for r in scenario.requires))
    with IndexServer(tmp_path / "dists") as server:
        args = [
            "pip",
            "compile",
            str(requirements),
            "--index-url",
            server.url,
            "--python-version",
            str(scenario.python),
            "--python-platform",
            scenario.platform,
            "--resolution",
            scenario.resolution,
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-header",
            "--no-annotate",
            "--quiet",
        ]
        if scenario.prereleases:
            args += ["--prerelease", "allow"]
        args += [a for name in sorted(scenario.no_build) for a in ("--only-binary", name)]
        args += [a for name in sorted(scenario.no_binary) for a in ("--no-binary", name)]
        result = CliRunner().invoke(cli, args, env=hermetic_env())
    if scenario.expected.satisfiable:
        assert result.exit_code == 0, result.output
        if scenario.expected.packages:
            expected = {name: str(v) for name, v in scenario.expected.packages.items()}
            assert _pins(result.stdout) == expected
    else:
        assert result.exit_code == 1, result.output
        assert "no solution found" in result.stderr
        assert "Traceback" not in result.output
