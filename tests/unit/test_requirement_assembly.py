"""Requirements assembled from their parts must be the requirements packaging parses.

The metadata reader builds common ``Requires-Dist`` lines from a specifier set and a
memoized marker instead of running packaging's full parser on each; every line, valid
or not, must come out exactly as the parser makes it (or fail as it fails).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement

from resolvent.requirement_parsing import parse_requirement as _requirement

ENVIRONMENTS = [
    {
        "python_version": "3.11",
        "python_full_version": "3.11.0",
        "sys_platform": platform,
        "platform_system": system,
        "platform_machine": "x86_64",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": extra,
    }
    for platform, system in (("linux", "Linux"), ("win32", "Windows"))
    for extra in ("", "test", "gpu_x")
]

CRAFTED = [
    "foo",
    "Foo_Bar.baz",
    "foo>=1.0,<2",
    "foo==1.0.*",
    "foo===abc",
    "foo~=1.4.2",
    "foo!=1.0.*,>1",
    "foo>=1!2.0.post1.dev3",
    "foo[bar]",
    "foo[bar,Baz_Qux]>=2",
    "foo[bar, baz]",
    "foo [bar]",
    "foo (>=1.0)",
    "foo >= 1.0",
    "foo>=1.0 ; python_version < '3.8'",
    "foo; extra == 'Test_X'",
    "foo;extra=='x'",
    'foo; extra == "a" and python_version>="3"',
    "foo;python_version>'3.8'and python_version<'4'",
    "foo; platform_machine != 'arm64' or (sys_platform == 'darwin' and extra == 'gpu-x')",
    "foo; 'linux' in sys_platform",
    "foo; extra == 'x' ",
    "foo; x == 'y'\t",
    "foo @ https://host.invalid/foo-1.0-py3-none-any.whl",
    "foo@https://host.invalid/f.whl ; python_version<'3'",
    # Invalid: both must refuse them.
    "foo;",
    "foo; ",
    "foo>=1.0;",
    "foo-",
    "-foo",
    "foo>=1.0,",
    "foo>=",
    "foo<1.0+local",
    "foo>=v1.0x",
    "foo[]",
    "foo[a,]",
    "foo; bogus == 'x'",
    "foo; python_version < '3' extra",
    "foo; os_name == 'nt'\n",
]


def _same(text: str) -> None:
    try:
        expected: Requirement | None = Requirement(text)
    except InvalidRequirement:
        expected = None
    try:
        assembled: Requirement | None = _requirement.__wrapped__(text)
    except InvalidRequirement:
        assembled = None
    if expected is None or assembled is None:
        assert expected is assembled is None, text
        return
    assert assembled == expected
    assert str(assembled) == str(expected)
    assert hash(assembled) == hash(expected)
    assert (assembled.name, assembled.url, assembled.extras) == (
        expected.name,
        expected.url,
        expected.extras,
    )
    assert [(s.operator, s.version) for s in assembled.specifier] == [
        (s.operator, s.version) for s in expected.specifier
    ]
    assert str(assembled.marker) == str(expected.marker)
    if expected.marker is not None:
        assert assembled.marker is not None
        for env in ENVIRONMENTS:
            assert assembled.marker.evaluate(env) == expected.marker.evaluate(env), text


@pytest.mark.parametrize("text", CRAFTED)
def test_crafted_lines(text: str) -> None:
    _same(text)


NAMES = st.sampled_from(["foo", "Foo_Bar", "a", "x.y-z", "foo-", "1a", "b2"])
EXTRAS = st.sampled_from(["", "[bar]", "[bar,baz]", "[Bar_X]", "[ bar ]", "[]", "[a,]"])
SPECS = st.sampled_from(
    ["", ">=1.0", ">=1.0,<2", "==1.*", "===x", "~=2.2", "!=1.0+l", " >= 1", "(>=1)", ">=", "<1,"]
)
MARKERS = st.sampled_from(
    [
        "",
        "; extra == 'test'",
        ";extra=='Gpu_X'",
        "; python_version < '3.8'",
        " ; sys_platform == 'win32' and extra == 'test'",
        "; (os_name=='nt' or platform_system=='Linux')",
        "; ",
        "; bogus",
        "; python_version < '3' ",
    ]
)


@settings(max_examples=400, deadline=None)
@given(NAMES, EXTRAS, SPECS, MARKERS)
def test_generated_lines(name: str, extras: str, spec: str, marker: str) -> None:
    _same(f"{name}{extras}{spec}{marker}")
