"""The click-free reader of ``resolvent pip compile`` agrees with click.

:mod:`resolvent.cli._fast` reads a plain ``pip compile`` command line without importing
click. Whatever it accepts must mean exactly what click makes of it (the same
parameters, converted the same way: paths as :class:`~pathlib.Path`, multiple-use
options as tuples, choices checked, defaults filled in); whatever it is not sure of
(an option's environment variable set, an unreadable input, a typo) it leaves to click.
Its table is checked against the click command in ``test_fast_cli_parse``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvent.cli._fast import PIP_COMPILE, fast_command, parse
from resolvent.cli.pip import compile_command
from tests.support.fast_cli import (
    argv_strategy,
    check_unreadable_path_is_left_to_click,
    click_params,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The variable click reads ``--custom-compile-command`` from.
_ENVVAR = "RESOLVENT_CUSTOM_COMPILE_COMMAND"


def _click_params(
    args: list[str], environ: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """What click passes to ``pip compile``'s function for ``args`` (``None``: it refuses)."""
    return click_params(compile_command, args, environ)


def _argv() -> st.SearchStrategy[list[str]]:
    """Command lines of the command's options and some that are not, in any order."""
    words = ["a", "b.in", "x/y", "requirements.txt", "split", "line", "sat", "3.11", "é", ":all:"]
    odd = [["--help"], ["-h"], ["--"], ["-"], [""], ["-oX"], ["-o=x"], ["--offline=1"], ["--nope"],
           ["-qU"], ["--solver", "bogus"], ["--annotation-style=Line"], ["-c"], ["-o", "-q"],
           ["--resolution", "best"], ["--prerelease", "ALLOW"], ["-P"], ["--extra="]]  # fmt: skip
    return argv_strategy(PIP_COMPILE, words, odd, max_size=10)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=_argv(), custom=st.sampled_from([None, "make lock"]))
def test_what_the_fast_reader_accepts_click_reads_the_same(
    args: list[str], custom: str | None
) -> None:
    environ = {} if custom is None else {_ENVVAR: custom}
    fast = parse(args, PIP_COMPILE, environ)
    if fast is None:
        return  # left to click
    assert fast == _click_params(args, environ)


def test_the_benchmark_compile_line_is_read_without_click() -> None:
    args = [
        "--offline", "--python-version", "3.11", "trio.in", "-o", "out.txt", "-q",
        "--exclude-newer", "2026-01-01", "-c", "c.txt", "--constraint=d.txt", "--override",
        "o.txt", "--extra", "dev", "--solver", "both", "-P", "six",
        "--upgrade-package", "idna", "--annotation-style=line", "--no-build", "--cache-dir", "/c",
        "more.in",
    ]  # fmt: skip
    params = parse(args, PIP_COMPILE, {})
    assert params is not None
    assert params == _click_params(args)
    assert params["src_files"] == (Path("trio.in"), Path("more.in"))
    assert params["output_file"] == Path("out.txt")
    assert params["constraints"] == (Path("c.txt"), Path("d.txt"))
    assert params["overrides"] == (Path("o.txt"),)
    assert params["upgrade_packages"] == ("six", "idna")
    assert params["annotation_style"] == "line"
    assert params["resolution"] == "highest"
    assert params["custom_compile_command"] is None
    assert params["no_build_flag"] is True


def test_no_arguments_read_as_click_reads_them() -> None:
    """No input is the command's own error (`no requirements given`), not click's."""
    assert parse([], PIP_COMPILE, {}) == _click_params([])


def test_the_custom_command_variable_is_left_to_click() -> None:
    """click reads it when the option is not given; given, the option wins."""
    assert parse(["r.in"], PIP_COMPILE, {_ENVVAR: "make"}) is None
    assert parse(["r.in"], PIP_COMPILE, {_ENVVAR: ""}) is None
    given_too = ["r.in", "--custom-compile-command", "tox -e lock"]
    fast = parse(given_too, PIP_COMPILE, {_ENVVAR: "make"})
    assert fast is not None
    assert fast == _click_params(given_too, {_ENVVAR: "make"})
    assert fast["custom_compile_command"] == "tox -e lock"


@pytest.mark.parametrize(
    "args",
    [
        ["{path}"],
        ["a.in", "{path}"],
        ["a.in", "-o", "{path}"],
        ["a.in", "-c", "{path}"],
        ["a.in", "--override", "{path}"],
        ["a.in", "--cache-dir", "{path}"],
    ],
    ids=["input", "second-input", "output", "constraint", "override", "cache"],
)
def test_an_existing_unreadable_path_is_left_to_click(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    check_unreadable_path_is_left_to_click(
        tmp_path, monkeypatch, PIP_COMPILE, compile_command, args
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["r.in", "-h"],
        ["r.in", "-o", "a", "--output-file", "b"],  # given twice
        ["r.in", "--", "x"],
        ["r.in", "-o"],  # no value
        ["r.in", "--python-version", ""],
        ["r.in", "--offline=yes"],
        ["r.in", "--solver", "SAT"],  # not a choice (case counts)
        ["r.in", "--generate-hash"],  # a typo
        ["-", "-o", "x"],  # stdin as input: click's to read
    ],
)
def test_uncertain_compile_lines_are_left_to_click(args: list[str]) -> None:
    assert parse(args, PIP_COMPILE, {}) is None


@pytest.mark.parametrize(
    ("argv", "environ", "fast"),
    [
        (["pip", "compile", "r.in"], {}, True),
        (["pip", "compile", "r.in", "-o", "out.txt", "-q"], {}, True),
        (["pip", "compile", "--help"], {}, False),
        (["pip", "compile", "r.in"], {_ENVVAR: "make"}, False),
        (["-v", "pip", "compile", "r.in"], {}, False),
        (["pip", "compile", "r.in"], {"_RESOLVENT_COMPLETE": "bash_complete"}, False),
    ],
)
def test_plain_compile_lines_run_without_click(
    argv: list[str], environ: dict[str, str], *, fast: bool
) -> None:
    assert (fast_command(argv, environ) is not None) is fast
