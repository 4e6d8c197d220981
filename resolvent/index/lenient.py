"""Repairs for the malformed requirements found in real, published metadata.

Old releases were uploaded when tools accepted looser syntax than PEP 508 and PEP 440
do now, and their ``METADATA`` can never change: celery 4.3-5.2 declare
``Requires-Dist: pytz (>dev)``, old boto3 ``botocore>=1.3.0,<1.4.0',``, pyzmq's
``Requires-Python`` reads ``>=2.7,!=3.0*``. ``packaging`` rejects these lines; dropping
them silently leaves the dependency out of a resolution (celery without ``pytz``), and
refusing the version altogether makes those releases unusable although every installer
before pip 24.1 installed them.

So a line ``packaging`` rejects is repaired, as uv repairs it (its
``LenientRequirement`` and ``LenientVersionSpecifiers``), and the repaired line is used.
Each rule below rewrites one known malformation, and matches nothing that is valid
syntax where it applies; the rules are applied in this order, each on the result of the
ones before, and the line is parsed again after every rule that changed it, so the
repair stops at the first text that parses (as uv does):

1. **missing comma**: a digit directly followed by an operator character
   (``>=7.2.0<8.0.0``) gets a comma between them: ``>=7.2.0,<8.0.0``. Specifiers were
   once written back to back; a digit is never followed by ``<>=~^!`` in valid syntax.
2. **``!=~``**: ``!=~5.0`` becomes ``!=5.0.*``, the "not this series" it meant.
3. **star after an ordering operator**: ``>=1.9.*`` becomes ``>=1.9`` (PEP 440 allows
   ``.*`` only after ``==`` and ``!=``; for ``>=`` and ``<`` the series' start is the
   same bound).
4. **missing dot before a star**: ``!=3.0*`` becomes ``!=3.0.*``.
5. **trailing comma**: ``>=3.6,`` (and ``>=3.6, ``) loses the comma.
6. **``>dev``**: ``>dev`` becomes ``>0.0.0dev``, what setuptools read it as: any
   version at all, pre-releases included (celery's ``pytz (>dev)``).
7. **trailing zero after a pre/post/dev number**: ``>=9.0.0a1.0`` becomes ``>=9.0.0a1``.
8. **stray quotes**: quotes in the requirement before its marker (``>= '2.7'``,
   ``>=3.6'``) are removed; the marker's own quotes are kept.

Rules 1-7 look at the whole line, as uv's do: a repair has to make the line parse to be
used, and a marker never holds a digit directly before an operator or the other
patterns. A line that no rule repairs stays invalid: the caller drops it and says so.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeVar

from packaging.requirements import InvalidRequirement
from packaging.specifiers import InvalidSpecifier

from resolvent.requirement_parsing import parse_requirement, parse_specifier

if TYPE_CHECKING:
    from collections.abc import Callable

    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

__all__ = ["REPAIRS", "lenient_requirement", "lenient_specifier", "repaired_texts"]

_T = TypeVar("_T")


def _sub(pattern: str, replacement: str) -> Callable[[str], str]:
    # Compiled on first use (``re`` keeps it): only a requirement that fails to parse is
    # repaired, and every install imports this module.
    return lambda text: re.sub(pattern, replacement, text)


_QUOTES = str.maketrans("", "", "'\"")


def _without_stray_quotes(text: str) -> str:
    """Remove quotes from the part before the marker; the marker needs its own."""
    cut = text.find(";")
    if cut < 0:
        return text.translate(_QUOTES)
    return text[:cut].translate(_QUOTES) + text[cut:]


#: The repairs, in the order they are tried: (what it does, the rewrite). See the module.
REPAIRS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("inserting a missing comma", _sub(r"(\d)([<>=~^!])", r"\1,\2")),
    ("replacing `!=~` with a wildcard", _sub(r"!=~((?:\d\.)*\d)", r"!=\1.*")),
    (
        "removing a star after an ordering operator",
        _sub(r"(<=|>=|<|>)(\d+(?:\.\d+)*)\.\*", r"\1\2"),
    ),
    ("inserting a missing dot before a star", _sub(r"(\d\.\d)+\*", r"\1.*")),
    ("removing a trailing comma", _sub(r",\s*\Z", "")),
    ("reading `>dev` as `>0.0.0dev`", _sub(r">dev", ">0.0.0dev")),
    (
        "removing a trailing zero",
        _sub(r"(\d+(?:\.\d)*(?:a|b|rc|post|dev)\d+)\.0", r"\1"),
    ),
    ("removing stray quotes", _without_stray_quotes),
)


def repaired_texts(text: str) -> list[tuple[str, list[str]]]:
    """Return the successive repairs of ``text``: each changed text and the rules so far.

    Only rules that changed something produce an entry, in :data:`REPAIRS` order, each
    applied to the previous entry's text; the caller parses them in turn.

    >>> [t for t, _ in repaired_texts("pytz (>dev)")]
    ['pytz (>0.0.0dev)']
    """
    steps: list[tuple[str, list[str]]] = []
    current = text
    applied: list[str] = []
    for what, rewrite in REPAIRS:
        patched = rewrite(current)
        if patched != current:
            applied = [*applied, what]
            steps.append((patched, applied))
            current = patched
    return steps


def lenient_requirement(text: str) -> tuple[Requirement, list[str]]:
    """Parse a ``Requires-Dist`` line, repairing the known malformations if it must.

    Returns the requirement and the repairs it took (empty when the line was valid).

    :raises InvalidRequirement: no repair makes the line parse (the error is the
        original line's).

    >>> requirement, repairs = lenient_requirement("elasticsearch-dsl (>=7.2.0<8.0.0)")
    >>> str(requirement), repairs
    ('elasticsearch-dsl<8.0.0,>=7.2.0', ['inserting a missing comma'])
    """
    return _lenient(text, parse_requirement, InvalidRequirement)


def lenient_specifier(text: str) -> tuple[SpecifierSet, list[str]]:
    """Parse a specifier set (a ``Requires-Python``), repairing it as requirements are.

    :raises InvalidSpecifier: no repair makes it parse (the error is the original's).

    >>> specifier, repairs = lenient_specifier(">=2.7,!=3.0*,!=3.1*")
    >>> str(specifier), repairs
    ('!=3.0.*,!=3.1.*,>=2.7', ['inserting a missing dot before a star'])
    """
    return _lenient(text, parse_specifier, InvalidSpecifier)


def _lenient(
    text: str, parse: Callable[[str], _T], invalid: type[ValueError]
) -> tuple[_T, list[str]]:
    """Parse ``text``, else its repairs in turn; re-raise the original text's error.

    One loop for requirements and specifier sets, so that both try the same repairs in
    the same order and report the line as written, not a half-repaired one.
    """
    try:
        return parse(text), []
    except invalid as error:
        original = error
    for patched, applied in repaired_texts(text):
        try:
            return parse(patched), applied
        except invalid:
            continue
    raise original
