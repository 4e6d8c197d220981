"""Private folders as ``tempfile.mkdtemp`` makes them, and trees removed quietly."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from resolvent.folders import make_private_folder, remove_tree


def test_a_private_folder_is_new_named_by_prefix_and_only_the_owners(tmp_path: Path) -> None:
    made = {Path(make_private_folder(tmp_path, ".stage-")) for _ in range(20)}
    assert len(made) == 20
    for folder in made:
        assert folder.parent == tmp_path
        assert folder.name.startswith(".stage-")
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0  # as mkdtemp: 0o700


def test_a_missing_parent_is_an_error_not_a_retry(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        make_private_folder(tmp_path / "absent", "x-")


def test_remove_tree_removes_everything_and_ignores_what_is_gone(tmp_path: Path) -> None:
    folder = Path(make_private_folder(str(tmp_path), "t-"))
    (folder / "a" / "b").mkdir(parents=True)
    (folder / "a" / "b" / "f").write_text("x")
    remove_tree(folder)
    assert not folder.exists()
    remove_tree(folder)  # gone already: nothing to say
