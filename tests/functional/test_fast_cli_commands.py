"""``venv``, ``pip install`` and ``solve`` run without click, and do and say what click's do.

The program (``python -m resolvent``) reads a plain ``venv`` or ``pip install`` command
line itself (:mod:`resolvent.cli._fast`); the in-process click runner goes through click.
Both must create the same environment and print the same lines (timings aside), errors
included, and the program must not have imported click to do it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from resolvent.cli import cli
from tests.support.dists import Dist
from tests.support.environment import hermetic_env, program_env
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from collections.abc import Iterator

    from resolvent.index.serve import IndexServer

DISTS = [
    Dist(
        "alpha",
        "1.0",
        requires=["beta>=1"],
        entry_points={"console_scripts": {"alpha-run": "alpha:main"}},
        files={"alpha/__init__.py": "def main():\n    print('alpha ran')\n"},
    ),
    Dist("beta", "1.0"),
    Dist("beta", "2.0"),
]

#: Prints whether click was imported by a command that `fast_command` runs (its
#: arguments are the rest of the command line).
_PROBE = (
    "import sys\n"
    "from resolvent.cli._fast import fast_command\n"
    "command = fast_command(sys.argv[1:], {})\n"
    "assert command is not None\n"
    "command()\n"
    "print('click' in sys.modules)\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    with serve_dists(tmp_path_factory.mktemp("index"), DISTS) as running:
        yield running


def _program(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "resolvent", *args],
        env=program_env(cache),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _in_click(cache: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=hermetic_env(cache))
    return result.exit_code, result.stderr


def _same_words(text: str, *places: tuple[str, str]) -> str:
    """``text`` with each place's path named by its role, and timings dropped."""
    for path, role in places:
        text = text.replace(path, role)
    return re.sub(r" in [\d.]+m?s\b", " in <time>", text)


def test_venv_without_click_makes_and_says_what_click_does(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fast_env, click_env = tmp_path / "fast" / "env", tmp_path / "click" / "env"
    done = _program(cache, "venv", str(fast_env), "--python", sys.executable, "--prompt", "p")
    code, said = _in_click(
        cache, "venv", str(click_env), "--python", sys.executable, "--prompt", "p"
    )
    assert done.returncode == code == 0, done.stderr
    assert _same_words(done.stderr, (str(fast_env), "ENV")) == _same_words(
        said, (str(click_env), "ENV")
    )
    fast_files = sorted(p.relative_to(fast_env).as_posix() for p in fast_env.rglob("*"))
    click_files = sorted(p.relative_to(click_env).as_posix() for p in click_env.rglob("*"))
    assert fast_files == click_files
    for name in ("pyvenv.cfg", "bin/activate"):
        assert _same_words((fast_env / name).read_text(), (str(fast_env), "ENV")) == _same_words(
            (click_env / name).read_text(), (str(click_env), "ENV")
        )
    # Refused the same way: the venv exists now.
    again = _program(cache, "venv", str(fast_env), "--python", sys.executable)
    code, said = _in_click(cache, "venv", str(click_env), "--python", sys.executable)
    assert again.returncode == code == 2
    assert _same_words(again.stderr, (str(fast_env), "ENV")) == _same_words(
        said, (str(click_env), "ENV")
    )
    assert "already a virtual environment" in said


def test_a_relative_venv_path_is_shown_relative(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "resolvent", "venv", "rel", "--python", sys.executable],
        env=program_env(tmp_path / "cache"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "Activate with: source rel/bin/activate" in done.stderr


def test_install_without_click_installs_and_says_what_click_does(
    tmp_path: Path, server: IndexServer
) -> None:
    cache = tmp_path / "cache"
    fast_env, click_env, first = tmp_path / "fast", tmp_path / "click", tmp_path / "first"
    for env in (fast_env, click_env, first):
        assert _program(cache, "venv", str(env), "--python", sys.executable).returncode == 0
    args = ("pip", "install", "-i", server.url, "alpha")
    # Both read a warm cache (the first install downloads, and says so).
    assert "Prepared 2 packages" in _program(cache, *args, "--python", str(first)).stderr
    done = _program(cache, *args, "--python", str(fast_env))
    code, said = _in_click(cache, *args, "--python", str(click_env))
    assert done.returncode == code == 0, done.stderr
    assert _same_words(done.stderr) == _same_words(said)
    assert " + alpha==1.0" in said
    assert " + beta==2.0" in said
    site = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"

    def record(env: Path) -> list[str]:  # the script's row hashes its env's path: aside
        text = (env / site / "alpha-1.0.dist-info" / "RECORD").read_text()
        return [row for row in text.splitlines() if "/bin/alpha-run," not in row]

    assert record(fast_env) == record(click_env)
    assert _same_words((fast_env / "bin" / "alpha-run").read_text(), (str(fast_env), "ENV")) == (
        _same_words((click_env / "bin" / "alpha-run").read_text(), (str(click_env), "ENV"))
    )
    # A second run changes nothing, and says so the same way.
    done = _program(cache, *args, "--python", str(fast_env))
    code, said = _in_click(cache, *args, "--python", str(click_env))
    assert done.returncode == code == 0
    assert _same_words(done.stderr) == _same_words(said)
    # Errors read the same: a project the index does not have.
    done = _program(cache, "pip", "install", "-i", server.url, "nosuch", "--python", str(fast_env))
    code, said = _in_click(
        cache, "pip", "install", "-i", server.url, "nosuch", "--python", str(click_env)
    )
    assert done.returncode == code != 0
    assert _same_words(done.stderr, (str(fast_env), "ENV")) == _same_words(
        said, (str(click_env), "ENV")
    )


def test_the_fast_commands_do_not_import_click(tmp_path: Path, server: IndexServer) -> None:
    """Nor does a warm install (a cold one's HTTP client, httpx, imports click itself)."""
    cache, env, first = tmp_path / "cache", tmp_path / "env", tmp_path / "first"

    def probe(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, *args],
            env=program_env(cache),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stdout.strip().splitlines()[-1]

    assert probe("venv", str(env), "--python", sys.executable, "-q") == "False"
    install = ("pip", "install", "-q", "-i", server.url, "beta")
    assert _program(cache, "venv", str(first), "--python", sys.executable).returncode == 0
    assert _program(cache, *install, "--python", str(first)).returncode == 0
    assert probe(*install, "--python", str(env)) == "False"
    assert list((env / "lib").glob("python*/site-packages/beta-2.0.dist-info"))


#: Scenario files of our own (in the repository), one satisfiable and one not.
_SCENARIOS = Path(__file__).parents[2] / "specs" / "scenarios"


def _timeless(text: str) -> str:
    """Scenario output without its timings (JSON fields and human-readable figures)."""
    text = re.sub(r'"time": [\d.e-]+', '"time": T', text)
    return re.sub(r"\b[\d.]+ ms\b", "T ms", text)


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "human"])
def test_solve_without_click_prints_what_click_does(tmp_path: Path, *, as_json: bool) -> None:
    scenarios = [
        str(_SCENARIOS / "backtracking" / "backtrack-past-intermediate.toml"),
        str(_SCENARIOS / "unsatisfiable" / "diamond-conflict.toml"),
    ]
    args = ("solve", *(["--json"] if as_json else []), "--solver", "both", *scenarios)
    done = _program(tmp_path / "cache", *args)
    in_click = CliRunner().invoke(cli, list(args), env=hermetic_env(tmp_path / "cache"))
    assert done.returncode == in_click.exit_code == 0, done.stderr
    assert _timeless(done.stdout) == _timeless(in_click.stdout)
    assert done.stdout.count("\n") >= 2
    assert "unsatisfiable" in done.stdout


@pytest.mark.parametrize(
    "given",
    [("solve", "absent.toml"), ("solve", "--python-platform", "vax-vms", "{scenario}")],
    ids=["absent", "bad-platform"],
)
def test_solve_errors_read_the_same(tmp_path: Path, given: tuple[str, ...]) -> None:
    scenario = str(_SCENARIOS / "backtracking" / "backtrack-past-intermediate.toml")
    args = tuple(a.replace("{scenario}", scenario) for a in given)
    done = _program(tmp_path / "cache", *args)
    code, said = _in_click(tmp_path / "cache", *args)
    assert done.returncode == code == 2
    assert done.stderr == said
    assert "Traceback" not in done.stderr


def test_solve_does_not_import_click(tmp_path: Path) -> None:
    scenario = str(_SCENARIOS / "backtracking" / "backtrack-past-intermediate.toml")
    # The command ends by raising SystemExit with its exit code.
    probe = _PROBE.replace("command()\n", "try:\n    command()\nexcept SystemExit:\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-c", probe, "solve", "--json", scenario],
        env=program_env(tmp_path / "cache"),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
