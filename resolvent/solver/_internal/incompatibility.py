"""An incompatibility is a set of terms that must not all be true at once.

Every fact PubGrub knows is one: the root must be chosen, a range holds no usable
version, a version cannot be used, a version depends on a range of another package, or a
fact derived from two others by resolution (``pubgrub-rs/pubgrub:
src/internal/incompatibility.rs``). Derived incompatibilities keep their two causes, so
the final one is the root of a derivation tree that :mod:`resolvent.solver.report` turns
into an explanation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from resolvent.solver.ranges import exactly

from .term import Term, shared_term

if TYPE_CHECKING:
    from collections.abc import Iterator

    from packaging.version import Version

    from resolvent.solver.ranges import VersionRange
    from resolvent.solver.universe import Dependency

__all__ = ["Incompatibility", "Kind"]

Kind = Literal["root", "no-versions", "unavailable", "from-dependency", "derived"]


class Incompatibility:
    """Terms that cannot all hold, with the reason they cannot (compared by identity).

    :param terms: the terms, one per package, in a stable order.
    :param kind: why the terms are incompatible.
    :param reason: for ``unavailable``, why the version cannot be used.
    :param causes: for ``derived``, the two incompatibilities it was derived from.
    :param dependency: for ``from-dependency``, ``(dependent, dependency, specifier)``.

    Use the named constructors rather than ``__init__``::

        Incompatibility.from_dependency("a", exactly(Version("1")), dependency)
    """

    __slots__ = ("cause1", "cause2", "dependency", "kind", "pair", "reason", "terms")

    def __init__(
        self,
        terms: dict[str, Term],
        kind: Kind,
        *,
        reason: str = "",
        causes: tuple[Incompatibility, Incompatibility] | None = None,
        dependency: tuple[str, str, str] | None = None,
    ) -> None:
        self.terms = terms
        # The two (package, term) items of a two-term incompatibility (``None`` for any
        # other size): most incompatibilities are dependency edges, and unit propagation
        # relates them through this without walking the dict (``PartialSolution.relation``).
        self.pair: tuple[tuple[str, Term], tuple[str, Term]] | None = (
            (*terms.items(),) if len(terms) == 2 else None  # type: ignore[assignment]
        )
        self.kind: Kind = kind
        self.reason = reason
        self.cause1: Incompatibility | None = causes[0] if causes else None
        self.cause2: Incompatibility | None = causes[1] if causes else None
        self.dependency = dependency

    # -- constructors ------------------------------------------------------------------

    @classmethod
    def root(cls, package: str, version: Version) -> Incompatibility:
        """Return ``{not root}``: it is incompatible not to choose the root."""
        return cls({package: Term(positive=False, range=exactly(version))}, "root")

    @classmethod
    def no_versions(cls, package: str, term: Term) -> Incompatibility:
        """Return ``{term}``: no usable version of ``package`` lies in the term's range."""
        return cls({package: term}, "no-versions")

    @classmethod
    def unavailable(cls, package: str, versions: VersionRange, reason: str) -> Incompatibility:
        """Return ``{package in versions}``: those versions cannot be used, for ``reason``."""
        return cls({package: Term(positive=True, range=versions)}, "unavailable", reason=reason)

    @classmethod
    def from_dependency(
        cls, package: str, versions: VersionRange, dependency: Dependency
    ) -> Incompatibility:
        """Return ``{package in versions, not dependency}``.

        A dependency on an empty range keeps only the dependent's term (nothing can
        satisfy the dependency, so the dependent versions are out by themselves).
        """
        # Shared term objects: relations are memoized per term object, and dependencies
        # on the same range recur across versions and dependents.
        terms = {package: shared_term(True, versions)}  # noqa: FBT003
        if not dependency.range.is_empty:
            terms[dependency.package] = shared_term(False, dependency.range)  # noqa: FBT003
        info = (package, dependency.package, dependency.specifier)
        return cls(terms, "from-dependency", dependency=info)

    @classmethod
    def derived(
        cls, incompatibility: Incompatibility, cause: Incompatibility, package: str
    ) -> Incompatibility:
        """Return the resolvent of two incompatibilities on ``package`` (the prior cause).

        Terms on the same package are intersected, except on ``package`` where they are
        united; a term that always holds is dropped.
        """
        terms = dict(incompatibility.terms)
        mine = terms.pop(package)
        for name, term in cause.terms.items():
            if name == package:
                continue
            known = terms.get(name)
            terms[name] = term if known is None else known.intersection(term)
        joined = mine.union(cause.terms[package])
        if not joined.is_any():
            terms[package] = joined
        kept = {name: term for name, term in terms.items() if not term.is_any()}
        return cls(kept, "derived", causes=(incompatibility, cause))

    # -- queries -------------------------------------------------------------------------

    def is_terminal(self, root: str) -> bool:
        """Return whether this incompatibility says that no solution exists."""
        terms = self.terms
        if not terms:
            return True
        if len(terms) != 1:
            return False
        term = terms.get(root)
        return term is not None and term.positive

    def merge_dependents(self, other: Incompatibility) -> Incompatibility | None:
        """Return one incompatibility for two dependency edges that differ only in dependent.

        Both must be ``from-dependency`` incompatibilities of the same dependent package on
        the same dependency range; the result covers the union of their dependent ranges.
        Returns ``None`` when they cannot be merged.
        """
        mine = self.dependency
        theirs = other.dependency
        if mine is None or theirs is None or mine[:2] != theirs[:2]:
            return None
        dependent, target, _ = mine
        mine_target = self.terms.get(target)
        theirs_target = other.terms.get(target)
        if mine_target is None or theirs_target is None:
            if mine_target is not theirs_target:
                return None
        elif not mine_target.same_as(theirs_target):
            return None
        versions = self.terms[dependent].range.union(other.terms[dependent].range)
        terms = {dependent: Term(positive=True, range=versions)}
        target_term = self.terms.get(target)
        if target_term is not None:
            terms[target] = target_term
        return Incompatibility(terms, "from-dependency", dependency=mine)

    def external_causes(self) -> Iterator[Incompatibility]:
        """Yield every external incompatibility this one rests on, each once, depth first."""
        seen: set[int] = set()
        stack: list[Incompatibility] = [self]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.cause1 is None or node.cause2 is None:
                yield node
            else:
                stack.append(node.cause2)
                stack.append(node.cause1)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}: {term!r}" for name, term in self.terms.items())
        return f"<Incompatibility {self.kind} {{{inner}}}>"
