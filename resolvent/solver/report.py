"""A report is the human-readable account of why a set of requirements has no solution.

PubGrub proves unsatisfiability with a derivation tree: the final incompatibility
("your requirements are unsatisfiable") derived, step by step, from external facts
(dependencies, missing versions, unusable versions). This module walks that tree as
Dart's pub does (``doc/solver.md``, "Error Reporting"; ``pubgrub-rs/pubgrub:
src/report.rs``) and writes one sentence per derivation, numbering the lines that are
referred to later, then adds uv-style hints (yanked versions, ``requires-python``,
pre-releases, projects missing from the index) read from the universe.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from packaging.version import Version

from resolvent.solver.ranges import FULL
from resolvent.solver.universe import ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator

    from resolvent.solver._internal.incompatibility import Incompatibility
    from resolvent.solver._internal.term import Term
    from resolvent.solver.ranges import VersionRange
    from resolvent.solver.universe import Universe

__all__ = ["RangeFormatter", "explain", "external_packages"]

#: At most this many excluded versions are listed per package in hints.
_MAX_HINTS_PER_PACKAGE = 5

#: Past this many intervals a range is written by its intervals' ends, not spelled as a
#: specifier set: ``VersionRange.to_specifier_set`` verifies its spelling by parsing it
#: back, and packaging intersects a set's clauses one by one, so a range with n holes
#: (``!=`` clauses) costs O(n^2): 8,000 of them took 80 s. Ranges of real requirements
#: have a few intervals; only a pathological requirement gets here, and the
#: intervals' ends name the same versions.
_SPELL_LIMIT = 128

_OPERATOR_RANK = {
    "~=": 0,
    ">=": 0,
    ">": 0,
    "===": 1,
    "==": 1,
    "<=": 2,
    "<": 2,
    "!=": 3,
}


def _operator(spec: str) -> str:
    end = 0
    while end < len(spec) and spec[end] in "~=!<>":
        end += 1
    return spec[:end]


def _ordered(specifier: str) -> str:
    """Order a specifier set's clauses as people write them (lower bound first)."""
    parts = [p for p in specifier.split(",") if p]
    parts.sort(key=lambda p: _OPERATOR_RANK.get(_operator(p), 4))
    return ",".join(parts)


def _bound(point: object, *, inclusive: bool, below: bool) -> str | None:
    """Write one end of an interval (``None`` when unbounded; raises on other shapes)."""
    if point is None:
        return None
    version = point if isinstance(point, Version) else getattr(point, "version", None)
    if not isinstance(version, Version):
        raise TypeError(point)
    # A boundary point sits just after a version's locals or post-releases: the nearest
    # plain specifier names the version itself, exclusive from below, inclusive above.
    exact = isinstance(point, Version)
    if below:
        return f">={version}" if inclusive and exact else f">{version}"
    return f"<{version}" if exact and not inclusive else f"<={version}"


def _interval_count(versions: VersionRange) -> int:
    """Return how many disjoint intervals make up ``versions`` (1 when that is not known).

    The intervals are not public API; a range shaped otherwise counts as one, which
    keeps the plain path: spelling the range by its specifier set.
    """
    bounds = getattr(versions, "_bounds", None)
    return len(bounds) if isinstance(bounds, tuple) else 1


def _bounds_text(versions: VersionRange) -> tuple[str, ...] | None:
    """Write a range by its intervals' ends, for ranges no specifier set states exactly.

    ``(2.1, +inf)`` admits ``2.1.post1``, which ``>2.1`` does not: no specifier set is
    that range, but ``>2.1`` says what a reader needs, where the range holds no usable
    version to name. The intervals are not public API; any other shape gives ``None``.
    """
    try:
        texts = []
        for lower, upper in versions._bounds:  # noqa: SLF001
            point = lower.version
            if isinstance(point, Version) and point == upper.version and lower.inclusive:
                texts.append(f"=={point}")  # one version: both ends hold it
                continue
            ends = [
                _bound(lower.version, inclusive=lower.inclusive, below=True),
                _bound(upper.version, inclusive=upper.inclusive, below=False),
            ]
            texts.append(",".join(end for end in ends if end is not None))
    except (AttributeError, TypeError, ValueError):
        return None
    return tuple(texts) if texts and all(texts) else None


class RangeFormatter:
    """Render package ranges as PEP 440 text for explanations.

    A range is printed as its specifier set (``VersionRange.to_specifier_set``) when one
    expresses it plainly; ranges built by set algebra (strict singletons, unions, holes)
    are printed by the runs of the package's usable versions they contain, the way uv
    simplifies ranges against the available versions; the range's ``repr`` is the last
    resort.

    Example::

        RangeFormatter(universe).term("a", exactly(Version("1.0")))  # 'a==1.0'
    """

    __slots__ = ("_cache", "_sorted", "_universe")

    def __init__(self, universe: Universe) -> None:
        self._universe = universe
        self._cache: dict[tuple[str, VersionRange], tuple[str, ...]] = {}
        self._sorted: dict[str, list[Version]] = {}

    def parts(self, package: str, versions: VersionRange) -> tuple[str, ...]:
        """Return the specifier texts whose union is ``versions`` (``()`` means any version)."""
        key = (package, versions)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._parts(package, versions)
        return cached

    def _parts(self, package: str, versions: VersionRange) -> tuple[str, ...]:
        if FULL.is_subset(versions):
            known = self._universe.versions(package)
            # A project with a single usable version reads better named by that version.
            return (f"=={known[0]}",) if len(known) == 1 else ()
        intervals = _interval_count(versions)
        if intervals > 1:
            # Only ``!=`` makes a hole, so the spelling below would hold one and give way
            # to the runs anyway: ask for the runs first, and spell only when they fail.
            runs = self._runs(package, versions)
            if runs is not None:
                return runs
        if intervals > _SPELL_LIMIT:
            return _bounds_text(versions) or (repr(versions),)
        specifier = versions.to_specifier_set()
        text = None if specifier is None else _ordered(str(specifier))
        # ``!=`` and exclusive ``>`` are the marks of set algebra (holes, open gaps), which
        # read better as the runs of usable versions the range holds.
        if intervals <= 1 and (text is None or "!=" in text or re.search(r"(^|,)>[^=]", text)):
            runs = self._runs(package, versions)
            if runs is not None:
                return runs
        if text is not None:
            return (text,)
        return _bounds_text(versions) or (repr(versions),)

    def _runs(self, package: str, versions: VersionRange) -> tuple[str, ...] | None:
        known = self._sorted.get(package)
        if known is None:
            known = self._sorted[package] = sorted(self._universe.versions(package))
        flags = [version in versions for version in known]
        if not any(flags):
            return None
        last = len(known) - 1
        runs: list[str] = []
        start: int | None = None
        for index, inside in enumerate([*flags, False]):
            if inside and start is None:
                start = index
            elif not inside and start is not None:
                end = index - 1
                if start == end:
                    runs.append(f"=={known[start]}")
                elif start == 0 and end == last:
                    return ()
                elif start == 0:
                    runs.append(f"<={known[end]}")
                elif end == last:
                    runs.append(f">={known[start]}")
                else:
                    runs.append(f">={known[start]},<={known[end]}")
                start = None
        return tuple(runs)

    def term(self, package: str, versions: VersionRange) -> str:
        """Return ``package`` with its range, e.g. ``a>=1.0`` or ``a<1 | a>=2`` (``a`` if any)."""
        if package == ROOT:
            return "your requirements"
        parts = self.parts(package, versions)
        if not parts:
            return package
        return " | ".join(f"{package}{part}" for part in parts)

    def is_any(self, package: str, versions: VersionRange) -> bool:
        """Return whether ``versions`` covers every usable version of ``package``."""
        return not self.parts(package, versions)


class _Writer:
    """The state of one report: written lines, their numbers, and shared derivations."""

    def __init__(self, universe: Universe, root: Incompatibility) -> None:
        self.root = root
        self.fmt = RangeFormatter(universe)
        self.lines: list[tuple[str, int | None]] = []
        self.numbers: dict[Incompatibility, int] = {}
        self.uses: dict[Incompatibility, int] = {}
        self._count_uses(root)

    def _count_uses(self, root: Incompatibility) -> None:
        stack = [root]
        seen: dict[Incompatibility, None] = {}
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen[node] = None
            for cause in (node.cause1, node.cause2):
                if cause is not None and cause.cause1 is not None:
                    self.uses[cause] = self.uses.get(cause, 0) + 1
                    stack.append(cause)

    # -- sentences -------------------------------------------------------------------------

    def external(self, incompatibility: Incompatibility) -> str:
        """Describe an external incompatibility as a clause."""
        fmt = self.fmt
        kind = incompatibility.kind
        if kind == "root":
            return "we are solving your requirements"
        ((package, term), *_) = incompatibility.terms.items()
        if kind == "no-versions":
            parts = fmt.parts(package, term.range)
            if not parts:
                return f"no versions of {package} are available"
            return f"no versions of {package} match {' | '.join(parts)}"
        if kind == "unavailable":
            return f"{fmt.term(package, term.range)} cannot be used: {incompatibility.reason}"
        if kind == "from-dependency":
            return self._dependency(incompatibility)
        return self.conclusion(incompatibility)

    def both(self, first: Incompatibility, second: Incompatibility) -> str:
        """Describe two external incompatibilities joined by "and", merging where natural.

        ``you require a and b`` for two requirements of one dependent, and ``a depends on
        b>=2 which depends on c`` for a chain, as pub writes them.
        """
        one, two = first.dependency, second.dependency
        if first.kind == "from-dependency" and second.kind == "from-dependency":
            assert one is not None
            assert two is not None
            if one[0] == two[0] and first.terms[one[0]].same_as(second.terms[two[0]]):
                text = self._dependency(first)
                return f"{text} and {self._required(second)}"
            if two[0] == one[1] and one[0] != ROOT:
                first, second = second, first
                one, two = two, one
            if one[0] == two[1] and two[0] != ROOT:
                return f"{self._dependency(second)} which depends on {self._required(first)}"
        return f"{self.external(first)} and {self.external(second)}"

    def _required(self, incompatibility: Incompatibility) -> str:
        assert incompatibility.dependency is not None
        _, target, specifier = incompatibility.dependency
        return f"{target}{_ordered(specifier)}" if specifier else target

    def _dependency(self, incompatibility: Incompatibility) -> str:
        assert incompatibility.dependency is not None
        dependent = incompatibility.dependency[0]
        # The requirement as written reads better than its range rebuilt.
        required = self._required(incompatibility)
        return self._depends(dependent, incompatibility.terms[dependent], required)

    def _depends(self, dependent: str, term: Term, required: str) -> str:
        fmt = self.fmt
        if dependent == ROOT:
            return f"you require {required}"
        if fmt.is_any(dependent, term.range):
            return f"all versions of {dependent} depend on {required}"
        return f"{fmt.term(dependent, term.range)} depends on {required}"

    def conclusion(self, incompatibility: Incompatibility) -> str:
        """Describe what an incompatibility says, as a clause."""
        fmt = self.fmt
        terms = incompatibility.terms
        if incompatibility.is_terminal(ROOT):
            return "your requirements are unsatisfiable"
        items = list(terms.items())
        positives = [(p, t) for p, t in items if t.positive]
        negatives = [(p, t) for p, t in items if not t.positive]
        if len(items) == 1:
            package, term = items[0]
            if term.positive:
                if fmt.is_any(package, term.range):
                    return f"all versions of {package} cannot be used"
                return f"{fmt.term(package, term.range)} cannot be used"
            return f"{fmt.term(package, term.range)} is required"
        if len(items) == 2 and len(positives) == 1 and len(negatives) == 1:
            (dependent, term), (target, wanted) = positives[0], negatives[0]
            return self._depends(dependent, term, fmt.term(target, wanted.range))
        if len(items) == 2 and positives and positives[0][0] == ROOT:
            package, term = positives[1]
            return f"{fmt.term(package, term.range)} is incompatible with your requirements"
        described = []
        for package, term in items:
            if not term.positive and FULL.is_subset(term.range):
                described.append(f"leaving out {package}")  # its complement is empty
                continue
            versions = term.range if term.positive else term.range.complement()
            described.append(fmt.term(package, versions))
        return f"{', '.join(described[:-1])} and {described[-1]} are incompatible"

    # -- the walk (pub's error reporting algorithm) ------------------------------------------

    def write(self, incompatibility: Incompatibility, message: str, *, numbered: bool) -> None:
        number = None
        if numbered:
            number = len(self.numbers) + 1
            self.numbers[incompatibility] = number
        self.lines.append((message, number))

    def _says(self, incompatibility: Incompatibility) -> str:
        text = self.conclusion(incompatibility)
        if incompatibility is self.root:
            return f"we can conclude that {text}"
        return text

    def _collapsible(self, incompatibility: Incompatibility) -> bool:
        if self.uses.get(incompatibility, 0) > 1:
            return False
        first, second = incompatibility.cause1, incompatibility.cause2
        assert first is not None
        assert second is not None
        first_derived = first.cause1 is not None
        if first_derived == (second.cause1 is not None):
            return False
        inner = first if first_derived else second
        return inner not in self.numbers

    def visit(self, incompatibility: Incompatibility) -> None:
        """Write the derivation of ``incompatibility``, its causes' first.

        Derivations can be thousands of steps deep (a package whose every version fails
        on its own adds a step per version), far past Python's recursion limit: each
        step is a generator that yields the causes to write before it, run from an
        explicit stack.
        """
        stack = [self._step((incompatibility, False))]
        while stack:
            cause = next(stack[-1], None)
            if cause is None:
                stack.pop()
            else:
                stack.append(self._step(cause))

    def _step(self, item: tuple[Incompatibility, bool]) -> Iterator[tuple[Incompatibility, bool]]:
        """Write one derivation step; yield each cause to write first, and whether to number it.

        ``item`` is the incompatibility and whether it is a conclusion to number.
        """
        incompatibility, conclusion = item
        numbered = conclusion or self.uses.get(incompatibility, 0) > 1
        says = self._says(incompatibility)
        # The satisfier's cause comes first: it reads in the direction of the chain.
        first, second = incompatibility.cause2, incompatibility.cause1
        assert first is not None
        assert second is not None
        first_derived = first.cause1 is not None
        second_derived = second.cause1 is not None
        if first_derived and second_derived:
            n1 = self.numbers.get(first)
            n2 = self.numbers.get(second)
            if n1 is not None and n2 is not None:
                message = (
                    f"Because {self.conclusion(first)} ({n1}) and "
                    f"{self.conclusion(second)} ({n2}), {says}."
                )
                self.write(incompatibility, message, numbered=numbered)
            elif n1 is not None or n2 is not None:
                known, other = (first, second) if n1 is not None else (second, first)
                yield other, False
                message = f"And because {self.conclusion(known)} ({self.numbers[known]}), {says}."
                self.write(incompatibility, message, numbered=numbered)
            else:
                simple_first = _both_external(first)
                if simple_first or _both_external(second):
                    simple, complex_ = (first, second) if simple_first else (second, first)
                    yield complex_, False
                    yield simple, False
                    self.write(incompatibility, f"Thus, {says}.", numbered=numbered)
                else:
                    yield first, True
                    self.lines.append(("", None))
                    yield second, False
                    message = (
                        f"And because {self.conclusion(first)} ({self.numbers[first]}), {says}."
                    )
                    self.write(incompatibility, message, numbered=numbered)
        elif first_derived or second_derived:
            derived, external = (first, second) if first_derived else (second, first)
            number = self.numbers.get(derived)
            if number is not None:
                message = (
                    f"Because {self.external(external)} and "
                    f"{self.conclusion(derived)} ({number}), {says}."
                )
                self.write(incompatibility, message, numbered=numbered)
            elif self._collapsible(derived):
                inner_first, inner_second = derived.cause2, derived.cause1
                assert inner_first is not None
                assert inner_second is not None
                if inner_first.cause1 is not None:
                    prior_derived, prior_external = inner_first, inner_second
                else:
                    prior_derived, prior_external = inner_second, inner_first
                yield prior_derived, False
                message = f"And because {self.both(prior_external, external)}, {says}."
                self.write(incompatibility, message, numbered=numbered)
            else:
                yield derived, False
                self.write(
                    incompatibility,
                    f"And because {self.external(external)}, {says}.",
                    numbered=numbered,
                )
        else:
            message = f"Because {self.both(first, second)}, {says}."
            self.write(incompatibility, message, numbered=numbered)

    def text(self) -> str:
        return "\n".join(f"{line} ({number})" if number else line for line, number in self.lines)


def _both_external(incompatibility: Incompatibility) -> bool:
    first, second = incompatibility.cause1, incompatibility.cause2
    return (
        first is not None and second is not None and first.cause1 is None and second.cause1 is None
    )


def _hints(universe: Universe, root: Incompatibility) -> list[str]:
    """Return hint lines for the packages whose versions ran out in the derivation."""
    hints: dict[str, None] = {}
    for incompatibility in root.external_causes():
        if incompatibility.kind != "no-versions":
            continue
        ((package, term),) = incompatibility.terms.items()
        missing = universe.missing(package)
        if missing is not None:
            hints[f"hint: {missing.reason}"] = None
            continue
        # One line per reason, naming its newest version: fifteen releases after an
        # `--exclude-newer` date, or behind one constraint, are one fact, not fifteen.
        by_reason: dict[str, list[Version]] = {}
        for version, why in universe.excluded(package).items():
            if version in term.range:
                by_reason.setdefault(why, []).append(version)
        groups = sorted(by_reason.items(), key=lambda item: max(item[1]), reverse=True)
        for why, versions in groups[:_MAX_HINTS_PER_PACKAGE]:
            older = len(versions) - 1
            plural = "s" if older > 1 else ""
            also = f" (and {older} older version{plural} in that range, for the same reason)"
            hints[f"hint: {package}=={max(versions)} {why}{also if older else ''}"] = None
        if len(groups) > _MAX_HINTS_PER_PACKAGE:
            more = sum(len(versions) for _, versions in groups[_MAX_HINTS_PER_PACKAGE:])
            hints[f"hint: {more} more versions of {package} in that range cannot be used"] = None
    return list(hints)


def explain(root: Incompatibility, universe: Universe) -> str:
    """Return the numbered explanation of a failed resolution, with hints.

    :param root: the terminal incompatibility (no terms, or the root alone), whose
        causes form the derivation tree.
    :param universe: the problem, read for version lists and hints.

    Example::

        explain(unsolvable.incompatibility, universe)
        # 'Because you require a>=2 and no versions of a match >=2, we can conclude
        #  that your requirements are unsatisfiable.'
    """
    writer = _Writer(universe, root)
    if root.cause1 is None:
        body = (
            f"Because {writer.external(root)}, "
            "we can conclude that your requirements are unsatisfiable."
        )
    else:
        writer.visit(root)
        body = writer.text()
    hints = _hints(universe, root)
    if hints:
        body = body + "\n\n" + "\n".join(hints)
    return body


def external_packages(root: Incompatibility) -> tuple[str, ...]:
    """Return the sorted package keys named by the external facts of a derivation (no root).

    Example::

        external_packages(unsolvable.incompatibility)  # ('a', 'b')
    """
    names: set[str] = set()
    for incompatibility in root.external_causes():
        names.update(incompatibility.terms)
        if incompatibility.dependency is not None:
            names.update(incompatibility.dependency[:2])
    names.discard(ROOT)
    return tuple(sorted(names))
