"""A tool adapter knows how to install one package manager and how to drive it naturally.

Each tool lives in its own environment under ``bench/.work/tools/<tool>``, installed by
the harness at the pinned version below (uv, poetry, pdm, pip-tools and py-rattler from
the package index into a fresh venv; pip is the one the interpreter ships, through
``python -m venv``; resolvent is this checkout). For a measurement the adapter returns a
:class:`Plan`: the commands to time (each tool's natural command: ``python -m venv`` +
``pip install -r``; ``poetry install`` in a throwaway project; ``uv venv`` + ``uv pip
install -r``; ``pdm install``; ``resolvent venv`` + ``resolvent pip install -r``; a
rattler solve + install), the environment variables that point the tool's cache into a
harness-controlled folder, and the environment folder the commands create (whose
distributions the runner then checks). Files a tool needs before it starts (a
``pyproject.toml``) are written untimed, as a user would have them already.

Example::

    >>> tool = Uv(Path("bench/.work/tools/uv"))
    >>> tool.ensure()  # doctest: +SKIP
    >>> plan = tool.install_plan(context)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from bench.harness.process import Command, clean_env, run_quiet
from bench.harness.stacks import REPO

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from bench.harness.stacks import Stack

__all__ = [
    "PINS",
    "Conda",
    "Context",
    "Pdm",
    "Pip",
    "Plan",
    "Poetry",
    "Resolvent",
    "Tool",
    "ToolUnavailableError",
    "Uv",
    "all_tools",
]

#: The versions the harness installs (recorded in every result file).
PINS: dict[str, str] = {
    "uv": "0.13.9",
    "poetry": "2.5.1",
    "pdm": "2.29.4",
    "hishel": "1.4.0",
    "pip-tools": "7.6.2",
    "py-rattler": "0.28.0",
    # The rattler driver parses wheel metadata with packaging.
    "packaging": "26.4",
    # ... and writes .conda packages (zstd tarballs) with zstandard.
    "zstandard": "0.25.0",
}

_STAMP = ".bench-tool.json"
_DRIVER = REPO / "bench" / "harness" / "rattler_driver.py"


class ToolUnavailableError(RuntimeError):
    """The tool cannot run here (not installable, or missing a subcommand)."""


@dataclass(frozen=True, slots=True)
class Context:
    """Where one measurement happens: fresh folders, the cache, and what to install from.

    ``index_url`` is the local mirror (or, with ``--live``, the real index's URL read at
    run time); ``find_links`` is a local wheel folder for live runs; ``conda_channel``
    the URL of the conda channel built from the mirror's wheels.
    """

    stack: Stack
    python: Path
    workdir: Path
    cache: Path
    index_url: str
    live: bool = False
    find_links: Path | None = None
    conda_channel: str | None = None

    @property
    def python_minor(self) -> str:
        """``3.11`` for a CPython 3.11 interpreter (read from its file name or by asking)."""
        return _python_minor(self.python)


@dataclass(frozen=True, slots=True)
class Plan:
    """What one measurement runs: commands (timed together), variables, the environment."""

    commands: tuple[Command, ...]
    env: Mapping[str, str]
    environment: Path
    note: str | None = None
    keep: tuple[str, ...] = field(default=())


def _python_minor(python: Path) -> str:
    out = run_quiet([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
    return out.strip()


def _host(url: str) -> str:
    """Return ``host:port`` of a URL."""
    return urlsplit(url).netloc


def _venv_python(environment: Path) -> Path:
    return environment / "bin" / "python"


def _toml_string(value: str) -> str:
    return json.dumps(value)


def _toml_list(values: Sequence[str]) -> str:
    return "[\n" + "".join(f"    {_toml_string(v)},\n" for v in values) + "]"


class Tool(ABC):
    """One package manager: installed once into ``home``, then planned per measurement."""

    name: ClassVar[str]
    #: The row's label in the table.
    label: ClassVar[str]
    lockfile: ClassVar[bool]
    manages_python: ClassVar[bool]
    #: Packages (with pins) installed into the tool's own environment.
    packages: ClassVar[tuple[str, ...]] = ()

    def __init__(self, home: Path, *, python: Path) -> None:
        self.home = home
        self.python = python

    # ----------------------------------------------------------------- installation

    def ensure(self) -> None:
        """Install the tool into its own environment, unless the pinned one is there."""
        if not self.packages:
            return
        stamp = self.home / _STAMP
        wanted = {"packages": list(self.packages), "python": str(self.python)}
        if stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")) == wanted:
            return
        if self.home.exists():
            shutil.rmtree(self.home)
        self.home.parent.mkdir(parents=True, exist_ok=True)
        run_quiet([str(self.python), "-m", "venv", str(self.home)])
        # Installing the tool is set-up, not measurement: the machine's pip configuration
        # (its mirrors and certificates) applies as for any other install here.
        run_quiet(
            [
                str(_venv_python(self.home)),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *self.packages,
            ]
        )
        stamp.write_text(json.dumps(wanted), encoding="utf-8")

    @property
    def bin(self) -> Path:
        """The tool environment's scripts folder."""
        return self.home / "bin"

    @abstractmethod
    def version(self) -> str:
        """Return the installed tool's version (recorded in the results)."""

    def unavailable(self) -> str | None:
        """Return why the tool cannot run here, or ``None`` when it can."""
        return None

    # ----------------------------------------------------------------- measurements

    def base_env(self, ctx: Context) -> dict[str, str]:  # noqa: ARG002 - adapters use it
        """Return the clean environment plus the tool's cache settings."""
        return clean_env()

    @abstractmethod
    def install_plan(self, ctx: Context) -> Plan:
        """Return the commands that install ``ctx.stack`` into a fresh environment."""

    def resolve_plans(self, ctx: Context) -> list[tuple[str | None, Plan]]:
        """Return (variant, plan) pairs that lock ``ctx.stack`` without installing it."""
        raise ToolUnavailableError(f"{self.name} has no resolution benchmark for {ctx.stack.name}")

    def about(self) -> dict[str, object]:
        """Return what the table says about the row (label, lockfile, manages Python)."""
        return {
            "label": self.label,
            "lockfile": self.lockfile,
            "manages_python": self.manages_python,
        }


# --------------------------------------------------------------------------- pip


class Pip(Tool):
    """pip as the interpreter ships it: ``python -m venv`` seeds it, then ``pip install``."""

    name = "pip"
    label = "pip + venv"
    lockfile = False
    manages_python = False

    def version(self) -> str:
        """Return the version of the pip that ``python -m venv`` installs (ensurepip's)."""
        out = run_quiet([str(self.python), "-c", "import ensurepip; print(ensurepip.version())"])
        return out.strip()

    def base_env(self, ctx: Context) -> dict[str, str]:
        """Isolate pip from the machine's configuration files; cache in the harness."""
        return {
            **clean_env(),
            "PIP_CONFIG_FILE": "/dev/null",  # no configuration file is read at all
            "PIP_CACHE_DIR": str(ctx.cache),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
        }

    def _source_args(self, ctx: Context) -> list[str]:
        args = ["--index-url", ctx.index_url]
        if not ctx.live:
            # pip mounts a non-caching adapter on every plain-http URL unless its host is
            # trusted; the real index is https and cached, so the mirror's host is trusted.
            args += ["--trusted-host", _host(ctx.index_url)]
        if ctx.find_links is not None:
            args += ["--find-links", str(ctx.find_links)]
        return args

    def install_plan(self, ctx: Context) -> Plan:
        """``python -m venv ENV`` then ``ENV/bin/python -m pip install -r STACK``."""
        environment = ctx.workdir / "env"
        return Plan(
            commands=(
                Command((str(self.python), "-m", "venv", str(environment))),
                Command(
                    (
                        str(_venv_python(environment)),
                        "-m",
                        "pip",
                        "install",
                        *self._source_args(ctx),
                        "-r",
                        str(ctx.stack.path),
                    )
                ),
            ),
            env=self.base_env(ctx),
            environment=environment,
        )


class PipTools(Tool):
    """pip-compile (pip-tools): pip's resolver behind a lock-file command; resolution only."""

    name = "pip"
    label = "pip-compile (pip-tools)"
    lockfile = True
    manages_python = False
    packages = (f"pip-tools=={PINS['pip-tools']}",)

    def version(self) -> str:
        """Return the pinned pip-tools version."""
        return PINS["pip-tools"]

    def install_plan(self, ctx: Context) -> Plan:
        """Refuse: pip-tools is measured for resolution only."""
        raise ToolUnavailableError(f"pip-tools does not install (asked for {ctx.stack.name})")

    def resolve_plans(self, ctx: Context) -> list[tuple[str | None, Plan]]:
        """``pip-compile -o OUT STACK`` with pip's cache in the harness."""
        env = {
            **clean_env(),
            "PIP_CONFIG_FILE": "/dev/null",
            "PIP_CACHE_DIR": str(ctx.cache),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
        args = [
            str(self.bin / "pip-compile"),
            "--quiet",
            "--no-header",
            "--index-url",
            ctx.index_url,
            "--cache-dir",
            str(ctx.cache / "pip-tools"),
            "-o",
            str(ctx.workdir / "requirements.txt"),
            str(ctx.stack.path),
        ]
        return [(None, Plan((Command(tuple(args), cwd=ctx.workdir),), env, ctx.workdir))]


# --------------------------------------------------------------------------- uv


class Uv(Tool):
    """uv: ``uv venv`` then ``uv pip install -r`` (bytecode compilation off by default)."""

    name = "uv"
    label = "uv"
    lockfile = True
    manages_python = True
    packages = (f"uv=={PINS['uv']}",)

    @property
    def exe(self) -> str:
        """The uv binary in the tool environment."""
        return str(self.bin / "uv")

    def version(self) -> str:
        """Return ``uv --version``'s number."""
        return run_quiet([self.exe, "--version"]).split()[1]

    def base_env(self, ctx: Context) -> dict[str, str]:
        """Cache in the harness; no configuration files; never download a Python."""
        return {
            **clean_env(),
            "UV_CACHE_DIR": str(ctx.cache),
            "UV_NO_CONFIG": "1",
            "UV_PYTHON_DOWNLOADS": "never",
        }

    def _source_args(self, ctx: Context) -> list[str]:
        args = ["--index-url", ctx.index_url]
        if ctx.find_links is not None:
            args += ["--find-links", str(ctx.find_links)]
        return args

    def install_plan(self, ctx: Context) -> Plan:
        """``uv venv ENV --python PY`` then ``uv pip install --python ENV -r STACK``."""
        environment = ctx.workdir / "env"
        return Plan(
            commands=(
                Command((self.exe, "venv", str(environment), "--python", str(self.python))),
                Command(
                    (
                        self.exe,
                        "pip",
                        "install",
                        "--python",
                        str(_venv_python(environment)),
                        *self._source_args(ctx),
                        "-r",
                        str(ctx.stack.path),
                    )
                ),
            ),
            env=self.base_env(ctx),
            environment=environment,
        )

    def resolve_plans(self, ctx: Context) -> list[tuple[str | None, Plan]]:
        """``uv pip compile STACK -o OUT`` for the harness's interpreter."""
        args = (
            self.exe,
            "pip",
            "compile",
            "--quiet",
            "--python",
            str(self.python),
            *self._source_args(ctx),
            "-o",
            str(ctx.workdir / "requirements.txt"),
            str(ctx.stack.path),
        )
        return [(None, Plan((Command(args),), self.base_env(ctx), ctx.workdir))]


# --------------------------------------------------------------------------- poetry


class Poetry(Tool):
    """poetry: ``poetry install --no-root`` in a throwaway project (it locks first)."""

    name = "poetry"
    label = "poetry"
    lockfile = True
    manages_python = True  # `poetry python install` (2.1+)
    packages = (f"poetry=={PINS['poetry']}",)

    @property
    def exe(self) -> str:
        """The poetry script in the tool environment."""
        return str(self.bin / "poetry")

    def version(self) -> str:
        """Return the pinned poetry version."""
        return PINS["poetry"]

    def base_env(self, ctx: Context) -> dict[str, str]:
        """Cache, configuration and data in the harness; the venv inside the project."""
        return {
            **clean_env(),
            "POETRY_CACHE_DIR": str(ctx.cache),
            "POETRY_CONFIG_DIR": str(ctx.workdir / "poetry-config"),
            "POETRY_DATA_DIR": str(ctx.workdir / "poetry-data"),
            "POETRY_VIRTUALENVS_IN_PROJECT": "true",
            "POETRY_VIRTUALENVS_USE_POETRY_PYTHON": "true",
            "POETRY_NO_INTERACTION": "1",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }

    def _note(self, ctx: Context) -> str | None:
        if ctx.live:
            return (
                "poetry: the index is configured as an explicit primary source, so poetry "
                "reads its simple API (its JSON API answered 404 for some releases here)"
            )
        return None

    def _write_project(self, ctx: Context, project: Path) -> None:
        project.mkdir(parents=True, exist_ok=True)
        minor = ctx.python_minor
        lines = [
            "[project]",
            'name = "bench-project"',
            'version = "0"',
            f'requires-python = "=={minor}.*"',
            f"dependencies = {_toml_list(ctx.stack.requirements())}",
            "",
            "[tool.poetry]",
            "package-mode = false",
            "",
            # The mirror, or (live) the real index read through its simple API.
            "[[tool.poetry.source]]",
            'name = "index"',
            f"url = {_toml_string(ctx.index_url)}",
            'priority = "primary"',
            "",
        ]
        (project / "pyproject.toml").write_text("\n".join(lines), encoding="utf-8")

    def install_plan(self, ctx: Context) -> Plan:
        """``poetry install --no-root`` (lock, create ``.venv``, install) in a new project."""
        project = ctx.workdir / "project"
        self._write_project(ctx, project)
        note = self._note(ctx)
        if ctx.live and ctx.find_links is not None:
            note = "poetry cannot read a --find-links folder; it took wheels from the index"
        return Plan(
            commands=(Command((self.exe, "install", "--no-root"), cwd=project),),
            env=self.base_env(ctx),
            environment=project / ".venv",
            note=note,
        )

    def resolve_plans(self, ctx: Context) -> list[tuple[str | None, Plan]]:
        """``poetry lock`` in a new project (poetry's lock is universal)."""
        project = ctx.workdir / "project"
        self._write_project(ctx, project)
        plan = Plan(
            (Command((self.exe, "lock"), cwd=project),),
            self.base_env(ctx),
            project,
            note=self._note(ctx),
        )
        return [(None, plan)]


# --------------------------------------------------------------------------- pdm


class Pdm(Tool):
    """pdm: ``pdm install`` in a throwaway project (lock, create ``.venv``, install)."""

    name = "pdm"
    label = "pdm"
    lockfile = True
    manages_python = True  # `pdm python install`
    # pdm's own `locked` extra pins hishel 1.4.0 (hishel 2 broke pdm's cache) but also a
    # certifi release the index no longer has, so hishel is pinned here directly.
    packages = (f"pdm=={PINS['pdm']}", f"hishel[httpx2]=={PINS['hishel']}")

    @property
    def exe(self) -> str:
        """The pdm script in the tool environment."""
        return str(self.bin / "pdm")

    def version(self) -> str:
        """Return the pinned pdm version."""
        return PINS["pdm"]

    def base_env(self, ctx: Context) -> dict[str, str]:
        """Cache and configuration in the harness; the interpreter given explicitly."""
        return {
            **clean_env(),
            "PDM_CACHE_DIR": str(ctx.cache),
            "PDM_CONFIG_FILE": str(ctx.workdir / "pdm-config.toml"),
            "PDM_HOME": str(ctx.workdir / "pdm-home"),
            "PDM_CHECK_UPDATE": "false",
            "PDM_NON_INTERACTIVE": "1",
            "PDM_IGNORE_SAVED_PYTHON": "1",
            "PDM_PYTHON": str(self.python),
        }

    def _write_project(self, ctx: Context, project: Path) -> None:
        project.mkdir(parents=True, exist_ok=True)
        lines = [
            "[project]",
            'name = "bench-project"',
            'version = "0"',
            f'requires-python = "=={ctx.python_minor}.*"',
            f"dependencies = {_toml_list(ctx.stack.requirements())}",
            "",
            "[tool.pdm]",
            "distribution = false",
            "",
        ]
        if not ctx.live:
            # A source named "pypi" replaces the default index.
            lines += [
                "[[tool.pdm.source]]",
                'name = "pypi"',
                f"url = {_toml_string(ctx.index_url)}",
                "",
            ]
        elif ctx.find_links is not None:
            lines += [
                "[[tool.pdm.source]]",
                'name = "local-wheels"',
                f"url = {_toml_string(ctx.find_links.as_uri())}",
                'type = "find_links"',
                "",
            ]
        (project / "pyproject.toml").write_text("\n".join(lines), encoding="utf-8")

    def install_plan(self, ctx: Context) -> Plan:
        """``pdm install`` in a new project: it locks, makes ``.venv`` and installs."""
        project = ctx.workdir / "project"
        self._write_project(ctx, project)
        return Plan(
            commands=(Command((self.exe, "install"), cwd=project),),
            env=self.base_env(ctx),
            environment=project / ".venv",
        )

    def resolve_plans(self, ctx: Context) -> list[tuple[str | None, Plan]]:
        """``pdm lock`` in a new project."""
        project = ctx.workdir / "project"
        self._write_project(ctx, project)
        plan = Plan((Command((self.exe, "lock"), cwd=project),), self.base_env(ctx), project)
        return [(None, plan)]


# --------------------------------------------------------------------------- resolvent


class Resolvent(Tool):
    """resolvent from this checkout: ``resolvent venv`` then ``resolvent pip install -r``."""

    name = "resolvent"
    label = "resolvent"
    lockfile = True
    manages_python = False

    def _cli(self) -> list[str]:
        return [sys.executable, "-m", "resolvent"]

    def version(self) -> str:
        """Return ``resolvent --version`` plus the checkout's commit."""
        out = run_quiet([*self._cli(), "--version"]).strip().split()[-1]
        try:
            commit = run_quiet(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]).strip()
            changed = run_quiet(["git", "-C", str(REPO), "status", "--porcelain", "resolvent"])
        except (OSError, RuntimeError):
            return out
        return f"{out}+g{commit}" + (".dirty" if changed.strip() else "")

    def _has(self, *subcommand: str) -> bool:
        completed = subprocess.run(
            [*self._cli(), *subcommand, "--help"],
            capture_output=True,
            check=False,
            env=clean_env(),
        )
        return completed.returncode == 0

    def unavailable(self) -> str | None:
        """Say so when this version has no ``pip install`` or ``venv`` subcommand."""
        missing = [" ".join(sub) for sub in (("venv",), ("pip", "install")) if not self._has(*sub)]
        if missing:
            return (
                "not available in this version (no `resolvent "
                + "`, `resolvent ".join(missing)
                + "`)"
            )
        return None

    def base_env(self, ctx: Context) -> dict[str, str]:
        """Cache in the harness; no pip configuration file (resolvent reads pip's, uv not).

        The harness passes the index and find-links on the command line; a machine's
        pip.conf would otherwise add its own find-links and extra indexes to resolvent's
        work alone, as it does to pip's unless pip is told the same.
        """
        return {
            **clean_env(),
            "RESOLVENT_CACHE_DIR": str(ctx.cache),
            "PIP_CONFIG_FILE": "/dev/null",
        }

    def install_plan(self, ctx: Context) -> Plan:
        """Run ``resolvent venv ENV --python PY``, then ``resolvent pip install -r STACK``."""
        environment = ctx.workdir / "env"
        install = [
            *self._cli(),
            "pip",
            "install",
            "--cache-dir",
            str(ctx.cache),
            "--python",
            str(_venv_python(environment)),
            "--index-url",
            ctx.index_url,
        ]
        if ctx.find_links is not None:
            install += ["--find-links", str(ctx.find_links)]
        install += ["-r", str(ctx.stack.path)]
        return Plan(
            commands=(
                Command((*self._cli(), "venv", str(environment), "--python", str(self.python))),
                Command(tuple(install), env={"VIRTUAL_ENV": str(environment)}),
            ),
            env=self.base_env(ctx),
            environment=environment,
        )

    def resolve_plans(self, ctx: Context) -> list[tuple[str | None, Plan]]:
        """Run ``resolvent pip compile STACK`` once with each solver."""
        if not self._has("pip", "compile"):
            raise ToolUnavailableError("not available in this version (no `resolvent pip compile`)")
        plans: list[tuple[str | None, Plan]] = []
        for solver in ("pubgrub", "sat"):
            args = (
                *self._cli(),
                "pip",
                "compile",
                "--solver",
                solver,
                "--python-version",
                ctx.python_minor,
                "--quiet",
                "--index-url",
                ctx.index_url,
                "-o",
                str(ctx.workdir / f"requirements-{solver}.txt"),
                str(ctx.stack.path),
            )
            plans.append((solver, Plan((Command(args),), self.base_env(ctx), ctx.workdir)))
        return plans


# --------------------------------------------------------------------------- conda


class Conda(Tool):
    """The conda ecosystem via rattler: a solve and install from a local conda channel.

    conda and mamba cannot be installed from the package index here, so the row uses
    py-rattler (the Rust conda engine behind pixi) with a channel the harness builds from
    the mirror's wheels. The measured command is ``python -m venv --without-pip ENV`` and
    then one rattler solve + install into ENV (the driver is ``rattler_driver.py``): the
    channel has no ``python`` package, so the interpreter comes from venv and the row
    measures conda's solve, download, extract and link, not a Python install.
    """

    name = "conda"
    label = "conda ecosystem via rattler"
    lockfile = True  # conda-lock / pixi.lock; rattler.LockFile
    manages_python = True
    packages = (
        f"py-rattler=={PINS['py-rattler']}",
        f"packaging=={PINS['packaging']}",
        f"zstandard=={PINS['zstandard']}",
    )

    def version(self) -> str:
        """Return ``py-rattler <version>``."""
        return f"py-rattler {PINS['py-rattler']}"

    @property
    def driver(self) -> list[str]:
        """The driver's command line (the tool environment's Python and the script)."""
        return [str(_venv_python(self.home)), str(_DRIVER)]

    def base_env(self, ctx: Context) -> dict[str, str]:
        """Return the clean environment (rattler's caches are also passed as arguments)."""
        return {**clean_env(), "RATTLER_CACHE_DIR": str(ctx.cache)}

    def install_plan(self, ctx: Context) -> Plan:
        """``python -m venv --without-pip ENV`` then a rattler solve + install into it."""
        if ctx.conda_channel is None:
            raise ToolUnavailableError("no conda channel was built for this stack")
        environment = ctx.workdir / "env"
        install = (
            *self.driver,
            "install",
            "--channel",
            ctx.conda_channel,
            "--prefix",
            str(environment),
            "--cache",
            str(ctx.cache),
            *ctx.stack.requirements(),
        )
        return Plan(
            commands=(
                Command((str(self.python), "-m", "venv", "--without-pip", str(environment))),
                Command(install),
            ),
            env=self.base_env(ctx),
            environment=environment,
        )


def all_tools(work: Path, *, python: Path) -> dict[str, Tool]:
    """Return every install row's adapter, keyed by tool name, in the table's order."""
    tools: list[Tool] = [
        Pip(work / "pip", python=python),
        Poetry(work / "poetry", python=python),
        Conda(work / "conda", python=python),
        Uv(work / "uv", python=python),
        Pdm(work / "pdm", python=python),
        Resolvent(work / "resolvent", python=python),
    ]
    return {tool.name: tool for tool in tools}


def pip_tools(work: Path, *, python: Path) -> PipTools:
    """Return the pip-compile adapter (the pip row of the resolution benchmark)."""
    return PipTools(work / "pip-tools", python=python)
