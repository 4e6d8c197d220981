"""What the click-free command-line reader's tests share (:mod:`resolvent.cli._fast`).

The reader must take exactly what click takes: its tables are checked against the click
commands' parameters, and random command lines are read by both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pytest
from hypothesis import strategies as st

from resolvent.cli._fast import parse

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from resolvent.cli._fast import Spec

__all__ = [
    "argv_strategy",
    "as_click_gives",
    "check_table",
    "check_unreadable_path_is_left_to_click",
    "click_params",
]


def click_params(
    command: click.Command, args: Sequence[str], environ: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """What click passes to ``command``'s function for ``args`` (``None``: click refuses).

    The environment variables the command's options read are those of ``environ``
    (none by default), not the machine's.
    """
    with pytest.MonkeyPatch.context() as patch:
        for param in command.params:
            for name in [param.envvar] if isinstance(param.envvar, str) else param.envvar or []:
                patch.delenv(name, raising=False)
        for key, value in (environ or {}).items():
            patch.setenv(key, value)
        try:
            ctx = command.make_context(command.name or "", list(args))
        except click.exceptions.Exit:  # --help
            return None
        except click.UsageError:
            return None
    return dict(ctx.params)


def as_click_gives(params: dict[str, Any] | None, spec: Spec) -> dict[str, Any] | None:
    """``params`` (the reader's) with each path it gives as text made a ``Path``, as click's.

    A command whose paths the reader gives as text (``Spec.path_text``) prints them: the
    text must be the path as ``str(Path(...))`` spells it.
    """
    if params is None or not spec.path_text:
        return params
    names = {option.name for option in spec.rows if option.convert == "path"}
    if spec.positional_path:
        names.add(spec.positional)
    converted = dict(params)
    for name in names:
        value = params[name]
        many = isinstance(value, tuple)
        texts = value if many else () if value is None else (value,)
        for text in texts:
            assert isinstance(text, str)
            assert str(Path(text)) == text
        if value is not None:
            converted[name] = tuple(map(Path, texts)) if many else Path(value)
    return converted


def check_table(spec: Spec, command: click.Command) -> None:
    """Assert that ``spec`` names every option of ``command``, as click reads it."""
    options = {o.name: o for o in spec.rows}
    # What click passes for an option not given (resilient: a required argument missing).
    defaults = command.make_context(command.name or "", [], resilient_parsing=True).params
    described: set[str] = set()
    for param in command.params:
        assert param.name is not None
        assert not param.callback
        assert param.expose_value
        if isinstance(param, click.Argument):
            assert param.name == spec.positional
            assert (param.nargs == -1) is spec.many
            assert isinstance(param.type, click.Path) is spec.positional_path
            if isinstance(param.type, click.Path):
                _check_default_path_type(param.type)
            if spec.many:
                assert param.required is spec.positional_required
            else:
                assert param.default == spec.positional_default
            continue
        assert isinstance(param, click.Option)
        if param.name == "help":
            continue
        option = options[param.name]
        described.add(param.name)
        assert set(option.spellings) == {*param.opts, *param.secondary_opts}
        kind = "flag" if param.is_flag else "multiple" if param.multiple else "value"
        assert option.kind == kind, param.name
        if isinstance(param.type, click.Choice):
            assert option.convert == tuple(param.type.choices)
            assert param.type.case_sensitive  # exact spellings only
        elif isinstance(param.type, click.Path):
            assert option.convert == "path"
            _check_default_path_type(param.type)
        elif not param.is_flag:
            assert param.type is click.STRING
            assert option.convert == "str"
        if kind == "value":
            assert defaults[param.name] == option.default
        elif kind == "flag":
            assert defaults[param.name] is False
        assert param.envvar == option.envvar
    assert described == set(options)


def _check_default_path_type(path_type: click.Path) -> None:
    """The reader checks paths as ``click.Path(path_type=Path)`` with its defaults does."""
    assert (path_type.exists, path_type.readable, path_type.writable) == (False, True, False)
    assert (path_type.file_okay, path_type.dir_okay) == (True, True)
    assert not path_type.executable
    assert not path_type.resolve_path
    assert not path_type.allow_dash
    assert path_type.type is Path


def check_unreadable_path_is_left_to_click(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spec: Spec,
    command: click.Command,
    args: Sequence[str],
) -> None:
    """click refuses a path that exists but cannot be read: the reader must not accept it.

    ``{path}`` in ``args`` stands for the path. The tests may run as root, for whom every
    file is readable: ``os.access`` says no for the one path instead (click asks it too).
    An absent path is accepted by both.
    """
    unreadable = tmp_path / "unreadable"
    unreadable.write_text("x\n")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: real(p, mode) and str(p) != str(unreadable))
    argv = [a.replace("{path}", str(unreadable)) for a in args]
    assert click_params(command, argv) is None
    assert parse(argv, spec, {}) is None
    absent = [a.replace("{path}", str(tmp_path / "absent")) for a in args]
    assert as_click_gives(parse(absent, spec, {}), spec) == click_params(command, absent)


def argv_strategy(
    spec: Spec, words: Sequence[str], odd: Sequence[list[str]], max_size: int
) -> st.SearchStrategy[list[str]]:
    """Command lines of the command's options, ``words`` and ``odd`` ones, in any order."""
    word = st.sampled_from(list(words))
    tokens: list[st.SearchStrategy[list[str]]] = [st.builds(lambda w: [w], word)]
    for spelling, option in spec.options.items():
        if option.kind == "flag":
            tokens.append(st.just([spelling]))
            continue
        values = word if isinstance(option.convert, str) else st.sampled_from(option.convert)
        tokens.append(st.builds(lambda v, s=spelling: [s, v], values))
        if spelling.startswith("--"):
            tokens.append(st.builds(lambda v, s=spelling: [f"{s}={v}"], values))
    tokens.append(st.sampled_from(list(odd)))
    return st.lists(st.one_of(tokens), max_size=max_size).map(
        lambda parts: [token for part in parts for token in part]
    )
