from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urljoin

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from resolvent.errors import IndexDataError
from resolvent.hashes import INDEX_HASHES, index_hashes
from resolvent.index.filenames import parse_dist_filename
from resolvent.index.pages import (
    JSON_CONTENT_TYPE,
    DistFile,
    _json_metadata,
    _json_record,
    _make_record,
    _parse_time,
    epoch_microseconds,
    parse_flat_page,
    parse_html_page,
    parse_json_page,
    parse_page,
)

PAGE = "http://127.0.0.1:9/simple/demo/"


def test_html_basic_fields_and_fragment_hash() -> None:
    html = """<!DOCTYPE html><html><body>
    <a href="../../files/demo-1.0-py3-none-any.whl#sha256=ABCDEF"
       data-requires-python="&gt;=3.8,&lt;4">demo-1.0-py3-none-any.whl</a>
    <a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a>
    </body></html>"""
    page = parse_html_page(html, url=PAGE)
    assert page.name == "demo"
    wheel, sdist = page.files
    assert wheel.url == "http://127.0.0.1:9/files/demo-1.0-py3-none-any.whl"
    assert wheel.hashes == {"sha256": "abcdef"}
    assert wheel.sha256 == "abcdef"
    assert wheel.requires_python == SpecifierSet(">=3.8,<4")
    assert wheel.kind == "wheel"
    assert wheel.version == Version("1.0")
    assert wheel.tags == frozenset({Tag("py3", "none", "any")})
    assert not wheel.yanked
    assert wheel.core_metadata is None
    assert wheel.metadata_url is None
    assert sdist.kind == "sdist"
    assert sdist.url == PAGE + "demo-1.0.tar.gz"
    assert sdist.hashes == {}
    assert sdist.tags == frozenset()


def test_html_base_href_applies_to_relative_links() -> None:
    html = """<html><head><base href="/mirror/packages/"></head>
    <body><a href="demo-2.0.tar.gz">x</a>
    <a href="https://files.example.test/demo-2.1.tar.gz">y</a></body></html>"""
    page = parse_html_page(html, url=PAGE)
    assert [f.url for f in page.files] == [
        "http://127.0.0.1:9/mirror/packages/demo-2.0.tar.gz",
        "https://files.example.test/demo-2.1.tar.gz",
    ]


def test_html_only_first_base_counts() -> None:
    html = '<base href="http://a.test/one/"><base href="http://b.test/two/"><a href="demo-1.0.zip">'
    (file,) = parse_html_page(html, url=PAGE).files
    assert file.url == "http://a.test/one/demo-1.0.zip"


def test_html_yanked_with_and_without_reason() -> None:
    html = """
    <a href="demo-1.0.tar.gz" data-yanked>a</a>
    <a href="demo-1.1.tar.gz" data-yanked="">b</a>
    <a href="demo-1.2.tar.gz" data-yanked="broken &amp; bad">c</a>
    <a href="demo-1.3.tar.gz">d</a>
    """
    files = parse_html_page(html, url=PAGE).files
    assert [(f.yanked, f.yanked_reason) for f in files] == [
        (True, None),
        (True, None),
        (True, "broken & bad"),
        (False, None),
    ]


def test_html_core_metadata_attributes() -> None:
    html = """
    <a href="demo-1.0-py3-none-any.whl" data-core-metadata="true">a</a>
    <a href="demo-1.1-py3-none-any.whl" data-core-metadata="sha256=FFEE">b</a>
    <a href="demo-1.2-py3-none-any.whl" data-dist-info-metadata="sha256=aa">c</a>
    <a href="demo-1.3-py3-none-any.whl" data-core-metadata="sha256=bb"
       data-dist-info-metadata="true">d</a>
    <a href="demo-1.4-py3-none-any.whl" data-core-metadata="false">e</a>
    """
    files = parse_html_page(html, url=PAGE).files
    assert [f.core_metadata for f in files] == [
        {},
        {"sha256": "ffee"},
        {"sha256": "aa"},
        {"sha256": "bb"},
        None,
    ]
    assert files[0].metadata_url == PAGE + "demo-1.0-py3-none-any.whl.metadata"


def test_html_skips_malformed_names_and_anchors_without_href() -> None:
    html = """
    <a>no href</a>
    <a href="">empty</a>
    <a href="demo-1.0.exe">installer</a>
    <a href="demo-1.0-py3-none-any.egg">egg</a>
    <a href="demo-not.a.version-py3-none-any.whl">bad wheel</a>
    <a href="demo.tar.gz">no version</a>
    <a href="other-1.0-py3-none-any.whl">another project</a>
    <a href="demo-1.0-py3-none-any.whl">good</a>
    """
    files = parse_html_page(html, url=PAGE).files
    assert [f.filename for f in files] == ["demo-1.0-py3-none-any.whl"]


def test_html_invalid_requires_python_is_ignored() -> None:
    html = """<a href="demo-1.0.tar.gz" data-requires-python="&gt;=3.6.*">a</a>
    <a href="demo-1.1.tar.gz" data-requires-python="  ">b</a>"""
    files = parse_html_page(html, url=PAGE).files
    assert [f.requires_python for f in files] == [None, None]


def test_html_percent_encoded_filename_and_legacy_sdist_version() -> None:
    html = """<a href="My_Pkg-1.0%2Blocal-py3-none-any.whl">a</a>
    <a href="my-pkg-1.0-beta.tar.gz">b</a>"""
    files = parse_html_page(html, url="http://127.0.0.1:9/simple/my-pkg/").files
    assert files[0].filename == "My_Pkg-1.0+local-py3-none-any.whl"
    assert files[0].version == Version("1.0+local")
    assert files[1].version == Version("1.0b0")
    assert {f.name for f in files} == {"my-pkg"}


def test_html_unsupported_major_api_version() -> None:
    html = '<meta name="pypi:repository-version" content="2.0"><a href="demo-1.0.tar.gz">'
    with pytest.raises(IndexDataError, match=r"`2\.0`"):
        parse_html_page(html, url=PAGE)
    ok = '<meta name="pypi:repository-version" content="1.1"><a href="demo-1.0.tar.gz">'
    assert parse_html_page(ok, url=PAGE).api_version == "1.1"


def _json(files: list[object], **extra: object) -> str:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": files, **extra})


def test_json_page_fields() -> None:
    text = _json(
        [
            {
                "filename": "demo-1.0-py3-none-any.whl",
                "url": "/files/demo-1.0-py3-none-any.whl",
                "hashes": {"SHA256": "AB"},
                "requires-python": ">=3.9",
                "core-metadata": {"sha256": "cd"},
                "upload-time": "2024-01-02T03:04:05.123456Z",
                "size": 1234,
                "yanked": False,
            },
            {
                "filename": "demo-1.0.tar.gz",
                "url": "demo-1.0.tar.gz",
                "hashes": {},
                "dist-info-metadata": True,
                "yanked": "security issue",
            },
            {
                "filename": "demo-0.9.tar.gz",
                "url": "demo-0.9.tar.gz",
                "hashes": {},
                "yanked": True,
                "core-metadata": False,
                "dist-info-metadata": True,
                "size": True,
                "upload-time": "not a time",
            },
        ]
    )
    page = parse_json_page(text, url=PAGE)
    assert page.api_version == "1.1"
    wheel, sdist, old = page.files
    assert wheel.url == "http://127.0.0.1:9/files/demo-1.0-py3-none-any.whl"
    assert wheel.hashes == {"sha256": "ab"}
    assert wheel.requires_python == SpecifierSet(">=3.9")
    assert wheel.core_metadata == {"sha256": "cd"}
    assert wheel.upload_time == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert wheel.size == 1234
    assert (wheel.yanked, wheel.yanked_reason) == (False, None)
    assert sdist.core_metadata == {}
    assert (sdist.yanked, sdist.yanked_reason) == (True, "security issue")
    assert sdist.upload_time is None
    # PEP 714: core-metadata wins over the older dist-info-metadata key.
    assert old.core_metadata is None
    assert (old.yanked, old.yanked_reason) == (True, None)
    assert old.size is None
    assert old.upload_time is None


def test_json_skips_bad_entries() -> None:
    text = _json(
        [
            "not an object",
            {"url": "demo-1.0.tar.gz"},
            {"filename": "demo-1.0.tar.gz"},
            {"filename": "garbage.bin", "url": "garbage.bin"},
            {"filename": "demo-1.1.tar.gz", "url": "demo-1.1.tar.gz", "requires-python": "!!"},
        ]
    )
    (file,) = parse_json_page(text, url=PAGE).files
    assert file.version == Version("1.1")
    assert file.requires_python is None


@pytest.mark.parametrize(
    "href",
    [
        "file:///etc/demo-1.0.tar.gz",  # a remote page may not name files on this machine
        "FILE:///etc/demo-1.0.tar.gz",
        "ftp://files.example.test/demo-1.0.tar.gz",
        "data:,demo-1.0.tar.gz",
        "javascript:demo-1.0.tar.gz",
    ],
)
def test_links_no_download_may_follow_are_skipped(href: str) -> None:
    html = f'<a href="{href}">demo-1.0.tar.gz</a><a href="demo-2.0.tar.gz">demo-2.0.tar.gz</a>'
    assert [f.url for f in parse_html_page(html, url=PAGE).files] == [PAGE + "demo-2.0.tar.gz"]
    text = _json(
        [
            {"filename": "demo-1.0.tar.gz", "url": href},
            {"filename": "demo-2.0.tar.gz", "url": "demo-2.0.tar.gz"},
        ]
    )
    assert [f.url for f in parse_json_page(text, url=PAGE).files] == [PAGE + "demo-2.0.tar.gz"]


def test_a_local_page_may_link_local_files() -> None:
    local = "file:///srv/simple/demo/"
    html = '<a href="file:///srv/files/demo-1.0.tar.gz">x</a><a href="demo-2.0.tar.gz">y</a>'
    assert [f.url for f in parse_html_page(html, url=local).files] == [
        "file:///srv/files/demo-1.0.tar.gz",
        local + "demo-2.0.tar.gz",
    ]


def test_json_errors() -> None:
    with pytest.raises(IndexDataError, match="not valid JSON"):
        parse_json_page("{", url=PAGE)
    with pytest.raises(IndexDataError, match="not a JSON object"):
        parse_json_page("[]", url=PAGE)
    with pytest.raises(IndexDataError, match="unsupported"):
        parse_json_page(json.dumps({"meta": {"api-version": "2.0"}, "files": []}), url=PAGE)


def test_json_name_falls_back_to_url() -> None:
    text = json.dumps({"files": [{"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz"}]})
    page = parse_json_page(text, url=PAGE)
    assert page.name == "demo"
    assert page.api_version is None


def test_parse_page_dispatches_on_content_type() -> None:
    text = _json([{"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz"}])
    by_json = parse_page(text.encode(), url=PAGE, content_type=JSON_CONTENT_TYPE)
    assert by_json.files[0].filename == "demo-1.0.tar.gz"
    html = b'<a href="demo-1.0.tar.gz">demo</a>'
    by_html = parse_page(html, url=PAGE, content_type="text/html; charset=utf-8")
    assert by_html.files[0].filename == "demo-1.0.tar.gz"
    assert parse_page(html, url=PAGE).files == by_html.files


def test_dist_file_is_hashable() -> None:
    (file,) = parse_html_page('<a href="demo-1.0.tar.gz#sha256=aa">', url=PAGE).files
    assert len({file, file}) == 1


@pytest.mark.parametrize(
    ("filename", "project", "expected"),
    [
        ("demo-1.0-py3-none-any.whl", None, ("wheel", "demo", "1.0")),
        ("demo-1.0-1-py3-none-any.whl", "demo", ("wheel", "demo", "1.0")),
        ("demo-1.0.zip", None, ("sdist", "demo", "1.0")),
        ("foo-bar-2.0.tar.gz", "foo-bar", ("sdist", "foo-bar", "2.0")),
        ("foo_bar-2.0.tar.gz", "Foo.Bar", ("sdist", "foo-bar", "2.0")),
        ("demo-1.0-beta.tar.gz", "demo", ("sdist", "demo", "1.0b0")),
        ("demo-1.0-beta.tar.gz", None, None),
        ("demo-1.0-junk-x.tar.gz", "demo", None),
        ("demo-1.0.tar.bz2", None, None),
        ("demo-1.0-py3-none-any.whl", "other", None),
        ("demo-1.0.tar.gz", "other", None),
        ("bad.whl", None, None),
    ],
)
def test_parse_dist_filename(
    filename: str, project: str | None, expected: tuple[str, str, str] | None
) -> None:
    parsed = parse_dist_filename(filename, project)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert (parsed.kind, parsed.name, str(parsed.version)) == expected


def test_flat_page_groups_files_of_every_project() -> None:
    text = """<html><head><base href="/files/"></head><body>
    <a href="Lib_Core-1.0-py3-none-any.whl#sha256=AB12">w</a>
    <a href="app-2.0.tar.gz" data-requires-python="&gt;=3.9">s</a>
    <a href="lib-core-1.1.zip">z</a>
    <a href="notes.txt">n</a><a>no href</a>
    <a href="../other/app-1.0-py3-none-any.whl" data-yanked="broken">y</a>
    </body></html>"""
    flat = parse_flat_page(text, url="http://h/listing/index.html")
    page: dict[str, list[DistFile]] = {str(name): files for name, files in flat.items()}
    assert sorted(page) == ["app", "lib-core"]
    core = page["lib-core"]
    assert [f.url for f in core] == [
        "http://h/files/Lib_Core-1.0-py3-none-any.whl",
        "http://h/files/lib-core-1.1.zip",
    ]
    assert core[0].hashes == {"sha256": "ab12"}
    assert [str(f.version) for f in page["app"]] == ["2.0", "1.0"]
    assert page["app"][0].requires_python == SpecifierSet(">=3.9")
    assert page["app"][1].yanked
    assert page["app"][1].url == "http://h/other/app-1.0-py3-none-any.whl"


# -- the JSON fast path agrees with the general one ----------------------------------------

_NAMES = st.sampled_from(["demo", "Demo_Pkg", "demo.pkg", "démo", "", "x-y"])
_VERSIONS = st.sampled_from(["1.0", "1.0.0", "2.0rc1", "1!2.0", "1.0.post1", "v1", "1_0", "bad"])
_TAGS = st.sampled_from(["py3-none-any", "cp311-cp311-manylinux_2_17_x86_64", "1-py3-none-any"])
_DIGESTS = st.sampled_from(["ab" * 32, "AB" * 32, " ab ", "", "123", "xyz", None, 7])


@st.composite
def _json_entries(draw: st.DrawFn) -> dict[str, object]:
    name, version = draw(_NAMES), draw(_VERSIONS)
    filename = draw(
        st.sampled_from(
            [f"{name}-{version}-{draw(_TAGS)}.whl", f"{name}-{version}.tar.gz", "junk.txt"]
        )
    )
    entry: dict[str, object] = {"filename": filename, "url": f"/files/{filename}"}
    hashes = draw(
        st.sampled_from(
            [
                None,
                {},
                {"sha256": draw(_DIGESTS)},
                {"SHA256": "AB" * 32},
                {"md5": "ab", "sha256": "cd"},
            ]
        )
    )
    if hashes is not None:
        entry["hashes"] = hashes
    for key, values in {
        "yanked": [True, False, "", "broken", None],
        "requires-python": [">=3.8", 3, None],
        "core-metadata": [True, False, {"sha256": "AB"}, None],
        "upload-time": ["2024-01-01T00:00:00.123456Z", "2024-01-01T00:00:00", "nope", 5],
        "size": [10, True, "10", None],
    }.items():
        if draw(st.booleans()):
            entry[key] = draw(st.sampled_from(values))
    return entry


@given(_json_entries())
def test_json_records_match_the_general_record_builder(entry: dict[str, object]) -> None:
    """``_json_record`` builds records itself, for speed; it must say what ``_make_record`` says."""
    project = canonicalize_name("demo")
    found = _json_record(entry, project, PAGE)
    yanked = entry.get("yanked", False)
    size = entry.get("size")
    requires_python = entry.get("requires-python")
    hashes = entry.get("hashes")
    expected = _make_record(
        project,
        url=urljoin(PAGE, str(entry["url"])),
        filename=str(entry["filename"]),
        hashes=index_hashes(hashes) if isinstance(hashes, dict) else {},
        requires_python=requires_python if isinstance(requires_python, str) else None,
        yanked=yanked is True or isinstance(yanked, str),
        yanked_reason=yanked if isinstance(yanked, str) else None,
        core_metadata=_json_metadata(entry.get("core-metadata")),
        upload_time=epoch_microseconds(_parse_time(entry.get("upload-time"))),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )
    assert found == expected


@given(
    st.dictionaries(
        st.sampled_from(["sha256", "SHA256", " sha256", "md5", "sha512"]), _DIGESTS, max_size=3
    )
)
def test_index_hashes_fast_path_agrees_with_the_general_rule(pairs: dict[str, object]) -> None:
    expected = {}
    for algorithm, digest in pairs.items():
        if isinstance(digest, str) and digest.strip() and algorithm.strip().lower() in INDEX_HASHES:
            expected[algorithm.strip().lower()] = digest.strip().lower()
    assert index_hashes(pairs) == expected


@given(_NAMES, _VERSIONS, _TAGS)
def test_wheel_names_parse_as_packaging_parses_them(name: str, version: str, tags: str) -> None:
    filename = f"{name}-{version}-{tags}.whl"
    try:
        reference = parse_wheel_filename(filename)
    except ValueError:
        reference = None
    parsed = parse_dist_filename(filename)
    if reference is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert (parsed.name, parsed.version, parsed.build, parsed.tags) == reference
        assert str(parsed.version) == str(reference[1])
