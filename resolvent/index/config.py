"""The index configuration says which package indexes and find-links locations to use.

resolvent never names an index host in its source: like pip, it takes the index from the
command line, then the environment, then pip's own configuration files, and last from
pip's built-in default read through pip itself. Users who already configured pip (a
mirror, a private index) get the same answers from resolvent without configuring it.

Order, first found wins, for each setting:

1. the command line (the arguments of :func:`resolve_index_config`);
2. ``RESOLVENT_INDEX_URL`` / ``RESOLVENT_EXTRA_INDEX_URL`` / ``RESOLVENT_FIND_LINKS``;
3. ``PIP_INDEX_URL`` / ``PIP_EXTRA_INDEX_URL`` / ``PIP_FIND_LINKS``;
4. pip's configuration files (``install`` section over ``global``), as pip reads them;
5. for the index URL only, pip's built-in default.

Loading pip's configuration machinery takes ~100 ms, more than a warm resolution, so
when a cache folder is given the outcome of steps 4 and 5 is remembered in a small file,
valid while every configuration file pip would read (and pip itself) is unchanged: same
paths, sizes and modification times.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, cast, get_args
from urllib.parse import urlsplit

from resolvent.atomic_write import write_atomically
from resolvent.errors import BadInputError
from resolvent.json_text import parse_json
from resolvent.user_home import home_folder
from resolvent.value_class import Value

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = [
    "PIP_CONFIG_CACHE",
    "IndexConfig",
    "IndexStrategy",
    "check_url",
    "pip_default_index_url",
    "resolve_index_config",
    "shown_url",
    "url_problem",
]

#: The file, in the cache folder, that remembers pip's configuration (layout version 1).
PIP_CONFIG_CACHE = "pip-config-v1.json"

IndexStrategy = Literal["first-index", "unsafe-best-match"]

_SECTIONS = ("global", "install")  # later sections override earlier ones, as in pip

#: The longest URL httpx sends (its ``MAX_URL_LENGTH``); longer ones fail there anyway.
MAX_URL_LENGTH = 65_536
# Control characters, which httpx refuses anywhere in a URL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The start of an http(s) URL that urllib and httpx certainly accept: a plain host name
# or IPv4 address and an optional port of at most 65535, up to the path. Index pages
# list thousands of links, and an ASCII URL without control characters (which
# `isprintable` tells, scanning in C: a regex over the whole URL costs twice the rest)
# whose start matches this needs no full check; anything else (IPv6, user info, odd
# ports, non-ASCII text) takes the full check.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9._~%!$&'()*+,;=-]+"
    r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    r"(?:[/?#]|\Z)"
)
# What a location looks like when it is meant as a URL rather than a local path.
_URL_SCHEMES = ("http", "https", "file")


class IndexConfig(Value):
    """Where to look for distributions.

    Indexes are searched in priority order (:attr:`index_urls`): the extra indexes, in
    the order given, then the main one (``--index-url``, the default index), as in uv.
    ``strategy`` decides how they combine: ``first-index`` takes a project's versions
    from the first index in that order that has the project (uv's default), so a
    private project on an extra index is never taken from the public default index,
    even in a version the extra index lacks (dependency confusion); ``unsafe-best-match``
    merges the versions of all indexes (pip's behaviour). A version on several indexes
    pools their files, and of equally good files the earlier index's is used (its
    metadata too); uv reads such a version from the first index alone. Find-links files
    join whichever pages are taken, in both strategies, as uv's flat indexes do.

    Extra indexes that only pip's settings name (``PIP_EXTRA_INDEX_URL``, pip's
    configuration files) are :attr:`fallback_index_urls`, searched after the main one:
    uv does not read pip's settings at all, so with them last a run answers as uv's on
    the same machine for every project the main index has. A ``pip.conf`` listing local
    subset mirrors (file indexes without upload times) would otherwise pin their old
    versions over the default index's, let their files past ``--exclude-newer``, and
    send every warm lookup to the event loop.
    """

    __slots__ = ("extra_index_urls", "fallback_index_urls", "find_links", "index_url", "strategy")

    def __init__(
        self,
        index_url: str,
        extra_index_urls: tuple[str, ...] = (),
        find_links: tuple[str, ...] = (),
        strategy: IndexStrategy = "first-index",
        fallback_index_urls: tuple[str, ...] = (),
    ) -> None:
        self.index_url: Final = index_url
        self.extra_index_urls: Final = extra_index_urls
        self.find_links: Final = find_links
        self.strategy: Final = strategy
        self.fallback_index_urls: Final = fallback_index_urls

    @property
    def index_urls(self) -> tuple[str, ...]:
        """Every index URL in priority order: the extras, the main one, pip's extras.

        uv's order: "--extra-index-url ... take priority over --index-url". The main
        index is usually the public default, and the extras name a user's own indexes;
        searched first, they are where a project that both have is taken from. Empty
        with ``--no-index``.
        """
        urls = (*self.extra_index_urls, self.index_url, *self.fallback_index_urls)
        return tuple(url for url in urls if url)

    @property
    def all_extra_index_urls(self) -> tuple[str, ...]:
        """Every index but the main one (what ``--extra-index-url`` lines would name)."""
        return (*self.extra_index_urls, *self.fallback_index_urls)


def resolve_index_config(
    *,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] | None = None,
    find_links: Sequence[str] | None = None,
    strategy: str | None = None,
    cache_dir: Path | None = None,
) -> IndexConfig:
    """Combine flags, environment and pip's configuration into an :class:`IndexConfig`.

    :param index_url: ``--index-url``.
    :param extra_index_urls: ``--extra-index-url`` (``None`` when not given).
    :param find_links: ``--find-links`` (``None`` when not given).
    :param strategy: ``--index-strategy``; else ``RESOLVENT_INDEX_STRATEGY``; else
        ``first-index``.
    :param cache_dir: a folder where pip's configuration may be remembered (see above).
    :raises BadInputError: no index URL can be found anywhere, an option is given but
        empty, a URL is malformed (see :func:`url_problem`), or the strategy is unknown.

    >>> resolve_index_config(index_url="http://127.0.0.1:8000/simple/").index_url
    'http://127.0.0.1:8000/simple/'
    """
    environ = os.environ
    pip: _PipView = _PipView(cache_dir)

    def from_pip(option: str) -> str | None:
        return pip.options().get(option)

    if index_url is not None and not index_url.strip():
        # An explicit empty value must not fall through to the configuration (it used to
        # reach pip's default index, over the network, when a local one was meant).
        raise BadInputError("`--index-url` is empty", hint="pass a URL, or leave the option out")
    for option, values in (("--extra-index-url", extra_index_urls), ("--find-links", find_links)):
        if values is not None and any(not value.strip() for value in values):
            raise BadInputError(f"`{option}` is empty", hint="pass a value, or leave it out")
    main = (
        _clean(index_url)
        or _clean(environ.get("RESOLVENT_INDEX_URL"))
        or _clean(environ.get("PIP_INDEX_URL"))
        or _clean(from_pip("index-url"))
        or pip.default_index_url()
    )
    if not main:
        raise BadInputError(
            "no package index is configured, and pip's default could not be read",
            hint="pass `--index-url URL`, or set `RESOLVENT_INDEX_URL`",
        )
    extras = _first_list(
        extra_index_urls,
        environ.get("RESOLVENT_EXTRA_INDEX_URL"),
        environ.get("PIP_EXTRA_INDEX_URL"),
        lambda: from_pip("extra-index-url"),
    )
    links = _first_list(
        find_links,
        environ.get("RESOLVENT_FIND_LINKS"),
        environ.get("PIP_FIND_LINKS"),
        lambda: from_pip("find-links"),
    )
    check_url(main, "index URL")
    for url in extras:
        check_url(url, "extra index URL")
    for location in links:
        if _looks_like_url(location):
            check_url(location, "find-links URL")
    # Extra indexes that only pip's settings name come after the main index (see
    # IndexConfig): uv never sees them, and a pip.conf of local subset mirrors must
    # not outrank the default index.
    from_pip_only = not (
        extra_index_urls is not None or _clean(environ.get("RESOLVENT_EXTRA_INDEX_URL"))
    )
    chosen = strategy or environ.get("RESOLVENT_INDEX_STRATEGY") or "first-index"
    if chosen not in get_args(IndexStrategy):
        choices = ", ".join(f"`{s}`" for s in get_args(IndexStrategy))
        raise BadInputError(f"unknown index strategy `{chosen}`", hint=f"use one of {choices}")
    extras = tuple(url for url in dict.fromkeys(extras) if url != main)
    return IndexConfig(
        main,
        () if from_pip_only else extras,
        tuple(dict.fromkeys(links)),
        cast("IndexStrategy", chosen),
        fallback_index_urls=extras if from_pip_only else (),
    )


class _PipView:
    """pip's configured options and default index, loaded once, maybe from the cache file."""

    def __init__(self, cache_dir: Path | None) -> None:
        self._file = cache_dir / PIP_CONFIG_CACHE if cache_dir is not None else None
        self._loaded: tuple[dict[str, str], str | None] | None = None

    def options(self) -> dict[str, str]:
        return self._load()[0]

    def default_index_url(self) -> str | None:
        return self._load()[1]

    def _load(self) -> tuple[dict[str, str], str | None]:
        if self._loaded is None:
            if self._file is None:
                self._loaded = (_pip_configuration(), pip_default_index_url())
            else:
                self._loaded = _cached_pip_view(self._file)
        return self._loaded


def _cached_pip_view(file: Path) -> tuple[dict[str, str], str | None]:
    """Return pip's options and default index from ``file`` when still valid, else load them.

    The file is a cache: unreadable, corrupt or stale content is ignored and replaced.
    """
    stamp = _pip_stamp()
    with contextlib.suppress(OSError, ValueError):
        data = parse_json(file.read_bytes())
        if isinstance(data, dict) and data.get("stamp") == stamp:
            options, default = data.get("options"), data.get("default")
            if (
                isinstance(options, dict)
                and all(isinstance(v, str) for v in options.values())
                and (default is None or isinstance(default, str))
            ):
                return {str(k): v for k, v in options.items()}, default
    options, default = _pip_configuration(), pip_default_index_url()
    text = json.dumps({"stamp": stamp, "options": options, "default": default}, sort_keys=True)
    with contextlib.suppress(OSError):
        file.parent.mkdir(parents=True, exist_ok=True)
        # Whole or not at all: a concurrent run may be reading the view meanwhile.
        write_atomically(file, text.encode("utf-8"))
    return options, default


def _pip_stamp() -> list[object]:
    """Describe everything pip's answer depends on: its files, their state, pip itself."""
    import importlib.util  # noqa: PLC0415 - only to locate pip, without importing it

    states: list[object] = []
    try:
        spec = importlib.util.find_spec("pip")
    except (ImportError, ValueError):
        spec = None
    origin = spec.origin if spec is not None else None
    candidates = [*_config_files(), *_user_config_files()]
    if origin:
        # pip's version decides its default index and how it reads files.
        candidates.append(Path(origin))
    for path in candidates:
        try:
            info = path.stat()
        except OSError:
            states.append([str(path), None])
        else:
            states.append([str(path), info.st_size, info.st_mtime_ns, info.st_ino])
    return [sys.prefix, origin, states]


def _user_config_files() -> list[Path]:
    """Return the user's pip configuration files, lowest priority first, as pip does.

    The one place that locates them: :func:`_config_files` reads them unless
    ``PIP_CONFIG_FILE`` names an existing file, and :func:`_pip_stamp` watches them
    either way. A process without a home folder (see :mod:`resolvent.user_home`) has
    none under it, as pip finds none: only ``$XDG_CONFIG_HOME``'s (Linux) and
    ``%APPDATA%``'s (Windows) remain.
    """
    home = home_folder()
    if sys.platform == "win32":
        files = [] if home is None else [home / "pip" / "pip.ini"]
        appdata = os.environ.get("APPDATA")
        if appdata:
            files.append(Path(appdata) / "pip" / "pip.ini")
        return files
    files = [] if home is None else [home / ".pip" / "pip.conf"]
    config_home: Path | None
    if sys.platform == "darwin":
        config_home = None if home is None else home / "Library" / "Application Support"
    else:
        xdg_home = os.environ.get("XDG_CONFIG_HOME")
        config_home = Path(xdg_home) if xdg_home else None if home is None else home / ".config"
    if config_home is not None:
        files.append(config_home / "pip" / "pip.conf")
    return files


def pip_default_index_url() -> str | None:
    """Return pip's built-in default index URL, read from pip itself, or ``None``.

    Reading the constant contacts nothing; pip is imported lazily, only when no other
    source named an index.
    """
    try:
        from pip._internal.models.index import PyPI  # noqa: PLC0415
    except ImportError:
        return None
    url = getattr(PyPI, "simple_url", None)
    return url if isinstance(url, str) and url else None


def url_problem(url: str) -> str | None:
    """Return why ``url`` can never be fetched (bad host, port, length), or ``None``.

    These are the URLs on which ``urllib`` raises ``ValueError`` and httpx raises
    ``InvalidURL`` (or, for a port out of range, ``OverflowError`` while connecting),
    each a traceback when it escaped; checking once where a URL enters keeps the
    message about the URL the user wrote. A URL without a scheme (a local path) passes.

    >>> url_problem("http://127.0.0.1:99999/simple")
    'Port out of range 0-65535'
    >>> url_problem("http://127.0.0.1:8000/simple") is None
    True
    """
    if len(url) > MAX_URL_LENGTH:
        return f"it is longer than {MAX_URL_LENGTH} characters"
    if url.isascii() and url.isprintable() and _PLAIN_URL.match(url):
        return None  # for ASCII, printable means no control character
    if _CONTROL.search(url):
        return "it contains a control character"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises for a port that is not a number in 0-65535
    except ValueError as error:  # "Invalid IPv6 URL", a bad bracketed address
        return str(error)
    if parts.scheme in {"http", "https"} and not parts.hostname:
        return "it has no host"
    return None


def check_url(url: str, what: str) -> None:
    """Raise unless :func:`url_problem` finds nothing wrong with ``url``.

    :param what: names the URL in the message (``index URL``, ``find-links URL``).
    :raises BadInputError: the URL is malformed.
    """
    problem = url_problem(url)
    if problem is not None:
        raise BadInputError(f"invalid {what} `{shown_url(url)}`: {problem}")


def without_credentials(text: str) -> str:
    """Return ``text`` (a URL, or an option holding one) without ``user:password@``.

    What resolvent writes for others to read (an output file, its header) must not
    carry the secrets of an index URL.

    >>> without_credentials("--index-url=https://me:secret@host.test/simple")
    '--index-url=https://host.test/simple'
    >>> without_credentials("https://me:p@ss@host.test/simple?a=b@c")
    'https://host.test/simple?a=b@c'
    """
    return _USERINFO.sub("://", text) if "@" in text else text


_USERINFO = re.compile(r"://[^/\s?#]*@")  # to the last "@": passwords may hold one


def shown_url(url: str) -> str:
    """Return ``url`` fit for a one-line message: control characters masked, length capped."""
    text = _CONTROL.sub("?", url)
    return text if len(text) <= 200 else f"{text[:200]}..."


def _looks_like_url(location: str) -> bool:
    """Tell a find-links URL from a local path (whose checks come when it is read)."""
    return "://" in location or location.partition(":")[0].lower() in _URL_SCHEMES


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def _first_list(
    flag: Sequence[str] | None, *sources: str | Callable[[], str | None] | None
) -> tuple[str, ...]:
    """Return the flag's values, else the first source that is set, split on whitespace."""
    if flag is not None:
        return tuple(item.strip() for item in flag if item.strip())
    for source in sources:
        value = source() if callable(source) else source
        if value is not None and value.strip():
            return tuple(value.split())
    return ()


def _pip_configuration() -> dict[str, str]:
    """Return pip's configured options (``install`` over ``global``), keyed without section.

    pip's own loader is used when pip is importable, so files are found and merged
    exactly as pip does it; otherwise the standard locations are parsed here. Variables of
    the environment are left out: the caller reads ``PIP_*`` itself, in its own order.

    ``PIP_CONFIG_FILE`` set to the null device makes pip read no file at all (its
    isolation switch, which CI set-ups and benchmarks use): then nothing is loaded, and
    pip is not imported either (~0.1 s of a first run per cache folder).
    """
    if os.environ.get("PIP_CONFIG_FILE") == os.devnull:
        return {}
    try:
        from pip._internal.configuration import Configuration  # noqa: PLC0415

        configuration = Configuration(isolated=False)
        configuration.load()
        items: Mapping[str, object] = _flatten(configuration.items())
    except Exception:  # noqa: BLE001 - pip's internals vary by version; fall back quietly.
        items = _parse_config_files(_config_files())
    return _select_sections(items)


def _flatten(items: Iterable[tuple[str, Any]]) -> dict[str, object]:
    """Merge pip's loaded items, lowest priority first, into ``section.key`` items.

    pip up to 23 yields ``(section.key, value)``; later versions yield ``(file, {section.key:
    value})`` per file, in override order. Both shapes are accepted.
    """
    merged: dict[str, object] = {}
    for key, value in items:
        if isinstance(value, dict):
            merged.update({str(k): v for k, v in value.items()})
        else:
            merged[key] = value
    return merged


def _select_sections(items: Mapping[str, object]) -> dict[str, str]:
    """Flatten ``section.key`` items: ``install`` beats ``global`` whatever file set them."""
    options: dict[str, str] = {}
    for section in _SECTIONS:
        prefix = f"{section}."
        for key, value in items.items():
            if key.startswith(prefix) and isinstance(value, str):
                options[key.removeprefix(prefix)] = value
    return options


def _config_files() -> list[Path]:
    """Return pip's configuration files, lowest priority first, as pip locates them.

    Without a home folder (see :mod:`resolvent.user_home`), the per-user files that
    live under it are not looked for: a run given its index and cache needs none.
    """
    env_file = os.environ.get("PIP_CONFIG_FILE")
    user = _user_config_files()
    files: list[Path] = []
    if sys.platform == "win32":
        program_data = os.environ.get("PROGRAMDATA", r"C:\ProgramData")
        files.append(Path(program_data) / "pip" / "pip.ini")
        site_name = "pip.ini"
    else:
        if sys.platform == "darwin":
            files.append(Path("/Library/Application Support/pip/pip.conf"))
        else:
            xdg_dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
            files.extend(Path(d) / "pip" / "pip.conf" for d in xdg_dirs.split(os.pathsep) if d)
            files.append(Path("/etc/pip.conf"))
        site_name = "pip.conf"
    # pip skips the user's files when PIP_CONFIG_FILE names an existing file.
    if not (env_file and Path(env_file).exists()):
        files.extend(user)
    files.append(Path(sys.prefix) / site_name)
    if env_file and env_file != os.devnull:
        files.append(Path(env_file))
    return files


def _parse_config_files(files: Sequence[Path]) -> dict[str, str]:
    """Merge files into ``section.key`` items, a later file overriding an earlier one."""
    import configparser  # noqa: PLC0415 - only without pip; warm runs read the cached view

    items: dict[str, str] = {}
    for path in files:
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in parser.sections():
            for key, value in parser.items(section):
                items[f"{section}.{key.replace('_', '-').lower()}"] = value
    return items
