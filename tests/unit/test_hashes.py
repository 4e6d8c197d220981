"""Digests of local files, and remembering them while the file is unchanged."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

import pytest

from resolvent import hashes
from resolvent.hashes import file_sha256, remembered_file_sha256

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat files written by the test as settled (no wait for the racy window)."""
    monkeypatch.setattr(hashes, "_SETTLED_NS", 0)


def records(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_file_sha256(tmp_path: Path) -> None:
    path = tmp_path / "a.whl"
    path.write_bytes(b"wheel bytes")
    assert file_sha256(path) == hashlib.sha256(b"wheel bytes").hexdigest()


@pytest.mark.usefixtures("settled")
def test_an_unchanged_file_is_answered_from_its_record(tmp_path: Path) -> None:
    path = tmp_path / "a.whl"
    path.write_bytes(b"wheel bytes")
    folder = tmp_path / "digests"
    assert remembered_file_sha256(path, folder) == hashlib.sha256(b"wheel bytes").hexdigest()
    (record,) = records(folder)
    record.write_text("f" * 64, encoding="ascii")  # proves the record, not the file, answers
    assert remembered_file_sha256(path, folder) == "f" * 64


@pytest.mark.usefixtures("settled")
def test_a_changed_file_is_hashed_again(tmp_path: Path) -> None:
    path = tmp_path / "a.whl"
    path.write_bytes(b"wheel bytes")
    folder = tmp_path / "digests"
    remembered_file_sha256(path, folder)
    info = path.stat()
    path.write_bytes(b"other wheel bytes")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # even with the old mtime
    assert remembered_file_sha256(path, folder) == hashlib.sha256(b"other wheel bytes").hexdigest()


@pytest.mark.usefixtures("settled")
def test_a_damaged_record_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "a.whl"
    path.write_bytes(b"wheel bytes")
    folder = tmp_path / "digests"
    remembered_file_sha256(path, folder)
    (record,) = records(folder)
    record.write_text("not a digest", encoding="ascii")
    assert remembered_file_sha256(path, folder) == hashlib.sha256(b"wheel bytes").hexdigest()


def test_a_file_changed_just_now_is_not_remembered(tmp_path: Path) -> None:
    path = tmp_path / "a.whl"
    path.write_bytes(b"wheel bytes")
    folder = tmp_path / "digests"
    assert remembered_file_sha256(path, folder) == hashlib.sha256(b"wheel bytes").hexdigest()
    assert records(folder) == []


def test_without_a_folder_nothing_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.whl"
    path.write_bytes(b"wheel bytes")
    assert remembered_file_sha256(path, None) == hashlib.sha256(b"wheel bytes").hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.whl"]
