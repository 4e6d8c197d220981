"""The entry point of ``python -m bench``: the installer comparison harness.

``make bench`` and ``make bench-quick`` run this module; everything it does lives in
:mod:`bench.harness` (see :mod:`bench.harness.cli` for the options).
"""

from __future__ import annotations

from bench.harness.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
