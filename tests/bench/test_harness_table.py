"""The Markdown table: the published columns, "vs uv" ratios, and reasons for missing rows."""

from __future__ import annotations

from bench.harness.results import Failure, Record, Result
from bench.harness.table import BYTECODE_NOTE, render, render_install, render_resolve

ABOUT = {
    "pip": {"label": "pip + venv", "lockfile": False, "manages_python": False},
    "uv": {"label": "uv", "lockfile": True, "manages_python": True},
    "resolvent": {"label": "resolvent", "lockfile": True, "manages_python": False},
}


def _record() -> Record:
    return Record(
        machine={"cpu": "Test CPU", "cores": 2, "memory_bytes": 2**34, "python": "3.11.7"},
        tools={"pip": "23.2.1", "uv": "0.13.9"},
        results=[
            Result.from_runs("uv", "web", "cold", [2.0, 2.2, 1.8], distributions=18),
            Result.from_runs("uv", "web", "warm", [0.5], distributions=18),
            Result.from_runs("pip", "web", "cold", [20.0, 21.0, 19.0], distributions=18),
            Result.from_runs("pip", "web", "warm", [10.0], distributions=18),
        ],
        failures=[Failure("resolvent", "web", "cold", "not available in this version")],
        notes=["web: installed from a local mirror"],
        about=ABOUT,
    )


def test_install_table_has_the_published_columns_and_ratios() -> None:
    table = render_install(_record(), "web")
    lines = table.splitlines()
    assert lines[2] == (
        "| tool | cold | warm | lockfile | manages Python | cold vs uv | warm vs uv "
        "| distributions |"
    )
    pip, uv, resolvent = lines[4:7]
    assert pip.startswith("| pip + venv (23.2.1) | 20.0 sec (19.00-21.00) | 10.0 sec | no | no")
    assert "| 10.0x | 20.0x | 18 |" in pip
    assert uv.startswith("| uv (0.13.9) | 2.00 sec (1.80-2.20) | 500 ms | yes | yes")
    assert "| 1.0x | 1.0x | 18 |" in uv
    assert resolvent == ("| resolvent | not available in this version | - | yes | no | - | - | - |")


def test_render_adds_machine_and_notes() -> None:
    text = render(_record())
    assert "Machine: Test CPU, 2 cores, 16 GiB" in text
    assert "- web: installed from a local mirror" in text
    assert BYTECODE_NOTE in text


def test_resolve_table_has_a_column_per_set() -> None:
    record = Record(
        machine={},
        tools={},
        results=[
            Result.from_runs("uv", "trio", "resolve", [0.1], distributions=30, label="uv"),
            Result.from_runs(
                "resolvent", "trio", "resolve", [0.3], distributions=30, variant="sat"
            ),
        ],
        failures=[
            Failure("pdm", "jupyter", "resolve", "pdm: lock failed"),
            Failure("pip", "trio", "resolve", "pip: `pip-compile` exited with 1"),
        ],
    )
    table = render_resolve(record)
    assert "| tool | `jupyter` | `trio` |" in table
    assert "| uv | - | 100 ms, 30 pkgs |" in table
    assert "| resolvent (sat) | - | 300 ms, 30 pkgs |" in table
    assert "| pdm | failed: pdm: lock failed | - |" in table
    assert "| pip-compile (pip-tools) | - | failed: pip: `pip-compile` exited with 1 |" in table
    assert render_resolve(Record(machine={}, tools={})) == ""
