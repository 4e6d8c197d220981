"""A fast reader for the plain subset of TOML that scenario files are written in.

``tomllib`` is pure Python and reads about 25 000 lines a second: a quarter of a second
for a 200-package scenario of 30 versions each (``bench/universes.py``), more than the
SAT engine takes to solve it. Scenario files are regular: table headers of bare or
quoted keys, and ``key = value`` lines whose value is a string, a boolean or a one-line
array of strings. :func:`loads_subset` reads exactly that, line by line with a few
regular expressions, and returns ``None`` the moment a line is anything else (escapes,
numbers, inline tables, multi-line arrays, trailing comments, dotted keys, a repeated
table or key...): the caller then asks ``tomllib``, which reads everything else and
reports every error. On the text it accepts, the answer equals ``tomllib.loads``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["loads_subset"]

# A basic string with no escapes and no control characters (tab allowed), as TOML has it.
_STRING = r'"[^"\\\x00-\x08\x0a-\x1f\x7f]*"'
_KEY = rf"(?:[A-Za-z0-9_-]+|{_STRING})"
_WS = r"[ \t]*"
_HEADER = re.compile(rf"{_WS}\[{_WS}({_KEY}(?:\.{_KEY})*){_WS}\]{_WS}")
_KEY_PART = re.compile(_KEY)
_ASSIGN = re.compile(
    rf"{_WS}({_KEY}){_WS}={_WS}"
    rf"(?:({_STRING})|(true|false)|(\[{_WS}(?:{_STRING}{_WS},{_WS})*(?:{_STRING}{_WS},?{_WS})?\])){_WS}"
)
_ITEM = re.compile(_STRING)
_COMMENT = re.compile(rf"{_WS}(?:#[^\x00-\x08\x0a-\x1f\x7f]*)?")


def _unquote(key: str) -> str:
    return key[1:-1] if key.startswith('"') else key


def loads_subset(text: str) -> dict[str, Any] | None:
    r"""Return ``tomllib.loads(text)`` if ``text`` is plain scenario TOML, else ``None``.

    >>> loads_subset('name = "x"\n[root]\nrequires = ["a>=1", "b"]\n')
    {'name': 'x', 'root': {'requires': ['a>=1', 'b']}}
    >>> loads_subset("size = 3") is None
    True
    """
    root: dict[str, Any] = {}
    table = root
    defined: set[tuple[str, ...]] = set()
    # Header paths already walked -> their table: scenario headers share long prefixes.
    tables: dict[tuple[str, ...], dict[str, Any]] = {(): root}
    # Assignment lines already read -> (key, value): scenarios repeat a few lines often.
    lines: dict[str, tuple[str, str | bool | list[str]]] = {}
    header = _HEADER.fullmatch
    assign = _ASSIGN.fullmatch
    comment = _COMMENT.fullmatch
    for line in text.split("\n"):
        line = line.removesuffix("\r")  # noqa: PLW2901 - CRLF line ends
        if not line:
            continue
        known = lines.get(line)
        if known is None:
            found = assign(line)
            if found is not None:
                string, boolean, array = found.group(2, 3, 4)
                value: str | bool | list[str]
                if string is not None:
                    value = string[1:-1]
                elif boolean is not None:
                    value = boolean == "true"
                else:
                    value = [item[1:-1] for item in _ITEM.findall(array)]
                known = lines[line] = (_unquote(found.group(1)), value)
        if known is not None:
            key, value = known
            if key in table:
                return None
            table[key] = value[:] if isinstance(value, list) else value
            continue
        found = header(line)
        if found is not None:
            path = tuple(map(_unquote, _KEY_PART.findall(found.group(1))))
            if path in defined:
                return None
            defined.add(path)
            parent = tables.get(path[:-1])
            if parent is None:
                parent = root
                for part in path[:-1]:
                    child = parent.setdefault(part, {})
                    if not isinstance(child, dict):
                        return None
                    parent = child
                tables[path[:-1]] = parent
            table = parent.setdefault(path[-1], {})
            if not isinstance(table, dict) or _assigned(table):
                # A value, or a table that already has keys: made by keys of its own
                # or by a header before; tomllib has rules for that we do not repeat.
                return None
            continue
        if comment(line) is None:
            return None
    return root


def _assigned(table: dict[str, Any]) -> bool:
    """Whether ``table`` holds a value that is not a table (assigned by ``key = ...``)."""
    return any(not isinstance(value, dict) for value in table.values())
