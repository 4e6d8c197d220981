"""The runner makes measurements: each tool, each stack, cold and warm, several runs.

A *cold* run gets a fresh cache folder and a fresh environment; the *warm* run that
follows it gets a fresh environment and the cache the cold run filled. Runs go in
rounds across the tools (every tool's first cold and warm runs, then the second ones),
so that a machine slowing down during a long measurement slows every tool alike. Each run's
commands are timed as a whole (:func:`bench.harness.process.run_commands`); after each
run the environment's distribution set is read, every run of a tool must agree, and
then every tool must agree with the others (:mod:`bench.harness.distributions`): a tool
whose set differs gets a failure with the difference instead of a number. The
resolution benchmark times lock/compile commands after one untimed run has warmed the
tool's metadata cache.

Example::

    >>> runner = Runner(Path("bench/.work"), runs=3)
    >>> results, failures = runner.install(tools, stack, source)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness.distributions import (
    DistributionMismatchError,
    DistributionSet,
    installed,
    reference_set,
)
from bench.harness.process import CommandFailedError, run_commands
from bench.harness.results import Failure, Phase, Result
from bench.harness.tools import Context, Tool, ToolUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bench.harness.stacks import Stack

__all__ = ["Outcome", "Runner", "Source", "count_locked"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where tools get packages from for one stack."""

    index_url: str
    python: Path
    live: bool = False
    find_links: Path | None = None
    conda_channel: str | None = None


@dataclass(slots=True)
class Outcome:
    """What measuring one stack produced: results, failures, notes, distribution sets."""

    results: list[Result] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sets: dict[str, DistributionSet] = field(default_factory=dict)

    def extend(self, other: Outcome) -> None:
        """Add ``other``'s contents to this outcome."""
        self.results += other.results
        self.failures += other.failures
        self.notes += other.notes
        self.sets.update(other.sets)


@dataclass(slots=True)
class _Tally:
    """One tool's runs on one stack so far: times per phase, distribution sets, notes."""

    tool: Tool
    times: dict[Phase, list[float]]
    sets: set[DistributionSet] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    failure: Failure | None = None


_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?==", re.MULTILINE)


def count_locked(folder: Path) -> int:
    """Count the packages a lock/compile command wrote into ``folder``.

    ``poetry.lock`` and ``pdm.lock`` count ``[[package]]`` tables; requirements files
    count ``name==version`` lines (the first file found).
    """
    for name in ("poetry.lock", "pdm.lock", "project/poetry.lock", "project/pdm.lock"):
        path = folder / name
        if path.is_file():
            return path.read_text(encoding="utf-8").count("[[package]]")
    for path in sorted(folder.glob("requirements*.txt")):
        return len(_PINNED.findall(path.read_text(encoding="utf-8")))
    return 0


#: Below this much free space in the work folder, the trash is emptied before a run.
MIN_FREE_BYTES = 20 << 30


def _first_line(error: BaseException) -> str:
    """Return a one-line reason: for a failed command, its name and last output line."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if isinstance(error, CommandFailedError):
        words = [Path(error.argv[0]).name] if error.argv else []
        words += [a for a in error.argv[1:5] if not a.startswith(("/", "http", "-"))]
        last = error.output.strip().splitlines()[-1:] or [""]
        return f"`{' '.join(words)}` exited with {error.returncode}: {last[0].strip()}"
    return lines[0] if lines else type(error).__name__


class Runner:
    """Run measurements under ``work`` (``runs/``, ``cache/`` and ``logs/`` inside it)."""

    def __init__(
        self,
        work: Path,
        *,
        runs: int = 3,
        phases: Sequence[Phase] = ("cold", "warm"),
        keep: bool = False,
        timeout: float = 3600,
        settle: float = 0.0,
        say: Callable[[str], None] = print,
    ) -> None:
        if runs < 1:
            raise ValueError("runs must be at least 1")
        self.work = work
        self.runs = runs
        self.phases = tuple(phases)
        self.keep = keep
        self.timeout = timeout
        self.settle = settle
        self.say = say
        self.trash = work / "trash"
        self._discarded = 0

    # ----------------------------------------------------------------- trees

    def _fresh(self, path: Path) -> Path:
        """Return ``path`` as a new empty folder, its old contents moved to the trash."""
        self.discard(path)
        path.mkdir(parents=True)
        return path

    def discard(self, path: Path) -> None:
        """Move a tree the measurements are done with into the trash, deleting nothing.

        Deleting tens of thousands of files makes the file system slow to create the
        next ones, for minutes, whichever tool comes next (on this ext4 without a journal;
        figures in ``bench/harness/README.md``). A rename frees no inode, so the trees are
        deleted once, after the last measurement (:meth:`empty_trash`), or earlier when
        free space runs short.
        """
        if not path.exists():
            return
        self.trash.mkdir(parents=True, exist_ok=True)
        self._discarded += 1
        target = self.trash / f"{self._discarded}-{path.name}"
        while target.exists():
            self._discarded += 1
            target = self.trash / f"{self._discarded}-{path.name}"
        try:
            path.rename(target)
        except OSError:  # another file system (a work folder split by mounts)
            shutil.rmtree(path)

    def empty_trash(self) -> None:
        """Delete the discarded trees; call it once the measurements are over."""
        shutil.rmtree(self.trash, ignore_errors=True)

    def _make_room(self) -> None:
        """Empty the trash before a run when free space is short, and say so."""
        if not self.trash.exists():
            return
        if shutil.disk_usage(self.work).free >= MIN_FREE_BYTES:
            return
        self.say("  (free space is short: deleting the finished runs' trees now)")
        self.empty_trash()

    # ----------------------------------------------------------------- install

    def _context(self, stack: Stack, source: Source, workdir: Path, cache: Path) -> Context:
        return Context(
            stack=stack,
            python=source.python,
            workdir=workdir,
            cache=cache,
            index_url=source.index_url,
            live=source.live,
            find_links=source.find_links,
            conda_channel=source.conda_channel,
        )

    def _one(
        self, tool: Tool, stack: Stack, source: Source, label: str, cache: Path
    ) -> tuple[float, DistributionSet, str | None]:
        workdir = self._fresh(self.work / "runs" / tool.name / stack.name / label)
        plan = tool.install_plan(self._context(stack, source, workdir, cache))
        log = self.work / "logs" / tool.name / stack.name / f"{label}.log"
        self._make_room()
        self._settle()
        try:
            seconds = run_commands(plan.commands, env=plan.env, log=log, timeout=self.timeout)
            found = installed(plan.environment, keep=plan.keep)
        finally:
            if not self.keep:
                self.discard(workdir)
        return seconds, found, plan.note

    def _settle(self) -> None:
        """Flush and wait before a timed command, so the last run's writes cost it nothing.

        The last run wrote gigabytes (nothing is deleted between runs: see
        :meth:`discard`); its write-back would otherwise compete with the next one.
        Every tool gets the same pause, outside its timing.
        """
        if self.settle > 0:
            os.sync()
            time.sleep(self.settle)

    def _round(self, tally: _Tally, stack: Stack, source: Source, index: int) -> None:
        """Run one tool's cold run ``index`` and the warm run that follows it."""
        tool = tally.tool
        phase: Phase = "cold"
        cache = self._fresh(self.work / "cache" / tool.name / stack.name / f"run-{index}")
        try:
            for phase in ("cold", "warm"):
                if phase == "warm" and "warm" not in self.phases:
                    break
                seconds, found, note = self._one(tool, stack, source, f"{phase}-{index}", cache)
                if note and note not in tally.notes:
                    tally.notes.append(note)
                tally.sets.add(found)
                if phase in tally.times:
                    tally.times[phase].append(seconds)
                    self.say(
                        f"  {tool.name:<10} {stack.name} {phase} run {index + 1}: "
                        f"{seconds:.2f} s, {len(found)} distributions"
                    )
        except (CommandFailedError, ToolUnavailableError, OSError) as error:
            self.say(f"  {tool.name:<10} {stack.name} {phase}: failed: {_first_line(error)}")
            tally.failure = Failure(tool.name, stack.name, phase, _first_line(error))
        finally:
            if not self.keep:
                self.discard(cache)

    def _tool_outcome(self, tally: _Tally, stack: Stack) -> Outcome:
        """Turn one tool's runs into results, or into its failure."""
        tool = tally.tool
        outcome = Outcome(notes=list(tally.notes))
        if tally.failure is not None:
            outcome.failures.append(tally.failure)
            return outcome
        if len(tally.sets) > 1:
            runs = {f"run {i}": s for i, s in enumerate(sorted(tally.sets, key=sorted))}
            mismatch = DistributionMismatchError(
                f"{tool.name} on {stack.name}", reference_set(runs)[1]
            )
            outcome.failures.append(Failure(tool.name, stack.name, "cold", str(mismatch)))
            return outcome
        (found,) = tally.sets
        outcome.sets[tool.name] = found
        for phase_name, values in tally.times.items():
            outcome.results.append(
                Result.from_runs(
                    tool.name,
                    stack.name,
                    phase_name,
                    values,
                    distributions=len(found),
                    label=tool.label,
                )
            )
        return outcome

    def install(self, tools: Sequence[Tool], stack: Stack, source: Source) -> Outcome:
        """Measure every tool on ``stack``; drop the numbers of tools that did other work.

        Runs go in rounds: round ``i`` makes every tool's cold run ``i`` and the warm
        run that follows it, tool after tool. Measured tool by tool instead, the tools
        measured last paid for the state the first ones left behind: on this class of
        VM, after minutes of writing gigabytes, the same warm install of seed-ml linked
        in 0.7 s at first and 1.6 s four rounds later, and a tool's order in the list
        decided more of its warm figure than the tool did.
        """
        tallies = [_Tally(tool, {phase: [] for phase in self.phases}) for tool in tools]
        for index in range(self.runs):
            for tally in tallies:
                if tally.failure is None:
                    self._round(tally, stack, source, index)
        outcome = Outcome()
        for tally in tallies:
            outcome.extend(self._tool_outcome(tally, stack))
        reference, differences = reference_set(outcome.sets)
        if differences:
            error = DistributionMismatchError(stack.name, differences)
            self.say(str(error))
            for who in differences:
                reason = str(DistributionMismatchError(stack.name, {who: differences[who]}))
                outcome.failures.append(Failure(who, stack.name, "cold", reason))
            outcome.results = [r for r in outcome.results if r.tool not in differences]
        if reference:
            outcome.notes.append(
                f"{stack.name}: every reported tool installed the same {len(reference)} "
                "distributions (pip, setuptools and wheel seeded by environment creators "
                "are not counted)"
            )
        return outcome

    # ----------------------------------------------------------------- resolve

    def resolve_tool(self, tool: Tool, stack: Stack, source: Source) -> Outcome:
        """Time ``tool``'s lock/compile of ``stack`` after one untimed warm-up run."""
        outcome = Outcome()
        cache = self.work / "cache" / "resolve" / tool.name / tool.label.replace(" ", "-")
        cache.mkdir(parents=True, exist_ok=True)
        try:
            workdir = self._fresh(
                self.work / "runs" / "resolve" / tool.name / stack.name / "warmup"
            )
            variants = tool.resolve_plans(self._context(stack, source, workdir, cache))
        except (ToolUnavailableError, CommandFailedError) as error:
            outcome.failures.append(Failure(tool.name, stack.name, "resolve", _first_line(error)))
            return outcome
        for variant, warmup in variants:
            name = variant or tool.name
            if warmup.note and warmup.note not in outcome.notes:
                outcome.notes.append(warmup.note)
            log_dir = self.work / "logs" / "resolve" / tool.name / stack.name
            try:
                run_commands(
                    warmup.commands,
                    env=warmup.env,
                    log=log_dir / f"{name}-warmup.log",
                    timeout=self.timeout,
                )
                times: list[float] = []
                count = 0
                for index in range(self.runs):
                    workdir = self._fresh(
                        self.work / "runs" / "resolve" / tool.name / stack.name / f"{index}"
                    )
                    plans = dict(tool.resolve_plans(self._context(stack, source, workdir, cache)))
                    plan = plans[variant]
                    times.append(
                        run_commands(
                            plan.commands,
                            env=plan.env,
                            log=log_dir / f"{name}-{index}.log",
                            timeout=self.timeout,
                        )
                    )
                    count = count_locked(workdir)
                    self.say(
                        f"  {name:<12} {stack.name} resolve run {index + 1}: {times[-1]:.2f} s, "
                        f"{count} packages locked"
                    )
            except CommandFailedError as error:
                self.say(f"  {name:<12} {stack.name} resolve: failed: {_first_line(error)}")
                reason = f"{name}: {_first_line(error)}"
                outcome.failures.append(Failure(tool.name, stack.name, "resolve", reason))
                continue
            outcome.results.append(
                Result.from_runs(
                    tool.name,
                    stack.name,
                    "resolve",
                    times,
                    distributions=count,
                    variant=variant,
                    label=tool.label,
                )
            )
        return outcome
