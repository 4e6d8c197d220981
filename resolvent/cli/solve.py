"""``resolvent solve``: resolve scenario files in memory with either or both engines.

This is the contract other checks use: one JSON object per scenario with ``--json``,
exit 0 when every scenario was solved (satisfiable or not), 1 when the engines disagree
or a solution fails the checker, 2 on bad input.

A plain ``resolvent solve`` command line is usually read without click (see
:mod:`resolvent.cli._fast`, which must know every option of :func:`solve`); this click
command reads the rest, answers ``--help`` and words the errors. Both run
:func:`resolvent.cli._solve_run.solve_command`.
"""

from __future__ import annotations

from typing import Any

import click

from resolvent.cli._solve_run import solve_command

__all__ = ["solve"]


@click.command()
@click.argument("scenarios", nargs=-1, required=True)
@click.option(
    "--solver",
    type=click.Choice(["auto", "pubgrub", "sat", "both"]),
    default="auto",
    show_default=True,
    help=(
        "auto: PubGrub answers, handing over to SAT if it thrashes, and the other engine "
        "certifies under a time budget; both: wait for both."
    ),
)
@click.option("--optimal", is_flag=True, help="Solve the SAT engine's MaxSAT objective (RC2).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per scenario.")
@click.option(
    "--python-version", default=None, help="Resolve for this Python (default: the scenario's)."
)
@click.option("--python-platform", default=None, help="Resolve for this platform (uv's names).")
def solve(**params: Any) -> None:
    """Resolve packse scenario files (or folders of them) in memory."""
    solve_command(**params)
