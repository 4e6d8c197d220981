"""Run the command line interface as ``python -m resolvent``."""

from __future__ import annotations

from resolvent.cli import run

if __name__ == "__main__":
    run()
