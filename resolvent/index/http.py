"""The HTTP client is resolvent's one way to fetch bytes from an index: retrying and cached.

Resolution is dominated by round trips, so every fetch goes through one pooled
``httpx.AsyncClient`` (HTTP/2 where the server offers it, as uv's client; else HTTP/1.1
with keep-alive) with bounded concurrency, retries with
exponential backoff on connection errors, 429 and 5xx (honouring ``Retry-After``), and a
cache on disk that stores each response with its validators so that a warm run asks
only "has this changed?" (or nothing at all). Third-party errors are translated here, at
the boundary, into :class:`resolvent.errors.NetworkError` subclasses.

The solver's provider protocol is synchronous; :class:`LoopThread` owns an event loop in
a daemon thread so sync code can submit many fetches at once and wait for one.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib.util
import os
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar
from urllib.parse import urlsplit

from resolvent import __version__
from resolvent.errors import (
    HttpStatusError,
    IndexDataError,
    IndexUnreachableError,
    NotCachedError,
    RangeNotSupportedError,
)
from resolvent.index.config import shown_url, url_problem
from resolvent.index.httpcache import (
    HEURISTIC_LIFETIME,
    CacheEntry,
    HttpCache,
    _http_date,
    _int,
)

if TYPE_CHECKING:
    import concurrent.futures
    import ssl
    from collections.abc import Awaitable, Callable, Coroutine
    from types import TracebackType

    import httpx

__all__ = [
    "HEURISTIC_LIFETIME",
    "CacheEntry",
    "CachePolicy",
    "HttpCache",
    "HttpClient",
    "LoopThread",
    "Response",
    "content_range",
    "load_trust",
    "range_headers",
    "run_sync",
    "shared_tls_context",
    "start_tls_context",
]

T = TypeVar("T")  # result


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """Return the one TLS context (the system's trust, as httpx builds it) of this process.

    Each client otherwise builds its own, loading every CA certificate again (~50 ms
    each), and a cold install makes two: the index client and the downloader. An
    ``SSLContext`` may be shared by connections in any thread. Building it starts with
    :func:`start_tls_context` if nothing started it yet.
    """
    future, thread = start_tls_context()
    thread.join()  # it ends with the result; joined, it cannot delay the program's exit
    return future.result()


def start_tls_context() -> tuple[concurrent.futures.Future[ssl.SSLContext], threading.Thread]:
    """Start building the shared TLS context in a thread, unless it is built or building.

    OpenSSL parses the CA file without holding the GIL, so the ~50 ms it takes overlap
    with what the calling thread does next: importing httpx, about twice as long.
    """
    global _trust  # noqa: PLW0603 - one context per process
    with _trust_lock:
        if _trust is None:
            import concurrent.futures  # noqa: PLC0415 - asyncio has imported it already

            future: concurrent.futures.Future[ssl.SSLContext] = concurrent.futures.Future()

            def build() -> None:
                try:
                    future.set_result(load_trust())
                except BaseException as error:  # noqa: BLE001 - raised by future.result()
                    future.set_exception(error)

            thread = threading.Thread(target=build, name="resolvent-tls", daemon=True)
            thread.start()
            _trust = (future, thread)
        return _trust


def load_trust() -> ssl.SSLContext:
    """Build the client context ``httpx.create_ssl_context()`` builds (httpx 0.28), without httpx.

    ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi's bundle, as httpx chooses;
    ``ssl.create_default_context`` does the rest. A test holds it equal to httpx's own.
    """
    import ssl  # noqa: PLC0415 - only for a network client

    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    import certifi  # noqa: PLC0415

    return ssl.create_default_context(cafile=certifi.where())


_trust_lock = threading.Lock()
_trust: tuple[concurrent.futures.Future[ssl.SSLContext], threading.Thread] | None = None


CachePolicy = Literal["normal", "offline", "refresh"]

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Headers worth keeping with a cached body: validators, freshness and the media type.
_KEPT_HEADERS = (
    "age",
    "cache-control",
    "content-type",
    "date",
    "etag",
    "expires",
    "last-modified",
)
# A decoded body may reach _INFLATED_FLOOR bytes before its compression ratio is checked.
_INFLATED_FLOOR = 64 << 20
_INFLATION_RATIO = 100
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response: status, lower-cased headers and the body.

    ``url`` is the final URL after redirects (relative links resolve against it);
    ``from_cache`` is true when the body came from the disk cache, with or without a
    revalidation request; ``digest`` is the body's sha256 when the body is (now) cached,
    which keys data derived from it (:meth:`HttpCache.load_derived`).
    """

    url: str
    status: int
    headers: dict[str, str] = field(hash=False)
    content: bytes
    from_cache: bool = False
    digest: str | None = field(default=None, compare=False)

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header, if any."""
        return self.headers.get("content-type")


class HttpClient:
    """An async HTTP client for indexes: pooled, bounded, retrying and cached.

    Use it as an async context manager, always from the event loop it was first used on.

    :param cache_dir: folder of the response cache; ``None`` disables caching.
    :param policy: ``normal`` (RFC 9111 freshness, then revalidation), ``offline``
        (answer only from the cache) or ``refresh`` (ignore the cache, but write it).
    :param max_concurrency: requests in flight at once.
    :param retries: further attempts after the first, for connection errors, 429 and 5xx.
    :param backoff_base: first retry delay in seconds; it doubles on each retry.
    :param max_retry_wait: cap on any single wait, including ``Retry-After``.
    :param transport: an httpx transport (tests pass ``httpx.MockTransport``).
    :param verify: ``True`` (the shared context: the system's trust), ``False``, or a TLS
        context of the caller's (tests trust their own certificate).
    :param http2: offer HTTP/2 where ``h2`` is installed (the default); ``False`` keeps
        to HTTP/1.1 (``bench.range_requests`` compares the two).
    :param sleep: the coroutine used to wait between attempts (tests record waits).

    Example::

        async with HttpClient(cache_dir=Path("cache/http")) as client:
            page = await client.get(url, accept=PAGE_ACCEPT)
    """

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        policy: CachePolicy = "normal",
        max_concurrency: int = 16,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        retries: int = 3,
        backoff_base: float = 0.5,
        max_retry_wait: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool | ssl.SSLContext = True,
        http2: bool = True,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.policy: CachePolicy = policy
        self.cache = HttpCache(cache_dir) if cache_dir is not None else None
        self._attempts = max(1, retries + 1)
        self._backoff_base = backoff_base
        self._max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._client_options: dict[str, Any] = {
            "http1": True,
            "http2": http2 and _http2_available(),
            "follow_redirects": True,
            "timeout": (timeout, connect_timeout),
            "limits": max_concurrency,
            "headers": {"User-Agent": f"resolvent/{__version__}"},
            "transport": transport,
            "verify": verify,
        }
        self._client: httpx.AsyncClient | None = None
        self._closed = False

    def _http(self) -> httpx.AsyncClient:
        # Created on first use: building the TLS context costs a noticeable fraction of
        # a second, which a warm run answered wholly from the cache never pays.
        if self._closed:
            # Made anew, a pool would hold connections that nothing closes any more.
            msg = "the HTTP client is closed"
            raise RuntimeError(msg)
        if self._client is None:
            if self._client_options["verify"] is True:
                start_tls_context()  # built while httpx is imported
            import httpx  # noqa: PLC0415 - imported only when a request is really sent

            _note_absent_sniffio()
            options = dict(self._client_options)
            if options["verify"] is True:
                options["verify"] = shared_tls_context()
            timeout, connect_timeout = options.pop("timeout")
            limit = options.pop("limits")
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(timeout, connect=connect_timeout),
                limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
                **options,
            )
        return self._client

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close pooled connections; a request sent afterwards raises ``RuntimeError``."""
        self._closed = True
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def get(
        self, url: str, *, accept: str | None = None, cache: bool = True, immutable: bool = False
    ) -> Response:
        """Fetch ``url`` through the cache, following redirects.

        :param accept: the ``Accept`` header; part of the cache key.
        :param cache: ``False`` bypasses the cache for reading and writing.
        :param immutable: the URL's content never changes (a metadata file or a wheel
            named by its hash): once cached it is used without asking the server.
        :raises HttpStatusError: the final status is 400 or more.
        :raises IndexUnreachableError: no answer after every attempt.
        :raises NotCachedError: offline, and the cache has no entry.
        """
        if _scheme(url) == "file":
            return await asyncio.to_thread(_read_file_url, url)
        store = self.cache if cache else None
        key = HttpCache.key(url, accept)
        entry = None
        if store is not None and self.policy != "refresh":
            entry = await asyncio.to_thread(store.load, key)
        if self.policy == "offline":
            if entry is None:
                raise NotCachedError(url)
            return _cached(entry)
        if entry is not None and entry.is_fresh(time.time()):
            return _cached(entry)
        headers = {"Accept": accept} if accept else {}
        if entry is not None:
            if etag := entry.headers.get("etag"):
                headers["If-None-Match"] = etag
            if modified := entry.headers.get("last-modified"):
                headers["If-Modified-Since"] = modified
        raw, body = await self._send("GET", url, headers)
        now = time.time()
        if raw.status_code == 304 and entry is not None:
            merged = entry.headers | _kept_headers(raw.headers)
            known = entry.digest or hashlib.sha256(entry.content).hexdigest()
            entry = CacheEntry(
                entry.url, entry.status, merged, entry.content, now, immutable, known
            )
            if store is not None:
                await asyncio.to_thread(store.store, key, entry)
            return _cached(entry)
        if raw.status_code >= 400:
            raise HttpStatusError(url, raw.status_code)
        final_url = str(raw.url)
        digest: str | None = None
        if store is not None and raw.status_code == 200:
            digest = hashlib.sha256(body).hexdigest()
            fresh = CacheEntry(
                final_url, 200, _kept_headers(raw.headers), body, now, immutable, digest
            )
            await asyncio.to_thread(store.store, key, fresh)
        return Response(final_url, raw.status_code, _all_headers(raw.headers), body, digest=digest)

    async def head(self, url: str) -> Response:
        """Send a ``HEAD`` request (never cached); raises like :meth:`get`."""
        if _scheme(url) == "file":
            found = await asyncio.to_thread(_read_file_url, url)
            return Response(found.url, found.status, found.headers, b"")
        self._require_online(url)
        raw, _ = await self._send("HEAD", url, {})
        if raw.status_code >= 400:
            raise HttpStatusError(url, raw.status_code)
        return Response(str(raw.url), raw.status_code, _all_headers(raw.headers), b"")

    async def get_range(self, url: str, start: int, end: int) -> bytes:
        """Return bytes ``[start, end)`` of ``url`` with an HTTP ``Range`` request.

        :raises RangeNotSupportedError: the server answered 200 (it ignores ranges); the
            body is not read, so the caller can fall back to a full download cheaply.
        """
        if end <= start:
            return b""
        if _scheme(url) == "file":
            return await asyncio.to_thread(_read_file_span, url, start, end)
        self._require_online(url)
        raw, body = await self._send(
            "GET", url, range_headers(f"bytes={start}-{end - 1}"), ranged=True
        )
        first, _ = content_range(url, raw)
        if first != start:
            raise RangeNotSupportedError(url)
        return body[: end - start]

    async def get_tail(self, url: str, length: int) -> tuple[int, bytes]:
        """Return ``(offset, data)``: the last ``length`` bytes of ``url`` and where they start.

        The file's size is ``offset + len(data)``. Raises like :meth:`get_range`.
        """
        if _scheme(url) == "file":
            return await asyncio.to_thread(_read_file_tail, url, length)
        self._require_online(url)
        raw, body = await self._send("GET", url, range_headers(f"bytes=-{length}"), ranged=True)
        first, _ = content_range(url, raw)
        return first, body

    def _require_online(self, url: str) -> None:
        if self.policy == "offline":
            raise NotCachedError(url)

    async def _send(
        self, method: str, url: str, headers: dict[str, str], *, ranged: bool = False
    ) -> tuple[httpx.Response, bytes]:
        """Send one request with retries; return the response and its (decoded) body.

        The body is not read when a range was ignored.
        """
        import httpx  # noqa: PLC0415 - see _http()

        attempt = 0
        while True:
            attempt += 1
            delay: float
            try:
                async with self._semaphore:
                    client = self._http()
                    request = client.build_request(method, url, headers=headers)
                    raw = await client.send(request, stream=True)
                    if ranged and raw.status_code == 200:
                        await raw.aclose()
                        raise RangeNotSupportedError(url)
                    try:
                        body = await _read_body(url, raw)
                    finally:
                        await raw.aclose()
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
                if attempt >= self._attempts:
                    raise IndexUnreachableError(url, _describe(error)) from error
                delay = self._backoff(attempt)
            except httpx.HTTPError as error:
                raise IndexUnreachableError(url, _describe(error)) from error
            except (httpx.InvalidURL, ValueError, OverflowError) as error:
                # A URL httpx cannot send (it checks less than url_problem, and a port
                # out of range surfaces only while connecting): no retry can help.
                raise IndexUnreachableError(shown_url(url), f"invalid URL: {error}") from None
            except ExceptionGroup as group:
                # anyio's connection attempts report from a task group, so the same
                # failures can arrive wrapped; anything else in the group is re-raised.
                matched, rest = group.split((ValueError, OverflowError))
                if matched is None or rest is not None:
                    raise
                reason = str(matched.exceptions[0])
                raise IndexUnreachableError(shown_url(url), f"invalid URL: {reason}") from None
            else:
                if raw.status_code not in _RETRY_STATUSES or attempt >= self._attempts:
                    return raw, body
                retry_after = _retry_after(raw.headers.get("retry-after"), time.time())
                delay = retry_after if retry_after is not None else self._backoff(attempt)
            await self._sleep(min(delay, self._max_retry_wait))

    def _backoff(self, attempt: int) -> float:
        # Full jitter keeps many clients from retrying in lockstep; not for cryptography.
        spread = 0.5 + random.random() / 2  # noqa: S311
        return float(self._backoff_base * 2 ** (attempt - 1) * spread)


async def _read_body(url: str, raw: httpx.Response) -> bytes:
    """Read a streamed response's body, decoded, refusing one that inflates like a bomb."""
    chunks: list[bytes] = []
    decoded = 0
    async for chunk in raw.aiter_bytes():
        decoded += len(chunk)
        _check_inflation(url, decoded, raw.num_bytes_downloaded)
        chunks.append(chunk)
    return b"".join(chunks)


def _check_inflation(url: str, decoded: int, received: int) -> None:
    """Raise when a body's ``Content-Encoding`` inflates it like a decompression bomb.

    httpx decodes gzip and deflate as a body streams, and nothing bounded the result: 4
    MiB of gzip from a misbehaving index inflated to 4 GiB in memory (8 GiB of RSS, a
    minute) before the page was found not to parse. Real pages and files compress
    far less than 100:1, so past 64 MiB such a ratio can only be a bomb.

    :param decoded: bytes of body decoded so far.
    :param received: bytes received on the wire so far.
    :raises IndexDataError: the ratio is beyond any real page's or file's.
    """
    if decoded > _INFLATED_FLOOR and decoded > _INFLATION_RATIO * received:
        raise IndexDataError(
            url, f"the response inflates to over {_INFLATION_RATIO} times its compressed size"
        )


def _scheme(url: str) -> str:
    """Return the URL's scheme once it is known to be fetchable.

    :raises IndexUnreachableError: the URL is malformed (see
        :func:`~resolvent.index.config.url_problem`); no request could succeed, and
        ``urlsplit`` or httpx would otherwise raise ``ValueError``/``InvalidURL``.
    """
    problem = url_problem(url)
    if problem is not None:
        raise IndexUnreachableError(shown_url(url), f"invalid URL: {problem}")
    return urlsplit(url).scheme


def _http2_available() -> bool:
    """Whether httpx can speak HTTP/2 here (its ``h2`` extra is installed).

    Resolution sends hundreds of small requests (pages, metadata files, ranges of
    wheels). Over HTTP/1.1 each concurrent request needs its own connection and TLS
    handshake, and a proxy or server that limits connections per client stalls the
    surplus; HTTP/2 multiplexes them all over one connection per host, as uv does. httpx
    negotiates it by ALPN, so a server without HTTP/2 (or a plain-``http`` index) is
    still spoken to in HTTP/1.1. Without ``h2`` (an install that left the extra out)
    the client stays on HTTP/1.1 instead of failing.
    """
    return importlib.util.find_spec("h2") is not None


def _note_absent_sniffio() -> None:
    """Make httpcore's repeated ``import sniffio`` fail at once where sniffio is absent.

    httpcore 1.x runs ``import sniffio`` each time it makes a lock, several times per
    request, to tell asyncio from trio. anyio 4 no longer installs sniffio, and a failed
    import is not remembered: every attempt searched all of ``sys.path`` again, a third
    of the I/O thread's time in a cold compile (sampled). ``None`` in ``sys.modules`` is
    the import system's documented mark of a module known to be missing; httpcore then
    takes its "no sniffio: asyncio" branch at once, which is what it found anyway.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]  # typeshed omits the mark


class LoopThread:
    """An event loop running in a daemon thread, for synchronous callers.

    The solver's provider is synchronous; it submits coroutines here (many at once, as
    prefetches) and blocks on the one it needs. Objects bound to a loop (an
    :class:`HttpClient`) must be created and used on this loop: create them inside a
    submitted coroutine.

    >>> async def answer() -> int:
    ...     return 42
    >>> with LoopThread() as loop:
    ...     loop.run(answer())
    42
    """

    def __init__(self, name: str = "resolvent-io") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop and return a future for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and block until it finishes.

        :raises RuntimeError: when called from the loop's own thread (it would deadlock).
        """
        if threading.current_thread() is self._thread:
            coro.close()
            msg = "LoopThread.run() called from its own loop; await the coroutine instead"
            raise RuntimeError(msg)
        return self.submit(coro).result(timeout)

    def close(self) -> None:
        """Cancel pending tasks, join the worker threads, stop the loop and join its thread.

        The loop's ``close`` alone would leave the worker threads of ``to_thread`` to end
        on their own; joined here, the process can end at once (see ``resolvent.cli``).
        """
        if self.loop.is_closed():
            return
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(_cancel_all(), self.loop).result()
            workers = self.loop.shutdown_default_executor()
            asyncio.run_coroutine_threadsafe(workers, self.loop).result()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
        self.loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code that has no running loop.

    >>> async def answer() -> int:
    ...     return 42
    >>> run_sync(answer())
    42

    :raises RuntimeError: when an event loop is already running in this thread; use a
        :class:`LoopThread` (or ``await``) there instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    msg = "run_sync() called with an event loop running; await the coroutine instead"
    raise RuntimeError(msg)


async def _cancel_all() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _cached(entry: CacheEntry) -> Response:
    """Return a cached entry as a response marked ``from_cache``."""
    return Response(
        entry.url,
        entry.status,
        dict(entry.headers),
        entry.content,
        from_cache=True,
        digest=entry.digest,
    )


def range_headers(value: str) -> dict[str, str]:
    """Return the headers of a ``Range`` request (``value``: ``bytes=...``).

    Offsets must count bytes of the file itself, never of a compressed encoding.
    """
    return {"Range": value, "Accept-Encoding": "identity"}


def content_range(url: str, raw: httpx.Response) -> tuple[int, int | None]:
    """Return ``(first byte, total size)`` of a 206 answer; raise on anything else."""
    if raw.status_code != 206:
        raise HttpStatusError(url, raw.status_code)
    match = _CONTENT_RANGE.fullmatch(raw.headers.get("content-range", "").strip())
    if match is None:
        raise RangeNotSupportedError(url)
    total = match.group(3)
    return int(match.group(1)), None if total == "*" else int(total)


def _kept_headers(headers: httpx.Headers) -> dict[str, str]:
    return {name: headers[name] for name in _KEPT_HEADERS if name in headers}


def _all_headers(headers: httpx.Headers) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in headers.multi_items():
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def _retry_after(value: str | None, now: float) -> float | None:
    """Read ``Retry-After``: delay seconds or an HTTP date; ``None`` when absent or bad."""
    if value is None:
        return None
    seconds = _int(value)
    if seconds is not None:
        return float(max(0, seconds))
    when = _http_date(value)
    return None if when is None else max(0.0, when - now)


def _describe(error: httpx.HTTPError) -> str:
    import httpx  # noqa: PLC0415 - see HttpClient._http()

    if isinstance(error, httpx.TimeoutException):
        return "the request timed out"
    if isinstance(error, httpx.ConnectError):
        return f"could not connect ({str(error) or type(error).__name__})"
    return str(error) or type(error).__name__


def _file_path(url: str) -> Path:
    from urllib.request import url2pathname  # noqa: PLC0415 - pulls in http.client

    return Path(url2pathname(urlsplit(url).path))


def _read_file_url(url: str) -> Response:
    """Answer a ``file:`` URL as pip does: a folder stands for its ``index.html``."""
    path = _file_path(url)
    content_type = "application/octet-stream"
    if path.is_dir():
        path /= "index.html"
    if path.suffix in {".html", ".htm"}:
        content_type = "text/html"
    elif path.suffix == ".json":
        content_type = "application/vnd.pypi.simple.v1+json"
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise HttpStatusError(url, 404) from None
    except OSError as error:
        raise IndexUnreachableError(url, str(error)) from error
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    headers = {
        "content-type": content_type,
        "content-length": str(len(content)),
        "last-modified": _format_http_date(stamp),
    }
    return Response(url, 200, headers, content)


def _format_http_date(stamp: datetime) -> str:
    import email.utils  # noqa: PLC0415 - costly; only file: URLs need it

    return email.utils.format_datetime(stamp, usegmt=True)


def _read_file_span(url: str, start: int, end: int) -> bytes:
    try:
        with _file_path(url).open("rb") as handle:
            handle.seek(start)
            return handle.read(end - start)
    except FileNotFoundError:
        raise HttpStatusError(url, 404) from None
    except OSError as error:
        raise IndexUnreachableError(url, str(error)) from error


def _read_file_tail(url: str, length: int) -> tuple[int, bytes]:
    try:
        with _file_path(url).open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(0, size - length)
            handle.seek(start)
            return start, handle.read()
    except FileNotFoundError:
        raise HttpStatusError(url, 404) from None
    except OSError as error:
        raise IndexUnreachableError(url, str(error)) from error
