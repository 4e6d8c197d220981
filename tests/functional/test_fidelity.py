"""Fidelity: resolvent and pip install the same wheels into the same files and RECORDs.

One wheelhouse holds wheels built here (pure, entry points, ``.data`` in every scheme
key, namespace packages) and real-world wheels found offline on this machine (the pip
and setuptools wheels bundled with ``ensurepip``). Each set is installed into one venv
by ``resolvent pip install`` and into another by pip itself; the installed trees and
RECORD entries must agree (INSTALLER aside; launchers compared by what they run, since
pip's launcher template changed over time while uv keeps the older one), the scripts must
run, and ``pip check`` must pass in resolvent's result.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from resolvent.cli import cli
from resolvent.installer.venv import query_interpreter
from tests.support.dists import Dist, build_wheel

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

BUILT = [
    Dist(
        "alpha",
        "1.0",
        requires=["beta"],
        entry_points={
            "console_scripts": {"alpha-run": "alpha:main", "alpha-cli": "alpha.cli:run.go"},
            "gui_scripts": {"alpha-gui": "alpha:main"},
        },
        files={
            "alpha/__init__.py": "def main():\n    print('alpha ran')\n",
            "alpha/cli.py": "class run:\n    @staticmethod\n    def go():\n        print('go')\n",
            "alpha/data/table.csv": "a,b\n1,2\n",
        },
    ),
    Dist("beta", "2.0"),
    Dist(
        "datapkg",
        "1.0",
        files={
            "datapkg/__init__.py": "",
            "datapkg-1.0.data/scripts/datatool": "#!python\nprint('datatool ran')\n",
            "datapkg-1.0.data/scripts/shell-tool": "#!/bin/sh\necho shell\n",
            "datapkg-1.0.data/data/share/datapkg/info.txt": "data\n",
            "datapkg-1.0.data/headers/datapkg.h": "/* header */\n",
            "datapkg-1.0.data/purelib/datapkg_extra.py": "EXTRA = 1\n",
            "datapkg-1.0.data/platlib/datapkg_plat.py": "PLAT = 1\n",
        },
    ),
    Dist("ns-one", "1.0", files={"nsroot/one/__init__.py": "ONE = 1\n"}),
    Dist("ns-two", "1.0", files={"nsroot/two/__init__.py": "TWO = 2\n"}),
]

SETS = {
    "built": ["alpha", "beta", "datapkg", "ns-one", "ns-two"],
    "real-world": ["pip", "setuptools"],
}

_LAUNCHER_CALL = re.compile(r"^from (\S+) import (\S+)$|^\s+sys\.exit\((.+)\(\)\)$", re.MULTILINE)


def hermetic_env(cache: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "RESOLVENT_", "UV_")) and key != "VIRTUAL_ENV"
    }
    return env | {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "RESOLVENT_CACHE_DIR": str(cache),
    }


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("wheelhouse")
    for dist in BUILT:
        build_wheel(house, dist)
    for wheel in query_interpreter(Path(sys.executable)).bundled_wheels:
        shutil.copy(wheel, house)
    return house


def _pip_available() -> bool:
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, check=False, timeout=60
    )
    return completed.returncode == 0


def _records(venv: Path) -> dict[str, str]:
    """Every RECORD entry of the environment: path (relative to site-packages) -> hash."""
    site = venv / "lib" / f"python{PY}" / "site-packages"
    entries: dict[str, str] = {}
    for dist_info in sorted(site.glob("*.dist-info")):
        text = (dist_info / "RECORD").read_text(encoding="utf-8")
        entries.update((path, digest) for path, digest, _ in csv.reader(text.splitlines()))
    return entries


def _tree(venv: Path) -> set[str]:
    """Files of the environment outside the venv's own (interpreter links, activate)."""
    found = set()
    for path in venv.rglob("*"):
        relative = path.relative_to(venv).as_posix()
        if path.is_dir() or "__pycache__" in relative or relative == "pyvenv.cfg":
            continue
        if relative.startswith(("bin/python", "bin/activate", ".")) or relative == ".lock":
            continue
        found.add(relative)
    return found


def _launcher_target(text: str) -> tuple[str, ...]:
    return tuple("".join(match) for match in (m.groups("") for m in _LAUNCHER_CALL.finditer(text)))


def _install_both(tmp_path: Path, wheelhouse: Path, names: list[str]) -> tuple[Path, Path]:
    env = hermetic_env(tmp_path / "cache")
    runner = CliRunner()
    ours, pips = tmp_path / "resolvent-env", tmp_path / "pip-env"
    for venv in (ours, pips):
        result = runner.invoke(cli, ["venv", str(venv)], env=dict(env))
        assert result.exit_code == 0, result.output
    args = ["pip", "install", "--python", str(ours), "--no-index", "-f", str(wheelhouse), *names]
    result = runner.invoke(cli, args, env=dict(env))
    assert result.exit_code == 0, result.output
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(pips / "bin" / "python"),
            "install",
            "--no-index",
            "--find-links",
            str(wheelhouse),
            "--no-compile",
            "-q",
            *names,
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return ours, pips


@pytest.mark.skipif(not _pip_available(), reason="pip is not installed in the test interpreter")
@pytest.mark.parametrize("name", list(SETS))
def test_same_files_and_records_as_pip(tmp_path: Path, wheelhouse: Path, name: str) -> None:
    names = SETS[name]
    ours, pips = _install_both(tmp_path, wheelhouse, names)
    assert _tree(ours) == _tree(pips)
    mine, theirs = _records(ours), _records(pips)
    assert set(mine) == set(theirs)
    site = Path("lib") / f"python{PY}" / "site-packages"
    for path, digest in mine.items():
        if path.endswith(".dist-info/INSTALLER"):
            continue
        if digest == theirs[path]:
            continue
        # Only files that name their environment may differ: scripts and launchers.
        assert path.startswith("../../../bin/"), path
        mine_text = (ours / site / path).resolve().read_text()
        their_text = (pips / site / path).resolve().read_text()
        assert mine_text.splitlines()[0] == f"#!{ours / 'bin' / 'python'}"
        assert their_text.splitlines()[0] == f"#!{pips / 'bin' / 'python'}"
        if _launcher_target(their_text):
            assert _launcher_target(mine_text) == _launcher_target(their_text), path
        else:  # a #!python script from .data/scripts: identical below the shebang
            assert mine_text.splitlines()[1:] == their_text.splitlines()[1:], path
    for dist_info in (ours / site).glob("*.dist-info"):
        assert (dist_info / "INSTALLER").read_text() == "resolvent\n"
        assert (dist_info / "REQUESTED").exists() == (
            dist_info.name.split("-")[0].replace("_", "-") in names
        )


@pytest.mark.skipif(not _pip_available(), reason="pip is not installed in the test interpreter")
def test_scripts_run_and_pip_check_passes(tmp_path: Path, wheelhouse: Path) -> None:
    names = SETS["built"] + SETS["real-world"]
    ours, _ = _install_both(tmp_path, wheelhouse, names)

    def run(*command: str) -> str:
        completed = subprocess.run(
            list(command), capture_output=True, text=True, check=True, timeout=120
        )
        return completed.stdout

    bin_dir = ours / "bin"
    assert run(str(bin_dir / "alpha-run")) == "alpha ran\n"
    assert run(str(bin_dir / "alpha-cli")) == "go\n"
    assert run(str(bin_dir / "datatool")) == "datatool ran\n"
    assert run(str(bin_dir / "shell-tool")) == "shell\n"
    assert run(str(bin_dir / "pip"), "--version").startswith("pip ")
    python = str(bin_dir / "python")
    code = "import nsroot.one, nsroot.two, datapkg_extra, datapkg_plat, setuptools; print('ok')"
    assert run(python, "-c", code) == "ok\n"
    assert "No broken requirements found." in run(python, "-m", "pip", "check")
