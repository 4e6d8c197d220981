"""A RECORD entry is one line of a wheel's or an installation's file list: path, hash, size.

RECORD is how a wheel proves its contents and how an installation knows what to remove;
parsing and writing it in one place keeps the CSV dialect and the hash encoding (urlsafe
base64 without padding, per the binary distribution format) identical everywhere.

Example::

    entry = RecordEntry.for_data("pkg/__init__.py", b"")
    entry.to_row()  # ('pkg/__init__.py', 'sha256=47DEQpj8...', '0')
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, BinaryIO, Final

from resolvent.hashes import sha256_of
from resolvent.value_class import Value

if TYPE_CHECKING:
    import hashlib
    from collections.abc import Iterable
    from pathlib import Path

__all__ = [
    "ALLOWED_HASHES",
    "Hash",
    "RecordEntry",
    "copy_with_hash",
    "encode_digest",
    "hash_file",
    "hash_stream",
    "parse_record",
    "serialize_record",
]

#: Algorithms RECORD may use: the spec forbids md5 and sha1, so sha256 and stronger.
ALLOWED_HASHES = frozenset({"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512"})

_CHUNK = 1 << 20


def encode_digest(digest: bytes) -> str:
    """Encode a raw digest as RECORD does: urlsafe base64 without padding."""
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Hash(Value):
    """A RECORD hash: algorithm name and urlsafe-base64 digest without padding."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: str) -> None:
        self.name: Final = name
        self.value: Final = value

    @classmethod
    def parse(cls, text: str) -> Hash:
        """Parse ``sha256=<digest>``; raise :class:`ValueError` when malformed."""
        name, sep, value = text.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"malformed hash `{text}`")
        return cls(name, value)

    @classmethod
    def of(cls, data: bytes, name: str = "sha256") -> Hash:
        """Hash ``data`` with ``name`` (sha256 without importing hashlib: see ``sha256_of``)."""
        hasher = sha256_of(data) if name == "sha256" else new_hasher(name, data)
        return cls(name, encode_digest(hasher.digest()))

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class RecordEntry(Value):
    """One RECORD line: a ``/``-separated path, and the file's hash and size when known."""

    __slots__ = ("hash", "path", "size")

    def __init__(self, path: str, hash: Hash | None = None, size: int | None = None) -> None:  # noqa: A002 -- the field's name
        self.path: Final = path
        self.hash: Final = hash
        self.size: Final = size

    @classmethod
    def for_data(cls, path: str, data: bytes) -> RecordEntry:
        """Return the entry of a file at ``path`` holding ``data`` (sha256)."""
        return cls(path, Hash.of(data), len(data))

    def to_row(self) -> tuple[str, str, str]:
        """Return the three CSV fields."""
        return (
            self.path,
            "" if self.hash is None else str(self.hash),
            "" if self.size is None else str(self.size),
        )


def parse_record(text: str) -> list[RecordEntry]:
    r"""Parse the text of a RECORD file; raise :class:`ValueError` on a malformed line.

    Example::

        parse_record("a.py,sha256=abc,3\nx.dist-info/RECORD,,\n")
    """
    # ``csv`` refuses a field over its limit (131,072 characters), as an unterminated
    # quote makes of the rest of the file, with ``csv.Error``, which is not a
    # ``ValueError``: every caller's handler missed it and show, verify, uninstall and
    # install ended in a traceback. The limit stays (it is process-wide, and no path or
    # hash comes near it: paths end at the system's 4,096 bytes); the RECORD is
    # malformed, as uv says of it too (``RECORD file is invalid``).
    lines = _plain_lines(text)
    if lines is not None:
        # A line, a row, as ``csv`` reads plain text (a blank line is an empty row,
        # skipped and counted); ``csv`` cost a third of a big wheel's RECORD parsing
        # (torch's 12,000 lines) on work that splitting does.
        return [_entry(number, line.split(",")) for number, line in enumerate(lines, 1) if line]
    import csv  # noqa: PLC0415 - quoted or odd RECORDs only: a warm install reads none

    entries = []
    reader = csv.reader(io.StringIO(text))
    try:
        for number, row in enumerate(reader, 1):
            if row:
                entries.append(_entry(number, row))
    except csv.Error as error:
        raise ValueError(f"line {reader.line_num}: {error}") from None
    return entries


def _plain_lines(text: str) -> list[str] | None:
    """Return the lines of ``text`` if ``csv`` would read them as plain comma-separated rows.

    No quotes (no quoted field), no carriage return (``csv`` ends rows there and refuses
    one inside a line), no NUL (older ``csv`` refuses it) and no line longer than
    ``csv``'s field limit: then each line is a row and each comma a separator, and
    splitting is all ``csv`` would do. A wheel's RECORD almost always is. ``None``
    otherwise.
    """
    if not _without_csv_specials(text):
        return None
    import csv  # noqa: PLC0415 - its field limit only (process-wide, so asked each time)

    lines = text.split("\n")
    if len(text) > csv.field_size_limit() and max(map(len, lines)) > csv.field_size_limit():
        return None
    return lines


def _without_csv_specials(text: str) -> bool:
    """Whether ``text`` has none of what ``csv`` treats specially besides commas and newlines.

    A quote (a quoted field), a carriage return (a row ends there) or a NUL (older
    ``csv`` refuses it): the reader's and the writer's fast paths both ask this.
    """
    return '"' not in text and "\r" not in text and "\0" not in text


def _entry(number: int, row: list[str]) -> RecordEntry:
    """Return the entry of ``row``, RECORD's line ``number``; raise ``ValueError`` if bad."""
    if len(row) != 3:
        raise ValueError(f"line {number} has {len(row)} fields, not 3")
    path, hash_text, size_text = row
    if not path:
        raise ValueError(f"line {number} has an empty path")
    try:
        size = int(size_text) if size_text else None
    except ValueError:
        raise ValueError(f"line {number} has a malformed size `{size_text}`") from None
    if size is not None and size < 0:
        raise ValueError(f"line {number} has a negative size")
    return RecordEntry(path, Hash.parse(hash_text) if hash_text else None, size)


def serialize_record(entries: Iterable[RecordEntry]) -> bytes:
    """Return RECORD bytes for ``entries``, in the order given, newline line endings.

    Fields with no comma, quote, line break or NUL are written as they are, as ``csv``
    writes them (a cold install serializes a RECORD per wheel, 26,000 lines for an ML
    stack); any other field sends the whole RECORD through ``csv``, which quotes it.
    """
    rows = [entry.to_row() for entry in entries]
    text = "".join([f"{path},{digest},{size}\n" for path, digest, size in rows])
    if (
        text.count(",") == 2 * len(rows)
        and text.count("\n") == len(rows)
        and _without_csv_specials(text)
    ):
        return text.encode("utf-8")
    import csv  # noqa: PLC0415 - quoted fields only: a wheel's RECORD seldom has one

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", quotechar='"', lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def new_hasher(name: str, data: bytes | memoryview = b"") -> hashlib._Hash:
    """Return a ``name`` hasher fed ``data``: ``hashlib.sha256`` directly for sha256.

    A cold install hashes each of its files once (26,000 for seed-ml), nearly all with
    sha256, which the constructor reaches without ``hashlib.new``'s lookup by name.
    :mod:`hashlib` is imported by the functions that hash: a warm install hashes no
    file, and the import was ~2 ms of it.
    """
    import hashlib  # noqa: PLC0415 -- see the docstring

    return hashlib.sha256(data) if name == "sha256" else hashlib.new(name, data)


def copy_with_hash(
    source: BinaryIO, target: BinaryIO, name: str = "sha256", *, limit: int | None = None
) -> tuple[Hash, int]:
    """Copy ``source`` to ``target`` and return its hash and size, touching the data once.

    ``limit`` bounds the bytes copied: one more raises :class:`OverflowError` (zip bombs
    that lie about their sizes stop here).
    """
    import hashlib  # noqa: PLC0415 -- see new_hasher

    hasher = hashlib.new(name)
    size = 0
    while chunk := source.read(_CHUNK):
        size += len(chunk)
        if limit is not None and size > limit:
            raise OverflowError(size)
        hasher.update(chunk)
        target.write(chunk)
    return Hash(name, encode_digest(hasher.digest())), size


def hash_file(path: Path | str, name: str = "sha256") -> tuple[Hash, int]:
    """Return the RECORD hash and the size of the file at ``path``."""
    with open(path, "rb") as stream:  # noqa: PTH123  # str paths in hot loops
        return hash_stream(stream, name)


def hash_stream(stream: BinaryIO, name: str = "sha256") -> tuple[Hash, int]:
    """Return the RECORD hash and the size of what ``stream`` holds from where it is."""
    import hashlib  # noqa: PLC0415 -- see new_hasher

    hasher = hashlib.new(name)
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        hasher.update(chunk)
    return Hash(name, encode_digest(hasher.digest())), size
