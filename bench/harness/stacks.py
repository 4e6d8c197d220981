"""A stack is a named requirements file that every tool installs or resolves the same way.

Install stacks are plain requirement files in ``bench/stacks/`` (``web.txt``,
``seed-ml.txt``). Resolution-only sets are the ``*.in`` files of
``../shared/bench-requirements/`` (relative to the repository root), read in place; when
that folder is absent they are skipped with a message. :func:`requirement_lines` gives
the PEP 508 lines of a file (comments, blank lines and pip options dropped), which is what
tools without a requirements-file reader (poetry, pdm, conda) get.

Example::

    >>> install_stack("web").name
    'web'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "REPO",
    "RESOLVE_SETS",
    "SHARED_REQUIREMENTS",
    "STACKS_DIR",
    "Stack",
    "install_stack",
    "requirement_lines",
    "resolve_stacks",
]

REPO = Path(__file__).resolve().parents[2]
STACKS_DIR = REPO / "bench" / "stacks"
#: The resolution-only sets live beside the repository, not in it.
SHARED_REQUIREMENTS = REPO / ".." / "shared" / "bench-requirements"
#: The resolution-only sets the issue names, as paths inside SHARED_REQUIREMENTS: the
#: large ones are home-assistant and airflow.
RESOLVE_SETS = (
    "trio.in",
    "jupyter.in",
    "home-assistant.in",
    "airflow.in",
    "backtracking/apache-beam-dill.in",
    "backtracking/numpy-numba.in",
    "backtracking/numpy-sparse.in",
    "backtracking/sentry.in",
    "backtracking/starlette-fastapi.in",
)


@dataclass(frozen=True, slots=True)
class Stack:
    """A requirements file and the name its results are filed under."""

    name: str
    path: Path
    kind: Literal["install", "resolve"] = "install"

    def requirements(self) -> list[str]:
        """Return the file's PEP 508 requirement lines."""
        return requirement_lines(self.path)


def requirement_lines(path: Path) -> list[str]:
    """Return the requirement lines of a requirements file.

    Comments (whole-line and trailing `` #``), blank lines, line continuations and option
    lines (``-r``, ``--index-url``, ...) are dropped; what is left is PEP 508.
    """
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        lines.append(line)
    return lines


def install_stack(name: str, folder: Path = STACKS_DIR) -> Stack:
    """Return the install stack ``name`` (``bench/stacks/<name>.txt``)."""
    path = folder / f"{name}.txt"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.txt")))
        raise FileNotFoundError(f"no stack `{name}` in `{folder}` (known: {known})")
    return Stack(name, path)


def resolve_stacks(folder: Path = SHARED_REQUIREMENTS) -> tuple[list[Stack], list[str]]:
    """Return the resolution-only sets that exist, and a message for each one missing."""
    stacks: list[Stack] = []
    missing: list[str] = []
    for relative in RESOLVE_SETS:
        path = folder / relative
        if path.is_file():
            name = relative.removesuffix(".in").replace("/", "-")
            stacks.append(Stack(name, path, "resolve"))
        else:
            missing.append(f"skipping resolution set `{relative}`: `{path}` does not exist")
    return stacks, missing
