"""Malformed data from indexes, wheels, environments and files: skipped or one clear error.

Regression tests for the second robustness sweep: numbers longer than ``int()`` reads
(4,300 digits) in index pages, file names and ``METADATA``; non-UTF-8 ``METADATA`` in an
unpacked wheel; a ``pyvenv.cfg`` that is not text; requirements files in UTF-16 or with
a byte order mark, and ones that never end (``-r /dev/zero``).
"""

from __future__ import annotations

import codecs
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from resolvent.cli import cli
from resolvent.errors import BadInputError, IndexDataError, InvalidWheelError, VenvError
from resolvent.index.filenames import parse_dist_filename
from resolvent.index.httpcache import HttpCache
from resolvent.index.metadata import parse_core_metadata
from resolvent.index.pages import parse_html_page, parse_json_page, parse_requires_python
from resolvent.installer import venv as venv_module
from resolvent.installer.install import install_wheel
from resolvent.installer.manifest import Manifest
from resolvent.installer.site import SitePackages
from resolvent.installer.venv import Venv
from resolvent.installer.wheel import UnpackedWheel, read_wheel_info
from resolvent.json_text import parse_json
from resolvent.project.requirements_txt import parse_requirements_file
from tests.support.dists import Dist, build_wheel
from tests.support.environment import hermetic_env

if TYPE_CHECKING:
    from resolvent.installer.cache import Cache

PAGE = "http://127.0.0.1:9/simple/demo/"
WHEEL = "demo-1.0-py3-none-any.whl"
#: A number with more digits than ``int()`` reads from a string.
LONG = "9" * (sys.get_int_max_str_digits() + 1)


def _json_page(**entry: object) -> str:
    files = [{"filename": WHEEL, "url": WHEEL, "hashes": {}, **entry}]
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": files})


def test_an_overlong_requires_python_on_a_page_is_ignored_as_invalid() -> None:
    assert parse_requires_python(f">=3.{LONG}") is None
    page = parse_json_page(_json_page(**{"requires-python": f">=3.{LONG}"}), url=PAGE)
    assert [f.filename for f in page.files] == [WHEEL]
    assert page.files[0].requires_python is None
    html = f'<a href="{WHEEL}" data-requires-python="&gt;=3.{LONG}">w</a>'
    assert parse_html_page(html, url=PAGE).files[0].requires_python is None


def test_an_overlong_api_version_is_unsupported() -> None:
    text = json.dumps({"meta": {"api-version": LONG}, "name": "demo", "files": []})
    with pytest.raises(IndexDataError, match="unsupported repository API version") as caught:
        parse_json_page(text, url=PAGE)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    "filename", [f"demo-1.{LONG}-py3-none-any.whl", f"demo-1.{LONG}.tar.gz", f"demo-1.{LONG}.zip"]
)
def test_a_file_name_with_an_overlong_version_is_skipped(filename: str) -> None:
    assert parse_dist_filename(filename) is None
    assert parse_dist_filename(filename, "demo") is None


def test_metadata_with_an_overlong_version_is_invalid() -> None:
    with pytest.raises(IndexDataError, match="version") as caught:
        parse_core_metadata(f"Name: demo\nVersion: 1.{LONG}\n".encode())
    assert len(str(caught.value)) < 200


def test_metadata_with_an_overlong_requires_python_ignores_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        meta = parse_core_metadata(
            f"Name: demo\nVersion: 1.0\nRequires-Python: >=3.{LONG}\n".encode()
        )
    assert meta.requires_python is None
    assert "Requires-Python" in caplog.text


def _files(version: str, summary: bytes = b"") -> dict[str, bytes]:
    return {
        "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n",
        "demo-1.0.dist-info/METADATA": b"Name: demo\nVersion: "
        + version.encode()
        + b"\nSummary: "
        + summary
        + b"\n",
    }


def test_a_wheel_with_an_overlong_version_is_invalid() -> None:
    files = _files(f"1.{LONG}")
    with pytest.raises(InvalidWheelError, match="invalid `Version") as caught:
        read_wheel_info(WHEEL, "demo-1.0.dist-info", files.__getitem__)
    assert len(str(caught.value)) < 200


def test_an_unpacked_wheel_reads_non_utf8_text(tmp_path: Path) -> None:
    for path, data in _files("1.0", summary=b"caf\xe9").items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    text = UnpackedWheel(tmp_path).read_text("demo-1.0.dist-info/METADATA")
    assert text is not None
    assert "caf\ufffd" in text


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (b"home = /usr\n\xff\xfe garbage\n", "is not a text file"),
        (f"home = /usr\nversion_info = 3.{LONG}\n".encode(), "names no Python version"),
        ("home = /usr\nversion_info = \u0663.\u0661\u0662\n".encode(), "names no Python version"),
    ],
)
def test_an_unreadable_pyvenv_cfg_is_one_line(tmp_path: Path, config: bytes, message: str) -> None:
    (tmp_path / "pyvenv.cfg").write_bytes(config)
    with pytest.raises(VenvError, match=message):
        Venv.open(tmp_path)


@pytest.mark.parametrize(
    "data",
    [
        "b>=1\n".encode("utf-16"),  # with its byte order mark, as PowerShell writes
        "b>=1\n".encode("utf-32"),
        codecs.BOM_UTF8 + b"b>=1\n",
    ],
)
def test_requirements_files_in_the_encoding_of_their_byte_order_mark(
    tmp_path: Path, data: bytes
) -> None:
    (tmp_path / "r.txt").write_bytes(data)
    parsed = parse_requirements_file(tmp_path / "r.txt")
    assert [str(line.requirement) for line in parsed.requirements] == ["b>=1"]


def test_a_requirements_file_that_is_not_utf8_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(BadInputError, match="is not UTF-8 text"):
        parse_requirements_file(tmp_path / "r.txt")


@pytest.mark.skipif(not Path("/dev/zero").is_char_device(), reason="needs /dev/zero")
def test_an_endless_included_file_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("-r /dev/zero\n")
    with pytest.raises(BadInputError, match="/dev/zero` is over 64 MiB long"):
        parse_requirements_file(tmp_path / "r.txt")


#: JSON nested deeper than Python's parser recurses: ``RecursionError``, not ``ValueError``.
DEEP = "[" * 100_000 + "]" * 100_000


def test_deeply_nested_json_is_malformed_json() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_json(DEEP)
    assert parse_json(b'{"a": [1]}') == {"a": [1]}


@pytest.mark.parametrize(
    ("text", "editable"),
    [
        ('{"url": "file://[::1/x", "dir_info": {"editable": true}}', None),  # urlsplit refuses
        (DEEP, None),
        ('{"url": "file:///work/proj", "dir_info": {"editable": true}}', "/work/proj"),
    ],
)
def test_a_damaged_direct_url_json_is_read_as_absent(
    venv: Venv, cache: Cache, tmp_path: Path, text: str, editable: str | None
) -> None:
    install_wheel(build_wheel(tmp_path / "w", Dist("dep", "1.0")), venv.destination(), cache=cache)
    (venv.site_packages / "dep-1.0.dist-info" / "direct_url.json").write_text(text)
    dist = SitePackages.scan([venv.site_packages]).get("dep")
    assert dist is not None
    assert dist.editable_location() == editable
    for command in (["list"], ["freeze"], ["show", "dep"]):
        args = ["pip", *command, "--python", str(venv.python)]
        result = CliRunner().invoke(cli, args, env=hermetic_env(tmp_path / "cli-cache"))
        assert result.exit_code == 0, (result.output, result.exception)
        assert result.stdout.strip()


def test_deeply_nested_cache_json_is_ignored(tmp_path: Path) -> None:
    """The cache's own files: ignored when damaged, as their readers promise."""
    assert Manifest.from_bytes(DEEP.encode() + b"\n") is None
    answer = tmp_path / "interpreter"
    answer.write_text(DEEP)
    assert venv_module._load_interpreter(str(answer), ["key"]) is None
    http = HttpCache(tmp_path / "http")
    Path(http.file("k")).parent.mkdir(parents=True, exist_ok=True)
    Path(http.file("k")).write_text(DEEP + "\n")
    assert http.load("k") is None
    with pytest.raises(IndexDataError, match="nested too deeply"):
        parse_json_page(DEEP, url=PAGE)
