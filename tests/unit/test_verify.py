"""``pip verify`` and ``pip show -f`` on what a RECORD names, whatever it names.

A RECORD row naming a FIFO or a device (``/dev/zero``) hung ``verify``; a recorded file
replaced by a symbolic link passed, as did every file of an environment installed with
``--link-mode symlink``; a malformed RECORD was never named, by either command.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from resolvent.cli import cli
from resolvent.installer.install import install_wheel
from resolvent.installer.link import LinkMode
from resolvent.installer.record import Hash
from resolvent.installer.site import Problem, SitePackages, verify_environment
from tests.support.dists import Dist, build_wheel
from tests.support.environment import hermetic_env

if TYPE_CHECKING:
    from pathlib import Path

    from resolvent.installer.cache import Cache
    from resolvent.installer.venv import Venv

DEMO = Dist("demo", "1.0", files={"demo/__init__.py": "V = 1\n", "demo/data.txt": "data\n"})
OWNER = "demo 1.0"


@pytest.fixture
def installed(venv: Venv, cache: Cache, tmp_path: Path) -> Path:
    """Install demo 1.0 into ``venv``; return its ``.dist-info`` folder."""
    install_wheel(build_wheel(tmp_path / "wheels", DEMO), venv.destination(), cache=cache)
    return venv.site_packages / "demo-1.0.dist-info"


def _problems(venv: Venv) -> list[Problem]:
    site = SitePackages.scan([venv.site_packages])
    return list(verify_environment(site, scripts=venv.scripts).problems)


def _append_row(dist_info: Path, row: str) -> None:
    with (dist_info / "RECORD").open("a", encoding="utf-8") as stream:
        stream.write(row + "\n")


def _cli(tmp_path: Path, *args: str, code: int) -> Result:
    result = CliRunner().invoke(cli, list(args), env=hermetic_env(tmp_path / "cli-cache"))
    assert result.exit_code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result


def test_an_intact_install_verifies(venv: Venv, installed: Path) -> None:
    assert installed.is_dir()
    assert _problems(venv) == []


def test_a_fifo_named_in_record_is_not_read(venv: Venv, installed: Path) -> None:
    fifo = venv.site_packages / "demo" / "pipe"
    os.mkfifo(fifo)
    _append_row(installed, "demo/pipe,sha256=AAAA,1")
    assert _problems(venv) == [Problem("modified", str(fifo), OWNER, "not a regular file")]


def test_a_device_named_in_record_is_not_read(venv: Venv, installed: Path) -> None:
    _append_row(installed, "/dev/zero,sha256=AAAA,1")
    up = "../" * len(venv.site_packages.parts)
    _append_row(installed, f"{up}dev/zero,sha256=AAAA,1")
    assert _problems(venv) == [Problem("modified", "/dev/zero", OWNER, "not a regular file")] * 2


def test_a_file_replaced_by_a_link_is_modified(venv: Venv, installed: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.py"
    other.write_text("V = 2\n")
    module = venv.site_packages / "demo" / "__init__.py"
    module.unlink()
    module.symlink_to(other)
    detail = f"a symbolic link to `{other}`"
    assert installed.is_dir()
    assert _problems(venv) == [Problem("modified", str(module), OWNER, detail)]


def test_a_link_to_the_same_contents_passes(venv: Venv, installed: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.py"
    module = venv.site_packages / "demo" / "__init__.py"
    copy.write_bytes(module.read_bytes())
    module.unlink()
    module.symlink_to(copy)
    assert installed.is_dir()
    assert _problems(venv) == []


def test_a_wheels_own_link_is_checked_by_its_target_text(venv: Venv, installed: Path) -> None:
    """Wheels record a symbolic link with the hash of the text it points to."""
    link = venv.site_packages / "demo" / "alias.txt"
    link.symlink_to("data.txt")
    _append_row(installed, f"demo/alias.txt,{Hash.of(b'data.txt')},8")
    assert _problems(venv) == []
    link.unlink()
    link.symlink_to("__init__.py")
    (problem,) = _problems(venv)
    assert (problem.kind, problem.path) == ("modified", str(link))


def test_a_symlink_mode_install_is_checked_through_its_links(
    venv: Venv, cache: Cache, tmp_path: Path
) -> None:
    wheel = build_wheel(tmp_path / "wheels", DEMO)
    install_wheel(wheel, venv.destination(LinkMode.SYMLINK), cache=cache)
    module = venv.site_packages / "demo" / "__init__.py"
    assert module.is_symlink()
    assert _problems(venv) == []
    cached = module.resolve()
    cached.unlink()  # never write through a cache file: other environments share it
    cached.write_text("raise SystemExit('corrupted')\n")
    assert [(p.kind, p.path) for p in _problems(venv)] == [("modified", str(module))]


def test_a_malformed_record_is_named(venv: Venv, installed: Path, tmp_path: Path) -> None:
    _append_row(installed, "demo/extra.py,sha256=abc,3,4")
    problems = _problems(venv)
    record = str(installed / "RECORD")
    detail = "malformed: line 7 has 4 fields, not 3"
    assert problems[0] == Problem("bad-record", record, OWNER, detail)
    assert {p.kind for p in problems[1:]} == {"unrecorded"}  # RECORD itself is not one

    result = _cli(tmp_path, "pip", "verify", "--python", str(venv.python), code=1)
    relative = os.path.relpath(record, venv.root)
    assert f"bad-record: {relative} ({OWNER}): {detail}\n" in result.stdout
    result = _cli(tmp_path, "pip", "show", "-f", "demo", "--python", str(venv.python), code=0)
    assert result.stdout.endswith("Files:\n")
    assert result.stderr == f"warning: cannot list the files of `demo`: its `RECORD` is {detail}\n"


def test_a_record_field_over_the_csv_limit_is_named(
    venv: Venv, installed: Path, tmp_path: Path
) -> None:
    _append_row(installed, "demo/" + "a" * 140_000 + ",,")
    (problem, *_) = _problems(venv)
    assert problem.kind == "bad-record"
    assert problem.detail == "malformed: line 7: field larger than field limit (131072)"
    result = _cli(tmp_path, "pip", "show", "-f", "demo", "--python", str(venv.python), code=0)
    assert "field larger than field limit" in result.stderr
