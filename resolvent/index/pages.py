"""A project page is an index's list of one project's files, in PEP 503 HTML or PEP 691 JSON.

Everything the resolver learns about a project before fetching metadata comes from this
page: file names (hence versions and wheel tags), hashes, ``requires-python``, yanked
status (PEP 592), whether a PEP 658 metadata file exists, and upload times (PEP 700). The
parsers here are pure (text in, values out) so they can be tested on crafted strings;
they skip what they cannot understand, as pip does, rather than failing a whole page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from resolvent.errors import IndexDataError
from resolvent.index.filenames import parse_dist_filename

if TYPE_CHECKING:
    from packaging.tags import Tag
    from packaging.utils import BuildTag, NormalizedName
    from packaging.version import Version

    from resolvent.index.filenames import DistKind

__all__ = [
    "HTML_CONTENT_TYPES",
    "JSON_CONTENT_TYPE",
    "PAGE_ACCEPT",
    "DistFile",
    "ProjectPage",
    "parse_html_page",
    "parse_json_page",
    "parse_page",
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


@dataclass(frozen=True, slots=True)
class DistFile:
    """One downloadable file of a project, as an index page lists it.

    ``url`` is absolute and carries no fragment (the ``#sha256=`` fragment of HTML pages
    is moved into ``hashes``). ``core_metadata`` is ``None`` when the index offers no PEP
    658 metadata file, and otherwise the hashes of that file (``{}``: available, hash
    unknown). ``tags`` is empty for sdists.
    """

    filename: str
    url: str
    hashes: dict[str, str] = field(hash=False)
    requires_python: SpecifierSet | None
    yanked: bool
    yanked_reason: str | None
    core_metadata: dict[str, str] | None = field(hash=False)
    upload_time: datetime | None
    size: int | None
    kind: DistKind
    name: NormalizedName
    version: Version
    tags: frozenset[Tag]
    build: BuildTag

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


@dataclass(frozen=True, slots=True)
class ProjectPage:
    """A project's files, in page order; ``api_version`` is the page's PEP 629 version."""

    name: NormalizedName
    files: tuple[DistFile, ...]
    api_version: str | None = None


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
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    base = urljoin(url, parser.base) if parser.base else url
    project = _project_name(url, name)
    _check_api_version(parser.api_version, url)
    files: list[DistFile] = []
    for attrs in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        absolute, fragment = urldefrag(urljoin(base, href.strip()))
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        dist = _make_file(
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
        if dist is not None:
            files.append(dist)
    return ProjectPage(project, tuple(files), parser.api_version)


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
    try:
        data = json.loads(text)
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
    files: list[DistFile] = []
    for entry in entries if isinstance(entries, list) else ():
        dist = _json_file(entry, project, url)
        if dist is not None:
            files.append(dist)
    return ProjectPage(project, tuple(files), api_version)


def _json_file(entry: Any, project: NormalizedName, page_url: str) -> DistFile | None:
    if not isinstance(entry, dict):
        return None
    href = entry.get("url")
    filename = entry.get("filename")
    if not isinstance(href, str) or not isinstance(filename, str):
        return None
    absolute = _absolute(page_url, href)
    yanked = entry.get("yanked", False)
    metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
    size = entry.get("size")
    requires_python = entry.get("requires-python")
    return _make_file(
        project,
        url=absolute,
        filename=filename,
        hashes=_hash_dict(entry.get("hashes")),
        requires_python=requires_python if isinstance(requires_python, str) else None,
        # PEP 691: a string (even an odd one) means yanked, with that reason.
        yanked=yanked is True or isinstance(yanked, str),
        yanked_reason=yanked if isinstance(yanked, str) else None,
        core_metadata=_json_metadata(metadata),
        upload_time=_parse_time(entry.get("upload-time")),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )


def _make_file(
    project: NormalizedName,
    *,
    url: str,
    hashes: dict[str, str],
    requires_python: str | None,
    yanked: bool,
    yanked_reason: str | None,
    core_metadata: dict[str, str] | None,
    upload_time: datetime | None,
    size: int | None,
    filename: str | None = None,
) -> DistFile | None:
    if filename is None:
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    parsed = parse_dist_filename(filename, project)
    if parsed is None:
        return None
    return DistFile(
        filename=filename,
        url=url,
        hashes=hashes,
        requires_python=_parse_requires_python(requires_python),
        yanked=yanked,
        yanked_reason=(yanked_reason or None) if yanked else None,
        core_metadata=core_metadata,
        upload_time=upload_time,
        size=size,
        kind=parsed.kind,
        name=parsed.name,
        version=parsed.version,
        tags=parsed.tags,
        build=parsed.build,
    )


def _project_name(url: str, name: str | None) -> NormalizedName:
    if name:
        return canonicalize_name(name)
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return canonicalize_name(unquote(segments[-1]) if segments else "")


def _check_api_version(version: str | None, url: str) -> None:
    if not version:
        return
    major = version.split(".", 1)[0]
    if not major.isdigit() or int(major) > _SUPPORTED_MAJOR:
        raise IndexDataError(url, f"unsupported repository API version `{version}`")


def _absolute(page_url: str, href: str) -> str:
    """Resolve a file URL against its page; absolute URLs (the common case) skip urljoin."""
    if href.startswith(("https://", "http://")) and "#" not in href:
        return href
    absolute, _ = urldefrag(urljoin(page_url, href))
    return absolute


@lru_cache(maxsize=4096)
def _parse_requires_python(value: str | None) -> SpecifierSet | None:
    # pip ignores a requires-python it cannot parse rather than rejecting the file.
    if value is None or not value.strip():
        return None
    try:
        return SpecifierSet(value)
    except InvalidSpecifier:
        return None


def _fragment_hashes(fragment: str) -> dict[str, str]:
    name, sep, value = fragment.partition("=")
    if not sep or not name or not value:
        return {}
    return {name.strip().lower(): value.strip().lower()}


def _hash_dict(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {
        str(key).lower(): digest.lower() for key, digest in value.items() if isinstance(digest, str)
    }


def _html_metadata(value: str | None) -> dict[str, str] | None:
    """Read ``data-core-metadata``: ``true`` or ``<hashname>=<hex>``; anything else is absent."""
    if value is None:
        return None
    value = value.strip()
    if value.lower() == "true":
        return {}
    hashes = _fragment_hashes(value)
    return hashes or None


def _json_metadata(value: Any) -> dict[str, str] | None:
    if value is True:
        return {}
    if isinstance(value, dict):
        return _hash_dict(value)
    return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class _AnchorParser(HTMLParser):
    """Collects the attributes of every ``<a>``, the first ``<base href>`` and PEP 629 meta."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.base: str | None = None
        self.api_version: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a":
            self.anchors.append(attributes)
        elif tag == "base" and self.base is None and attributes.get("href"):
            self.base = attributes["href"]
        elif tag == "meta" and attributes.get("name") == "pypi:repository-version":
            self.api_version = attributes.get("content")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
