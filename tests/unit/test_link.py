from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

import pytest

from resolvent.installer import link as link_module
from resolvent.installer.link import Linker, LinkMode, link_tree

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "pkg" / "sub").mkdir(parents=True)
    (src / "pkg" / "__init__.py").write_text("x = 1\n")
    (src / "pkg" / "sub" / "mod.py").write_text("y = 2\n")
    tool = src / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    (src / "pkg" / "alias.py").symlink_to("__init__.py")
    return src


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("mode", list(LinkMode))
def test_every_mode_reproduces_the_tree(tree: Path, tmp_path: Path, mode: LinkMode) -> None:
    dst = tmp_path / "dst"
    used = link_tree(tree, dst, mode)
    assert files(dst) == files(tree)
    assert (dst / "pkg" / "alias.py").readlink().name == "__init__.py"
    assert os.access(dst / "tool", os.X_OK)
    assert (dst / "pkg").is_dir()
    assert not (dst / "pkg").is_symlink()
    source = (tree / "pkg" / "__init__.py").stat()
    placed = dst / "pkg" / "__init__.py"
    if mode is LinkMode.HARDLINK:
        assert used is LinkMode.HARDLINK
        assert placed.stat().st_ino == source.st_ino
    elif mode is LinkMode.SYMLINK:
        assert used is LinkMode.SYMLINK
        assert placed.is_symlink()
        assert placed.readlink().is_absolute()
    elif mode is LinkMode.COPY:
        assert used is LinkMode.COPY
        assert placed.stat().st_ino != source.st_ino
    else:  # reflink works on btrfs/xfs and falls back to copying elsewhere
        assert used in {LinkMode.REFLINK, LinkMode.COPY}
        assert placed.stat().st_ino != source.st_ino
        assert not placed.is_symlink()


@pytest.mark.parametrize("code", [errno.EXDEV, errno.EPERM, errno.EMLINK])
def test_hardlink_falls_back_to_copy(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    calls = []

    def refuse(src: str, _dst: str, **_: object) -> None:
        calls.append(src)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "link", refuse)
    dst = tmp_path / "dst"
    assert link_tree(tree, dst, LinkMode.HARDLINK) is LinkMode.COPY
    assert files(dst) == files(tree)
    assert len(calls) == 1  # the first failure switches the rest to copying
    assert os.access(dst / "tool", os.X_OK)


def test_reflink_falls_back_to_copy(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: str) -> None:
        raise OSError(errno.EOPNOTSUPP, "no reflinks here")

    monkeypatch.setattr(link_module, "_reflink", refuse)
    dst = tmp_path / "dst"
    assert link_tree(tree, dst, LinkMode.REFLINK) is LinkMode.COPY
    assert files(dst) == files(tree)


def test_real_errors_are_not_swallowed(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_: str, **__: object) -> None:
        raise OSError(errno.ENOSPC, "disk full")

    monkeypatch.setattr(os, "link", full)
    with pytest.raises(OSError, match="disk full"):
        link_tree(tree, tmp_path / "dst", LinkMode.HARDLINK)


def test_merges_into_existing_folders_but_never_overwrites(tree: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dst"
    (dst / "pkg").mkdir(parents=True)
    (dst / "other.py").write_text("keep\n")
    link_tree(tree, dst, LinkMode.COPY)
    assert (dst / "other.py").read_text() == "keep\n"
    assert (dst / "pkg" / "sub" / "mod.py").read_text() == "y = 2\n"
    with pytest.raises(FileExistsError):
        link_tree(tree, dst, LinkMode.HARDLINK)


def test_linker_reports_mode_per_instance(tree: Path, tmp_path: Path) -> None:
    linker = Linker(LinkMode.HARDLINK)
    linker.link(str(tree / "tool"), str(tmp_path / "tool"))
    assert linker.mode is LinkMode.HARDLINK
    assert (tmp_path / "tool").stat().st_nlink == 2
