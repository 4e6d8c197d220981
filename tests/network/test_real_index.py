"""The real index: the benchmark requirement sets compile, and uv accepts the pins.

These tests talk to the package index configured on the machine (read at run time, as
every resolvent command does), so they carry the ``network`` marker and stay out of
``make test``. Run them with ``pytest -m network tests/network -s``. Each set is compiled
as of a fixed date for Python 3.11 by resolvent and by uv, with the same flags. Then:

* resolvent reads only the default index, as uv does (not pip's extra indexes or
  find-links, which uv ignores);
* resolvent fails only where uv fails too (some sets cannot be compiled here at all:
  a pinned project was removed from the index, a git URL needs a host the machine cannot
  reach, a build needs system libraries);
* uv accepts resolvent's pins: every pin has a file for this machine's Python (a dry
  run of ``uv pip install --no-deps``), and ``uv pip compile`` of the pins keeps every
  pin (nothing in conflict); what uv adds is printed (nothing should be missing, but uv
  reads some Python-version markers more loosely, see below);
* the pins are compared with uv's; differences are printed, not failed, since two
  correct resolvers may choose differently (the count per set is the fidelity figure).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SETS = ROOT.parent / "shared" / "bench-requirements"
FILES = sorted(SETS.rglob("*.in")) if SETS.is_dir() else []
FLAGS = ["--exclude-newer", "2026-01-01", "--python-version", "3.11"]
TIMEOUT = 1800

#: Sets where resolvent may fail although uv succeeds, and why (none known now: airflow
#: and apache-beam-dill used to fail here, PubGrub walking down to ancient sdists that
#: cannot build on Python 3.11, until extras were kept within their base's known range
#: and conflict-prone packages reprioritized as uv does).
KNOWN_FAILURES: dict[str, str] = {}

pytestmark = pytest.mark.network


@pytest.fixture(scope="session")
def uv(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The uv the benchmark harness installed, else one on PATH, else a fresh install."""
    harness = ROOT / "bench" / ".work" / "tools" / "uv" / "bin" / "uv"
    if harness.is_file():
        return str(harness)
    found = shutil.which("uv")
    if found:
        return found
    venv = tmp_path_factory.mktemp("uv-tool")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "uv"], check=True)
    return str(venv / "bin" / "uv")


@pytest.fixture(scope="session")
def target_venv(tmp_path_factory: pytest.TempPathFactory, uv: str) -> Path:
    venv = tmp_path_factory.mktemp("target") / "venv"
    subprocess.run([uv, "venv", "--python", sys.executable, str(venv)], check=True)
    return venv


def _default_index_only() -> dict[str, str]:
    """The environment less pip's extra sources, so that resolvent sees uv's index.

    uv reads no pip configuration; resolvent does (extra indexes, find-links). A machine
    whose pip is configured with local wheels would otherwise get pins that uv cannot see.
    The default index itself is still pip's built-in one, read through pip.
    """
    dropped = {"INDEX_URL", "EXTRA_INDEX_URL", "FIND_LINKS", "CONSTRAINT"}
    env = {
        key: value
        for key, value in os.environ.items()
        if not (key.startswith(("PIP_", "RESOLVENT_")) and key.split("_", 1)[1] in dropped)
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _pins(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith((" ", "#", "-")) and "==" in line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name.strip())] = version.split()[0].split(";")[0].strip(" \\")
    return pins


def _error(stderr: str) -> str:
    """The lines of a failed run's stderr that say why (build logs left out)."""
    lines = [line for line in stderr.splitlines() if line.startswith(("error", "  cause"))]
    return "\n".join(lines)[-2000:] or stderr[-2000:]


def _uv(uv: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [uv, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
        env={**os.environ, "UV_NO_PROGRESS": "1"},
    )


@pytest.mark.skipif(not FILES, reason="../shared/bench-requirements is absent")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_compile_real_set(path: Path, tmp_path: Path, uv: str, target_venv: Path) -> None:
    theirs = _uv(uv, "pip", "compile", str(path), *FLAGS, "--no-header", "--no-annotate")
    out = tmp_path / "pins.txt"
    ours = subprocess.run(
        [sys.executable, "-m", "resolvent", "pip", "compile", str(path), *FLAGS, "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
        env=_default_index_only(),
    )
    if ours.returncode != 0:
        assert "Traceback" not in ours.stderr, ours.stderr[-3000:]
        if theirs.returncode != 0:
            print(f"{path.stem}: both fail\n  resolvent: {_error(ours.stderr)}")
            print(f"  uv: {_error(theirs.stderr)}")
            return
        if path.stem in KNOWN_FAILURES:
            pytest.xfail(f"{KNOWN_FAILURES[path.stem]}: {_error(ours.stderr)}")
        pytest.fail(f"resolvent fails where uv succeeds:\n{_error(ours.stderr)}")
    mine = _pins(out.read_text(encoding="utf-8"))
    python = str(target_venv / "bin" / "python")
    installed = _uv(
        uv, "pip", "install", "--dry-run", "--no-deps", "--python", python, "-r", str(out)
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    checked = _uv(uv, "pip", "compile", str(out), *FLAGS, "--no-header", "--no-annotate")
    assert checked.returncode == 0, f"uv finds the pins inconsistent:\n{_error(checked.stderr)}"
    completed = _pins(checked.stdout)
    changed = {n: (v, completed.get(n)) for n, v in mine.items() if completed.get(n) != v}
    assert not changed, f"uv moves pins (resolvent, uv): {changed}"
    added = sorted(set(completed) - set(mine))
    if added:
        # uv reads `python_full_version <= "3.11.0a6"` as true for Python 3.11.0 (it drops
        # the pre-release of the bound), so it adds `tomli` for `coverage[toml]`.
        print(f"{path.stem}: uv adds to the pins: {', '.join(added)}")
    if theirs.returncode != 0:
        print(f"{path.stem}: {len(mine)} pins; uv fails: {_error(theirs.stderr)}")
        return
    uvs = _pins(theirs.stdout)
    differing = sorted(n for n in mine.keys() | uvs.keys() if mine.get(n) != uvs.get(n))
    print(f"{path.stem}: {len(mine)} pins, uv {len(uvs)}, {len(differing)} differ")
    for name in differing:
        print(f"  {name}: resolvent {mine.get(name)} uv {uvs.get(name)}")
