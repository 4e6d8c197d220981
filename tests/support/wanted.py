"""A wanted wheel as the preparer receives it, for a wheel a test serves itself."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.index.pages import DistFile
from resolvent.installer.plan import Wanted

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.dists import Dist

__all__ = ["served_wheel"]


def served_wheel(server_url: str, wheel: Path, dist: Dist, sha256: str | None = None) -> Wanted:
    """Return ``dist``'s ``wheel`` as served from ``server_url`` (an index's ``/simple``).

    The index states the wheel's size and its sha256 (``sha256`` if given, else the
    file's own), as a real index page does.
    """
    name = canonicalize_name(dist.name)
    digest = sha256 or hashlib.sha256(wheel.read_bytes()).hexdigest()
    file = DistFile(
        filename=wheel.name,
        url=f"{server_url.removesuffix('/simple')}/files/{wheel.name}",
        hashes={"sha256": digest},
        requires_python=None,
        yanked=False,
        yanked_reason=None,
        core_metadata=None,
        upload_time=None,
        size=wheel.stat().st_size,
        kind="wheel",
        name=name,
        version=Version(dist.version),
        tags=frozenset(),
        build=(),
    )
    return Wanted(name, Version(dist.version), file=file)
