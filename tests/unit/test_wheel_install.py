from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from resolvent.errors import InstallError
from resolvent.installer.install import install, install_wheel, uninstall
from resolvent.installer.link import LinkMode
from resolvent.installer.record import Hash, RecordEntry, parse_record, serialize_record
from resolvent.installer.scripts import launcher_text, rewrite_shebang, shebang
from resolvent.installer.venv import Venv, create_venv
from resolvent.installer.wheel import UnpackedWheel
from tests.support.dists import Dist, build_wheel, record_hash
from tests.support.trees import snapshot

if TYPE_CHECKING:
    from resolvent.installer.cache import Cache
    from tests.unit.conftest import FailingReplace

DEMO = Dist(
    "Demo.Pkg",
    "1.0",
    files={
        "demo_pkg/__init__.py": "def main():\n    print('hello from demo')\n    return 0\n",
        "demo_pkg/sub/mod.py": "VALUE = 42\n",
        "demo_pkg-1.0.data/scripts/tool": "#!python\nimport sys\nprint('tool', sys.prefix)\n",
        "demo_pkg-1.0.data/scripts/plain.sh": "#!/bin/sh\necho plain\n",
        "demo_pkg-1.0.data/headers/demo.h": "#define DEMO 1\n",
        "demo_pkg-1.0.data/data/share/demo/data.txt": "payload\n",
        "demo_pkg-1.0.data/purelib/demo_extra.py": "EXTRA = True\n",
    },
    entry_points={
        "console_scripts": {
            "demo": "demo_pkg:main",
            "demo-mod": "demo_pkg.sub.mod:VALUE.bit_length",
        },
        "gui_scripts": {"demo-gui": "demo_pkg:main"},
    },
)


@pytest.fixture
def demo_wheel(tmp_path: Path) -> Path:
    return build_wheel(tmp_path / "wheels", DEMO)


def test_install_imports_and_runs_entry_points(venv: Venv, cache: Cache, demo_wheel: Path) -> None:
    result = install_wheel(demo_wheel, venv.destination(), cache=cache, requested=True)
    assert result.name == "Demo.Pkg"
    assert result.version == "1.0"
    assert result.link_mode is LinkMode.HARDLINK
    assert result.dist_info == venv.site_packages / "demo_pkg-1.0.dist-info"
    out = subprocess.run(
        [venv.python, "-c", "import demo_pkg.sub.mod as m, demo_extra; print(m.VALUE)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == "42\n"
    run = subprocess.run([venv.scripts / "demo"], capture_output=True, text=True, check=True)
    assert run.stdout == "hello from demo\n"
    exit_code = subprocess.run([venv.scripts / "demo-mod"], check=False).returncode
    assert exit_code == 6  # sys.exit((42).bit_length())
    assert os.access(venv.scripts / "demo-gui", os.X_OK)
    assert (venv.scripts / "demo").read_text().startswith(f"#!{venv.python}\n")


def test_data_lands_in_the_scheme(venv: Venv, cache: Cache, demo_wheel: Path) -> None:
    install_wheel(demo_wheel, venv.destination(), cache=cache)
    tool = venv.scripts / "tool"
    assert tool.read_text().splitlines()[0] == f"#!{venv.python}"
    assert os.access(tool, os.X_OK)
    run = subprocess.run([tool], capture_output=True, text=True, check=True)
    assert run.stdout == f"tool {venv.root}\n"
    assert (venv.scripts / "plain.sh").read_text() == "#!/bin/sh\necho plain\n"
    assert os.access(venv.scripts / "plain.sh", os.X_OK)
    short = f"python{venv.version[0]}.{venv.version[1]}"
    header = venv.root / "include" / "site" / short / "Demo.Pkg" / "demo.h"
    assert header.read_text() == "#define DEMO 1\n"
    assert (venv.root / "share" / "demo" / "data.txt").read_text() == "payload\n"
    assert (venv.site_packages / "demo_extra.py").is_file()
    assert not (venv.site_packages / "demo_pkg-1.0.data").exists()


def test_cache_files_are_linked_never_modified(venv: Venv, cache: Cache, demo_wheel: Path) -> None:
    tree = cache.unpack_wheel(demo_wheel)
    before = snapshot(tree)
    install(UnpackedWheel(tree), venv.destination())
    assert snapshot(tree) == before
    cached = tree / "demo_pkg" / "__init__.py"
    assert (venv.site_packages / "demo_pkg" / "__init__.py").stat().st_ino == cached.stat().st_ino
    cached_tool = tree / "demo_pkg-1.0.data" / "scripts" / "tool"
    assert (venv.scripts / "tool").stat().st_ino != cached_tool.stat().st_ino
    assert cached_tool.read_text().startswith("#!python\n")
    cached_record = tree / "demo_pkg-1.0.dist-info" / "RECORD"
    assert (result_record := venv.site_packages / "demo_pkg-1.0.dist-info" / "RECORD").exists()
    assert result_record.stat().st_ino != cached_record.stat().st_ino


def test_record_lists_every_installed_file(venv: Venv, cache: Cache, demo_wheel: Path) -> None:
    existing = {os.path.normpath(venv.root / name) for name in snapshot(venv.root)}
    result = install_wheel(
        demo_wheel,
        venv.destination(),
        cache=cache,
        requested=True,
        direct_url={"url": "file:///wheels/demo.whl", "archive_info": {}},
    )
    text = (result.dist_info / "RECORD").read_text()
    rows = list(csv.reader(text.splitlines()))
    assert all(len(row) == 3 for row in rows)
    listed = set()
    for path, digest, size in rows:
        target = os.path.normpath(venv.site_packages / path)
        listed.add(target)
        if path.endswith("dist-info/RECORD"):
            assert (digest, size) == ("", "")
            continue
        data = Path(target).read_bytes()
        assert digest == record_hash(data), path
        assert int(size) == len(data), path
    on_disk = {
        os.path.normpath(Path(folder, name))
        for folder, _, files in os.walk(venv.root)
        for name in files
    } - existing
    assert on_disk == listed
    info = result.dist_info
    assert (info / "INSTALLER").read_text() == "resolvent\n"
    assert (info / "REQUESTED").read_bytes() == b""
    assert json.loads((info / "direct_url.json").read_text())["url"] == "file:///wheels/demo.whl"
    scripts = {row[0] for row in rows if "/bin/" in f"/{row[0]}"}
    short = f"python{venv.version[0]}.{venv.version[1]}"
    assert "../../../bin/demo" in scripts
    assert f"../../../include/site/{short}/Demo.Pkg/demo.h" in {row[0] for row in rows}


def test_not_requested_and_no_direct_url(venv: Venv, cache: Cache, demo_wheel: Path) -> None:
    result = install_wheel(demo_wheel, venv.destination(), cache=cache)
    assert not (result.dist_info / "REQUESTED").exists()
    assert not (result.dist_info / "direct_url.json").exists()


def test_install_without_cache_and_with_copy(venv: Venv, demo_wheel: Path) -> None:
    result = install_wheel(demo_wheel, venv.destination(LinkMode.COPY))
    assert result.link_mode is LinkMode.COPY
    assert (venv.site_packages / "demo_pkg" / "sub" / "mod.py").read_text() == "VALUE = 42\n"


def test_bytecode_is_compiled_on_request(venv: Venv, cache: Cache, demo_wheel: Path) -> None:
    install_wheel(demo_wheel, venv.destination(), cache=cache)
    assert not (venv.site_packages / "demo_pkg" / "__pycache__").exists()
    install_wheel(demo_wheel, venv.destination(), cache=cache, compile_bytecode=True)
    assert list((venv.site_packages / "demo_pkg" / "__pycache__").glob("__init__.*.pyc"))
    assert list((venv.site_packages / "demo_pkg" / "sub" / "__pycache__").glob("mod.*.pyc"))


def test_platlib_root(venv: Venv, tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "w", Dist("native", "1.0"))
    patched = tmp_path / "p" / wheel.name
    patched.parent.mkdir()
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(patched, "w") as target:
        files = {name: source.read(name) for name in source.namelist()}
        info = "native-1.0.dist-info"
        files[f"{info}/WHEEL"] = files[f"{info}/WHEEL"].replace(
            b"Root-Is-Purelib: true", b"Root-Is-Purelib: false"
        )
        entries = [
            RecordEntry(name, Hash.parse(record_hash(data)), len(data))
            for name, data in files.items()
            if not name.endswith("RECORD")
        ]
        files[f"{info}/RECORD"] = serialize_record([*entries, RecordEntry(f"{info}/RECORD")])
        for name, data in files.items():
            target.writestr(name, data)
    result = install_wheel(patched, venv.destination())
    assert result.dist_info == venv.platlib / "native-1.0.dist-info"


def test_upgrade_replaces_the_old_version(venv: Venv, cache: Cache, tmp_path: Path) -> None:
    old = Dist("demo", "1.0", files={"demo/__init__.py": "V = 1\n", "demo/old_only.py": ""})
    new = Dist("demo", "2.0", files={"demo/__init__.py": "V = 2\n"})
    install_wheel(build_wheel(tmp_path / "w", old), venv.destination(), cache=cache)
    install_wheel(build_wheel(tmp_path / "w", new), venv.destination(), cache=cache)
    assert not (venv.site_packages / "demo" / "old_only.py").exists()
    assert not (venv.site_packages / "demo-1.0.dist-info").exists()
    assert (venv.site_packages / "demo" / "__init__.py").read_text() == "V = 2\n"


def test_uninstall_by_record(venv: Venv, cache: Cache, demo_wheel: Path) -> None:
    before = snapshot(venv.root)
    install_wheel(demo_wheel, venv.destination(), cache=cache, compile_bytecode=True)
    removed = uninstall(venv.site_packages, "demo-pkg")
    assert str(venv.scripts / "demo") in removed
    after = snapshot(venv.root)
    assert after == before
    with pytest.raises(InstallError, match="not installed"):
        uninstall(venv.site_packages, "demo-pkg")


def test_a_record_field_over_the_csv_limit_is_malformed(
    venv: Venv, cache: Cache, demo_wheel: Path
) -> None:
    """csv refuses fields over 131,072 characters with ``csv.Error``, not ``ValueError``."""
    with pytest.raises(ValueError, match=r"^line 2: field larger than field limit"):
        parse_record("a.py,,\n" + "b" * 140_000 + ",,\n")
    with pytest.raises(ValueError, match=r"^line 1: field larger than field limit"):
        parse_record('"' + "x" * 140_000 + "\n")
    install_wheel(demo_wheel, venv.destination(), cache=cache)
    with (venv.site_packages / "demo_pkg-1.0.dist-info" / "RECORD").open("a") as stream:
        stream.write("demo_pkg/" + "a" * 140_000 + ",,\n")
    before = snapshot(venv.root)
    with pytest.raises(InstallError, match="field larger than field limit"):
        uninstall(venv.site_packages, "demo-pkg")
    assert snapshot(venv.root) == before


def test_uninstall_refuses_paths_outside_the_environment(
    venv: Venv, cache: Cache, demo_wheel: Path, tmp_path: Path
) -> None:
    result = install_wheel(demo_wheel, venv.destination(), cache=cache)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    record = result.dist_info / "RECORD"
    entries = parse_record(record.read_text())
    escape = os.path.relpath(victim, venv.site_packages)
    record.write_bytes(serialize_record([*entries, RecordEntry(escape)]))
    before = snapshot(venv.root)
    with pytest.raises(InstallError, match="outside"):
        uninstall(venv.site_packages, "demo.pkg")
    assert victim.read_text() == "keep me"
    assert snapshot(venv.root) == before


@pytest.mark.parametrize("where", ["package folder", "site-packages", "dist-info"])
def test_uninstall_never_follows_a_symlink_out_of_the_environment(
    venv: Venv, cache: Cache, demo_wheel: Path, tmp_path: Path, where: str
) -> None:
    """RECORD paths that are inside as written but reach outside through a link are refused."""
    result = install_wheel(demo_wheel, venv.destination(), cache=cache)
    victim = tmp_path / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "f.txt").write_text("keep me")
    (victim / "sub" / "g.txt").write_text("keep me")
    record = result.dist_info / "RECORD"
    entries = parse_record(record.read_text())
    if where == "dist-info":
        moved = victim / result.dist_info.name
        result.dist_info.rename(moved)
        result.dist_info.symlink_to(moved)
    else:
        folder = "demo_pkg/link" if where == "package folder" else "linked"
        (venv.site_packages / folder).symlink_to(victim)
        extra = [RecordEntry(f"{folder}/f.txt"), RecordEntry(f"{folder}/sub/g.txt")]
        record.write_bytes(serialize_record([*entries, *extra]))
    before = snapshot(victim)
    with pytest.raises(InstallError, match="symbolic link leads"):
        uninstall(venv.site_packages, "demo.pkg")
    assert snapshot(victim) == before


def test_failure_while_moving_into_place_restores_everything(
    venv: Venv,
    cache: Cache,
    upgrade_wheel: Path,
    monkeypatch: pytest.MonkeyPatch,
    failing_replace: FailingReplace,
) -> None:
    before = snapshot(venv.root)
    calls = failing_replace(8, lambda _src, _dst: OSError(28, "No space left on device"))
    with pytest.raises(InstallError, match="No space"):
        install_wheel(upgrade_wheel, venv.destination(), cache=cache)
    monkeypatch.undo()
    assert len(calls) > 8  # the failing move, then the rollback moving files back
    assert snapshot(venv.root) == before


def test_failure_while_staging_leaves_nothing(
    venv: Venv, cache: Cache, demo_wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(venv.root)

    def broken(*_: object, **__: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr("resolvent.installer.install.launcher_text", broken)
    with pytest.raises(RuntimeError, match="boom"):
        install_wheel(demo_wheel, venv.destination(), cache=cache)
    assert snapshot(venv.root) == before


def test_shebangs() -> None:
    assert shebang("/venv/bin/python") == "#!/venv/bin/python\n"
    long = "/" + "x" * 130 + "/python"
    assert shebang(long).startswith("#!/bin/sh\n'''exec' '")
    assert (
        shebang("/my venv/bin/python").splitlines()[1]
        == "'''exec' '/my venv/bin/python' \"$0\" \"$@\""
    )
    assert rewrite_shebang(b"#!python\nx\n", "/v/python") == b"#!/v/python\nx\n"
    assert rewrite_shebang(b"#!pythonw -u\r\nx", "/v/python") == b"#!/v/python -u\nx"
    assert rewrite_shebang(b"#!/usr/bin/env python\n", "/v/python") is None
    assert rewrite_shebang(b"#!python3\n", "/v/python") is None


def test_launcher_runs_with_a_space_in_the_path(tmp_path: Path) -> None:
    venv = create_venv(tmp_path / "with space" / "env", python=Path(sys.executable))
    wheel = build_wheel(
        tmp_path / "w",
        Dist(
            "sp",
            "1.0",
            files={"sp/__init__.py": "def main():\n    print('spaced')\n"},
            entry_points={"console_scripts": {"sp": "sp:main"}},
        ),
    )
    install_wheel(wheel, venv.destination())
    text = (venv.scripts / "sp").read_text()
    assert text.startswith("#!/bin/sh\n")
    run = subprocess.run([venv.scripts / "sp"], capture_output=True, text=True, check=True)
    assert run.stdout == "spaced\n"


def test_launcher_template() -> None:
    text = launcher_text("/v/bin/python", "pkg.cli", "App.main")
    assert "from pkg.cli import App\n" in text
    assert "sys.exit(App.main())" in text


def installed_record(venv: Venv, dist_info: str) -> dict[str, tuple[str, str]]:
    text = (venv.site_packages / dist_info / "RECORD").read_text(encoding="utf-8")
    return {row[0]: (row[1], row[2]) for row in csv.reader(text.splitlines()) if row}


def test_stored_manifest_and_validated_tree_install_the_same(
    tmp_path: Path, cache: Cache, demo_wheel: Path
) -> None:
    tree = cache.unpack_wheel(demo_wheel)
    manifest = cache.manifest(tree)
    assert manifest is not None
    assert manifest == UnpackedWheel(tree).manifest()  # stored == recomputed from the tree
    fast = create_venv(tmp_path / "fast", python=Path(sys.executable))
    slow = create_venv(tmp_path / "slow", python=Path(sys.executable))
    install(UnpackedWheel(tree, manifest=manifest), fast.destination())
    install(UnpackedWheel(tree), slow.destination())

    def relative(venv: Venv) -> dict[str, bytes | None]:
        return {
            name: data
            for name, data in snapshot(venv.root).items()
            if not name.startswith(("bin/python", "bin/activate", "pyvenv.cfg"))
        }

    assert relative(fast).keys() == relative(slow).keys()
    dist_info = "demo_pkg-1.0.dist-info"
    fast_record = installed_record(fast, dist_info)
    slow_record = installed_record(slow, dist_info)
    assert fast_record.keys() == slow_record.keys()

    def same_everywhere(record: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        # Scripts name each venv's own interpreter, so their hashes differ.
        return {path: row for path, row in record.items() if "/bin/" not in path}

    assert same_everywhere(fast_record) == same_everywhere(slow_record)


def test_manifest_install_ignores_files_planted_in_the_cache(
    venv: Venv, cache: Cache, demo_wheel: Path
) -> None:
    tree = cache.unpack_wheel(demo_wheel)
    (tree / "demo_pkg" / "planted.py").write_text("raise SystemExit('planted')\n")
    (tree / "demo_pkg" / "out").symlink_to("../../..")
    install(UnpackedWheel(tree, manifest=cache.manifest(tree)), venv.destination())
    assert (venv.site_packages / "demo_pkg" / "__init__.py").is_file()
    assert not (venv.site_packages / "demo_pkg" / "planted.py").exists()
    assert not os.path.lexists(venv.site_packages / "demo_pkg" / "out")


def test_damaged_or_unsafe_manifest_is_not_used(cache: Cache, demo_wheel: Path) -> None:
    tree = cache.unpack_wheel(demo_wheel)
    path = Path(f"{tree}.manifest")
    good = path.read_bytes()
    head, newline, record = good.partition(b"\n")
    assert newline  # the JSON line, then the RECORD rows
    assert record.startswith(b"demo_pkg-1.0.dist-info/METADATA,sha256=")
    path.write_bytes(good[: len(head) // 2])
    assert cache.manifest(tree) is None
    path.write_bytes(head)  # the rows' separator gone: a cut file
    assert cache.manifest(tree) is None

    def with_head(payload: dict[str, object]) -> bytes:
        return json.dumps(payload, separators=(",", ":")).encode() + b"\n" + record

    escape = json.loads(head)
    escape["files"].append("../../evil.py")
    path.write_bytes(with_head(escape))
    assert cache.manifest(tree) is None
    elsewhere = json.loads(head)
    elsewhere["data"].append(["demo_pkg-1.0.data/root/evil.py", False, "", -1])
    path.write_bytes(with_head(elsewhere))
    assert cache.manifest(tree) is None  # not one of the five scheme keys
    older = json.loads(head)
    older["layout"], older["record"] = 1, record.decode()
    path.write_text(json.dumps(older), encoding="utf-8")  # the first layout: one JSON text
    assert cache.manifest(tree) is None
    path.write_bytes(good[: len(head) + 1] + b"\xff" + record)  # rows that are not UTF-8
    assert cache.manifest(tree) is None
    path.write_bytes(good)
    manifest = cache.manifest(tree)
    assert manifest is not None
    assert manifest.record == record.decode()
    assert manifest.to_bytes() == good
    path.unlink()
    assert cache.manifest(tree) is None


def test_upgrade_merges_into_existing_folders_and_namespace_packages(
    venv: Venv, cache: Cache, tmp_path: Path
) -> None:
    old = Dist("demo", "1.0", files={"demo/__init__.py": "V = 1\n", "demo/old_only.py": ""})
    new = Dist("demo", "2.0", files={"demo/__init__.py": "V = 2\n", "demo/sub/new.py": ""})
    one = Dist("nsone", "1.0", files={"shared_ns/one/__init__.py": "A = 1\n"})
    two = Dist("nstwo", "1.0", files={"shared_ns/two/__init__.py": "B = 2\n"})
    for dist in (old, new, one, two):
        install_wheel(build_wheel(tmp_path / "w", dist), venv.destination(), cache=cache)
    site = venv.site_packages
    assert (site / "demo" / "__init__.py").read_text() == "V = 2\n"
    assert (site / "demo" / "sub" / "new.py").is_file()
    assert not (site / "demo" / "old_only.py").exists()
    assert not (site / "demo-1.0.dist-info").exists()
    assert (site / "shared_ns" / "one" / "__init__.py").is_file()
    assert (site / "shared_ns" / "two" / "__init__.py").is_file()
    staging = [p for p in venv.root.iterdir() if p.name.startswith(".resolvent-staging-")]
    assert staging == []


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o027])
def test_unpacked_modes_do_not_depend_on_the_umask(
    cache: Cache, demo_wheel: Path, umask: int
) -> None:
    previous = os.umask(umask)
    try:
        tree = cache.unpack_wheel(demo_wheel)
    finally:
        os.umask(previous)
    assert (tree / "demo_pkg" / "__init__.py").stat().st_mode & 0o777 == 0o644
    assert (tree / "demo_pkg-1.0.data" / "scripts" / "tool").stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize(
    ("paths", "unsafe"),
    [
        (["demo/__init__.py", "demo-1.0.dist-info/METADATA"], False),
        (["demo/..x", "...", ".hidden/a", "a./b"], False),
        (["/etc/passwd"], True),
        (["demo/../../x"], True),
        (["..", "a"], True),
        (["a", "./b"], True),
        (["a/."], True),
        (["a//b"], True),
        (["a/"], True),
        (["a", ""], True),
        (["a\\b"], True),
        (["a\x00b"], True),
        (["a\n/b"], True),
    ],
)
def test_manifest_path_check(paths: list[str], unsafe: bool) -> None:
    from resolvent.installer.manifest import _unsafe_paths  # noqa: PLC0415

    assert _unsafe_paths("\n".join(paths)) is unsafe


def test_finding_an_installed_project_normalizes_each_folder_name_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An install of many wheels looks each up among those before it: names are cached."""
    from resolvent.installer import destination  # noqa: PLC0415

    site = tmp_path / "site"
    for number in range(20):
        (site / f"Pkg_{number}-1.0.dist-info").mkdir(parents=True)
    (site / "not_a_folder-1.0.dist-info").write_text("")
    calls: list[str] = []
    real = destination.canonicalize_name  # type: ignore[attr-defined]

    def counting(name: str) -> str:
        calls.append(name)
        return real(name)

    monkeypatch.setattr(destination, "canonicalize_name", counting)
    destination._dist_info_project.cache_clear()
    for number in range(20):
        found = destination.find_installed(site, f"pkg.{number}")
        assert found == site / f"Pkg_{number}-1.0.dist-info"
    assert destination.find_installed(site, "not-a-folder") is None
    assert destination.find_installed(site, "missing") is None
    assert len(calls) <= 21 + 22  # each folder name once, each project asked for once


def test_record_is_written_but_not_hashed(
    venv: Venv, cache: Cache, demo_wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RECORD names itself without a hash: hashing its text (MBs for big wheels) is waste."""
    hashed: list[bytes] = []
    real = Hash.of

    def recording(data: bytes, name: str = "sha256") -> Hash:
        hashed.append(data)
        return real(data, name)

    monkeypatch.setattr(Hash, "of", staticmethod(recording))
    result = install_wheel(demo_wheel, venv.destination(), cache=cache, requested=True)
    record = (result.dist_info / "RECORD").read_bytes()
    assert record not in hashed
    assert b"resolvent\n" in hashed  # INSTALLER is hashed, as RECORD lists it with one
    rows = {path: digest for path, digest, _ in csv.reader(record.decode().splitlines())}
    assert rows[f"{result.dist_info.name}/RECORD"] == ""
