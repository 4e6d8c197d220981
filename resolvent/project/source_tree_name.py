"""The project name of a local source tree, read without building it.

A requirement line may be a bare path (``./proj``, ``-e ../lib``), and the resolver needs
the project's name before anything is built. A PEP 621 ``[project]`` table states it;
older projects state it in Poetry's ``[tool.poetry]`` table, in ``setup.cfg``'s
``[metadata]`` section or in a ``setup(name="...")`` call. uv reads the same places, in
this order, before it falls back to building the metadata. We stop at the heuristics:
a project whose name none of them gives is refused with a clear error, where uv would
run its build backend.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from resolvent.toml_text import parse_toml

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["source_tree_name"]

# Every requirements file imports this module (through `requirements_txt`) and nearly
# none names a source tree: `configparser` and `ast` are imported, and the pattern
# compiled (by `re`'s cache), only for a tree that needs them.

#: A name as written in ``setup.cfg`` or ``setup.py`` (checked with ``re.fullmatch``).
_NAME = r"[A-Za-z0-9._-]+"
#: Past this size a ``setup.py`` is not parsed: the search is for ordinary scripts.
_MAX_SETUP_PY = 1 << 20


def source_tree_name(folder: Path) -> str | None:
    """Return the name a source tree declares without running code, or ``None``.

    >>> from pathlib import Path
    >>> source_tree_name(Path("/nonexistent")) is None
    True
    """
    name = _pyproject_name(folder / "pyproject.toml")
    if name is None:
        name = _setup_cfg_name(folder / "setup.cfg")
    if name is None:
        name = _setup_py_name(folder / "setup.py")
    return name


def _pyproject_name(path: Path) -> str | None:
    try:
        # ValueError: malformed TOML, a 5,000-digit integer, nesting too deep; and
        # UnicodeDecodeError, which is one.
        data = parse_toml(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return None
    for table in (data.get("project"), _poetry(data)):
        # `project = "x"` is TOML too: only a table has a name.
        name = table.get("name") if isinstance(table, dict) else None
        if isinstance(name, str):
            return name
    return None


def _poetry(data: dict[str, object]) -> object:
    tool = data.get("tool")
    return tool.get("poetry") if isinstance(tool, dict) else None


def _setup_cfg_name(path: Path) -> str | None:
    import configparser  # noqa: PLC0415 -- see the imports

    parser = configparser.RawConfigParser()
    try:
        with path.open(encoding="utf-8") as stream:
            parser.read_file(stream)
        name = parser.get("metadata", "name", fallback=None)
    except (OSError, ValueError, configparser.Error):  # ValueError: not UTF-8
        return None
    name = (name or "").strip()
    # `attr: pkg.NAME` and interpolations are setuptools' to evaluate.
    return name if re.fullmatch(_NAME, name) else None


def _setup_py_name(path: Path) -> str | None:
    """Return the literal ``name=`` of a ``setup(...)`` call (``setuptools.setup`` too).

    The script is parsed, never run; a name computed in Python (``name=NAME``) is left
    unknown.
    """
    import ast  # noqa: PLC0415 -- see the imports

    try:
        with path.open("rb") as stream:
            data = stream.read(_MAX_SETUP_PY + 1)
    except OSError:
        return None
    if len(data) > _MAX_SETUP_PY:
        return None
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # ValueError: NUL bytes
        return None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        called = function.attr if isinstance(function, ast.Attribute) else None
        if isinstance(function, ast.Name):
            called = function.id
        if called != "setup":
            continue
        for keyword in node.keywords:
            value = keyword.value
            if (
                keyword.arg == "name"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
                and re.fullmatch(_NAME, value.value)
            ):
                return value.value
    return None
