"""The entry point of ``python -m bench.difftest`` (see :mod:`bench.difftest.cli`)."""

from __future__ import annotations

from bench.difftest.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
