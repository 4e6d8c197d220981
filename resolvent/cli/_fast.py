"""Command lines run without click: ``venv``, ``pip install``, ``pip compile``, ``solve``.

Importing click (and what it imports: ``inspect``, ``datetime``, ``uuid``,
``platform``...) was a fifth of the instructions of ``resolvent venv`` (45 of 220
million), which otherwise reads a cached answer and writes a dozen files, and 3% of a
warm ``pip install`` of seed-ml (30 of 935 million), and a tenth of a warm offline
``pip compile`` of one pinned package (46 of 460 million); the scenario CLI
(``resolvent solve``) is started once per scenario file by the checks that use it. So
:func:`run <resolvent.cli.run>` (the program's entry point) first offers the command
line to :func:`fast_command`: a command line made only of arguments whose meaning is
certain is run directly; anything else (``--help``, a typo, an option given twice, a
value click would refuse, ``--``, ``-v`` before the command, an option glued to its
value as ``-pX``, an empty or dash-led value, an option's environment variable set,
shell completion) returns ``None`` and goes through click, which decides and words any
error as always. What the command then does is the same code either way
(:mod:`resolvent.cli._venv_run`, :mod:`resolvent.cli._install_run`,
:mod:`resolvent.cli._compile_run`, :mod:`resolvent.cli._solve_run`).

:data:`VENV`, :data:`PIP_INSTALL`, :data:`PIP_COMPILE` and :data:`SOLVE` describe the
commands' parameters; a test checks them against the click commands, so they cannot drift apart.
"""

from __future__ import annotations

import sys

from resolvent import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, Final

__all__ = [
    "PIP_COMPILE",
    "PIP_INSTALL",
    "SOLVE",
    "VENV",
    "Option",
    "Spec",
    "fast_command",
    "parse",
]


class Option:
    """One option: its spellings, the parameter it sets, and how.

    ``kind``: ``"flag"`` (``True`` when given, else ``False``), ``"value"`` (the value
    given once, else ``default``) or ``"multiple"`` (every value given, in order, as a
    tuple; ``()`` when none). ``convert``: ``"str"``, ``"path"`` (a
    :class:`~pathlib.Path`) or the tuple of accepted choices.

    ``envvar``: the environment variable click reads the value from when the option is
    not given; the reader leaves such a command line to click when the variable is set
    (click's rules for an empty or odd value are its own).
    """

    __slots__ = ("convert", "default", "envvar", "kind", "name", "spellings")

    def __init__(  # noqa: PLR0917 - a table row
        self,
        name: str,
        spellings: tuple[str, ...],
        kind: str = "value",
        convert: str | tuple[str, ...] = "str",
        default: str | None = None,
        envvar: str | None = None,
    ) -> None:
        self.name: Final = name
        self.spellings: Final = spellings
        self.kind: Final = kind
        self.convert: Final = convert
        self.default: Final = default
        self.envvar: Final = envvar


class Spec:
    """A command's parameters: its options and its positional arguments.

    ``positional`` names the parameter of the arguments; ``many`` says whether it takes
    any number (a tuple, ``nargs=-1``) or at most one (``positional_default`` when
    absent); ``positional_path`` makes them paths (each one, when ``many``);
    ``positional_required`` says that at least one must be given (else click's error).
    ``rows`` are the options, ``options`` the same by spelling. ``path_text`` gives
    every path as its text, ``str(Path(value))`` (see :func:`path_text`), not a
    :class:`~pathlib.Path`: for a command that can take either and imports no
    ``pathlib`` (``venv``).
    """

    __slots__ = (
        "many",
        "options",
        "path_text",
        "positional",
        "positional_default",
        "positional_path",
        "positional_required",
        "rows",
    )

    def __init__(
        self,
        options: tuple[Option, ...],
        positional: str,
        *,
        many: bool,
        positional_path: bool = False,
        positional_default: str | None = None,
        positional_required: bool = False,
        path_text: bool = False,
    ) -> None:
        self.rows: Final = options
        self.options: Final = {
            spelling: option for option in options for spelling in option.spellings
        }
        self.positional: Final = positional
        self.many: Final = many
        self.positional_path: Final = positional_path
        self.positional_default: Final = positional_default
        self.positional_required: Final = positional_required
        self.path_text: Final = path_text


def _flag(name: str, *spellings: str) -> Option:
    return Option(name, spellings, "flag")


def _many(name: str, *spellings: str, convert: str = "str") -> Option:
    return Option(name, spellings, "multiple", convert)


#: ``resolvent venv`` (:mod:`resolvent.cli.venv`); its paths are text (``pathlib``, with
#: what it imports, was a quarter of the command's 20 ms).
VENV: Final = Spec(
    (
        Option("python", ("-p", "--python")),
        _flag("seed", "--seed"),
        Option("prompt", ("--prompt",)),
        _flag("clear", "--clear"),
        _flag("system_site_packages", "--system-site-packages"),
        Option("cache_dir", ("--cache-dir",), convert="path"),
        _flag("quiet", "-q", "--quiet"),
    ),
    "path",
    many=False,
    positional_path=True,
    positional_default=".venv",
    path_text=True,
)

#: The choices of ``--resolution``, ``--prerelease`` and ``--solver``.
_RESOLUTIONS: Final = ("highest", "lowest", "lowest-direct")
_PRERELEASES: Final = ("disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit")
_SOLVERS: Final = ("auto", "pubgrub", "sat", "both")

#: What ``pip install`` and ``pip compile`` both take, under the same names: how to
#: resolve (:func:`resolvent.cli._options.resolution_options`) and where from.
_SHARED: Final = (
    Option("resolution", ("--resolution",), convert=_RESOLUTIONS, default="highest"),
    Option("prerelease", ("--prerelease",), convert=_PRERELEASES),
    _flag("pre", "--pre"),
    _flag("upgrade", "-U", "--upgrade"),
    _many("upgrade_packages", "-P", "--upgrade-package"),
    Option("exclude_newer", ("--exclude-newer",)),
    _flag("no_deps", "--no-deps"),
    Option("index_url", ("-i", "--index-url")),
    _many("extra_index_urls", "--extra-index-url"),
    _many("find_links", "-f", "--find-links"),
    _flag("no_index", "--no-index"),
    Option("index_strategy", ("--index-strategy",), convert=("first-index", "unsafe-best-match")),
    _flag("offline", "--offline"),
    _flag("refresh", "--refresh"),
    Option("cache_dir", ("--cache-dir",), convert="path"),
    _flag("no_build_flag", "--no-build"),
    _many("only_binary", "--only-binary"),
    _many("no_binary", "--no-binary"),
    _flag("quiet", "-q", "--quiet"),
)

#: ``resolvent pip install`` (:mod:`resolvent.cli.pip_env`).
PIP_INSTALL: Final = Spec(
    (
        *_SHARED,
        _many("requirement_files", "-r", "--requirement", convert="path"),
        _many("editables", "-e", "--editable"),
        _many("constraint_files", "-c", "--constraint", convert="path"),
        _many("override_files", "--override", convert="path"),
        _flag("system", "--system"),
        Option("python", ("-p", "--python")),
        Option(
            "link_mode",
            ("--link-mode",),
            convert=("hardlink", "reflink", "symlink", "copy"),
            default="hardlink",
        ),
        _flag("compile_bytecode", "--compile-bytecode"),
        _flag("reinstall", "--reinstall"),
        _many("reinstall_packages", "--reinstall-package"),
        _flag("require_hashes", "--require-hashes"),
        _flag("dry_run", "--dry-run"),
        _flag("break_system_packages", "--break-system-packages"),
    ),
    "packages",
    many=True,
)

#: ``resolvent pip compile`` (:mod:`resolvent.cli.pip`).
PIP_COMPILE: Final = Spec(
    (
        *_SHARED,
        Option("output_file", ("-o", "--output-file"), convert="path"),
        _many("constraints", "-c", "--constraint", convert="path"),
        _many("overrides", "--override", convert="path"),
        _many("extras", "--extra"),
        _flag("all_extras", "--all-extras"),
        _flag("generate_hashes", "--generate-hashes"),
        _flag("no_annotate", "--no-annotate"),
        Option(
            "annotation_style", ("--annotation-style",), convert=("split", "line"), default="split"
        ),
        _flag("no_header", "--no-header"),
        Option(
            "custom_compile_command",
            ("--custom-compile-command",),
            envvar="RESOLVENT_CUSTOM_COMPILE_COMMAND",
        ),
        _many("no_emit_packages", "--no-emit-package"),
        _flag("emit_index_url", "--emit-index-url"),
        _flag("emit_find_links", "--emit-find-links"),
        Option("solver", ("--solver",), convert=_SOLVERS, default="auto"),
        _flag("optimal", "--optimal"),
        Option("python_version", ("--python-version",)),
        Option("python_platform", ("--python-platform",)),
    ),
    "src_files",
    many=True,
    positional_path=True,
)

#: ``resolvent solve`` (:mod:`resolvent.cli.solve`), the scenario CLI.
SOLVE: Final = Spec(
    (
        Option("solver", ("--solver",), convert=_SOLVERS, default="auto"),
        _flag("optimal", "--optimal"),
        _flag("as_json", "--json"),
        Option("python_version", ("--python-version",)),
        Option("python_platform", ("--python-platform",)),
    ),
    "scenarios",
    many=True,
    positional_required=True,
)


#: The commands read here: their words, their table, and the function (in a module of
#: its own, imported only to run it) that both this reader and click call.
_COMMANDS: Final = (
    (("venv",), VENV, "resolvent.cli._venv_run", "create_venv_command"),
    (("pip", "install"), PIP_INSTALL, "resolvent.cli._install_run", "install_command"),
    (("pip", "compile"), PIP_COMPILE, "resolvent.cli._compile_run", "compile_command"),
    (("solve",), SOLVE, "resolvent.cli._solve_run", "solve_command"),
)


def _converted(option: Option, value: str, *, text: bool) -> object:
    """Return ``value`` as ``option`` takes it; ``None`` when click would refuse it.

    ``text``: a path is given as its text (see :attr:`Spec.path_text`).
    """
    convert = option.convert
    if convert == "str":
        return value
    if convert == "path":
        return _path(value, text=text)
    return value if value in convert else None


def _path(value: str, *, text: bool = False) -> object:
    """Return ``value`` as ``click.Path()`` takes it; ``None`` when click would refuse it.

    With its defaults (the only ones the commands use, which a test holds) a path need
    not exist, but one that exists must be readable: ``-r`` naming a file without read
    permission is click's usage error, not the command's. ``text``: return
    ``str(Path(value))``, made without :mod:`pathlib` (see :func:`path_text`).
    """
    import os  # noqa: PLC0415 -- imported by every command anyway

    if text:
        path: str | os.PathLike[str] = path_text(value)
    else:
        from pathlib import Path  # noqa: PLC0415 -- see os

        path = Path(value)
    try:
        os.stat(path)  # noqa: PTH116 -- what ``Path.stat()`` does
    except OSError:
        return path  # absent (or not reachable): click lets the command say so
    return path if os.access(value, os.R_OK) else None


def path_text(value: str) -> str:
    """Return ``str(PurePosixPath(value))`` without importing :mod:`pathlib`.

    ``pathlib`` spells a path without its empty and ``.`` parts (``a//./b/`` is
    ``a/b``, ``""`` is ``.``) and keeps ``..``; a leading ``//``, exactly two slashes,
    stays (POSIX leaves its meaning to the system). The command line is read so only on
    POSIX (see :func:`fast_command`); a test compares it with ``pathlib`` itself.

    >>> path_text("a//./b/"), path_text(""), path_text("//x/../y"), path_text("///z")
    ('a/b', '.', '//x/../y', '/z')
    """
    root = ""
    if value.startswith("/"):
        root = "//" if value.startswith("//") and not value.startswith("///") else "/"
    parts = [part for part in value.split("/") if part and part != "."]
    return root + "/".join(parts) if root or parts else "."


def parse(
    args: Sequence[str], spec: Spec, environ: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """Read a command's arguments as click would, or return ``None`` if not certain.

    Returns the parameters by name, as click passes them to the command's function.
    ``environ`` (default: none set) is where click would look for an option's
    environment variable.
    """
    found: dict[str, Any] = {}
    positionals: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        position += 1
        if not arg or arg == "-":
            return None
        if arg[0] != "-":
            if positionals and not spec.many:
                return None  # a second argument: click's error
            positionals.append(arg)
            continue
        name, equals, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        option = spec.options.get(name)
        if option is None or (equals and option.kind == "flag"):
            return None  # not an option of the command (or --help, or --flag=x)
        if option.kind == "flag":
            given: object = True
        else:
            if not equals:
                if position == len(args):
                    return None  # no value: click's error
                value = args[position]
                position += 1
            if not value or value.startswith("-"):
                return None
            given = _converted(option, value, text=spec.path_text)
            if given is None:
                return None  # click would refuse it (not a choice, an unreadable path)
        if option.kind == "multiple":
            found.setdefault(option.name, []).append(given)
        elif option.name in found:
            return None  # given twice (the last wins in click, but a typo is likelier)
        else:
            found[option.name] = given
    if spec.positional_required and not positionals:
        return None  # click's "missing argument" error
    params: dict[str, Any] = {}
    for option in spec.rows:
        if option.kind == "flag":
            params[option.name] = found.get(option.name, False)
        elif option.kind == "multiple":
            params[option.name] = tuple(found.get(option.name, ()))
        elif option.envvar and option.name not in found and option.envvar in (environ or {}):
            return None  # click reads the variable, by its own rules
        else:
            params[option.name] = found.get(option.name, option.default)
    if spec.many:
        if spec.positional_path:
            paths = [_path(text, text=spec.path_text) for text in positionals]
            if None in paths:
                return None
            params[spec.positional] = tuple(paths)
        else:
            params[spec.positional] = tuple(positionals)
    else:
        text = positionals[0] if positionals else spec.positional_default
        if text is not None and spec.positional_path:
            path = _path(text, text=spec.path_text)
            if path is None:
                return None
            params[spec.positional] = path
        else:
            params[spec.positional] = text
    return params


def fast_command(argv: Sequence[str], environ: Mapping[str, str]) -> Callable[[], None] | None:
    """Return the command ``argv`` (the program's arguments) runs, if it needs no click.

    ``None``: let click read the command line. ``environ`` is checked for click's
    shell-completion variable (completion is click's), and Windows is left to click,
    which expands wildcards in the arguments there.
    """
    if "_RESOLVENT_COMPLETE" in environ or sys.platform == "win32":
        return None
    for words, spec, module, function in _COMMANDS:
        if tuple(argv[: len(words)]) == words:
            params = parse(argv[len(words) :], spec, environ)
            return None if params is None else _runner(module, function, params)
    return None


def _runner(module: str, function: str, params: dict[str, Any]) -> Callable[[], None]:
    """Return a call of ``module.function(**params)``, the module imported only then."""

    def command() -> None:
        getattr(__import__(module, fromlist=[function]), function)(**params)

    return command
