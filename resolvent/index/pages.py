"""A project page is an index's list of one project's files, in PEP 503 HTML or PEP 691 JSON.

Everything the resolver learns about a project before fetching metadata comes from this
page: file names (hence versions and wheel tags), hashes, ``requires-python``, yanked
status (PEP 592), whether a PEP 658 metadata file exists, and upload times (PEP 700). The
parsers here are pure (text in, values out) so they can be tested on crafted strings;
they skip what they cannot understand, as pip does, rather than failing a whole page.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from resolvent.errors import IndexDataError
from resolvent.hashes import index_hashes
from resolvent.index.config import url_problem
from resolvent.index.filenames import cached_tags, cached_version, parse_dist_filename
from resolvent.json_text import parse_json
from resolvent.requirement_parsing import parse_specifier
from resolvent.value_class import DataclassLike, Value

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from packaging.tags import Tag
    from packaging.utils import BuildTag, NormalizedName
    from packaging.version import Version

    from resolvent.index.filenames import DistKind

__all__ = [
    "HTML_CONTENT_TYPES",
    "JSON_CONTENT_TYPE",
    "PAGE_ACCEPT",
    "DistFile",
    "FileRecord",
    "ProjectPage",
    "epoch_microseconds",
    "page_records",
    "parse_flat_page",
    "parse_html_page",
    "parse_json_page",
    "parse_page",
    "parse_requires_python",
]

JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_CONTENT_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")
# The Accept header PEP 691 recommends: JSON first, HTML as the fallback.
PAGE_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
_SUPPORTED_MAJOR = 1


@lru_cache(maxsize=1)
def _epoch() -> tuple[datetime, timedelta]:
    """Return the epoch (UTC) and one microsecond, the units of an upload time's count."""
    from datetime import UTC, datetime, timedelta  # noqa: PLC0415 - a warm install reads no times

    return datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)


class DistFile(Value, DataclassLike):
    """One downloadable file of a project, as an index page lists it.

    ``url`` is absolute and carries no fragment (the ``#sha256=`` fragment of HTML pages
    is moved into ``hashes``). ``core_metadata`` is ``None`` when the index offers no PEP
    658 metadata file, and otherwise the hashes of that file (``{}``: available, hash
    unknown). ``tags`` is empty for sdists.

    A :class:`~resolvent.value_class.Value`, not a ``@dataclass``: equal and shown by its
    fields alike, hashed by them but ``hashes`` and ``core_metadata`` (dictionaries, left
    out of the hash as ``field(hash=False)`` left them), without the methods a dataclass
    compiles from source text when its module is imported (every install imports it).
    ``dataclasses.replace`` and ``fields`` work on it, through
    :class:`~resolvent.value_class.DataclassFields`.
    """

    unhashed_fields = frozenset({"hashes", "core_metadata"})  # mappings

    __slots__ = (
        "build",
        "core_metadata",
        "filename",
        "hashes",
        "kind",
        "name",
        "requires_python",
        "size",
        "tags",
        "upload_time",
        "url",
        "version",
        "yanked",
        "yanked_reason",
    )

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass took them
        self,
        filename: str,
        url: str,
        hashes: dict[str, str],
        requires_python: SpecifierSet | None,
        yanked: bool,  # noqa: FBT001 - positional, as the dataclass took it
        yanked_reason: str | None,
        core_metadata: dict[str, str] | None,
        upload_time: datetime | None,
        size: int | None,
        kind: DistKind,
        name: NormalizedName,
        version: Version,
        tags: frozenset[Tag],
        build: BuildTag,
    ) -> None:
        self.filename: Final = filename
        self.url: Final = url
        self.hashes: Final = hashes
        self.requires_python: Final = requires_python
        self.yanked: Final = yanked
        self.yanked_reason: Final = yanked_reason
        self.core_metadata: Final = core_metadata
        self.upload_time: Final = upload_time
        self.size: Final = size
        self.kind: Final = kind
        self.name: Final = name
        self.version: Final = version
        self.tags: Final = tags
        self.build: Final = build

    @property
    def sha256(self) -> str | None:
        """The file's sha256 hex digest, when the index gives it."""
        return self.hashes.get("sha256")

    @property
    def metadata_url(self) -> str | None:
        """The URL of the PEP 658 metadata file, or ``None`` when none is offered."""
        if self.core_metadata is None:
            return None
        return self.url + ".metadata"


class ProjectPage(Value):
    """A project's files, in page order; ``api_version`` is the page's PEP 629 version.

    A :class:`~resolvent.value_class.Value`, not a ``@dataclass`` (see :class:`DistFile`).
    """

    __slots__ = ("api_version", "files", "name")

    def __init__(
        self, name: NormalizedName, files: tuple[DistFile, ...], api_version: str | None = None
    ) -> None:
        self.name: Final = name
        self.files: Final = files
        self.api_version: Final = api_version


class FileRecord(NamedTuple):
    """A :class:`DistFile` in compact, target-independent form: strings and numbers only.

    A large project page lists thousands of files, of which resolution looks at a few:
    records are cheap to build, group, store as JSON and load, and become full
    :class:`DistFile` values (parsed tags, specifier sets, datetimes) only on demand.
    ``upload_time`` counts microseconds since the epoch (UTC; a time without an offset
    is read as UTC); ``version`` is the normalized version; ``tags`` is the wheel's
    ``python-abi-platform`` text (empty for sdists).
    """

    filename: str
    url: str
    hashes: dict[str, str]
    requires_python: str | None
    yanked: bool
    yanked_reason: str | None
    core_metadata: dict[str, str] | None
    upload_time: int | None
    size: int | None
    kind: DistKind
    version: str
    tags: str
    build: BuildTag

    def dist(self, name: NormalizedName) -> DistFile:
        """Return the full :class:`DistFile` of this record, listed under project ``name``."""
        return DistFile(
            filename=self.filename,
            url=self.url,
            hashes=self.hashes,
            requires_python=parse_requires_python(self.requires_python),
            yanked=self.yanked,
            yanked_reason=self.yanked_reason,
            core_metadata=self.core_metadata,
            upload_time=_from_epoch_microseconds(self.upload_time),
            size=self.size,
            kind=self.kind,
            name=name,
            version=cached_version(self.version),
            tags=cached_tags(self.tags) if self.tags else frozenset(),
            build=self.build,
        )

    @classmethod
    def of(cls, file: DistFile) -> FileRecord:
        """Return the record of a full :class:`DistFile` (find-links files, tests)."""
        return cls(
            filename=file.filename,
            url=file.url,
            hashes=file.hashes,
            requires_python=None if file.requires_python is None else str(file.requires_python),
            yanked=file.yanked,
            yanked_reason=file.yanked_reason,
            core_metadata=file.core_metadata,
            upload_time=epoch_microseconds(file.upload_time),
            size=file.size,
            kind=file.kind,
            version=str(file.version),
            tags=_tag_text(file.filename) if file.kind == "wheel" else "",
            build=file.build,
        )


def page_records(
    content: bytes, *, url: str, content_type: str | None = None, name: str | None = None
) -> tuple[NormalizedName, list[FileRecord]]:
    """Parse a project page like :func:`parse_page`, into the project name and compact records."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    text = content.decode("utf-8", errors="replace")
    if media_type == JSON_CONTENT_TYPE or media_type.endswith("+json"):
        project, records, _ = _json_records(text, url=url, name=name)
    else:
        project, records, _ = _html_records(text, url=url, name=name)
    return project, records


def parse_page(
    content: bytes, *, url: str, content_type: str | None = None, name: str | None = None
) -> ProjectPage:
    """Parse a project page in whichever format its ``Content-Type`` names.

    :param content: the response body.
    :param url: the page's URL; relative file URLs are resolved against it.
    :param content_type: the response's ``Content-Type``; JSON when it names the PEP 691
        JSON type, HTML otherwise.
    :param name: the project's name; taken from the page or the URL when omitted.

    >>> parse_page(b'<a href="demo-1.0.tar.gz">x</a>', url="http://h/simple/demo/").files[0].url
    'http://h/simple/demo/demo-1.0.tar.gz'
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    text = content.decode("utf-8", errors="replace")
    if media_type == JSON_CONTENT_TYPE or media_type.endswith("+json"):
        return parse_json_page(text, url=url, name=name)
    return parse_html_page(text, url=url, name=name)


def parse_html_page(text: str, *, url: str, name: str | None = None) -> ProjectPage:
    """Parse a PEP 503 HTML project page.

    Anchors without ``href`` and files whose names do not parse are skipped. Attribute
    values are HTML-unescaped (``data-requires-python="&gt;=3.8"``), and a ``<base
    href>`` changes what relative links resolve against.

    >>> page = parse_html_page('<a href="/f/demo-1.0.tar.gz#sha256=ab">d</a>', url="http://h/s/demo/")
    >>> page.files[0].url, page.files[0].hashes
    ('http://h/f/demo-1.0.tar.gz', {'sha256': 'ab'})
    """
    project, records, api_version = _html_records(text, url=url, name=name)
    return ProjectPage(project, tuple(r.dist(project) for r in records), api_version)


def _html_records(
    text: str, *, url: str, name: str | None
) -> tuple[NormalizedName, list[FileRecord], str | None]:
    from resolvent.index.html_anchors import AnchorParser  # noqa: PLC0415 - html.parser is costly

    parser = AnchorParser()
    parser.feed(text)
    parser.close()
    base = _page_base(url, parser.base)
    project = _project_name(url, name)
    _check_api_version(parser.api_version, url)
    records: list[FileRecord] = []
    for attrs in parser.anchors:
        href = attrs.get("href")
        resolved = _resolve(base, href) if href else None
        record = None if resolved is None else _anchor_record(attrs, resolved, project)
        if record is not None:
            records.append(record)
    return project, records, parser.api_version


def parse_flat_page(text: str, *, url: str) -> dict[NormalizedName, list[DistFile]]:
    """Parse a find-links page: anchors to the files of any number of projects.

    Unlike a PEP 503 project page, a flat page (a wheelhouse's directory listing, a
    vendor's page of builds) is not about one project, so each file's project comes from
    its own name; the files are returned grouped by project, in page order.

    >>> page = parse_flat_page('<a href="a-1.0.tar.gz">a</a><a href="b-2-py3-none-any.whl">b</a>', url="http://h/w/")
    >>> sorted(page)
    ['a', 'b']
    """
    from resolvent.index.html_anchors import AnchorParser  # noqa: PLC0415 - html.parser is costly

    parser = AnchorParser()
    parser.feed(text)
    parser.close()
    base = _page_base(url, parser.base)
    grouped: dict[NormalizedName, list[DistFile]] = {}
    for attrs in parser.anchors:
        href = attrs.get("href")
        resolved = _resolve(base, href) if href else None
        if resolved is None:
            continue
        path = urlsplit(resolved[0]).path
        parsed = parse_dist_filename(unquote(path.rsplit("/", 1)[-1]))
        if parsed is None:
            continue
        record = _anchor_record(attrs, resolved, parsed.name)
        if record is not None:
            grouped.setdefault(parsed.name, []).append(record.dist(parsed.name))
    return grouped


def _anchor_record(
    attrs: dict[str, str | None], resolved: tuple[str, str], project: NormalizedName
) -> FileRecord | None:
    """Return the file an anchor links to, if it is a distribution of ``project``.

    :param resolved: the anchor's link, as :func:`_resolve` made it absolute.
    """
    absolute, fragment = resolved
    metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
    return _make_record(
        project,
        url=absolute,
        hashes=_fragment_hashes(fragment),
        requires_python=attrs.get("data-requires-python"),
        yanked="data-yanked" in attrs,
        yanked_reason=attrs.get("data-yanked"),
        core_metadata=_html_metadata(metadata),
        upload_time=None,
        size=None,
    )


def parse_json_page(text: str, *, url: str, name: str | None = None) -> ProjectPage:
    """Parse a PEP 691 JSON project page (with PEP 700's ``upload-time`` and ``size``).

    Entries that lack a usable ``filename`` or ``url`` are skipped; a page that is not
    JSON, or has an unsupported major API version, raises :class:`IndexDataError`.

    >>> page = parse_json_page(
    ...     '{"meta": {"api-version": "1.1"}, "name": "demo", "files": [{"filename":'
    ...     ' "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", "hashes": {}}]}',
    ...     url="http://h/simple/demo/",
    ... )
    >>> page.files[0].version
    <Version('1.0')>
    """
    project, records, api_version = _json_records(text, url=url, name=name)
    return ProjectPage(project, tuple(r.dist(project) for r in records), api_version)


def _json_records(
    text: str, *, url: str, name: str | None
) -> tuple[NormalizedName, list[FileRecord], str | None]:
    try:
        data = parse_json(text)
    except ValueError as error:
        raise IndexDataError(url, f"the page is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise IndexDataError(url, "the page is not a JSON object")
    meta = data.get("meta")
    api_version = meta.get("api-version") if isinstance(meta, dict) else None
    api_version = api_version if isinstance(api_version, str) else None
    _check_api_version(api_version, url)
    page_name = data.get("name")
    project = _project_name(url, name or (page_name if isinstance(page_name, str) else None))
    entries = data.get("files")
    records: list[FileRecord] = []
    for entry in entries if isinstance(entries, list) else ():
        record = _json_record(entry, project, url)
        if record is not None:
            records.append(record)
    return project, records, api_version


def _json_record(entry: Any, project: NormalizedName, page_url: str) -> FileRecord | None:
    """Return one PEP 691 file entry as a record, or ``None`` for an entry to skip.

    The record is built here rather than through :func:`_make_record`: a large page
    lists thousands of files, and this loop was most of a cold resolution's page work.
    """
    if not isinstance(entry, dict):
        return None
    get = entry.get
    href = get("url")
    filename = get("filename")
    if not isinstance(href, str) or not isinstance(filename, str):
        return None
    absolute = _absolute(page_url, href)
    if absolute is None:
        return None
    parsed = parse_dist_filename(filename, project)
    if parsed is None:
        return None
    yanked = get("yanked", False)
    hashes = get("hashes")
    metadata = get("core-metadata", get("dist-info-metadata"))
    size = get("size")
    requires_python = get("requires-python")
    upload_time = get("upload-time")
    is_yanked = yanked is True or isinstance(yanked, str)  # PEP 691: a string means yanked
    kind = parsed.kind
    return FileRecord(
        filename,
        absolute,
        index_hashes(hashes) if isinstance(hashes, dict) else {},
        requires_python if isinstance(requires_python, str) else None,
        is_yanked,
        (yanked or None) if is_yanked and isinstance(yanked, str) else None,
        _json_metadata(metadata),
        None if upload_time is None else epoch_microseconds(_parse_time(upload_time)),
        size if isinstance(size, int) and not isinstance(size, bool) else None,
        kind,
        str(parsed.version),
        _tag_text(filename) if kind == "wheel" else "",
        parsed.build,
    )


def _make_record(
    project: NormalizedName,
    *,
    url: str,
    hashes: dict[str, str],
    requires_python: str | None,
    yanked: bool,
    yanked_reason: str | None,
    core_metadata: dict[str, str] | None,
    upload_time: int | None,
    size: int | None,
    filename: str | None = None,
) -> FileRecord | None:
    if filename is None:
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    parsed = parse_dist_filename(filename, project)
    if parsed is None:
        return None
    return FileRecord(
        filename=filename,
        url=url,
        hashes=hashes,
        requires_python=requires_python,
        yanked=yanked,
        yanked_reason=(yanked_reason or None) if yanked else None,
        core_metadata=core_metadata,
        upload_time=upload_time,
        size=size,
        kind=parsed.kind,
        version=str(parsed.version),
        tags=_tag_text(filename) if parsed.kind == "wheel" else "",
        build=parsed.build,
    )


def _tag_text(filename: str) -> str:
    """Return a wheel name's ``python-abi-platform`` part (its last three fields)."""
    return "-".join(filename[: -len(".whl")].split("-")[-3:])


def epoch_microseconds(moment: datetime | None) -> int | None:
    """Return microseconds since the epoch; a naive time is read as UTC."""
    if moment is None:
        return None
    epoch, microsecond = _epoch()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=epoch.tzinfo)
    return (moment - epoch) // microsecond


def _from_epoch_microseconds(value: int | None) -> datetime | None:
    """Return the UTC time ``value`` microseconds after the epoch; ``None`` if unknown.

    Also ``None`` for an instant outside ``datetime``'s years 1 to 9999. An index's PEP
    700 ``upload-time`` of ``0001-01-01T00:00:00+14:00`` parses (its own date is in
    range) and counts as microseconds, but in UTC it falls in year 0: converting it
    back raised ``OverflowError``, and the listing, cached as it was, made every later
    run fail the same way until ``--refresh``. Converted here, such a time is merely
    unknown (it still counts for ``--exclude-newer``, which compares the numbers); uv
    takes the first as an ordinary time, and refuses the page for the second.
    """
    if value is None:
        return None
    epoch, microsecond = _epoch()
    try:
        return epoch + value * microsecond
    except OverflowError:  # beyond year 9999 or before year 1, or beyond timedelta's range
        return None


def _project_name(url: str, name: str | None) -> NormalizedName:
    if name:
        return canonicalize_name(name)
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return canonicalize_name(unquote(segments[-1]) if segments else "")


def _check_api_version(version: str | None, url: str) -> None:
    if not version:
        return
    major = version.split(".", 1)[0]
    # int() refuses over 4,300 digits; any major that long is unsupported anyway.
    if not (major.isascii() and major.isdigit()) or len(major) > 9 or int(major) > _SUPPORTED_MAJOR:
        shown = version if len(version) <= 40 else f"{version[:40]}..."
        raise IndexDataError(url, f"unsupported repository API version `{shown}`")


def _absolute(page_url: str, href: str) -> str | None:
    """Resolve a file URL against its page; ``None`` when it cannot be fetched.

    Absolute URLs (the common case) skip urljoin, not the check.
    """
    if href.startswith(("https://", "http://")) and "#" not in href:
        return None if url_problem(href) else href
    resolved = _resolve(page_url, href)
    return None if resolved is None else resolved[0]


def _page_base(url: str, base: str | None) -> str:
    """Return what a page's links resolve against: its ``<base href>``, unless malformed."""
    if not base:
        return url
    resolved = _resolve(url, base)
    return url if resolved is None else resolved[0]


def _resolve(base: str, href: str) -> tuple[str, str] | None:
    """Return a link's absolute URL and its fragment, or ``None`` for a link to skip.

    A bad host or port (``http://[::1``, ``:99999``) made ``urljoin`` raise, or httpx
    later, and one such anchor failed the whole page; pip and uv skip links they cannot
    parse, and so does this. A link to a scheme no download can use (``ftp:``,
    ``data:``) is skipped too, and so is a remote page's link to a local ``file:`` URL:
    an index on the network has no business naming files on this machine (only a
    local page may, as a ``file:`` index or find-links folder does).
    """
    try:
        absolute, fragment = urldefrag(urljoin(base, href.strip()))
    except ValueError:
        return None
    if url_problem(absolute) is not None:
        return None
    scheme = absolute.split(":", 1)[0].lower()
    if scheme not in _FETCHABLE or (scheme == "file" and _is_remote(base)):
        return None
    return absolute, fragment


#: The schemes a link may use: what downloads can fetch.
_FETCHABLE = frozenset({"http", "https", "file"})


def _is_remote(url: str) -> bool:
    """Whether a page was served over the network (not read from this machine)."""
    return url[:8].lower().startswith(("http://", "https://"))


@lru_cache(maxsize=4096)
def parse_requires_python(value: str | None) -> SpecifierSet | None:
    """Return a ``requires-python`` value as a specifier set, memoized.

    pip ignores a requires-python it cannot parse rather than rejecting the file; so
    does this (``None``), also for one whose numbers are too long to compare.
    """
    if value is None or not value.strip():
        return None
    try:
        return parse_specifier(value)
    except InvalidSpecifier:
        return None


def _fragment_hashes(fragment: str) -> dict[str, str]:
    """Read ``sha256=<hex>``; algorithms resolvent does not check are dropped here."""
    name, sep, value = fragment.partition("=")
    if not sep or not name or not value:
        return {}
    return index_hashes({name: value})


def _hash_dict(value: Any) -> dict[str, str]:
    """Read a PEP 691 ``hashes`` table, keeping only algorithms resolvent checks."""
    return index_hashes(value) if isinstance(value, dict) else {}


def _html_metadata(value: str | None) -> dict[str, str] | None:
    """Read ``data-core-metadata``: ``true`` or ``<hashname>=<hex>``; anything else is absent."""
    if value is None:
        return None
    value = value.strip()
    if value.lower() == "true":
        return {}
    name, sep, digest = value.partition("=")
    if not (sep and name.strip() and digest.strip()):
        return None
    # A digest in an algorithm resolvent does not check still announces the file.
    return _fragment_hashes(value)


def _json_metadata(value: Any) -> dict[str, str] | None:
    if value is True:
        return {}
    if isinstance(value, dict):
        return _hash_dict(value)
    return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    from datetime import datetime  # noqa: PLC0415 - a warm install parses no pages

    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
