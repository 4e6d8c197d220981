"""``python -m bench.difftest``: resolvent against uv and an exhaustive oracle, at random.

::

    python -m bench.difftest --seed 31 --count 250 --full --jobs 2 --out OUT
    python -m bench.difftest --seed 31 --only 17,42 --full     # rerun two universes
    python -m bench.difftest --case OUT/differences/s31u17.json  # one recorded universe
    python -m bench.difftest --seed 5 --count 100 --no-uv        # resolvent vs the oracle

It prints one line per differing universe and a summary, and writes ``summary.json`` and
one record per differing universe (``differences/s<seed>u<idx>.json``: both runs, the
oracle's answer, the verdict, the universe and a command that reproduces it) into the
output folder. With ``--minimize``, each universe where resolvent errs, answers wrongly
or contradicts the oracle is also shrunk to a minimal case folder (``cases/``) with a
``run.sh``. Without ``--out`` the records go to a new temporary folder, and the wheels,
caches and work folders are deleted at the end.
"""

from __future__ import annotations

import argparse
import collections
import json
import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.difftest.cases import write_case
from bench.difftest.compilers import REPO, UvMissingError, find_uv
from bench.difftest.minimize import failure_signature, minimize, resolvent_outcome
from bench.difftest.runner import RoundFolders, run_round
from bench.difftest.universe import RandomUniverse, generate
from bench.harness.process import run_quiet

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bench.difftest.runner import Outcome

__all__ = ["main"]

#: The summary's rows: class -> label, in the order they are printed.
LABELS = {
    "resolvent-error": "resolvent errors",
    "resolvent-invalid": "resolvent invalid",
    "uv-invalid": "uv invalid",
    "satisfiability-differs": "satisfiability differs",
    "resolvent-vs-oracle": "resolvent vs oracle (satisfiability)",
    "uv-vs-oracle": "uv vs oracle (satisfiability)",
    "pins-differ": "both valid, different pins",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.difftest",
        description="Compile random small universes with resolvent and uv; check both "
        "answers against an exhaustive search.",
    )
    parser.add_argument("--seed", type=int, help="which family of universes")
    parser.add_argument("--count", type=int, default=50, help="how many universes (50)")
    parser.add_argument("--start", type=int, default=0, help="the first universe's index (0)")
    parser.add_argument("--only", default="", help="comma-separated universe indexes instead")
    parser.add_argument("--full", action="store_true", help="every feature (see universe.py)")
    parser.add_argument("--jobs", type=int, default=2, help="universes at a time (2)")
    parser.add_argument("--out", type=Path, help="output folder (default: a new temp folder)")
    parser.add_argument("--uv", type=Path, help="the uv to compare with (default: make bench's)")
    parser.add_argument("--no-uv", action="store_true", help="resolvent against the oracle only")
    parser.add_argument(
        "--minimize", action="store_true", help="shrink resolvent's failures to case folders"
    )
    parser.add_argument(
        "--case",
        type=Path,
        help="run one universe.json or difference record (with --minimize: shrink it into --out)",
    )
    parser.add_argument(
        "--resolvent-src",
        type=Path,
        help="a folder whose `resolvent` package to test instead of the installed one "
        "(e.g. `git archive HEAD resolvent | tar -x -C DIR`, while the checkout is edited)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tester; return 0, or 1 when resolvent was wrong somewhere, 2 on bad use."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.case is None and args.seed is None:
        parser.error("give --seed (and --count) or --case")
    if args.case is not None and args.minimize and args.out is None:
        parser.error("--case with --minimize needs --out (where the case folder goes)")
    # A plain SIGTERM would end the interpreter without unwinding: the index server
    # (a child in its own session) would be left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    source: Path | None = args.resolvent_src.resolve() if args.resolvent_src else None
    if args.case is not None and args.minimize:  # resolvent alone: no uv needed
        return _minimize_record(args.case, args.out, source)
    uv: Path | None = None
    if not args.no_uv:
        try:
            uv = find_uv(args.uv)
        except UvMissingError as missing:
            print(f"error: {missing}", file=sys.stderr)
            return 2
    if args.case is not None:
        return _run_case(args.case, uv, args.out, source)
    if args.only:
        indexes = [int(x) for x in args.only.split(",")]
    else:
        indexes = list(range(args.start, args.start + args.count))
    universes = [generate(args.seed, i, full=args.full) for i in indexes]
    temporary = args.out is None
    out: Path = args.out or Path(tempfile.mkdtemp(prefix=f"difftest-{args.seed}-"))
    out.mkdir(parents=True, exist_ok=True)
    folders = RoundFolders(out)
    differences = out / "differences"
    shutil.rmtree(differences, ignore_errors=True)
    differences.mkdir()
    reproduce = ["python", "-m", "bench.difftest", "--seed", str(args.seed)]
    mode = ["--full"] if args.full else []
    if source is not None:
        mode += ["--resolvent-src", str(source)]
    done = 0

    def report(outcome: Outcome) -> None:
        nonlocal done
        done += 1
        if outcome.verdict.classes:
            u = outcome.universe
            record = outcome.to_json()
            record["reproduce"] = shlex.join([*reproduce, "--only", str(u.idx), *mode])
            path = differences / f"s{u.seed}u{u.idx}.json"
            path.write_text(json.dumps(record, indent=1, default=str) + "\n", encoding="utf-8")
            rv, other = outcome.resolvent, outcome.uv
            exits = f"resolvent={rv.returncode}" + (
                "" if other is None else f" uv={other.returncode}"
            )
            print(f"u{u.idx:<4} {exits} {' '.join(outcome.verdict.classes)}", flush=True)
        elif done % 25 == 0:
            print(f"... {done}/{len(universes)}", flush=True)

    start = time.monotonic()
    outcomes = run_round(universes, folders, uv=uv, jobs=args.jobs, report=report, source=source)
    summary = _summary(outcomes, args.seed, full=args.full, seconds=time.monotonic() - start)
    summary["resolvent"] = _tested(source)
    summary["command"] = shlex.join(["python", "-m", "bench.difftest", *(argv or sys.argv[1:])])
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    _print_summary(summary, differences)
    failing = [o for o in outcomes if failure_signature(o) is not None]
    if args.minimize:
        for outcome in failing:
            _minimize_case(outcome, out / "cases", source)
    if temporary:
        for bulky in ("index", "work", "cache"):
            shutil.rmtree(out / bulky, ignore_errors=True)
    return 1 if failing else 0


def _summary(outcomes: list[Outcome], seed: int, *, full: bool, seconds: float) -> dict[str, Any]:
    counts: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    for outcome in outcomes:
        counts.update(outcome.verdict.classes)
        if outcome.verdict.preference is not None:
            kinds[outcome.verdict.preference["kind"]] += 1
        if outcome.brute.satisfiable is None:
            counts["oracle-gave-up"] += 1
        if any(n.startswith("uv-prerelease-rule") for n in outcome.verdict.notes):
            counts["uv-prerelease-rule"] += 1
    return {
        "seed": seed,
        "full": full,
        "universes": len(outcomes),
        "agree": sum(1 for o in outcomes if not o.verdict.classes),
        "differ": sum(1 for o in outcomes if o.verdict.classes),
        "classes": dict(counts),
        "preference_kinds": dict(kinds),
        "seconds": round(seconds, 1),
    }


def _print_summary(summary: dict[str, Any], differences: Path) -> None:
    print(
        f"seed {summary['seed']}{' (full)' if summary['full'] else ''}: "
        f"{summary['universes']} universes, {summary['agree']} agree, "
        f"{summary['differ']} differ ({summary['seconds']:.0f} s)"
    )
    classes = summary["classes"]
    for key, label in LABELS.items():
        line = f"  {label:<40}{classes.get(key, 0):>5}"
        if key == "pins-differ" and summary["preference_kinds"]:
            kinds = summary["preference_kinds"]
            line += "  (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")"
        if key == "uv-vs-oracle" and classes.get("uv-prerelease-rule"):
            line += f"  ({classes['uv-prerelease-rule']} by uv's default pre-release rule)"
        print(line)
    if classes.get("oracle-gave-up"):
        print(f"  {'oracle gave up':<40}{classes['oracle-gave-up']:>5}")
    print(f"records: {differences}")


def _tested(source: Path | None) -> str:
    """Say which resolvent ran: a source folder, or this checkout's commit (and if edited)."""
    if source is not None:
        return str(source)
    try:
        head = run_quiet(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]).strip()
        edited = run_quiet(["git", "-C", str(REPO), "status", "--porcelain", "resolvent"]).strip()
    except (OSError, RuntimeError):
        return str(REPO)
    return f"{REPO} at {head}{' with uncommitted changes' if edited else ''}"


def _minimize_record(path: Path, out: Path, source: Path | None) -> int:
    data = json.loads(path.read_text(encoding="utf-8"))
    universe = RandomUniverse.from_json(data.get("universe", data))
    outcome = resolvent_outcome(universe, source)
    if failure_signature(outcome) is None:
        print("resolvent does nothing wrong on this universe (now): nothing to minimise")
        return 0
    _minimize_case(outcome, out, source)
    return 1


def _minimize_case(outcome: Outcome, cases: Path, source: Path | None) -> None:
    signature = failure_signature(outcome)
    assert signature is not None
    u = outcome.universe
    print(f"minimising s{u.seed}u{u.idx} ({signature[0]} {signature[1]})...", flush=True)
    small = minimize(u, signature, source=source)
    final = resolvent_outcome(small, source)
    observed = (
        f"{' '.join(final.verdict.classes)}\nresolvent exit {final.resolvent.returncode}\n"
        f"pins: {final.resolvent.pins}\nviolations: {final.verdict.violations}\n"
        f"oracle: {final.brute.satisfiable} {final.brute.solution}\n\n{final.resolvent.stderr}"
    )
    script = write_case(cases / f"s{u.seed}u{u.idx}", small, observed, source)
    print(f"  -> {script}")


def _run_case(path: Path, uv: Path | None, out: Path | None, source: Path | None) -> int:
    data = json.loads(path.read_text(encoding="utf-8"))
    universe = RandomUniverse.from_json(data.get("universe", data))
    with tempfile.TemporaryDirectory(prefix="difftest-case-") as tmp:
        folders = RoundFolders(out or Path(tmp))
        [outcome] = run_round(
            [universe], folders, uv=uv, jobs=1, report=lambda _: None, source=source
        )
    print(universe.describe())
    for run in (outcome.resolvent, outcome.uv):
        if run is None:
            continue
        print(f"===== {run.tool} (exit {run.returncode}, {run.seconds:.1f} s)")
        if run.pins is not None:
            print("\n".join(f"{n}=={v}" for n, v in sorted(run.pins.items())))
        print(run.stderr.strip())
    brute = outcome.brute
    print(f"===== oracle: satisfiable={brute.satisfiable} {brute.solution or ''}")
    print(f"===== verdict: {' '.join(outcome.verdict.classes) or 'agree'}")
    for tool, violations in outcome.verdict.violations.items():
        for violation in violations:
            print(f"  {tool}: {violation}")
    for note in outcome.verdict.notes:
        print(f"  note: {note}")
    if outcome.verdict.preference is not None:
        print(f"  preference: {outcome.verdict.preference}")
    return 1 if failure_signature(outcome) is not None else 0
