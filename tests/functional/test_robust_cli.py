"""Malformed input through the real CLI: a one-line ``error:``, the right exit code, no traceback.

End to end against a local index and a flat page served on 127.0.0.1: hash algorithms
(``shake_128``, made-up names) in ``--hash`` and in a page's link fragments, malformed
URLs in requirements, ``--index-url`` and ``-f``, an unbalanced quote, an invalid ``-e``
project name, a missing ``-f`` folder and an explicitly empty ``--index-url``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from resolvent import markers as markers_module
from resolvent.cli import cli
from tests.support.dists import Dist, build_wheel
from tests.support.environment import hermetic_env
from tests.support.index import serve_dists
from tests.support.static import serve_folder

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from resolvent.index.serve import IndexServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    with serve_dists(tmp_path_factory.mktemp("index"), [Dist("b", "1.0")]) as running:
        yield running


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory, server: IndexServer) -> Iterator[str]:
    """A flat page: the wheel with a `#shake_128=` fragment, and links that cannot be fetched."""
    folder = tmp_path_factory.mktemp("pages")
    shutil.copy(server.folder / "b-1.0-py3-none-any.whl", folder)
    (folder / "page.html").write_text(
        '<a href="http://[::1/b-0.9-py3-none-any.whl">v6</a>\n'
        '<a href="http://127.0.0.1:99999/b-0.8-py3-none-any.whl">port</a>\n'
        '<a href="b-1.0-py3-none-any.whl#shake_128=abc">b</a>\n'
    )
    with serve_folder(folder) as url:
        yield f"{url}page.html"


def _run(tmp_path: Path, *args: str, code: int, **env: str) -> Result:
    environment = hermetic_env(tmp_path / "cache") | env
    result = CliRunner().invoke(cli, list(args), env=environment)
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert result.exit_code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    if code:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.stderr
    return result


def _compile(tmp_path: Path, text: str, *args: str, code: int, **env: str) -> Result:
    requirements = tmp_path / "requirements.in"
    requirements.write_text(text)
    return _run(tmp_path, "pip", "compile", str(requirements), *args, code=code, **env)


@pytest.mark.parametrize(
    ("value", "needle"),
    [("shake_128:abc", "`shake_128`"), ("foo:abc", "`foo`")],
)
def test_unsupported_hash_algorithm_is_bad_input(
    tmp_path: Path, server: IndexServer, value: str, needle: str
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"b==1.0 --hash={value}\n")
    _run(tmp_path, "venv", str(tmp_path / "venv"), code=0)
    result = _run(
        tmp_path,
        *("pip", "install", "--python", str(tmp_path / "venv"), "-r", str(requirements)),
        *("--index-url", server.url),
        code=2,
    )
    assert f"unsupported hash algorithm {needle}" in result.stderr
    assert "`sha256`, `sha384`, `sha512`" in result.stderr


def test_page_with_unknown_hash_and_malformed_links_still_installs(
    tmp_path: Path, page_url: str
) -> None:
    _run(tmp_path, "venv", str(tmp_path / "venv"), code=0)
    venv = str(tmp_path / "venv")
    _run(tmp_path, "pip", "install", "--python", venv, "b", "--no-index", "-f", page_url, code=0)
    freeze = _run(tmp_path, "pip", "freeze", "--python", venv, code=0)
    assert freeze.stdout.split() == ["b==1.0"]


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/b-1.0-py3-none-any.whl",
        "http://127.0.0.1:99999/b-1.0-py3-none-any.whl",
        "http://127.0.0.1:abc/b-1.0-py3-none-any.whl",
    ],
)
def test_malformed_requirement_url(tmp_path: Path, server: IndexServer, url: str) -> None:
    result = _compile(tmp_path, f"b @ {url}\n", "--index-url", server.url, code=2)
    assert "invalid URL" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--index-url", "http://[::1/simple"),
        ("--index-url", "http://127.0.0.1:abc/simple"),
        ("--index-url", "http://127.0.0.1:99999/simple"),
        ("--no-index", "-f", "http://[::1/"),
        ("--no-index", "-f", "http://127.0.0.1:99999/"),
    ],
)
def test_malformed_index_and_find_links_urls(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = _compile(tmp_path, "b\n", *args, code=2)
    assert "invalid index URL" in result.stderr or "invalid find-links URL" in result.stderr


def test_over_long_project_url_is_a_network_error(tmp_path: Path, server: IndexServer) -> None:
    result = _compile(tmp_path, "a" * 200_000 + "\n", "--index-url", server.url, code=1)
    assert "invalid URL: it is longer than" in result.stderr
    assert len(result.stderr) < 1000


def test_unbalanced_quote_and_invalid_editable_name(tmp_path: Path) -> None:
    result = _compile(tmp_path, 'b --hash="sha256:abc\n', "--offline", code=2)
    assert "No closing quotation" in result.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "pyproject.toml").write_text('[project]\nname = "bad name!"\n')
    result = _compile(tmp_path, f"-e {tmp_path / 'bad'}\n", "--offline", code=2)
    assert "invalid project name `bad name!`" in result.stderr


def test_missing_find_links_folder_is_an_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "does-not-exist")
    result = _compile(tmp_path, "b\n", "--no-index", "-f", missing, code=2)
    assert f"the `--find-links` folder `{missing}` does not exist" in result.stderr


def test_explicitly_empty_index_url_is_bad_input(tmp_path: Path, server: IndexServer) -> None:
    result = _compile(tmp_path, "b\n", "--index-url", "", code=2, PIP_INDEX_URL=server.url)
    assert "`--index-url` is empty" in result.stderr


def test_a_huge_invalid_line_makes_a_short_error(tmp_path: Path) -> None:
    line = "b " + "x" * 300_000
    result = _compile(tmp_path, line + "\n", "--offline", code=2)
    (error,) = result.stderr.splitlines()
    assert len(error) < 1_000
    assert "invalid requirement `b xxx" in error
    assert "...` (300002 characters): Expected semicolon" in error


def test_metadata_markers_packaging_cannot_evaluate_are_ignored_as_uv_does(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Requires-Dist: dep>=1; python_version ~= "foo"``: uv installs dep; so do we."""
    monkeypatch.setattr(markers_module, "_warned", set())  # once per process
    wheels = tmp_path / "wheels"
    build_wheel(wheels, Dist("dep", "1.0"))
    build_wheel(wheels, Dist("badmark", "1.0", requires=['dep>=1; python_version ~= "foo"']))
    find = ("--no-index", "-f", str(wheels))
    venv = str(tmp_path / "venv")
    _run(tmp_path, "venv", venv, code=0)
    result = _run(tmp_path, "pip", "install", "--python", venv, *find, "badmark", code=0)
    assert "+ dep==1.0" in result.stderr
    assert caplog.messages == [
        (
            'ignoring `python_version ~= "foo"` in `dep>=1; python_version ~= "foo"`: '
            "packaging cannot evaluate it"
        )
    ]
    _run(tmp_path, "pip", "check", "--python", venv, code=0)
    assert "dep v1.0" in _run(tmp_path, "pip", "tree", "--python", venv, code=0).stdout
    assert "dep==1.0" in _compile(tmp_path, "badmark\n", *find, code=0).stdout


def test_a_users_marker_packaging_cannot_evaluate_is_bad_input(tmp_path: Path) -> None:
    venv = str(tmp_path / "venv")
    _run(tmp_path, "venv", venv, code=0)
    args = ("pip", "install", "--python", venv, "--offline", 'b; os_name === "posix"')
    result = _run(tmp_path, *args, code=2)
    assert result.stderr == (
        'error: `<command line>` line 1: invalid marker `os_name === "posix"`: '
        '`os_name === "posix"` cannot be evaluated\n'
    )


def test_a_reader_that_went_away_gets_no_error_message() -> None:
    # `resolvent pip list | head -1`: the pipe's reader closes before the writing ends.
    read, write = os.pipe()
    os.close(read)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "resolvent", "pip", "list", "--python", sys.executable],
            stdout=write,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
            env=os.environ | {"PIP_CONFIG_FILE": os.devnull},
        )
    finally:
        os.close(write)
    assert completed.returncode == 1
    assert completed.stderr == b""
