"""The real index: the benchmark requirement sets compile, and uv accepts the pins.

These tests talk to the package index configured on the machine (read at run time, as
every resolvent command does), so they carry the ``network`` marker and stay out of
``make test``. Run them with ``pytest -m network tests/network``. Each set is compiled
as of a fixed date for Python 3.11, the result is installed by uv in a dry run (which
fails on any conflict), and the pins are compared with ``uv pip compile`` under the same
flags; differences are printed, not failed, since two correct resolvers may choose
differently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SETS = Path(__file__).resolve().parents[2].parent / "shared" / "bench-requirements"
FILES = sorted(SETS.rglob("*.in")) if SETS.is_dir() else []
FLAGS = ["--exclude-newer", "2026-01-01", "--python-version", "3.11"]

pytestmark = pytest.mark.network


@pytest.fixture(scope="session")
def uv(tmp_path_factory: pytest.TempPathFactory) -> str:
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


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        if line and not line.startswith((" ", "#", "-")) and "==" in line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.split()[0].strip(" \\")
    return pins


@pytest.mark.skipif(not FILES, reason="../shared/bench-requirements is absent")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_compile_real_set(path: Path, tmp_path: Path, uv: str, target_venv: Path) -> None:
    out = tmp_path / "pins.txt"
    ours = subprocess.run(
        [sys.executable, "-m", "resolvent", "pip", "compile", str(path), *FLAGS, "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert ours.returncode == 0, ours.stderr[-3000:]
    theirs = subprocess.run(
        [uv, "pip", "compile", str(path), *FLAGS, "--no-header", "--no-annotate"],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
        env={**os.environ, "UV_NO_PROGRESS": "1"},
    )
    installed = subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--dry-run",
            "--no-deps",
            "--python",
            str(target_venv / "bin" / "python"),
            "-r",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    checked = subprocess.run(
        [
            uv,
            "pip",
            "compile",
            str(out),
            "--python-version",
            "3.11",
            "--exclude-newer",
            "2026-01-01",
            "--no-header",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert checked.returncode == 0, f"uv finds the pins inconsistent:\n{checked.stderr[-3000:]}"
    if theirs.returncode == 0:
        mine, uvs = _pins(out.read_text()), _pins(theirs.stdout)
        differing = sorted(n for n in mine.keys() | uvs.keys() if mine.get(n) != uvs.get(n))
        print(f"{path.stem}: {len(mine)} pins, uv {len(uvs)}, {len(differing)} differ")
        for name in differing:
            print(f"  {name}: resolvent {mine.get(name)} uv {uvs.get(name)}")
