"""Requirement inputs: requirements files, ``pyproject.toml`` and ``setup.cfg``, read alike.

``resolvent pip compile`` accepts the same inputs as uv's: requirements files
(``.in``, ``.txt``), a ``pyproject.toml`` (``[project]`` dependencies and the chosen
optional-dependency groups) and a declarative ``setup.cfg`` (``install_requires`` and
``extras_require``). Every input becomes :class:`RequirementLine` values labelled with
their source, so ``# via -r FILE`` can name it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from resolvent.errors import BadInputError
from resolvent.project.requirements_txt import (
    ProjectInput,
    RequirementLine,
    RequirementsFile,
    parse_requirements_file,
    parse_requirements_text,
)
from resolvent.requirement_parsing import parse_requirement

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

__all__ = ["read_input", "read_inputs", "read_listed"]


def _requirement(text: str, source: str) -> Requirement:
    try:
        return parse_requirement(text)
    except InvalidRequirement as error:
        first = str(error).splitlines()[0]
        raise BadInputError(f"`{source}`: invalid requirement `{text}`: {first}") from None


def _read_pyproject(path: Path, extras: Sequence[str], *, all_extras: bool) -> RequirementsFile:
    import tomllib  # noqa: PLC0415 - only pyproject inputs need it; keeps start-up lean

    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise BadInputError(f"cannot read `{source}` ({error.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as error:
        raise BadInputError(f"`{source}` is not valid TOML: {error}") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise BadInputError(f"`{source}` nests arrays or tables too deeply") from None
    project = data.get("project")
    if not isinstance(project, dict):
        raise BadInputError(f"`{source}` has no `[project]` table")
    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list) or not all(isinstance(d, str) for d in dynamic):
        raise BadInputError(f"`{source}`: `project.dynamic` must be a list of strings")
    if "dependencies" in dynamic or ("optional-dependencies" in dynamic and (extras or all_extras)):
        # Only the build backend knows them: read from the project's built metadata.
        project_input = ProjectInput(path.parent, source, tuple(extras), all_extras)
        return RequirementsFile(projects=[project_input])
    result = RequirementsFile()
    deps = project.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise BadInputError(f"`{source}`: `project.dependencies` must be a list of strings")
    result.requirements.extend(RequirementLine(_requirement(d, source), source, 0) for d in deps)
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise BadInputError(f"`{source}`: `project.optional-dependencies` must be a table")
    groups = {canonicalize_name(k): v for k, v in optional.items()}
    wanted = list(groups) if all_extras else [canonicalize_name(e) for e in extras]
    for extra in wanted:
        if extra not in groups:
            raise BadInputError(f"`{source}` has no optional dependencies named `{extra}`")
        items = groups[extra]
        if not isinstance(items, list) or not all(isinstance(d, str) for d in items):
            raise BadInputError(f"`{source}`: extra `{extra}` must be a list of strings")
        result.requirements.extend(
            RequirementLine(_requirement(d, source), source, 0) for d in items
        )
    return result


def _read_setup_cfg(path: Path, extras: Sequence[str], *, all_extras: bool) -> RequirementsFile:
    import configparser  # noqa: PLC0415 - only setup.cfg inputs need it

    source = str(path)
    parser = configparser.ConfigParser()
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source)
        # Values are interpolated as setuptools reads them (`%%` is `%`), so a lone `%`
        # fails here, as it fails setuptools.
        install_requires = parser.get("options", "install_requires", fallback="")
        groups = (
            {canonicalize_name(k): v for k, v in parser.items("options.extras_require")}
            if parser.has_section("options.extras_require")
            else None
        )
    except (OSError, UnicodeDecodeError, configparser.Error) as error:
        first = str(error).splitlines()[0]
        raise BadInputError(f"cannot read `{source}`: {first}") from None
    result = RequirementsFile()

    def lines(text: str) -> Iterable[str]:
        return (
            line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
        )

    for line in lines(install_requires):
        result.requirements.append(RequirementLine(_requirement(line, source), source, 0))
    if groups is not None:
        wanted = list(groups) if all_extras else [canonicalize_name(e) for e in extras]
        for extra in wanted:
            if extra not in groups:
                raise BadInputError(f"`{source}` has no extra named `{extra}`")
            for line in lines(groups[extra]):
                result.requirements.append(RequirementLine(_requirement(line, source), source, 0))
    elif extras:
        raise BadInputError(f"`{source}` has no extras")
    return result


def read_input(
    path: Path, extras: Sequence[str] = (), *, all_extras: bool = False
) -> RequirementsFile:
    """Read one input file of any supported kind.

    :raises BadInputError: when it cannot be read or understood, or names an extra
        that does not exist.
    """
    if path.name == "pyproject.toml":
        return _read_pyproject(path, extras, all_extras=all_extras)
    if path.name == "setup.cfg":
        return _read_setup_cfg(path, extras, all_extras=all_extras)
    if path.name == "setup.py":
        if not path.is_file():
            raise BadInputError(f"`{path}` does not exist")
        # A setup script's requirements are known only by running it: built metadata.
        project_input = ProjectInput(path.parent, str(path), tuple(extras), all_extras)
        return RequirementsFile(projects=[project_input])
    if extras or all_extras:
        raise BadInputError(f"extras only apply to `pyproject.toml` or `setup.cfg`, not `{path}`")
    if str(path) == "-":
        import sys  # noqa: PLC0415

        return parse_requirements_text(sys.stdin.read(), "-")
    return parse_requirements_file(path)


def read_listed(path: Path, what: str) -> list[RequirementLine]:
    """Read the requirements an input lists, for a use that needs them listed.

    Constraints, overrides and ``uninstall -r`` take what a file names; a setup script or
    a ``pyproject.toml`` with dynamic dependencies names nothing until it is built.

    :param what: the use, for the message (``constraints``, ``overrides``).
    :raises BadInputError: the input's requirements are only known by building it.
    """
    part = read_input(path)
    if part.projects:
        raise BadInputError(
            f"`{path}` cannot give {what}: its requirements are only known by building it"
        )
    return part.requirements


def read_inputs(
    paths: Sequence[Path], extras: Sequence[str] = (), *, all_extras: bool = False
) -> RequirementsFile:
    """Read and merge several inputs, keeping each requirement's source."""
    merged = RequirementsFile()
    for path in paths:
        merged.merge(read_input(path, extras, all_extras=all_extras))
    return merged
