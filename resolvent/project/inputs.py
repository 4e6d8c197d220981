"""Requirement inputs: requirements files, ``pyproject.toml`` and ``setup.cfg``, read alike.

``resolvent pip compile`` accepts the same inputs as uv's: requirements files
(``.in``, ``.txt``), a ``pyproject.toml`` (``[project]`` dependencies and the chosen
optional-dependency groups) and a declarative ``setup.cfg`` (``install_requires`` and
``extras_require``). Every input becomes :class:`RequirementLine` values labelled with
their source, so ``# via -r FILE`` can name it.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, cast

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidName, NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from resolvent.errors import BadInputError
from resolvent.markers import check_user_marker
from resolvent.project.requirements_txt import (
    ProjectInput,
    RequirementLine,
    RequirementsFile,
    parse_requirements_file,
    parse_requirements_stream,
)
from resolvent.requirement_parsing import parse_requirement
from resolvent.toml_text import parse_toml

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

__all__ = ["read_input", "read_inputs", "read_listed", "read_listed_input"]


def _requirement(text: str, source: str) -> Requirement:
    try:
        requirement = parse_requirement(text)
    except InvalidRequirement as error:
        first = str(error).splitlines()[0]
        raise BadInputError(f"`{source}`: invalid requirement `{text}`: {first}") from None
    if requirement.marker is not None:
        check_user_marker(requirement.marker, f"`{source}`")
    return requirement


def _check_project_name(name: object, source: str) -> NormalizedName:
    """Return a ``[project]`` table's ``name``, canonical; refuse it missing, as uv does.

    PEP 621 makes ``name`` required and never dynamic; without it, the project's
    references to itself (``all = ["p[x]"]``) cannot be told apart from other projects.

    :raises BadInputError: ``name`` is missing, not a string, or not a project name.
    """
    if name is None:
        raise BadInputError(f"`{source}`: the required `project.name` is not set")
    if not isinstance(name, str):
        raise BadInputError(f"`{source}`: `project.name` must be a string")
    try:
        return canonicalize_name(name, validate=True)
    except InvalidName:
        raise BadInputError(f"`{source}`: `project.name` `{name}` is not a valid name") from None


def _check_version_fields(project: dict[str, object], source: str) -> None:
    """Refuse a ``project.version`` or ``project.requires-python`` that does not parse.

    Neither changes what is resolved, but a table with either malformed is not a valid
    project: uv refuses to read it (``Failed to parse``), and so does every build
    backend, so accepting it here would only defer the error to the first build.

    :raises BadInputError: either field is not a string or does not parse.
    """
    for field in ("version", "requires-python"):
        value = project.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadInputError(f"`{source}`: `project.{field}` must be a string")
        try:
            if field == "version":
                Version(value)
            else:
                SpecifierSet(value)
        except (InvalidVersion, InvalidSpecifier):
            raise BadInputError(f"`{source}`: `project.{field}` `{value}` is not valid") from None


def _optional_groups(optional: dict[str, object], source: str) -> dict[NormalizedName, object]:
    """Return ``project.optional-dependencies`` by normalized extra name.

    Two keys that normalize alike (``A_b`` and ``a-B``) name one extra: merged silently,
    the later one won. uv refuses them (``duplicate normalized extra name``), as here.

    :raises BadInputError: two keys name the same extra.
    """
    groups: dict[NormalizedName, object] = {}
    for key, value in optional.items():
        extra = canonicalize_name(key)
        if extra in groups:
            raise BadInputError(
                f"`{source}`: `project.optional-dependencies` names the extra `{extra}` twice"
            )
        groups[extra] = value
    return groups


def _read_pyproject(path: Path, extras: Sequence[str], *, all_extras: bool) -> RequirementsFile:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInputError(f"cannot read `{source}` ({error.__class__.__name__})") from None
    try:
        data = parse_toml(text)
    except ValueError as error:  # malformed, a 5,000-digit integer, nested too deeply
        raise BadInputError(f"`{source}` is not valid TOML: {error}") from None
    project = data.get("project")
    if not isinstance(project, dict):
        raise BadInputError(f"`{source}` has no `[project]` table")
    own = _check_project_name(project.get("name"), source)
    _check_version_fields(project, source)
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
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise BadInputError(f"`{source}`: `project.optional-dependencies` must be a table")
    groups = _optional_groups(optional, source)
    wanted = list(groups) if all_extras else [canonicalize_name(e) for e in extras]
    for extra in wanted:
        if extra not in groups:
            raise BadInputError(f"`{source}` has no optional dependencies named `{extra}`")
    result.requirements.extend(
        RequirementLine(requirement, source, 0)
        for requirement in _own_extras_expanded(source, own, deps, groups, wanted)
    )
    return result


def _own_extras_expanded(
    source: str,
    own: NormalizedName,
    deps: list[str],
    groups: dict[NormalizedName, object],
    wanted: Sequence[NormalizedName],
) -> list[Requirement]:
    """Return a project's base requirements and those of the wanted extras, as roots.

    An extra may name the project itself (``all = ["p[test,docs]"]``, a common idiom),
    and the base list may too: the project being read is not on any index, so such a
    requirement means "these extras of mine too" (what uv does, and what
    :func:`~resolvent.project.direct.project_requirements` does for built metadata).
    Taken as a root, it sent the engines looking for ``p`` on the index and the
    resolution failed. The named extras are expanded in its place, each once, their
    requirements under its marker as well as their own.

    :raises BadInputError: a group is not a list of strings, a requirement is invalid,
        or a self-reference names an extra the project does not define.
    """
    pending: list[tuple[str, object, Marker | None]] = [("", deps, None)]
    pending += [(extra, groups[extra], None) for extra in wanted]
    seen = {(extra, "") for extra, _, _ in pending}
    found: list[Requirement] = []
    while pending:
        extra, items, outer = pending.pop(0)
        if not isinstance(items, list) or not all(isinstance(d, str) for d in items):
            raise BadInputError(f"`{source}`: extra `{extra}` must be a list of strings")
        for text in cast("list[str]", items):
            requirement = _requirement(text, source)
            if outer is not None:  # a copy: parsed requirements are shared (cached)
                inner = requirement.marker
                requirement = copy.copy(requirement)
                requirement.marker = outer if inner is None else Marker(f"({inner}) and ({outer})")
            if canonicalize_name(requirement.name) != own:
                found.append(requirement)
                continue
            for more in sorted(map(canonicalize_name, requirement.extras)):
                if more not in groups:
                    raise BadInputError(
                        f"`{source}`: `{text}` names an extra `{more}` that `{own}` does not define"
                    )
                key = (more, str(requirement.marker or ""))
                if key not in seen:
                    seen.add(key)
                    pending.append((more, groups[more], requirement.marker))
    return found


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

        return parse_requirements_stream(getattr(sys.stdin, "buffer", None), "-")
    return parse_requirements_file(path)


def read_listed(path: Path, what: str) -> list[RequirementLine]:
    """Read the requirements an input lists, for a use that needs them listed.

    Constraints, overrides and ``uninstall -r`` take what a file names; a setup script or
    a ``pyproject.toml`` with dynamic dependencies names nothing until it is built.

    :param what: the use, for the message (``constraints``, ``overrides``).
    :raises BadInputError: the input's requirements are only known by building it.
    """
    return read_listed_input(path, what).requirements


def read_listed_input(path: Path, what: str) -> RequirementsFile:
    """Read a constraints or overrides input whole: its requirements and its options.

    uv applies a constraints or overrides file's ``--no-binary``/``--only-binary`` as
    it applies a requirements file's; the caller takes them from here.

    :raises BadInputError: see :func:`read_listed`.
    """
    part = read_input(path)
    if part.projects:
        raise BadInputError(
            f"`{path}` cannot give {what}: its requirements are only known by building it"
        )
    return part


def read_inputs(
    paths: Sequence[Path],
    extras: Sequence[str] = (),
    *,
    all_extras: bool = False,
    warnings: list[str] | None = None,
) -> RequirementsFile:
    """Read and merge several inputs, keeping each requirement's source.

    :param warnings: receives uv's warning for each input that names no requirement.
    """
    merged = RequirementsFile()
    for path in paths:
        part = read_input(path, extras, all_extras=all_extras)
        if warnings is not None and not part.requirements and not part.projects:
            warnings.append(f"Requirements file `{path}` does not contain any dependencies")
        merged.merge(part)
    return merged
