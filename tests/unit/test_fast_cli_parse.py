"""The click-free reader of ``resolvent venv`` and ``pip install`` agrees with click.

:mod:`resolvent.cli._fast` reads the command lines a warm install runs without importing
click. Whatever it accepts must mean exactly what click makes of it (the same
parameters, converted the same way); whatever it is not sure of it leaves to click. Its
tables of options must name every option of the click commands (``pip compile``'s too),
with the same kind, type, default and environment variable.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvent.cli._fast import (
    PIP_COMPILE,
    PIP_INSTALL,
    SOLVE,
    VENV,
    Spec,
    fast_command,
    parse,
    path_text,
)
from resolvent.cli.pip import compile_command
from resolvent.cli.pip_env import install_command
from resolvent.cli.solve import solve
from resolvent.cli.venv import venv
from tests.support.fast_cli import (
    argv_strategy,
    as_click_gives,
    check_table,
    check_unreadable_path_is_left_to_click,
    click_params,
)

if TYPE_CHECKING:
    import click

COMMANDS = [(VENV, venv), (PIP_INSTALL, install_command), (SOLVE, solve)]


@pytest.mark.parametrize(
    ("spec", "command"),
    [*COMMANDS, (PIP_COMPILE, compile_command)],
    ids=["venv", "pip install", "solve", "pip compile"],
)
def test_the_tables_describe_the_click_commands(spec: Spec, command: click.Command) -> None:
    check_table(spec, command)


@pytest.mark.parametrize(
    ("spec", "command", "args"),
    [
        (VENV, venv, ["{path}"]),
        (VENV, venv, ["e", "--cache-dir", "{path}"]),
        (PIP_INSTALL, install_command, ["-r", "{path}"]),
        (PIP_INSTALL, install_command, ["-c", "{path}", "x"]),
        (PIP_INSTALL, install_command, ["--override", "{path}", "x"]),
        (PIP_INSTALL, install_command, ["--cache-dir", "{path}", "x"]),
    ],
    ids=["venv-path", "venv-cache", "requirement", "constraint", "override", "install-cache"],
)
def test_an_existing_unreadable_path_is_left_to_click(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spec: Spec,
    command: click.Command,
    args: list[str],
) -> None:
    check_unreadable_path_is_left_to_click(tmp_path, monkeypatch, spec, command, args)


def _argv(spec: Spec) -> st.SearchStrategy[list[str]]:
    """Command lines of the command's options and some that are not, in any order."""
    words = ["a", "b.txt", "x/y", "hardlink", "copy", "lowest", "3.11", "é"]
    odd = [["--help"], ["-h"], ["--"], ["-"], [""], ["-pX"], ["--seed=1"], ["--nope"], ["-qq"],
           ["--link-mode", "bogus"], ["--resolution=best"], ["-r"], ["--python", "-q"]]  # fmt: skip
    return argv_strategy(spec, words, odd, max_size=8)


@pytest.mark.parametrize(("spec", "command"), COMMANDS, ids=["venv", "pip install", "solve"])
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_what_the_fast_reader_accepts_click_reads_the_same(
    spec: Spec, command: click.Command, data: st.DataObject
) -> None:
    args = data.draw(_argv(spec))
    fast = parse(args, spec)
    if fast is None:
        return  # left to click
    assert as_click_gives(fast, spec) == click_params(command, args)


@pytest.mark.parametrize(
    "args",
    [
        ["envs/one", "--python", "/usr/bin/python3"],
        ["-p", "3.11", "--seed", "--clear", "-q", "--prompt", "hi", "--cache-dir", "c"],
        ["--python=/usr/bin/python3", "--system-site-packages"],
        [],
    ],
)
def test_plain_venv_command_lines_are_read_without_click(args: list[str]) -> None:
    params = parse(args, VENV)
    assert params is not None
    assert as_click_gives(params, VENV) == click_params(venv, args)
    assert isinstance(params["path"], str)  # the venv command imports no pathlib


@pytest.mark.parametrize(
    "text",
    ["", ".", "/", "//", "///", "a", "a/", "./a", "a/./b", "a//b", "//a/b/", "///a", "../a/..",
     "a/.../b", "a/.b/", "/./", ".//.", "é/ü", " a / b "],
)  # fmt: skip
def test_path_text_spells_paths_as_pathlib(text: str) -> None:
    assert path_text(text) == str(PurePosixPath(text))


@given(st.text(alphabet="/.ab", max_size=12))
def test_path_text_spells_any_path_as_pathlib(text: str) -> None:
    assert path_text(text) == str(PurePosixPath(text))


def test_the_benchmark_install_line_is_read_without_click() -> None:
    args = [
        "--cache-dir", "/c", "--python", "/e/bin/python", "--index-url", "http://127.0.0.1:1/simple",
        "--find-links", "/w", "-r", "stack.txt",
    ]  # fmt: skip
    params = parse(args, PIP_INSTALL)
    assert params is not None
    assert params == click_params(install_command, args)
    assert params["requirement_files"] == (Path("stack.txt"),)
    assert params["link_mode"] == "hardlink"


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["-pX"],
        ["--python", "a", "-p", "b"],  # given twice
        ["a", "b"],  # two paths
        ["--", "a"],
        ["--python"],  # no value
        ["--python", ""],
        ["--seed=yes"],
        ["--unknown"],
    ],
)
def test_uncertain_venv_command_lines_are_left_to_click(args: list[str]) -> None:
    assert parse(args, VENV) is None


@pytest.mark.parametrize(
    ("argv", "environ", "fast"),
    [
        (["venv", "e"], {}, True),
        (["pip", "install", "x"], {}, True),
        (["-v", "venv", "e"], {}, False),  # a group option: click's
        (["venv", "--help"], {}, False),
        (["pip", "sync", "r.txt"], {}, False),
        (["pip", "compile", "r.in"], {}, True),  # see test_fast_cli_compile_parse
        (["solve", "--json", "a.toml", "b"], {}, True),
        (["solve", "--json"], {}, False),  # no scenario: click's error
        (["solve", "a.toml", "--solver", "SAT"], {}, False),  # not a choice
        (["venv", "e"], {"_RESOLVENT_COMPLETE": "bash_complete"}, False),
        ([], {}, False),
    ],
)
def test_only_plain_venv_install_compile_and_solve_lines_run_without_click(
    argv: list[str], environ: dict[str, str], *, fast: bool
) -> None:
    assert (fast_command(argv, environ) is not None) is fast
