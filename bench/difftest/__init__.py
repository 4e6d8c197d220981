"""A differential tester: resolvent against uv and an exhaustive oracle, on random universes.

Random small universes of packages (:mod:`~bench.difftest.universe`) are written as real
wheels (:mod:`~bench.difftest.wheels`), served by ``resolvent index serve`` and compiled
with ``resolvent pip compile`` and ``uv pip compile`` (:mod:`~bench.difftest.compilers`);
an exhaustive search (:mod:`~bench.difftest.oracle`) says whether a solution exists and
whether each answer is valid; :mod:`~bench.difftest.compare` classifies the differences
and :mod:`~bench.difftest.minimize` shrinks resolvent's failures to small cases. Hand-
written scenarios test what their authors thought of; this finds what nobody did.
See ``bench/difftest/README.md``.
"""
