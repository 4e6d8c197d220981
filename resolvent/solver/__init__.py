"""The formal resolver: a pure library (no network, files or clock).

Two engines, PubGrub and a CDCL SAT encoding, read the same
:class:`~resolvent.solver.universe.Universe`; an independent checker validates every
answer, and a cross-check compares the engines.
"""

from __future__ import annotations

__all__: list[str] = []
