"""``resolvent venv`` loads neither ``hashlib``, ``tempfile`` nor ``shutil``, and lost nothing.

Those three imports (OpenSSL with ``hashlib``; ``random`` with ``tempfile``; ``bz2`` and
``lzma`` with ``shutil``) were a fifth of the instructions of ``resolvent venv``, which
runs before every warm install of the benchmark. The digests of the interpreter cache's
keys come from CPython's own SHA-256 module instead, the temporary build folder is made
with ``mkdir``, and ``shutil`` is imported where a tree is deleted or a name looked up
on ``PATH``. These tests pin that the replacements answer exactly as the originals did.
"""

from __future__ import annotations

import errno
import hashlib
import importlib
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from resolvent import hashes
from resolvent.errors import VenvError
from resolvent.folders import make_private_folder
from resolvent.hashes import sha256_hex
from resolvent.installer import venv as venv_module
from resolvent.installer.discovery import find_python
from resolvent.installer.venv import create_venv

if TYPE_CHECKING:
    from collections.abc import Iterator


def test_the_venv_command_does_not_import_hashlib_tempfile_or_shutil() -> None:
    code = (
        "import sys\n"
        "import resolvent.cli, resolvent.cli._fast, resolvent.cli._venv_run\n"
        "import resolvent.installer.cache, resolvent.installer.discovery\n"
        "import resolvent.installer.venv\n"
        "heavy = ('hashlib', '_hashlib', 'tempfile', 'random', 'shutil', 'bz2', 'lzma')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


@pytest.fixture
def fresh_sha256() -> Iterator[None]:
    """Forget which SHA-256 constructor was found, before and after the test."""
    hashes._builtin_sha256.cache_clear()
    yield
    hashes._builtin_sha256.cache_clear()


@pytest.mark.parametrize(
    "data", [b"", b"x", b"/usr/bin/python3", bytes(range(256)) * 300, "é/ünï".encode()]
)
@pytest.mark.parametrize("hashlib_loaded", [True, False])
def test_the_digest_is_hashlibs(
    data: bytes, hashlib_loaded: bool, monkeypatch: pytest.MonkeyPatch, fresh_sha256: None
) -> None:
    if not hashlib_loaded:
        monkeypatch.delitem(sys.modules, "hashlib")
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()
    # A name is hashed without loading hashlib; 76,800 bytes are not a name.
    assert ("hashlib" in sys.modules) == (hashlib_loaded or len(data) > 64 * 1024)


def test_without_cpythons_module_the_digest_comes_from_hashlib(
    monkeypatch: pytest.MonkeyPatch, fresh_sha256: None
) -> None:
    real = importlib.import_module

    def missing(name: str, package: str | None = None) -> object:
        if name in {"_sha2", "_sha256"}:
            raise ImportError(name)
        return real(name, package)

    monkeypatch.delitem(sys.modules, "hashlib")
    monkeypatch.setattr(importlib, "import_module", missing)
    assert hashes._builtin_sha256() is None
    assert sha256_hex(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert "hashlib" in sys.modules  # imported for it


def test_the_private_folder_is_new_and_private_as_mkdtemps(tmp_path: Path) -> None:
    made = {Path(make_private_folder(str(tmp_path), ".env.tmp-")) for _ in range(20)}
    assert len(made) == 20
    for folder in made:
        assert folder.parent == tmp_path
        assert folder.name.startswith(".env.tmp-")
        assert folder.is_dir()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700 & ~_umask()


def test_a_taken_name_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([b"\x00" * 6, b"\x00" * 6, b"\x01" * 6])
    monkeypatch.setattr(os, "urandom", lambda _: next(draws))
    first = make_private_folder(str(tmp_path), "p-")
    second = make_private_folder(str(tmp_path), "p-")
    assert (first, second) == (str(tmp_path / "p-000000000000"), str(tmp_path / "p-010101010101"))


def test_no_free_name_is_an_os_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "urandom", lambda _: b"\x00" * 6)
    make_private_folder(str(tmp_path), "p-")
    with pytest.raises(FileExistsError):
        make_private_folder(str(tmp_path), "p-")


def test_a_venv_is_made_and_replaced_with_the_old_mode_and_no_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "env"
    created = create_venv(target, python=find_python(sys.executable))
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert created.python.exists()
    (target / "marker").write_text("old")
    create_venv(target, python=find_python(sys.executable), clear=True)
    assert not (target / "marker").exists()
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env"]  # no build or trash folder


def test_a_failed_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(venv_module, "_write_layout", refuse)
    with pytest.raises(Exception, match="No space left on device"):
        create_venv(tmp_path / "env", python=find_python(sys.executable))
    assert list(tmp_path.iterdir()) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_an_unwritable_parent_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The build folder's ``mkdir`` refused (as root, permissions do not stop a write)."""
    real_mkdir = os.mkdir

    def refuse(path: str, *args: Any, **kwargs: Any) -> None:
        if Path(path).name.startswith(".v.tmp-"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refuse)
    with pytest.raises(VenvError) as raised:
        create_venv(tmp_path / "v", python=find_python(sys.executable))
    assert str(raised.value) == (
        f"cannot create a virtual environment at `{tmp_path / 'v'}`: {os.strerror(errno.EACCES)}"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_cached_answers_keep_their_keys() -> None:
    """The query's digest is the one ``hashlib`` gave: answers cached before stay valid."""
    expected = hashlib.sha256(venv_module._QUERY.encode()).hexdigest()[:16]
    assert venv_module._query_version() == expected


def test_a_failed_swap_puts_the_old_venv_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old venv moved aside, the new one refused its place: the old one returns."""
    target = tmp_path / "env"
    create_venv(target, python=find_python(sys.executable))
    (target / "marker").write_text("old")
    real_replace = os.replace

    def refuse_the_new_one(source: str, destination: str) -> None:
        if Path(source).name.startswith(".env.tmp-"):
            raise OSError(5, "Input/output error")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", refuse_the_new_one)
    with pytest.raises(Exception, match="Input/output error"):
        create_venv(target, python=find_python(sys.executable), clear=True)
    assert (target / "marker").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env"]  # no build or trash folder
