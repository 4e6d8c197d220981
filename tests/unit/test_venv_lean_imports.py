"""``resolvent venv`` imports little, and what it stopped importing changed nothing.

``resolvent venv`` is half of a warm install's two process starts; nearly all of its
instructions were imports. The interpreter's answer stays usable by ``dataclasses``
functions (fields made on first use), the answer kept in the cache is written as
before, and the wheel's records compare, hash and print as the dataclasses they were.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from resolvent.installer.venv import Interpreter, _fields, create_venv
from resolvent.installer.wheel import EntryPoint, WheelInfo


def _answer() -> Interpreter:
    return Interpreter(
        "/e/bin/python", "/b/python", "/e", "/b", (3, 11, 7), "", "cpython", "linux", True,
        "lib/python3.11/site-packages", "lib/python3.11/site-packages", "bin", ("/w/pip.whl",),
    )  # fmt: skip


def test_the_venv_command_imports_no_click_dataclasses_or_threading() -> None:
    code = (
        "import sys\n"
        "import resolvent.cli, resolvent.cli._fast, resolvent.cli._venv_run\n"
        "import resolvent.installer.venv, resolvent.installer.discovery\n"
        "heavy = ('click', 'dataclasses', 'inspect', 'threading')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def test_the_cached_answer_is_written_as_asdict_wrote_it() -> None:
    answer = _answer()
    assert _fields(answer) == dataclasses.asdict(answer)
    assert json.dumps(_fields(answer)) == json.dumps(dataclasses.asdict(answer))


def test_dataclass_functions_work_on_a_fresh_class() -> None:
    """The fields are made on first use, from a class's instance or the class."""
    code = (
        "import dataclasses\n"
        "from resolvent.installer.venv import Interpreter\n"
        "a = Interpreter('/e/bin/python', '/b/python', '/e', '/b', (3, 11, 7), '', 'cpython',"
        " 'linux', True, 'lib', 'lib', 'bin')\n"
        "assert dataclasses.is_dataclass(a)\n"
        "moved = dataclasses.replace(a, prefix='/o')\n"
        "assert (moved.prefix, moved.executable) == ('/o', '/e/bin/python')\n"
        "names = [f.name for f in dataclasses.fields(Interpreter)]\n"
        "assert names == list(Interpreter.value_fields)\n"
        "print(dataclasses.fields(a)[0].type)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "Final[str]"


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_venv_made_under_any_umask_is_readable_and_replaced_whole(
    tmp_path: Path, umask: int
) -> None:
    target = tmp_path / "env"
    previous = os.umask(umask)
    try:
        create_venv(target, python=Path(sys.executable))
        (target / "marker").write_text("old")
        create_venv(target, python=Path(sys.executable), clear=True)
    finally:
        os.umask(previous)
    assert target.stat().st_mode & 0o777 == 0o755
    assert not (target / "marker").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env"]  # no build or trash left


@dataclasses.dataclass(frozen=True, slots=True)
class _OldWheelInfo:
    name: str
    version: str
    dist_info: str
    root_is_purelib: bool


@dataclasses.dataclass(frozen=True, slots=True)
class _OldEntryPoint:
    name: str
    module: str
    attr: str
    gui: bool


@pytest.mark.parametrize(
    ("new", "old", "fields"),
    [
        (WheelInfo, _OldWheelInfo, ("demo", "1.0", "demo-1.0.dist-info", True)),
        (EntryPoint, _OldEntryPoint, ("demo-run", "demo.cli", "main", False)),
    ],
)
def test_wheel_records_behave_as_the_dataclasses_they_were(
    new: type, old: type, fields: tuple[object, ...]
) -> None:
    value, reference = new(*fields), old(*fields)
    assert repr(value) == repr(reference).replace("_Old", "")
    assert value == new(*fields)
    assert hash(value) == hash(new(*fields))
    assert value != new(*fields[:-1], not fields[-1])
    assert {value, new(*fields)} == {value}
    assert [getattr(value, name) for name in new.value_fields] == list(fields)  # type: ignore[attr-defined]
    assert value.data_dir == "demo-1.0.data" if new is WheelInfo else True
