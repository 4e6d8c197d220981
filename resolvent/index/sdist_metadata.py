"""Static sdist metadata: an sdist's ``PKG-INFO``, when PEP 643 says it can be trusted.

Core metadata 2.2 and later (PEP 643) marks which fields a build may still change with
``Dynamic``. When an sdist's ``PKG-INFO`` is 2.2 or later and neither ``Requires-Dist``
nor ``Requires-Python`` is dynamic, its requirements are exactly what any wheel built
from it will declare, so resolution can use them without running a build backend (uv
does the same). Older or dynamic metadata needs the PEP 517 hook.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from typing import TYPE_CHECKING

from packaging.metadata import parse_email
from packaging.version import Version

if TYPE_CHECKING:
    from resolvent.index.metadata import CoreMetadata

__all__ = ["pkg_info_from_sdist", "static_metadata"]

_TRUSTED_FROM = Version("2.2")
_MAX_PKG_INFO = 1 << 20


def pkg_info_from_sdist(data: bytes, filename: str) -> bytes | None:
    """Return the top-level ``PKG-INFO`` of an sdist archive, or ``None`` if it has none.

    Only the file at ``<root>/PKG-INFO`` counts (a vendored project's ``PKG-INFO``
    deeper in the tree does not); it is read, never extracted to disk.
    """
    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    if info.filename.count("/") == 1 and info.filename.endswith("/PKG-INFO"):
                        if info.file_size > _MAX_PKG_INFO:
                            return None
                        return archive.read(info)
            return None
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive:
                if (
                    member.isfile()
                    and member.name.count("/") == 1
                    and member.name.endswith("/PKG-INFO")
                ):
                    if member.size > _MAX_PKG_INFO:
                        return None
                    handle = archive.extractfile(member)
                    return handle.read() if handle is not None else None
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError):
        return None
    return None


def static_metadata(pkg_info: bytes, source: str) -> CoreMetadata | None:
    """Return the metadata if PEP 643 makes its requirements static, else ``None``."""
    raw, _ = parse_email(pkg_info)
    try:
        version = Version(raw.get("metadata_version", "1.0"))
    except ValueError:  # InvalidVersion, or a number longer than int() reads
        return None
    if version < _TRUSTED_FROM:
        return None
    dynamic = {field.lower() for field in raw.get("dynamic", [])}
    if {"requires-dist", "requires-python"} & dynamic:
        return None
    from resolvent.index.metadata import parse_core_metadata  # noqa: PLC0415 - keeps serve light

    return parse_core_metadata(pkg_info, source=source)
