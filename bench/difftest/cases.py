"""A reproduction folder for one universe: its data, a readable listing and ``run.sh``.

``run.sh`` reruns the universe from its ``universe.json`` through this checkout's tester
(``python -m bench.difftest --case``): wheels built into a temporary index, served by
``resolvent index serve``, both compilers run with empty caches, both answers and the
verdict printed. Extra arguments go to the tester (``--no-uv``, ``--uv PATH``).
"""

from __future__ import annotations

import json
import shlex
import sys
from typing import TYPE_CHECKING

from bench.difftest.compilers import REPO

if TYPE_CHECKING:
    from pathlib import Path

    from bench.difftest.universe import RandomUniverse

__all__ = ["write_case"]


def write_case(
    folder: Path, universe: RandomUniverse, observed: str = "", source: Path | None = None
) -> Path:
    """Write ``universe`` as a case into ``folder``; return ``folder / "run.sh"``.

    ``source``: the resolvent package folder the case was found with (``run.sh`` tests
    it too, unless given another ``--resolvent-src``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "universe.json").write_text(json.dumps(universe.to_json(), indent=1) + "\n")
    (folder / "in.txt").write_text("\n".join(universe.root) + "\n", encoding="utf-8")
    (folder / "universe.txt").write_text(universe.describe(), encoding="utf-8")
    if observed:
        (folder / "observed.txt").write_text(observed, encoding="utf-8")
    script = folder / "run.sh"
    script.write_text(
        "#!/bin/sh\n"
        "# Rebuilds this universe's wheels, serves them with `resolvent index serve`, runs\n"
        "# resolvent and uv pip compile on in.txt's requirements, prints both and the verdict.\n"
        'here="$(cd "$(dirname "$0")" && pwd)"\n'
        f"cd {shlex.quote(str(REPO))} && exec {shlex.quote(sys.executable)} "
        '-m bench.difftest --case "$here/universe.json"'
        + (f" --resolvent-src {shlex.quote(str(source))}" if source else "")
        + ' "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script
