"""The comparison plot is a record's install medians drawn as a horizontal bar chart (PNG).

One group of bars per tool (cold and warm, the published chart's two series), in the
table's order, with the median written at the end of each bar. matplotlib is optional:
when it is not installed, :func:`plot` returns a note saying the plot was skipped.

Example::

    >>> plot(record, "web", Path("bench/results/quick.png"))  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bench.harness.results import TOOL_NAMES

if TYPE_CHECKING:
    from pathlib import Path

    from bench.harness.results import Record

__all__ = ["plot"]


def _pyplot() -> Any:
    matplotlib = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def plot(record: Record, stack: str, path: Path) -> str | None:
    """Draw ``stack``'s cold/warm medians into ``path``; return a note if skipped."""
    try:
        pyplot = _pyplot()
    except ImportError:
        return "plot skipped: matplotlib is not installed (it belongs in the `bench` extra)"
    medians: dict[tuple[str, str], float] = {
        (r.tool, r.phase): r.median for r in record.results if r.stack == stack
    }
    tools = [t for t in TOOL_NAMES if any((t, p) in medians for p in ("cold", "warm"))]
    if not tools:
        return f"plot skipped: no install results for `{stack}`"
    labels = [str(record.about.get(t, {}).get("label", t)) for t in tools]
    figure, axes = pyplot.subplots(figsize=(8, 0.7 * len(tools) + 1.4))
    height = 0.38
    for offset, phase, color in ((-height / 2, "cold", "#4c72b0"), (height / 2, "warm", "#dd8452")):
        values = [medians.get((t, phase), 0.0) for t in tools]
        positions = [i + offset for i in range(len(tools))]
        bars = axes.barh(positions, values, height=height, label=phase, color=color)
        for bar, value in zip(bars, values, strict=True):
            if value > 0:
                axes.text(
                    bar.get_width(),
                    bar.get_y() + bar.get_height() / 2,
                    f" {value:.2f} s",
                    va="center",
                    fontsize=8,
                )
    axes.set_yticks(range(len(tools)), labels)
    axes.invert_yaxis()
    axes.set_xlabel("seconds (median), lower is better")
    machine = record.machine
    axes.set_title(
        f"Installing `{stack}` into a fresh environment "
        f"({machine.get('cores', '?')} cores, Python {machine.get('python', '?')})",
        fontsize=10,
    )
    axes.legend(loc="lower right")
    axes.margins(x=0.15)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
    return None
