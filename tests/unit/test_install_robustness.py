"""Failures of the file system and bad paths end in one line, and undo what was done.

The plan-wide journal (several install transactions that stand or fall together), the
errors of the cache, of sdist unpacking, of interpreter queries, and the command line's
last resort for an :class:`OSError` nothing else caught.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pytest
from click.testing import CliRunner

from resolvent.cli._errors import run
from resolvent.errors import BadInputError, BuildError, InstallError, VenvError
from resolvent.installer import destination as destination_module
from resolvent.installer import venv as venv_module
from resolvent.installer.build import _extract_sdist
from resolvent.installer.cache import Cache, CacheBucket
from resolvent.installer.destination import Journal, SchemeDestination, installed_files
from resolvent.installer.install import install, install_wheel, remove_installed
from resolvent.installer.venv import Venv, create_venv, query_interpreter
from resolvent.installer.wheel import UnpackedWheel
from tests.support.dists import Dist, build_wheel
from tests.support.plans import install_old_and_up
from tests.support.trees import snapshot

if TYPE_CHECKING:
    from tests.unit.conftest import FailingReplace


def _tree(cache: Cache, tmp_path: Path, dist: Dist) -> UnpackedWheel:
    tree = cache.unpack_wheel(build_wheel(tmp_path / "wheels", dist))
    return UnpackedWheel(tree, manifest=cache.manifest(tree))


def _destination(venv: Venv, journal: Journal) -> SchemeDestination:
    return SchemeDestination(venv.scheme, python=str(venv.python), journal=journal)


# -- the journal ---------------------------------------------------------------------------


def test_journal_rolls_back_removals_upgrades_and_shared_folders(
    venv: Venv, cache: Cache, tmp_path: Path
) -> None:
    leftover = install_old_and_up(venv, cache, tmp_path / "w")
    before = snapshot(venv.root)

    staging = venv.root / ".resolvent-staging-test"
    staging.mkdir()
    journal = Journal(str(staging))
    files = installed_files(venv.site_packages / "old-1.0.dist-info", venv.root)
    remove_installed(files, venv.scheme, journal=journal)  # prunes old/ and old/deep/
    journal.remove_tree(str(leftover))
    # Two new distributions share a namespace folder: the first makes it, the second
    # merges into it; an upgrade replaces files and prunes a folder.
    ns1 = Dist("ns1", "1.0", files={"nspkg/one/__init__.py": ""})
    ns2 = Dist("ns2", "1.0", files={"nspkg/two/__init__.py": ""})
    up2 = Dist("up", "2.0", files={"up/__init__.py": "V = 2\n"})
    for dist in (ns1, ns2, up2):
        install(_tree(cache, tmp_path, dist), _destination(venv, journal))
    assert not (venv.site_packages / "old").exists()
    assert not (venv.site_packages / "up" / "gone").exists()
    assert (venv.site_packages / "nspkg" / "two").is_dir()

    assert journal.rollback() == []
    shutil.rmtree(staging)
    assert snapshot(venv.root) == before
    assert journal.rollback() == []  # forgotten: a second rollback does nothing


def test_a_failed_transaction_leaves_its_undo_to_the_journal(
    venv: Venv, cache: Cache, tmp_path: Path
) -> None:
    (venv.site_packages / "conflict.py").mkdir()
    before = snapshot(venv.root)
    staging = venv.root / ".resolvent-staging-test"
    staging.mkdir()
    journal = Journal(str(staging))
    install(_tree(cache, tmp_path, Dist("good", "1.0")), _destination(venv, journal))
    bad = Dist("bad", "1.0", files={"bad/__init__.py": "", "conflict.py": ""})
    with pytest.raises(InstallError, match="cannot install a file over the folder"):
        install(_tree(cache, tmp_path, bad), _destination(venv, journal))
    assert (venv.site_packages / "bad").is_dir()  # placed before the clash, not undone yet
    journal.rollback()
    shutil.rmtree(staging)
    assert snapshot(venv.root) == before


def test_a_failing_move_is_an_install_error_and_restores_everything(
    venv: Venv,
    cache: Cache,
    upgrade_wheel: Path,
    monkeypatch: pytest.MonkeyPatch,
    failing_replace: FailingReplace,
) -> None:
    before = snapshot(venv.root)
    failing_replace(
        4, lambda src, dst: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), src, None, dst)
    )
    with pytest.raises(InstallError) as raised:
        install_wheel(upgrade_wheel, venv.destination(), cache=cache)
    monkeypatch.undo()
    message = str(raised.value)
    assert os.strerror(errno.ENOSPC) in message
    assert "\n" not in message
    assert ".resolvent-staging-" not in message  # the environment's path, not ours
    assert snapshot(venv.root) == before


# -- the cache -----------------------------------------------------------------------------


def test_a_cache_folder_that_cannot_be_made_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    with pytest.raises(BadInputError, match="cannot create the cache folder") as raised:
        Cache(tmp_path / "afile").bucket(CacheBucket.HTTP)
    assert "\n" not in str(raised.value)
    with pytest.raises(BadInputError, match="cannot create the cache folder"):
        Cache(tmp_path / "afile" / "below").bucket(CacheBucket.HTTP)


def test_clean_and_prune_refuse_a_folder_that_is_not_a_cache(tmp_path: Path) -> None:
    project = tmp_path / "myproject"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print(1)\n")
    (project / "src" / ".tmp-notes").write_text("mine\n")  # what prune would remove
    before = snapshot(project)
    for action in (Cache(project).clean, Cache(project).prune):
        with pytest.raises(BadInputError, match="not a resolvent cache"):
            action()
    assert snapshot(project) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    Cache(empty).clean()  # nothing to lose: fine


def test_clean_removes_a_real_cache(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    cache.unpack_wheel(build_wheel(tmp_path / "w", Dist("demo", "1.0")))
    cache.clean()
    assert list(cache.root.iterdir()) == []


def test_cache_commands_on_bad_folders_are_one_line(tmp_path: Path) -> None:
    from resolvent.cli import cli  # noqa: PLC0415

    project = tmp_path / "myproject"
    project.mkdir()
    (project / "README").write_text("notes\n")
    runner = CliRunner()
    cleaned = runner.invoke(cli, ["cache", "clean", "--cache-dir", str(project)])
    assert cleaned.exit_code == 2
    assert cleaned.stderr.startswith("error: refusing to clean")
    assert (project / "README").is_file()
    pruned = runner.invoke(cli, ["cache", "prune", "--cache-dir", str(project)])
    assert pruned.exit_code == 2
    assert "Traceback" not in pruned.output


# -- sdists, interpreters, venvs -----------------------------------------------------------


def test_a_corrupt_sdist_is_one_line(tmp_path: Path) -> None:
    sdist = tmp_path / "csd-1.0.tar.gz"
    sdist.write_bytes(os.urandom(500))
    with pytest.raises(BuildError) as raised:
        _extract_sdist(sdist, tmp_path / "out")
    assert str(raised.value).startswith("cannot unpack the sdist `csd-1.0.tar.gz`: not a valid")
    assert "\n" not in str(raised.value)


def test_an_interpreter_that_hangs_is_one_short_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hang = tmp_path / "hangpy"
    hang.write_text("#!/bin/sh\nsleep 30\n")
    hang.chmod(0o755)
    monkeypatch.setattr(venv_module, "_QUERY_TIMEOUT", 1)
    with pytest.raises(VenvError) as raised:
        query_interpreter(hang)
    message = str(raised.value)
    assert message == f"cannot run the interpreter `{hang}`: it did not answer within 1 seconds"


def test_an_unwritable_venv_parent_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As root, permissions do not stop a write: refuse the temporary folder instead.
    def refuse(*_: object, **__: object) -> str:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / ".v.tmp-x"))

    monkeypatch.setattr("resolvent.installer.venv.make_private_folder", refuse)
    with pytest.raises(VenvError) as raised:
        create_venv(tmp_path / "v", python=Path(sys.executable))
    assert str(raised.value) == (
        f"cannot create a virtual environment at `{tmp_path / 'v'}`: {os.strerror(errno.EACCES)}"
    )


# -- the command line's last resort ----------------------------------------------------------


@click.command()
@click.pass_context
def _failing(ctx: click.Context) -> None:
    def action() -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/some/where")

    run(action)


@pytest.mark.parametrize("verbose", [False, True])
def test_an_unexpected_os_error_is_one_line(*, verbose: bool) -> None:
    result = CliRunner().invoke(_failing, [], obj={"verbose": verbose})
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"error: {os.strerror(errno.EACCES)}: `/some/where`"
    assert ("Traceback" in result.stderr) is verbose  # -v shows where it came from


def test_a_staging_folder_is_discarded_with_whatever_it_holds(tmp_path: Path) -> None:
    # After a success: emptied trees only (one rmdir each).
    emptied = tmp_path / "emptied"
    for name in ("t0", "t1", "abc-t0"):
        (emptied / name).mkdir(parents=True)
    destination_module.discard_staging(str(emptied))
    assert not emptied.exists()
    # Backups and half-moved trees (a rollback, a reinstall): everything goes all the same.
    mixed = tmp_path / "mixed"
    (mixed / "t0" / "pkg").mkdir(parents=True)
    (mixed / "t0" / "pkg" / "a.py").write_text("x")
    (mixed / "b3").write_text("backup")
    (mixed / "t1").mkdir()
    (mixed / "link").symlink_to(mixed / "t1")
    destination_module.discard_staging(str(mixed))
    assert not mixed.exists()
