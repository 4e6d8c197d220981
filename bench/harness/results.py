"""A benchmark record is the JSON document one harness run writes: machine, tools, results.

Other tools read it, so its shape is fixed::

    {"machine": {...},
     "tools": {name: version},
     "results": [{"tool": name, "stack": name, "phase": "cold" | "warm" | "resolve",
                  "runs": [seconds, ...], "median": seconds, "distributions": count}]}

Tool names are ``pip``, ``poetry``, ``conda``, ``uv``, ``pdm`` and ``resolvent``. A
result may carry more keys (``min``, ``max``, ``variant``, ``label``, ``set``), and the
record may carry ``failures`` (what could not be measured, and why) and ``notes``;
readers ignore keys they do not know. The statistics come from pyperf
(:class:`pyperf.Benchmark` over one :class:`pyperf.Run` per measurement), so the
median is pyperf's and the values print with pyperf's formatting.

Example::

    >>> result = Result.from_runs("uv", "web", "cold", [1.2, 1.0, 1.1], distributions=24)
    >>> result.median
    1.1
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

import pyperf  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = [
    "PHASES",
    "TOOL_NAMES",
    "Failure",
    "Phase",
    "Record",
    "Result",
    "SchemaError",
    "format_seconds",
    "validate",
]

Phase = Literal["cold", "warm", "resolve"]
PHASES: tuple[Phase, ...] = get_args(Phase)
#: The tool names a record may use, in the published table's order.
TOOL_NAMES = ("pip", "poetry", "conda", "uv", "pdm", "resolvent")


class SchemaError(ValueError):
    """A record does not have the shape other tools rely on."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(where, problem)
        self.where = where
        self.problem = problem

    def __str__(self) -> str:
        return f"`{self.where}`: {self.problem}"


def _benchmark(name: str, runs: Sequence[float]) -> Any:
    """Return a pyperf benchmark holding ``runs`` (seconds) as one run's values."""
    run = pyperf.Run(list(runs), metadata={"name": name, "unit": "second"}, collect_metadata=False)
    return pyperf.Benchmark([run])


def format_seconds(seconds: float) -> str:
    """Format a duration as pyperf does (``1.23 sec``, ``456 ms``)."""
    return str(_benchmark("format", [seconds]).format_value(seconds))


@dataclass(frozen=True, slots=True)
class Result:
    """One measured row: a tool, a stack, a phase, and every run's wall time in seconds."""

    tool: str
    stack: str
    phase: Phase
    runs: tuple[float, ...]
    median: float
    minimum: float
    maximum: float
    distributions: int
    variant: str | None = None
    label: str | None = None

    @classmethod
    def from_runs(
        cls,
        tool: str,
        stack: str,
        phase: Phase,
        runs: Sequence[float],
        *,
        distributions: int,
        variant: str | None = None,
        label: str | None = None,
    ) -> Result:
        """Summarize ``runs`` with pyperf: median, minimum and maximum."""
        if not runs:
            raise ValueError("a result needs at least one run")
        bench = _benchmark(f"{tool}-{stack}-{phase}", runs)
        values = [float(v) for v in bench.get_values()]
        return cls(
            tool=tool,
            stack=stack,
            phase=phase,
            runs=tuple(float(r) for r in runs),
            median=float(bench.median()),
            minimum=min(values),
            maximum=max(values),
            distributions=distributions,
            variant=variant,
            label=label,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object of this result (the schema's keys first)."""
        data: dict[str, Any] = {
            "tool": self.tool,
            "stack": self.stack,
            "phase": self.phase,
            "runs": list(self.runs),
            "median": self.median,
            "distributions": self.distributions,
            "min": self.minimum,
            "max": self.maximum,
        }
        if self.variant is not None:
            data["variant"] = self.variant
        if self.label is not None:
            data["label"] = self.label
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Result:
        """Read a result written by :meth:`to_json` (or by anything that keeps the schema)."""
        runs = [float(r) for r in data["runs"]]
        return cls(
            tool=str(data["tool"]),
            stack=str(data["stack"]),
            phase=data["phase"],
            runs=tuple(runs),
            median=float(data["median"]),
            minimum=float(data.get("min", min(runs))),
            maximum=float(data.get("max", max(runs))),
            distributions=int(data["distributions"]),
            variant=data.get("variant"),
            label=data.get("label"),
        )


@dataclass(frozen=True, slots=True)
class Failure:
    """A measurement the harness could not make, with the reason shown in the table."""

    tool: str
    stack: str
    phase: Phase
    reason: str

    def to_json(self) -> dict[str, str]:
        """Return the JSON object of this failure."""
        return {"tool": self.tool, "stack": self.stack, "phase": self.phase, "reason": self.reason}


@dataclass(slots=True)
class Record:
    """Everything one harness run found: written as JSON, rendered as the table and plot."""

    machine: dict[str, Any]
    tools: dict[str, str]
    results: list[Result] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Per tool: what the row is (label, lockfile, manages Python); for the table.
    about: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dictionary (validated on the way out)."""
        data: dict[str, Any] = {
            "machine": self.machine,
            "tools": self.tools,
            "results": [r.to_json() for r in self.results],
            "failures": [f.to_json() for f in self.failures],
            "notes": list(self.notes),
            "about": self.about,
        }
        validate(data)
        return data

    def write(self, path: Path) -> None:
        """Write the record to ``path`` as indented JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        """Read a record (validated first)."""
        validate(data)
        return cls(
            machine=dict(data["machine"]),
            tools={str(k): str(v) for k, v in data["tools"].items()},
            results=[Result.from_json(r) for r in data["results"]],
            failures=[
                Failure(str(f["tool"]), str(f["stack"]), f["phase"], str(f["reason"]))
                for f in data.get("failures", [])
            ],
            notes=[str(n) for n in data.get("notes", [])],
            about={str(k): dict(v) for k, v in data.get("about", {}).items()},
        )

    @classmethod
    def read(cls, path: Path) -> Record:
        """Read a record from a JSON file."""
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validate(data: Mapping[str, Any]) -> None:
    """Raise :class:`SchemaError` unless ``data`` has the record's documented shape."""
    for key, kind in (("machine", dict), ("tools", dict), ("results", list)):
        if not isinstance(data.get(key), kind):
            raise SchemaError(key, f"missing or not a {kind.__name__}")
    for name, version in data["tools"].items():
        if not isinstance(name, str) or not isinstance(version, str):
            raise SchemaError(f"tools.{name}", "tool names and versions are strings")
    for index, result in enumerate(data["results"]):
        where = f"results[{index}]"
        if not isinstance(result, dict):
            raise SchemaError(where, "not an object")
        if result.get("tool") not in TOOL_NAMES:
            raise SchemaError(f"{where}.tool", f"not one of {', '.join(TOOL_NAMES)}")
        if not isinstance(result.get("stack"), str):
            raise SchemaError(f"{where}.stack", "not a string")
        if result.get("phase") not in PHASES:
            raise SchemaError(f"{where}.phase", f"not one of {', '.join(PHASES)}")
        runs = result.get("runs")
        if not isinstance(runs, list) or not runs or not all(_number(r) for r in runs):
            raise SchemaError(f"{where}.runs", "not a non-empty list of seconds")
        if not _number(result.get("median")):
            raise SchemaError(f"{where}.median", "not a number")
        count = result.get("distributions")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise SchemaError(f"{where}.distributions", "not a count")
