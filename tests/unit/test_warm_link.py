"""The hot loop of a warm install links files relative to open folders, same results.

:meth:`Linker.link_files` links each name relative to the two folders held open
(``linkat(2)``), so the kernel walks a few components per file instead of both full
paths; what is placed, the fallback to copying and the errors (full paths) are as before.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from resolvent.installer import link as link_module
from resolvent.installer.link import Linker, LinkMode

pytestmark = pytest.mark.skipif(not link_module._LINK_AT, reason="no linkat(2) on this system")

NAMES = ["pkg/__init__.py", "pkg/sub/mod.py", "top.py"]


@pytest.fixture
def folders(tmp_path: Path) -> tuple[str, str]:
    source, target = tmp_path / "source", tmp_path / "target"
    for name in NAMES:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(name)
        (target / name).parent.mkdir(parents=True, exist_ok=True)
    return os.fspath(source), os.fspath(target)


def test_files_are_linked_by_name_relative_to_open_folders(
    folders: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = folders
    calls: list[tuple[Any, ...]] = []
    real = os.link

    def spy(src: str, dst: str, **options: Any) -> None:
        calls.append((src, dst, sorted(options)))
        real(src, dst, **options)

    monkeypatch.setattr(os, "link", spy)
    linker = Linker(LinkMode.HARDLINK)
    linker.link_files(source, target, NAMES)
    assert linker.mode is LinkMode.HARDLINK
    assert calls == [(name, name, ["dst_dir_fd", "src_dir_fd"]) for name in NAMES]
    for name in NAMES:
        assert Path(source, name).samefile(Path(target, name))


def test_a_refused_link_names_both_full_paths(
    folders: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = folders
    real = os.link

    def full_after_one(src: str, dst: str, **options: Any) -> None:
        if src != NAMES[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), src, None, dst)
        real(src, dst, **options)

    monkeypatch.setattr(os, "link", full_after_one)
    with pytest.raises(OSError, match="No space left") as caught:
        Linker(LinkMode.HARDLINK).link_files(source, target, NAMES)
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == f"{source}/{NAMES[1]}"
    assert caught.value.filename2 == f"{target}/{NAMES[1]}"


def test_a_file_system_that_cannot_link_gets_the_rest_copied(
    folders: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = folders
    real = os.link
    seen: list[str] = []

    def cross_device_after_one(src: str, dst: str, **options: Any) -> None:
        seen.append(src)
        if len(seen) > 1:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), src, None, dst)
        real(src, dst, **options)

    monkeypatch.setattr(os, "link", cross_device_after_one)
    linker = Linker(LinkMode.HARDLINK)
    linker.link_files(source, target, NAMES)
    assert linker.mode is LinkMode.COPY
    assert seen == NAMES[:2]  # the refusal switched the rest to copying
    assert Path(source, NAMES[0]).samefile(Path(target, NAMES[0]))
    for name in NAMES[1:]:
        assert Path(target, name).read_text() == name
        assert not Path(source, name).samefile(Path(target, name))


def test_no_folder_is_opened_for_no_files(tmp_path: Path) -> None:
    missing = os.fspath(tmp_path / "missing")
    Linker(LinkMode.HARDLINK).link_files(missing, missing, [])
