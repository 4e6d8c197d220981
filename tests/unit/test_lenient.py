"""The repairs of malformed published requirements: each rule uv applies, on real lines.

The lines come from releases that cannot change (celery, boto3, pyzmq, jupyter-core...);
uv reads each of them as the expected text here, so a resolution keeps the dependency.
"""

from __future__ import annotations

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from resolvent.index.lenient import REPAIRS, lenient_requirement, lenient_specifier


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pytz (>dev)", "pytz>0.0.0dev"),  # celery 4.3-5.2
        ("elasticsearch-dsl (>=7.2.0<8.0.0)", "elasticsearch-dsl>=7.2.0,<8.0.0"),
        ("jupyter-core (!=~5.0,>=4.12)", "jupyter-core!=5.0.*,>=4.12"),
        ("jupyter-core (!=~5,>=4.12)", "jupyter-core!=5.*,>=4.12"),
        ("torch (>=1.9.*)", "torch>=1.9"),
        ("pyzmq (>=2.7,!=3.0*,!=3.1*,!=3.2*)", "pyzmq>=2.7,!=3.0.*,!=3.1.*,!=3.2.*"),
        ("botocore>=1.3.0,<1.4.0',", "botocore>=1.3.0,<1.4.0"),  # two repairs
        ("thing>=9.0.0a1.0", "thing>=9.0.0a1"),
        ('numpy ">=1.19"; python_version >= "3.7"', 'numpy>=1.19; python_version >= "3.7"'),
    ],
)
def test_known_malformations_are_read_as_uv_reads_them(text: str, expected: str) -> None:
    with pytest.raises(InvalidRequirement):
        Requirement(text)  # packaging alone rejects every one of these
    requirement, repairs = lenient_requirement(text)
    assert requirement == Requirement(expected)
    assert repairs


def test_valid_lines_are_untouched() -> None:
    """A valid line is parsed as it is, even where a repair pattern would match it."""
    text = 'quoted; python_version >= "3.7"'
    requirement, repairs = lenient_requirement(text)
    assert requirement == Requirement(text)
    assert repairs == []


def test_a_line_no_repair_fixes_raises_the_original_error() -> None:
    with pytest.raises(InvalidRequirement, match="RIGHT_PARENTHESIS"):
        lenient_requirement("broken (>=1.0 ;;")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (">=3.6, ", ">=3.6"),
        (">= '2.7'", ">=2.7"),
        ('>="3.6"', ">=3.6"),
        (">=2.7,!=3.0.*,!=3.1.*,<3.4.*", ">=2.7,!=3.0.*,!=3.1.*,<3.4"),
        (">=2.7, !=3.0.*, !=3.1.*', !=3.2.*, !=3.3.*'", ">=2.7,!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*"),
        (">dev", ">0.0.0dev"),
        (">=9a1.0", ">=9a1"),
    ],
)
def test_requires_python_is_repaired_alike(text: str, expected: str) -> None:
    assert lenient_specifier(text)[0] == SpecifierSet(expected)


def test_unrepairable_specifier_raises() -> None:
    with pytest.raises(InvalidSpecifier):
        lenient_specifier(">=3;x")


def test_every_rule_is_named() -> None:
    """The names are what a debug log says; each rule has one, and they differ."""
    names = [name for name, _ in REPAIRS]
    assert len(set(names)) == len(names) == 8
