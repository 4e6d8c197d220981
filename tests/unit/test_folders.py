"""Private folders and removed trees (names, modes and taken names: test_venv_stdlib_imports)."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolvent.folders import make_private_folder, remove_tree


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
