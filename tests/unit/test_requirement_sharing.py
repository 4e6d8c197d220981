"""Turning cached metadata into edges: shared specifier sets, bundle lines found by search,
and the memos of the universe, each giving what the plain computation gives."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.index import metadata as metadata_module
from resolvent.index.httpcache import HttpCache
from resolvent.index.metadata import CoreMetadata, MetadataBundle
from resolvent.requirement_parsing import parse_requirement
from resolvent.solver import universe as universe_module
from resolvent.solver.universe import python_allowed

if TYPE_CHECKING:
    from pathlib import Path

NAME = canonicalize_name("demo")


def test_lines_that_spell_a_specifier_alike_share_one_set() -> None:
    first = parse_requirement('alpha>=1.0,<2; extra == "one"')
    second = parse_requirement("beta>=1.0,<2")
    assert first.specifier is second.specifier
    for line in ('alpha>=1.0,<2; extra == "one"', "beta>=1.0,<2"):
        ours, theirs = parse_requirement(line), Requirement(line)
        assert ours == theirs
        assert str(ours) == str(theirs)
        assert [str(s) for s in ours.specifier] == [str(s) for s in theirs.specifier]
    # Another spelling is another set, equal where packaging says so.
    other = parse_requirement("gamma<2,>=1.0")
    assert other.specifier is not first.specifier
    assert other.specifier == first.specifier


def test_a_shared_long_set_is_folded_once_and_admits_what_packagings_does() -> None:
    spec = ",".join(f"!=0.0.{i}" for i in range(40))
    first = parse_requirement(f"alpha{spec}")
    second = parse_requirement(f"beta{spec}; python_version > '3'")
    assert first.specifier is second.specifier
    assert first.specifier._ranges is not None  # folded by prepare_bounds
    theirs = SpecifierSet(spec)
    for text in ("0.0.3", "0.0.39", "0.0.40", "1.0"):
        version = Version(text)
        assert first.specifier.contains(version) == theirs.contains(version)


def _bundle_file(tmp_path: Path, lines: list[bytes], *, header: bytes | None = None) -> HttpCache:
    cache = HttpCache(tmp_path)
    path = cache.path(MetadataBundle.key(NAME))
    path.parent.mkdir(parents=True, exist_ok=True)
    head = json.dumps({"kind": metadata_module._BUNDLE, "name": NAME}, sort_keys=True).encode()
    path.write_bytes(b"\n".join([head if header is None else header, *lines]))
    return cache


def _summary(version: str) -> bytes:
    return CoreMetadata(NAME, Version(version), (Requirement("dep>=1"),), None, ()).to_json()


IDENTITIES = [
    "sha256:aa",
    "sha256:bb",
    "sha256:cc",
    "sha256:a",
    "a",
    "",
    "sha256:aa\tx",
    "sha256:aa\n",
    "caf\u00e9",
    "bad\ufffd",
    "surrogate\udcff",
    "sha256:gone",
]


@pytest.mark.parametrize(
    "lines",
    [
        [b"sha256:aa\t" + _summary("1.0"), b"sha256:bb\t" + _summary("2.0"), b""],
        # A repeated identity: its last line counts, as the dict of lines keeps it.
        [b"sha256:aa\t" + _summary("1.0"), b"sha256:aa\t" + _summary("3.0"), b""],
        # A last line cut short: with its tab it is an entry (a damaged one), without not.
        [b"sha256:aa\t" + _summary("1.0"), b"sha256:bb\t" + _summary("2.0")[:20]],
        [b"sha256:aa\t" + _summary("1.0"), b"sha256:bb"],
        # Lines that merely contain an identity, and other spellings of one.
        [b"xsha256:aa\t" + _summary("1.0"), b"sha256:a\t" + _summary("2.0"), b"\tnone"],
        [b"caf\xc3\xa9\t" + _summary("1.0"), b"bad\xff\t" + _summary("2.0"), b""],
        [],
    ],
)
def test_bundle_lookups_find_what_the_dict_of_lines_holds(
    tmp_path: Path, lines: list[bytes]
) -> None:
    cache = _bundle_file(tmp_path, lines)
    expected = MetadataBundle(cache, NAME)._read()
    for identity in IDENTITIES:
        searched = MetadataBundle(cache, NAME)
        assert searched._line(identity) == expected.get(identity), identity
        assert (identity in searched) == (identity in expected), identity
        line = expected.get(identity)
        wanted = None if line is None else CoreMetadata.from_json(line)
        assert MetadataBundle(cache, NAME).get(identity) == wanted, identity


def test_bundle_lookups_need_no_dict_of_every_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"sha256:{i:04x}\t".encode() + _summary(f"{i}.0") for i in range(200)]
    cache = _bundle_file(tmp_path, lines)
    bundle = MetadataBundle(cache, NAME)

    def refused(self: MetadataBundle) -> dict[str, bytes]:
        raise AssertionError("the whole bundle was decoded")

    monkeypatch.setattr(MetadataBundle, "_read", refused)
    found = bundle.get("sha256:00c7")
    assert found is not None
    assert found.version == Version("199.0")
    assert "sha256:0000" in bundle
    assert "sha256:zzzz" not in bundle


@pytest.mark.parametrize("header", [b"garbage", b""])
def test_a_bundle_of_another_kind_holds_nothing(tmp_path: Path, header: bytes) -> None:
    cache = _bundle_file(tmp_path, [b"sha256:aa\t" + _summary("1.0")], header=header)
    assert MetadataBundle(cache, NAME).get("sha256:aa") is None
    assert "sha256:aa" not in MetadataBundle(cache, NAME)
    assert MetadataBundle(HttpCache(tmp_path / "none"), NAME).get("sha256:aa") is None


@pytest.mark.parametrize("name", ["demo", "a-b.c_d", 'q"uote', "caf\u00e9", "back\\slash"])
def test_bundle_headers_are_what_json_writes(name: str) -> None:
    bundle = MetadataBundle(HttpCache.__new__(HttpCache), canonicalize_name("x"))
    bundle._name = name  # type: ignore[assignment]
    expected = json.dumps({"kind": metadata_module._BUNDLE, "name": name}, sort_keys=True)
    assert bundle._header() == expected.encode()


def test_bundle_lines_saved_after_a_search_are_found(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    bundle = MetadataBundle(cache, NAME)
    assert bundle.get("sha256:aa") is None  # searched the (missing) file
    one = CoreMetadata(NAME, Version("1.0"), (Requirement("dep>=1"),), None, ())
    bundle.add("sha256:aa", one)
    bundle.save()
    assert bundle.get("sha256:aa") == one
    assert "sha256:aa" in bundle
    assert MetadataBundle(cache, NAME).get("sha256:aa") == one


def test_python_allowed_answers_each_python_for_one_specifier_object() -> None:
    spec = SpecifierSet(">=3.10")
    newer, older = Version("3.12"), Version("3.8")
    for _ in range(2):
        assert python_allowed(spec, newer)
        assert not python_allowed(spec, older)
    # An equal Python that is another object is answered alike.
    assert not python_allowed(spec, Version("3.8"))


@pytest.mark.parametrize(
    "line",
    [
        "a",
        "a>=1",
        "A_b[x,Y]>=1,<2,>=1",
        "a<2,>=1.0,!=1.5",
        "a===weird",
        'a[z]==1.*; extra == "q"',
    ],
)
def test_requirement_parts_are_the_sorted_distinct_specifier_strings(line: str) -> None:
    for requirement in (parse_requirement(line), Requirement(line)):
        name, spec, keys = universe_module._requirement_parts(requirement)
        assert name == canonicalize_name(requirement.name)
        assert spec == ",".join(sorted({str(s) for s in requirement.specifier}))
        extras = sorted(requirement.extras)
        assert keys == (name, *(universe_module.package_key(name, e) for e in extras))
