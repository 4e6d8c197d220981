"""``resolvent solve`` end to end, as a subprocess: JSON contract, exit codes, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

SAT = """
name = "sat"
[root]
requires = ["a"]
[expected]
satisfiable = true
[packages.a.versions."1.0.0"]
requires = ["b>=2"]
[packages.a.versions."2.0.0"]
requires = ["b<1"]
[packages.b.versions."2.0.0"]
"""

UNSAT = """
name = "unsat"
[root]
requires = ["a", "b==1.0.0"]
[expected]
satisfiable = false
[packages.a.versions."1.0.0"]
requires = ["b==2.0.0"]
[packages.b.versions."1.0.0"]
[packages.b.versions."2.0.0"]
"""


def rv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "resolvent", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    sat = tmp_path / "sat.toml"
    sat.write_text(SAT)
    unsat = tmp_path / "unsat.toml"
    unsat.write_text(UNSAT)
    return sat, unsat


@pytest.mark.parametrize("solver", ["auto", "both", "sat", "pubgrub"])
def test_json_contract(files, solver):
    sat, unsat = files
    result = rv("solve", "--json", "--solver", solver, str(sat), str(unsat))
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["scenario"] == str(sat)
    assert first["satisfiable"] is True
    assert first["packages"] == {"a": "1.0.0", "b": "2.0.0"}
    assert first["explanation"] == ""
    assert second["satisfiable"] is False
    assert second["packages"] == {}
    assert "b" in second["explanation"]
    if solver in ("both", "auto"):
        assert first["agree"] is True
        assert second["agree"] is True
        assert set(first["solvers"]) == {"sat", "pubgrub"}
        # In ``auto`` mode SAT confirms PubGrub's solution, and searches on a conflict.
        assert first["solvers"]["sat"].get("confirmed_answer", False) is (solver == "auto")
        assert "confirmed_answer" not in second["solvers"]["sat"]
    else:
        assert set(first["solvers"]) == {solver}
    for run in first["solvers"].values():
        assert run["satisfiable"] is True
        assert run["time"] >= 0


def test_human_output(files):
    sat, unsat = files
    result = rv("solve", str(sat), str(unsat))
    assert result.returncode == 0, result.stderr
    assert "satisfiable: a==1.0.0, b==2.0.0" in result.stdout
    assert "unsatisfiable" in result.stdout


def test_optimal(files):
    sat, _ = files
    result = rv("solve", "--json", "--optimal", "--solver", "sat", str(sat))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["packages"] == {"a": "1.0.0", "b": "2.0.0"}


@pytest.mark.parametrize(
    ("content", "needle", "suffix"),
    [
        (None, "cannot read scenario", ".toml"),
        ("name = 'x'\n[root\n", "not valid TOML", ".toml"),
        (
            "name='x'\n[root]\nrequires=['a>>']\n[expected]\nsatisfiable=true\n",
            "invalid requirement",
            ".toml",
        ),
        ("\x00\xff", "not valid TOML", ".toml"),
        pytest.param("name: x\nroot: [\n", "not valid YAML", ".yaml", id="yaml"),
        pytest.param("!!python/object:os.system {}\n", "not valid YAML", ".yml", id="yaml-tag"),
        pytest.param("name: x\nroot: 3\n", "missing `expected`", ".yaml", id="yaml-shape"),
        pytest.param("[]", "holds no scenario (an empty list)", ".json", id="empty-list"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, content, needle, suffix):
    path = tmp_path / f"bad{suffix}"
    if content is not None:
        path.write_text(content)
    result = rv("solve", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_option_values(files):
    sat, _ = files
    result = rv("solve", "--python-platform", "nope", str(sat))
    assert result.returncode == 2
    assert "unknown Python platform" in result.stderr
    assert "Traceback" not in result.stderr


def test_folder_of_scenarios(files):
    sat, _ = files
    result = rv("solve", "--json", str(sat.parent))
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 2


def test_a_folder_without_scenarios_is_bad_input(tmp_path):
    result = rv("solve", str(tmp_path))
    assert result.returncode == 2
    assert "holds no scenario files" in result.stderr


YAML_LIST = """\
- name: yaml-sat
  root:
    requires: ["a"]
  expected:
    satisfiable: true
  packages:
    a:
      versions:
        "1.0.0":
          requires: ["b>=2"]
        "2.0.0":
          requires: ["b<1"]
    b:
      versions:
        "2.0.0": {}
- name: yaml-unsat
  root:
    requires: ["a>2"]
  expected:
    satisfiable: false
  packages:
    a:
      versions:
        "1.0.0": {}
"""


def test_a_yaml_file_holds_a_list_of_scenarios(tmp_path: Path) -> None:
    # packse reads scenarios as TOML, JSON or YAML; YAML files used to be refused.
    path = tmp_path / "both.yaml"
    path.write_text(YAML_LIST)
    result = rv("solve", "--json", "--solver", "both", str(path))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["satisfiable"] for r in records] == [True, False]
    assert records[0]["packages"] == {"a": "1.0.0", "b": "2.0.0"}
    assert all(r["agree"] for r in records)
    folder = rv("solve", "--json", str(tmp_path))
    assert len(folder.stdout.splitlines()) == 2, folder.stderr


def test_json_after_a_handover_names_pubgrubs_search_and_its_confirmation(tmp_path):
    """SAT answers an adversarial universe; PubGrub's search and confirmation both show."""
    from bench.universes import layered  # noqa: PLC0415

    scenario = tmp_path / "layered.toml"
    scenario.write_text(layered(packages=100, versions=15, seed=0).to_scenario("layered"))
    result = rv("solve", "--json", str(scenario))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert set(record["solvers"]) == {"pubgrub-search", "sat", "pubgrub"}
    assert "gave_up" in record["solvers"]["pubgrub-search"]
    assert record["solvers"]["pubgrub"]["confirmed_answer"] is True
    assert record["solvers"]["pubgrub"]["packages"] == record["packages"]
    assert record["agree"] is True
