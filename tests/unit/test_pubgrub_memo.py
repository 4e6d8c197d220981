"""PubGrub's memo tables and collector settings change no answer.

Terms share their memo of relations per relation class (polarity and set of versions),
so a term meets answers computed for other, equal ranges: those answers must be the
ones its own range gives. :func:`fewer_collections` freezes the objects that exist when
a search starts and must unfreeze exactly what it froze.
"""

from __future__ import annotations

import gc
import random

import pytest

from resolvent.solver._internal.collector import fewer_collections
from resolvent.solver._internal.term import Relation, Term, reset_memo, shared_term
from resolvent.solver.ranges import from_specifier


def test_equal_ranges_spelled_differently_share_one_class() -> None:
    short = from_specifier(">=1,!=2,<3")
    long = from_specifier(">=1.0,!=2.0.0,<3.0")
    assert short == long
    assert short is not long
    assert repr(short) != repr(long)  # why the ranges themselves are not replaced
    other = shared_term(True, from_specifier(">=2.5"))
    first = shared_term(True, short)
    second = shared_term(True, long)
    assert first.relation(other) is Relation.INCONCLUSIVE
    assert second._class is None
    assert second.relation(other) is Relation.INCONCLUSIVE
    assert first._class is second._class
    # Polarity is part of the class.
    assert first.negate().relation(other) is Relation.INCONCLUSIVE
    assert first.negate()._class is not first._class
    reset_memo()


def _spellings(rng: random.Random) -> str:
    low = rng.randint(0, 6)
    high = rng.randint(low + 1, 8)
    shape = rng.choice([f">={low}", f"<{high}", f">={low},<{high}", f"!={low}", f"=={low}"])
    # The same set, spelled with one, two or three release components.
    return shape.replace(str(low), rng.choice([f"{low}", f"{low}.0", f"{low}.0.0"]))


@pytest.mark.parametrize("seed", range(20))
def test_shared_relation_memo_answers_as_a_fresh_computation(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data
    terms = [
        Term(positive=rng.random() < 0.6, range=from_specifier(_spellings(rng))) for _ in range(40)
    ]
    for _ in range(400):
        mine, theirs = rng.choice(terms), rng.choice(terms)
        intersected = mine.intersection(rng.choice(terms))
        for left, right in ((mine, theirs), (intersected, theirs), (theirs, intersected)):
            assert left.relation(right) is left._relation(right)
    reset_memo()


def test_fewer_collections_freezes_and_unfreezes_once() -> None:
    if gc.get_freeze_count():
        pytest.skip("the process froze objects itself")
    before = gc.get_threshold()
    with fewer_collections():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with fewer_collections():
            assert gc.get_freeze_count() == frozen  # nested: no second freeze
        assert gc.get_freeze_count() == frozen  # nor an early unfreeze
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_fewer_collections_leaves_a_freeze_of_the_process_alone() -> None:
    if gc.get_freeze_count():
        pytest.skip("the process froze objects itself")
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with fewer_collections():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen  # not unfrozen by the search
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("positive", [True, False])
@pytest.mark.parametrize("spec", [">=1", ">=2,<1", "==1.0", "!=1.0"])
def test_nothing_known_relates_as_any_does(spec: str, *, positive: bool) -> None:
    """A package without assignments is related through ``ANY``'s memo: same answers.

    Nothing known requires no version and excludes none: a term is satisfied only when
    it excludes nothing (negative, empty range), contradicted only when it requires a
    version from an empty range, and undecided otherwise.
    """
    from resolvent.solver._internal.partial_solution import _relate  # noqa: PLC0415

    reset_memo()
    term = Term(positive=positive, range=from_specifier(spec))
    empty = term.range.is_empty
    if empty:
        expected = Relation.CONTRADICTED if positive else Relation.SATISFIED
    else:
        expected = Relation.INCONCLUSIVE
    assert _relate(None, term) is expected
    assert _relate(None, term) is expected  # remembered
