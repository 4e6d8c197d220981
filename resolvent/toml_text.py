"""TOML text resolvent reads: ``pyproject.toml`` files (local, or inside an sdist) and scenarios.

Python's :mod:`tomllib` reports most malformed text with ``TOMLDecodeError``, and every
reader caught only that. Two other failures escaped as tracebacks, from files an index
controls (any sdist's ``pyproject.toml``) as well as local ones:

- an integer longer than ``sys.get_int_max_str_digits()`` (4,300 digits) raises a plain
  :class:`ValueError` from ``int()``;
- arrays or inline tables nested a few thousand deep raise :class:`RecursionError`,
  since the parser recurses once per level.

Parsed here, both are one more kind of malformed TOML, reported on one line, as
:func:`resolvent.json_text.parse_json` does for JSON. uv refuses both too (``integer
number overflowed``, ``recursion limit exceeded``).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["parse_toml"]


def parse_toml(text: str) -> dict[str, Any]:
    """Parse TOML ``text`` as :func:`tomllib.loads` does.

    >>> parse_toml("a = [1]")
    {'a': [1]}
    >>> parse_toml("a = " + "[" * 100_000 + "]" * 100_000)
    Traceback (most recent call last):
    ...
    ValueError: arrays or tables are nested too deeply
    >>> parse_toml("a = " + "1" * 5000)
    Traceback (most recent call last):
    ...
    ValueError: an integer has more than 4300 digits

    :raises ValueError: the text is not TOML that Python can hold; the message is one
        line, without the parser's internals.
    """
    import tomllib  # noqa: PLC0415 - only a few inputs are TOML; start-up stays lean

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(_first_line(error)) from None
    except RecursionError:
        raise ValueError("arrays or tables are nested too deeply") from None
    except ValueError as error:  # int() refuses a number over the digit limit
        if "integer string conversion" in str(error):
            limit = sys.get_int_max_str_digits()
            raise ValueError(f"an integer has more than {limit} digits") from None
        raise ValueError(_first_line(error)) from None


def _first_line(error: Exception) -> str:
    lines = str(error).splitlines()
    return lines[0] if lines else type(error).__name__
