"""``resolvent venv`` imports little, and what it stopped importing changed nothing.

``resolvent venv`` is half of a warm install's two process starts; nearly all of its
instructions were imports. The interpreter's answer stays usable by ``dataclasses``
functions (fields made on first use), the answer kept in the cache reads back as it was
written (and anything else there is a miss), and the wheel's records compare, hash and
print as the dataclasses they were. A warm ``resolvent venv`` imports neither
``pathlib``, ``json`` nor ``re``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from resolvent.installer import venv as venv_module
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


#: Imported by ``pathlib`` (``fnmatch``, ``ntpath``, ``urllib.parse``, ``ipaddress``) or
#: ``json``, or heavy in themselves (``re``, with ``enum``: long error messages only).
_NOT_FOR_A_WARM_VENV = (
    "pathlib", "fnmatch", "ntpath", "urllib.parse", "ipaddress", "json", "json.decoder", "re",
    "click", "dataclasses", "threading", "subprocess", "tempfile", "shutil", "hashlib",
)  # fmt: skip


def test_a_warm_venv_command_imports_no_pathlib_or_json(tmp_path: Path) -> None:
    """The command as the program runs it: the second venv's answer is in the cache."""
    code = (
        "import sys\n"
        "from resolvent.cli._fast import fast_command\n"
        "fast_command(sys.argv[1:], {})()\n"
        f"print(','.join(m for m in {_NOT_FOR_A_WARM_VENV!r} if m in sys.modules))\n"
    )
    cache = tmp_path / "cache"
    found = []
    for name in ("a", "b"):
        args = ["venv", str(tmp_path / name), "-p", sys.executable, "--cache-dir", str(cache)]
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        found.append(done.stdout.strip())
    assert "json" in found[0]  # the first asked the interpreter (the test's check works)
    assert found[1] == ""
    assert (tmp_path / "b" / "pyvenv.cfg").is_file()


def _record_path(tmp_path: Path) -> str:
    return str(tmp_path / "interpreter-v2" / "record")


@pytest.mark.parametrize(
    "answer",
    [
        _answer(),
        dataclasses.replace(_answer(), bundled_wheels=()),
        dataclasses.replace(_answer(), bundled_wheels=("/w/a.whl", "/w/b c.whl", "/w/\n.whl")),
        dataclasses.replace(_answer(), release="rc1", is_64bit=False, version=(3, 14, 0)),
        dataclasses.replace(_answer(), executable="/é/\udcff/python", prefix="/e\u2028x"),
        dataclasses.replace(_answer(), scripts="", purelib="lib/python3.11/site-packages"),
    ],
)
def test_the_cached_answer_reads_back_as_written(tmp_path: Path, answer: Interpreter) -> None:
    record = _record_path(tmp_path)
    key = ["/e/bin/python", 1, 2, 3, "digest", "query"]
    venv_module._store_interpreter(record, key, answer)
    assert venv_module._load_interpreter(record, key) == answer
    assert venv_module._load_interpreter(record, [*key[:-1], "other query"]) is None
    assert venv_module._load_interpreter(record, key[:-1]) is None


def test_anything_else_in_the_cache_is_a_miss(tmp_path: Path) -> None:
    record = _record_path(tmp_path)
    key = ["/e/bin/python", 1, 2, 3, "query"]
    venv_module._store_interpreter(record, key, _answer())
    data = Path(record).read_bytes()
    damaged = [
        *(data[:end] for end in range(len(data))),  # cut short anywhere
        data + b"x\0",
        data.replace(b"\x003\x0011\x007\x00", b"\x003\x0011\x00x\x00"),  # a version
        data.replace(b"\x001\x00lib", b"\x00yes\x00lib"),  # the 64-bit flag
        data.replace(b"\x001\x00/w/", b"\x002\x00/w/"),  # the number of wheels
        data.replace(b"cpython", b"\xff\xfe"),  # not UTF-8
        b"",
        json.dumps({"key": key, "interpreter": _fields(_answer())}).encode(),  # format 1
        b"\0" * 100,
    ]
    assert all(variant != data for variant in damaged)
    for variant in damaged:
        Path(record).write_bytes(variant)
        assert venv_module._load_interpreter(record, key) is None, variant
    Path(record).write_bytes(data + b"\0" * venv_module._RECORD_LIMIT)  # too long
    assert venv_module._load_interpreter(record, key) is None
    Path(record).unlink()
    assert venv_module._load_interpreter(record, key) is None  # no file
    Path(record).mkdir()
    assert venv_module._load_interpreter(record, key) is None  # not a file


@pytest.mark.parametrize(
    "answer",
    [
        dataclasses.replace(_answer(), release="a\0"),  # no path holds one, but
        dataclasses.replace(_answer(), bundled_wheels=("/w/" + "x" * 100,) * 1000),  # too long
    ],
    ids=["nul", "too-long"],
)
def test_an_answer_that_would_not_read_back_is_not_kept(
    tmp_path: Path, answer: Interpreter
) -> None:
    record = _record_path(tmp_path)
    key = ["/e/bin/python", 1, 2, 3, "query"]
    venv_module._store_interpreter(record, key, answer)
    assert not Path(record).exists()


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
