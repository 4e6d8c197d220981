"""The provider protocol: where the solver gets versions and requirements from.

The solver is pure; everything it knows about packages arrives through a
:class:`Provider`. An index client implements it over HTTP, and
:mod:`resolvent.solver.scenario` implements it over a scenario file. Expected
unavailability (a project that does not exist, metadata that cannot be had) is a returned
value the solver can explain, never an exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol

from resolvent.value_class import Value

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import NormalizedName
    from packaging.version import Version

__all__ = ["Provider", "Reporter", "Unavailable", "VersionInfo", "unusable_reason"]


def unusable_reason(*, wheels: bool, sdist: bool, no_build: bool, no_binary: bool) -> str:
    """Say why no file of a version can be used, for :attr:`VersionInfo.unusable`.

    Called when the sdist cannot be used (there is none, or builds are forbidden) and no
    wheel can (there is none, wheels are forbidden, or no tag fits the target). The index
    provider and scenario files describe their versions with the same words.
    """
    if not wheels and not sdist:
        return "has no distributions"
    if sdist and no_build:
        if not wheels:
            return "has only a source distribution and building from source is disabled"
        if no_binary:
            return "has no usable wheels and building from source is disabled"
        return (
            "has no wheels with a matching platform tag or Python ABI, "
            "and building from source is disabled"
        )
    if no_binary:
        return "has only wheels and `--no-binary` is set"
    return "has no wheels with a matching platform tag or Python ABI, and no source distribution"


class VersionInfo(Value):
    """What an index listing says of one version of a project, before its metadata.

    ``unusable`` names why no distribution of this version can be used for the target
    (no compatible wheel and building is disabled, for example); such a version is never
    chosen, and the reason appears in explanations.
    """

    __slots__ = ("requires_python", "unusable", "version", "yanked", "yanked_reason")

    def __init__(
        self,
        version: Version,
        yanked: bool = False,  # noqa: FBT001, FBT002 - positional, as the dataclass took it
        yanked_reason: str | None = None,
        requires_python: SpecifierSet | None = None,
        unusable: str | None = None,
    ) -> None:
        self.version: Final = version
        self.yanked: Final = yanked
        self.yanked_reason: Final = yanked_reason
        self.requires_python: Final = requires_python
        self.unusable: Final = unusable


class Unavailable(Value):
    """A value that says why something cannot be had, for explanations.

    A :class:`~resolvent.value_class.Value` (see :class:`VersionInfo`): a subclass adds
    nothing to compare, and an instance equals only one of its own class.
    """

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason: Final = reason


class Provider(Protocol):
    """The source of truth about packages, as the solver sees it."""

    def list_versions(self, name: NormalizedName) -> Sequence[VersionInfo] | Unavailable:
        """Return every version the index lists for ``name``, in any order."""
        ...

    def get_requirements(
        self, name: NormalizedName, version: Version
    ) -> Sequence[Requirement] | Unavailable:
        """Return the ``Requires-Dist`` of one version, markers and extras unevaluated."""
        ...

    @property
    def takes_hints(self) -> bool:
        """Whether :meth:`prefetch` and :meth:`prefetch_listings` can start any work.

        When they cannot (everything in memory, or an offline run that reads only its
        cache), the engines skip working out what to hint: on a layered benchmark
        universe that was 4% of a search, on a warm offline airflow compile 1,347 range
        searches of the dependencies' versions.
        """
        ...

    def prefetch(self, name: NormalizedName, versions: Sequence[Version]) -> None:
        """Hint that requirements of these versions will be asked for soon (may do nothing).

        One version is the one the engine expects to decide next; several are a batch,
        of which a provider may skip the costly ones.
        """
        ...

    def prefetch_listings(self, names: Sequence[NormalizedName]) -> None:
        """Hint that these projects' versions will be asked for soon (may do nothing)."""
        ...


class Reporter(Protocol):
    """Progress hooks of the engines; every hook may do nothing.

    ``should_cancel`` lets a caller stop a long search from outside (the solver has no
    clock of its own): it is polled between steps, and a true answer makes the engine
    give up with a budget error.
    """

    def starting(self, engine: str) -> None:
        """Call when an engine starts."""
        ...

    def decided(self, package: str, version: Version) -> None:
        """Call when a version is tentatively chosen for a package."""
        ...

    def conflict(self, description: str) -> None:
        """Call when the engine learns a conflict."""
        ...

    def should_cancel(self) -> bool:
        """Return true to stop the search."""
        ...
