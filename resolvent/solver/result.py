"""Outcomes of a resolution: a solution, or a proof that there is none.

Both engines return these same values, so the checker, the cross-check and the CLI never
need to know which engine produced an answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from resolvent.errors import SolverError
from resolvent.solver.universe import base_name
from resolvent.value_class import Value

if TYPE_CHECKING:
    from collections.abc import Mapping

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from resolvent.solver.provider import Reporter
    from resolvent.solver.universe import Universe

__all__ = ["BudgetExceeded", "Confirming", "Engine", "NoSolution", "Outcome", "Solution"]


class Solution(Value):
    """A satisfying assignment: one version for every package key the root reaches.

    ``selected`` holds every chosen key, virtual extra packages included and the root
    excluded. ``stats`` holds engine counters (decisions, conflicts, solver calls) that
    benchmarks and ``--json`` report (a new empty mapping when not given).
    """

    __slots__ = ("engine", "selected", "stats")

    def __init__(
        self, engine: str, selected: Mapping[str, Version], stats: Mapping[str, int] | None = None
    ) -> None:
        self.engine: Final = engine
        self.selected: Final = selected
        self.stats: Final[Mapping[str, int]] = {} if stats is None else stats

    def packages(self) -> dict[NormalizedName, Version]:
        """Return the chosen version of every real project, sorted by name."""
        return {
            base_name(key): version
            for key, version in sorted(self.selected.items())
            if "[" not in key
        }


class NoSolution(Value):
    """A proof that the requirements cannot be met, rendered for people.

    ``explanation`` is the numbered derivation (PubGrub) or the account of a minimal
    unsatisfiable core (SAT); ``core`` lists the requirement groups (package keys) that
    take part in the conflict, for tools.
    """

    __slots__ = ("core", "engine", "explanation", "stats")

    def __init__(
        self,
        engine: str,
        explanation: str,
        core: tuple[str, ...] = (),
        stats: Mapping[str, int] | None = None,
    ) -> None:
        self.engine: Final = engine
        self.explanation: Final = explanation
        self.core: Final = core
        self.stats: Final[Mapping[str, int]] = {} if stats is None else stats


Outcome = Solution | NoSolution


class BudgetExceeded(SolverError):  # noqa: N818 - a condition, not a malfunction
    """An engine stopped before an answer: its step budget ran out or it was cancelled."""

    def __init__(self, engine: str, steps: int) -> None:
        super().__init__(f"the {engine} solver gave up after {steps} steps")
        self.engine = engine
        self.steps = steps


class Engine(Protocol):
    """What a resolution engine offers: one call from a universe to an outcome."""

    name: str

    def solve(
        self,
        universe: Universe,
        *,
        reporter: Reporter | None = None,
        budget: int | None = None,
    ) -> Outcome:
        """Resolve ``universe``; raise :class:`BudgetExceeded` past ``budget`` steps."""
        ...


@runtime_checkable
class Confirming(Protocol):
    """An engine that can certify another engine's answer without a search of its own."""

    name: str

    def confirm(
        self,
        universe: Universe,
        selected: Mapping[str, Version],
        *,
        reporter: Reporter | None = None,
        budget: int | None = None,
    ) -> Solution | str:
        """Return the same solution if ``selected`` is one, else a one-line reason."""
        ...
