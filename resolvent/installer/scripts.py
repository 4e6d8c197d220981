"""A launcher script is the small executable an install writes for each entry point.

Entry points (``console_scripts``, ``gui_scripts``) become files in the environment's
scripts folder, and ``#!python`` in a wheel's ``.data/scripts`` must point at the
environment's interpreter. Both need the same shebang rules (long paths and spaces need
the ``/bin/sh`` trampoline), and the launcher body is the template pip and uv write, so
tools that inspect launchers see what they expect.

Example::

    launcher_text("/venv/bin/python", "demo.cli", "main").splitlines()[:4]
    # ['#!/venv/bin/python', '# -*- coding: utf-8 -*-', 'import re', 'import sys']
"""

from __future__ import annotations

__all__ = ["launcher_text", "rewrite_shebang", "shebang"]

# A kernel reads at most this many bytes of a ``#!`` line (BINPRM_BUF_SIZE on Linux).
_MAX_SHEBANG = 127

_TEMPLATE = """\
# -*- coding: utf-8 -*-
import re
import sys
from {module} import {import_name}
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit({call}())
"""


def shebang(python: str) -> str:
    """Return the first line(s) that run a script with ``python``, ending in a newline.

    A plain ``#!python`` line when the kernel can read it; otherwise (too long, or with
    spaces) the ``/bin/sh`` trampoline pip and uv use, which Python reads as a string.
    """
    line = f"#!{python}"
    if len(line) <= _MAX_SHEBANG and " " not in python and "\t" not in python:
        return line + "\n"
    quoted = python.replace("'", "'\"'\"'")
    return f"#!/bin/sh\n'''exec' '{quoted}' \"$0\" \"$@\"\n' '''\n"


def launcher_text(python: str, module: str, attr: str) -> str:
    """Return the launcher of entry point ``module:attr`` (``attr`` may be dotted)."""
    import_name = attr.split(".", 1)[0]
    return shebang(python) + _TEMPLATE.format(module=module, import_name=import_name, call=attr)


def rewrite_shebang(data: bytes, python: str) -> bytes | None:
    """Return ``data`` with a ``#!python`` / ``#!pythonw`` first line pointed at ``python``.

    Arguments after the interpreter are kept when the shebang is a plain line. Returns
    ``None`` when the script has no such line and must be installed unchanged.
    """
    first, newline, rest = data.partition(b"\n")
    command, _, arguments = first.rstrip(b"\r").partition(b" ")
    if command not in {b"#!python", b"#!pythonw"}:
        return None
    head = shebang(python).encode()
    if arguments.strip() and head.count(b"\n") == 1:
        head = head[:-1] + b" " + arguments.strip() + b"\n"
    return head + (rest if newline else b"")
