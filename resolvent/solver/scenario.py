"""A resolver scenario: a small universe of packages with an expected outcome.

Scenarios use packse's TOML format (the corpus uv and pip are tested on; see
``specs/scenarios.md``): root requirements, packages with versions, per-version
``requires``, ``extras``, ``requires_python``, ``yanked`` and which distributions exist,
plus resolver options and the expected result. Loading validates the format strictly
(unknown fields are errors, as in packse's own schema), and a scenario turns into a
:class:`~resolvent.solver.universe.Universe` over an in-memory provider.

Reading files is the caller's job (the solver package is pure); :func:`parse_scenario`
takes the text.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from resolvent.errors import BadInputError, ScenarioError
from resolvent.json_text import parse_json
from resolvent.requirement_parsing import parse_marker, parse_requirement
from resolvent.solver._internal.toml_subset import loads_subset
from resolvent.solver.memory import InMemoryProvider, Release
from resolvent.solver.provider import VersionInfo, unusable_reason
from resolvent.solver.universe import Options, Universe
from resolvent.target import Target, parse_platform, parse_python_version
from resolvent.toml_text import parse_toml

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DEFAULT_PLATFORM", "Expected", "Scenario", "ScenarioVersion", "parse_scenario"]

#: Scenarios name no platform unless they test one; resolving them for a fixed one
#: keeps results identical on every machine.
DEFAULT_PLATFORM = "x86_64-manylinux_2_28"
_DEFAULT_PYTHON = "3.12"
_DEFAULT_REQUIRES_PYTHON = ">=3.12"

_TOP = {
    "name",
    "description",
    "root",
    "packages",
    "expected",
    "environment",
    "resolver_options",
    "testgen",
}
_ROOT = {"requires", "requires_python"}
_VERSION = {
    "requires",
    "extras",
    "requires_python",
    "sdist",
    "wheel",
    "yanked",
    "wheel_tags",
    "description",
}
_EXPECTED = {"satisfiable", "packages", "explanation"}
_ENVIRONMENT = {"python", "additional_python"}
_OPTIONS = {
    "python",
    "prereleases",
    "no_build",
    "no_binary",
    "universal",
    "python_platform",
    "required_environments",
    "resolution",
}


@dataclass(frozen=True, slots=True)
class ScenarioVersion:
    """One version of a scenario package and the distributions it has."""

    version: Version
    requires: tuple[Requirement, ...] = ()
    extras: Mapping[str, tuple[Requirement, ...]] = field(default_factory=dict)
    requires_python: SpecifierSet | None = None
    yanked: bool = False
    sdist: bool = True
    wheel: bool = True
    wheel_tags: tuple[frozenset[Tag], ...] = ()


@dataclass(frozen=True, slots=True)
class Expected:
    """What a scenario says a resolver must do."""

    satisfiable: bool
    packages: Mapping[NormalizedName, Version]
    explanation: str | None


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file."""

    source: str
    name: str
    description: str
    requires: tuple[Requirement, ...]
    packages: Mapping[NormalizedName, tuple[ScenarioVersion, ...]]
    expected: Expected
    python: Version
    platform: str
    prereleases: bool
    resolution: str
    no_build: frozenset[NormalizedName]
    no_binary: frozenset[NormalizedName]
    universal: bool

    def target(self) -> Target:
        """Return the environment the scenario resolves for."""
        return Target(self.python, parse_platform(self.platform))

    def provider(self, target: Target | None = None) -> InMemoryProvider:
        """Return a provider over the scenario's packages, judged for ``target``."""
        target = target or self.target()
        releases: dict[str, list[Release]] = {}
        for name, versions in self.packages.items():
            releases[name] = [
                Release(self._info(name, item, target), self._requirements(item))
                for item in versions
            ]
        return InMemoryProvider(releases)

    def universe(self, target: Target | None = None, options: Options | None = None) -> Universe:
        """Return the resolution problem the scenario describes."""
        target = target or self.target()
        if options is None:
            options = Options(
                prerelease="allow" if self.prereleases else "if-necessary-or-explicit",
                resolution=self.resolution,  # type: ignore[arg-type]
            )
        return Universe(
            self.provider(target),
            self.requires,
            target.markers(),
            target.python_version,
            options,
        )

    def _info(self, name: NormalizedName, item: ScenarioVersion, target: Target) -> VersionInfo:
        # The wheel check (tag matching) matters only when no source distribution can
        # be used, so it runs only then.
        sdist_ok = item.sdist and name not in self.no_build
        unusable = None
        if not sdist_ok and not (
            item.wheel
            and name not in self.no_binary
            and any(target.accepts(tags) for tags in item.wheel_tags)
        ):
            unusable = unusable_reason(
                wheels=item.wheel,
                sdist=item.sdist,
                no_build=name in self.no_build,
                no_binary=name in self.no_binary,
            )
        return VersionInfo(
            item.version,
            yanked=item.yanked,
            requires_python=item.requires_python,
            unusable=unusable,
        )

    @staticmethod
    def _requirements(item: ScenarioVersion) -> tuple[Requirement, ...]:
        """Flatten requirements and extras into ``Requires-Dist`` form."""
        flat = list(item.requires)
        for extra, requirements in item.extras.items():
            for requirement in requirements:
                marker = f'extra == "{extra}"'
                if requirement.marker is not None:
                    marker = f"({requirement.marker}) and {marker}"
                # A copy with the combined marker: rebuilding the text would have to
                # know where a URL ends (`b @ URL ; marker` needs the space).
                combined = copy.copy(requirement)
                combined.marker = parse_marker(marker)
                flat.append(combined)
        return tuple(flat)


def _require(data: Mapping[str, Any], allowed: set[str], where: str, source: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ScenarioError(source, f"unknown field `{unknown[0]}` in {where}")


def _table(value: object, where: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(source, f"{where} must be a table")
    return value


def _strings(value: object, where: str, source: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(source, f"{where} must be a list of strings")
    return value


def _requirement(text: str, where: str, source: str) -> Requirement:
    try:
        return parse_requirement(text)
    except InvalidRequirement as error:
        raise ScenarioError(
            source, f"invalid requirement `{text}` in {where}: {str(error).splitlines()[0]}"
        ) from None


@lru_cache(maxsize=4096)
def _cached_specifier(text: str) -> SpecifierSet:
    return SpecifierSet(text)


@lru_cache(maxsize=4096)
def _cached_tag(text: str) -> frozenset[Tag]:
    return parse_tag(text)


@lru_cache(maxsize=65536)
def _cached_version(text: str) -> Version:
    """Parse a version once per text: every package of a scenario lists the same ones."""
    return Version(text)


def _version(text: object, where: str, source: str) -> Version:
    try:
        return _cached_version(str(text))
    except ValueError:  # InvalidVersion, or a number longer than int() reads
        raise ScenarioError(source, f"invalid version `{text}` in {where}") from None


def _specifier(text: object, where: str, source: str) -> SpecifierSet:
    try:
        return _cached_specifier(str(text))
    except InvalidSpecifier:
        raise ScenarioError(source, f"invalid requires-python `{text}` in {where}") from None


def _parse_version(raw: object, name: str, version_text: str, source: str) -> ScenarioVersion:
    where = f"`{name}` version `{version_text}`"
    data = _table(raw, where, source)
    _require(data, _VERSION, where, source)
    tags: list[frozenset[Tag]] = []
    for tag in _strings(data.get("wheel_tags", ["py3-none-any"]), f"{where} wheel_tags", source):
        try:
            tags.append(_cached_tag(tag))
        except ValueError:
            # packse takes any text and names the wheel file after it; a file name
            # without a valid tag triple is a wheel no installer can use (uv skips
            # it), so it matches no target rather than making the scenario invalid.
            tags.append(frozenset())
    extras = {
        str(extra): tuple(_requirement(r, where, source) for r in _strings(reqs, where, source))
        for extra, reqs in _table(data.get("extras", {}), f"{where} extras", source).items()
    }
    flags = {
        key: _flag(data, key, where, source, default=default)
        for key, default in (("yanked", False), ("sdist", True), ("wheel", True))
    }
    return ScenarioVersion(
        version=_version(version_text, where, source),
        requires=tuple(
            _requirement(r, where, source)
            for r in _strings(data.get("requires", []), where, source)
        ),
        extras=extras,
        requires_python=_specifier(
            data.get("requires_python", _DEFAULT_REQUIRES_PYTHON), where, source
        ),
        yanked=flags["yanked"],
        sdist=flags["sdist"],
        wheel=flags["wheel"],
        wheel_tags=tuple(tags),
    )


def _build(data: Mapping[str, Any], source: str) -> Scenario:
    _require(data, _TOP, "the scenario", source)
    for key in ("name", "root", "expected"):
        if key not in data:
            raise ScenarioError(source, f"missing `{key}`")
    title = _string(data["name"], "`name`", source)
    root = _table(data["root"], "`root`", source)
    _require(root, _ROOT, "`root`", source)
    if "requires_python" in root:
        _specifier(
            _string(root["requires_python"], "`root.requires_python`", source), "`root`", source
        )
    requires = tuple(
        _requirement(r, "`root`", source)
        for r in _strings(root.get("requires", []), "`root.requires`", source)
    )
    packages: dict[NormalizedName, tuple[ScenarioVersion, ...]] = {}
    for name, raw in _table(data.get("packages", {}), "`packages`", source).items():
        package = _table(raw, f"package `{name}`", source)
        _require(package, {"versions", "description"}, f"package `{name}`", source)
        versions = _table(package.get("versions", {}), f"`{name}` versions", source)
        packages[canonicalize_name(name)] = tuple(
            _parse_version(v, name, text, source) for text, v in versions.items()
        )
    expected_raw = _table(data["expected"], "`expected`", source)
    _require(expected_raw, _EXPECTED, "`expected`", source)
    satisfiable = expected_raw.get("satisfiable")
    if not isinstance(satisfiable, bool):
        raise ScenarioError(source, "`expected.satisfiable` must be true or false")
    expected = Expected(
        satisfiable=satisfiable,
        packages={
            canonicalize_name(n): _version(v, "`expected.packages`", source)
            for n, v in _table(
                expected_raw.get("packages", {}), "`expected.packages`", source
            ).items()
        },
        explanation=_optional_string(expected_raw, "explanation", "`expected`", source),
    )
    environment = _table(data.get("environment", {}), "`environment`", source)
    _require(environment, _ENVIRONMENT, "`environment`", source)
    for text in _strings(environment.get("additional_python", []), "`additional_python`", source):
        _checked_python(text, source)
    options = _table(data.get("resolver_options", {}), "`resolver_options`", source)
    _require(options, _OPTIONS, "`resolver_options`", source)
    python_text = (
        _optional_string(options, "python", "`resolver_options`", source)
        or _optional_string(environment, "python", "`environment`", source)
        or _DEFAULT_PYTHON
    )
    resolution = _optional_string(options, "resolution", "`resolver_options`", source) or "highest"
    if resolution not in ("highest", "lowest", "lowest-direct"):
        raise ScenarioError(source, f"unknown resolution strategy `{resolution}`")
    python = _checked_python(python_text, source)
    platform = (
        _optional_string(options, "python_platform", "`resolver_options`", source)
        or DEFAULT_PLATFORM
    )
    try:
        parse_platform(platform)
    except BadInputError as error:
        raise ScenarioError(source, error.message) from None
    return Scenario(
        source=source,
        name=title,
        description=_optional_string(data, "description", "the scenario", source) or "",
        requires=requires,
        packages=packages,
        expected=expected,
        python=python,
        platform=platform,
        prereleases=_flag(options, "prereleases", "`resolver_options`", source),
        resolution=resolution,
        no_build=frozenset(
            canonicalize_name(n)
            for n in _strings(options.get("no_build", []), "`no_build`", source)
        ),
        no_binary=frozenset(
            canonicalize_name(n)
            for n in _strings(options.get("no_binary", []), "`no_binary`", source)
        ),
        universal=_flag(options, "universal", "`resolver_options`", source),
    )


def _optional_string(data: Mapping[str, Any], key: str, where: str, source: str) -> str | None:
    value = data.get(key)
    return None if value is None else _string(value, f"`{key}` in {where}", source)


def _string(value: object, where: str, source: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(source, f"{where} must be a string")
    return value


def _flag(
    data: Mapping[str, Any], key: str, where: str, source: str, *, default: bool = False
) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ScenarioError(source, f"`{key}` in {where} must be true or false")
    return value


def _checked_python(text: str, source: str) -> Version:
    try:
        return parse_python_version(text)
    except BadInputError as error:
        raise ScenarioError(source, error.message) from None


def _parse_yaml(text: str) -> Any:
    """Parse YAML with PyYAML's safe loader (no tags that build objects).

    :raises ValueError: the text is not YAML; the message is one line.
    """
    import yaml  # noqa: PLC0415 - only YAML scenarios need it

    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" (at line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ValueError(f"{error.problem or error.context}{where}") from None
    except (yaml.YAMLError, RecursionError) as error:
        raise ValueError(str(error).splitlines()[0] if str(error) else "malformed") from None


def parse_scenario(text: str, source: str, *, fmt: str = "toml") -> list[Scenario]:
    """Parse scenario text; TOML holds one scenario, JSON and YAML one or a list.

    :param source: the file's name, for messages.
    :raises ScenarioError: when the text is not a valid scenario.
    """
    try:
        if fmt == "json":
            loaded: Any = parse_json(text)
        elif fmt == "yaml":
            loaded = _parse_yaml(text)
        else:
            # Scenario files are plain TOML that a regex reader takes ten times faster;
            # anything else (and every error) goes to tomllib.
            loaded = loads_subset(text)
            if loaded is None:
                loaded = parse_toml(text)
    except ValueError as error:  # also a 5,000-digit integer, or nesting too deep
        # Both parsers' messages are one line already, the parser's internals left out.
        raise ScenarioError(source, f"not valid {fmt.upper()}: {error}") from None
    items = loaded if isinstance(loaded, list) else [loaded]
    return [_build(_table(item, "the scenario", source), source) for item in items]
