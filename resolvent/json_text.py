"""JSON text that resolvent reads back from disk: its caches, ``direct_url.json``, answers.

Every reader of such a file treats content it cannot use as absent or damaged and
catches :class:`ValueError` for that (``json.JSONDecodeError`` is one). Python's JSON
parser recurses once per nesting level, though, and ``[[[[...`` a hundred thousand
deep raises :class:`RecursionError` instead, which those handlers missed: one damaged
cache file or ``direct_url.json`` gave a traceback in ``list``, ``freeze`` and
``install``. Parsed here, nesting too deep is one more kind of malformed JSON.
"""

from __future__ import annotations

import json

from resolvent import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

__all__ = ["parse_json"]


def parse_json(text: str | bytes) -> Any:
    """Parse JSON ``text`` as :func:`json.loads` does.

    >>> parse_json('{"a": [1]}')
    {'a': [1]}
    >>> parse_json("[" * 100_000 + "]" * 100_000)
    Traceback (most recent call last):
    ...
    ValueError: the JSON is nested too deeply

    :raises ValueError: the text is not JSON, including JSON nested deeper than the
        parser can recurse (uv refuses it too: ``recursion limit exceeded``).
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
