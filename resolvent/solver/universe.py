"""The universe: packages, versions and dependencies exactly as both engines see them.

A :class:`Universe` wraps a :class:`~resolvent.solver.provider.Provider` and applies every
policy that is not search: markers are evaluated for the target environment, extras
become virtual packages (``foo[bar]`` pins ``foo`` to its own version and adds the
extra's requirements), yanked, pre-release, ``requires-python`` and constraint rules
filter the candidates, and the resolution strategy orders them. PubGrub and the SAT
encoding both read this one object, so they solve the same problem by construction.

Package keys are plain strings: a normalized project name (``"foo"``), a virtual extra
package (``"foo[bar]"``) or :data:`ROOT`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Final, Literal, Protocol, overload

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from resolvent.markers import extra_gate, requirement_applies
from resolvent.solver._internal.version_index import VersionIndex
from resolvent.solver.provider import Unavailable, VersionInfo
from resolvent.solver.ranges import (
    VersionRange,
    exactly,
    from_specifier,
    intersect_all,
    specifier_range,
)
from resolvent.value_class import Value

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable, Iterator, Mapping

    from packaging.markers import Marker
    from packaging.requirements import Requirement

    from resolvent.solver.provider import Provider

__all__ = [
    "ROOT",
    "ROOT_VERSION",
    "Dependency",
    "EdgeTable",
    "Listing",
    "Options",
    "PrereleaseMode",
    "ResolutionMode",
    "Universe",
    "base_name",
    "package_key",
    "python_allowed",
]

ROOT = "<root>"
ROOT_VERSION = Version("0")

PrereleaseMode = Literal[
    "disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit"
]
ResolutionMode = Literal["highest", "lowest", "lowest-direct"]


def package_key(name: str, extra: str | None = None) -> str:
    """Return the solver's key for a project or one of its extras.

    >>> package_key("Foo_Bar", "Tests")
    'foo-bar[tests]'
    """
    base = canonicalize_name(name)
    return f"{base}[{canonicalize_name(extra)}]" if extra else base


def base_name(package: str) -> NormalizedName:
    """Return the project a package key belongs to (``foo[bar]`` -> ``foo``).

    >>> base_name("foo[bar]")
    'foo'
    """
    cut = package.find("[")
    return NormalizedName(package if cut < 0 else package[:cut])


def _without_fragment(url: str) -> str:
    """Return a URL without its ``#fragment`` (a hash or an egg name, not a location)."""
    return url.split("#", 1)[0]


def _extra_of(package: str) -> str | None:
    cut = package.find("[")
    return None if cut < 0 else package[cut + 1 : -1]


class Dependency(Value):
    """One edge of the dependency graph: ``package`` must take a version in ``range``.

    ``specifier`` is the requirement text the range came from (``">=1.0"``, or ``""``
    for any version), kept for explanations.
    """

    __slots__ = ("package", "range", "specifier")

    def __init__(self, package: str, range: VersionRange, specifier: str) -> None:  # noqa: A002
        self.package: Final = package
        self.range: Final = range
        self.specifier: Final = specifier


#: One stored edge: its package key and the specifier text of each requirement line that
#: made it, in order (one line: the text itself). See :class:`EdgeTable`.
StoredEdge = tuple[str, "str | tuple[str, ...]"]


class EdgeTable(Protocol):
    """Evaluated edges kept from earlier runs, for the universe's target (optional).

    A provider may offer one (``provider.edge_table(markers, python_version)``); it does
    the I/O, and the universe only asks and tells. Entries are plain values (see
    :data:`StoredEdge`), keyed by what the provider knows identifies a version's
    metadata, so that a stale entry cannot be found.
    """

    def key(self, name: NormalizedName, version: Version, package: str) -> Hashable | None:
        """Return the key of ``package == version`` (``None``: it cannot be kept)."""
        ...

    def get(self, key: Hashable) -> object:
        """Return what :meth:`put` kept under ``key`` (``None``: nothing; maybe damaged)."""
        ...

    def put(self, key: Hashable, edges: tuple[StoredEdge, ...]) -> None:
        """Keep the edges of ``key`` for later runs."""
        ...


class Options(Value):
    """Resolution policy; the defaults are uv's.

    ``prerelease`` modes, as in uv: ``disallow`` never picks a pre-release; ``allow``
    ranks them with final releases by version; ``if-necessary`` (and its old name
    ``if-necessary-or-explicit``, the default) allows every version but prefers any
    final release to any pre-release, so a pre-release is chosen only where no final
    release can be; ``explicit`` does the same for projects whose direct requirement
    names a pre-release (``>=2.0b1``, not ``!=2.0b1``) and disallows the others'.

    ``preferences`` are versions to try first where they are usable (the pins of an
    existing output file, as uv and pip-tools keep them): an order, not a constraint.
    ``urls`` are the URLs the user's own requirements, constraints or overrides name
    projects by. A dependency written ``name @ URL`` is only allowed at one of those
    (uv's rule, and pip refuses it from an index too): a version that needs another is
    unusable. ``None`` (scenarios, where a URL is a mere name and nothing is fetched):
    no check. The mappings left out are new empty ones.
    """

    __slots__ = ("constraints", "overrides", "preferences", "prerelease", "resolution", "urls")

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass took them
        self,
        prerelease: PrereleaseMode = "if-necessary-or-explicit",
        resolution: ResolutionMode = "highest",
        constraints: Mapping[NormalizedName, VersionRange] | None = None,
        overrides: Mapping[NormalizedName, Sequence[Requirement]] | None = None,
        preferences: Mapping[NormalizedName, Version] | None = None,
        urls: Mapping[NormalizedName, str] | None = None,
    ) -> None:
        self.prerelease: Final = prerelease
        self.resolution: Final = resolution
        self.constraints: Final[Mapping[NormalizedName, VersionRange]] = (
            {} if constraints is None else constraints
        )
        self.overrides: Final[Mapping[NormalizedName, Sequence[Requirement]]] = (
            {} if overrides is None else overrides
        )
        self.preferences: Final[Mapping[NormalizedName, Version]] = (
            {} if preferences is None else preferences
        )
        self.urls: Final = urls


def python_allowed(requires_python: SpecifierSet, python: Version) -> bool:
    """Return whether a ``requires-python`` admits ``python`` by its lower bound, as uv does.

    Upper bounds on ``requires-python`` are widely wrong (set defensively, never raised)
    and uv considers only the lower bound: each specifier stands for the bound it sets
    from below (``==3.10.*``, ``~=3.10.0`` and ``==3.10`` for ``>=3.10``), and ``<``,
    ``<=`` and ``!=`` for none. We follow uv so that the same inputs resolve the same way.

    >>> python_allowed(SpecifierSet(">=3.8,<3.11"), Version("3.12"))
    True
    >>> python_allowed(SpecifierSet("==3.10.*"), Version("3.11"))
    True
    >>> python_allowed(SpecifierSet(">=3.12,!=3.12.1"), Version("3.11"))
    False
    """
    last = _PYTHON_ALLOWED_LAST.get(id(requires_python))
    if last is not None and last[0] is requires_python and last[1] is python:
        return last[2]
    key = (tuple(str(s) for s in requires_python), python)
    found = _PYTHON_ALLOWED.get(key)
    if found is None:
        lower = (_lower_bound(s.operator, s.version) for s in requires_python)
        kept = ",".join(bound for bound in lower if bound is not None)
        found = SpecifierSet(kept).contains(python, prereleases=True)
        if len(_PYTHON_ALLOWED) > _PARTS_LIMIT:
            _PYTHON_ALLOWED.clear()
        _PYTHON_ALLOWED[key] = found
    if len(_PYTHON_ALLOWED_LAST) > _PARTS_LIMIT:
        _PYTHON_ALLOWED_LAST.clear()
    _PYTHON_ALLOWED_LAST[id(requires_python)] = (requires_python, python, found)
    return found


def _lower_bound(operator: str, version: str) -> str | None:
    """Return the specifier of the lower bound one specifier sets (``None``: no bound)."""
    if operator in (">=", ">"):
        return f"{operator}{version}"
    if operator in ("==", "~="):
        return f">={version.removesuffix('.*')}"
    return None  # <, <=, != and === bound nothing from below


#: :func:`python_allowed` answers by (specifier strings, Python): an index lists a few
#: distinct ``requires-python`` texts across thousands of files, and each check would
#: build a new specifier set. Bounded like ``_PARTS``.
_PYTHON_ALLOWED: dict[tuple[tuple[str, ...], Version], bool] = {}
#: The last answer for each specifier object, by identity, with the object and the Python
#: it was asked about: the provider asks again for every version whose metadata it reads,
#: with the one shared object per text that ``parse_specifier`` makes, and building the
#: key above (a string per specifier) cost more than the answer. Bounded like ``_PARTS``.
_PYTHON_ALLOWED_LAST: dict[int, tuple[SpecifierSet, Version, bool]] = {}

#: The sort key that puts final releases before pre-releases (a C-level getter).
_IS_PRERELEASE = attrgetter("is_prerelease")


#: Requirement parts by raw text: (name, specifier text, extras) -> (canonical name,
#: canonical specifier text, package keys). Bounded; see :func:`_requirement_parts`.
_PARTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, str, tuple[str, ...]]] = {}
_PARTS_LIMIT = 1 << 16


def _requirement_parts(requirement: Requirement) -> tuple[str, str, tuple[str, ...]]:
    """Return a requirement's canonical name, specifier text and package keys.

    The text is the specifiers' strings sorted and without repeats, which is what
    ``str(SpecifierSet)`` prints, except that it does not merge two spellings of one
    specifier (``>=1`` and ``>=1.0``; the range is the same either way). The set's own
    ``str`` de-duplicates by specifier equality, which parses every version again: a
    third of loading a version's requirements when each text is new (adversarial
    universes). Cached under the strings, requirements with the same text cost one
    dictionary lookup, however many objects carry them.
    """
    # The specifiers' strings joined by a space, which none of them holds (PEP 440 has
    # none in a version, and packaging strips them around it): one string, not a tuple
    # of them, to keep. No extras (the usual case) is the empty tuple, which costs none.
    raw = (
        requirement.name,
        " ".join(map(str, requirement.specifier)),
        tuple(sorted(requirement.extras)),
    )
    found = _PARTS.get(raw)
    if found is None:
        name = canonicalize_name(requirement.name)
        keys = (name, *(package_key(name, e) for e in raw[2]))
        found = (name, ",".join(sorted(set(raw[1].split(" ")))), keys)
        if len(_PARTS) > _PARTS_LIMIT:
            _PARTS.clear()
        _PARTS[raw] = found
    return found


class Listing(Sequence[VersionInfo]):
    """A project's listed versions in columns: a provider's answer, read without objects.

    A provider may return this from ``list_versions`` instead of a list of
    :class:`VersionInfo`; the universe turns any other answer into one. Most versions
    are neither yanked nor unusable, and for them the listing says only the version and
    its ``requires-python``: two parallel columns here (``versions``, and
    ``requires_python``, whose entries are shared objects, one per distinct text). Only
    the other versions have a :class:`VersionInfo` of their own: by position in
    ``special`` (yanked ones, say), or apart in ``unusable``, for versions that can never
    be chosen (``VersionInfo.unusable`` is set on each), which only explanations read: a
    provider may make that a lazy sequence, whose versions are then never parsed in a
    resolution that succeeds. A warm resolution of a large set lists tens of thousands
    of versions, and an object plus a policy check for each was a large part of its
    loading; from the columns the universe finds the usable versions in one pass over
    the few distinct ``requires-python`` values.

    As a sequence it holds one :class:`VersionInfo` per version (the columns' versions,
    then the unusable ones), made when read.
    """

    __slots__ = (
        "_by_text",
        "_positions",
        "_texts",
        "ascending",
        "requires_python",
        "special",
        "unusable",
        "versions",
    )

    def __init__(
        self,
        versions: Sequence[Version],
        requires_python: Sequence[SpecifierSet | None],
        special: Mapping[int, VersionInfo] | None = None,
        *,
        unusable: Sequence[VersionInfo] = (),
        texts: Sequence[str] | None = None,
        ascending: bool = False,
    ) -> None:
        """Make a listing; ``special[i]`` describes ``versions[i]`` when it is set.

        ``texts``, when given, are the versions' normalized texts (``str(version)``), by
        which :meth:`position` finds a version without hashing every version listed.
        ``ascending`` says that ``versions`` are strictly sorted, oldest first, as a
        provider that sorted them itself knows: the universe then reverses them instead
        of sorting (a comparison per version is a Python call, and a resolution lists
        tens of thousands of versions).

        :raises ValueError: the columns differ in length, or a special entry is out of
            place (another version, or another ``requires-python`` than its column's).
        """
        if len(versions) != len(requires_python) or (
            texts is not None and len(texts) != len(versions)
        ):
            raise ValueError("the columns of a listing differ in length")
        special = dict(special) if special else {}
        for position, info in special.items():
            if not 0 <= position < len(versions) or (
                (info.version is not versions[position] and info.version != versions[position])
                or info.requires_python is not requires_python[position]
            ):
                raise ValueError("a special entry of a listing does not match its version")
        self.versions = versions
        self.requires_python = requires_python
        self.special: Mapping[int, VersionInfo] = special
        self.unusable = unusable
        self._texts = texts
        self.ascending = ascending
        self._by_text: dict[str, int] | None = None
        self._positions: dict[Version, int] | None = None

    @classmethod
    def of(cls, infos: Iterable[VersionInfo]) -> Listing:
        """Return the listing of these entries, in their order (all in the columns)."""
        entries = list(infos)
        return cls(
            [info.version for info in entries],
            [info.requires_python for info in entries],
            {
                position: info
                for position, info in enumerate(entries)
                if info.yanked or info.yanked_reason is not None or info.unusable is not None
            },
        )

    def __len__(self) -> int:
        return len(self.versions) + len(self.unusable)

    @overload
    def __getitem__(self, position: int) -> VersionInfo: ...

    @overload
    def __getitem__(self, position: slice) -> list[VersionInfo]: ...

    def __getitem__(self, position: int | slice) -> VersionInfo | list[VersionInfo]:
        if isinstance(position, slice):
            return [self._info(i) for i in range(len(self))[position]]
        return self._info(range(len(self))[position])

    def __iter__(self) -> Iterator[VersionInfo]:
        yield from map(self._info, range(len(self.versions)))
        yield from self.unusable

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Listing | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment] # equal to lists, which are unhashable

    def __repr__(self) -> str:
        return f"Listing({list(self)!r})"

    def _info(self, position: int) -> VersionInfo:
        count = len(self.versions)
        if position >= count:
            return self.unusable[position - count]
        info = self.special.get(position)
        if info is None:
            info = VersionInfo(
                self.versions[position], requires_python=self.requires_python[position]
            )
        return info

    def position(self, version: Version) -> int | None:
        """Return where ``version`` is in the columns (``None``: it is not)."""
        texts = self._texts
        if texts is not None:
            by_text = self._by_text
            if by_text is None:
                by_text = self._by_text = dict(zip(texts, range(len(texts)), strict=True))
            found = by_text.get(str(version))
            if found is not None and self.versions[found] == version:
                return found
            # Another spelling of an equal version (1.0 and 1.0.0), or not listed.
        positions = self._positions
        if positions is None:
            positions = self._positions = dict(
                zip(self.versions, range(len(self.versions)), strict=True)
            )
        return positions.get(version)

    def find(self, version: Version) -> VersionInfo | None:
        """Return the entry of ``version`` (``None``: it is not listed)."""
        position = self.position(version)
        if position is not None:
            return self._info(position)
        return next((info for info in self.unusable if info.version == version), None)


def _merged_text(lines: Sequence[str]) -> str:
    """Return the specifier text of an edge merged from requirement lines on one package.

    Each distinct non-empty text once, in the order the lines give them.
    """
    return ",".join(dict.fromkeys(text for text in lines if text))


def _rebuilt(stored: object) -> tuple[Dependency, ...] | None:
    """Return the edges a stored value describes (``None``: it is not one).

    The value comes from a cache file: every part is checked, and a text that is no
    specifier makes a miss, not an error.
    """
    if type(stored) is not tuple:
        return None
    edges = []
    try:
        for item in stored:
            if type(item) is not tuple or len(item) != 2:
                return None
            package, lines = item
            if type(package) is not str:
                return None
            if type(lines) is str:
                edges.append(Dependency(package, from_specifier(lines), lines))
            elif type(lines) is tuple and len(lines) > 1 and all(type(t) is str for t in lines):
                ranges = list(map(from_specifier, lines))
                edges.append(Dependency(package, intersect_all(ranges), _merged_text(lines)))
            else:
                return None
    except ValueError:  # an invalid specifier
        return None
    return tuple(edges)


class Universe:
    """The resolution problem: root requirements, a target environment and a provider.

    :param provider: where versions and requirements come from.
    :param requirements: the root requirements (the user's).
    :param markers: the marker environment of the target (``python_version``, ...).
    :param python_version: the target interpreter's version, for ``requires-python``.
    :param options: pre-release and resolution strategy, constraints and overrides.

    Example::

        universe = Universe(provider, [Requirement("a>=1")], markers, Version("3.12"))
        universe.versions("a")          # usable versions, best first
        universe.dependencies("a", v)   # list of Dependency, or Unavailable
    """

    def __init__(
        self,
        provider: Provider,
        requirements: Iterable[Requirement],
        markers: Mapping[str, str],
        python_version: Version,
        options: Options | None = None,
    ) -> None:
        self.provider = provider
        self.requirements = tuple(requirements)
        self.markers = dict(markers)
        self.python_version = python_version
        self.options = options or Options()
        #: The switch behind :attr:`prefetching`: the cross-check turns it off while
        #: PubGrub certifies an answer it already has.
        self.hints_wanted = True
        self._exploring = False
        self._versions: dict[str, tuple[Version, ...]] = {}
        # The same versions oldest first, by project (see sorted_versions).
        self._ascending: dict[NormalizedName, tuple[Version, ...]] = {}
        self._indexes: dict[str, VersionIndex] = {}
        # Where the sorted stretches of each order start (see _order), for VersionIndex.
        self._sorted_starts: dict[NormalizedName, list[int]] = {}
        self._excluded: dict[NormalizedName, dict[Version, str]] = {}
        self._missing: dict[NormalizedName, Unavailable] = {}
        self._listings: dict[NormalizedName, Listing] = {}
        self._unusable_read: set[NormalizedName] = set()
        self._dependencies: dict[tuple[str, Version], tuple[Dependency, ...] | Unavailable] = {}
        self._root_hinted = False
        self._requirement_cache: dict[int, tuple[Requirement, str, tuple[str, ...]]] = {}
        # Edges by the identities of the requirements they were made from (see _edges).
        self._edges_cache: dict[
            tuple[tuple[int, ...], str | None],
            tuple[tuple[Requirement, ...], tuple[Dependency, ...]],
        ] = {}
        # Per version: its requirement list (kept, so that identity can be checked), the
        # requirements that hold only with some extra, and their positions by the extra
        # their marker names (``None``: any extra may hold). See _extra_requirements.
        self._extra_own: dict[
            tuple[str, Version],
            tuple[Sequence[Requirement], list[Requirement], dict[str | None, list[int]]],
        ] = {}
        # Verdicts by marker identity and extra: parsed markers are shared objects (one
        # ``extra == "test"`` serves every requirement that carries it), and the marker
        # is kept in the value so that its id cannot be reused.
        self._marker_cache: dict[tuple[int, str], tuple[Marker, bool]] = {}
        self._python_cache: dict[int, tuple[SpecifierSet, bool]] = {}
        # Edges kept by earlier runs, if the provider keeps them (see _load_dependencies);
        # those rebuilt from it by their stored value, so that equal ones are one object;
        # and the stored form of each edge made here, by its identity (kept in the value).
        self._edge_table = self._open_edge_table()
        self._restored: dict[object, tuple[Dependency, ...]] = {}
        self._stored_of: dict[int, tuple[Dependency, StoredEdge]] = {}
        self._root_deps = self._edges(self.requirements, extra=None)
        self._direct = frozenset(base_name(d.package) for d in self._root_deps)
        # Only requirements whose marker holds for the target pin a yanked version or
        # name a pre-release (`yka==1.0; python_version < "3.10"` says nothing on 3.11).
        applicable = [
            r for r in self.requirements if r.marker is None or self._marker_holds(r, None)
        ]
        self._pinned = self._exact_pins(applicable)
        self._explicit_pre = frozenset(
            canonicalize_name(r.name) for r in applicable if r.specifier.prereleases
        )

    # -- what the engines call -------------------------------------------------------

    def versions(self, package: str) -> Sequence[Version]:
        """Return the versions the engines may choose for ``package``, best first."""
        if package == ROOT:
            return (ROOT_VERSION,)
        cached = self._versions.get(package)
        if cached is None:
            name = base_name(package)
            cached = self._versions.get(name)
            if cached is None:
                cached = self._load_versions(name)
                self._versions[name] = cached
            self._versions[package] = cached
        return cached

    def sorted_versions(self, package: str) -> tuple[Version, ...]:
        """Return :meth:`versions` sorted oldest first.

        A listing that comes sorted (``Listing.ascending``) gives them without comparing
        any: they are its usable versions in its own order, before the preference order
        is made. Sorting the preference order instead compares each version about once
        more (a Python call apiece), and the search asks for most of the packages it
        meets.
        """
        if package == ROOT:
            return (ROOT_VERSION,)
        name = base_name(package)
        versions = self.versions(name)
        found = self._ascending.get(name)
        if found is None:
            found = self._ascending[name] = tuple(sorted(versions))
        return found

    def index(self, package: str) -> VersionIndex:
        """Return :meth:`versions` searchable by range, made once and shared by the engines."""
        index = self._indexes.get(package)
        if index is None:
            name = base_name(package)
            index = self._indexes.get(name)
            if index is None:
                versions = self.versions(name)
                index = self._indexes[name] = VersionIndex(
                    versions, starts=self._sorted_starts.get(name)
                )
            self._indexes[package] = index
        return index

    def dependencies(self, package: str, version: Version) -> Sequence[Dependency] | Unavailable:
        """Return what ``package == version`` needs, or why its metadata cannot be had."""
        if package == ROOT:
            if not self._root_hinted:
                self._root_hinted = True
                self._hint_listings(self._root_deps)
            return self._root_deps
        key = (package, version)
        cached = self._dependencies.get(key)
        if cached is None:
            cached = self._load_dependencies(package, version)
            self._dependencies[key] = cached
            if not isinstance(cached, Unavailable):
                self._hint_listings(cached)
        return cached

    def _hint_listings(self, dependencies: Iterable[Dependency]) -> None:
        """Tell the provider which listings the engines are about to read.

        Both engines read the versions of every dependency of a version they look at,
        one after the other; hinted together, a provider can fetch them concurrently.
        """
        if not self.prefetching:
            return
        loaded = self._versions
        names = {base_name(d.package) for d in dependencies if d.package not in loaded}
        if names:
            self.provider.prefetch_listings(sorted(names))

    @property
    def prefetching(self) -> bool:
        """Whether hints reach the provider: it takes them, and :attr:`hints_wanted`.

        The engines work out no hints while this is false. Setting it sets the switch.
        """
        return self.hints_wanted and self.provider.takes_hints

    @prefetching.setter
    def prefetching(self, value: bool) -> None:
        self.hints_wanted = value

    @property
    def exploring(self) -> bool:
        """Whether the running engine explores (SAT in ``auto`` mode).

        Its intermediate models visit versions that no newest-first search would; a
        provider with a ``defer_builds`` switch is told, so that it can put off what
        only an sdist build would tell about those versions (the caller settles it).
        """
        return self._exploring

    @exploring.setter
    def exploring(self, value: bool) -> None:
        self._exploring = value
        if hasattr(self.provider, "defer_builds"):
            self.provider.defer_builds = value

    def asked(self, project: str, version: Version) -> bool:
        """Return whether an engine asked for the requirements of ``project == version``.

        Asking for one of its extras counts: that reads the project's metadata too.
        """
        if (project, version) in self._dependencies:
            return True
        return any(
            key[1] == version and "[" in key[0] and base_name(key[0]) == project
            for key in self._dependencies
        )

    def prefetch(self, package: str, versions: Sequence[Version]) -> None:
        """Tell the provider that these versions' requirements will be wanted soon."""
        if self.prefetching and package != ROOT and versions:
            self.provider.prefetch(base_name(package), versions)

    def applies(self, requirement: Requirement) -> bool:
        """Return whether a top-level requirement's marker holds for the target.

        A line such as ``cffi; os_name == "nt"`` is no requirement on Linux: it is not an
        edge of the root, and ``# via`` annotations must not name its file.
        """
        return requirement.marker is None or self._marker_holds(requirement, None)

    def is_direct(self, package: str) -> bool:
        """Return whether the user's own requirements name this project."""
        return base_name(package) in self._direct

    def excluded(self, package: str) -> Mapping[Version, str]:
        """Return versions the index lists that the engines may not choose, with why."""
        if package == ROOT:
            return {}
        name = base_name(package)
        self.versions(name)
        listing = self._listings.get(name)
        if listing is not None and listing.unusable and name not in self._unusable_read:
            # Read only now: a resolution that succeeds never needs them.
            self._unusable_read.add(name)
            found = self._excluded.setdefault(name, {})
            for info in listing.unusable:
                found.setdefault(info.version, info.unusable or "cannot be used")
        return self._excluded.get(name, {})

    def missing(self, package: str) -> Unavailable | None:
        """Return why the project has no listing at all, if it has none."""
        if package == ROOT:
            return None
        name = base_name(package)
        self.versions(name)
        return self._missing.get(name)

    def info(self, package: str, version: Version) -> VersionInfo | None:
        """Return the listing entry of one version (yanked, requires-python, ...)."""
        name = base_name(package)
        self.versions(name)
        listing = self._listings.get(name)
        return None if listing is None else listing.find(version)

    # -- loading -------------------------------------------------------------------

    def _load_versions(self, name: NormalizedName) -> tuple[Version, ...]:
        found = self.provider.list_versions(name)
        if isinstance(found, Unavailable):
            self._missing[name] = found
            return ()
        listing = found if isinstance(found, Listing) else Listing.of(found)
        self._listings[name] = listing
        usable, excluded = self._sift(name, listing)
        usable = self._apply_prerelease_policy(name, usable, excluded)
        if excluded:
            self._excluded[name] = excluded
        if listing.ascending:
            self._ascending[name] = tuple(usable)  # before _order reorders the list in place
        return tuple(self._order(name, usable, ascending=listing.ascending))

    def _sift(
        self, name: NormalizedName, listing: Listing
    ) -> tuple[list[Version], dict[Version, str]]:
        """Split a listing into its usable versions and the others, with why (listing order).

        Versions with nothing special about them differ only by their ``requires-python``,
        which is judged once per distinct object; the special ones (yanked, unusable) are
        judged one by one. Most projects are left with nothing to do per version but copy
        it (and a pass of comprehensions where some ``requires-python`` is barred).
        """
        versions = listing.versions
        pythons = listing.requires_python
        constraint = self.options.constraints.get(name)
        distinct = dict(zip(map(id, pythons), pythons, strict=True))
        barred = {
            key: self._python_reason(spec)
            for key, spec in distinct.items()
            if spec is not None and not self._python_allowed(spec)
        }
        reasons: dict[int, str] = {}
        if barred:
            reasons = {
                position: barred[id(spec)]
                for position, spec in enumerate(pythons)
                if id(spec) in barred
            }
        for position, info in listing.special.items():
            reason = self._exclusion(name, info, constraint)
            if reason is None:
                reasons.pop(position, None)  # a yanked version that the user pinned
            else:
                reasons[position] = reason
        if constraint is not None:
            for position, version in enumerate(versions):
                if position not in reasons and version not in constraint:
                    reasons[position] = "is excluded by a constraint"
        if not reasons:
            return list(versions), {}
        usable = [version for position, version in enumerate(versions) if position not in reasons]
        excluded = {versions[position]: reasons[position] for position in sorted(reasons)}
        return usable, excluded

    def _exclusion(
        self, name: NormalizedName, info: VersionInfo, constraint: VersionRange | None
    ) -> str | None:
        if info.unusable is not None:
            return info.unusable
        if info.yanked and info.version not in self._pinned.get(name, ()):
            reason = f" (reason: {info.yanked_reason})" if info.yanked_reason else ""
            return f"was yanked{reason}"
        if info.requires_python is not None and not self._python_allowed(info.requires_python):
            return self._python_reason(info.requires_python)
        if constraint is not None and info.version not in constraint:
            return "is excluded by a constraint"
        return None

    def _python_reason(self, requires_python: SpecifierSet) -> str:
        return f"requires Python {requires_python}, but the target Python is {self.python_version}"

    def _python_allowed(self, requires_python: SpecifierSet) -> bool:
        """Return :func:`python_allowed` for the target, once per specifier object.

        Listings share their ``requires-python`` objects (a scenario parses each text
        once; an index page repeats a few), and each check builds a new specifier set.
        Keyed by identity, with the specifier kept in the value.
        """
        found = self._python_cache.get(id(requires_python))
        if found is None:
            found = (requires_python, python_allowed(requires_python, self.python_version))
            self._python_cache[id(requires_python)] = found
        return found[1]

    def _apply_prerelease_policy(
        self, name: NormalizedName, usable: list[Version], excluded: dict[Version, str]
    ) -> list[Version]:
        if self._prerelease_selection(name) != "disallow":
            return usable
        mode = self.options.prerelease
        kept = []
        for version in usable:
            if version.is_prerelease:
                excluded[version] = f"is a pre-release (pre-release mode `{mode}`)"
            else:
                kept.append(version)
        return kept

    def _order(
        self, name: NormalizedName, versions: list[Version], *, ascending: bool = False
    ) -> list[Version]:
        """Put versions in preference order (``ascending``: they are sorted oldest first)."""
        mode = self.options.resolution
        lowest = mode == "lowest" or (mode == "lowest-direct" and name in self._direct)
        if not ascending:
            versions.sort(reverse=not lowest)
        elif not lowest:
            versions.reverse()
        # Where the strictly sorted stretches of the order start, for the version index.
        starts = [0]
        if self._prerelease_selection(name) == "prefer-stable":
            # Final releases first, pre-releases as the fallback (stable sort keeps order).
            versions.sort(key=_IS_PRERELEASE)
            finals = bisect_left(versions, True, key=_IS_PRERELEASE)  # noqa: FBT003
            if 0 < finals < len(versions):
                starts.append(finals)
        preferred = self.options.preferences.get(name)
        if preferred is not None and preferred in versions:
            at = versions.index(preferred)
            del versions[at]
            versions.insert(0, preferred)
            # Those before it moved up one place; a stretch it began now begins after it.
            moved = {start + 1 if start <= at else start for start in starts}
            starts = sorted({0} | {start for start in moved if start < len(versions)})
        self._sorted_starts[name] = starts
        return versions

    def _prerelease_selection(
        self, name: NormalizedName
    ) -> Literal["allow", "disallow", "prefer-stable"]:
        """Say how ``name``'s pre-releases take part in selection, as uv does.

        ``allow`` ranks them with final releases by version; ``disallow`` removes them;
        ``prefer-stable`` keeps every version but tries final releases first, so that a
        pre-release is chosen only where no final release can be. uv's ``if-necessary``
        means the latter for every project (``if-necessary-or-explicit`` is its old
        name), and ``explicit`` means it for projects whose direct requirement names a
        pre-release, and ``disallow`` for the others. Pre-releases stay in the universe
        under ``prefer-stable``, so what each engine learns from a conflict stays valid.
        """
        mode = self.options.prerelease
        if mode in ("allow", "disallow"):
            return mode
        if mode == "explicit" and name not in self._explicit_pre:
            return "disallow"
        return "prefer-stable"

    def _open_edge_table(self) -> EdgeTable | None:
        """Return the provider's stored edges for this target, if it keeps any.

        Not with overrides: they replace requirements by the user's, which the stored
        edges do not know of.
        """
        if self.options.overrides:
            return None
        opener = getattr(self.provider, "edge_table", None)
        return None if opener is None else opener(self.markers, self.python_version)

    def _load_dependencies(
        self, package: str, version: Version
    ) -> tuple[Dependency, ...] | Unavailable:
        """Return a version's edges: kept by an earlier run, else made from its metadata.

        Kept edges spare reading the metadata and evaluating it for the target; only
        usable ones are kept (never an ``Unavailable``, nor those of a version with a
        URL requirement, whose use depends on the user's own URLs).
        """
        name = base_name(package)
        extra = _extra_of(package)
        table = self._edge_table
        key = None
        if table is not None:
            key = table.key(name, version, package)
            if key is not None:
                kept = self._restore(table.get(key))
                if kept is not None:
                    if extra is None:
                        return kept
                    return (Dependency(name, exactly(version), f"=={version}"), *kept)
        requirements = self.provider.get_requirements(name, version)
        if isinstance(requirements, Unavailable):
            return requirements
        if extra is None:
            unnamed = self._unnamed_url(requirements, None)
            if unnamed is not None:
                return unnamed
            edges = self._without_self((name,), version, self._edges(requirements, extra=None))
            if key is not None:
                self._keep(key, edges, requirements)
            return edges
        # A virtual extra package pins its base project to the same version and adds
        # only the extra's own requirements: those whose marker holds with the extra
        # and not without it.
        own = self._extra_requirements(name, version, requirements, extra)
        unnamed = self._unnamed_url(own, extra)
        if unnamed is not None:
            return unnamed
        edges = self._without_self((package, name), version, self._edges(own, extra=extra))
        if isinstance(edges, Unavailable):
            return edges
        if key is not None:
            self._keep(key, edges, requirements)
        return (Dependency(name, exactly(version), f"=={version}"), *edges)

    def _keep(
        self,
        key: Hashable,
        edges: tuple[Dependency, ...] | Unavailable,
        requirements: Sequence[Requirement],
    ) -> None:
        """Hand a version's edges to the edge table, in their stored form."""
        if isinstance(edges, Unavailable) or any(r.url is not None for r in requirements):
            return
        assert self._edge_table is not None
        stored_of = self._stored_of
        self._edge_table.put(key, tuple(stored_of[id(edge)][1] for edge in edges))

    def _restore(self, stored: object) -> tuple[Dependency, ...] | None:
        """Rebuild kept edges as :meth:`_edges` makes them (``None``: absent or damaged).

        A one-line edge's range is the memoized range of its text, the very object a
        computed edge holds; a merged one is folded from its lines in the same order.
        Equal stored values give one tuple, as equal requirement lines do in ``_edges``.
        """
        if stored is None:
            return None
        try:
            found = self._restored.get(stored)
        except TypeError:  # unhashable: not what was stored
            return None
        if found is None:
            found = _rebuilt(stored)
            if found is None:
                return None
            self._restored[stored] = found
        return found

    def _extra_requirements(
        self, name: str, version: Version, requirements: Sequence[Requirement], extra: str
    ) -> list[Requirement]:
        """Return the requirements of ``name==version`` that may be ``extra``'s own.

        Those whose marker holds with some extra and not without one, less those whose
        marker can only hold for other extras (:func:`~resolvent.markers.extra_gate`),
        in their order. Worked out once per version, not once per extra: a project
        declaring n extras made n^2 marker evaluations (2,000 extras: minutes, and a
        verdict cache of n^2 entries).
        """
        key = (name, version)
        found = self._extra_own.get(key)
        if found is None or found[0] is not requirements:
            own = [
                r for r in requirements if r.marker is not None and not self._marker_holds(r, None)
            ]
            by_extra: dict[str | None, list[int]] = {}
            for position, requirement in enumerate(own):
                assert requirement.marker is not None  # filtered above
                names = extra_gate(requirement.marker)
                for gate in (None,) if names is None else names:
                    by_extra.setdefault(gate, []).append(position)
            found = self._extra_own[key] = (requirements, own, by_extra)
        _, own, by_extra = found
        positions = by_extra.get(canonicalize_name(extra), [])
        ungated = by_extra.get(None)
        if ungated:
            positions = sorted([*positions, *ungated])
        return [own[position] for position in positions]

    def _unnamed_url(
        self, requirements: Sequence[Requirement], extra: str | None
    ) -> Unavailable | None:
        """Return why a version is unusable when it needs a URL the user did not name.

        The engines choose versions, not URLs: ``beta @ URL`` in an index package's
        metadata was taken as plain ``beta``, and the answer held the index's ``beta``
        where the package declared another distribution, with no word. pip refuses such
        a dependency; uv allows it only when the user's requirements or constraints name
        the same URL (which lays that distribution over the index), and so does this.
        An override of the project replaces the dependency, URL and all.
        """
        allowed = self.options.urls
        if allowed is None:
            return None
        for requirement in self._with_overrides(requirements):
            url = requirement.url
            if url is None or (
                requirement.marker is not None and not self._marker_holds(requirement, extra)
            ):
                continue
            named = allowed.get(canonicalize_name(requirement.name))
            if named is None or _without_fragment(named) != _without_fragment(url):
                wanted = f"{requirement.name} @ {url}"
                return Unavailable(
                    f"requires `{wanted}`, and a URL dependency is only allowed at a URL "
                    "that the requirements or constraints name"
                )
        return None

    def _edges(
        self,
        requirements: Iterable[Requirement],
        *,
        extra: str | None,
    ) -> tuple[Dependency, ...]:
        """Turn requirements into merged dependency edges for one parent and extra.

        Remembered by the requirements' identities: the versions of a project often
        repeat the same lines (parsed requirements are shared objects), and so give the
        same edges, made once. The requirements are kept in the value, so that their
        ids cannot be reused.
        """
        given = tuple(requirements)
        known = (tuple(map(id, given)), extra)
        found = self._edges_cache.get(known)
        if found is not None:
            return found[1]
        # Folded at the end as a balanced tree, and the texts kept in a dict: thousands of
        # lines on one project (`pkg!=0.0.1`, ...) made both quadratic. A version lists
        # tens of lines, most of them for extras: the remembered verdicts and parts are
        # read here, and the methods that make them called only when they are missing.
        merged: dict[str, tuple[list[VersionRange], list[str]]] = {}
        for requirement in self._with_overrides(given):
            if requirement.marker is not None and not self._marker_holds(requirement, extra):
                continue
            _, spec, keys = self._parsed(requirement)
            # Memoized by text: the same range for every key and every line spelling it.
            admitted = specifier_range(spec, requirement.specifier)
            for key in keys:
                entry = merged.get(key)
                if entry is None:
                    entry = merged[key] = ([], [])
                entry[0].append(admitted)
                entry[1].append(spec)
        edges = tuple(
            Dependency(key, intersect_all(ranges), _merged_text(lines))
            for key, (ranges, lines) in merged.items()
        )
        if self._edge_table is not None:
            # Each edge's stored form (see _keep): the lines' texts, which _rebuilt folds.
            for edge, (_, lines) in zip(edges, merged.values(), strict=True):
                self._stored_of[id(edge)] = (
                    edge,
                    (edge.package, lines[0] if len(lines) == 1 else tuple(lines)),
                )
        self._edges_cache[known] = (given, edges)
        return edges

    @staticmethod
    def _without_self(
        keys: tuple[str, ...], version: Version, edges: tuple[Dependency, ...]
    ) -> tuple[Dependency, ...] | Unavailable:
        """Settle a version's requirements on itself: its project, or the extra it is.

        A requirement the version meets adds nothing; one it does not meet (``a 2.0``
        requiring ``a>=3``, or extra ``x`` of ``a 2.0`` requiring ``a[x]<2``) can never
        hold, so the version cannot be used, as in pip and uv, which treat it as a
        constraint on the project. The engines never see an edge from a package to
        itself (a fact about one package cannot both require and forbid it).
        """
        kept = []
        for edge in edges:
            if edge.package not in keys:
                kept.append(edge)
            elif version not in edge.range:
                return Unavailable(
                    f"requires `{edge.package}{edge.specifier}`, which excludes itself"
                )
        return tuple(kept) if len(kept) < len(edges) else edges

    def _parsed(self, requirement: Requirement) -> tuple[Requirement, str, tuple[str, ...]]:
        """Return ``(requirement, specifier text, package keys)``, computed once.

        Rendering a ``SpecifierSet`` and normalizing names cost more than the rest of
        turning a requirement into edges, and providers hand out the same requirement
        objects again and again (every version of a package, every universe over one
        provider). Keyed by identity, with the requirement kept in the value so that
        its id cannot be recycled.
        """
        found = self._requirement_cache.get(id(requirement))
        if found is None:
            _, spec, keys = _requirement_parts(requirement)
            found = (requirement, spec, keys)
            self._requirement_cache[id(requirement)] = found
        return found

    def _marker_holds(self, requirement: Requirement, extra: str | None) -> bool:
        """Return whether the requirement's marker holds for the target with ``extra``."""
        marker = requirement.marker
        assert marker is not None
        key = (id(marker), extra or "")
        found = self._marker_cache.get(key)
        if found is None:
            env = dict(self.markers)
            env["extra"] = extra or ""
            found = (marker, requirement_applies(requirement, env))
            self._marker_cache[key] = found
        return found[1]

    def _with_overrides(self, requirements: Iterable[Requirement]) -> Iterable[Requirement]:
        """Return ``requirements`` with overridden projects' lines replaced (as given if none)."""
        if not self.options.overrides:
            return requirements
        return self._overridden(requirements)

    def _overridden(self, requirements: Iterable[Requirement]) -> Iterator[Requirement]:
        overrides = self.options.overrides
        replaced: set[NormalizedName] = set()
        for requirement in requirements:
            name = canonicalize_name(requirement.name)
            if name not in overrides:
                yield requirement
            elif name not in replaced:
                replaced.add(name)
                yield from overrides[name]

    @staticmethod
    def _exact_pins(requirements: Iterable[Requirement]) -> dict[NormalizedName, set[Version]]:
        """Versions the user pinned with ``==`` or ``===``: the only yanked ones allowed."""
        pins: dict[NormalizedName, set[Version]] = {}
        for requirement in requirements:
            for spec in requirement.specifier:
                if spec.operator in ("==", "===") and not spec.version.endswith(".*"):
                    try:
                        version = Version(spec.version)
                    except ValueError:
                        continue
                    pins.setdefault(canonicalize_name(requirement.name), set()).add(version)
        return pins
