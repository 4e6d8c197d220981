"""The click-free reader of ``resolvent venv`` and ``pip install`` agrees with click.

:mod:`resolvent.cli._fast` reads the command lines a warm install runs without importing
click. Whatever it accepts must mean exactly what click makes of it (the same
parameters, converted the same way); whatever it is not sure of it leaves to click. Its
tables of options must name every option of the click commands, with the same kind,
type and default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvent.cli._fast import PIP_INSTALL, VENV, Spec, fast_command, parse
from resolvent.cli.pip_env import install_command
from resolvent.cli.venv import venv

COMMANDS = [(VENV, venv), (PIP_INSTALL, install_command)]


def _click_params(command: click.Command, args: list[str]) -> dict[str, Any] | None:
    """What click passes to ``command``'s function for ``args`` (``None``: click refuses)."""
    try:
        ctx = command.make_context(command.name or "", list(args))
    except click.exceptions.Exit:  # --help
        return None
    except click.UsageError:
        return None
    return dict(ctx.params)


@pytest.mark.parametrize(("spec", "command"), COMMANDS, ids=["venv", "pip install"])
def test_the_tables_describe_the_click_commands(spec: Spec, command: click.Command) -> None:
    options = {o.name: o for o in spec.options.values()}
    described: set[str] = set()
    for param in command.params:
        assert param.name is not None
        if isinstance(param, click.Argument):
            assert param.name == spec.positional
            assert (param.nargs == -1) is spec.many
            assert isinstance(param.type, click.Path) is spec.positional_path
            if isinstance(param.type, click.Path):
                _assert_default_path_type(param.type)
            if not spec.many:
                assert param.default == spec.positional_default
            continue
        assert isinstance(param, click.Option)
        if param.name == "help":
            continue
        option = options[param.name]
        described.add(param.name)
        assert set(option.spellings) == {*param.opts, *param.secondary_opts}
        kind = "flag" if param.is_flag else "multiple" if param.multiple else "value"
        assert option.kind == kind
        if isinstance(param.type, click.Choice):
            assert option.convert == tuple(param.type.choices)
        elif isinstance(param.type, click.Path):
            assert option.convert == "path"
            _assert_default_path_type(param.type)
        elif not param.is_flag:
            assert param.type is click.STRING
            assert option.convert == "str"
        if kind == "value":
            assert param.default == option.default
        assert not param.envvar
    assert described == set(options)


def _assert_default_path_type(path_type: click.Path) -> None:
    """The reader checks paths as ``click.Path()`` with its defaults does, and only so."""
    assert (path_type.exists, path_type.readable, path_type.writable) == (False, True, False)
    assert (path_type.file_okay, path_type.dir_okay) == (True, True)
    assert not path_type.executable
    assert not path_type.resolve_path
    assert not path_type.allow_dash


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
    """click refuses a path that exists but cannot be read: the reader must not accept it.

    The tests may run as root, for whom every file is readable: ``os.access`` says no
    for the one path instead (click asks it too).
    """
    import os  # noqa: PLC0415

    unreadable = tmp_path / "unreadable"
    unreadable.write_text("x\n")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: real(p, mode) and str(p) != str(unreadable))
    argv = [a.replace("{path}", str(unreadable)) for a in args]
    assert _click_params(command, argv) is None
    assert parse(argv, spec) is None
    readable = [a.replace("{path}", str(tmp_path / "absent")) for a in args]
    assert parse(readable, spec) == _click_params(command, readable)  # absent: both accept


def _argv(spec: Spec) -> st.SearchStrategy[list[str]]:
    """Command lines of the command's options and some that are not, in any order."""
    words = st.sampled_from(["a", "b.txt", "x/y", "hardlink", "copy", "lowest", "3.11", "é"])
    tokens: list[st.SearchStrategy[list[str]]] = [st.builds(lambda w: [w], words)]
    for spelling, option in spec.options.items():
        if option.kind == "flag":
            tokens.append(st.just([spelling]))
            continue
        values = words if isinstance(option.convert, str) else st.sampled_from(option.convert)
        tokens.append(st.builds(lambda v, s=spelling: [s, v], values))
        if spelling.startswith("--"):
            tokens.append(st.builds(lambda v, s=spelling: [f"{s}={v}"], values))
    odd = st.sampled_from(
        [["--help"], ["-h"], ["--"], ["-"], [""], ["-pX"], ["--seed=1"], ["--nope"], ["-qq"],
         ["--link-mode", "bogus"], ["--resolution=best"], ["-r"], ["--python", "-q"]]
    )  # fmt: skip
    tokens.append(odd)
    return st.lists(st.one_of(tokens), max_size=8).map(
        lambda parts: [token for part in parts for token in part]
    )


@pytest.mark.parametrize(("spec", "command"), COMMANDS, ids=["venv", "pip install"])
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_what_the_fast_reader_accepts_click_reads_the_same(
    spec: Spec, command: click.Command, data: st.DataObject
) -> None:
    args = data.draw(_argv(spec))
    fast = parse(args, spec)
    if fast is None:
        return  # left to click
    assert fast == _click_params(command, args)


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
    assert params == _click_params(venv, args)
    assert isinstance(params["path"], Path)


def test_the_benchmark_install_line_is_read_without_click() -> None:
    args = [
        "--cache-dir", "/c", "--python", "/e/bin/python", "--index-url", "http://127.0.0.1:1/simple",
        "--find-links", "/w", "-r", "stack.txt",
    ]  # fmt: skip
    params = parse(args, PIP_INSTALL)
    assert params is not None
    assert params == _click_params(install_command, args)
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
        (["pip", "compile", "r.in"], {}, False),
        (["venv", "e"], {"_RESOLVENT_COMPLETE": "bash_complete"}, False),
        ([], {}, False),
    ],
)
def test_only_plain_venv_and_install_lines_run_without_click(
    argv: list[str], environ: dict[str, str], *, fast: bool
) -> None:
    assert (fast_command(argv, environ) is not None) is fast
