"""The install journal on disk: a run killed at any step is rolled back by the next one.

A kill is simulated in process: an exception that nothing in resolvent handles as an
error (:class:`Killed`) is raised just before or just after one file-system call of a
run, and everything a dying process would not do afterwards (the rollback, deleting the
staging folder) is prevented. What is left on disk is then what a SIGKILL at that moment
leaves, and :func:`recover_staging` (what the next run's ``environment_lock`` calls) must
bring the environment back, byte for byte. The subprocess tests that really kill are in
``tests/functional/test_interrupted_install.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

import pytest

from resolvent.installer import destination as destination_module
from resolvent.installer.destination import (
    Journal,
    SchemeDestination,
    all_or_nothing,
    installed_files,
    recover_staging,
)
from resolvent.installer.install import install, install_wheel, remove_installed
from resolvent.installer.wheel import UnpackedWheel
from tests.support.dists import Dist, build_wheel
from tests.support.plans import install_old_and_up
from tests.support.trees import snapshot

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from resolvent.installer.cache import Cache
    from resolvent.installer.venv import Venv

STAGING = ".resolvent-staging-"


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it runs (no rollback, no clean-up)."""


def _kill_at(monkeypatch: pytest.MonkeyPatch, nth: int, *, after: bool) -> list[int]:
    """Raise :class:`Killed` just before (or after) the nth move, mkdir or rmdir.

    Only the calls of the install itself count (not those deleting a staging folder).

    Returns a one-item list holding the number of calls made so far.
    """
    count = [0]

    def wrap(real: Callable[..., None]) -> Callable[..., None]:
        def call(*args: str, **kwargs: int) -> None:
            if kwargs:  # shutil.rmtree's (``dir_fd``): deleting a staging folder
                real(*args, **kwargs)
                return
            count[0] += 1
            number = count[0]
            if number == nth and not after:
                raise Killed
            try:
                real(*args)
            finally:
                if number == nth and after:  # even if the call failed
                    raise Killed

        return call

    for name in ("replace", "mkdir", "rmdir"):
        monkeypatch.setattr(os, name, wrap(getattr(os, name)))
    return count


def _tree(cache: Cache, tmp_path: Path, dist: Dist) -> UnpackedWheel:
    tree = cache.unpack_wheel(build_wheel(tmp_path / "wheels", dist))
    return UnpackedWheel(tree, manifest=cache.manifest(tree))


def _staging(venv: Venv) -> list[str]:
    return sorted(p.name for p in venv.root.iterdir() if p.name.startswith(".resolvent-"))


@pytest.fixture
def planned(venv: Venv, cache: Cache, tmp_path: Path) -> Callable[[], Journal]:
    """Set up ``venv``; return a run of a plan: a removal, a leftover, two new, an upgrade."""
    leftover = install_old_and_up(venv, cache, tmp_path / "w")
    ns1 = Dist("ns1", "1.0", files={"nspkg/one/__init__.py": ""})
    ns2 = Dist("ns2", "1.0", files={"nspkg/two/__init__.py": ""})
    up2 = Dist("up", "2.0", files={"up/__init__.py": "V = 2\n", "up/new.py": ""})
    trees = [_tree(cache, tmp_path, dist) for dist in (ns1, ns2, up2)]

    def run() -> Journal:
        staging = tempfile.mkdtemp(prefix=STAGING, dir=venv.root)
        journal = Journal(staging)
        files = installed_files(venv.site_packages / "old-1.0.dist-info", venv.root)
        remove_installed(files, venv.scheme, journal=journal)
        journal.remove_tree(str(leftover))
        for tree in trees:
            install(tree, SchemeDestination(venv.scheme, python=str(venv.python), journal=journal))
        return journal

    return run


def test_a_run_killed_at_any_step_is_rolled_back_by_the_next(
    venv: Venv, planned: Callable[[], Journal], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(venv.root)
    count = _kill_at(monkeypatch, 0, after=False)
    done = planned()  # counts the calls of a whole run
    monkeypatch.undo()
    steps = count[0]
    assert done.rollback() == []
    shutil.rmtree(done.staging)
    assert snapshot(venv.root) == before
    assert steps > 20
    for nth in range(1, steps + 1):
        for after in (False, True):
            _kill_at(monkeypatch, nth, after=after)
            with pytest.raises(Killed):
                planned()
            monkeypatch.undo()
            notes = recover_staging(venv.root)
            assert snapshot(venv.root) == before, (nth, after)
            assert len(notes) <= 1
            assert _staging(venv) == []


def test_a_rollback_cut_short_is_finished_by_the_next_run(
    venv: Venv, planned: Callable[[], Journal], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(venv.root)
    undo = destination_module._undo_step
    for nth in (1, 5, 12):
        journal = planned()
        count = 0

        def dying(*args: object, nth: int = nth) -> None:
            nonlocal count
            count += 1
            if count == nth:
                raise Killed
            undo(*args)  # type: ignore[arg-type]

        count = 0
        monkeypatch.setattr(destination_module, "_undo_step", dying)
        with pytest.raises(Killed):
            journal.rollback()
        monkeypatch.undo()
        assert snapshot(venv.root) != before
        assert len(recover_staging(venv.root)) == 1
        assert snapshot(venv.root) == before
        assert _staging(venv) == []


def test_a_second_ctrl_c_during_the_rollback_does_not_cut_it_short(
    venv: Venv, cache: Cache, tmp_path: Path, upgrade_wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(venv.root)
    undo = destination_module._undo_step
    calls = 0

    def interrupted(*args: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        undo(*args)  # type: ignore[arg-type]

    def upgrade_then_ctrl_c() -> None:
        with all_or_nothing(venv.root) as journal:
            destination = SchemeDestination(venv.scheme, python=str(venv.python), journal=journal)
            install_wheel(upgrade_wheel, destination, cache=cache)
            raise KeyboardInterrupt  # the first Ctrl+C

    monkeypatch.setattr(destination_module, "_undo_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        upgrade_then_ctrl_c()
    assert calls > 3
    assert snapshot(venv.root) == before
    assert _staging(venv) == []


def test_a_transaction_of_its_own_killed_at_any_step_is_rolled_back_by_the_next_run(
    venv: Venv, cache: Cache, upgrade_wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(venv.root)
    count = _kill_at(monkeypatch, 0, after=False)
    install_wheel(upgrade_wheel, venv.destination(), cache=cache)
    monkeypatch.undo()
    steps = count[0]
    assert (venv.site_packages / "demo" / "m9.py").is_file()
    install_wheel(upgrade_wheel.with_name("demo-1.0-py3-none-any.whl"), venv.destination())
    assert snapshot(venv.root) == before
    rolled_back = 0
    for nth in range(1, steps + 1):
        _kill_at(monkeypatch, nth, after=True)

        def dead(*args: object, **kwargs: object) -> None:
            raise Killed

        # A dying process neither rolls back nor deletes its staging folder.
        monkeypatch.setattr(Journal, "rollback", dead)
        monkeypatch.setattr(shutil, "rmtree", dead)
        with pytest.raises(Killed):
            install_wheel(upgrade_wheel, venv.destination(), cache=cache)
        monkeypatch.undo()
        rolled_back += len(recover_staging(venv.root))
        assert snapshot(venv.root) == before, nth
        assert _staging(venv) == []
    assert rolled_back > steps // 2  # most kills land after the first step in the venv


def test_a_committed_run_killed_while_it_deletes_its_backups_stays_committed(
    venv: Venv, cache: Cache, upgrade_wheel: Path
) -> None:
    with all_or_nothing(venv.root) as journal:
        destination = SchemeDestination(venv.scheme, python=str(venv.python), journal=journal)
        install_wheel(upgrade_wheel, destination, cache=cache)
        # Killed after the commit point (the journal file gone), before the backups went.
        assert journal.finish()
        kept = venv.root / (STAGING + "killed")
        shutil.copytree(journal.staging, kept)
    after = snapshot(venv.root)
    del after[kept.name]
    after = {key: value for key, value in after.items() if not key.startswith(kept.name)}
    assert recover_staging(venv.root) == []
    assert snapshot(venv.root) == after
    assert (venv.site_packages / "demo" / "m9.py").is_file()


def _journal(staging: Path, *lines: str) -> None:
    staging.mkdir()
    text = "resolvent-journal 1\n" + "".join(line + "\n" for line in lines)
    (staging / "journal").write_text(text)


def test_a_journal_line_cut_short_or_naming_a_foreign_path_is_skipped(
    venv: Venv, tmp_path: Path
) -> None:
    staging = venv.root / (STAGING + "crafted")
    outside = tmp_path / "outside.txt"
    target = venv.site_packages / "restored.py"
    _journal(
        staging,
        json.dumps([1, 2, str(target), str(staging / "b0")]),
        json.dumps([2, 2, str(outside), str(staging / "b1")]),  # outside the environment
        json.dumps([3, 2, str(venv.site_packages / "x.py"), str(tmp_path / "elsewhere")]),
        '[4, 2, "' + str(venv.site_packages / "torn"),
        "5",  # JSON, but not a step
        "[" * 100_000 + "]" * 100_000,  # JSON nested past the parser's recursion
    )
    (staging / "b0").write_text("old\n")
    (staging / "b1").write_text("never moved\n")
    (tmp_path / "elsewhere").write_text("not ours\n")
    notes = recover_staging(venv.root)
    assert notes == [
        "an earlier run was interrupted while it changed the environment; it was rolled back"
    ]
    assert target.read_text() == "old\n"
    assert not outside.exists()
    assert not (venv.site_packages / "x.py").exists()
    assert (tmp_path / "elsewhere").read_text() == "not ours\n"
    assert _staging(venv) == []


def test_a_journal_of_another_format_is_left_alone(venv: Venv) -> None:
    staging = venv.root / (STAGING + "future")
    staging.mkdir()
    (staging / "journal").write_text("resolvent-journal 99\n[]\n")
    (notes,) = recover_staging(venv.root)
    assert "not a journal this version can read" in notes
    assert "\n" not in notes
    assert staging.is_dir()


@pytest.mark.parametrize("written", [b"", b"resolvent-jour", b"resolvent-journal 1"])
def test_a_run_killed_before_its_journal_had_a_header_changed_nothing(
    venv: Venv, written: bytes
) -> None:
    """The journal file is created, then its header written: a kill between the two
    leaves an empty or cut header, and no step (each is written before it is taken)."""
    staging = venv.root / (STAGING + "unwritten")
    staging.mkdir()
    (staging / "journal").write_bytes(written)
    (staging / "t0").mkdir()  # a tree staged before the first step
    (staging / "t0" / "module.py").write_text("staged\n")
    before = snapshot(venv.root)
    assert recover_staging(venv.root) == []
    assert _staging(venv) == []
    assert snapshot(venv.root) == {k: v for k, v in before.items() if STAGING not in k}


def test_a_restore_that_fails_keeps_the_backups_where_no_run_deletes_them(venv: Venv) -> None:
    staging = venv.root / (STAGING + "blocked")
    blocked = venv.site_packages / "blocked.py"
    _journal(staging, json.dumps([1, 2, str(blocked), str(staging / "b0")]))
    (staging / "b0").write_text("the only copy\n")
    blocked.mkdir()  # something took the path meanwhile
    (blocked / "inside").write_text("")
    (note,) = recover_staging(venv.root)
    assert "could not be restored" in note
    assert "\n" not in note
    (kept,) = (p for p in venv.root.iterdir() if p.name.startswith(".resolvent-unrestored-"))
    assert str(kept) in note
    assert (kept / "b0").read_text() == "the only copy\n"
    assert not (kept / "journal").exists()  # never replayed again
    assert recover_staging(venv.root) == []
    assert kept.is_dir()
