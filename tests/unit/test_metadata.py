from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import re
import zipfile
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolvent.errors import IndexDataError, IndexUnreachableError
from resolvent.index.http import HttpClient
from resolvent.index.metadata import CoreMetadata, MetadataFetcher, parse_core_metadata
from resolvent.index.pages import PAGE_ACCEPT, DistFile, parse_html_page, parse_page
from resolvent.solver.provider import Unavailable
from tests.support.dists import Dist, build_wheel, metadata_text
from tests.support.index import RequestLog, serve_dists

if TYPE_CHECKING:
    from collections.abc import Coroutine
    from pathlib import Path

T = TypeVar("T")

HOST = "http://wheels.test"
DEMO = Dist(
    "Demo",
    "1.0",
    requires=["idna>=2", 'tomli; python_version < "3.11"'],
    extras={"Fast_Mode": ["uvloop"]},
    requires_python=">=3.8",
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


# --- parsing ----------------------------------------------------------------------------


def test_parse_core_metadata_fields() -> None:
    meta = parse_core_metadata(metadata_text(DEMO).encode())
    assert meta.name == "demo"
    assert meta.version == Version("1.0")
    assert meta.requires_python == SpecifierSet(">=3.8")
    assert meta.provides_extra == ("fast-mode",)
    assert [str(r) for r in meta.requires_dist] == [
        "idna>=2",
        'tomli; python_version < "3.11"',
        'uvloop; extra == "fast-mode"',
    ]


def test_invalid_entries_are_repaired_or_kept_aside(caplog: pytest.LogCaptureFixture) -> None:
    """Repairable lines are read as uv reads them; the rest are listed, not logged.

    A log line would be said once, on the run that parses the file, whatever ``-q``
    says; the list travels with the cached summary, and the resolution warns from it.
    """
    text = (
        "Metadata-Version: 2.1\nName: demo\nVersion: 2.0\n"
        "Requires-Python: >=3.6.*\n"
        "Requires-Dist: good>=1\nRequires-Dist: bad (>=1.0\nRequires-Dist: also-good\n"
        "Requires-Dist: pytz (>dev)\n\nbody\n"
    )
    with caplog.at_level(logging.WARNING, logger="resolvent.index.metadata"):
        meta = parse_core_metadata(text.encode(), source="https://host.test/files/demo.whl")
    assert [str(r) for r in meta.requires_dist] == ["good>=1", "also-good", "pytz>0.0.0dev"]
    assert meta.invalid_requires_dist == ("bad (>=1.0",)
    assert meta.requires_python == SpecifierSet(">=3.6")
    assert not caplog.records
    # The cached summary keeps the invalid line, so a warm run can warn about it too.
    assert CoreMetadata.from_json(meta.to_json()) == meta
    assert CoreMetadata.from_json(b"[" * 100_000 + b"]" * 100_000) is None  # a damaged summary


def test_invalid_requires_python_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = "Metadata-Version: 2.1\nName: demo\nVersion: 2.0\nRequires-Python: >=3.6;x\n"
    with caplog.at_level(logging.WARNING, logger="resolvent.index.metadata"):
        meta = parse_core_metadata(text.encode())
    assert meta.requires_python is None
    assert [r.getMessage() for r in caplog.records] == [
        "demo 2.0: ignoring invalid Requires-Python `>=3.6;x`"
    ]


@pytest.mark.parametrize(
    "text", ["Version: 1.0\n", "Name: demo\n", "Name: demo\nVersion: not a version\n"]
)
def test_missing_or_invalid_name_or_version(text: str) -> None:
    with pytest.raises(IndexDataError):
        parse_core_metadata(text.encode())


# --- a mock host for range behaviour --------------------------------------------------------


class WheelHost:
    """Serves files over ``httpx.MockTransport``, with or without Range support."""

    def __init__(
        self, files: dict[str, bytes], *, ranges: bool = True, longest: int | None = None
    ) -> None:
        self.files = files
        self.ranges = ranges
        self.longest = longest  # a server that answers at most this many bytes of a range
        self.requests: list[tuple[str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        wanted = request.headers.get("range")
        self.requests.append((path, wanted))
        body = self.files.get(path)
        if body is None:
            return httpx.Response(404)
        if not wanted or not self.ranges:
            return httpx.Response(200, content=body)
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted)
        assert match is not None
        first, last = match.groups()
        size = len(body)
        if not first:
            start, end = max(0, size - int(last)), size - 1
        else:
            start, end = int(first), min(size - 1, int(last))
        if self.longest is not None:
            end = min(end, start + self.longest - 1)
        headers = {"Content-Range": f"bytes {start}-{end}/{size}"}
        return httpx.Response(206, content=body[start : end + 1], headers=headers)

    def fetch(
        self, file: DistFile, *, cache_dir: Path | None = None, tail_size: int = 64 * 1024
    ) -> CoreMetadata | Unavailable:
        async def go() -> CoreMetadata | Unavailable:
            transport = httpx.MockTransport(self)
            async with HttpClient(cache_dir=cache_dir, transport=transport, retries=0) as client:
                return await MetadataFetcher(client, tail_size=tail_size).fetch(file)

        return run(go())

    def wheel_requests(self) -> list[str | None]:
        return [wanted for path, wanted in self.requests if path.endswith(".whl")]


def listed(filename: str, *, fragment: str = "", attributes: str = "") -> DistFile:
    html = f'<a href="/files/{filename}{fragment}" {attributes}>x</a>'
    (file,) = parse_html_page(html, url=f"{HOST}/simple/demo/").files
    return file


def wheel_bytes(tmp_path: Path, dist: Dist = DEMO) -> bytes:
    return build_wheel(tmp_path / "build", dist).read_bytes()


# --- strategies -------------------------------------------------------------------------------


def test_metadata_file_is_used_and_verified() -> None:
    text = metadata_text(DEMO).encode()
    digest = hashlib.sha256(text).hexdigest()
    name = DEMO.wheel_name
    host = WheelHost({f"/files/{name}.metadata": text})
    meta = host.fetch(listed(name, attributes=f'data-core-metadata="sha256={digest}"'))
    assert isinstance(meta, CoreMetadata)
    assert meta.requires_dist[0] == Requirement("idna>=2")
    assert host.requests == [(f"/files/{name}.metadata", None)]

    bad = listed(name, attributes='data-core-metadata="sha256=00"')
    with pytest.raises(IndexDataError, match="sha256"):
        host.fetch(bad)
    assert host.wheel_requests() == []


def test_range_requests_read_only_the_tail_and_the_member(tmp_path: Path) -> None:
    payload = {f"demo/m{i}.py": f"x = {i}\n" * 2000 for i in range(30)}
    dist = dataclasses.replace(DEMO, files=payload)
    data = wheel_bytes(tmp_path, dist)
    assert len(data) > 4096
    host = WheelHost({f"/files/{dist.wheel_name}": data})
    meta = host.fetch(listed(dist.wheel_name), tail_size=1024)
    assert isinstance(meta, CoreMetadata)
    assert meta.provides_extra == ("fast-mode",)
    wanted = host.wheel_requests()
    assert wanted[0] == "bytes=-1024"
    assert all(w is not None for w in wanted)
    assert len(wanted) <= 3
    fetched = sum(int(w.split("-")[1]) - int(w[6:].split("-")[0]) + 1 for w in wanted[1:] if w)
    assert fetched + 1024 < len(data)


def test_small_wheel_needs_one_request(tmp_path: Path) -> None:
    data = wheel_bytes(tmp_path)
    host = WheelHost({f"/files/{DEMO.wheel_name}": data})
    assert isinstance(host.fetch(listed(DEMO.wheel_name)), CoreMetadata)
    assert host.wheel_requests() == ["bytes=-65536"]


def test_later_wheels_of_a_project_fetch_the_tail_the_first_needed(tmp_path: Path) -> None:
    # The first wheel of a project is read with the whole first tail; the next ones, laid
    # out alike, with what that one needed plus half again (a small wheel: the minimum).
    host = WheelHost({})
    files = []
    for version in ("1.0", "2.0", "3.0"):
        dist = dataclasses.replace(DEMO, version=version)
        host.files[f"/files/{dist.wheel_name}"] = wheel_bytes(tmp_path / version, dist)
        files.append(listed(dist.wheel_name))

    async def go() -> list[CoreMetadata | Unavailable]:
        transport = httpx.MockTransport(host)
        async with HttpClient(transport=transport, retries=0) as client:
            fetcher = MetadataFetcher(client)
            return [await fetcher.fetch(file) for file in files]

    metas = run(go())
    assert [m.version for m in metas if isinstance(m, CoreMetadata)] == [
        Version("1.0"),
        Version("2.0"),
        Version("3.0"),
    ]
    assert host.wheel_requests() == ["bytes=-65536", "bytes=-8192", "bytes=-8192"]


def test_zip64_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Lower zipfile's limits so a small archive is written with ZIP64 records: the
    # end-of-directory record, its locator, and 8-byte sizes and offsets in extra fields.
    with monkeypatch.context() as patched:
        patched.setattr(zipfile, "ZIP64_LIMIT", 64)
        patched.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 2)
        data = wheel_bytes(tmp_path)
    assert b"PK\x06\x06" in data
    assert b"PK\x06\x07" in data
    with zipfile.ZipFile(tmp_path / "build" / DEMO.wheel_name) as archive:
        assert archive.read(f"{DEMO.dist_info}/METADATA") == metadata_text(DEMO).encode()
    for tail_size in (64 * 1024, 200):
        host = WheelHost({f"/files/{DEMO.wheel_name}": data})
        meta = host.fetch(listed(DEMO.wheel_name), tail_size=tail_size)
        assert isinstance(meta, CoreMetadata), meta
        assert meta.version == Version("1.0")
        assert all(w is not None for w in host.wheel_requests())


def test_stored_member_and_matching_dist_info(tmp_path: Path) -> None:
    target = tmp_path / DEMO.wheel_name
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("other-9.0.dist-info/METADATA", "Name: other\nVersion: 9.0\n")
        archive.writestr(f"{DEMO.dist_info}/METADATA", metadata_text(DEMO))
        archive.writestr("demo/__init__.py", "")
    host = WheelHost({f"/files/{DEMO.wheel_name}": target.read_bytes()})
    meta = host.fetch(listed(DEMO.wheel_name))
    assert isinstance(meta, CoreMetadata)
    assert meta.name == "demo"


def test_metadata_first_among_thousands_of_entries_and_a_nested_decoy(tmp_path: Path) -> None:
    # Only `*.dist-info/METADATA` entries are built while walking the directory: the
    # wheel's own is found first of 3,000 (UTF-8 names), and a vendored copy deeper in
    # the tree, whose name ends the same way, is not a candidate.
    target = tmp_path / DEMO.wheel_name
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(f"{DEMO.dist_info}/METADATA", metadata_text(DEMO))
        for i in range(3000):
            archive.writestr(f"demo/data/\u00e9t\u00e9-{i}.json", "{}")
        archive.writestr("demo/_vendor/other-9.0.dist-info/METADATA", "Name: other\nVersion: 9\n")
    host = WheelHost({f"/files/{DEMO.wheel_name}": target.read_bytes()})
    meta = host.fetch(listed(DEMO.wheel_name), tail_size=4096)
    assert isinstance(meta, CoreMetadata), meta
    assert (meta.name, meta.version) == ("demo", Version("1.0"))


def _wheel_with_many_files(path: Path, *, metadata_first: bool) -> bytes:
    files = {f"demo/data/m{i}.py": f"value = {i * 7919 % 10007}\n" for i in range(3000)}
    record = "".join(f"{name},sha256=x,{len(text)}\n" for name, text in files.items())
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if metadata_first:
            archive.writestr(f"{DEMO.dist_info}/METADATA", metadata_text(DEMO))
        for name, text in files.items():
            archive.writestr(name, text)
        if not metadata_first:  # as wheel writers do: .dist-info last, RECORD last of all
            archive.writestr(f"{DEMO.dist_info}/METADATA", metadata_text(DEMO))
        archive.writestr(f"{DEMO.dist_info}/WHEEL", "Wheel-Version: 1.0\n")
        archive.writestr(f"{DEMO.dist_info}/RECORD", record)
    return path.read_bytes()


@pytest.mark.parametrize(("metadata_first", "requests"), [(False, 2), (True, 3)])
def test_a_directory_beyond_the_tail_is_fetched_with_what_precedes_it(
    tmp_path: Path, metadata_first: bool, requests: int
) -> None:
    # The directory (3,000 entries) is larger than the tail: one request fetches the rest
    # of it together with the bytes just before it, where METADATA lies in wheels as
    # their writers lay them out; a METADATA elsewhere costs one more request.
    data = _wheel_with_many_files(tmp_path / DEMO.wheel_name, metadata_first=metadata_first)
    host = WheelHost({f"/files/{DEMO.wheel_name}": data})
    meta = host.fetch(listed(DEMO.wheel_name), tail_size=8192)
    assert isinstance(meta, CoreMetadata), meta
    assert (meta.name, meta.version) == ("demo", Version("1.0"))
    wanted = host.wheel_requests()
    assert len(wanted) == requests
    assert wanted[0] == "bytes=-8192"
    # The second request stops where the tail begins: no byte is fetched twice.
    second = wanted[1]
    assert second is not None
    first, last = (int(n) for n in second.removeprefix("bytes=").split("-"))
    assert 0 <= first < last == len(data) - 8192 - 1


def test_a_server_answering_shorter_ranges_still_yields_the_metadata(tmp_path: Path) -> None:
    # RFC 9110 lets a server answer less than the range asked for; the directory fetched
    # with the bytes before it must then not be stitched to the tail at a wrong offset.
    data = _wheel_with_many_files(tmp_path / DEMO.wheel_name, metadata_first=False)
    host = WheelHost({f"/files/{DEMO.wheel_name}": data}, longest=20_000)
    meta = host.fetch(listed(DEMO.wheel_name), tail_size=8192)
    assert isinstance(meta, CoreMetadata), meta
    assert (meta.name, meta.version) == ("demo", Version("1.0"))


def test_server_without_ranges_falls_back_to_full_download(tmp_path: Path) -> None:
    data = wheel_bytes(tmp_path)
    digest = hashlib.sha256(data).hexdigest()
    host = WheelHost({f"/files/{DEMO.wheel_name}": data}, ranges=False)
    meta = host.fetch(listed(DEMO.wheel_name, fragment=f"#sha256={digest}"))
    assert isinstance(meta, CoreMetadata)
    assert host.wheel_requests() == ["bytes=-65536", None]

    wrong = listed(DEMO.wheel_name, fragment="#sha256=" + "0" * 64)
    with pytest.raises(IndexDataError):
        host.fetch(wrong)


def test_missing_metadata_file_falls_back_to_ranges(tmp_path: Path) -> None:
    data = wheel_bytes(tmp_path)
    host = WheelHost({f"/files/{DEMO.wheel_name}": data})
    meta = host.fetch(listed(DEMO.wheel_name, attributes='data-core-metadata="true"'))
    assert isinstance(meta, CoreMetadata)
    assert host.requests[0] == (f"/files/{DEMO.wheel_name}.metadata", None)
    assert host.wheel_requests() == ["bytes=-65536"]


def test_unavailable_values(tmp_path: Path) -> None:
    host = WheelHost({})
    sdist = listed("demo-1.0.tar.gz")
    outcome = host.fetch(sdist)
    assert isinstance(outcome, Unavailable)
    assert "source distribution" in outcome.reason
    assert host.requests == []

    # Metadata that names another version than the file.
    liar = dataclasses.replace(DEMO, version="2.0")
    host = WheelHost({f"/files/{DEMO.wheel_name}.metadata": metadata_text(liar).encode()})
    outcome = host.fetch(listed(DEMO.wheel_name, attributes='data-core-metadata="true"'))
    assert isinstance(outcome, Unavailable)
    assert "2.0" in outcome.reason

    # A wheel with no METADATA, and one that is not a zip at all.
    target = tmp_path / DEMO.wheel_name
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("demo/__init__.py", "")
    for content in (target.read_bytes(), b"not a zip file at all"):
        host = WheelHost({f"/files/{DEMO.wheel_name}": content})
        outcome = host.fetch(listed(DEMO.wheel_name))
        assert isinstance(outcome, Unavailable), outcome


def test_results_are_cached_by_hash_and_offline_misses_are_values(tmp_path: Path) -> None:
    data = wheel_bytes(tmp_path)
    digest = hashlib.sha256(data).hexdigest()
    file = listed(DEMO.wheel_name, fragment=f"#sha256={digest}")
    cache = tmp_path / "cache"
    host = WheelHost({f"/files/{DEMO.wheel_name}": data})
    first = host.fetch(file, cache_dir=cache)
    assert isinstance(first, CoreMetadata)
    # Same hash, another URL: still a cache hit, with no request at all.
    moved = dataclasses.replace(file, url=f"{HOST}/elsewhere/{DEMO.wheel_name}")
    empty = WheelHost({})
    assert empty.fetch(moved, cache_dir=cache) == first
    assert empty.requests == []

    async def offline(target: DistFile) -> CoreMetadata | Unavailable:
        async with HttpClient(cache_dir=cache, policy="offline") as client:
            return await MetadataFetcher(client).fetch(target)

    assert run(offline(file)) == first
    other = listed("demo-3.0-py3-none-any.whl")
    outcome = run(offline(other))
    assert isinstance(outcome, Unavailable)
    assert "is not in the cache and `--offline` is set" in outcome.reason


def test_the_cache_keeps_one_summary_per_wheel_and_remembers_bad_metadata(
    tmp_path: Path,
) -> None:
    # One parsed summary per wheel, not the raw METADATA beside it; metadata that does
    # not parse is remembered too (the file's bytes decide it), so no request repeats.
    good = wheel_bytes(tmp_path / "good")
    bad_path = tmp_path / "bad" / "demo-2.0-py3-none-any.whl"
    bad_path.parent.mkdir()
    with zipfile.ZipFile(bad_path, "w") as archive:
        archive.writestr("demo-2.0.dist-info/METADATA", "Name: demo\n")  # no Version
    files = [
        listed(DEMO.wheel_name, fragment=f"#sha256={hashlib.sha256(good).hexdigest()}"),
        listed(
            bad_path.name, fragment=f"#sha256={hashlib.sha256(bad_path.read_bytes()).hexdigest()}"
        ),
    ]
    cache = tmp_path / "cache"
    host = WheelHost(
        {f"/files/{DEMO.wheel_name}": good, f"/files/{bad_path.name}": bad_path.read_bytes()}
    )
    first = [host.fetch(file, cache_dir=cache) for file in files]
    assert isinstance(first[0], CoreMetadata)
    assert isinstance(first[1], Unavailable)
    entries = [path for path in cache.rglob("*") if path.is_file()]
    assert len(entries) == 2
    again = WheelHost({})
    assert [again.fetch(file, cache_dir=cache) for file in files] == first
    assert again.requests == []


# --- end to end against the project's own index server ------------------------------------


@pytest.mark.parametrize("accept", [PAGE_ACCEPT, "text/html"])
def test_end_to_end_with_local_index(tmp_path: Path, accept: str) -> None:
    log = RequestLog()
    dists = [DEMO, Dist("demo", "2.0", requires=["attrs"])]
    with serve_dists(tmp_path, dists, hooks=log) as server:

        async def go() -> list[CoreMetadata | Unavailable]:
            async with HttpClient(cache_dir=tmp_path / "cache") as client:
                response = await client.get(f"{server.url}/demo/", accept=accept)
                page = parse_page(
                    response.content, url=response.url, content_type=response.content_type
                )
                assert {f.filename for f in page.files} == {
                    DEMO.wheel_name,
                    "demo-2.0-py3-none-any.whl",
                }
                fetcher = MetadataFetcher(client)
                via_pep658 = [await fetcher.fetch(f) for f in page.files]
                no_pep658 = [dataclasses.replace(f, core_metadata=None) for f in page.files]
                async with HttpClient() as bare:
                    ranged = [await MetadataFetcher(bare).fetch(f) for f in no_pep658]
                assert ranged == via_pep658
                return via_pep658

        results = run(go())
    by_version = {m.version: m for m in results if isinstance(m, CoreMetadata)}
    assert [str(r) for r in by_version[Version("2.0")].requires_dist] == ["attrs"]
    assert by_version[Version("1.0")].requires_python == SpecifierSet(">=3.8")
    gets = log.paths("GET")
    assert any(p.endswith(".whl.metadata") for p in gets)
    ranged = [r for r in log.requests if r.path.endswith(".whl")]
    assert ranged
    assert all("range" in r.headers for r in ranged)


def test_concurrent_fetches_of_one_file_share_the_download(tmp_path: Path) -> None:
    data = wheel_bytes(tmp_path)
    host = WheelHost({f"/files/{DEMO.wheel_name}": data})
    file = listed(DEMO.wheel_name)

    async def go() -> list[CoreMetadata | Unavailable]:
        transport = httpx.MockTransport(host)
        async with HttpClient(transport=transport) as client:
            fetcher = MetadataFetcher(client)
            results = await asyncio.gather(*(fetcher.fetch(file) for _ in range(5)))
            results.append(await fetcher.fetch(file))
            return results

    results = run(go())
    assert all(isinstance(r, CoreMetadata) and r == results[0] for r in results)
    assert host.wheel_requests() == ["bytes=-65536"]


def test_network_errors_are_raised_and_retried_later(tmp_path: Path) -> None:
    data = wheel_bytes(tmp_path)
    file = listed(DEMO.wheel_name)
    calls = 0

    def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("refused")
        return WheelHost({f"/files/{DEMO.wheel_name}": data})(request)

    async def go() -> CoreMetadata | Unavailable:
        transport = httpx.MockTransport(flaky)
        async with HttpClient(transport=transport, retries=0) as client:
            fetcher = MetadataFetcher(client)
            with pytest.raises(IndexUnreachableError):
                await fetcher.fetch(file)
            return await fetcher.fetch(file)

    assert isinstance(run(go()), CoreMetadata)
