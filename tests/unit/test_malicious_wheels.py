from __future__ import annotations

import os
import stat
import sys
import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from resolvent.errors import InstallError, InvalidWheelError, UnsafeWheelError
from resolvent.installer.archive import WheelArchive, ZipLimits
from resolvent.installer.cache import Cache
from resolvent.installer.install import install, install_wheel
from resolvent.installer.venv import Venv, create_venv
from resolvent.installer.wheel import UnpackedWheel
from tests.support.dists import Dist, build_wheel, record_hash

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

INFO = "evil-1.0.dist-info"
METADATA = b"Metadata-Version: 2.3\nName: evil\nVersion: 1.0\n\n"
WHEEL = b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n"

Entry = tuple[str, bytes] | tuple[str, bytes, int]


def craft(
    folder: Path,
    entries: Sequence[Entry],
    *,
    name: str = "evil-1.0-py3-none-any.whl",
    info: str = INFO,
    metadata: bytes | None = METADATA,
    wheel: bytes = WHEEL,
    record: bool = True,
    record_override: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write a wheel exactly as described: entries are (name, data[, unix mode])."""
    members: list[Entry] = list(entries)
    members.append((f"{info}/WHEEL", wheel))
    if metadata is not None:
        members.append((f"{info}/METADATA", metadata))
    if record:
        lines = []
        for member in members:
            path, data = member[0], member[1]
            override = (record_override or {}).get(path)
            lines.append(f"{path},{record_hash(override or data)},{len(data)}\n")
        lines.append(f"{info}/RECORD,,\n")
        members.append((f"{info}/RECORD", "".join(lines).encode()))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicates we want
        with zipfile.ZipFile(target, "w", compression=compression) as archive:
            for member in members:
                item = zipfile.ZipInfo(member[0], date_time=(2020, 1, 1, 0, 0, 0))
                item.compress_type = compression
                if len(member) == 3:
                    item.external_attr = member[2] << 16
                archive.writestr(item, member[1])
    return target


def link(name: str, target: str) -> Entry:
    return (name, target.encode(), stat.S_IFLNK | 0o777)


def snapshot(root: Path) -> dict[str, tuple[int, bytes | str | None]]:
    found: dict[str, tuple[int, bytes | str | None]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            if path.is_symlink():
                content: bytes | str | None = str(path.readlink())
            elif path.is_file():
                content = path.read_bytes()
            else:
                content = None
            found[str(path.relative_to(root))] = (info.st_mode, content)
    return found


GOOD: list[Entry] = [("evil/__init__.py", b"x = 1\n")]

# (id, builder(folder) -> wheel path, expected error class, fragment of the message)
CORPUS: dict[str, tuple[Callable[[Path], Path], type[InstallError], str]] = {
    "traversal": (lambda d: craft(d, [*GOOD, ("../evil.py", b"pwned")]), UnsafeWheelError, ".."),
    "nested-traversal": (
        lambda d: craft(d, [*GOOD, ("evil/../../evil.py", b"pwned")]),
        UnsafeWheelError,
        "leaves",
    ),
    "absolute": (
        lambda d: craft(d, [*GOOD, ("/tmp/evil.py", b"pwned")]),  # noqa: S108 -- the attack
        UnsafeWheelError,
        "abs",
    ),
    "drive-letter": (lambda d: craft(d, [*GOOD, ("C:/evil.py", b"x")]), UnsafeWheelError, "abs"),
    "backslash": (lambda d: craft(d, [*GOOD, ("..\\evil.py", b"x")]), UnsafeWheelError, "back"),
    "dot-component": (lambda d: craft(d, [*GOOD, ("./evil.py", b"x")]), UnsafeWheelError, "norm"),
    "symlink-out": (
        lambda d: craft(d, [*GOOD, link("evil/passwd", "../../../../etc/passwd")]),
        UnsafeWheelError,
        "out of the tree",
    ),
    "symlink-absolute": (
        lambda d: craft(d, [*GOOD, link("evil/passwd", "/etc/passwd")]),
        UnsafeWheelError,
        "absolute",
    ),
    "symlink-chain": (
        lambda d: craft(d, [*GOOD, link("evil/up", ".."), link("evil/out", "up/..")]),
        UnsafeWheelError,
        "link",
    ),
    "write-through-symlink": (
        lambda d: craft(d, [*GOOD, link("evil/sub", "."), ("evil/sub/x.py", b"x")]),
        UnsafeWheelError,
        "through the link",
    ),
    "record-hash-mismatch": (
        lambda d: craft(d, GOOD, record_override={"evil/__init__.py": b"other\n"}),
        InvalidWheelError,
        "RECORD` hash",
    ),
    "record-missing": (lambda d: craft(d, GOOD, record=False), InvalidWheelError, "RECORD"),
    "truncated-zip": (
        lambda d: truncate(craft(d, GOOD)),
        InvalidWheelError,
        "truncated or corrupt",
    ),
    "corrupt-member": (
        lambda d: corrupt(craft(d, [("evil/__init__.py", b"A" * 64)], compression=0)),
        InvalidWheelError,
        "evil/__init__.py",
    ),
    "misnamed-dist-info": (
        lambda d: craft(d, GOOD, info="other-1.0.dist-info"),
        InvalidWheelError,
        "METADATA",
    ),
    "metadata-name-mismatch": (
        lambda d: craft(d, GOOD, metadata=METADATA.replace(b"Name: evil", b"Name: good")),
        InvalidWheelError,
        "METADATA",
    ),
    "metadata-version-mismatch": (
        lambda d: craft(d, GOOD, metadata=METADATA.replace(b"Version: 1.0", b"Version: 2.0")),
        InvalidWheelError,
        "METADATA",
    ),
    "metadata-missing": (lambda d: craft(d, GOOD, metadata=None), InvalidWheelError, "METADATA"),
    "two-dist-infos": (
        lambda d: craft(d, [*GOOD, ("good-1.0.dist-info/METADATA", b"")]),
        InvalidWheelError,
        "exactly one",
    ),
    "wheel-version-2": (
        lambda d: craft(d, GOOD, wheel=WHEEL.replace(b"1.0", b"2.0", 1)),
        InvalidWheelError,
        "Wheel-Version",
    ),
    "zip-bomb-ratio": (
        lambda d: craft(d, [*GOOD, ("evil/zeros.bin", bytes(80 << 20))]),
        InvalidWheelError,
        "zip bomb",
    ),
    "duplicate-name": (
        lambda d: craft(d, [*GOOD, ("evil/__init__.py", b"y = 2\n")]),
        UnsafeWheelError,
        "twice",
    ),
    "case-duplicate": (
        lambda d: craft(d, [*GOOD, ("Evil/__init__.py", b"y = 2\n")]),
        UnsafeWheelError,
        "case",
    ),
    "file-needed-as-a-folder": (
        # No tree holds both; it used to fail halfway with the file system's "File exists".
        lambda d: craft(d, [*GOOD, ("evil/x", b"a"), ("evil/x/y", b"b")]),
        UnsafeWheelError,
        "needs as a folder",
    ),
    "unlisted-file": (
        lambda d: add_member(craft(d, GOOD), "evil/extra.py", b"x"),
        InvalidWheelError,
        "not listed",
    ),
    "record-lists-missing-file": (
        lambda d: drop_member(craft(d, [*GOOD, ("evil/gone.py", b"x")]), "evil/gone.py"),
        InvalidWheelError,
        "missing",
    ),
    "record-field-over-the-csv-limit": (
        # An unterminated quote makes the rest of RECORD one field: csv.Error, not ValueError.
        lambda d: extend_record(craft(d, GOOD), b'"' + b"x" * 140_000 + b"\n"),
        InvalidWheelError,
        "line 5: field larger than field limit",
    ),
    "unknown-data-key": (
        lambda d: craft(d, [*GOOD, ("evil-1.0.data/lib/x.py", b"x")]),
        InvalidWheelError,
        ".data",
    ),
    "entry-point-traversal": (
        lambda d: build_wheel(
            d, Dist("evil", "1.0", entry_points={"console_scripts": {"../../x": "evil:main"}})
        ),
        UnsafeWheelError,
        "unsafe name",
    ),
    "entry-point-code": (
        lambda d: build_wheel(
            d,
            Dist("evil", "1.0", entry_points={"console_scripts": {"x": "os; os.system('y'):m"}}),
        ),
        UnsafeWheelError,
        "malformed target",
    ),
}


def truncate(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def corrupt(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    index = data.index(b"A" * 64)
    data[index + 10] = ord("B")
    path.write_bytes(bytes(data))
    return path


def add_member(path: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(name, data)
    return path


def extend_record(path: Path, data: bytes) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = [(item, archive.read(item)) for item in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for item, content in members:
            extra = data if item.filename.endswith("/RECORD") else b""
            archive.writestr(item, content + extra)
    return path


def drop_member(path: Path, name: str) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = [(item, archive.read(item)) for item in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for item, data in members:
            if item.filename != name:
                archive.writestr(item, data)
    return path


@pytest.fixture(scope="module")
def base_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return create_venv(tmp_path_factory.mktemp("venv") / "env", python=Path(sys.executable))


@pytest.fixture
def venv(base_venv: Venv) -> Venv:
    return base_venv


@pytest.mark.parametrize("case", sorted(CORPUS))
@pytest.mark.parametrize("via", ["cache", "direct"])
def test_malicious_wheel_is_refused_and_writes_nothing(
    case: str, via: str, tmp_path: Path, venv: Venv
) -> None:
    builder, error, fragment = CORPUS[case]
    wheel = builder(tmp_path / "wheels")
    assert isinstance(wheel, Path)
    cache = Cache(tmp_path / "cache")
    before = snapshot(venv.root)
    with pytest.raises(error) as raised:
        install_wheel(wheel, venv.destination(), cache=cache if via == "cache" else None)
    message = str(raised.value)
    assert fragment in message
    assert wheel.name in message
    assert isinstance(raised.value, InstallError)
    assert isinstance(raised.value, ValueError)
    assert snapshot(venv.root) == before
    # Nothing outside the target: no planted file anywhere near, no cache entry.
    for planted in (tmp_path / "evil.py", tmp_path / "wheels" / "evil.py", Path("/tmp/evil.py")):  # noqa: S108
        assert not planted.exists()
    archive = tmp_path / "cache" / "archive-v1"
    leftovers = [p.name for p in archive.iterdir()] if archive.exists() else []
    assert [name for name in leftovers if not name.endswith(".lock")] == []


def test_validate_checks_without_writing(tmp_path: Path) -> None:
    wheel = craft(tmp_path, [*GOOD, ("../evil.py", b"pwned")])
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(UnsafeWheelError, match="leaves the destination"):
        WheelArchive(wheel).validate()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_total_size_limit(tmp_path: Path) -> None:
    wheel = craft(tmp_path, [*GOOD, ("evil/data.bin", os.urandom(4096))])
    with pytest.raises(InvalidWheelError, match="over the limit"):
        WheelArchive(wheel, limits=ZipLimits(max_total_size=1024)).validate()


def test_in_tree_symlink_is_allowed(tmp_path: Path) -> None:
    wheel = craft(tmp_path, [*GOOD, link("evil/alias.py", "__init__.py")])
    target = tmp_path / "tree"
    WheelArchive(wheel).extract(target)
    assert (target / "evil" / "alias.py").readlink() == Path("__init__.py")


def test_tampered_cache_tree_is_refused_when_verifying(tmp_path: Path, venv: Venv) -> None:
    wheel = craft(tmp_path / "wheels", GOOD)
    tree = Cache(tmp_path / "cache").unpack_wheel(wheel)
    (tree / "evil" / "__init__.py").write_bytes(b"tampered\n")
    before = snapshot(venv.root)
    with pytest.raises(InvalidWheelError, match="RECORD` hash"):
        install(UnpackedWheel(tree, verify_hashes=True), venv.destination())
    assert snapshot(venv.root) == before


def test_tree_with_planted_escape_link_is_refused(tmp_path: Path, venv: Venv) -> None:
    wheel = craft(tmp_path / "wheels", GOOD)
    tree = Cache(tmp_path / "cache").unpack_wheel(wheel)
    (tree / "evil" / "out").symlink_to("../../..")
    with pytest.raises(UnsafeWheelError, match="out of the tree"):
        install(UnpackedWheel(tree), venv.destination())
