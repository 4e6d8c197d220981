"""Malformed input from users and indexes gives a clear error or is skipped, never a crash.

Regression tests for the robustness report: unbalanced quotes, invalid project names and
markers of ``-e`` lines, hash algorithms (``shake_128``, made-up names), malformed URLs
(a bad IPv6 host, a port out of range or not a number, an over-long URL), an explicitly
empty ``--index-url`` and a missing ``--find-links`` folder.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING

import pytest
from packaging.utils import canonicalize_name

from resolvent.errors import BadInputError, HashMismatchError, IndexUnreachableError
from resolvent.hashes import index_hashes, parse_user_hash
from resolvent.index.config import check_url, resolve_index_config, url_problem
from resolvent.index.find_links import FindLinks
from resolvent.index.http import HttpClient
from resolvent.index.metadata import _check_hashes
from resolvent.index.pages import parse_flat_page, parse_html_page, parse_json_page
from resolvent.installer.prepare import check_digests, expected_digests, file_digests
from resolvent.project.direct import _checked_sha256
from resolvent.project.requirements_txt import (
    RequirementLine,
    check_requirement_url,
    parse_requirements_text,
)

if TYPE_CHECKING:
    from pathlib import Path

PAGE = "http://127.0.0.1:9/simple/demo/"
SHA256 = "ab" * 32
BAD_URLS = [
    "http://[::1/simple",
    "http://127.0.0.1:99999/simple",
    "http://127.0.0.1:abc/simple",
    "http://" + "a" * 200_000 + "/simple",
    "http://127.0.0.1/a\x01b",
    "http:///no-host",
]


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No index settings of this machine; pip reads no configuration file."""
    for name in ("RESOLVENT_INDEX_URL", "PIP_INDEX_URL", "RESOLVENT_FIND_LINKS", "PIP_FIND_LINKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("RESOLVENT_EXTRA_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _parse_error(text: str, base: Path) -> str:
    with pytest.raises(BadInputError) as info:
        parse_requirements_text(text, "r.txt", base=base)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- requirements files -------------------------------------------------------------


def test_unbalanced_quote_in_a_per_requirement_option(tmp_path: Path) -> None:
    assert "line 1: No closing quotation" in _parse_error('a --hash="sha256:abc\n', tmp_path)


def test_editable_project_with_an_invalid_name(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "pyproject.toml").write_text('[project]\nname = "bad name!"\n')
    message = _parse_error("-e ./bad\n", tmp_path)
    assert "invalid project name `bad name!`" in message
    assert "invalid project name" in _parse_error("./bad\n", tmp_path)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pyproject.toml").write_text('[project]\nname = "proj"\n')
    return tmp_path


@pytest.mark.parametrize(
    "line",
    [
        '-e ./proj; python_version >= "3"',
        '-e ./proj ; python_version >= "3"',
        "-e './proj ; python_version >= \"3\"'",
        '--editable=./proj; python_version >= "3"',
        './proj; python_version >= "3"',
    ],
)
def test_marker_of_a_path_requirement_is_kept(project: Path, line: str) -> None:
    (parsed,) = parse_requirements_text(line + "\n", "r.txt", base=project).requirements
    assert parsed.requirement.name == "proj"
    assert str(parsed.requirement.marker) == 'python_version >= "3"'
    assert parsed.requirement.url == (project / "proj").absolute().as_uri()
    assert parsed.editable == line.startswith("-")


def test_invalid_marker_of_an_editable_is_named(project: Path) -> None:
    message = _parse_error('-e ./proj; python_version >> "3"\n', project)
    assert 'invalid marker `python_version >> "3"`' in message


def test_options_after_an_editable_are_not_swallowed(project: Path) -> None:
    assert "unknown per-requirement option `--config-settings`" in _parse_error(
        "-e ./proj --config-settings=x\n", project
    )
    # A `--` inside the path is not the option (it was named `--proj` here).
    (project / "my--proj").mkdir()
    assert "unknown per-requirement option `--config-settings`" in _parse_error(
        "-e ./my--proj --config-settings=x\n", project
    )


@pytest.mark.parametrize("option", ["-i", "--index-url", "--extra-index-url", "-f"])
def test_empty_option_value_in_a_file(tmp_path: Path, option: str) -> None:
    assert "needs a value" in _parse_error(f'{option} ""\n', tmp_path)


@pytest.mark.parametrize("url", BAD_URLS[:3])
def test_malformed_requirement_url(tmp_path: Path, url: str) -> None:
    assert "line 1: invalid URL" in _parse_error(f"a @ {url}/a-1.0-py3-none-any.whl\n", tmp_path)


# --- hashes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("shake_128:abc", "unsupported hash algorithm `shake_128`"),
        ("foo:abc", "unsupported hash algorithm `foo`"),
        ("md5:" + "a" * 32, "unsupported hash algorithm `md5`"),
        ("sha256:abc", "a sha256 digest is 64 hexadecimal digits"),
        ("sha256:" + "g" * 64, "a sha256 digest is 64 hexadecimal digits"),
        ("abc", "expected `algorithm:hex`"),
    ],
)
def test_bad_hash_option_is_bad_input(tmp_path: Path, value: str, needle: str) -> None:
    message = _parse_error(f"b==1.0 --hash={value}\n", tmp_path)
    assert "line 1:" in message
    assert needle in message
    if "unsupported" in needle:
        assert "`sha256`, `sha384`, `sha512`" in message


def test_good_hashes_are_normalized(tmp_path: Path) -> None:
    text = f"b==1.0 --hash=SHA256:{SHA256.upper()} --hash=sha512:{'c' * 128}\n"
    (line,) = parse_requirements_text(text, "r.txt", base=tmp_path).requirements
    assert line.hashes == (f"sha256:{SHA256}", f"sha512:{'c' * 128}")


def test_parse_user_hash_and_index_hashes() -> None:
    assert parse_user_hash(f" sha384:{'D' * 96} ") == f"sha384:{'d' * 96}"
    assert index_hashes({"SHA256": "AB", "shake_128": "cd", "blake2b_256": "ef", "md5": "01"}) == {
        "sha256": "ab",
        "md5": "01",
    }


def test_index_pages_ignore_hashes_they_cannot_check() -> None:
    html = (
        '<a href="demo-1.0-py3-none-any.whl#shake_128=abc">w</a>'
        '<a href="demo-1.0.tar.gz#SHA256=ABCD" data-core-metadata="shake_256=ee">s</a>'
    )
    wheel, sdist = parse_html_page(html, url=PAGE).files
    assert wheel.hashes == {}
    assert sdist.hashes == {"sha256": "abcd"}
    assert sdist.core_metadata == {}  # announced, with a digest resolvent does not check
    page = parse_json_page(
        '{"name": "demo", "files": [{"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz",'
        ' "hashes": {"shake_128": "ab", "sha256": "CD"}, "core-metadata": {"foo": "1"}}]}',
        url=PAGE,
    )
    assert page.files[0].hashes == {"sha256": "cd"}
    assert page.files[0].core_metadata == {}


def test_metadata_check_skips_unchecked_algorithms() -> None:
    content = b"Metadata-Version: 2.1\n"
    digest = hashlib.sha256(content).hexdigest()
    _check_hashes("u", content, {"shake_128": "abc", "foo": "x", "sha256": digest.upper()})
    with pytest.raises(Exception, match="sha256 is"):
        _check_hashes("u", content, {"sha256": "00"})


def test_prepare_digests_follow_the_same_rules(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="unsupported hash algorithm `shake_128`"):
        expected_digests(["shake_128:abc"])
    path = tmp_path / "f.whl"
    path.write_bytes(b"data")
    user, index = expected_digests(
        [f"sha512:{hashlib.sha512(b'data').hexdigest()}"], {"shake_128": "ab", "foo": "x"}
    )
    assert index == {}
    digests = file_digests(path, user, index)
    assert set(digests) == {"sha256", "sha512"}
    check_digests(path.name, digests, user, index)


def test_direct_file_is_checked_against_every_pinned_algorithm(tmp_path: Path) -> None:
    path = tmp_path / "a-1.0-py3-none-any.whl"
    path.write_bytes(b"wheel")
    good = f"sha512:{hashlib.sha512(b'wheel').hexdigest()}"
    url = path.as_uri()
    assert _checked_sha256(path, [good], url) == hashlib.sha256(b"wheel").hexdigest()
    # Pinned by sha512 alone, a different file used to pass: only sha256 was compared.
    with pytest.raises(HashMismatchError):
        _checked_sha256(path, [f"sha512:{'0' * 128}"], url)
    with pytest.raises(HashMismatchError):
        _checked_sha256(path, [], f"{url}#sha256={'0' * 64}")
    assert _checked_sha256(path, [], f"{url}#shake_128=00")  # unchecked, not a crash


# --- URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", BAD_URLS)
def test_url_problem_finds_malformed_urls(url: str) -> None:
    assert url_problem(url) is not None
    with pytest.raises(BadInputError) as info:
        check_url(url, "index URL")
    assert len(str(info.value)) < 400


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/simple/", "https://[::1]:443/s", "file:///tmp/x", "./wheels"]
)
def test_url_problem_accepts_good_urls_and_paths(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize("url", BAD_URLS[:4])
def test_malformed_index_urls_are_bad_input(isolated: Path, url: str) -> None:
    with pytest.raises(BadInputError, match="invalid index URL"):
        resolve_index_config(index_url=url)
    with pytest.raises(BadInputError, match="invalid extra index URL"):
        resolve_index_config(index_url="http://127.0.0.1:1/simple", extra_index_urls=[url])
    with pytest.raises(BadInputError, match="invalid find-links URL"):
        resolve_index_config(index_url="http://127.0.0.1:1/simple", find_links=[url])


def test_malformed_environment_index_url_is_bad_input(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOLVENT_INDEX_URL", "http://[::1/simple")
    with pytest.raises(BadInputError, match="invalid index URL"):
        resolve_index_config()


def test_explicitly_empty_index_url_is_bad_input(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:1/simple")
    for empty in ("", "  "):
        with pytest.raises(BadInputError, match="`--index-url` is empty"):
            resolve_index_config(index_url=empty)
    with pytest.raises(BadInputError, match="`--extra-index-url` is empty"):
        resolve_index_config(extra_index_urls=[""])
    with pytest.raises(BadInputError, match="`--find-links` is empty"):
        resolve_index_config(find_links=[""])
    # Truly absent, the environment still decides.
    assert resolve_index_config().index_url == "http://127.0.0.1:1/simple"


def test_pages_skip_links_that_cannot_be_fetched() -> None:
    html = (
        '<a href="http://[::1/demo-1.0-py3-none-any.whl">v6</a>'
        '<a href="http://127.0.0.1:99999/demo-1.0-py3-none-any.whl">port</a>'
        '<a href="http://127.0.0.1:abc/demo-1.0-py3-none-any.whl">port</a>'
        '<a href="http://h/demo-1.0.tar.gz">ok</a>'
    )
    assert [f.url for f in parse_html_page(html, url=PAGE).files] == ["http://h/demo-1.0.tar.gz"]
    flat = parse_flat_page(html, url="http://127.0.0.1:9/links/")
    assert [f.url for f in flat[canonicalize_name("demo")]] == ["http://h/demo-1.0.tar.gz"]
    page = parse_json_page(
        '{"name": "demo", "files": [{"filename": "demo-1.0.tar.gz", "url": "http://[::1/x",'
        ' "hashes": {}}, {"filename": "demo-1.0.tar.gz", "url": "http://h:99999/x",'
        ' "hashes": {}}]}',
        url=PAGE,
    )
    assert page.files == ()


def test_malformed_base_href_is_ignored() -> None:
    html = '<base href="http://[::1/"><a href="demo-1.0.tar.gz">s</a>'
    (file,) = parse_html_page(html, url=PAGE).files
    assert file.url == PAGE + "demo-1.0.tar.gz"


@pytest.mark.parametrize("url", BAD_URLS[:4])
def test_http_client_reports_malformed_urls_as_unreachable(url: str) -> None:
    async def fetch() -> None:
        async with HttpClient(retries=0) as client:
            await client.get(url)

    with pytest.raises(IndexUnreachableError, match="invalid URL") as info:
        asyncio.run(fetch())
    assert len(str(info.value)) < 600


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/x", "http://[zz]/x"])
def test_http_send_converts_what_httpx_and_sockets_raise(url: str) -> None:
    # Below the entry check: the port reaches the socket layer, which raises
    # OverflowError inside anyio's task group; httpx raises InvalidURL for the host.
    async def send() -> None:
        async with HttpClient(retries=0) as client:
            await client._send("GET", url, {})

    with pytest.raises(IndexUnreachableError, match="invalid URL"):
        asyncio.run(send())


# --- find-links ---------------------------------------------------------------------


def test_missing_find_links_folder_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"`--find-links` folder .* does not exist"):
        FindLinks((str(tmp_path / "missing"),))
    with pytest.raises(BadInputError, match="does not exist"):
        FindLinks(((tmp_path / "missing").as_uri(),))
    (tmp_path / "file.html").write_text("")
    with pytest.raises(BadInputError, match="is not a folder"):
        FindLinks((str(tmp_path / "file.html"),))
    with pytest.raises(BadInputError, match="invalid find-links URL"):
        FindLinks(("http://[::1/",))
    assert FindLinks((str(tmp_path),)).local_files(canonicalize_name("demo")) == []


def test_direct_requirement_url_is_checked(tmp_path: Path) -> None:
    from packaging.requirements import Requirement  # noqa: PLC0415

    line = RequirementLine(Requirement("a @ http://127.0.0.1:99999/a-1.0.tar.gz"), "r.txt", 3)
    with pytest.raises(BadInputError, match=r"`r\.txt` line 3: invalid URL .* for `a`"):
        check_requirement_url(line)
