"""What one universe's runs say: agreement, or which kind of difference.

Classes (a universe may have several; none means the two compilers agree and the oracle
accepts their common answer):

- ``resolvent-error``: a traceback, a timeout, an exit status other than 0 (answer) and
  1 (no solution), an empty message, or resolvent's own cross-check refusing its answer
  ("could not be certified", "engines disagree");
- ``resolvent-invalid`` / ``uv-invalid``: the tool wrote pins the oracle rejects;
- ``satisfiability-differs``: one tool answered and the other found no solution;
- ``resolvent-vs-oracle`` / ``uv-vs-oracle``: the tool's "answer" or "no solution"
  contradicts the exhaustive search (not set when the search ran out of nodes);
- ``pins-differ``: both answered validly, with different pins. These are preference
  differences, described by :func:`preference`.

A difference where only uv is at odds with the oracle is often uv's stricter reading of
the default pre-release mode; :func:`explain` tags it ``uv-prerelease-rule``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from bench.difftest.oracle import TARGET_MARKERS

if TYPE_CHECKING:
    from bench.difftest.compilers import CompileRun
    from bench.difftest.oracle import BruteResult, Oracle
    from bench.difftest.universe import RandomUniverse

__all__ = ["RESOLVENT_CLASSES", "Verdict", "judge", "preference"]

#: The classes that point at resolvent (the ones worth a minimal case).
RESOLVENT_CLASSES = ("resolvent-error", "resolvent-invalid", "resolvent-vs-oracle")
_REFUSALS = ("could not be certified", "engines disagree", "Traceback")


@dataclass
class Verdict:
    """The classification of one universe, with the evidence behind it."""

    classes: list[str]
    violations: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    preference: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the verdict as JSON data."""
        return {
            "classes": self.classes,
            "violations": self.violations,
            "notes": self.notes,
            "preference": self.preference,
        }


def resolvent_failed_oddly(run: CompileRun) -> bool:
    """Whether resolvent's run is an error rather than an answer or an explained failure."""
    if run.returncode not in (0, 1):
        return True
    if any(text in run.stderr for text in _REFUSALS):
        return True
    return run.returncode == 1 and not run.stderr.strip()


def judge(
    universe: RandomUniverse,
    oracle: Oracle,
    brute: BruteResult,
    resolvent: CompileRun,
    uv: CompileRun | None,
) -> Verdict:
    """Classify one universe's runs (``uv`` None: resolvent against the oracle only)."""
    verdict = Verdict(classes=[])
    runs = [resolvent] if uv is None else [resolvent, uv]
    for run in runs:
        if run.ok and run.pins is not None:
            violations, oddities = oracle.check(run.pins)
            if violations:
                verdict.violations[run.tool] = violations
                verdict.classes.append(f"{run.tool}-invalid")
            verdict.notes += [f"{run.tool}: {n}" for n in oddities]
    if resolvent_failed_oddly(resolvent):
        verdict.classes.insert(0, "resolvent-error")
    if uv is not None and resolvent.ok != uv.ok:
        verdict.classes.append("satisfiability-differs")
    if brute.satisfiable is not None:
        for run in runs:
            if run.returncode in (0, 1) and run.ok != brute.satisfiable:
                verdict.classes.append(f"{run.tool}-vs-oracle")
    else:
        verdict.notes.append(f"the exhaustive search gave up after {brute.nodes} nodes")
    if (
        uv is not None
        and resolvent.ok
        and uv.ok
        and resolvent.pins != uv.pins
        and not verdict.violations
    ):
        verdict.classes.append("pins-differ")
        assert resolvent.pins is not None
        assert uv.pins is not None
        verdict.preference = preference(universe, resolvent.pins, uv.pins)
    verdict.notes += explain(universe, oracle, resolvent, uv)
    verdict.classes = list(dict.fromkeys(verdict.classes))
    return verdict


def explain(
    universe: RandomUniverse, oracle: Oracle, resolvent: CompileRun, uv: CompileRun | None
) -> list[str]:
    """Tags that explain a known kind of difference."""
    out = []
    if (
        uv is not None
        and resolvent.ok
        and not uv.ok
        and universe.prerelease in (None, "if-necessary-or-explicit")
        and resolvent.pins is not None
        and any(
            Version(v).is_prerelease and n not in oracle.explicit for n, v in resolvent.pins.items()
        )
    ):
        out.append(
            "uv-prerelease-rule: resolvent's answer holds a pre-release nobody named; uv's "
            "default admits one only when all the project's versions are pre-releases"
        )
    return out


def _better(a: Version, b: Version, *, lowest: bool, prefer_final: bool) -> bool:
    """Whether version ``a`` is preferred to ``b`` by the resolution policy."""
    if prefer_final and a.is_prerelease != b.is_prerelease:
        return not a.is_prerelease
    return a < b if lowest else a > b


def preference(
    universe: RandomUniverse, resolvent: dict[str, str], uv: dict[str, str]
) -> dict[str, Any]:
    """Describe how two valid answers differ: who got the preferred version of what.

    ``kind`` is ``uv-preferred`` when uv chose the policy's better version (newest, or
    lowest under ``--resolution lowest``; final before pre-release unless ``allow``) of
    every project both pin differently, ``resolvent-preferred`` the converse, ``mixed``
    when each is better somewhere (the usual outcome of a different decision order), and
    ``same-common-versions`` when they differ only in which projects they pin.
    """
    direct = {
        canonicalize_name(r.name)
        for r in map(Requirement, universe.root)
        if r.marker is None or r.marker.evaluate(dict(TARGET_MARKERS))
    }
    prefer_final = universe.prerelease != "allow"
    rv_better, uv_better = [], []
    for name in sorted(set(resolvent) & set(uv)):
        a, b = Version(resolvent[name]), Version(uv[name])
        if a == b:
            continue
        lowest = universe.resolution == "lowest" or (
            universe.resolution == "lowest-direct" and name in direct
        )
        entry = f"{name}: resolvent {a}, uv {b}"
        if _better(a, b, lowest=lowest, prefer_final=prefer_final):
            rv_better.append(entry)
        else:
            uv_better.append(entry)
    if rv_better and uv_better:
        kind = "mixed"
    elif uv_better:
        kind = "uv-preferred"
    elif rv_better:
        kind = "resolvent-preferred"
    else:
        kind = "same-common-versions"
    return {
        "kind": kind,
        "resolvent_better": rv_better,
        "uv_better": uv_better,
        "only_resolvent": sorted(set(resolvent) - set(uv)),
        "only_uv": sorted(set(uv) - set(resolvent)),
    }
