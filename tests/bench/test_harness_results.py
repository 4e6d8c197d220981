"""The JSON record's schema, which other tools read."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from bench.harness.results import Failure, Record, Result, SchemaError, validate

if TYPE_CHECKING:
    from pathlib import Path


def _record() -> Record:
    return Record(
        machine={"cpu": "Test CPU", "cores": 2},
        tools={"uv": "0.13.9", "pip": "23.2.1"},
        results=[
            Result.from_runs("uv", "web", "cold", [1.2, 1.0, 1.1], distributions=18),
            Result.from_runs("pip", "web", "warm", [5.0], distributions=18),
        ],
        failures=[Failure("resolvent", "web", "cold", "not available in this version")],
    )


def test_results_summarize_runs_with_pyperf() -> None:
    result = Result.from_runs("uv", "web", "cold", [1.2, 1.0, 1.4], distributions=3)
    assert (result.median, result.minimum, result.maximum) == (1.2, 1.0, 1.4)
    with pytest.raises(ValueError, match="at least one run"):
        Result.from_runs("uv", "web", "cold", [], distributions=3)


def test_the_record_has_the_documented_keys_and_types(tmp_path: Path) -> None:
    path = tmp_path / "quick.json"
    _record().write(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert {"machine", "tools", "results"} <= set(data)
    assert isinstance(data["machine"], dict)
    assert all(isinstance(v, str) for v in data["tools"].values())
    for result in data["results"]:
        assert {"tool", "stack", "phase", "runs", "median", "distributions"} <= set(result)
        assert result["tool"] in {"pip", "poetry", "conda", "uv", "pdm", "resolvent"}
        assert result["phase"] in {"cold", "warm", "resolve"}
        assert all(isinstance(r, float) for r in result["runs"])
        assert isinstance(result["median"], float)
        assert isinstance(result["distributions"], int)
    assert Record.read(path) == _record()


def _valid() -> dict[str, Any]:
    return _record().to_json()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("machine"), "machine"),
        (lambda d: d.update(tools={"uv": 1}), "tools.uv"),
        (lambda d: d["results"][0].update(tool="npm"), "results[0].tool"),
        (lambda d: d["results"][0].update(phase="hot"), "results[0].phase"),
        (lambda d: d["results"][0].update(runs=[]), "results[0].runs"),
        (lambda d: d["results"][0].update(runs=["1.0"]), "results[0].runs"),
        (lambda d: d["results"][0].update(median=None), "results[0].median"),
        (lambda d: d["results"][0].update(distributions=True), "results[0].distributions"),
        (lambda d: d["results"][0].pop("stack"), "results[0].stack"),
    ],
)
def test_validate_names_what_is_wrong(change: Any, where: str) -> None:
    data = _valid()
    change(data)
    with pytest.raises(SchemaError) as caught:
        validate(data)
    assert caught.value.where == where
    assert isinstance(caught.value, ValueError)


def test_unknown_keys_are_allowed() -> None:
    data = _valid()
    data["results"][0]["extra"] = "ignored by readers"
    data["something"] = []
    validate(data)
