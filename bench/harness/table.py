"""The comparison table is a record rendered as Markdown, in the published table's shape.

One install table per stack, one row per tool in the published order (pip + venv,
poetry, conda, uv, pdm, resolvent): the cold and warm medians with their min-max
range, whether the tool writes a lockfile and manages Python installs, the "vs uv"
ratios (tool median / uv median), and the number of distributions installed. A tool
that could not be measured keeps its row, with the reason instead of numbers. Resolution
benchmarks get one table per record: a row per tool (and solver), a column per set.

Example::

    >>> print(render(Record.read(Path("bench/results/quick.json"))))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.harness.results import TOOL_NAMES, Failure, Record, Result, format_seconds

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["BYTECODE_NOTE", "render", "render_install", "render_resolve"]

BYTECODE_NOTE = (
    "uv and resolvent do not compile bytecode by default (pip, poetry and pdm do, "
    "and the conda packages here carry none): their first import pays that cost instead."
)
_DEFAULT_LABELS = {
    "pip": "pip + venv",
    "poetry": "poetry",
    "conda": "conda",
    "uv": "uv",
    "pdm": "pdm",
    "resolvent": "resolvent",
}
#: In the resolution benchmark the pip row is pip-tools' pip-compile.
_RESOLVE_LABELS = {**_DEFAULT_LABELS, "pip": "pip-compile (pip-tools)"}


def _yes(value: object) -> str:
    if value is None:
        return "?"
    return "yes" if value else "no"


def _cell(result: Result | None) -> str:
    if result is None:
        return "-"
    if len(result.runs) == 1:
        return format_seconds(result.median)
    return f"{format_seconds(result.median)} ({result.minimum:.2f}-{result.maximum:.2f})"


def _ratio(result: Result | None, uv: Result | None) -> str:
    if result is None or uv is None or uv.median <= 0:
        return "-"
    return f"{result.median / uv.median:.1f}x"


def _escape(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _order(names: Iterable[str]) -> list[str]:
    names = set(names)
    known = [n for n in TOOL_NAMES if n in names]
    return known + sorted(names - set(known))


def render_install(record: Record, stack: str) -> str:
    """Return the Markdown install table of ``stack``."""
    results = {
        (r.tool, r.phase): r for r in record.results if r.stack == stack and r.phase != "resolve"
    }
    failures: dict[str, Failure] = {}
    for failure in record.failures:
        if failure.stack == stack and failure.phase != "resolve":
            failures.setdefault(failure.tool, failure)
    tools = _order({tool for tool, _ in results} | set(failures) | set(record.about))
    uv_cold, uv_warm = results.get(("uv", "cold")), results.get(("uv", "warm"))
    lines = [
        f"#### `{stack}`",
        "",
        (
            "| tool | cold | warm | lockfile | manages Python | cold vs uv | warm vs uv "
            "| distributions |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for tool in tools:
        about = record.about.get(tool, {})
        label = str(about.get("label") or _DEFAULT_LABELS.get(tool, tool))
        version = record.tools.get(tool)
        name = f"{label} ({version})" if version else label
        cold, warm = results.get((tool, "cold")), results.get((tool, "warm"))
        lockfile, python = _yes(about.get("lockfile")), _yes(about.get("manages_python"))
        measured = cold or warm
        if measured is None:
            failed = failures.get(tool)
            reason = _escape(failed.reason) if failed is not None else "not measured"
            lines.append(f"| {name} | {reason} | - | {lockfile} | {python} | - | - | - |")
            continue
        count = measured.distributions
        lines.append(
            f"| {name} | {_cell(cold)} | {_cell(warm)} | {lockfile} | {python} "
            f"| {_ratio(cold, uv_cold)} | {_ratio(warm, uv_warm)} | {count} |"
        )
    return "\n".join(lines)


def render_resolve(record: Record) -> str:
    """Return the Markdown resolution table (empty when there are no resolve results)."""
    results = [r for r in record.results if r.phase == "resolve"]
    failures = [f for f in record.failures if f.phase == "resolve"]
    if not results and not failures:
        return ""
    stacks = sorted({r.stack for r in results} | {f.stack for f in failures})
    rows: dict[str, dict[str, str]] = {}
    for result in results:
        row = f"{result.label or result.tool}" + (f" ({result.variant})" if result.variant else "")
        rows.setdefault(row, {})[result.stack] = f"{_cell(result)}, {result.distributions} pkgs"
    for failure in failures:
        row = _RESOLVE_LABELS.get(failure.tool, failure.tool)
        for result in results:
            if result.tool == failure.tool:
                row = result.label or row
                break
        rows.setdefault(row, {}).setdefault(failure.stack, "failed: " + _escape(failure.reason))
    lines = [
        "#### resolution (warm metadata cache)",
        "",
        "| tool | " + " | ".join(f"`{s}`" for s in stacks) + " |",
        "|---|" + "---|" * len(stacks),
    ]
    lines += [
        f"| {row} | " + " | ".join(cells.get(s, "-") for s in stacks) + " |"
        for row, cells in rows.items()
    ]
    return "\n".join(lines)


def _machine_line(record: Record) -> str:
    machine = record.machine
    memory = machine.get("memory_bytes")
    gib = f"{memory / 2**30:.0f} GiB" if isinstance(memory, int) else "? GiB"
    return (
        f"Machine: {machine.get('cpu') or '?'}, {machine.get('cores') or '?'} cores, {gib}, "
        f"{machine.get('file_system') or '?'} work folder, Python {machine.get('python') or '?'}."
    )


def render(record: Record) -> str:
    """Return the whole Markdown report: one table per stack, resolution, and notes."""
    stacks = sorted(
        {r.stack for r in record.results if r.phase != "resolve"}
        | {f.stack for f in record.failures if f.phase != "resolve"}
    )
    parts = [render_install(record, stack) for stack in stacks]
    resolve = render_resolve(record)
    if resolve:
        parts.append(resolve)
    notes = [_machine_line(record), *record.notes]
    if any(r.phase != "resolve" for r in record.results):
        notes.append(BYTECODE_NOTE)
    parts.append("\n".join(f"- {_escape(note)}" for note in notes))
    return "\n\n".join(parts) + "\n"
