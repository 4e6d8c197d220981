"""An install, sync or uninstall that fails leaves the environment as it was (issue #4).

Each test sets a trap that makes one step of a run fail late (an unreadable RECORD of a
distribution to remove, a file of the last package clashing with a folder, a file system
that refuses a write or a removal) and checks, byte for byte, that the environment
holds what it held before, and that the error is one line, without a traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from resolvent.cli import cli
from tests.support.dists import Dist
from tests.support.environment import hermetic_env
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from resolvent.index.serve import IndexServer

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

DISTS = [
    Dist("a", "1.0"),
    Dist("b", "1.0"),
    Dist("c", "1.0", requires=["a"]),
    Dist("good", "1.0"),
    Dist("conf", "1.0", files={"conflict.py": "x = 1\n"}),
    Dist("up", "1.0", files={"up/__init__.py": "V = 1\n", "up/old_only/__init__.py": ""}),
    Dist("up", "2.0", files={"up/__init__.py": "V = 2\n"}),
    Dist("hdr", "1.0", files={"hdr/__init__.py": "", "hdr-1.0.data/headers/hdr.h": "/* h */\n"}),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    with serve_dists(tmp_path_factory.mktemp("index"), DISTS) as running:
        yield running


class Runner:
    def __init__(self, cache: Path, index: str) -> None:
        self.cache = cache
        self.index = index

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(cli, list(args), env=hermetic_env(self.cache))
        assert result.exit_code == code, (result.output, result.exception)
        if code:
            assert "Traceback" not in result.output
            # One line, the last (progress such as `venv`'s "Using Python" may precede it).
            errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
            assert len(errors) == 1, result.stderr
            assert result.stderr.strip().splitlines()[-1] == errors[0], result.stderr
        return result

    def venv(self, path: Path) -> Path:
        self("venv", str(path))
        return path

    def pip(self, verb: str, venv: Path, *args: str, code: int = 0) -> Result:
        index = ["-i", self.index] if verb in {"install", "sync"} else []
        return self("pip", verb, "--python", str(venv), *index, *args, code=code)


@pytest.fixture
def rv(tmp_path: Path, server: IndexServer) -> Runner:
    return Runner(tmp_path / "cache", server.url)


def site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{PY}" / "site-packages"


def snapshot(root: Path) -> dict[str, bytes | str | None]:
    """Every path under ``root`` with its contents (files), target (links) or None (folders)."""
    found: dict[str, bytes | str | None] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if key == ".lock":  # the environment's lock file, made by the first command
            continue
        if path.is_symlink():
            found[key] = str(path.readlink())
        elif path.is_file():
            found[key] = path.read_bytes()
        else:
            found[key] = None
    return found


def add_broken_dist(site: Path, name: str, record: str | None) -> None:
    folder = site / f"{name}-1.0.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n")
    if record is not None:
        (folder / "RECORD").write_text(record)


def test_sync_reads_every_record_before_removing_anything(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.pip("install", venv, "c")
    add_broken_dist(site_packages(venv), "zbroken", '"unterminated\n')
    before = snapshot(venv)
    requirements = tmp_path / "s.txt"
    requirements.write_text("b==1.0\n")
    failed = rv.pip("sync", venv, str(requirements), code=1)
    assert "cannot read the `RECORD`" in failed.stderr
    assert "zbroken-1.0.dist-info" in failed.stderr
    assert snapshot(venv) == before  # `a` and `c` still there, `b` not installed


def test_a_package_that_cannot_be_placed_rolls_back_the_others(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    (site_packages(venv) / "conflict.py" / "x").mkdir(parents=True)
    before = snapshot(venv)
    failed = rv.pip("install", venv, "good", "conf", code=1)
    assert "cannot install a file over the folder" in failed.stderr
    assert snapshot(venv) == before  # `good` linked fine, and was taken back out


def test_a_failed_sync_restores_what_it_removed_and_replaced(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.pip("install", venv, "c", "up==1.0")
    site = site_packages(venv)
    add_broken_dist(site, "zleft", None)  # an incomplete leftover that sync removes
    (site / "conflict.py" / "x").mkdir(parents=True)
    before = snapshot(venv)
    requirements = tmp_path / "s.txt"
    requirements.write_text("up==2.0\nconf==1.0\n")
    rv.pip("sync", venv, str(requirements), code=1)
    # `a` and `c` removed, `up` upgraded (its `old_only` folder pruned), the leftover
    # removed: all of it undone when `conf` failed.
    assert snapshot(venv) == before
    assert (site / "up" / "old_only" / "__init__.py").is_file()


def test_a_refused_write_is_one_line_and_rolled_back(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    # A file where the headers folder goes: the file system refuses to make a folder
    # inside it (ENOTDIR), as a read-only or immutable folder refuses, also for root.
    (venv / "include").write_text("")
    before = snapshot(venv)
    failed = rv.pip("install", venv, "good", "hdr", code=1)
    assert "cannot install to" in failed.stderr
    assert os.strerror(errno.ENOTDIR) in failed.stderr
    assert snapshot(venv) == before


def test_an_unwritable_environment_is_one_line(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    site = site_packages(venv)
    site.rmdir()
    site.write_text("")  # site-packages is a file: nothing can be placed in it
    failed = rv.pip("install", venv, "good", code=1)
    assert "cannot install to" in failed.stderr


def test_a_refused_removal_rolls_back_the_uninstall(
    rv: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.pip("install", venv, "c")
    before = snapshot(venv)
    real_replace = os.replace
    refused = str(site_packages(venv) / "c" / "__init__.py")

    def immutable_c(src: str, dst: str) -> None:
        if os.fspath(src) == refused:
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), src, None, dst)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", immutable_c)
    failed = rv.pip("uninstall", venv, "a", "c", code=1)
    monkeypatch.undo()
    assert f"cannot remove `{refused}`" in failed.stderr
    assert snapshot(venv) == before  # `a` was removed first, and is back


def test_uninstall_takes_requirements(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.pip("install", venv, "b", "good")
    removed = rv.pip("uninstall", venv, "b==1.0", "Good[extra]>=0.1")
    assert "skipping" not in removed.stderr
    assert rv.pip("freeze", venv).stdout == ""
    failed = rv.pip("uninstall", venv, "b>>1", code=2)
    assert "`b>>1`" in failed.stderr


def test_venv_paths_the_file_system_refuses(rv: Runner, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "afile").write_text("")
    failed = rv("venv", str(work / "afile" / "sub"), code=2)
    assert f"`{work / 'afile'}` is a file" in failed.stderr
    failed = rv("venv", str(work / "afile" / "deeper" / "sub"), code=2)
    assert f"`{work / 'afile'}` is a file" in failed.stderr
    assert [p.name for p in work.iterdir()] == ["afile"]
