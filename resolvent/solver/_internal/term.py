"""A term is a positive or negative statement about the version chosen for one package.

``Term(positive=True, range=r)`` reads "a version in ``r`` is selected";
``Term(positive=False, range=r)`` reads "no version in ``r`` is selected" (another
version, or none at all). Terms are PubGrub's
unit of reasoning (``pubgrub-rs/pubgrub: src/term.rs``); their set algebra is delegated
entirely to :class:`~packaging.ranges.VersionRange`.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from packaging.ranges import RangeRelation, VersionRange

from resolvent.solver.ranges import EMPTY

if TYPE_CHECKING:
    from packaging.version import Version

__all__ = ["ANY", "Relation", "Term", "reset_memo", "shared_term"]


class Relation(enum.Enum):
    """How what is known of a package bears on a term.

    ``SATISFIED``: the term must be true; ``CONTRADICTED``: it must be false;
    ``INCONCLUSIVE``: either may still happen.
    """

    SATISFIED = enum.auto()
    CONTRADICTED = enum.auto()
    INCONCLUSIVE = enum.auto()


_SATISFIED = Relation.SATISFIED
_CONTRADICTED = Relation.CONTRADICTED
_INCONCLUSIVE = Relation.INCONCLUSIVE
_R_EMPTY = RangeRelation.EMPTY
_R_SUBSET = RangeRelation.SUBSET
_R_DISJOINT = RangeRelation.DISJOINT

#: Size past which the range memo tables below are emptied (they are caches only).
_MEMO_LIMIT = 1 << 18

# Set algebra memoized by the identity of its operands. Hashing a ``VersionRange`` walks
# its whole interval structure (microseconds each time), and the search asks the same
# questions of the same range objects over and over (every backjump recomputes running
# intersections it has computed before), so these tables are keyed by ``id`` and keep
# the operands in the value: a key's objects stay alive while the entry exists, so an
# id can never be recycled under it. Nothing here changes an answer: a miss computes
# the value with ``VersionRange`` itself. Results are deliberately *not* interned by
# equality: equal ranges can still print differently (``<2`` and ``<2.0.0`` are one
# set), and explanations must not depend on which one was seen first.
_operations: dict[tuple[int, int, int], tuple[VersionRange, VersionRange, VersionRange]] = {}
# Terms built by the algebra, one per (polarity, range object): a term rebuilt after a
# backjump is then the very object it was before, with its memo of relations intact.
_terms: dict[tuple[bool, int], Term] = {}
# Relation classes, one per (polarity, set of versions): see :class:`_RelationClass`.
_classes: dict[tuple[bool, VersionRange], _RelationClass] = {}
_INTERSECTION = 0
_UNION = 1
_DIFFERENCE = 2


def reset_memo() -> None:
    """Empty the memo tables: when they grow past their bound, and after each search.

    Dropping entries loses nothing but speed; emptying them after a search returns
    their memory and leaves the next search no stale objects to keep alive.
    """
    _operations.clear()
    _terms.clear()
    _classes.clear()


def _operation(kind: int, a: VersionRange, b: VersionRange) -> VersionRange:
    key = (kind, id(a), id(b))
    hit = _operations.get(key)
    if hit is not None:
        return hit[2]
    if kind == _INTERSECTION:
        result = a.intersection(b)
    elif kind == _UNION:
        result = a.union(b)
    else:
        result = a.difference(b)
    if len(_operations) > _MEMO_LIMIT:
        reset_memo()
    _operations[key] = (a, b, result)
    return result


def range_intersection(a: VersionRange, b: VersionRange) -> VersionRange:
    """Return ``a & b`` (memoized by identity)."""
    return _operation(_INTERSECTION, a, b)


def range_union(a: VersionRange, b: VersionRange) -> VersionRange:
    """Return ``a | b`` (memoized by identity)."""
    return _operation(_UNION, a, b)


def range_difference(a: VersionRange, b: VersionRange) -> VersionRange:
    """Return ``a - b`` (memoized by identity)."""
    return _operation(_DIFFERENCE, a, b)


def shared_term(positive: bool, range_: VersionRange) -> Term:  # noqa: FBT001
    """Return the shared term for ``positive`` and ``range_`` (kept alive by the term)."""
    key = (positive, id(range_))
    term = _terms.get(key)
    if term is None:
        if len(_terms) > _MEMO_LIMIT:
            reset_memo()
        term = _terms[key] = Term(positive=positive, range=range_)
    return term


def range_relation(a: VersionRange, b: VersionRange) -> RangeRelation:
    """Return ``a.relation(b)``.

    Not memoized here: :meth:`Term.relation` remembers its answers per pair of
    relation classes (equal sets), which answers every question a table keyed by the
    ranges' identity would, and more.
    """
    return a.relation(b)


class _RelationClass:
    """The terms of one polarity over one set of versions, as far as relations go.

    How one term bears on another depends only on their polarities and on the *sets*
    their ranges hold, not on how the ranges were computed or are spelled. Ranges
    computed along different paths are different objects even when equal (the
    running intersection of a package's assignments after a backjump, when its
    derivations come in another order; a term derived once as ``(a & b) & c`` and
    once as ``(a & c) & b``), and on the layered benchmark half of the relation
    questions asked of distinct term objects were repeats by set: 7,961 sets behind
    21,678 range objects. Terms therefore share their memo of relations per class,
    found once per term by the range's value (``VersionRange`` equality and hash,
    which the library defines as a congruence: equal ranges have the same members).

    The range objects themselves are not replaced by a class representative: equal
    ranges can still print differently (``!=2.1`` and ``!=2.1.0``), and the set
    algebra and explanations keep the objects they computed.
    """

    __slots__ = ("memo",)

    def __init__(self) -> None:
        # Relations with other classes, keyed by the class itself (by identity; each
        # class is kept alive by its key here, so its id is never recycled). Unit
        # propagation looks a term's class up directly, ``None`` before the term is first
        # related: no entry, as for any class not related yet.
        self.memo: dict[_RelationClass | None, Relation] = {}


def _relation_class(positive: bool, range_: VersionRange) -> _RelationClass:  # noqa: FBT001
    """Return the relation class of the terms with ``positive`` over ``range_``'s set."""
    if len(_classes) > _MEMO_LIMIT:
        reset_memo()
    # One lookup: hashing a range walks its whole interval structure, and a ``get``
    # followed by an insertion on a miss would hash it twice.
    return _classes.setdefault((positive, range_), _RelationClass())


class Term:
    """A positive or negative statement about one package's version (immutable).

    :param positive: whether the statement says a version in ``range`` is selected.
    :param range: the set of versions the statement is about.

    Example::

        at_least_1 = Term(positive=True, range=from_specifier(">=1"))
        at_least_1.intersection(Term(positive=False, range=from_specifier(">=2")))
        # -> a version in [1, 2) is selected
    """

    __slots__ = ("_class", "positive", "range", "single")

    positive: bool
    range: VersionRange

    def __init__(
        self,
        positive: bool,  # noqa: FBT001
        range: VersionRange,  # noqa: A002
        single: Version | None = None,
    ) -> None:
        self.positive = positive
        self.range = range
        # For a positive term known to admit at most this one version (a decision):
        # relations then reduce to one membership test.
        self.single = single
        # The relation class (found when the term is first related): relations already
        # computed, shared with every term of the same polarity over the same set. The
        # partial solution asks the same questions of the same terms over and over.
        self._class: _RelationClass | None = None

    # -- basics ----------------------------------------------------------------------

    def negate(self) -> Term:
        """Return the term that is true exactly when this one is false."""
        return shared_term(not self.positive, self.range)

    def is_any(self) -> bool:
        """Return whether the term holds whatever is chosen (``not`` of nothing)."""
        return not self.positive and self.range.is_empty

    def contains(self, version: Version) -> bool:
        """Return whether choosing ``version`` makes the term true."""
        return (version in self.range) is self.positive

    # -- set algebra ------------------------------------------------------------------

    def intersection(self, other: Term) -> Term:
        """Return the term true exactly when both terms are."""
        if self.positive:
            if other.positive:
                return shared_term(True, range_intersection(self.range, other.range))  # noqa: FBT003
            return shared_term(True, range_difference(self.range, other.range))  # noqa: FBT003
        if other.positive:
            return shared_term(True, range_difference(other.range, self.range))  # noqa: FBT003
        return shared_term(False, range_union(self.range, other.range))  # noqa: FBT003

    def union(self, other: Term) -> Term:
        """Return the term true exactly when either term is."""
        if self.positive:
            if other.positive:
                return shared_term(True, range_union(self.range, other.range))  # noqa: FBT003
            return shared_term(False, range_difference(other.range, self.range))  # noqa: FBT003
        if other.positive:
            return shared_term(False, range_difference(self.range, other.range))  # noqa: FBT003
        return shared_term(False, range_intersection(self.range, other.range))  # noqa: FBT003

    def relation(self, other: Term) -> Relation:
        """Return how this term, taken as everything known of a package, bears on ``other``.

        ``SATISFIED`` when ``self`` implies ``other``, ``CONTRADICTED`` when they cannot
        both hold, ``INCONCLUSIVE`` otherwise. Answers are memoized per pair of relation
        classes (see :class:`_RelationClass`).
        """
        mine = self._class
        if mine is None:
            mine = self._class = _relation_class(self.positive, self.range)
        theirs = other._class
        if theirs is None:
            theirs = other._class = _relation_class(other.positive, other.range)
        memo = mine.memo
        hit = memo.get(theirs)
        if hit is not None:
            return hit
        relation = memo[theirs] = self._relation(other)
        return relation

    def relation_memo(self) -> dict[_RelationClass | None, Relation]:
        """Return the table of this term's remembered relations, keyed by the other's class.

        ``table.get(other._class) or self.relation(other)`` is :meth:`relation`: unit
        propagation relates one running intersection to every term of a package's
        incompatibilities, and reads this one table directly instead of calling this
        method each time.
        """
        mine = self._class
        if mine is None:
            mine = self._class = _relation_class(self.positive, self.range)
        return mine.memo

    def _relation(self, other: Term) -> Relation:
        single = self.single
        if single is not None:
            inside = single in other.range
            return _SATISFIED if inside is other.positive else _CONTRADICTED
        mine = self.range
        theirs = other.range
        if self.positive:
            rel = mine.relation(theirs)
            if other.positive:
                if rel is _R_SUBSET or rel is _R_EMPTY:
                    return _SATISFIED
                return _CONTRADICTED if rel is _R_DISJOINT else _INCONCLUSIVE
            if rel is _R_DISJOINT or rel is _R_EMPTY:
                return _SATISFIED
            return _CONTRADICTED if rel is _R_SUBSET else _INCONCLUSIVE
        # Not selecting anything in ``mine`` leaves "not selected at all" possible, so a
        # positive ``other`` is at best contradicted, and a negative one satisfied only
        # when it excludes no more than ``mine`` does.
        if theirs is not mine and not theirs.relation(mine).is_subset:
            return _INCONCLUSIVE
        return _SATISFIED if not other.positive else _CONTRADICTED

    def satisfies(self, other: Term) -> bool:
        """Return whether ``self`` implies ``other`` (``self`` is a subset of ``other``)."""
        return self.relation(other) is _SATISFIED

    # -- value semantics -------------------------------------------------------------------

    def same_as(self, other: Term) -> bool:
        """Return whether both terms say the same thing (terms compare by identity)."""
        return self.positive == other.positive and self.range == other.range

    def __repr__(self) -> str:
        sign = "" if self.positive else "not "
        return f"<Term {sign}{self.range!r}>"


#: The term that always holds: nothing is excluded.
ANY = Term(positive=False, range=EMPTY)
