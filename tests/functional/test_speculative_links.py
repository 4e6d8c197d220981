"""Speculative linking: trees built by a helper while the run resolves, taken when identical.

The helper is a forked process, so the mechanism is driven from a fresh single-threaded
interpreter (the test process has threads: the local index server's), and end to end
through the command line: the second install of the same command into a rebuilt venv
must take every tree from the helper and leave the same environment as without it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from resolvent.installer.site import SitePackages, verify_environment
from resolvent.installer.venv import Venv
from tests.support.dists import Dist, build_wheel
from tests.support.environment import program_env
from tests.support.index import serve_dists

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="speculative linking is Linux-only"
)

DISTS = [
    Dist(
        f"spec{n}",
        "1.0",
        files={
            **{f"spec{n}/sub{d}/m{i}.py": f"X = {i}\n" for d in range(3) for i in range(40 * n)},
            f"spec{n}/__init__.py": "VALUE = 1\n",
        },
        entry_points={"console_scripts": {f"spec{n}-run": f"spec{n}:VALUE"}},
    )
    for n in range(1, 5)
]

#: Builds the cache entries of the wheels given, then drives a Speculation and reports.
DRIVER = r"""
import hashlib, json, os, sys, time
from pathlib import Path
from resolvent.installer.cache import Cache
from resolvent.installer.manifest import load_manifest
from resolvent.installer.speculate import Speculation

cache_root, root, site, mode, *wheels = sys.argv[1:]
cache = Cache(Path(cache_root))
trees = []
for wheel in wheels:
    sha = hashlib.sha256(Path(wheel).read_bytes()).hexdigest()
    trees.append(os.fspath(cache.unpack_wheel(Path(wheel), sha)))
first = Speculation.begin(cache_root, "key", root)
out = {"forked_without_memo": first.folder is not None}
first.remember(
    [(tree, os.path.join(site, load_manifest(tree).info.dist_info)) for tree in trees]
)
first.end()
if mode == "installed":  # the first wheel is installed already: the helper skips it
    manifest = load_manifest(trees[0])
    os.makedirs(os.path.join(site, manifest.info.dist_info))
if mode == "release":
    # The helper starts only once the run has released: a run that plans while the
    # helper builds may release before or after the helper reaches a tree, and only
    # "before" claims it.
    import resolvent.installer.speculate as speculate
    gate, opened = os.pipe()
    started = speculate._helper
    def gated(*args):
        os.read(gate, 1)
        started(*args)
    speculate._helper = gated
speculation = Speculation.begin(cache_root, "key", root)
folder = speculation.folder
out["helper"] = speculation._pid
if mode == "release":
    speculation.release(trees[1:])  # the plan wants all but the first
    os.write(opened, b"x")
deadline = time.monotonic() + 60
taken = []
for index, tree in enumerate(trees):
    manifest = load_manifest(tree)
    shape = (len(manifest.dirs), len(manifest.files), len(manifest.links))
    if mode == "wrong-shape":
        shape = (shape[0], shape[1] + 1, shape[2])
    if mode in ("all", "wrong-shape") or (mode == "installed" and index > 0):
        # let the helper start it: then taking waits for the helper's word
        while not os.path.isdir(os.path.join(folder, f"t{index}")):
            assert time.monotonic() < deadline
            time.sleep(0.005)
    got = speculation.take(tree, shape)
    if got is None:
        taken.append(None)
        continue
    files = sorted(manifest.files)
    same = all(
        os.stat(os.path.join(got, *f.split("/"))).st_ino
        == os.stat(os.path.join(tree, *f.split("/"))).st_ino
        for f in files
    )
    found = sorted(
        os.path.relpath(os.path.join(d, f), got).replace(os.sep, "/")
        for d, _, names in os.walk(got) for f in names
    )
    moved = os.path.join(root, f"taken-{index}")
    os.rename(got, moved)
    taken.append({"same_inodes": same, "files_as_manifest": found == files})
out["taken"] = taken
out["count"] = speculation.taken
speculation.end()
out["folder_left"] = os.path.exists(folder)
print(json.dumps(out))
"""


def _drive(tmp_path: Path, mode: str) -> dict[str, object]:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    paths = [str(build_wheel(wheels, dist)) for dist in DISTS]
    root = tmp_path / "env"
    site = root / "site"
    site.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path / "cache"), str(root), str(site), mode, *paths],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "RESOLVENT_NO_SPECULATION": ""},
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, object] = json.loads(done.stdout)
    return out


def test_the_helper_builds_the_remembered_trees_and_the_run_takes_them(tmp_path: Path) -> None:
    out = _drive(tmp_path, "all")
    assert out["forked_without_memo"] is False  # nothing remembered: no helper
    assert out["taken"] == [{"same_inodes": True, "files_as_manifest": True}] * len(DISTS)
    assert out["count"] == len(DISTS)
    assert out["folder_left"] is False


def test_a_tree_of_another_shape_is_not_taken(tmp_path: Path) -> None:
    out = _drive(tmp_path, "wrong-shape")
    assert out["taken"] == [None] * len(DISTS)
    assert out["count"] == 0
    assert out["folder_left"] is False  # the helper's trees are deleted with the folder


def test_trees_the_plan_does_not_want_are_left_to_the_run(tmp_path: Path) -> None:
    out = _drive(tmp_path, "release")
    taken = out["taken"]
    assert isinstance(taken, list)
    assert taken[0] is None  # claimed by `release` before the helper got to it
    assert out["folder_left"] is False


def test_an_installed_distribution_is_not_built_by_the_helper(tmp_path: Path) -> None:
    out = _drive(tmp_path, "installed")
    taken = out["taken"]
    assert isinstance(taken, list)
    assert taken[0] is None  # skipped by the helper: the run claims it itself
    assert taken[1:] == [{"same_inodes": True, "files_as_manifest": True}] * (len(DISTS) - 1)


def _env(cache: Path, **extra: str) -> dict[str, str]:
    return program_env(cache) | extra


#: Runs the command line and says on stderr how many trees its run took from the helper.
#: Before the run links, it waits until the helper has built every tree it will build:
#: a run that resolves four small wheels can otherwise reach its links first and claim
#: them all (correct, but then nothing is taken), as a loaded machine showed.
COUNTING_CLI = r"""
import os, sys, time
import resolvent.installer.speculate as speculate
end = speculate.Speculation.end
release = speculate.Speculation.release
def counted(self):
    forked = self.folder is not None
    os.write(2, f"TAKEN {self.taken} OF {len(self.trees)} FORKED {forked}\n".encode())
    end(self)
def released(self, wanted):
    if self.folder is not None:
        for index, (_, dist_info) in enumerate(self.entries):
            if not os.path.lexists(dist_info):
                while not os.path.isdir(os.path.join(self.folder, f"t{index}")):
                    time.sleep(0.002)
                self._result(index)
    release(self, wanted)
speculate.Speculation.end = counted
speculate.Speculation.release = released
sys.argv = ["resolvent", *sys.argv[1:]]
from resolvent.cli import run
run()
"""


RV = (sys.executable, "-m", "resolvent")
COUNTED = (sys.executable, "-c", COUNTING_CLI)


def _install(
    venv: Path, server_url: str, requirements: Path, env: dict[str, str], *, fresh: bool = True
) -> str:
    if fresh:
        if venv.exists():
            shutil.rmtree(venv)
        subprocess.run([*RV, "venv", str(venv)], check=True, capture_output=True)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            COUNTING_CLI,
            *("pip", "install", "--python", str(venv), "-i", server_url, "-r", str(requirements)),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def _assert_installed(venv: Path) -> None:
    site = SitePackages.scan([Venv.open(venv).site_packages])
    report = verify_environment(site, scripts=venv / "bin")
    assert report.ok, report.problems
    assert sorted(f"{d.name}=={d.version}" for d in site) == [f"{d.name}==1.0" for d in DISTS]
    assert [p.name for p in venv.iterdir() if p.name.startswith(".resolvent-")] == []
    ran = subprocess.run(
        [str(venv / "bin" / "spec1-run")], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 1  # the entry point returns VALUE (1) as its exit status


def test_a_rebuilt_venv_takes_every_tree_from_the_helper(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("".join(f"{d.name}\n" for d in DISTS))
    venv = tmp_path / "venv"
    cache = tmp_path / "cache"
    with serve_dists(tmp_path, DISTS) as server:
        first = _install(venv, server.url, requirements, _env(cache))
        assert "TAKEN 0 OF 0" in first  # nothing remembered yet
        _assert_installed(venv)
        assert len(list((cache / "installs-v1").iterdir())) == 1
        second = _install(venv, server.url, requirements, _env(cache))
        assert f"TAKEN {len(DISTS)} OF {len(DISTS)} FORKED True" in second
        _assert_installed(venv)
        # The same command into a new venv elsewhere: the same entries are linked.
        elsewhere = tmp_path / "elsewhere" / "venv"
        third = _install(elsewhere, server.url, requirements, _env(cache))
        assert f"TAKEN {len(DISTS)} OF {len(DISTS)} FORKED True" in third
        _assert_installed(elsewhere)
        off = _install(venv, server.url, requirements, _env(cache, RESOLVENT_NO_SPECULATION="1"))
        assert f"TAKEN 0 OF {len(DISTS)} FORKED False" in off
        _assert_installed(venv)
        # Into the same venv again: everything is installed, no helper is forked.
        again = _install(venv, server.url, requirements, _env(cache), fresh=False)
        assert f"TAKEN 0 OF {len(DISTS)} FORKED False" in again
        _assert_installed(venv)


def test_a_changed_plan_takes_what_still_applies(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("".join(f"{d.name}\n" for d in DISTS))
    venv = tmp_path / "venv"
    cache = tmp_path / "cache"
    with serve_dists(tmp_path, DISTS) as server:
        _install(venv, server.url, requirements, _env(cache))
        # The same command, but one distribution is installed already and stays.
        shutil.rmtree(venv)
        subprocess.run([*RV, "venv", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [*RV, "pip", "install", "--python", str(venv), "-i", server.url, DISTS[0].name],
            env=_env(cache, RESOLVENT_NO_SPECULATION="1"),
            check=True,
            capture_output=True,
        )
        output = _install(venv, server.url, requirements, _env(cache), fresh=False)
        assert f"TAKEN {len(DISTS) - 1} OF {len(DISTS)} FORKED True" in output
        _assert_installed(venv)


def test_a_dead_runs_folder_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    import fcntl  # noqa: PLC0415 -- Linux only, as the module

    venv = tmp_path / "venv"
    subprocess.run([*RV, "venv", str(venv)], check=True, capture_output=True)
    dead = venv / ".resolvent-speculative-dead"
    (dead / "t0" / "pkg").mkdir(parents=True)
    (dead / "t0" / "pkg" / "m.py").write_text("X = 1\n")
    live = venv / f".resolvent-speculative-{os.getpid()}-live"
    live.mkdir()
    # Held, but its run is gone: its helper is dying (SIGKILL sent, lock not yet freed).
    ended = subprocess.Popen([sys.executable, "-c", "pass"])  # any program that ends
    ended.wait()
    dying = venv / f".resolvent-speculative-{ended.pid}-dying"
    dying.mkdir()
    fd = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    held = os.open(dying, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        fcntl.flock(held, fcntl.LOCK_SH)
        done = subprocess.run(
            [sys.executable, "-m", "resolvent", "pip", "uninstall", "--python", str(venv), "nope"],
            env=_env(tmp_path / "cache"),
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert not dead.exists()
        assert not dying.exists()
        assert live.exists()
    finally:
        os.close(fd)
        os.close(held)


#: Starts a speculation, prints the helper's pid, then dies by SIGKILL.
KILLED_DRIVER = r"""
import hashlib, os, signal, sys
from pathlib import Path
from resolvent.installer.cache import Cache
from resolvent.installer.speculate import Speculation
cache_root, root, wheel = sys.argv[1:]
sha = hashlib.sha256(Path(wheel).read_bytes()).hexdigest()
tree = os.fspath(Cache(Path(cache_root)).unpack_wheel(Path(wheel), sha))
Speculation(cache_root, "key", root).remember([(tree, os.path.join(root, "x.dist-info"))])
speculation = Speculation.begin(cache_root, "key", root)
print(speculation._pid, speculation.folder, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stream:  # noqa: PTH123
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_helper_dies_with_its_run(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, DISTS[-1])
    root = tmp_path / "env"
    root.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", KILLED_DRIVER, str(tmp_path / "cache"), str(root), str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    pid_text, folder = done.stdout.split()
    deadline = time.monotonic() + 30
    while _alive(int(pid_text)):
        assert time.monotonic() < deadline, "the helper outlived its run"
        time.sleep(0.01)
    assert Path(folder).is_dir()  # left for the next run that takes the lock
