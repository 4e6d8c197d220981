from __future__ import annotations

import hashlib
import os
import pwd
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from filelock import FileLock

from resolvent.errors import InstallError, InvalidWheelError
from resolvent.installer.cache import Cache, CacheBucket
from resolvent.user_home import home_folder
from tests.support.dists import Dist, build_wheel

ROOT = Path(__file__).resolve().parents[2]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return build_wheel(tmp_path / "wheels", Dist("demo", "1.0"))


def test_default_reads_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RESOLVENT_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Cache.default().root == tmp_path / "explicit"
    monkeypatch.delenv("RESOLVENT_CACHE_DIR")
    assert Cache.default().root == tmp_path / "xdg" / "resolvent"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Cache.default().root == tmp_path / "home" / ".cache" / "resolvent"


def test_buckets_are_versioned(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    assert {b.value for b in CacheBucket} == {"wheels-v1", "archive-v1", "built-v1", "http-v1"}
    assert cache.bucket(CacheBucket.HTTP) == tmp_path / "c" / "http-v1"
    assert (tmp_path / "c" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f59")


def test_unpack_once_and_find_again(tmp_path: Path, wheel: Path) -> None:
    cache = Cache(tmp_path / "c")
    digest = sha256(wheel)
    assert cache.unpacked(digest) is None
    tree = cache.unpack_wheel(wheel, digest.upper())
    assert tree == tmp_path / "c" / "archive-v1" / digest
    assert (tree / "demo" / "__init__.py").read_text() == '__version__ = "1.0"\n'
    assert cache.unpacked(digest) == tree
    inode = (tree / "demo" / "__init__.py").stat().st_ino
    assert cache.unpack_wheel(wheel) == tree  # no second extraction
    assert (tree / "demo" / "__init__.py").stat().st_ino == inode
    assert cache.recall(wheel.name) == digest
    assert not [p for p in tree.parent.iterdir() if p.name.startswith(".tmp-")]


def test_hash_mismatch_is_refused(tmp_path: Path, wheel: Path) -> None:
    cache = Cache(tmp_path / "c")
    with pytest.raises(InvalidWheelError, match="was expected"):
        cache.unpack_wheel(wheel, "0" * 64)
    with pytest.raises(InstallError, match="not a sha256"):
        cache.unpacked("../../etc")
    assert not (tmp_path / "c" / "archive-v1").exists()


def test_failed_unpack_leaves_no_entry(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK\x03\x04 not really a zip")
    cache = Cache(tmp_path / "c")
    with pytest.raises(InvalidWheelError, match="truncated or corrupt"):
        cache.unpack_wheel(wheel)
    archive = tmp_path / "c" / "archive-v1"
    assert [p.name for p in archive.iterdir() if not p.name.endswith(".lock")] == []


def test_writer_that_finds_entry_done_keeps_it(tmp_path: Path, wheel: Path) -> None:
    cache = Cache(tmp_path / "c")
    tree = cache.unpack_wheel(wheel)
    marker = tree / "marker"
    marker.write_text("first")
    # A writer that raced past the lock check publishes onto a finished entry.
    cache._unpack(wheel, tree, None)
    assert marker.read_text() == "first"
    assert not [p for p in tree.parent.iterdir() if p.name.startswith(".tmp-")]


def test_concurrent_processes_unpack_one_entry(tmp_path: Path, wheel: Path) -> None:
    # A bigger wheel, so the extractions overlap for real.
    files = {f"demo/m{i}.py": f"x = {i}\n" * 200 for i in range(300)}
    wheel = build_wheel(tmp_path / "big", Dist("demo", "2.0", files=files))
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from resolvent.installer.cache import Cache
        print(Cache(Path({str(tmp_path / "c")!r})).unpack_wheel(Path({str(wheel)!r})))
        """
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0, 0], outputs
    paths = {out.decode().strip() for out, _ in outputs}
    assert paths == {str(tmp_path / "c" / "archive-v1" / sha256(wheel))}
    entries = [p.name for p in (tmp_path / "c" / "archive-v1").iterdir()]
    key = sha256(wheel)
    assert sorted(entries) == sorted([key, key + ".lock", key + ".manifest"])
    assert len(list(Path(paths.pop()).rglob("*.py"))) == 300


def _unreferenced(cache: Cache, tmp_path: Path) -> Path:
    """Unpack a wheel into ``cache``, then drop the pointer naming it: prune's to remove."""
    other = build_wheel(tmp_path / "wheels", Dist("other", "1.0"))
    orphan = cache.unpack_wheel(other)
    (cache.root / "wheels-v1" / "local" / f"{other.name}.sha256").unlink()
    return orphan


def test_prune_removes_leftovers_and_unreferenced(tmp_path: Path, wheel: Path) -> None:
    cache = Cache(tmp_path / "c")
    kept = cache.unpack_wheel(wheel)
    orphan = _unreferenced(cache, tmp_path)
    leftover = tmp_path / "c" / "archive-v1" / f".tmp-{'a' * 64}-crashed"
    (leftover / "tree").mkdir(parents=True)
    pinned = cache.unpack_wheel(build_wheel(tmp_path / "w3", Dist("pinned", "1.0")))
    (tmp_path / "c" / "wheels-v1" / "local" / "pinned-1.0-py3-none-any.whl.sha256").unlink()

    removed = cache.prune(keep=[pinned.name])
    assert orphan in removed
    assert leftover in removed
    assert kept.is_dir()
    assert pinned.is_dir()
    assert not orphan.exists()
    assert not leftover.exists()
    assert not (tmp_path / "c" / "archive-v1" / f"{orphan.name}.lock").exists()


def test_prune_spares_temp_folders_of_running_writers(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    archive = cache.bucket(CacheBucket.ARCHIVE)
    key = "b" * 64
    busy = archive / f".tmp-{key}-running"
    busy.mkdir()
    with FileLock(str(archive / f"{key}.lock")):
        assert cache.prune() == []
    assert busy.is_dir()
    assert busy in cache.prune()


def test_size_and_clean(tmp_path: Path, wheel: Path) -> None:
    cache = Cache(tmp_path / "c")
    tree = cache.unpack_wheel(wheel)
    before = cache.size()
    assert before > 0
    (tree / "demo" / "again.py").hardlink_to(tree / "demo" / "__init__.py")
    assert cache.size() == before  # a hardlinked file counts once
    cache.clean()
    assert list((tmp_path / "c").iterdir()) == []
    assert cache.size() == 0
    assert cache.unpacked(sha256(wheel)) is None


def test_the_manifest_suffix_matches_the_manifest_module() -> None:
    # cache.py spells the suffix out so that resolving imports no installer module.
    from resolvent.installer import cache  # noqa: PLC0415
    from resolvent.installer.manifest import manifest_path  # noqa: PLC0415

    assert manifest_path("") == cache._MANIFEST


def test_importing_the_cache_loads_no_installer_module() -> None:
    code = (
        "import sys, resolvent.installer.cache; "
        "print(sorted(m for m in sys.modules if m.startswith('resolvent.installer.') "
        "and m != 'resolvent.installer.cache'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_a_file_in_the_place_of_an_entry_is_replaced(tmp_path: Path, wheel: Path) -> None:
    cache = Cache(tmp_path / "c")
    digest = sha256(wheel)
    stray = cache.bucket(CacheBucket.ARCHIVE) / digest
    stray.write_text("not an entry")
    tree = cache.unpack_wheel(wheel, digest)
    assert (tree / "demo" / "__init__.py").is_file()


def test_prune_removes_a_linked_entry_for_good(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    archive = cache.bucket(CacheBucket.ARCHIVE)
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("not the cache's")
    (archive / ("a" * 64)).symlink_to(target)
    assert cache.prune() != []
    assert [p.name for p in archive.iterdir() if not p.name.endswith(".lock")] == []
    assert (target / "keep.txt").read_text() == "not the cache's"  # the link's target stays
    again = cache.prune()  # once removed, the link is not "removed" again on every run
    assert not [p for p in again if p.name == "a" * 64 or p.name.startswith(".tmp-trash")]


def test_an_entry_without_its_manifest_counts_as_damaged(tmp_path: Path, wheel: Path) -> None:
    from resolvent.installer.manifest import manifest_path  # noqa: PLC0415

    cache = Cache(tmp_path / "c")
    tree = cache.unpack_wheel(wheel, sha256(wheel))
    assert not cache.is_damaged(tree)
    Path(manifest_path(tree)).unlink()
    assert cache.is_damaged(tree)


def test_the_default_cache_without_a_home_folder_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from resolvent.errors import BadInputError  # noqa: PLC0415

    monkeypatch.delenv("RESOLVENT_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def missing(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    # A process as a container runs it: `HOME` unset, a uid without a passwd entry.
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", missing)
    with pytest.raises(RuntimeError):
        Path.home()  # as pathlib finds no home, the default cache finds none
    assert home_folder() is None
    with pytest.raises(BadInputError, match="no home folder for the default cache"):
        Cache.default()
    monkeypatch.setenv("RESOLVENT_CACHE_DIR", "~nosuchuser-resolvent/cache")
    with pytest.raises(BadInputError, match="RESOLVENT_CACHE_DIR"):
        Cache.default()


def test_prune_removes_memos_of_entries_that_are_gone(tmp_path: Path, wheel: Path) -> None:
    from resolvent.installer.speculate import Speculation  # noqa: PLC0415

    cache = Cache(tmp_path / "c")
    kept = cache.unpack_wheel(wheel)
    orphan = _unreferenced(cache, tmp_path)
    root = os.fspath(tmp_path / "venv")
    both = Speculation(os.fspath(cache.root), "both", root)
    both.remember([(os.fspath(kept), f"{root}/a.dist-info"), (os.fspath(orphan), f"{root}/b")])
    alone = Speculation(os.fspath(cache.root), "alone", root)
    alone.remember([(os.fspath(kept), f"{root}/a.dist-info")])
    memos = tmp_path / "c" / "installs-v1"
    (memos / "garbled").write_bytes(b"\xff\xfe not a memo")

    removed = cache.prune()
    assert orphan in removed
    assert sorted(p.name for p in memos.iterdir()) == ["alone"]  # names only what is there
    assert memos / "both" in removed
    assert memos / "garbled" in removed


def test_prune_removes_the_buckets_of_older_layouts_only(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    cache.root.mkdir(parents=True)
    (cache.root / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    for folder in ("interpreter-v1", "interpreter-v2", "archive-v0", "archive-v1", "mine-v1"):
        (cache.root / folder / "x").mkdir(parents=True)
    (cache.root / "http-v0").write_text("a file, not a bucket")
    removed = cache.prune()
    assert cache.root / "interpreter-v1" in removed
    assert cache.root / "archive-v0" in removed
    left = sorted(p.name for p in cache.root.iterdir())
    assert left == ["CACHEDIR.TAG", "archive-v1", "http-v0", "interpreter-v2", "mine-v1"]
