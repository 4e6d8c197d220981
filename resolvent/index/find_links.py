"""Find-links: distributions found in a local folder or on a flat HTML page of links.

pip's ``--find-links`` names places that are not indexes: a folder of wheels and sdists
(a wheelhouse) or a page whose anchors point at distribution files. Their files join the
candidates of every project whose name they carry.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

from resolvent.index.filenames import parse_dist_filename
from resolvent.index.pages import DistFile, parse_html_page

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from resolvent.index.http import HttpClient

__all__ = ["FindLinks", "local_file"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def local_file(path: Path) -> DistFile | None:
    """Describe a distribution file on disk as an index would, or ``None`` if it is not one."""
    parsed = parse_dist_filename(path.name)
    if parsed is None or not path.is_file():
        return None
    stat = path.stat()
    return DistFile(
        filename=path.name,
        url=path.absolute().as_uri(),
        hashes={"sha256": _sha256(path)},
        requires_python=None,
        yanked=False,
        yanked_reason=None,
        core_metadata=None,
        upload_time=datetime.fromtimestamp(stat.st_mtime, UTC),
        size=stat.st_size,
        kind=parsed.kind,
        name=parsed.name,
        version=parsed.version,
        tags=parsed.tags,
        build=parsed.build,
    )


class FindLinks:
    """The files of every find-links location, read once and grouped by project."""

    def __init__(self, locations: tuple[str, ...]) -> None:
        self.locations = locations
        self._files: dict[NormalizedName, list[DistFile]] | None = None

    async def files(self, client: HttpClient, name: NormalizedName) -> list[DistFile]:
        """Return the files of ``name`` across all locations."""
        if self._files is None:
            grouped: dict[NormalizedName, list[DistFile]] = {}
            for location in self.locations:
                for file in await self._read(client, location):
                    grouped.setdefault(file.name, []).append(file)
            self._files = grouped
        return self._files.get(name, [])

    @staticmethod
    async def _read(client: HttpClient, location: str) -> list[DistFile]:
        scheme = urlsplit(location).scheme
        if scheme in ("http", "https"):
            response = await client.get(location, accept="text/html")
            page = parse_html_page(response.content.decode("utf-8", "replace"), url=response.url)
            return list(page.files)
        folder = Path(url2pathname(urlsplit(location).path)) if scheme == "file" else Path(location)
        if not folder.is_dir():
            return []
        found = (local_file(entry) for entry in sorted(folder.iterdir()))
        return [file for file in found if file is not None]
