"""What ``resolvent solve`` does once its command line is read, by click or without it.

Both readers (the click command of :mod:`resolvent.cli.solve` and the plain parser of
:mod:`resolvent.cli._fast`) call :func:`solve_command`, so the two cannot differ in what
they do or print. Nothing here imports click unless there is an error to print or text
that click's ``echo`` would change (see :func:`~resolvent.cli._errors.say`): checks
that run the scenario CLI start it once per scenario file.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from resolvent.cli._errors import echo_out, run

if TYPE_CHECKING:
    from resolvent.solver.crosscheck import EngineRun, Resolution
    from resolvent.solver.scenario import Scenario

__all__ = ["solve_command"]


#: Scenario formats by file suffix, as packse reads them; anything else is read as TOML.
_FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}


def _scenario_files(folder: Path) -> list[Path]:
    """Return a folder's scenario files, TOML first, then JSON, then YAML, each sorted."""
    found: list[Path] = []
    for pattern in ("*.toml", "*.json", "*.yaml", "*.yml"):
        found.extend(sorted(folder.rglob(pattern)))
    return found


def _load(paths: tuple[str, ...]) -> list[tuple[str, Scenario]]:
    from resolvent.errors import BadInputError  # noqa: PLC0415 - lazy CLI imports
    from resolvent.solver.scenario import parse_scenario  # noqa: PLC0415

    loaded: list[tuple[str, Scenario]] = []
    for given in paths:
        path = Path(given)
        files = _scenario_files(path) if path.is_dir() else [path]
        for file in files:
            shown = str(file) if path.is_dir() else given
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise BadInputError(
                    f"cannot read scenario `{shown}`: {error.__class__.__name__}"
                ) from None
            fmt = _FORMATS.get(file.suffix, "toml")
            found = parse_scenario(text, shown, fmt=fmt)
            if not found:
                raise BadInputError(f"`{shown}` holds no scenario (an empty list)")
            loaded.extend((shown, s) for s in found)
        if not files:
            raise BadInputError(f"`{given}` holds no scenario files (*.toml, *.json, *.yaml)")
    return loaded


def _run_json(run_: EngineRun) -> dict[str, Any]:
    from resolvent.solver.result import Solution  # noqa: PLC0415

    outcome = run_.outcome
    data: dict[str, Any] = {"time": round(run_.seconds, 6)}
    if run_.confirming:
        # It decided the other engine's answer (no search of its own): confirmed or not.
        data["confirmed_answer"] = isinstance(outcome, Solution)
    if outcome is None:
        data["gave_up"] = run_.gave_up
        return data
    data["satisfiable"] = isinstance(outcome, Solution)
    if isinstance(outcome, Solution):
        data["packages"] = {n: str(v) for n, v in outcome.packages().items()}
    else:
        data["explanation"] = outcome.explanation
    data["stats"] = dict(outcome.stats)
    if run_.problems:
        data["problems"] = run_.problems
    return data


def _record(source: str, resolution: Resolution, solver: str) -> dict[str, Any]:
    from resolvent.solver.result import Solution  # noqa: PLC0415

    outcome = resolution.outcome
    record: dict[str, Any] = {
        "scenario": source,
        "satisfiable": resolution.satisfiable,
        "packages": {n: str(v) for n, v in outcome.packages().items()}
        if isinstance(outcome, Solution)
        else {},
        "explanation": "" if isinstance(outcome, Solution) else outcome.explanation,
    }
    if solver in ("both", "auto"):
        record["agree"] = resolution.agree
    # After a handover PubGrub runs twice: its search, which gave up, and its
    # confirmation of SAT's answer (keyed by the engine, as every confirmation is).
    engines = [r.engine for r in resolution.runs]
    record["solvers"] = {
        (f"{r.engine}-search" if engines.count(r.engine) > 1 and not r.confirming else r.engine): (
            _run_json(r)
        )
        for r in resolution.runs
    }
    differences = resolution.differences()
    if differences:
        record["differences"] = {n: [str(a), str(b)] for n, (a, b) in differences.items()}
    if resolution.problems:
        record["problems"] = resolution.problems
    return record


def _human(source: str, name: str, resolution: Resolution) -> str:
    from resolvent.solver.result import Solution  # noqa: PLC0415

    lines = [f"{source} ({name})"]
    outcome = resolution.outcome
    if isinstance(outcome, Solution):
        pins = ", ".join(f"{n}=={v}" for n, v in outcome.packages().items()) or "nothing to install"
        lines.append(f"  satisfiable: {pins}")
    else:
        lines.append("  unsatisfiable:")
        lines.extend(f"    {line}" if line else "" for line in outcome.explanation.splitlines())
    timings = []
    for r in resolution.runs:
        state = r.gave_up or f"{r.seconds * 1000:.1f} ms"
        role = ""
        if r.confirming:
            role = "confirmed the answer, " if r.outcome is not None else "confirming: "
        timings.append(f"{r.engine} {role}{state}")
    agree = resolution.agree
    verdict = "" if agree is None else ("; engines agree" if agree else "; ENGINES DISAGREE")
    lines.append(f"  [{', '.join(timings)}{verdict}]")
    for name_, (a, b) in resolution.differences().items():
        lines.append(f"  note: the engines chose different versions of `{name_}`: {a} and {b}")
    lines.extend(f"  problem: {p}" for p in resolution.problems)
    return "\n".join(lines)


def solve_command(
    scenarios: tuple[str, ...],
    solver: str,
    *,
    optimal: bool,
    as_json: bool,
    python_version: str | None,
    python_platform: str | None,
) -> None:
    """Resolve the scenario files (or folders of them) ``resolvent solve`` was given."""

    def action() -> int:
        from resolvent.solver.crosscheck import resolve  # noqa: PLC0415
        from resolvent.target import Target, parse_platform, parse_python_version  # noqa: PLC0415

        loaded = _load(scenarios)
        version = parse_python_version(python_version) if python_version else None
        platform = parse_platform(python_platform) if python_platform else None
        failed = False
        for source, scenario in loaded:
            target = scenario.target()
            target = Target(version or target.python_version, platform or target.platform)
            resolution = resolve(
                scenario.universe(target),
                solver=solver,  # type: ignore[arg-type]
                optimal=optimal,
                clock=time.perf_counter,
            )
            failed = failed or bool(resolution.problems)
            if as_json:
                echo_out(json.dumps(_record(source, resolution, solver), sort_keys=False) + "\n")
            else:
                echo_out(_human(source, scenario.name, resolution) + "\n")
        return 1 if failed else 0

    raise SystemExit(run(action))
