"""Malformed and hostile inputs at the parsers: a one-line error or a skipped file, quickly.

Each case comes from the malformed-input sweep: wheel names whose compressed tag sets
expand to millions of tags, file names and requirement lines that took quadratic time,
TOML that ``tomllib`` rejects with other errors than ``TOMLDecodeError``, PEP 700 times
at ``datetime``'s limits, NUL bytes in paths, ``~`` without a home, unbounded standard
input and interpreter answers, and multi-line messages.
"""

from __future__ import annotations

import io
import json
import os
import pwd
import sys
import time
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from resolvent.cli._errors import run
from resolvent.errors import BadInputError, BuildError, InvalidWheelError, ScenarioError, VenvError
from resolvent.index import config as config_module
from resolvent.index.filenames import cached_tags, parse_dist_filename
from resolvent.index.pages import page_records
from resolvent.installer import venv as venv_module
from resolvent.installer.build import read_build_system
from resolvent.installer.discovery import find_python
from resolvent.installer.wheel import parse_entry_points
from resolvent.project import requirements_txt
from resolvent.project.direct import _download
from resolvent.project.inputs import read_input
from resolvent.project.requirements_txt import parse_requirements_file, parse_requirements_text
from resolvent.solver.scenario import parse_scenario

#: ``resolvent.index.filenames.MAX_TAG_PARTS`` and ``MAX_TAGS``, as documented there.
MAX_TAG_PARTS = 64
MAX_TAGS = 1024
DEEP = "a = " + "[" * 5000 + "]" * 5000 + "\n"
BIG = "a = " + "1" * 5000 + "\n"


def _fields(count: int, prefix: str) -> str:
    return ".".join(f"{prefix}{index}" for index in range(count))


# -- wheel tag sets (A-0) ------------------------------------------------------------


def test_a_wheel_name_that_expands_to_a_million_tags_is_not_a_distribution() -> None:
    name = f"alpha-2.0-{_fields(100, 'p')}-{_fields(100, 'a')}-{_fields(100, 'x')}.whl"
    assert parse_dist_filename(name, "alpha") is None
    assert parse_dist_filename(name) is None


@pytest.mark.parametrize(
    "tags",
    [
        f"{_fields(MAX_TAG_PARTS + 1, 'p')}-none-any",  # too many parts in one field
        f"{_fields(40, 'p')}-{_fields(40, 'a')}-any",  # 1,600 tags in all
        f"py3-none-{'x' * 1100}",  # too long
    ],
)
def test_wheel_tags_beyond_the_limits_are_skipped(tags: str) -> None:
    assert parse_dist_filename(f"alpha-1.0-{tags}.whl") is None
    assert parse_dist_filename(f"alpha-1.0-1b-{tags}.whl") is None  # packaging's parser
    assert cached_tags(tags) == frozenset()  # a record from an old cache expands to nothing


def test_real_and_generous_wheel_tag_sets_still_parse() -> None:
    interpreters = ".".join(f"cp3{minor}" for minor in range(6, 14)) + ".pp39.pp310"
    platforms = (
        "manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64."
        "macosx_10_9_x86_64.macosx_11_0_arm64.macosx_10_9_universal2"
    )
    parsed = parse_dist_filename(f"numpy-2.0-{interpreters}-none-{platforms}.whl", "numpy")
    assert parsed is not None
    assert len(parsed.tags) == 10 * 6
    at_limit = f"alpha-1.0-{_fields(MAX_TAG_PARTS, 'p')}-none-{_fields(16, 'x')}.whl"
    assert MAX_TAG_PARTS * 16 == MAX_TAGS
    parsed = parse_dist_filename(at_limit)
    assert parsed is not None
    assert len(parsed.tags) == MAX_TAGS


# -- legacy sdist names (A-3) ---------------------------------------------------------


def test_a_long_legacy_sdist_name_parses_in_linear_time() -> None:
    name = "zzz-" + "a-" * 50_000 + "x.tar.gz"  # listed on another project's page
    start = time.perf_counter()
    assert parse_dist_filename(name, "alpha") is None
    assert parse_dist_filename("zzz" + "_" * 200_000 + "x-1.0.tar.gz", "zzz-x") is not None
    assert time.perf_counter() - start < 1.0  # it was 4 s


@pytest.mark.parametrize(
    ("filename", "project", "version"),
    [
        ("foo-1.0-beta.tar.gz", "foo", "1.0b0"),
        ("Foo_Bar-1.0-beta.zip", "foo-bar", "1.0b0"),
        ("foo..bar-2-rc1.tar.gz", "foo-bar", "2rc1"),
        ("foo-bar-1.0.tar.gz", "foo", None),
    ],
)
def test_legacy_sdist_names_split_at_the_project(
    filename: str, project: str, version: str | None
) -> None:
    parsed = parse_dist_filename(filename, project)
    assert (None if parsed is None else str(parsed.version)) == version


# -- PEP 700 upload times (A-2) -------------------------------------------------------


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_an_upload_time_beyond_datetime_in_utc_is_unknown(moment: str) -> None:
    page = {
        "meta": {"api-version": "1.1"},
        "name": "alpha",
        "files": [
            {
                "filename": "alpha-1.0-py3-none-any.whl",
                "url": "alpha-1.0-py3-none-any.whl",
                "hashes": {},
                "upload-time": moment,
            }
        ],
    }
    _, records = page_records(
        json.dumps(page).encode(),
        url="http://127.0.0.1/simple/alpha/",
        content_type="application/vnd.pypi.simple.v1+json",
    )
    (record,) = records
    # The record, as a cached listing keeps it, becomes a file without a known time.
    assert record.upload_time is not None
    assert record.dist(canonicalize_name("alpha")).upload_time is None


# -- TOML (A-1, A-15) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [(BIG, "an integer has more than"), (DEEP, "nested too deeply"), ("a = [", "Invalid")],
)
def test_toml_errors_are_one_line_value_errors(text: str, message: str) -> None:
    from resolvent.toml_text import parse_toml  # noqa: PLC0415 - the helper is new

    with pytest.raises(ValueError, match=message) as caught:
        parse_toml(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text", [BIG, DEEP])
def test_a_malformed_pyproject_input_is_bad_input(tmp_path: Path, text: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[project]\nname = "p"\n[tool.x]\n{text}')
    with pytest.raises(BadInputError, match="is not valid TOML"):
        read_input(path)


@pytest.mark.parametrize("text", [BIG, DEEP])
def test_a_malformed_pyproject_to_build_is_a_build_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.x]\n{text}")
    with pytest.raises(BuildError, match="is not valid TOML"):
        read_build_system(tmp_path)


@pytest.mark.parametrize("text", ['project = "x"\n', BIG, DEEP])
def test_a_path_requirement_with_a_malformed_pyproject_has_no_name(
    tmp_path: Path, text: str
) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pyproject.toml").write_text(text)
    with pytest.raises(BadInputError, match="cannot tell the project name"):
        parse_requirements_text("./proj\n", "r.txt", base=tmp_path)


@pytest.mark.parametrize(
    ("text", "fmt"),
    [('{"name": "x", "n": ' + "9" * 5000 + "}", "json"), ('name = "x"\n' + BIG, "toml")],
)
def test_a_scenario_with_a_huge_integer_is_a_scenario_error(text: str, fmt: str) -> None:
    with pytest.raises(ScenarioError, match="not valid"):
        parse_scenario(text, "big", fmt=fmt)


@pytest.mark.parametrize(
    ("project", "message"),
    [
        ("dependencies = []\n", "the required `project.name` is not set"),
        ("name = 3\n", "`project.name` must be a string"),
        ('name = "a b"\n', "is not a valid name"),
        (
            'name = "p"\n[project.optional-dependencies]\nA_b = []\na-B = []\n',
            "names the extra `a-b` twice",
        ),
    ],
)
def test_a_pyproject_uv_refuses_is_bad_input(tmp_path: Path, project: str, message: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f"[project]\n{project}")
    with pytest.raises(BadInputError, match=message):
        read_input(path, all_extras=True)


# -- requirements files (A-4, A-6, A-7, A-13) -----------------------------------------


def test_a_line_of_blanks_parses_in_linear_time() -> None:
    start = time.perf_counter()
    parsed = parse_requirements_text("alpha==1.0" + " " * 50_000 + "\nbeta # c\n", "r.txt")
    assert time.perf_counter() - start < 1.0  # it was about 10 s
    assert [str(line.requirement) for line in parsed.requirements] == ["alpha==1.0", "beta"]


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("a  # c", "a"),
        ("a#b", "a#b"),
        ("# all", ""),
        ("a \t# c # d", "a"),
        ("a\\  # c", "a"),  # a continuation, at the end
    ],
)
def test_comments_are_cut_as_pip_cuts_them(line: str, kept: str) -> None:
    assert requirements_txt._logical_lines(line + "\n") == ([(1, kept)] if kept else [])


@pytest.mark.parametrize("option", ["-r", "-c"])
def test_a_nul_in_an_included_path_is_bad_input(tmp_path: Path, option: str) -> None:
    path = tmp_path / "r.txt"
    path.write_text(f"alpha\n{option} a\0b\n")
    with pytest.raises(BadInputError, match=r"r\.txt` line 2: .*contains a NUL byte"):
        parse_requirements_file(path)


@pytest.mark.parametrize("name", ["a.whl%00", "%2e%2e", "a%0a.whl"])
def test_a_direct_url_naming_no_file_is_bad_input(tmp_path: Path, name: str) -> None:
    with pytest.raises(BadInputError, match="does not name a file"):
        _download(f"http://127.0.0.1/x/{name}", tmp_path, lambda url: b"")


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape")
    monkeypatch.setattr(sys, "stdin", stream)


def test_stdin_with_a_byte_order_mark_reads_as_a_file_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _stdin(monkeypatch, b"\xef\xbb\xbfalpha\n")
    (line,) = read_input(Path("-")).requirements
    assert line.requirement.name == "alpha"


def test_stdin_that_is_not_text_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, b"alpha\n\xff\n")
    with pytest.raises(BadInputError, match=r"standard input\) is not UTF-8 text \(byte 6\)"):
        read_input(Path("-"))


def test_stdin_is_bounded_as_files_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requirements_txt, "_MAX_FILE_SIZE", 10)
    _stdin(monkeypatch, b"alpha\n" * 100)
    with pytest.raises(BadInputError, match="is over 0 MiB long"):
        read_input(Path("-"))


# -- no home folder (A-8) -------------------------------------------------------------


@pytest.fixture
def no_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process as a container runs it: ``HOME`` unset, a uid without a passwd entry."""

    def missing(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", missing)


@pytest.mark.usefixtures("no_home")
def test_without_a_home_no_user_configuration_is_looked_for() -> None:
    files = [str(path) for path in config_module._config_files()]
    assert files
    assert not any(".pip" in path or ".config" in path for path in files)
    assert config_module._user_config_files() == []


@pytest.mark.usefixtures("no_home")
def test_without_a_home_the_cli_names_the_problem_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        run(Path.home)  # what the default cache folder asks for
    assert caught.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: cannot find the home folder")
    assert error.count("\n") == 1


def test_an_unknown_users_home_in_a_path_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="there is no user `nosuchuserzz`"):
        parse_requirements_text("~nosuchuserzz/x-1.0-py3-none-any.whl\n", "r.txt", base=tmp_path)
    with pytest.raises(VenvError, match="`--python`: cannot expand `~nosuchuserzz`"):
        find_python("~nosuchuserzz/python")


# -- interpreter answers (A-14) -------------------------------------------------------


def _program(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake-python"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_an_interpreter_answer_is_bounded(tmp_path: Path) -> None:
    program = _program(tmp_path, "head -c 3000000 /dev/zero")
    venv_module._query.cache_clear()
    with pytest.raises(VenvError, match="it printed over 1 MiB"):
        venv_module.query_interpreter(program)


def test_an_endless_interpreter_answer_stops_at_the_bound(tmp_path: Path) -> None:
    program = _program(tmp_path, "exec yes")
    venv_module._query.cache_clear()
    with pytest.raises(VenvError, match="it printed over 1 MiB"):
        venv_module.query_interpreter(program)


def test_an_interpreter_that_never_answers_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(venv_module, "_QUERY_TIMEOUT", 1)
    program = _program(tmp_path, "exec sleep 30")
    venv_module._query.cache_clear()
    start = time.monotonic()
    with pytest.raises(VenvError, match="did not answer within 1 seconds"):
        venv_module.query_interpreter(program)
    assert time.monotonic() - start < 10


# -- entry points (A-16) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[console_scripts]\n= \nx = \n[[[\n", r"line 2 cannot be parsed: '= \\n' \(and 1 more"),
        ("x = y\n", "line 1 comes before any section header"),
        ("[a]\n[a]\n", "already exists"),
    ],
)
def test_a_malformed_entry_points_file_is_one_line(text: str, message: str) -> None:
    with pytest.raises(InvalidWheelError, match=message) as caught:
        parse_entry_points("w-1.0-py3-none-any.whl", text)
    assert "\n" not in str(caught.value)


def test_the_home_fixture_really_removes_the_home(no_home: None) -> None:
    assert "HOME" not in os.environ
    with pytest.raises(RuntimeError):
        Path.home()
