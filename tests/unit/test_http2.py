"""The index client speaks HTTP/2 where a server offers it (as uv's client does).

A local TLS server (a self-signed certificate made with the ``openssl`` command, ALPN
``h2``, frames handled by the ``h2`` library) serves a page and a file with range
requests; the client must fetch both over HTTP/2, several requests multiplexed on one
connection. Where ``h2`` is missing the client stays on HTTP/1.1.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import socket
import ssl
import subprocess
import threading
from typing import TYPE_CHECKING

import pytest

from resolvent.index.http import HttpClient, _http2_available, run_sync

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

h2_connection = pytest.importorskip("h2.connection")
h2_config = pytest.importorskip("h2.config")
h2_events = pytest.importorskip("h2.events")

_FILE = bytes(range(256)) * 64  # 16 KiB


class H2Server:
    """Serves ``/page`` and ``/file`` (with ``Range: bytes=-N``) over TLS and HTTP/2 only."""

    def __init__(self, certificate: Path, key: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certificate, key)
        self.context.set_alpn_protocols(["h2"])
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.requests: list[tuple[str, str | None]] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(raw,), daemon=True).start()

    def _connection(self, raw: socket.socket) -> None:
        try:
            sock = self.context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        self.connections += 1
        connection = h2_connection.H2Connection(
            config=h2_config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        connection.initiate_connection()
        sock.sendall(connection.data_to_send())
        with sock:
            while data := sock.recv(65536):
                for event in connection.receive_data(data):
                    if isinstance(event, h2_events.RequestReceived):
                        self._answer(connection, event.stream_id, dict(event.headers))
                sock.sendall(connection.data_to_send())

    def _answer(self, connection: object, stream_id: int, headers: dict[str, str]) -> None:
        path, wanted = headers[":path"], headers.get("range")
        self.requests.append((path, wanted))
        status, body, extra = "404", b"", []
        if path == "/page":
            status, body = "200", b"<a href='file'>file</a>"
        elif path == "/file" and wanted and wanted.startswith("bytes=-"):
            start = len(_FILE) - int(wanted.removeprefix("bytes=-"))
            status, body = "206", _FILE[start:]
            extra = [("content-range", f"bytes {start}-{len(_FILE) - 1}/{len(_FILE)}")]
        response = [(":status", status), ("content-length", str(len(body))), *extra]
        connection.send_headers(stream_id, response)  # type: ignore[attr-defined]
        connection.send_data(stream_id, body, end_stream=True)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def h2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[H2Server, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(certificate),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = H2Server(certificate, key)
    yield server, certificate
    server.close()


def test_requests_are_multiplexed_over_one_http2_connection(
    h2_server: tuple[H2Server, Path],
) -> None:
    server, certificate = h2_server
    base = f"https://127.0.0.1:{server.port}"
    before = server.connections

    async def fetch() -> tuple[bytes, list[tuple[int, bytes]]]:
        trust = ssl.create_default_context(cafile=certificate)
        async with HttpClient(verify=trust, max_concurrency=8) as client:
            page = await client.get(f"{base}/page", cache=False)
            tails = await asyncio.gather(
                *(client.get_tail(f"{base}/file", size) for size in (10, 100, 1000, 4096))
            )
            return page.content, tails

    content, tails = run_sync(fetch())
    assert content == b"<a href='file'>file</a>"
    for (offset, data), size in zip(tails, (10, 100, 1000, 4096), strict=True):
        assert offset == len(_FILE) - size
        assert data == _FILE[-size:]
    # The server speaks HTTP/2 alone: every answer came over it, on a single connection.
    assert server.connections - before == 1
    assert ("/file", "bytes=-4096") in server.requests


def test_without_h2_the_client_stays_on_http1(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _http2_available()
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, package=None: None if name == "h2" else real(name, package),
    )
    assert not _http2_available()
    assert HttpClient()._client_options["http2"] is False
