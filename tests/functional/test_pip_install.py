"""The install workflow through the real CLI: venv, pip install/sync/uninstall/list/verify.

Every test installs from a local index on 127.0.0.1 (wheels and sdists built here) into
venvs created by ``resolvent venv``, running the click commands in process with a
hermetic environment, and runs installed scripts as real subprocesses.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from resolvent.cli import cli
from resolvent.installer.destination import _removal_rank
from tests.support.dists import Dist, build_sdist, build_wheel, write_project
from tests.support.environment import hermetic_env
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from resolvent.index.serve import IndexServer

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

DISTS = [
    Dist(
        "alpha",
        "1.0",
        requires=["beta>=1", "gamma; python_version < '3'"],
        extras={"fast": ["delta"]},
        entry_points={"console_scripts": {"alpha-run": "alpha:main"}},
        files={"alpha/__init__.py": "def main():\n    print('alpha ran')\n"},
    ),
    Dist("beta", "1.0"),
    Dist("beta", "2.0"),
    Dist("gamma", "1.0"),
    Dist("delta", "0.5"),
    Dist("kappa", "1.0"),
    Dist("kappa", "2.0"),
    Dist("kappa", "3.0b1"),
    Dist("mu", "1.0", requires=["kappa", "beta>=2"]),
    Dist(
        "datapkg",
        "1.0",
        files={
            "nspkg/datapkg/__init__.py": "VALUE = 42\n",
            "datapkg-1.0.data/scripts/datatool": "#!python\nprint('datatool ran')\n",
            "datapkg-1.0.data/data/share/datapkg/info.txt": "data\n",
            "datapkg-1.0.data/headers/datapkg.h": "/* header */\n",
        },
    ),
]


class Runner:
    """Runs ``resolvent`` commands in process against one cache."""

    def __init__(self, cache: Path, index: str) -> None:
        self.cache = cache
        self.index = index
        self._runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = self._runner.invoke(cli, list(args), env=hermetic_env(self.cache))
        assert result.exit_code == code, (result.output, result.exception)
        if code:
            assert "Traceback" not in result.output
        return result

    def install(self, venv: Path, *args: str, code: int = 0) -> Result:
        return self("pip", "install", "--python", str(venv), "-i", self.index, *args, code=code)

    def venv(self, path: Path) -> Path:
        self("venv", str(path))
        return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    folder = tmp_path_factory.mktemp("index")
    build_sdist(
        folder / "index",
        Dist(
            "srconly",
            "1.0",
            requires=["beta"],
            entry_points={"console_scripts": {"srconly": "srconly:main"}},
            files={"srconly/__init__.py": "def main():\n    print('built ok')\n"},
        ),
        in_tree_backend=True,
    )
    with serve_dists(folder, DISTS) as running:
        yield running


@pytest.fixture
def rv(tmp_path: Path, server: IndexServer) -> Runner:
    return Runner(tmp_path / "cache", server.url)


def site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{PY}" / "site-packages"


def freeze(rv: Runner, venv: Path) -> list[str]:
    return rv("pip", "freeze", "--python", str(venv)).stdout.split()


def run_python(venv: Path, code: str) -> str:
    completed = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout.strip()


def test_install_with_deps_extras_markers_and_scripts(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    result = rv.install(venv, "alpha[fast]")
    assert "+ alpha==1.0" in result.stderr
    assert freeze(rv, venv) == ["alpha==1.0", "beta==2.0", "delta==0.5"]  # no gamma: marker
    script = subprocess.run(
        [str(venv / "bin" / "alpha-run")], capture_output=True, text=True, check=True, timeout=60
    )
    assert script.stdout == "alpha ran\n"
    site = site_packages(venv)
    assert (site / "alpha-1.0.dist-info" / "INSTALLER").read_text() == "resolvent\n"
    assert (site / "alpha-1.0.dist-info" / "REQUESTED").exists()
    assert not (site / "beta-2.0.dist-info" / "REQUESTED").exists()
    rv("pip", "check", "--python", str(venv))
    rv("pip", "verify", "--python", str(venv))
    shown = rv("pip", "show", "--python", str(venv), "alpha").stdout
    assert "Name: alpha\nVersion: 1.0\n" in shown
    assert "Requires: beta\n" in shown
    listed = json.loads(rv("pip", "list", "--python", str(venv), "--format", "json").stdout)
    assert [row["name"] for row in listed] == ["alpha", "beta", "delta"]
    columns = rv("pip", "list", "--python", str(venv)).stdout.splitlines()
    assert columns[0].split() == ["Package", "Version"]
    assert columns[2].split() == ["alpha", "1.0"]


def test_data_scripts_headers_and_namespace_packages(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "datapkg")
    assert run_python(venv, "from nspkg.datapkg import VALUE; print(VALUE)") == "42"
    assert (venv / "share" / "datapkg" / "info.txt").read_text() == "data\n"
    assert (venv / "include" / "site" / f"python{PY}" / "datapkg" / "datapkg.h").exists()
    tool = venv / "bin" / "datatool"
    assert tool.read_text().startswith(f"#!{venv / 'bin' / 'python'}\n")
    out = subprocess.run([str(tool)], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout == "datatool ran\n"
    rv("pip", "verify", "--python", str(venv))


def test_prefers_installed_versions_unless_upgrading(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "beta==1.0")
    rv.install(venv, "alpha")
    assert freeze(rv, venv) == ["alpha==1.0", "beta==1.0"]
    rv.install(venv, "alpha", "--upgrade")
    assert freeze(rv, venv) == ["alpha==1.0", "beta==2.0"]
    result = rv.install(venv, "alpha")
    assert "Audited" in result.stderr


def test_a_conflict_moves_only_the_installed_version_it_involves(
    rv: Runner, tmp_path: Path
) -> None:
    # Installed versions are preferences, as in uv: mu needs beta>=2, so beta moves,
    # and kappa, which mu also needs, stays at its installed 1.0 (not the newest 2.0).
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "beta==1.0", "kappa==1.0")
    rv.install(venv, "mu")
    assert freeze(rv, venv) == ["beta==2.0", "kappa==1.0", "mu==1.0"]


def test_upgrade_package_and_reinstall_package_name_one_project(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "beta==1.0", "kappa==1.0")
    # -P frees beta alone: kappa keeps its installed version.
    rv.install(venv, "beta", "kappa", "-P", "BETA")
    assert freeze(rv, venv) == ["beta==2.0", "kappa==1.0"]
    result = rv.install(venv, "beta", "kappa", "--reinstall-package", "kappa")
    assert [line for line in result.stderr.splitlines() if line.startswith(" ")] == [
        " - kappa==1.0",
        " + kappa==1.0",
    ]


def test_override_resolution_and_prerelease(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    overrides = tmp_path / "overrides.txt"
    overrides.write_text("beta==1.0\n")  # alpha asks for beta>=1; the override pins it
    rv.install(venv, "alpha", "--override", str(overrides), "--dry-run")
    result = rv.install(venv, "alpha", "--override", str(overrides))
    assert freeze(rv, venv) == ["alpha==1.0", "beta==1.0"], result.stderr
    lowest = rv.venv(tmp_path / "lowest")
    rv.install(lowest, "kappa", "--resolution", "lowest")
    assert freeze(rv, lowest) == ["kappa==1.0"]
    result = rv.install(lowest, "kappa", "--prerelease", "allow", "-U", "--dry-run")
    assert " + kappa==3.0b1" in result.stderr.splitlines()


def test_list_outdated(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "beta==1.0", "kappa==1.0", "delta")
    where = ("--python", str(venv), "-i", rv.index)
    assert rv("pip", "list", "--outdated", *where).stdout.splitlines() == [
        "Package Version Latest Type",
        "------- ------- ------ -----",
        "beta    1.0     2.0    wheel",
        "kappa   1.0     2.0    wheel",  # not the pre-release 3.0b1
    ]
    rows = json.loads(rv("pip", "list", "--outdated", "--format", "json", *where).stdout)
    assert rows[0] == {
        "name": "beta",
        "version": "1.0",
        "latest_version": "2.0",
        "latest_filetype": "wheel",
    }
    excluded = rv("pip", "list", "--outdated", "--exclude", "beta", *where).stdout
    assert excluded.splitlines()[2:] == ["kappa   1.0     2.0    wheel"]


def test_tree(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "alpha[fast]", "mu")
    where = ("--python", str(venv))
    assert rv("pip", "tree", *where).stdout.splitlines() == [
        "alpha v1.0",
        "└── beta v2.0",
        "delta v0.5",  # the user asked for alpha's extra; no installed package did
        "mu v1.0",
        "├── beta v2.0",
        "└── kappa v2.0",
    ]
    assert rv("pip", "tree", "--invert", "--package", "beta", *where).stdout.splitlines() == [
        "beta v2.0",
        "├── alpha v1.0",
        "└── mu v1.0",
    ]
    shown = rv("pip", "tree", "--show-version-specifiers", "--prune", "alpha", *where).stdout
    assert shown.splitlines() == [
        "delta v0.5",
        "mu v1.0",
        "├── beta v2.0 [required: >=2]",
        "└── kappa v2.0 [required: *]",
    ]
    depth = rv("pip", "tree", "--depth", "0", *where).stdout.splitlines()
    assert depth == ["alpha v1.0", "delta v0.5", "mu v1.0"]


def test_dry_run_says_what_would_change_and_changes_nothing(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "beta==1.0")
    before = sorted(p.name for p in site_packages(venv).iterdir())
    archives = tmp_path / "cache" / "archive-v1"
    cached = sorted(archives.iterdir())
    result = rv.install(venv, "alpha", "beta==2.0", "--dry-run")
    assert result.stderr.splitlines()[1:] == [
        "Would download 2 packages",
        "Would uninstall 1 package",
        "Would install 2 packages",
        " + alpha==1.0",
        " - beta==1.0",
        " + beta==2.0",
    ]
    assert sorted(p.name for p in site_packages(venv).iterdir()) == before
    assert sorted(archives.iterdir()) == cached  # nothing was downloaded either
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("gamma==1.0\n")
    result = rv(
        "pip", "sync", "--python", str(venv), "-i", rv.index, str(requirements), "--dry-run"
    )
    assert result.stderr.splitlines()[1:] == [
        "Would download 1 package",
        "Would uninstall 1 package",
        "Would install 1 package",
        " - beta==1.0",
        " + gamma==1.0",
    ]
    result = rv.install(venv, "beta", "--dry-run")
    assert result.stderr.splitlines()[1:] == ["Would make no changes"]
    assert freeze(rv, venv) == ["beta==1.0"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_require_hashes(rv: Runner, tmp_path: Path, server: IndexServer) -> None:
    venv = rv.venv(tmp_path / "venv")
    alpha = _sha256(server.folder / "alpha-1.0-py3-none-any.whl")
    beta = _sha256(server.folder / "beta-2.0-py3-none-any.whl")
    good = tmp_path / "good.txt"
    good.write_text(
        f"alpha==1.0 --hash=sha256:{alpha}\nbeta==2.0 \\\n    --hash=sha256:{'0' * 64} "
        f"--hash=sha256:{beta}\n"
    )
    rv.install(venv, "-r", str(good), "--require-hashes")
    assert freeze(rv, venv) == ["alpha==1.0", "beta==2.0"]

    missing = tmp_path / "missing.txt"
    missing.write_text(f"alpha==1.0 --hash=sha256:{alpha}\n")
    result = rv.install(rv.venv(tmp_path / "v2"), "-r", str(missing), "--require-hashes", code=2)
    assert "beta==2.0` has no `--hash`" in result.stderr

    unpinned = tmp_path / "unpinned.txt"
    unpinned.write_text(f"alpha>=1.0 --hash=sha256:{alpha}\n")
    result = rv.install(venv, "-r", str(unpinned), "--require-hashes", code=2)
    assert "must be pinned" in result.stderr


def test_wrong_hash_is_refused_before_unpacking(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(f"delta==0.5 --hash=sha256:{'a' * 64}\n")
    result = rv.install(venv, "-r", str(wrong), code=1)
    assert "hash mismatch for `delta-0.5-py3-none-any.whl`" in result.stderr
    assert result.stderr.startswith("error: ")
    archive = rv.cache / "archive-v1"
    assert not archive.exists() or not [p for p in archive.iterdir() if len(p.name) == 64]
    assert freeze(rv, venv) == []


def test_sync_makes_the_environment_exact(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "alpha[fast]", "datapkg")
    wanted = tmp_path / "requirements.txt"
    wanted.write_text("alpha==1.0\nbeta==1.0\n")
    result = rv("pip", "sync", "--python", str(venv), "-i", rv.index, str(wanted))
    assert "- delta==0.5" in result.stderr
    assert freeze(rv, venv) == ["alpha==1.0", "beta==1.0"]
    assert not (venv / "bin" / "datatool").exists()
    assert not (venv / "share" / "datapkg").exists()
    rv("pip", "verify", "--python", str(venv))


def test_empty_requirements_change_nothing_unless_allowed(rv: Runner, tmp_path: Path) -> None:
    # As uv: a file emptied by mistake must not wipe the environment. `sync` used to
    # remove everything; `install -r` refused with "no requirements given".
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "beta==1.0")
    empty = tmp_path / "requirements.txt"
    empty.write_text("# nothing yet\n")
    warning = f"warning: Requirements file `{empty}` does not contain any dependencies"
    result = rv("pip", "sync", "--python", str(venv), "-i", rv.index, str(empty))
    assert warning in result.stderr
    assert "--allow-empty-requirements" in result.stderr
    assert freeze(rv, venv) == ["beta==1.0"]
    assert warning in rv.install(venv, "-r", str(empty)).stderr
    assert freeze(rv, venv) == ["beta==1.0"]
    compiled = rv("pip", "compile", "-i", rv.index, "--no-header", str(empty))
    assert warning in compiled.stderr
    rv.install(venv, code=2)  # nothing named at all is still an error
    rv("pip", "sync", "--python", str(venv), "--allow-empty-requirements", str(empty))
    assert freeze(rv, venv) == []


def test_sync_removes_an_incomplete_leftover(rv: Runner, tmp_path: Path) -> None:
    # What a run killed at the end of an uninstall leaves: a `.dist-info` without RECORD.
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "delta")
    (site_packages(venv) / "delta-0.5.dist-info" / "RECORD").unlink()
    wanted = tmp_path / "requirements.txt"
    wanted.write_text("beta==1.0\n")
    result = rv("pip", "sync", "--python", str(venv), "-i", rv.index, str(wanted))
    assert "removed the incomplete `delta-0.5.dist-info`" in result.stderr
    assert not (site_packages(venv) / "delta-0.5.dist-info").exists()
    assert freeze(rv, venv) == ["beta==1.0"]


def test_uninstall_removes_the_dist_info_last() -> None:
    paths = [
        "/v/site/demo-1.0.dist-info/RECORD",
        "/v/site/demo-1.0.dist-info/METADATA",
        "/v/site/demo/__init__.py",
        "/v/site/demo-1.0.dist-info/INSTALLER",
        "/v/bin/demo",
    ]
    assert [p.rsplit("/", 1)[1] for p in sorted(paths, key=_removal_rank)] == [
        "__init__.py",
        "demo",
        "INSTALLER",
        "METADATA",
        "RECORD",
    ]


def test_uninstall(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "alpha")
    result = rv("pip", "uninstall", "--python", str(venv), "alpha", "nothere")
    assert "- alpha==1.0" in result.stderr
    assert "skipping `nothere`" in result.stderr
    assert freeze(rv, venv) == ["beta==2.0"]
    assert not (venv / "bin" / "alpha-run").exists()
    assert not (site_packages(venv) / "alpha").exists()
    rv("pip", "verify", "--python", str(venv))
    broken = rv("pip", "check", "--python", str(venv))
    assert "no broken requirements" in broken.stdout


def test_check_reports_missing_requirements(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "alpha")
    rv("pip", "uninstall", "--python", str(venv), "beta")
    result = rv("pip", "check", "--python", str(venv), code=1)
    assert result.stdout == "alpha 1.0 requires beta, which is not installed.\n"


def test_verify_reports_modified_missing_and_unrecorded(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "alpha[fast]")
    site = site_packages(venv)
    (site / "alpha" / "__init__.py").unlink()  # a hardlink: never write through it
    (site / "alpha" / "__init__.py").write_text("tampered = True\n")
    (site / "delta" / "__init__.py").unlink()
    (site / "stray.py").write_text("")
    run_python(venv, "import beta")  # bytecode of a recorded file is fine
    result = rv("pip", "verify", "--python", str(venv), code=1)
    lines = set(result.stdout.splitlines())
    assert f"modified: lib/python{PY}/site-packages/alpha/__init__.py (alpha 1.0)" in lines
    assert f"missing: lib/python{PY}/site-packages/delta/__init__.py (delta 0.5)" in lines
    assert f"unrecorded: lib/python{PY}/site-packages/stray.py" in lines
    assert len(lines) == 3
    # --reinstall repairs the modified package from the (untouched) cache.
    rv.install(venv, "alpha[fast]", "--reinstall")
    (site / "stray.py").unlink()
    rv("pip", "verify", "--python", str(venv))
    assert "tampered" not in (site / "alpha" / "__init__.py").read_text()


def test_a_cache_entry_that_lost_files_is_unpacked_again(rv: Runner, tmp_path: Path) -> None:
    rv.install(rv.venv(tmp_path / "first"), "beta==2.0")
    (lost,) = (rv.cache / "archive-v1").glob("*/beta/__init__.py")
    lost.unlink()  # something outside resolvent removed a file of the entry
    venv = rv.venv(tmp_path / "second")
    result = rv.install(venv, "beta==2.0")
    assert "warning: the cache entry of `beta==2.0` had lost files" in result.stderr
    assert (site_packages(venv) / "beta" / "__init__.py").is_file()
    assert lost.is_file()
    rv("pip", "verify", "--python", str(venv))


def test_a_cache_entry_that_lost_its_manifest_and_a_file_is_unpacked_again(
    rv: Runner, tmp_path: Path
) -> None:
    """What a cleaner of old files leaves: the folder, without the manifest and a file."""
    rv.install(rv.venv(tmp_path / "first"), "beta==2.0")
    (lost,) = (rv.cache / "archive-v1").glob("*/beta/__init__.py")
    entry = lost.parent.parent
    lost.unlink()
    entry.with_name(entry.name + ".manifest").unlink()
    venv = rv.venv(tmp_path / "second")
    result = rv.install(venv, "beta==2.0")
    assert "warning: the cache entry of `beta==2.0` had lost files" in result.stderr
    assert (site_packages(venv) / "beta" / "__init__.py").is_file()
    rv("pip", "verify", "--python", str(venv))


def test_offline_after_a_warm_run(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with serve_dists(
        tmp_path / "private", [Dist("solo", "1.0", requires=["dep"]), Dist("dep", "3")]
    ) as srv:
        rv = Runner(cache, srv.url)
        rv.install(rv.venv(tmp_path / "warm"), "solo")
        cold = Runner(tmp_path / "cold-cache", srv.url)
    offline = rv.install(rv.venv(tmp_path / "offline"), "solo", "--offline")
    assert "Prepared" not in offline.stderr  # nothing fetched
    assert freeze(rv, tmp_path / "offline") == ["dep==3", "solo==1.0"]
    failed = cold.install(cold.venv(tmp_path / "cold"), "solo", "--offline", code=1)
    assert failed.stderr.startswith("error: ")
    assert "`solo` was not found in the cache (the network is off)" in failed.stderr


@pytest.mark.parametrize("mode", ["hardlink", "copy", "symlink", "reflink"])
def test_link_modes(rv: Runner, tmp_path: Path, mode: str) -> None:
    venv = rv.venv(tmp_path / "venv")
    result = rv.install(venv, "beta", "--link-mode", mode)
    installed = site_packages(venv) / "beta" / "__init__.py"
    (cached,) = (rv.cache / "archive-v1").glob("*/beta/__init__.py")
    if mode == "hardlink":
        assert installed.stat().st_ino == cached.stat().st_ino
    elif mode == "symlink":
        assert installed.is_symlink()
        assert installed.resolve() == cached.resolve()
    elif mode == "copy":
        assert not installed.is_symlink()
        assert installed.stat().st_ino != cached.stat().st_ino
    else:  # reflink: a clone where supported, else a reported fallback to copying
        assert (
            "fell back to copy" in result.stderr or installed.stat().st_ino != cached.stat().st_ino
        )
    assert run_python(venv, "import beta; print('ok')") == "ok"
    rv("pip", "verify", "--python", str(venv))


def test_compile_bytecode(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "beta", "--compile-bytecode")
    assert list((site_packages(venv) / "beta" / "__pycache__").glob("__init__.*.pyc"))
    rv("pip", "verify", "--python", str(venv))


def test_sdist_is_built_once_and_cached(rv: Runner, tmp_path: Path) -> None:
    first = rv.venv(tmp_path / "first")
    rv.install(first, "srconly")
    out = subprocess.run(
        [str(first / "bin" / "srconly")], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout == "built ok\n"
    built = [p for p in (rv.cache / "built-v1").iterdir() if len(p.name) == 64]
    assert len(built) == 1
    stamp = next(built[0].glob("*.whl")).stat().st_mtime_ns
    second = rv.venv(tmp_path / "second")
    rv.install(second, "srconly", "--offline")
    assert next(built[0].glob("*.whl")).stat().st_mtime_ns == stamp  # not rebuilt
    assert freeze(rv, second) == ["beta==2.0", "srconly==1.0"]


def test_local_paths_and_editables(rv: Runner, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "proj", Dist("proj", "0.1", requires=["beta"]), in_tree_backend=True
    )
    wheel = build_wheel(tmp_path / "wheels", Dist("localwheel", "2.0"))
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "-e", str(project), str(wheel))
    lines = rv("pip", "freeze", "--python", str(venv)).stdout.splitlines()
    assert lines == ["beta==2.0", f"localwheel @ {wheel.as_uri()}", f"-e {project}"]
    assert run_python(venv, "import proj; print(proj.__file__)") == str(
        project / "proj" / "__init__.py"
    )
    (project / "proj" / "extra.py").write_text("X = 1\n")
    assert run_python(venv, "from proj.extra import X; print(X)") == "1"  # editable
    direct = json.loads(
        (site_packages(venv) / "localwheel-2.0.dist-info" / "direct_url.json").read_text()
    )
    assert direct["url"] == wheel.as_uri()
    assert direct["archive_info"]["hashes"]["sha256"] == _sha256(wheel)
    rv("pip", "verify", "--python", str(venv))
    where = ("--python", str(venv))
    assert rv("pip", "list", *where).stdout.splitlines() == [
        f"{'Package':<10} {'Version':<7} Editable project location",
        f"{'-' * 10} {'-' * 7} {'-' * len(str(project))}",
        "beta       2.0",
        "localwheel 2.0",
        f"proj       0.1     {project}",
    ]
    assert rv("pip", "list", "-e", "--format", "freeze", *where).stdout.split() == ["proj==0.1"]
    listed = rv("pip", "list", "--exclude-editable", "--exclude", "BETA", *where).stdout
    assert listed.splitlines()[2:] == ["localwheel 2.0"]
    frozen = rv("pip", "freeze", "--exclude-editable", *where).stdout.splitlines()
    assert frozen == ["beta==2.0", f"localwheel @ {wheel.as_uri()}"]
    result = rv("pip", "uninstall", "beta", "nothere", "--dry-run", *where)
    assert result.stderr.splitlines() == [
        "warning: skipping `nothere`: it is not installed",
        "Would uninstall 1 package",
        " - beta==2.0",
    ]
    assert "beta==2.0" in rv("pip", "freeze", *where).stdout.split()


def test_venv_command(rv: Runner, tmp_path: Path) -> None:
    created = rv("venv", str(tmp_path / "a"), "--python", PY, "--prompt", "demo")
    assert "Creating virtual environment" in created.stderr
    assert "prompt = demo" in (tmp_path / "a" / "pyvenv.cfg").read_text()
    rv("venv", str(tmp_path / "a"), code=2)  # exists
    rv("venv", str(tmp_path / "a"), "--clear")
    missing = rv("venv", str(tmp_path / "b"), "--python", "2.5", code=2)
    assert missing.stderr.startswith("error: no Python 2.5 interpreter")


def test_environment_selection(rv: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv = rv.venv(tmp_path / "venv")
    runner = CliRunner()
    env = hermetic_env(rv.cache) | {"VIRTUAL_ENV": str(venv)}
    result = runner.invoke(cli, ["pip", "install", "-i", rv.index, "beta"], env=env)
    assert result.exit_code == 0, result.output
    assert freeze(rv, venv) == ["beta==2.0"]
    nowhere = tmp_path / "empty"
    nowhere.mkdir()
    monkeypatch.chdir(nowhere)
    result = runner.invoke(cli, ["pip", "freeze"], env=hermetic_env(rv.cache))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no virtual environment found")


def test_bad_input_is_one_line(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    bad = rv.install(venv, "alpha>>1", code=2)
    assert bad.stderr.startswith("error: ")
    assert "Traceback" not in bad.stderr
    unknown = rv.install(venv, "nosuchthing", code=1)
    assert "no solution found" in unknown.stderr
    rv("pip", "install", "--python", str(venv), code=2)  # nothing to install


def test_cache_commands(rv: Runner, tmp_path: Path) -> None:
    rv.install(rv.venv(tmp_path / "venv"), "beta")
    assert rv("cache", "dir").stdout.strip() == str(rv.cache)
    (rv.cache / "archive-v1" / ".tmp-leftover").mkdir()
    pruned = rv("cache", "prune")
    assert "Removed 1 entry" in pruned.stderr
    assert not (rv.cache / "archive-v1" / ".tmp-leftover").exists()
    rv("cache", "clean")
    assert not any(rv.cache.iterdir())


def test_venv_cache_dir_keeps_the_interpreter_answer_there(rv: Runner, tmp_path: Path) -> None:
    # As uv's venv: --cache-dir wins over the environment's cache folder.
    own = tmp_path / "own-cache"
    rv("venv", str(tmp_path / "env"), "--cache-dir", str(own))
    assert any((own / "interpreter-v2").iterdir())
    assert not (rv.cache / "interpreter-v2").exists()


def test_venv_quiet_prints_nothing(rv: Runner, tmp_path: Path) -> None:
    loud = rv("venv", str(tmp_path / "loud"))
    assert "Activate with" in loud.output
    quiet = rv("venv", "-q", str(tmp_path / "quiet"))
    assert quiet.output == ""
    assert (tmp_path / "quiet" / "pyvenv.cfg").is_file()


def test_install_notes_a_cross_check_out_of_time(
    rv: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``pip install`` says so when SAT's confirmation of PubGrub's answer runs out of time."""
    from resolvent.solver.result import BudgetExceeded  # noqa: PLC0415
    from resolvent.solver.sat import SatEngine  # noqa: PLC0415

    def out_of_time(self: SatEngine, *args: object, **kwargs: object) -> object:
        raise BudgetExceeded("sat", 0)

    monkeypatch.setattr(SatEngine, "confirm", out_of_time)
    venv = rv.venv(tmp_path / "venv")
    result = rv.install(venv, "beta==1.0", "--dry-run")
    assert result.stderr.splitlines()[1] == (
        "note: the sat cross-check stopped at its time budget; "
        "the answer passed the independent checker"
    )
