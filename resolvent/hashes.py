"""File digests, and which hash algorithms resolvent accepts from users and from indexes.

One policy for every place that meets a digest (``--hash`` options, index pages'
``#sha256=`` fragments and ``hashes`` tables, the checks before unpacking): an algorithm
is either known here or not used at all. Passing an arbitrary name to ``hashlib.new``
is what let ``shake_128`` (whose ``hexdigest`` needs a length) crash a run.
"""

from __future__ import annotations

import functools
import importlib
import sys

from resolvent import TYPE_CHECKING
from resolvent.errors import BadInputError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path
    from typing import Any

__all__ = [
    "INDEX_HASHES",
    "USER_HASHES",
    "file_sha256",
    "index_hashes",
    "parse_user_hash",
    "sha256_hex",
    "sha256_of",
]

#: Algorithms a user may pin with ``--hash``, with their hex digest lengths: pip's set
#: (``pip hash --algorithm`` offers exactly these). Weak ones (md5, sha1) are refused,
#: as pip refuses them: a pin is a security promise.
USER_HASHES: dict[str, int] = {"sha256": 64, "sha384": 96, "sha512": 128}

#: Algorithms whose digests an index page may state and that are then checked: pip's
#: set for links. Others (``blake2b_256``, ``shake_128``, made-up names) are ignored, as
#: pip ignores them, rather than failing the page or the download.
INDEX_HASHES = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512"})

_HEX_DIGITS = frozenset("0123456789abcdef")


def file_sha256(path: Path | str) -> str:
    """Return the hex sha256 of the file at ``path``, read in blocks (wheels can be GBs).

    :mod:`hashlib` (OpenSSL's digests, fast on large data) is imported here, on first
    use: warm runs hash no file, and its import is ~2 ms of theirs.
    """
    import hashlib  # noqa: PLC0415 -- see the docstring

    with open(path, "rb") as stream:  # noqa: PTH123 - str paths on hot paths
        return hashlib.file_digest(stream, "sha256").hexdigest()


def sha256_hex(data: bytes) -> str:
    """Return the hex sha256 of ``data`` (see :func:`sha256_of`)."""
    return str(sha256_of(data).hexdigest())


def sha256_of(data: bytes) -> Any:
    """Return a sha256 hash object fed ``data``, its module imported as cheaply as its size allows.

    Warm runs hash only names (cache keys of index pages, lock files, interpreter
    answers) and the few small files an install writes (``INSTALLER``, ``REQUESTED``).
    :mod:`hashlib` loads OpenSSL's digests (~2 ms to import), which large data needs
    (they are several times faster) and a name does not: below :data:`_SMALL_DATA`
    bytes, unless :mod:`hashlib` is loaded already, CPython's own SHA-256 module gives
    the same digest at no import cost.
    """
    hashlib: Any = sys.modules.get("hashlib")
    if hashlib is None:
        if len(data) <= _SMALL_DATA:
            builtin = _builtin_sha256()
            if builtin is not None:
                return builtin(data)
        import hashlib  # noqa: PLC0415 -- see the docstring
    return hashlib.sha256(data)


#: Data up to this size is hashed by CPython's own module when hashlib is not loaded.
_SMALL_DATA = 64 * 1024


@functools.cache
def _builtin_sha256() -> Callable[[bytes], Any] | None:
    """Return CPython's own SHA-256 constructor (the one ``hashlib`` falls back to), if any.

    It is ``_sha256.sha256`` up to 3.11 and ``_sha2.sha256`` from 3.12; a build may have
    neither. Found once: a module that is missing is searched for in every folder of
    ``sys.path`` each time it is asked for.
    """
    for name in ("_sha256", "_sha2"):
        try:
            module: Any = importlib.import_module(name)
        except ImportError:
            continue
        function: Callable[[bytes], Any] = module.sha256
        return function
    return None


def parse_user_hash(text: str) -> str:
    """Return a ``--hash`` value as ``algorithm:hex`` in lower case, or raise.

    :raises BadInputError: no ``:``, an algorithm outside :data:`USER_HASHES`, or a
        digest that is not hex of that algorithm's length (a typo would otherwise show
        up only later, as a hash mismatch that blames the file).

    >>> parse_user_hash("SHA256:" + "AB" * 32) == "sha256:" + "ab" * 32
    True
    """
    algorithm, sep, digest = text.strip().partition(":")
    algorithm, digest = algorithm.strip().lower(), digest.strip().lower()
    if not sep or not algorithm:
        raise BadInputError(f"invalid hash `{text}`: expected `algorithm:hex`, like `sha256:...`")
    length = USER_HASHES.get(algorithm)
    if length is None:
        supported = ", ".join(f"`{name}`" for name in USER_HASHES)
        raise BadInputError(
            f"unsupported hash algorithm `{algorithm}` in `{text}`; supported: {supported}"
        )
    if len(digest) != length or not _HEX_DIGITS.issuperset(digest):
        raise BadInputError(
            f"invalid hash `{text}`: a {algorithm} digest is {length} hexadecimal digits"
        )
    return f"{algorithm}:{digest}"


def index_hashes(pairs: Mapping[str, object]) -> dict[str, str]:
    """Keep the digests an index states with an algorithm of :data:`INDEX_HASHES`, lower-cased.

    A digest that is not a string (a JSON page's ``"sha256": null``) is dropped too.

    >>> index_hashes({"SHA256": "AB", "shake_128": "cd", "md5": "", "sha1": None})
    {'sha256': 'ab'}
    """
    if len(pairs) == 1:
        # The common case, a page's lone lower-case sha256: kept as it is (a page lists
        # thousands of files).
        digest = pairs.get("sha256")
        if type(digest) is str and digest and digest.isalnum() and digest.islower():
            return {"sha256": digest}
    kept: dict[str, str] = {}
    for algorithm, digest in pairs.items():
        if not isinstance(digest, str):
            continue
        name, value = algorithm.strip().lower(), digest.strip().lower()
        if name in INDEX_HASHES and value:
            kept[name] = value
    return kept
