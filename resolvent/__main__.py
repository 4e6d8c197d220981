"""Run the command line interface as ``python -m resolvent``."""

from __future__ import annotations

from resolvent.cli import main

if __name__ == "__main__":
    main()
