"""``resolvent pip compile`` runs without click, and writes and says what click's path does.

The program (``python -m resolvent``) reads a plain ``pip compile`` command line itself
(:mod:`resolvent.cli._fast`); :func:`resolvent.cli.main` always goes through click. Both
run as programs here, so that the header (which names the command line) is the same:
they must write the same pins and print the same lines (timings aside), errors
included, and the fast one must not have imported click to do it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.support.dists import Dist
from tests.support.environment import program_env
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from resolvent.index.serve import IndexServer

DISTS = [
    Dist("app", "1.0", requires=["lib", "tool"]),
    Dist("lib", "1.0", requires=["tool"]),
    Dist("lib", "2.0", requires=["tool>=2"]),
    Dist("tool", "1.0"),
    Dist("tool", "2.0"),
    Dist("other", "1.0", requires=["tool<1"]),
]

#: The program through click, whatever the command line: `main` never reads it itself.
_THROUGH_CLICK = "import sys\nfrom resolvent.cli import main\nmain()\n"

#: The program's own entry point, then whether it imported click (on stderr: the pins
#: may be on stdout).
_FAST_PROBE = (
    "import os, sys\n"
    "from resolvent.cli._fast import fast_command\n"
    "command = fast_command(sys.argv[1:], os.environ)\n"
    "assert command is not None, 'not read by the fast reader'\n"
    "try:\n"
    "    command()\n"
    "finally:\n"
    "    print('click imported:', 'click' in sys.modules, file=sys.stderr)\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    with serve_dists(tmp_path_factory.mktemp("index"), DISTS) as running:
        yield running


def _run(code: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=program_env(cwd / "cache"),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _timeless(text: str) -> str:
    return re.sub(r" in \d+ms\b", " in <time>", text)


def _folders(tmp_path: Path) -> list[Path]:
    """Two folders (``click`` and ``fast``) holding the same input files, each its cache."""
    folders = [tmp_path / "click", tmp_path / "fast"]
    for folder in folders:
        folder.mkdir(exist_ok=True)
        (folder / "requirements.in").write_text("app\n")
        (folder / "constraints.txt").write_text("tool<2\n")
        (folder / "overrides.txt").write_text("tool==1.0\n")
        (folder / "conflict.in").write_text("app\nother\n")
    return folders


def _both(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], ...]:
    """Run ``pip compile args`` through click and without it, each in its own folder.

    A relative ``-o`` lands in each one's own folder.
    """
    click_folder, fast_folder = _folders(tmp_path)
    click_run = _run(_THROUGH_CLICK, click_folder, "pip", "compile", *args)
    fast_run = _run(_FAST_PROBE, fast_folder, "pip", "compile", *args)
    assert "not read by the fast reader" not in fast_run.stderr
    return click_run, fast_run


def _said(run: subprocess.CompletedProcess[str]) -> str:
    lines = run.stderr.splitlines()
    return _timeless("\n".join(line for line in lines if not line.startswith("click imported:")))


def test_a_compile_to_a_file_writes_and_says_the_same(tmp_path: Path, server: IndexServer) -> None:
    args = (
        "requirements.in", "-i", server.url, "-o", "out.txt", "-c", "constraints.txt",
        "--override", "overrides.txt", "--annotation-style=line", "--generate-hashes",
        "--python-version", "3.11", "--no-emit-package", "LIB", "--solver", "both",
    )  # fmt: skip
    click_run, fast_run = _both(tmp_path, *args)
    assert click_run.returncode == fast_run.returncode == 0, click_run.stderr
    written = (tmp_path / "fast" / "out.txt").read_text()
    assert written == (tmp_path / "click" / "out.txt").read_text()
    assert "tool==1.0" in written
    assert "lib==" not in written
    assert f"#    resolvent pip compile {' '.join(args)}" in written
    assert _said(fast_run) == _said(click_run)
    assert "Resolved 3 packages in <time>" in _said(fast_run)


def test_a_compile_to_stdout_prints_the_same(tmp_path: Path, server: IndexServer) -> None:
    click_run, fast_run = _both(tmp_path, "requirements.in", "-i", server.url, "-q", "-U")
    assert click_run.returncode == fast_run.returncode == 0, click_run.stderr
    assert fast_run.stdout == click_run.stdout
    assert "lib==2.0\n" in fast_run.stdout
    assert _said(fast_run) == _said(click_run) == ""


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("conflict.in", "--offline"), 1, "unsatisfiable"),  # read from the cache
        (("absent.in",), 2, "absent.in"),
        ((), 2, "no requirements given"),
        (("requirements.in", "--exclude-newer", "someday"), 2, "someday"),
        (("requirements.in", "--python-platform", "vax-vms"), 2, "vax-vms"),
    ],
    ids=["unsatisfiable", "absent-input", "no-input", "bad-date", "bad-platform"],
)
def test_errors_read_the_same(
    tmp_path: Path, server: IndexServer, args: tuple[str, ...], code: int, words: str
) -> None:
    for folder in _folders(tmp_path):  # the unsatisfiable case reads a warm cache offline
        done = _run(_THROUGH_CLICK, folder, "pip", "compile", "conflict.in", "-i", server.url)
        assert done.returncode == 1, done.stderr
    click_run, fast_run = _both(tmp_path, "-i", server.url, *args)
    assert click_run.returncode == fast_run.returncode == code, click_run.stderr
    assert _said(fast_run) == _said(click_run)
    assert words in _said(fast_run)
    assert "Traceback" not in fast_run.stderr


def test_a_warm_offline_compile_does_not_import_click_or_the_http_client(
    tmp_path: Path, server: IndexServer
) -> None:
    """Nor does it import an HTTP client (a cold compile's, httpx, imports click itself)."""
    args = ("requirements.in", "-i", server.url, "-o", "out.txt")
    click_run, fast_run = _both(tmp_path, *args)  # cold: fills each folder's cache
    assert click_run.returncode == fast_run.returncode == 0, fast_run.stderr
    probe = _FAST_PROBE.replace(
        "'click' in sys.modules",
        "sorted({'click', 'httpx', 'ssl', 'asyncio'} & set(sys.modules))",
    )
    (tmp_path / "fast" / "out.txt").unlink()  # else its pins are read as preferences
    warm = _run(probe, tmp_path / "fast", "pip", "compile", *args, "--offline", "-q")
    assert warm.returncode == 0, warm.stderr
    assert warm.stderr.splitlines() == ["click imported: []"]
    assert (tmp_path / "fast" / "out.txt").read_text().count("==") == 3


def test_the_header_names_the_arguments_after_pip_compile(
    tmp_path: Path, server: IndexServer
) -> None:
    """An option before the command does not shift the header's arguments."""
    click_folder, _ = _folders(tmp_path)
    args = ("requirements.in", "-i", server.url, "-o", "out.txt", "-q")
    done = _run(_THROUGH_CLICK, click_folder, "-v", "pip", "compile", *args)
    assert done.returncode == 0, done.stderr
    header = (click_folder / "out.txt").read_text()
    assert f"#    resolvent pip compile {' '.join(args)}\n" in header
