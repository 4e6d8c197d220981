"""The scenario TOML fast path: equal to ``tomllib`` wherever it answers, silent elsewhere."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bench.universes import Synthetic, chain, layered, wide
from resolvent.solver._internal.toml_subset import loads_subset
from resolvent.solver.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted((ROOT / "specs" / "scenarios").rglob("*.toml"))


def _same_as_tomllib(text: str) -> bool:
    """Assert the fast path equals tomllib when it answers; return whether it answered."""
    fast = loads_subset(text)
    if fast is None:
        return False
    assert fast == tomllib.loads(text)
    return True


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_corpus_reads_as_tomllib_does(path: Path) -> None:
    _same_as_tomllib(path.read_text(encoding="utf-8"))


def test_most_of_the_corpus_takes_the_fast_path() -> None:
    texts = [p.read_text(encoding="utf-8") for p in CORPUS]
    assert sum(map(_same_as_tomllib, texts)) >= len(texts) // 2


@pytest.mark.parametrize(
    "synthetic",
    [layered(packages=24, versions=6, layers=3), wide(packages=30, versions=4), chain(10, 5)],
    ids=["layered", "wide", "chain"],
)
def test_generated_universes_take_the_fast_path(synthetic: Synthetic) -> None:
    assert _same_as_tomllib(synthetic.to_scenario("x"))


@pytest.mark.parametrize(
    "text",
    [
        'a = "x"\n[t]\nb = ["p", "q",]\n[t.u."1.0"]\nc = true\nd = false\n',
        '# comment\n\n  [ t ]  \n\tk = [ ]\n"quoted key" = "v" \r\n',
        '[a.b]\nx = "1"\n[a]\ny = "2"\n',  # a super-table after its sub-table
        '[a]\nx = "1"\n[a.b]\ny = "2"\n',
        '"" = "empty key"\n',
        'k = "tab\tinside"\n',
    ],
)
def test_plain_texts_take_the_fast_path(text: str) -> None:
    assert _same_as_tomllib(text)


@pytest.mark.parametrize(
    "text",
    [
        "n = 3\n",  # numbers
        "s = 'literal'\n",
        's = "esc\\"aped"\n',
        's = """multi"""\n',
        'k = "v" # trailing comment\n',
        "a.b = 1\n",  # dotted keys
        't = {x = "1"}\n',
        'r = [\n  "a",\n]\n',  # multi-line arrays
        '[[t]]\nx = "1"\n',
        "[a . b]\n",
        'k = ["a", 1]\n',
        # Errors: the fast path never accepts them, so tomllib reports them.
        'k = "1"\nk = "2"\n',
        "[t]\n[t]\n",
        '[a]\nb = "x"\n[a.b]\n',
        '[a.b]\n[a]\nb = "x"\n',
        'k = "1"\rj = "2"\n',
        "k = \n",
        "[t\n",
        'k = "\x01"\n',
    ],
)
def test_anything_else_is_left_to_tomllib(text: str) -> None:
    assert loads_subset(text) is None


def test_errors_still_come_from_tomllib() -> None:
    from resolvent.errors import ScenarioError  # noqa: PLC0415

    with pytest.raises(ScenarioError, match="not valid TOML"):
        parse_scenario('name = "x"\nname = "y"\n', "dup.toml")
