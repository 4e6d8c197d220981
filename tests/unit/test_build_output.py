"""Which line of a failed build backend's output a one-line error quotes."""

from __future__ import annotations

import pytest

from resolvent.installer.build import _last_line


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            (
                "Traceback (most recent call last):\n  File 'x', line 1\n    f(a)\n    ~^~~\n"
                "ModuleNotFoundError: No module named 'numpy'\n"
            ),
            "ModuleNotFoundError: No module named 'numpy'",
        ),
        (
            (
                "running egg_info\nerror in demo setup command: 'install_requires' is invalid\n"
                "    apispec[yaml]>=1.1.1<2\n                 ~~~~~~~^\n"
            ),
            "error in demo setup command: 'install_requires' is invalid",
        ),
        ("setuptools.errors.SetupError: bad\n  hint: more\n", "setuptools.errors.SetupError: bad"),
        ("building...\nsomething went wrong\n~~~\n", "something went wrong"),
        ("  \n~~~\n", "no detail"),
    ],
)
def test_the_reason_line_is_quoted(output: str, expected: str) -> None:
    assert _last_line(output) == expected
