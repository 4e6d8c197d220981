"""Count the versions whose requirements each engine asks the index for, on one input.

Each lookup is a metadata fetch (or an sdist build) against a real index, so this is
what lazy loading costs there, independently of timing. For PubGrub it also prints the
decisions and conflicts of its runs, the counts that ``auto`` mode's handover to SAT
reads (``resolvent.solver.crosscheck.AUTO_HANDOVER_*``). Run with a warm cache::

    python -m bench.count_loads REQS.in --cache-dir DIR [--offline] [--solver sat ...]
"""

from __future__ import annotations

import argparse
from collections import Counter

from click.testing import CliRunner

from resolvent.cli import cli
from resolvent.index import provider as index_provider
from resolvent.solver._internal.core import SolverState


def main() -> None:
    """Compile the input once per engine and print lookups, distinct versions, and the top."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requirements")
    parser.add_argument("--cache-dir", required=True)
    parser.add_argument("--offline", action="store_true")
    parser.add_argument("--solver", action="append", default=None)
    parser.add_argument("--flags", default="--exclude-newer 2026-01-01 --python-version 3.11")
    args = parser.parse_args()
    asked: list[tuple[str, str]] = []
    original = index_provider.IndexProvider.get_requirements

    def counting(self, name, version, *rest, **options):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN002, ANN003, ANN202
        asked.append((name, str(version)))
        return original(self, name, version, *rest, **options)

    index_provider.IndexProvider.get_requirements = counting  # type: ignore[method-assign]
    searches: list[tuple[int, int]] = []
    solve = SolverState.solve

    def recording(self: SolverState) -> dict[str, object]:
        try:
            return solve(self)  # type: ignore[return-value]
        finally:
            searches.append((self.decisions, self.conflicts))

    SolverState.solve = recording  # type: ignore[assignment,method-assign]
    for solver in args.solver or ["sat", "pubgrub"]:
        asked.clear()
        searches.clear()
        command = ["pip", "compile", args.requirements, "-q", "--solver", solver]
        command += [*args.flags.split(), "--cache-dir", args.cache_dir]
        command += ["--offline"] if args.offline else []
        result = CliRunner().invoke(cli, command)
        distinct = set(asked)
        per_package = Counter(name for name, _ in distinct)
        print(
            f"{solver}: exit {result.exit_code}, {len(asked)} lookups, {len(distinct)} distinct"
            f" versions of {len(per_package)} packages; most: {per_package.most_common(3)}"
            + "".join(f"; pubgrub run: {d} decisions, {c} conflicts" for d, c in searches)
        )


if __name__ == "__main__":
    main()
