"""What ``pip compile`` reads and writes besides requirements files: malformed inputs
give one-line errors, and ``-o`` writes a file in place of the old one, never half."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

import pytest

from resolvent.errors import BadInputError
from resolvent.project.compile_output import write_output
from resolvent.project.inputs import read_input
from resolvent.project.resolve import parse_exclude_newer as _parse_exclude_newer

if TYPE_CHECKING:
    from pathlib import Path


def test_deeply_nested_pyproject_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(BadInputError, match="nested too deeply"):
        read_input(path)


@pytest.mark.parametrize("value", ["a%(nope)s", "b%"])
def test_setup_cfg_interpolation_errors_are_bad_input(tmp_path: Path, value: str) -> None:
    path = tmp_path / "setup.cfg"
    path.write_text(f"[options]\ninstall_requires = {value}\n")
    with pytest.raises(BadInputError, match="cannot read"):
        read_input(path)


def test_setup_cfg_reads_a_doubled_percent_as_setuptools_does(tmp_path: Path) -> None:
    path = tmp_path / "setup.cfg"
    path.write_text("[options]\ninstall_requires =\n    a; platform_release == '1%%'\n")
    (line,) = read_input(path).requirements
    assert str(line.requirement.marker) == 'platform_release == "1%"'


def test_a_number_too_long_for_int_is_an_invalid_requirement(tmp_path: Path) -> None:
    path = tmp_path / "requirements.in"
    path.write_text("b==1" + "0" * 5000 + "\n")
    with pytest.raises(BadInputError, match="invalid requirement"):
        read_input(path)


def test_the_last_date_has_no_day_after_it() -> None:
    with pytest.raises(BadInputError, match="invalid `--exclude-newer`"):
        _parse_exclude_newer("9999-12-31")


def test_output_replaces_a_file_with_the_usual_permissions(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "out.txt"
    write_output(path, "a==1\n")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    path.chmod(0o640)
    write_output(path, "a==2\n")
    assert path.read_text() == "a==2\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.txt"]  # no leftovers


def test_output_follows_a_symbolic_link(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_output(link, "new\n")
    assert link.is_symlink()
    assert real.read_text() == "new\n"


def test_output_to_a_pipe_writes_into_it(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so the write does not wait
    try:
        write_output(fifo, "a==1\n")
        assert os.read(reader, 100) == b"a==1\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize("name", [".", "file/out.txt"])
def test_output_that_cannot_be_written_is_bad_input(tmp_path: Path, name: str) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(BadInputError, match="cannot write"):
        write_output(tmp_path / name, "a==1\n")


def _pyproject(tmp_path: Path, dependencies: str, optional: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        f'[project]\nname = "My_Proj"\nversion = "1"\ndependencies = {dependencies}\n'
        f"[project.optional-dependencies]\n{optional}"
    )
    return path


def test_an_extra_naming_the_project_itself_brings_in_its_extras(tmp_path: Path) -> None:
    # uv resolves the `all = ["p[x]"]` idiom; the self-reference used to be a root
    # requirement on `p`, looked up on the index: unsatisfiable.
    path = _pyproject(
        tmp_path,
        '["alpha", "my-proj"]',
        'x = ["gamma", "my.proj[y] ; python_version < \'3\'"]\n'
        'y = ["beta"]\nall = ["my-proj[x,all]"]\n',
    )
    found = [str(line.requirement) for line in read_input(path, ["all"]).requirements]
    assert found == ["alpha", "gamma", 'beta; python_version < "3"']


def test_a_self_reference_to_an_undefined_extra_is_bad_input(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, "[]", 'all = ["my-proj[nope]"]\n')
    with pytest.raises(BadInputError, match="names an extra `nope` that `my-proj` does not define"):
        read_input(path, ["all"])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("requires-python", '">=banana"', "`project.requires-python` `>=banana` is not valid"),
        ("requires-python", "3", "`project.requires-python` must be a string"),
        ("version", '"one"', "`project.version` `one` is not valid"),
    ],
)
def test_a_pyproject_with_a_malformed_version_field_is_bad_input(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    # uv refuses such a table ("Failed to parse"); it used to be read as if valid.
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[project]\nname = "p"\n{field} = {value}\ndependencies = ["a"]\n')
    with pytest.raises(BadInputError, match=message.replace("`", ".")):
        read_input(path)


def test_a_pyproject_with_valid_version_fields_is_read(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[project]\nname = "p"\nversion = "1.0.post1"\nrequires-python = ">=3.9,!=3.10.*"\n'
        'dependencies = ["a"]\n'
    )
    (line,) = read_input(path).requirements
    assert line.requirement.name == "a"
