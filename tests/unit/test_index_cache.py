"""The warm path's cache layers: parsed pages, per-target listings, metadata summaries.

Each layer must be invisible in results: a warm run answers exactly as a cold one, a
changed page is never matched with old derived data, a corrupt side file counts as
missing, and conclusions that depend on the target never leak to another target.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.index import listing
from resolvent.index import metadata as metadata_module
from resolvent.index import provider as provider_module
from resolvent.index.config import IndexConfig
from resolvent.index.httpcache import CacheEntry, HttpCache
from resolvent.index.listing import PAGE_KIND, PageRecords
from resolvent.index.metadata import (
    CoreMetadata,
    MetadataBundle,
    cached_metadata,
    store_summary,
)
from resolvent.index.pages import JSON_CONTENT_TYPE, FileRecord, parse_page
from resolvent.index.provider import IndexProvider
from resolvent.index.serve import IndexServer
from resolvent.solver.provider import Unavailable, VersionInfo
from resolvent.target import Target, parse_platform
from tests.support.dists import Dist, build_sdist, build_wheel
from tests.support.index import RequestLog, serve_dists, set_upload_time

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


NAME = canonicalize_name("demo")
LINUX = Target(Version("3.11"), parse_platform("x86_64-manylinux_2_28"))
WINDOWS = Target(Version("3.11"), parse_platform("x86_64-pc-windows-msvc"))


def _json_page(files: list[dict[str, object]]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": files}).encode()


def _file(filename: str, **extra: object) -> dict[str, object]:
    return {"filename": filename, "url": f"/f/{filename}", "hashes": {"sha256": "ab"}, **extra}


PAGE = _json_page(
    [
        _file("demo-1.0.tar.gz", **{"requires-python": ">=3.8"}),
        _file("demo-1.0-py3-none-any.whl", **{"upload-time": "2024-01-01T00:00:00Z"}),
        _file("demo-2.0-cp311-cp311-win_amd64.whl", yanked="broken"),
        _file("demo-2.0.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
    ]
)
URL = "http://h/simple/demo/"


def _cached_page(cache: HttpCache, content: bytes = PAGE) -> tuple[str, CacheEntry]:
    key = HttpCache.key(URL, "accept")
    entry = CacheEntry(URL, 200, {"content-type": JSON_CONTENT_TYPE}, content, 0.0)
    cache.store(key, entry)
    loaded = cache.load(key, body=False)
    assert loaded is not None
    return key, loaded


def _all(page: PageRecords) -> list[FileRecord]:
    return [record for _, _, group in page.groups() for record in group]


# -- the HTTP cache's digests and side files --------------------------------------------


def test_entries_record_their_digest_and_load_without_body(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    key, header_only = _cached_page(cache)
    assert header_only.content == b""
    assert header_only.digest is not None
    full = cache.load(key)
    assert full is not None
    assert full.content == PAGE
    assert full.digest == header_only.digest


def test_derived_data_is_tied_to_the_body_digest(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    cache.store_derived("k" * 64, "x-v1", "d1", {"a": 1})
    assert cache.load_derived("k" * 64, "x-v1", "d1") == {"a": 1}
    assert cache.load_derived("k" * 64, "x-v1", "d2") is None  # another body
    assert cache.load_derived("k" * 64, "y-v1", "d1") is None  # another kind
    cache.derived_path("k" * 64, "x-v1").write_bytes(b'{"digest": "d1", "da')
    assert cache.load_derived("k" * 64, "x-v1", "d1") is None  # corrupt: missing


# -- parsed pages -----------------------------------------------------------------------


def test_records_become_the_same_files_as_the_page_parser(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    key, entry = _cached_page(cache)
    records = _all(PageRecords.load(cache, key, entry, NAME))
    expected = parse_page(PAGE, url=URL, content_type=JSON_CONTENT_TYPE, name="demo").files
    # Grouped by version (1.0, then 2.0 with 2.0.0), page order within a version.
    by_name = {f.filename: f for f in expected}
    assert [r.dist(NAME) for r in records] == [by_name[r.filename] for r in records]
    assert len(records) == len(expected)
    assert [FileRecord.of(r.dist(NAME)) for r in records] == records


def test_side_file_is_used_then_invalidated_by_a_new_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = HttpCache(tmp_path)
    key, entry = _cached_page(cache)
    first = _all(PageRecords.load(cache, key, entry, NAME))
    assert cache.derived_path(key, PAGE_KIND).exists()

    def refuse(*_: object, **__: object) -> object:
        raise AssertionError("the page was parsed again")

    with monkeypatch.context() as patch:
        patch.setattr(listing, "page_records", refuse)
        assert _all(PageRecords.load(cache, key, entry, NAME)) == first
    # The page changed: its new digest does not match the side file, so it is parsed.
    changed = _json_page([_file("demo-3.0-py3-none-any.whl")])
    key, entry = _cached_page(cache, changed)
    assert [r.version for r in _all(PageRecords.load(cache, key, entry, NAME))] == ["3.0"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"garbage\n" + data,  # wrong header
        lambda data: data.replace(b'"sdist"', b'"other"'),  # bad row
        lambda data: data.replace(b"\t[[", b"\t[[[", 1),  # bad JSON in one version
    ],
)
def test_corrupt_side_file_counts_as_missing(tmp_path: Path, damage: object) -> None:
    cache = HttpCache(tmp_path)
    key, entry = _cached_page(cache)
    expected = _all(PageRecords.load(cache, key, entry, NAME))
    side = cache.derived_path(key, PAGE_KIND)
    assert callable(damage)
    side.write_bytes(damage(side.read_bytes()))
    assert _all(PageRecords.load(cache, key, entry, NAME)) == expected


def test_entry_without_digest_gets_one(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    key = HttpCache.key(URL, "accept")
    # As written before digests were recorded.
    header = {"url": URL, "status": 200, "headers": {"content-type": JSON_CONTENT_TYPE}}
    cache.path(key).parent.mkdir(parents=True)
    cache.path(key).write_bytes(json.dumps({**header, "fetched_at": 0.0}).encode() + b"\n" + PAGE)
    old = cache.load(key, body=False)
    assert old is not None
    assert old.digest is None
    assert len(_all(PageRecords.load(cache, key, old, NAME))) == 4
    upgraded = cache.load(key, body=False)
    assert upgraded is not None
    assert upgraded.digest is not None
    assert cache.derived_path(key, PAGE_KIND).exists()


# -- metadata summaries -----------------------------------------------------------------


def test_metadata_summary_round_trip_and_corruption(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    page = parse_page(PAGE, url=URL, content_type=JSON_CONTENT_TYPE, name="demo")
    wheel = page.files[1]
    assert cached_metadata(cache, wheel) is None
    meta = CoreMetadata(NAME, Version("1.0"), (), None, ())
    store_summary(cache, wheel, meta)
    assert cached_metadata(cache, wheel) == meta
    # Another project's metadata under this file's hash is refused, as when fetched.
    store_summary(cache, wheel, CoreMetadata(NAME, Version("9"), (), None, ()))
    assert isinstance(cached_metadata(cache, wheel), Unavailable)
    summary = next(p for p in tmp_path.rglob("*") if p.is_file())
    summary.write_bytes(summary.read_bytes()[:-5])
    assert cached_metadata(cache, wheel) is None  # corrupt: missing


# -- the provider, end to end over a local index ----------------------------------------


DISTS = [
    Dist("demo", "1.0", requires=["dep"]),
    Dist("demo", "2.0", requires=["dep>=2"], tag="cp311-cp311-win_amd64"),
    Dist("dep", "1.0"),
    Dist("dep", "2.0"),
]


@pytest.fixture
def served(tmp_path: Path) -> tuple[IndexServer, RequestLog]:
    log = RequestLog()
    server = serve_dists(tmp_path, DISTS, hooks=log)
    set_upload_time(server.folder / "dep-2.0-py3-none-any.whl", datetime(2030, 1, 1, tzinfo=UTC))
    return server, log


def _resolve_view(
    server: IndexServer,
    cache: Path,
    target: Target,
    *,
    policy: str = "normal",
    exclude_newer: datetime | None = None,
    loops: list[bool] | None = None,
) -> tuple[dict[str, Sequence[VersionInfo] | Unavailable], dict[str, object]]:
    """List both projects and read every usable version's requirements.

    ``loops`` collects whether the provider had to start its I/O loop.
    """
    config = IndexConfig(server.url + "/")
    listings: dict[str, Sequence[VersionInfo] | Unavailable] = {}
    requirements: dict[str, object] = {}
    with IndexProvider(
        config,
        target,
        cache_dir=cache,
        policy=policy,  # type: ignore[arg-type]
        exclude_newer=exclude_newer,
    ) as provider:
        for name in ("demo", "dep"):
            found = provider.list_versions(canonicalize_name(name))
            listings[name] = found
            assert not isinstance(found, Unavailable)
            for info in found:
                if info.unusable is None:
                    reqs = provider.get_requirements(canonicalize_name(name), info.version)
                    text = reqs if isinstance(reqs, Unavailable) else sorted(map(str, reqs))
                    requirements[f"{name}=={info.version}"] = text
        if loops is not None:
            loops.append(provider._loop is not None)
    return listings, requirements


def test_warm_runs_answer_like_cold_ones_without_requests(
    served: tuple[IndexServer, RequestLog], tmp_path: Path
) -> None:
    server, log = served
    cache = tmp_path / "cache"
    with server:
        loops: list[bool] = []
        cold = _resolve_view(server, cache, LINUX, loops=loops)
        cold_requests = len(log.paths())
        assert cold_requests > 0
        warm = _resolve_view(server, cache, LINUX, loops=loops)
        assert len(log.paths()) == cold_requests  # fresh pages, immutable metadata
        offline = _resolve_view(server, cache, LINUX, policy="offline", loops=loops)
        assert len(log.paths()) == cold_requests
    assert warm == cold
    assert offline == cold
    # Warm answers come straight from the cache, without the I/O thread.
    assert loops == [True, False, False]


def test_listing_conclusions_are_per_target_and_per_policy(
    served: tuple[IndexServer, RequestLog], tmp_path: Path
) -> None:
    server, _ = served
    cache = tmp_path / "cache"
    with server:
        linux, _ = _resolve_view(server, cache, LINUX)
        windows, _ = _resolve_view(server, cache, WINDOWS)
        linux_again, _ = _resolve_view(server, cache, LINUX)
        dated, _ = _resolve_view(
            server, cache, LINUX, exclude_newer=datetime(2029, 1, 1, tzinfo=UTC)
        )
        fresh_linux, _ = _resolve_view(server, tmp_path / "other-cache", LINUX)
        fresh_windows, _ = _resolve_view(server, tmp_path / "other-cache-2", WINDOWS)

    def usable(found: object) -> list[str]:
        assert isinstance(found, Sequence)
        return sorted(str(i.version) for i in found if i.unusable is None)

    assert usable(linux["demo"]) == ["1.0"]  # 2.0 has only a Windows wheel
    assert usable(windows["demo"]) == ["1.0", "2.0"]
    assert linux_again == linux == fresh_linux
    assert windows == fresh_windows
    assert usable(linux["dep"]) == ["1.0", "2.0"]
    assert usable(dated["dep"]) == ["1.0"]  # 2.0 was uploaded after the date


def test_corrupt_listing_side_file_counts_as_missing(
    served: tuple[IndexServer, RequestLog], tmp_path: Path
) -> None:
    server, _ = served
    cache = tmp_path / "cache"
    with server:
        expected = _resolve_view(server, cache, LINUX)
        for side in cache.rglob(f"*.{listing.LISTING_KIND}-*"):
            side.write_bytes(side.read_bytes().replace(b"1.0", b"[[", 1))
        assert _resolve_view(server, cache, LINUX, policy="offline") == expected
        for side in cache.rglob(f"*.{PAGE_KIND}"):
            side.write_bytes(b"")
        for side in cache.rglob(f"*.{listing.LISTING_KIND}-*"):
            side.write_bytes(b"[1, 2]")
        assert _resolve_view(server, cache, LINUX, policy="offline") == expected


# -- the warm path reads listings and bundles, not page records ---------------------------


def test_side_file_lines_are_read_only_when_a_version_is_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = HttpCache(tmp_path)
    key, entry = _cached_page(cache)
    expected = _all(PageRecords.load(cache, key, entry, NAME))
    reads: list[object] = []
    real = listing._read_side_file

    def counting(*args: object) -> object:
        reads.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(listing, "_read_side_file", counting)
    page = PageRecords.load(cache, key, entry, NAME)
    assert page.has_files()
    assert reads == []
    assert _all(page) == expected
    assert len(reads) == 1
    # An empty page is known to be empty from the side file's head as well.
    key, entry = _cached_page(cache, _json_page([]))
    assert not PageRecords.load(cache, key, entry, NAME).has_files()
    assert not PageRecords.load(cache, key, entry, NAME).has_files()  # from the side file
    assert len(reads) == 1


def test_a_side_file_damaged_after_its_probe_is_repaired_on_first_use(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    key, entry = _cached_page(cache)
    expected = _all(PageRecords.load(cache, key, entry, NAME))
    page = PageRecords.load(cache, key, entry, NAME)
    side = cache.derived_path(key, PAGE_KIND)
    side.write_bytes(side.read_bytes()[:-10])
    assert _all(page) == expected
    # A cut tail is seen by the probe itself: the page is parsed again.
    side.write_bytes(side.read_bytes()[:-10])
    assert _all(PageRecords.load(cache, key, entry, NAME)) == expected


def _bundles(cache: Path) -> list[Path]:
    head = b'{"kind": "core-metadata-bundle'
    return [p for p in cache.rglob("*") if p.is_file() and p.read_bytes().startswith(head)]


def test_warm_runs_answer_from_listings_and_bundles(
    served: tuple[IndexServer, RequestLog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = served
    cache = tmp_path / "cache"
    with server:
        cold = _resolve_view(server, cache, LINUX)
        assert len(_bundles(cache)) == 2  # demo and dep, written when the provider closed
        assert _resolve_view(server, cache, LINUX) == cold  # judges the cached pages

        def refuse(*_: object, **__: object) -> object:
            raise AssertionError("a page's records or a single summary was read")

        with monkeypatch.context() as patch:
            patch.setattr(PageRecords, "group", refuse)
            patch.setattr("resolvent.index.provider.cached_metadata", refuse)
            assert _resolve_view(server, cache, LINUX) == cold
            assert _resolve_view(server, cache, LINUX, policy="offline") == cold
        # Another target names other metadata files; it reads its own, then bundles them.
        windows = _resolve_view(server, cache, WINDOWS)
        assert _resolve_view(server, cache, WINDOWS) == windows
        with monkeypatch.context() as patch:
            patch.setattr(PageRecords, "group", refuse)
            patch.setattr("resolvent.index.provider.cached_metadata", refuse)
            assert _resolve_view(server, cache, WINDOWS, policy="offline") == windows


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data.replace(b'"requires_dist"', b'"requires_dizt"'),  # bad entry
        lambda data: data.replace(b'"version":"1.0"', b'"version":"7.0"'),  # another version
        lambda data: data.replace(b'"name":"dep"', b'"name":"other"'),  # another project
        lambda data: b"garbage" + data,  # wrong header
        lambda data: data[: len(data) // 2],  # cut short
    ],
)
def test_damaged_bundles_cost_time_not_answers(
    served: tuple[IndexServer, RequestLog], tmp_path: Path, damage: object
) -> None:
    server, _ = served
    cache = tmp_path / "cache"
    with server:
        cold = _resolve_view(server, cache, LINUX)
        assert callable(damage)
        for bundle in _bundles(cache):
            bundle.write_bytes(damage(bundle.read_bytes()))
        assert _resolve_view(server, cache, LINUX, policy="offline") == cold
        assert _resolve_view(server, cache, LINUX, policy="offline") == cold


def test_bundle_save_merges_with_entries_saved_meanwhile(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    first = MetadataBundle(cache, NAME)
    second = MetadataBundle(cache, NAME)
    one = CoreMetadata(NAME, Version("1.0"), (Requirement("dep>=1"),), None, ())
    two = CoreMetadata(NAME, Version("2.0"), (), SpecifierSet(">=3.8"), (canonicalize_name("x"),))
    assert first.get("sha256:aa") is None
    first.add("sha256:aa", one)
    second.add("sha256:bb", two)
    second.save()
    first.save()  # read-modify-write: keeps what `second` saved
    fresh = MetadataBundle(cache, NAME)
    assert fresh.get("sha256:aa") == one
    assert fresh.get("sha256:bb") == two
    assert "sha256:cc" not in fresh
    assert not list(tmp_path.rglob(".tmp-*"))  # atomic writes leave no temp files
    # Another project's bundle is another file.
    assert MetadataBundle(cache, canonicalize_name("other")).get("sha256:aa") is None


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_offline_misses_are_answered_without_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    solo = canonicalize_name("solo")
    dist = Dist("solo", "1.0", requires=["dep"])
    folder = tmp_path / "index"
    file = build_wheel(folder, dist) if kind == "wheel" else build_sdist(folder, dist)
    cache = tmp_path / "cache"
    with IndexServer(folder).start() as server:
        config = IndexConfig(server.url + "/")
        download = f"{server.base_url}/files/{file.name}"
        with IndexProvider(config, LINUX, cache_dir=cache) as provider:
            provider.list_versions(solo)
            assert provider.get_requirements(solo, Version("1.0")) == (Requirement("dep"),)
    # Forget what is known of its metadata: summary, raw file, bundle, downloaded sdist.
    identity = f"sha256:{hashlib.sha256(file.read_bytes()).hexdigest()}"
    http = HttpCache(cache)
    kinds = (metadata_module._SUMMARY, metadata_module._RAW)
    forgotten = [HttpCache.key(f"{prefix}:{identity}") for prefix in kinds]
    forgotten.append(HttpCache.key(download))
    for path in [*_bundles(cache), *(http.path(key) for key in forgotten)]:
        path.unlink(missing_ok=True)

    def offline_answer() -> tuple[object, bool]:
        with IndexProvider(config, LINUX, cache_dir=cache, policy="offline") as provider:
            assert not isinstance(provider.list_versions(solo), Unavailable)
            return provider.get_requirements(solo, Version("1.0")), provider._loop is not None

    found, looped = offline_answer()
    assert isinstance(found, Unavailable)
    assert not looped
    with monkeypatch.context() as patch:
        patch.setattr(IndexProvider, "_offline_miss", lambda *_: None)
        assert offline_answer() == (found, True)  # what the loop answers


def test_warm_listings_parse_no_unusable_version_and_open_no_page_records(
    served: tuple[IndexServer, RequestLog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm listing reads its side file alone, and leaves unusable versions as text.

    On Linux, with the date below, ``2.0`` of both projects is unusable (a Windows wheel;
    a wheel uploaded after the date): a resolution never parses it, and the page's own
    side file is not even opened, until an explanation lists those versions.
    """
    server, _ = served
    cache = tmp_path / "cache"
    date = datetime(2029, 1, 1, tzinfo=UTC)
    names = [canonicalize_name("demo"), canonicalize_name("dep")]
    with server:
        cold = _resolve_view(server, cache, LINUX, exclude_newer=date)
        config = IndexConfig(server.url + "/")
    parsed: list[str] = []
    probed: list[object] = []
    real_version = provider_module.cached_version  # type: ignore[attr-defined]
    real_probe = listing._probe_side_file

    def parsing(text: str) -> Version:
        parsed.append(text)
        return real_version(text)

    def probing(*args: object) -> object:
        probed.append(args)
        return real_probe(*args)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(provider_module, "cached_version", parsing)
        patch.setattr(listing, "_probe_side_file", probing)
        with IndexProvider(
            config, LINUX, cache_dir=cache, policy="offline", exclude_newer=date
        ) as provider:
            listings = [provider.list_versions(name) for name in names]
            assert parsed == ["1.0", "1.0"]
            assert probed == []
            assert not isinstance(provider.get_requirements(names[1], Version("1.0")), Unavailable)
            # Read when asked for, with why they cannot be used.
            unusable = {
                (name, str(info.version)): info.unusable
                for name, found in zip(names, listings, strict=True)
                for info in found  # type: ignore[union-attr]
                if info.unusable is not None
            }
            assert set(unusable) == {(names[0], "2.0"), (names[1], "2.0")}
            assert "exclude-newer" in str(unusable[(names[1], "2.0")])
            assert provider.files(names[1], Version("2.0")) == []  # all after the date
            assert [f.filename for f in provider.files(names[0], Version("2.0"))] == [
                "demo-2.0-cp311-cp311-win_amd64.whl"
            ]
        assert probed == []
    with server:
        for policy, folder in [("offline", cache), ("refresh", cache), ("refresh", tmp_path / "c")]:
            assert _resolve_view(server, folder, LINUX, exclude_newer=date, policy=policy) == cold
        # A damaged unusable version's text is found when first read: the page answers
        # for the unusable versions instead, and the side file is written afresh.
        sides = list(cache.rglob(f"*.{listing.LISTING_KIND}-*"))
        intact = {side: side.read_bytes() for side in sides}
        assert len(intact) == 2
        for side, data in intact.items():
            damaged = data.replace(b'{"texts":"2.0"', b'{"texts":"2.x"')
            assert damaged != data
            side.write_bytes(damaged)
        assert _resolve_view(server, cache, LINUX, exclude_newer=date, policy="offline") == cold
        assert {side: side.read_bytes() for side in sides} == intact


def _cut_body(data: bytes) -> bytes:
    return data[: data.index(b"\n") + 1]


def _lie_about_count(data: bytes) -> bytes:
    return data.replace(b'"count":1,', b'"count":2,', 1)


def _lie_about_tail(data: bytes) -> bytes:
    return data.replace(b'"tail":', b'"tail":1', 1)


def _forge_unusable(data: bytes) -> bytes:
    """Keep every length, but make the unusable part something else than its JSON."""
    head = data.index(b"\n") + 1
    body = data[head:]
    tail = body[body.index(b'{"texts"') :]
    return data[: len(data) - len(tail)] + b"[" * len(tail)


def _bad_best_row(data: bytes) -> bytes:
    """Make the first usable version's best file an index no page has (rows are binary)."""
    head = data.index(b"\n") + 1
    return data[: head + 32] + b"\x00\x00\x00\x80" + data[head + 36 :]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-1],
        lambda data: data + b"\0",
        lambda data: data[: data.index(b"\n")],
        _cut_body,
        _lie_about_count,
        _lie_about_tail,
        _forge_unusable,
        _bad_best_row,
    ],
)
def test_a_damaged_listing_side_file_never_changes_an_answer(
    served: tuple[IndexServer, RequestLog],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: Callable[[bytes], bytes],
) -> None:
    """Cut, padded or forged parts of a listing's side file are ignored, then rewritten.

    The head is checked on every read, and the body measured against it; the unusable
    versions are checked when first read, and answered from the page if damaged.
    """
    server, _ = served
    cache = tmp_path / "cache"
    date = datetime(2029, 1, 1, tzinfo=UTC)
    with server:
        config = IndexConfig(server.url + "/")
        cold = _resolve_view(server, cache, LINUX, exclude_newer=date)
        sides = list(cache.rglob(f"*.{listing.LISTING_KIND}-*"))
        intact = {side: side.read_bytes() for side in sides}
        assert len(intact) == 2
        for side, data in intact.items():
            side.write_bytes(damage(data))
        assert _resolve_view(server, cache, LINUX, exclude_newer=date, policy="offline") == cold
        if damage is not _bad_best_row:  # within its shape: read as it says (see below)
            assert {side: side.read_bytes() for side in sides} == intact
    # A warm listing decodes no unusable version until one is read.
    decoded: list[int] = []
    real = provider_module._unusable_rows

    def decoding(text: bytes, specs: list[SpecifierSet | None], count: int) -> object:
        decoded.append(count)
        return real(text, specs, count)

    monkeypatch.setattr(provider_module, "_unusable_rows", decoding)
    with IndexProvider(
        config, LINUX, cache_dir=cache, policy="offline", exclude_newer=date
    ) as provider:
        found = provider.list_versions(canonicalize_name("dep"))
        assert not isinstance(found, Unavailable)
        assert len(found) == 2
        assert decoded == []
        assert [str(info.version) for info in found] == ["1.0", "2.0"]
        assert decoded == [1]


def _age_pages(cache: Path) -> int:
    """Make every cached project page stale, as if fetched long ago; return how many."""
    http = HttpCache(cache)
    aged = 0
    for path in cache.rglob("*"):
        if not path.is_file() or "." in path.name or len(path.name) != 64:
            continue
        entry = http.load(path.name)
        if entry is None or "max-age=600" not in entry.headers.get("cache-control", ""):
            continue
        http.store(path.name, replace(entry, fetched_at=0.0))
        aged += 1
    return aged


def test_revalidated_unchanged_pages_use_their_listing(
    served: tuple[IndexServer, RequestLog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, log = served
    cache = tmp_path / "cache"
    with server:
        cold = _resolve_view(server, cache, LINUX)
        assert _resolve_view(server, cache, LINUX) == cold  # writes the listings
        assert _age_pages(cache) == 2
        before = len(log.paths())

        def refuse(*_: object, **__: object) -> object:
            raise AssertionError("a page's records were decoded")

        with monkeypatch.context() as patch:
            patch.setattr(PageRecords, "group", refuse)
            assert _resolve_view(server, cache, LINUX) == cold
        assert len(log.paths()) == before + 2  # one conditional request per page


def test_prefetch_hints_for_cached_metadata_read_no_records(
    served: tuple[IndexServer, RequestLog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, log = served
    cache = tmp_path / "cache"
    dep = canonicalize_name("dep")
    with server:
        cold = _resolve_view(server, cache, LINUX)
        assert _resolve_view(server, cache, LINUX) == cold  # writes the listings
        for bundle in _bundles(cache):
            bundle.unlink()  # the summaries alone remain
        requests = len(log.paths())

        def refuse(*_: object, **__: object) -> object:
            raise AssertionError("a page's records were decoded")

        config = IndexConfig(server.url + "/")
        with monkeypatch.context() as patch, IndexProvider(config, LINUX, cache_dir=cache) as p:
            patch.setattr(PageRecords, "group", refuse)
            listed = p.list_versions(dep)
            assert not isinstance(listed, Unavailable)
            p.prefetch(dep, [info.version for info in listed])
            assert p._loop is None
        assert len(log.paths()) == requests


def _wait_for(condition: Callable[[], bool]) -> bool:
    """Poll ``condition`` for a while (a background fetch has no completion hook)."""
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.parametrize("policy", ["normal", "refresh", "offline"])
def test_listing_hints_fetch_the_pages_in_the_background(
    served: tuple[IndexServer, RequestLog], tmp_path: Path, policy: str
) -> None:
    server, log = served
    demo, dep = canonicalize_name("demo"), canonicalize_name("dep")
    config = IndexConfig(server.url + "/")
    with server, IndexProvider(config, LINUX, cache_dir=tmp_path, policy=policy) as provider:  # type: ignore[arg-type]
        provider.prefetch_listings([demo, dep])
        if policy == "offline":
            assert provider._loop is None  # offline: a hint starts nothing
            return
        listed = provider.list_versions(demo)
        assert not isinstance(listed, Unavailable)

        def dep_page_asked() -> bool:
            return any(path.rstrip("/").endswith("/dep") for path in log.paths())

        # Nothing but the hint asks for dep's page...
        assert _wait_for(dep_page_asked)
        # ...and listing dep waits for that fetch instead of sending another.
        assert not isinstance(provider.list_versions(dep), Unavailable)
        pages = [p for p in log.paths() if p.rstrip("/").endswith(("/demo", "/dep"))]
        assert sorted(pages) == sorted(set(pages))
        assert len(pages) == 2
