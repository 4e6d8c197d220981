from __future__ import annotations

import asyncio
import email.utils
import gc
import importlib
import importlib.util
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import warnings
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import certifi
import httpx
import pytest

from resolvent.errors import (
    HttpStatusError,
    IndexDataError,
    IndexUnreachableError,
    NotCachedError,
    RangeNotSupportedError,
)
from resolvent.index.http import (
    HEURISTIC_LIFETIME,
    CacheEntry,
    HttpCache,
    HttpClient,
    LoopThread,
    Response,
    _note_absent_sniffio,
    load_trust,
    run_sync,
    shared_tls_context,
)

if TYPE_CHECKING:
    from collections.abc import Coroutine, Iterator

T = TypeVar("T")


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    ranges: bool = True


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class TestServer:
    """A tiny HTTP/1.1 server on 127.0.0.1 with ETag/Last-Modified and Range support."""

    __test__ = False

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_HEAD(self) -> None:
                self._answer(head=True)

            def do_GET(self) -> None:
                self._answer(head=False)

            def _answer(self, *, head: bool) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.seen.append(Seen(self.command, self.path, headers))
                route = server.routes.get(self.path)
                if route is None:
                    self._send(404, {}, b"missing", head=head)
                    return
                etag = route.headers.get("ETag")
                modified = route.headers.get("Last-Modified")
                if (etag and headers.get("if-none-match") == etag) or (
                    modified and headers.get("if-modified-since") == modified
                ):
                    self._send(304, route.headers, b"", head=True)
                    return
                wanted = headers.get("range")
                if route.ranges and wanted and route.status == 200:
                    self._send_range(route, wanted, head=head)
                    return
                self._send(route.status, route.headers, route.body, head=head)

            def _send_range(self, route: Route, wanted: str, *, head: bool) -> None:
                size = len(route.body)
                match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted)
                assert match is not None
                first, last = match.groups()
                if not first:
                    start, end = max(0, size - int(last)), size - 1
                else:
                    start, end = int(first), min(size - 1, int(last) if last else size - 1)
                extra = {"Content-Range": f"bytes {start}-{end}/{size}"}
                self._send(206, route.headers | extra, route.body[start : end + 1], head=head)

            def _send(
                self, status: int, headers: dict[str, str], body: bytes, *, head: bool
            ) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head and status != 304:
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def count(self, path: str) -> int:
        return sum(1 for s in self.seen if s.path == path)


@pytest.fixture
def server() -> Iterator[TestServer]:
    instance = TestServer()
    instance.thread.start()
    yield instance
    instance.httpd.shutdown()
    instance.httpd.server_close()


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def fetch(cache_dir: Path | None, url: str, **kwargs: Any) -> Response:
    policy = kwargs.pop("policy", "normal")
    async with HttpClient(cache_dir=cache_dir, policy=policy, backoff_base=0) as client:
        return await client.get(url, **kwargs)


# --- plain requests -------------------------------------------------------------------


def test_get_returns_body_and_lowercase_headers(server: TestServer) -> None:
    server.routes["/a"] = Route(b"hello", headers={"Content-Type": "text/html", "X-Thing": "1"})
    response = run(fetch(None, server.url("/a")))
    assert response.status == 200
    assert response.content == b"hello"
    assert response.content_type == "text/html"
    assert response.headers["x-thing"] == "1"
    assert not response.from_cache
    assert server.seen[0].headers["user-agent"].startswith("resolvent/")


def test_error_status_raises(server: TestServer) -> None:
    with pytest.raises(HttpStatusError) as caught:
        run(fetch(None, server.url("/nowhere")))
    assert caught.value.status == 404
    assert "/nowhere" in str(caught.value)


def test_redirect_is_followed_and_final_url_reported(server: TestServer) -> None:
    server.routes["/old/"] = Route(status=301, headers={"Location": "/new/"})
    server.routes["/new/"] = Route(b"moved")
    response = run(fetch(None, server.url("/old/")))
    assert response.content == b"moved"
    assert response.url == server.url("/new/")


def test_head(server: TestServer) -> None:
    server.routes["/w"] = Route(b"x" * 10)

    async def go() -> Response:
        async with HttpClient() as client:
            return await client.head(server.url("/w"))

    response = run(go())
    assert response.headers["content-length"] == "10"
    assert response.content == b""
    assert server.seen[0].method == "HEAD"


# --- cache ----------------------------------------------------------------------------


def test_fresh_entry_is_used_without_request(server: TestServer, tmp_path: Path) -> None:
    server.routes["/p"] = Route(b"page", headers={"Cache-Control": "max-age=600"})
    first = run(fetch(tmp_path, server.url("/p")))
    second = run(fetch(tmp_path, server.url("/p")))
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.content == b"page"
    assert server.count("/p") == 1


def test_stale_entry_is_revalidated_with_etag(server: TestServer, tmp_path: Path) -> None:
    server.routes["/p"] = Route(b"page", headers={"ETag": '"v1"', "Cache-Control": "max-age=0"})
    run(fetch(tmp_path, server.url("/p")))
    again = run(fetch(tmp_path, server.url("/p")))
    assert again.from_cache
    assert again.status == 200
    assert again.content == b"page"
    assert server.count("/p") == 2
    assert server.seen[1].headers["if-none-match"] == '"v1"'


def test_revalidation_with_last_modified(server: TestServer, tmp_path: Path) -> None:
    stamp = "Wed, 01 Jan 2020 00:00:00 GMT"
    server.routes["/p"] = Route(
        b"page", headers={"Last-Modified": stamp, "Cache-Control": "no-cache"}
    )
    run(fetch(tmp_path, server.url("/p")))
    again = run(fetch(tmp_path, server.url("/p")))
    assert again.content == b"page"
    assert again.from_cache
    assert server.seen[1].headers["if-modified-since"] == stamp


def test_changed_content_replaces_entry(server: TestServer, tmp_path: Path) -> None:
    server.routes["/p"] = Route(b"one", headers={"ETag": '"1"', "Cache-Control": "no-cache"})
    run(fetch(tmp_path, server.url("/p")))
    server.routes["/p"] = Route(b"two", headers={"ETag": '"2"', "Cache-Control": "no-cache"})
    second = run(fetch(tmp_path, server.url("/p")))
    assert (second.content, second.from_cache) == (b"two", False)
    offline = run(fetch(tmp_path, server.url("/p"), policy="offline"))
    assert offline.content == b"two"


def test_no_caching_headers_still_stored_with_heuristic_freshness(
    server: TestServer, tmp_path: Path
) -> None:
    server.routes["/bare"] = Route(b"bare")
    run(fetch(tmp_path, server.url("/bare")))
    assert any(p.is_file() for p in tmp_path.rglob("*"))
    second = run(fetch(tmp_path, server.url("/bare")))
    assert (second.content, second.from_cache) == (b"bare", True)
    assert server.count("/bare") == 1
    refreshed = run(fetch(tmp_path, server.url("/bare"), policy="refresh"))
    assert (refreshed.content, refreshed.from_cache) == (b"bare", False)
    assert server.count("/bare") == 2
    offline = run(fetch(tmp_path, server.url("/bare"), policy="offline"))
    assert (offline.content, offline.from_cache) == (b"bare", True)
    assert server.count("/bare") == 2


def test_immutable_is_cached_forever(server: TestServer, tmp_path: Path) -> None:
    server.routes["/x.metadata"] = Route(b"Name: x\n")
    run(fetch(tmp_path, server.url("/x.metadata"), immutable=True))
    second = run(fetch(tmp_path, server.url("/x.metadata"), immutable=True))
    assert second.from_cache
    assert server.count("/x.metadata") == 1


def test_offline_miss_and_hit(server: TestServer, tmp_path: Path) -> None:
    url = server.url("/p")
    with pytest.raises(NotCachedError) as caught:
        run(fetch(tmp_path, url, policy="offline"))
    assert str(caught.value) == f"`{url}` is not in the cache and `--offline` is set"
    server.routes["/p"] = Route(b"page", headers={"Cache-Control": "no-cache"})
    run(fetch(tmp_path, url))
    hit = run(fetch(tmp_path, url, policy="offline"))
    assert hit.content == b"page"
    assert server.count("/p") == 1


def test_offline_without_cache_dir_and_ranges(server: TestServer) -> None:
    async def go() -> None:
        async with HttpClient(policy="offline") as client:
            with pytest.raises(NotCachedError):
                await client.get(server.url("/p"))
            with pytest.raises(NotCachedError):
                await client.get_range(server.url("/p"), 0, 4)

    run(go())
    assert server.seen == []


def test_refresh_ignores_but_writes_cache(server: TestServer, tmp_path: Path) -> None:
    server.routes["/p"] = Route(b"old", headers={"Cache-Control": "max-age=600"})
    run(fetch(tmp_path, server.url("/p")))
    server.routes["/p"] = Route(b"new", headers={"Cache-Control": "max-age=600"})
    refreshed = run(fetch(tmp_path, server.url("/p"), policy="refresh"))
    assert (refreshed.content, refreshed.from_cache) == (b"new", False)
    assert "if-none-match" not in server.seen[-1].headers
    cached = run(fetch(tmp_path, server.url("/p")))
    assert (cached.content, cached.from_cache) == (b"new", True)
    assert server.count("/p") == 2


def test_cache_bypass_and_accept_variants(server: TestServer, tmp_path: Path) -> None:
    server.routes["/p"] = Route(b"page", headers={"Cache-Control": "max-age=600"})
    run(fetch(tmp_path, server.url("/p"), accept="text/html"))
    run(fetch(tmp_path, server.url("/p"), accept="application/json"))
    run(fetch(tmp_path, server.url("/p"), accept="text/html"))
    run(fetch(tmp_path, server.url("/p"), accept="text/html", cache=False))
    assert server.count("/p") == 3
    assert server.seen[0].headers["accept"] == "text/html"


def test_cache_files_are_whole_or_absent(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    key = HttpCache.key("http://h/x", "text/html")
    assert key != HttpCache.key("http://h/x")
    entry = CacheEntry("http://h/x", 200, {"etag": '"e"'}, b"\x00body\nwith newline", 5.0)
    cache.store(key, entry)
    assert cache.load(key) == entry
    assert [p.name for p in cache.path(key).parent.iterdir()] == [key]
    cache.path(key).write_bytes(b"not json\nbody")
    assert cache.load(key) is None
    cache.path(key).write_bytes(b"no newline")
    assert cache.load(key) is None
    assert cache.load("0" * 64) is None


EPOCH_PLUS_100 = "Thu, 01 Jan 1970 00:01:40 GMT"


@pytest.mark.parametrize(
    ("headers", "age", "fresh"),
    [
        ({}, 0.0, True),
        ({}, HEURISTIC_LIFETIME + 1, False),
        ({"cache-control": "max-age=60"}, 30.0, True),
        ({"cache-control": "max-age=60"}, 61.0, False),
        ({"cache-control": "max-age=60", "age": "50"}, 20.0, False),
        ({"cache-control": "public, max-age=60, no-cache"}, 1.0, False),
        ({"cache-control": "no-store"}, 1.0, False),
        ({"cache-control": "max-age=bad"}, 1.0, False),
        (
            {"expires": "Thu, 01 Jan 1970 00:01:40 GMT", "date": "Thu, 01 Jan 1970 00:00:00 GMT"},
            50.0,
            True,
        ),
        ({"expires": EPOCH_PLUS_100}, 150.0, False),
        ({"expires": "0"}, 1.0, False),
    ],
)
def test_freshness(headers: dict[str, str], age: float, fresh: bool) -> None:
    entry = CacheEntry("u", 200, headers, b"", fetched_at=0.0)
    assert entry.is_fresh(age) is fresh
    assert CacheEntry("u", 200, headers, b"", 0.0, immutable=True).is_fresh(1e9)


# --- ranges ---------------------------------------------------------------------------


def test_ranges(server: TestServer) -> None:
    body = bytes(range(256)) * 4
    server.routes["/f.whl"] = Route(body)

    async def go() -> tuple[bytes, tuple[int, bytes], tuple[int, bytes], bytes]:
        async with HttpClient() as client:
            url = server.url("/f.whl")
            return (
                await client.get_range(url, 10, 20),
                await client.get_tail(url, 100),
                await client.get_tail(url, 5000),
                await client.get_range(url, 5, 5),
            )

    span, (offset, tail), (whole_at, whole), empty = run(go())
    assert span == body[10:20]
    assert (offset, tail) == (len(body) - 100, body[-100:])
    assert (whole_at, whole) == (0, body)
    assert empty == b""
    assert server.seen[0].headers["range"] == "bytes=10-19"
    assert server.seen[0].headers["accept-encoding"] == "identity"


def test_server_ignoring_ranges_is_detected(server: TestServer) -> None:
    server.routes["/f.whl"] = Route(b"x" * 1000, ranges=False)

    async def go(tail: bool) -> object:
        async with HttpClient() as client:
            if tail:
                return await client.get_tail(server.url("/f.whl"), 10)
            return await client.get_range(server.url("/f.whl"), 0, 10)

    for tail in (False, True):
        with pytest.raises(RangeNotSupportedError):
            run(go(tail))


def test_range_error_status(server: TestServer) -> None:
    async def go() -> bytes:
        async with HttpClient(retries=0) as client:
            return await client.get_range(server.url("/missing"), 0, 10)

    with pytest.raises(HttpStatusError):
        run(go())


# --- retries (MockTransport) ------------------------------------------------------------


class Script:
    """Answers requests from a list of responses or exceptions, recording waits."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.calls = 0
        self.waits: list[float] = []

    def __call__(self, _request: httpx.Request) -> httpx.Response:
        self.calls += 1
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def client(self, **kwargs: Any) -> HttpClient:
        return HttpClient(
            transport=httpx.MockTransport(self), sleep=self.sleep, backoff_base=0.01, **kwargs
        )


def scripted(script: Script, **kwargs: Any) -> Response:
    async def go() -> Response:
        async with script.client(**kwargs) as client:
            return await client.get("http://127.0.0.1:9/x")

    return run(go())


def test_retries_connection_errors_and_5xx_then_succeeds() -> None:
    script = Script(
        httpx.ConnectError("refused"),
        httpx.Response(503),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, content=b"ok"),
    )
    assert scripted(script).content == b"ok"
    assert script.calls == 4
    assert len(script.waits) == 3
    # Exponential: each base delay doubles; jitter keeps each within [half, full].
    for attempt, wait in enumerate(script.waits):
        assert 0.01 * 2**attempt / 2 <= wait <= 0.01 * 2**attempt


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)  # 31: the gzip container
    return packer.compress(data) + packer.flush()


def test_a_gzip_bomb_is_refused_before_it_fills_memory() -> None:
    bomb = _gzip(bytes(80 << 20))  # 80 MiB of zeros in about 80 KiB
    script = Script(httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=bomb))
    with pytest.raises(IndexDataError, match="inflates"):
        scripted(script)
    # A page that compresses as well as real pages do is read whole.
    page = b"".join(b'<a href="demo-1.%d.tar.gz">x</a>\n' % i for i in range(100_000))
    script = Script(httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=_gzip(page)))
    assert scripted(script).content == page


def test_attempts_are_bounded() -> None:
    script = Script(*[httpx.ConnectError("refused")] * 3)
    with pytest.raises(IndexUnreachableError, match="could not connect"):
        scripted(script, retries=2)
    assert script.calls == 3
    script = Script(*[httpx.Response(502)] * 2)
    with pytest.raises(HttpStatusError) as caught:
        scripted(script, retries=1)
    assert caught.value.status == 502
    assert script.calls == 2


def test_retry_after_seconds_and_date_are_honoured_and_capped() -> None:
    soon = email.utils.formatdate(time.time() + 1000, usegmt=True)
    script = Script(
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(503, headers={"Retry-After": "120"}),
        httpx.Response(503, headers={"Retry-After": soon}),
        httpx.Response(503, headers={"Retry-After": "garbage"}),
        httpx.Response(200, content=b"ok"),
    )
    assert scripted(script, retries=4, max_retry_wait=60).content == b"ok"
    assert script.waits[:3] == [3.0, 60.0, 60.0]
    assert script.waits[3] <= 0.08


def test_non_retryable_statuses_and_errors() -> None:
    script = Script(httpx.Response(403))
    with pytest.raises(HttpStatusError):
        scripted(script)
    assert script.calls == 1
    script = Script(httpx.UnsupportedProtocol("nope"))
    with pytest.raises(IndexUnreachableError):
        scripted(script)
    assert script.calls == 1


def test_timeout_message() -> None:
    script = Script(httpx.ConnectTimeout("slow"))
    with pytest.raises(IndexUnreachableError, match="timed out") as caught:
        scripted(script, retries=0)
    assert caught.value.url == "http://127.0.0.1:9/x"


def test_concurrency_is_bounded() -> None:
    active = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        active -= 1
        return httpx.Response(200, content=request.url.path.encode())

    async def go() -> list[Response]:
        transport = httpx.MockTransport(handler)
        async with HttpClient(transport=transport, max_concurrency=2) as client:
            return await asyncio.gather(*(client.get(f"http://h.test/{i}") for i in range(8)))

    responses = run(go())
    assert [r.content for r in responses] == [f"/{i}".encode() for i in range(8)]
    assert peak == 2


# --- file URLs --------------------------------------------------------------------------


def test_file_urls(tmp_path: Path) -> None:
    (tmp_path / "simple" / "demo").mkdir(parents=True)
    (tmp_path / "simple" / "demo" / "index.html").write_text("<a href='x'>")
    (tmp_path / "blob.whl").write_bytes(b"0123456789")
    base = tmp_path.as_uri()

    async def go() -> tuple[Response, bytes, tuple[int, bytes], Response]:
        async with HttpClient() as client:
            return (
                await client.get(f"{base}/simple/demo/"),
                await client.get_range(f"{base}/blob.whl", 2, 5),
                await client.get_tail(f"{base}/blob.whl", 4),
                await client.head(f"{base}/blob.whl"),
            )

    page, span, tail, head = run(go())
    assert page.content == b"<a href='x'>"
    assert page.content_type == "text/html"
    assert span == b"234"
    assert tail == (6, b"6789")
    assert head.headers["content-length"] == "10"

    async def missing() -> Response:
        async with HttpClient() as client:
            return await client.get(f"{base}/nothing.html")

    with pytest.raises(HttpStatusError):
        run(missing())


# --- sync bridges -----------------------------------------------------------------------


async def _double(value: int) -> int:
    await asyncio.sleep(0)
    return value * 2


def test_loop_thread_runs_many_and_waits_for_one() -> None:
    with LoopThread() as loop:
        futures = [loop.submit(_double(i)) for i in range(20)]
        assert loop.run(_double(21)) == 42
        assert [f.result() for f in futures] == [i * 2 for i in range(20)]

        async def nested() -> int:
            return loop.run(_double(1))

        with pytest.raises(RuntimeError, match="own loop"):
            loop.run(nested())
    loop.close()  # closing twice is harmless


def test_loop_thread_drives_http_client(server: TestServer) -> None:
    server.routes["/p"] = Route(b"page")
    with LoopThread() as loop:
        client = loop.run(_make_client())
        futures = [loop.submit(client.get(server.url("/p"), cache=False)) for _ in range(5)]
        assert {f.result().content for f in futures} == {b"page"}
        loop.run(client.aclose())


async def _make_client() -> HttpClient:
    return HttpClient()


def test_a_closed_client_sends_nothing_rather_than_open_a_new_pool(server: TestServer) -> None:
    """Once closed, no request may open a connection: nothing would ever close it."""
    server.routes["/p"] = Route(b"page")

    async def scenario() -> None:
        client = HttpClient()
        assert (await client.get(server.url("/p"), cache=False)).content == b"page"
        await client.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await client.get(server.url("/p"), cache=False)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        asyncio.run(scenario())
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert [seen.path for seen in server.seen] == ["/p"]


def test_run_sync() -> None:
    assert run_sync(_double(4)) == 8

    async def inside() -> int:
        return run_sync(_double(1))

    with pytest.raises(RuntimeError, match="event loop running"):
        asyncio.run(inside())


def test_one_verifying_tls_context_is_shared() -> None:
    context = shared_tls_context()
    assert context is shared_tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


@pytest.mark.parametrize("installed", [False, True])
def test_a_missing_sniffio_is_remembered_as_missing(
    monkeypatch: pytest.MonkeyPatch, installed: bool
) -> None:
    # httpcore tries `import sniffio` for every lock; absent, that must fail at once.
    monkeypatch.setitem(sys.modules, "sniffio", None)
    monkeypatch.delitem(sys.modules, "sniffio")
    found = object() if installed else None
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: found)
    _note_absent_sniffio()
    assert ("sniffio" in sys.modules) is not installed
    if not installed:
        with pytest.raises(ImportError):
            importlib.import_module("sniffio")


def _tls_facts(context: ssl.SSLContext) -> tuple[object, ...]:
    return (
        context.protocol,
        context.verify_mode,
        context.check_hostname,
        context.options,
        context.verify_flags,
        context.minimum_version,
        context.maximum_version,
        sorted(str(cert) for cert in context.get_ca_certs()),
    )


@pytest.mark.parametrize("source", ["certifi", "SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_the_trust_built_without_httpx_is_httpx_own(
    source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``load_trust`` replaces ``httpx.create_ssl_context()`` so that it can run in a thread
    while httpx is imported; it must build the same context from the same environment."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    if source == "SSL_CERT_FILE":
        bundle = tmp_path / "bundle.pem"
        text = Path(certifi.where()).read_text()
        bundle.write_text(text[: text.index("-----END CERTIFICATE-----") + 26])  # one CA
        monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    elif source == "SSL_CERT_DIR":
        monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    ours = load_trust()
    assert _tls_facts(ours) == _tls_facts(httpx.create_ssl_context())
    if source != "certifi":
        assert len(ours.get_ca_certs()) == {"SSL_CERT_FILE": 1, "SSL_CERT_DIR": 0}[source]


def test_a_trust_that_cannot_load_raises_for_its_caller(tmp_path: Path) -> None:
    program = (
        "from resolvent.index.http import shared_tls_context\n"
        "try:\n    shared_tls_context()\n"
        "except OSError as error:\n    print(type(error).__name__)\n"
    )
    env = {**os.environ, "SSL_CERT_FILE": str(tmp_path / "missing.pem")}
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, check=False
    )
    assert done.stdout.strip() == "FileNotFoundError", done.stderr
