"""The local index server: pages, metadata, files, caching, safety and the fault hooks."""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import zipfile
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import httpx
import pytest

from resolvent.index.serve import (
    JSON_CONTENT_TYPE,
    IndexServer,
    negotiate_content_type,
)
from tests.support.dists import Dist, build_wheel
from tests.support.index import (
    DropConnection,
    HookChain,
    RequestLog,
    ServerError,
    SlowBody,
    WrongBody,
    add_dists,
    serve_dists,
    set_upload_time,
    yank,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

JSON = {"Accept": JSON_CONTENT_TYPE}
DISTS = [
    Dist("Foo_Bar", "1.0", requires_python=">=3.8,<4", requires=["dep>=1"]),
    Dist("foo-bar", "2.0"),
    Dist("dep", "1.5"),
]
WHEEL = "foo_bar-1.0-py3-none-any.whl"


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open = dict(attrs)

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.anchors.append((self._open, data))
            self._open = None


def anchors(text: str) -> dict[str, dict[str, str | None]]:
    parser = _Anchors()
    parser.feed(text)
    return {label: attrs for attrs, label in parser.anchors}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[IndexServer]:
    with serve_dists(tmp_path, DISTS, sdists=True) as running:
        yield running


@pytest.fixture
def client(server: IndexServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as session:
        yield session


def json_page(client: httpx.Client, name: str) -> dict[str, object]:
    response = client.get(f"/simple/{name}/", headers=JSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_CONTENT_TYPE
    data = response.json()
    assert isinstance(data, dict)
    return data


def files_by_name(page: dict[str, object]) -> dict[str, dict[str, object]]:
    files = page["files"]
    assert isinstance(files, list)
    return {entry["filename"]: entry for entry in files}


# --------------------------------------------------------------------------- pages


def test_url_and_lifecycle(tmp_path: Path) -> None:
    server = IndexServer(tmp_path)
    with pytest.raises(RuntimeError):
        _ = server.url
    with server:
        assert server.url == f"http://127.0.0.1:{server.port}/simple"
        assert server.port != 0
        assert httpx.get(server.url + "/").status_code == 200
    server.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{server.port}/simple/")


def test_root_lists_normalized_projects(client: httpx.Client) -> None:
    html_page = client.get("/simple/")
    assert html_page.status_code == 200
    assert html_page.headers["content-type"] == "text/html; charset=utf-8"
    assert set(anchors(html_page.text)) == {"dep", "foo-bar"}
    assert anchors(html_page.text)["foo-bar"]["href"] == "foo-bar/"
    json_root = client.get("/simple/", headers=JSON).json()
    assert json_root["meta"] == {"api-version": "1.1"}
    assert json_root["projects"] == [{"name": "dep"}, {"name": "foo-bar"}]


def test_html_project_page(server: IndexServer, client: httpx.Client) -> None:
    response = client.get("/simple/foo-bar/")
    assert response.status_code == 200
    links = anchors(response.text)
    assert set(links) == {
        WHEEL,
        "foo_bar-1.0.tar.gz",
        "foo_bar-2.0-py3-none-any.whl",
        "foo_bar-2.0.tar.gz",
    }
    wheel = links[WHEEL]
    href = wheel["href"]
    assert href is not None
    url, _, fragment = href.partition("#")
    assert url == f"../../files/{WHEEL}"
    assert fragment == "sha256=" + sha256((server.folder / WHEEL).read_bytes())
    # The parser unescapes; the raw page must carry the escaped form.
    assert wheel["data-requires-python"] == ">=3.8,<4"
    assert 'data-requires-python="&gt;=3.8,&lt;4"' in response.text
    assert "data-yanked" not in wheel
    assert wheel["data-core-metadata"] == wheel["data-dist-info-metadata"]
    assert wheel["data-core-metadata"] is not None
    assert wheel["data-core-metadata"].startswith("sha256=")
    # Sdists carry Requires-Python from PKG-INFO but no metadata file.
    sdist = links["foo_bar-1.0.tar.gz"]
    assert sdist["data-requires-python"] == ">=3.8,<4"
    assert "data-core-metadata" not in sdist
    # The relative URL resolves to a downloadable file.
    file = client.get(urljoin(str(response.url), url))
    assert file.content == (server.folder / WHEEL).read_bytes()


def test_json_project_page(server: IndexServer, client: httpx.Client) -> None:
    os.utime(server.folder / WHEEL, ns=(0, 1_600_000_000_123_456_000))
    page = json_page(client, "foo-bar")
    assert page["meta"] == {"api-version": "1.1"}
    assert page["name"] == "foo-bar"
    assert page["versions"] == ["1.0", "2.0"]
    files = files_by_name(page)
    assert len(files) == 4
    wheel = files[WHEEL]
    data = (server.folder / WHEEL).read_bytes()
    assert wheel["url"] == f"../../files/{WHEEL}"
    assert wheel["hashes"] == {"sha256": sha256(data)}
    assert wheel["size"] == len(data)
    assert wheel["requires-python"] == ">=3.8,<4"
    assert wheel["yanked"] is False
    assert wheel["upload-time"] == "2020-09-13T12:26:40.123456Z"
    assert wheel["core-metadata"] == wheel["dist-info-metadata"]
    assert "core-metadata" not in files["foo_bar-2.0.tar.gz"]
    assert "requires-python" not in files["foo_bar-2.0-py3-none-any.whl"]


def test_yanked_and_upload_time_sidecars(server: IndexServer, client: httpx.Client) -> None:
    yank(server.folder / WHEEL, "broken <build> & more")
    yank(server.folder / "foo_bar-2.0.tar.gz")
    set_upload_time(server.folder / "foo_bar-2.0.tar.gz", datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC))
    (server.folder / "foo_bar-1.0.tar.gz.upload-time").write_text("not a time")
    files = files_by_name(json_page(client, "foo-bar"))
    assert files[WHEEL]["yanked"] == "broken <build> & more"
    assert files["foo_bar-2.0.tar.gz"]["yanked"] is True
    assert files["foo_bar-2.0-py3-none-any.whl"]["yanked"] is False
    assert files["foo_bar-2.0.tar.gz"]["upload-time"] == "2021-05-06T07:08:09.000000Z"
    # A sidecar that is no time is ignored: the mtime is used.
    upload_time = files["foo_bar-1.0.tar.gz"]["upload-time"]
    assert isinstance(upload_time, str)
    assert upload_time.endswith("Z")
    links = anchors(client.get("/simple/foo-bar/").text)
    assert links[WHEEL]["data-yanked"] == "broken <build> & more"
    assert links["foo_bar-2.0.tar.gz"]["data-yanked"] in ("", None)
    assert "data-yanked" not in links["foo_bar-2.0-py3-none-any.whl"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "text/html"),
        ("*/*", "text/html"),
        ("text/html", "text/html"),
        (JSON_CONTENT_TYPE, JSON_CONTENT_TYPE),
        ("application/vnd.pypi.simple.latest+json", JSON_CONTENT_TYPE),
        ("application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.v1+html"),
        (
            f"{JSON_CONTENT_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01",
            JSON_CONTENT_TYPE,
        ),
        (f"{JSON_CONTENT_TYPE};q=0.5, text/html", "text/html"),
        (f"{JSON_CONTENT_TYPE}, text/html", JSON_CONTENT_TYPE),
        (f"{JSON_CONTENT_TYPE};q=0, */*;q=0.1", "text/html"),
        (f"*/*;q=0.1, {JSON_CONTENT_TYPE}", JSON_CONTENT_TYPE),
        ("application/*", "application/vnd.pypi.simple.v1+html"),  # wildcard ties: HTML
        ("text/html;q=0, application/vnd.pypi.simple.v1+html;q=0", "text/html"),
        ("image/png", "text/html"),
    ],
)
def test_negotiate_content_type(accept: str | None, expected: str) -> None:
    assert negotiate_content_type(accept) == expected


def test_content_negotiation_over_http(client: httpx.Client) -> None:
    accept = f"{JSON_CONTENT_TYPE};q=0.9, application/vnd.pypi.simple.v1+html"
    response = client.get("/simple/dep/", headers={"Accept": accept})
    assert response.headers["content-type"] == "application/vnd.pypi.simple.v1+html"
    assert response.headers["vary"] == "Accept"
    assert "dep-1.5-py3-none-any.whl" in anchors(response.text)


# --------------------------------------------------------------------------- metadata


def test_metadata_file_matches_wheel_and_hash(server: IndexServer, client: httpx.Client) -> None:
    advertised = files_by_name(json_page(client, "foo-bar"))[WHEEL]["core-metadata"]
    assert isinstance(advertised, dict)
    response = client.get(f"/files/{WHEEL}.metadata")
    assert response.status_code == 200
    with zipfile.ZipFile(server.folder / WHEEL) as archive:
        expected = archive.read("foo_bar-1.0.dist-info/METADATA")
    assert response.content == expected
    assert advertised["sha256"] == sha256(response.content)
    assert b"Requires-Dist: dep>=1" in response.content
    assert client.get("/files/foo_bar-1.0.tar.gz.metadata").status_code == 404


def test_corrupt_wheel_is_listed_without_metadata(
    server: IndexServer, client: httpx.Client
) -> None:
    (server.folder / "broken-1.0-py3-none-any.whl").write_bytes(b"not a zip")
    files = files_by_name(json_page(client, "broken"))
    entry = files["broken-1.0-py3-none-any.whl"]
    assert entry["hashes"] == {"sha256": sha256(b"not a zip")}
    assert "core-metadata" not in entry
    assert client.get("/files/broken-1.0-py3-none-any.whl.metadata").status_code == 404


def test_malformed_file_names_are_skipped(
    server: IndexServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    (server.folder / "junk-.whl").write_bytes(b"x")
    (server.folder / "no_version.tar.gz").write_bytes(b"x")
    (server.folder / "README.txt").write_text("not a dist")
    with caplog.at_level(logging.WARNING, logger="resolvent.index.serve"):
        root = client.get("/simple/", headers=JSON).json()
    assert root["projects"] == [{"name": "dep"}, {"name": "foo-bar"}]
    skipped = " ".join(record.getMessage() for record in caplog.records)
    assert "junk-.whl" in skipped
    assert "no_version.tar.gz" in skipped
    assert client.get("/files/junk-.whl").status_code == 404
    assert client.get("/files/README.txt").status_code == 404


# --------------------------------------------------------------------------- files


def test_file_download_headers(server: IndexServer, client: httpx.Client) -> None:
    data = (server.folder / WHEEL).read_bytes()
    response = client.get(f"/files/{WHEEL}")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "max-age=365000000, immutable, public"
    assert response.headers["etag"].startswith('"')
    assert "GMT" in response.headers["last-modified"]
    head = client.head(f"/files/{WHEEL}")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["etag"] == response.headers["etag"]


@pytest.mark.parametrize(
    ("header", "part"),
    [
        ("bytes=0-9", slice(0, 10)),
        ("bytes=10-19", slice(10, 20)),
        ("bytes=-22", slice(-22, None)),
        ("bytes=100-", slice(100, None)),
        ("bytes=5-999999", slice(5, None)),
        ("bytes=-999999", slice(0, None)),
    ],
)
def test_range_requests(
    server: IndexServer, client: httpx.Client, header: str, part: slice
) -> None:
    data = (server.folder / WHEEL).read_bytes()
    response = client.get(f"/files/{WHEEL}", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == data[part]
    start = part.start % len(data) if part.start is not None else 0
    if part.start is not None and part.start < 0:
        start = len(data) + part.start
    end = start + len(data[part]) - 1
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(data)}"
    assert response.headers["content-length"] == str(len(data[part]))


def test_range_unsatisfiable_and_ignored(server: IndexServer, client: httpx.Client) -> None:
    data = (server.folder / WHEEL).read_bytes()
    for header in (f"bytes={len(data)}-", f"bytes={len(data) + 10}-{len(data) + 20}", "bytes=-0"):
        response = client.get(f"/files/{WHEEL}", headers={"Range": header})
        assert response.status_code == 416, header
        assert response.headers["content-range"] == f"bytes */{len(data)}"
    # Malformed or multiple ranges may be ignored: the whole file comes back.
    for header in ("bytes=0-1,5-6", "items=0-1", "bytes=9-2", "bytes=abc"):
        response = client.get(f"/files/{WHEEL}", headers={"Range": header})
        assert response.status_code == 200, header
        assert response.content == data
    # If-Range with a stale validator: the whole file.
    response = client.get(f"/files/{WHEEL}", headers={"Range": "bytes=0-3", "If-Range": '"old"'})
    assert response.status_code == 200
    etag = response.headers["etag"]
    response = client.get(f"/files/{WHEEL}", headers={"Range": "bytes=0-3", "If-Range": etag})
    assert response.status_code == 206


def test_range_into_metadata_file(client: httpx.Client) -> None:
    full = client.get(f"/files/{WHEEL}.metadata").content
    part = client.get(f"/files/{WHEEL}.metadata", headers={"Range": "bytes=-5"})
    assert part.status_code == 206
    assert part.content == full[-5:]


def test_file_revalidation(client: httpx.Client) -> None:
    first = client.get(f"/files/{WHEEL}")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(f"/files/{WHEEL}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert (
        client.get(f"/files/{WHEEL}", headers={"If-None-Match": f'"x", W/{etag}'}).status_code
        == 304
    )
    assert client.get(f"/files/{WHEEL}", headers={"If-None-Match": '"other"'}).status_code == 200
    assert (
        client.get(f"/files/{WHEEL}", headers={"If-Modified-Since": last_modified}).status_code
        == 304
    )
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(f"/files/{WHEEL}", headers={"If-Modified-Since": old}).status_code == 200


def test_page_caching_and_revalidation(server: IndexServer, client: httpx.Client) -> None:
    first = client.get("/simple/foo-bar/")
    assert first.headers["cache-control"] == "max-age=600, public"
    etag = first.headers["etag"]
    assert etag == client.get("/simple/foo-bar/").headers["etag"]  # a hash of the body
    json_etag = client.get("/simple/foo-bar/", headers=JSON).headers["etag"]
    assert json_etag != etag
    again = client.get("/simple/foo-bar/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    # A changed folder gives a changed page, so the old validator no longer matches.
    add_dists(server.folder, [Dist("foo-bar", "3.0")])
    changed = client.get("/simple/foo-bar/", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "foo_bar-3.0-py3-none-any.whl" in anchors(changed.text)


def test_folder_changes_while_serving(server: IndexServer, client: httpx.Client) -> None:
    assert client.get("/simple/newcomer/").status_code == 404
    add_dists(server.folder, [Dist("newcomer", "0.1")])
    assert "newcomer-0.1-py3-none-any.whl" in anchors(client.get("/simple/newcomer/").text)
    (server.folder / "dep-1.5-py3-none-any.whl").unlink()
    (server.folder / "dep-1.5.tar.gz").unlink()
    assert client.get("/simple/dep/").status_code == 404
    assert client.get("/files/dep-1.5-py3-none-any.whl").status_code == 404
    # A file rewritten in place is served with its new hash.
    build_wheel(server.folder, Dist("newcomer", "0.1", requires=["extra-dependency"]))
    data = (server.folder / "newcomer-0.1-py3-none-any.whl").read_bytes()
    entry = files_by_name(json_page(client, "newcomer"))["newcomer-0.1-py3-none-any.whl"]
    assert entry["hashes"] == {"sha256": sha256(data)}
    assert client.get("/files/newcomer-0.1-py3-none-any.whl").content == data


# --------------------------------------------------------------------------- routing, safety


def test_redirects_to_normalized_names(client: httpx.Client) -> None:
    for path in ("/simple/Foo_Bar/", "/simple/FOO.bar/", "/simple/foo-bar", "/simple/Foo_Bar"):
        response = client.get(path)
        assert response.status_code == 301, path
        assert response.headers["location"] == "/simple/foo-bar/"
    assert client.get("/simple").headers["location"] == "/simple/"
    assert client.get("/simple/Foo_Bar/?x=1").headers["location"] == "/simple/foo-bar/?x=1"
    followed = client.get("/simple/Foo_Bar/", headers=JSON, follow_redirects=True)
    assert followed.status_code == 200
    assert followed.json()["name"] == "foo-bar"


def test_unknown_project_and_file(client: httpx.Client) -> None:
    assert client.get("/simple/nothing-here/").status_code == 404
    assert client.get("/files/nothing-1.0-py3-none-any.whl").status_code == 404
    assert client.get("/simple/dep/extra/").status_code == 404
    assert client.get("/elsewhere").status_code == 404
    assert client.head("/simple/nothing-here/").status_code == 404


def _raw_get(server: IndexServer, path: str) -> int:
    """GET with the path exactly as written (httpx would normalize dot segments)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path",
    [
        "/files/../secret.whl",
        "/files/..%2Fsecret.whl",
        "/files/%2e%2e%2fsecret.whl",
        "/files/%2Ftmp%2Fsecret.whl",
        "/files/..",
        "/files/.",
        "/files/sub/../../secret.whl",
        "/files/..\\secret.whl",
        "/files//etc/passwd",
        "/simple/../files/../secret.whl",
        "/simple/..%2F..%2F/",
        "/simple/../../secret.whl",
        "/../secret.whl",
        "/files/index%00.whl",
    ],
)
def test_path_traversal_is_not_found(server: IndexServer, path: str) -> None:
    # A real distribution just outside the served folder.
    build_wheel(server.folder.parent, Dist("secret", "1.0"))
    (server.folder.parent / "secret.whl").write_bytes(b"secret")
    status = _raw_get(server, path)
    assert status in (301, 404), path
    assert status == 404 or not path.startswith("/files/")


def test_methods(client: httpx.Client) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        response = client.request(method, "/simple/", content=b"payload")
        assert response.status_code == 405, method
        assert response.headers["allow"] == "GET, HEAD"
    head = client.head("/simple/dep/", headers=JSON)
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0
    assert client.get("/simple/dep/").status_code == 200  # the server still answers


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with IndexServer(tmp_path / "absent") as server:
        response = httpx.get(server.url + "/", headers=JSON)
        assert response.json()["projects"] == []
        assert httpx.get(server.url + "/anything/").status_code == 404


# --------------------------------------------------------------------------- fault hooks


def test_drop_connection(tmp_path: Path) -> None:
    hook = DropConnection(r"^/simple/dep/$", times=2)
    with (
        serve_dists(tmp_path, [Dist("dep", "1.0")], hooks=hook) as server,
        httpx.Client() as client,
    ):
        for _ in range(2):
            with pytest.raises(httpx.RemoteProtocolError):
                client.get(server.url + "/dep/")
        assert client.get(server.url + "/dep/").status_code == 200
        assert client.get(server.url + "/").status_code == 200
    assert hook.fired == 2


def test_server_error(tmp_path: Path) -> None:
    hook = ServerError(503, r"/files/", times=1, retry_after=7)
    with (
        serve_dists(tmp_path, [Dist("dep", "1.0")], hooks=hook) as server,
        httpx.Client() as client,
    ):
        assert client.get(server.url + "/dep/").status_code == 200  # not matched
        url = f"{server.base_url}/files/dep-1.0-py3-none-any.whl"
        failed = client.get(url)
        assert failed.status_code == 503
        assert failed.headers["retry-after"] == "7"
        assert client.get(url).status_code == 200  # bounded: fired once
    assert hook.fired == 1


def test_wrong_body(tmp_path: Path) -> None:
    hook = WrongBody(r"\.whl$")
    with (
        serve_dists(tmp_path, [Dist("dep", "1.0")], hooks=hook) as server,
        httpx.Client() as client,
    ):
        real = (server.folder / "dep-1.0-py3-none-any.whl").read_bytes()
        url = f"{server.base_url}/files/dep-1.0-py3-none-any.whl"
        wrong = client.get(url)
        assert wrong.status_code == 200
        assert len(wrong.content) == len(real)
        assert sha256(wrong.content) != sha256(real)
        # Same kept-alive connection: the next response is sound again.
        assert client.get(url).content == real
        assert client.get(url, headers={"Range": "bytes=0-3"}).content == real[:4]
    assert hook.fired == 1


def test_slow_body_still_delivers(tmp_path: Path) -> None:
    hook = SlowBody(r"\.whl$", delay=0.05)
    with (
        serve_dists(tmp_path, [Dist("dep", "1.0")], hooks=hook) as server,
        httpx.Client() as client,
    ):
        real = (server.folder / "dep-1.0-py3-none-any.whl").read_bytes()
        url = f"{server.base_url}/files/dep-1.0-py3-none-any.whl"
        assert client.get(url).content == real
        assert client.get(url).content == real
    assert hook.fired == 1


def test_slow_body_trips_a_read_timeout(tmp_path: Path) -> None:
    hook = SlowBody(r"\.whl$", delay=5)
    with serve_dists(tmp_path, [Dist("dep", "1.0")], hooks=hook) as server:
        url = f"{server.base_url}/files/dep-1.0-py3-none-any.whl"
        with httpx.Client(timeout=httpx.Timeout(5, read=0.2)) as client:
            with pytest.raises(httpx.ReadTimeout):
                client.get(url)
            assert client.get(url).status_code == 200
    assert hook.fired == 1


def test_request_log_and_chain(tmp_path: Path) -> None:
    log = RequestLog()
    error = ServerError(500, r"/simple/dep/")
    with (
        serve_dists(tmp_path, [Dist("dep", "1.0")], hooks=HookChain(log, error)) as server,
        httpx.Client() as client,
    ):
        assert client.get(server.url + "/dep/").status_code == 500
        assert client.get(server.url + "/dep/", headers=JSON).status_code == 200
        client.head(server.url + "/")
    assert log.paths() == ["/simple/dep/", "/simple/dep/"]
    assert log.paths("HEAD") == ["/simple/"]
    assert log.requests[1].headers["accept"] == JSON_CONTENT_TYPE


def test_serve_dists_with_sdists(tmp_path: Path) -> None:
    with serve_dists(tmp_path, [Dist("dep", "1.0")], sdists=True) as server:
        page = json.loads(httpx.get(server.url + "/dep/", headers=JSON).text)
    assert [f["filename"] for f in page["files"]] == ["dep-1.0-py3-none-any.whl", "dep-1.0.tar.gz"]
