"""Listings in columns: the same universe as a list of entries, with less work per version.

An index provider hands the universe a :class:`~resolvent.solver.universe.Listing`: the
usable-looking versions as columns, a few special entries, and the unusable versions
apart, read only by explanations. Whatever the form, the universe must answer alike
(versions and their order, exclusions and why, entries); and the work it spares (the
unusable versions' entries, version comparisons, edges made again) must stay spared.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from resolvent.solver.memory import InMemoryProvider, Release
from resolvent.solver.provider import Unavailable, VersionInfo
from resolvent.solver.ranges import from_specifier
from resolvent.solver.universe import Listing, Options, Universe

if TYPE_CHECKING:
    from resolvent.target import Target

V = Version
NEW_PYTHON = SpecifierSet(">=3.13")
OLD_PYTHON = SpecifierSet(">=2.7")
#: One object for both versions, as parsed metadata shares them (see parse_requirement).
NEEDS_B = Requirement("b>=1")

RELEASES = {
    "a": [
        Release(VersionInfo(V("0.9"), requires_python=OLD_PYTHON)),
        Release(VersionInfo(V("1.0"), requires_python=OLD_PYTHON), (NEEDS_B,)),
        Release(VersionInfo(V("1.1"), yanked=True, yanked_reason="broken")),
        Release(VersionInfo(V("1.2")), (NEEDS_B,)),
        Release(VersionInfo(V("1.3"), requires_python=NEW_PYTHON)),
        Release(VersionInfo(V("2.0rc1"))),
        Release(VersionInfo(V("2.0"), unusable="has no wheels for the target")),
        Release(VersionInfo(V("2.1"), yanked=True, unusable="was uploaded after the limit")),
    ],
    "b": [Release(VersionInfo(V(f"1.{i}"))) for i in range(5)] + [Release(VersionInfo(V("2.0b1")))],
}


class _Counted(Sequence[VersionInfo]):
    """A lazy section of unusable entries that counts how often it is read."""

    def __init__(self, infos: list[VersionInfo]) -> None:
        self._infos = infos
        self.reads = 0

    def __len__(self) -> int:
        return len(self._infos)

    @overload
    def __getitem__(self, index: int) -> VersionInfo: ...

    @overload
    def __getitem__(self, index: slice) -> list[VersionInfo]: ...

    def __getitem__(self, index: int | slice) -> VersionInfo | list[VersionInfo]:
        self.reads += 1
        return self._infos[index]

    def __iter__(self) -> Iterator[VersionInfo]:
        self.reads += 1
        return iter(self._infos)


class ColumnProvider(InMemoryProvider):
    """The same releases, listed as an index provider lists them: in sorted columns."""

    def __init__(self, releases: dict[str, list[Release]]) -> None:
        super().__init__(releases)
        self.unusable: dict[str, _Counted] = {}

    def list_versions(self, name: NormalizedName) -> Sequence[VersionInfo] | Unavailable:
        found = super().list_versions(name)
        if isinstance(found, Unavailable):
            return found
        infos = sorted(found, key=lambda info: info.version)
        usable = [info for info in infos if info.unusable is None]
        unusable = self.unusable[name] = _Counted([i for i in infos if i.unusable is not None])
        return Listing(
            [info.version for info in usable],
            [info.requires_python for info in usable],
            {i: info for i, info in enumerate(usable) if info.yanked},
            unusable=unusable,
            texts=[str(info.version) for info in usable],
            ascending=True,
        )


def _universes(
    target: Target, requires: list[str], **options: Any
) -> tuple[Universe, Universe, ColumnProvider]:
    columns = ColumnProvider(RELEASES)
    plain = InMemoryProvider(RELEASES)
    made = [
        Universe(
            provider,
            [Requirement(r) for r in requires],
            target.markers(),
            target.python_version,
            Options(**options),
        )
        for provider in (plain, columns)
    ]
    return made[0], made[1], columns


@pytest.mark.parametrize(
    ("requires", "options"),
    [
        (["a", "b"], {}),
        (["a==1.1", "b>=2.0b1"], {"prerelease": "explicit"}),
        (["a", "b"], {"prerelease": "disallow"}),
        (["a", "b"], {"prerelease": "allow", "resolution": "lowest"}),
        (["a", "b"], {"resolution": "lowest-direct"}),
        (["a"], {"constraints": {canonicalize_name("a"): from_specifier("<1.2")}}),
        (["a", "b"], {"preferences": {"a": V("1.0"), "b": V("2.0b1")}}),
        (["a", "b"], {"preferences": {"a": V("2.0"), "b": V("1.3")}}),
    ],
)
def test_columns_answer_as_a_list_of_entries(
    target: Target, requires: list[str], options: dict[str, Any]
) -> None:
    plain, columns, provider = _universes(target, requires, **options)
    for name in ("a", "b"):
        assert columns.versions(name) == plain.versions(name)
        # Searchable alike, whatever stretches the order has.
        for text in ("", ">=1.0,<1.3", "<2", ">=2.0a0", "==1.3"):
            allowed = from_specifier(text)
            expected = [i for i, v in enumerate(plain.versions(name)) if v in allowed]
            assert columns.index(name).positions(allowed) == expected
        assert dict(columns.excluded(name)) == dict(plain.excluded(name))
        for release in RELEASES[name]:
            version = release.info.version
            assert columns.info(name, version) == plain.info(name, version) == release.info
        assert columns.dependencies(name, plain.versions(name)[0]) == plain.dependencies(
            name, plain.versions(name)[0]
        )
    assert columns.info("a", V("7.0")) is None
    listed = provider.list_versions(canonicalize_name("a"))
    assert not isinstance(listed, Unavailable)
    entries = [release.info for release in RELEASES["a"]]
    assert sorted(listed, key=lambda i: i.version) == sorted(entries, key=lambda i: i.version)


def test_unusable_versions_are_read_only_to_explain(target: Target) -> None:
    _, columns, provider = _universes(target, ["a"])
    assert columns.versions("a")[0] == V("1.2")
    assert not isinstance(columns.dependencies("a", V("1.2")), Unavailable)
    assert columns.info("a", V("1.2")) == VersionInfo(V("1.2"))
    assert provider.unusable["a"].reads == 0
    excluded = columns.excluded("a")
    assert excluded[V("2.0")] == "has no wheels for the target"
    assert excluded[V("2.1")] == "was uploaded after the limit"  # unusable before yanked
    assert columns.info("a", V("2.1")) == RELEASES["a"][-1].info


def test_a_listing_is_a_sequence_of_entries() -> None:
    infos = [release.info for release in RELEASES["a"]]
    listing = Listing.of(infos)
    assert listing == infos
    assert list(listing) == infos
    assert listing[-1] == infos[-1]
    assert listing[1:3] == infos[1:3]
    assert len(listing) == len(infos)
    assert listing.find(V("1.1")) == infos[2]
    with pytest.raises(ValueError, match="does not match"):
        Listing([V("1.0")], [None], {0: VersionInfo(V("2.0"), yanked=True)})
    with pytest.raises(ValueError, match="differ in length"):
        Listing([V("1.0")], [])


def test_versions_with_the_same_requirements_share_their_edges(target: Target) -> None:
    plain, _, _ = _universes(target, ["a"])
    first = plain.dependencies("a", V("1.0"))
    assert first == plain.dependencies("a", V("1.2"))
    assert first is plain.dependencies("a", V("1.2"))  # made once


def test_the_version_index_is_built_without_comparing_versions(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = [Release(VersionInfo(V(f"1.{i}"))) for i in range(300)]
    history += [Release(VersionInfo(V(f"2.0rc{i}"))) for i in range(1, 40)]
    provider = ColumnProvider({"big": history})
    universe = Universe(
        provider,
        [Requirement("big")],
        target.markers(),
        target.python_version,
        Options(preferences={canonicalize_name("big"): V("1.150")}),
    )
    order = universe.versions("big")
    assert order[:3] == (V("1.150"), V("1.299"), V("1.298"))
    assert order[-1] == V("2.0rc1")
    compared: list[object] = []
    for method in ("__lt__", "__gt__"):
        real = getattr(Version, method)

        def counting(self: Version, other: object, real: Any = real) -> bool:
            compared.append(self)
            return bool(real(self, other))

        monkeypatch.setattr(Version, method, counting)
    index = universe.index("big")
    assert len(compared) <= 3  # which way each of its sorted stretches runs
    monkeypatch.undo()
    for text in (">=1.100,<1.200", "<1.151", ">=2.0rc5", "!=1.150", ">1.150,<1.152"):
        allowed = from_specifier(text)
        assert index.positions(allowed) == [i for i, v in enumerate(order) if v in allowed]
