"""The harness's command line: ``python -m bench`` measures, records and renders.

``make bench`` runs the ``seed-ml`` stack with three runs per phase; ``make bench-quick``
(``--quick``) runs the ``web`` stack once per phase and writes
``bench/results/quick.json``. A full run writes ``bench/results/<date>-<stack>.json``,
the Markdown table beside it (``.md``) and a bar chart (``.png``); a later run on the
same day adds ``-2``, ``-3``... rather than replace them. ``--resolve`` times
the lock/compile commands on the resolution-only sets instead. ``--live`` installs from
the real index rather than the local mirror.

Example::

    python -m bench --quick
    python -m bench --stack web --runs 5 --tools pip,uv
    python -m bench --resolve --runs 3
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from bench.harness import machine
from bench.harness.mirror import ChannelServer, Mirror, default_index_url
from bench.harness.process import CommandFailedError, run_quiet
from bench.harness.results import PHASES, Failure, Record
from bench.harness.runner import Outcome, Runner, Source
from bench.harness.stacks import REPO, Stack, install_stack, resolve_stacks
from bench.harness.table import render
from bench.harness.tools import (
    Conda,
    Tool,
    ToolUnavailableError,
    all_tools,
    pip_tools,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ["main", "parse_args"]

BENCH = REPO / "bench"
DEFAULT_WORK = BENCH / ".work"
DEFAULT_MIRROR = BENCH / ".mirror"
DEFAULT_RESULTS = BENCH / "results"
#: Seconds to wait (after a flush) before each timed install: see ``Runner._settle``.
SETTLE_SECONDS = 6.0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Compare Python installers on this machine."
    )
    parser.add_argument("--quick", action="store_true", help="stack `web`, one run each")
    parser.add_argument("--stack", default=None, help="install stack (default: seed-ml)")
    parser.add_argument("--runs", type=int, default=None, help="runs per phase (default: 3)")
    parser.add_argument(
        "--tools",
        default="pip,poetry,conda,uv,pdm,resolvent",
        help="comma-separated tools (default: all)",
    )
    parser.add_argument(
        "--phases", default="cold,warm", help="comma-separated: cold, warm (default: both)"
    )
    parser.add_argument("--live", action="store_true", help="use the real index, not the mirror")
    parser.add_argument(
        "--find-links",
        type=Path,
        default=None,
        help="local wheel folder (default: pip's configured find-links, when it has "
        "a wheel the stack asks for)",
    )
    parser.add_argument("--no-find-links", action="store_true", help="use no local wheels")
    parser.add_argument("--resolve", action="store_true", help="time lock/compile instead")
    parser.add_argument(
        "--sets",
        default=None,
        help="with --resolve: comma-separated set names, e.g. trio,jupyter (default: all; "
        "--quick: trio)",
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds before a command is abandoned"
    )
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help=argparse.SUPPRESS)
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR, help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="output folder")
    parser.add_argument("--keep", action="store_true", help="keep environments and caches")
    args = parser.parse_args(argv)
    if args.quick:
        args.stack = args.stack or "web"
        args.runs = args.runs or 1
    args.stack = args.stack or "seed-ml"
    args.runs = args.runs or 3
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not phases or any(p not in PHASES or p == "resolve" for p in phases):
        parser.error("--phases takes cold and/or warm")
    args.phases = phases
    return args


def _say(text: str) -> None:
    print(text, flush=True)


def configured_find_links() -> list[Path]:
    """Return the local folders pip's configuration names as find-links (read at run time)."""
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    folders: list[Path] = []
    for line in completed.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.endswith("find-links"):
            for item in value.strip().strip("'\"").split():
                path = Path(item.removeprefix("file://"))
                if path.is_dir() and path not in folders:
                    folders.append(path)
    return folders


def wheel_folder_for(stack: Stack, candidates: Sequence[Path]) -> Path | None:
    """Return the first folder holding a wheel of a project the stack asks for directly."""
    wanted = set()
    for line in stack.requirements():
        with contextlib.suppress(InvalidRequirement):
            wanted.add(canonicalize_name(Requirement(line).name))
    for folder in candidates:
        for wheel in folder.glob("*.whl"):
            with contextlib.suppress(ValueError):
                if parse_wheel_filename(wheel.name)[0] in wanted:
                    return folder
    return None


def _select_tools(names: str, work: Path, python: Path) -> list[Tool]:
    tools = all_tools(work / "tools", python=python)
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in tools]
    if unknown:
        raise SystemExit(f"unknown tool(s): {', '.join(unknown)} (known: {', '.join(tools)})")
    return [tools[n] for n in chosen]


def _prepare(tools: Sequence[Tool], stack: str) -> tuple[list[Tool], list[Failure], dict[str, str]]:
    """Install each tool (once); return the usable ones, failures, and versions."""
    ready: list[Tool] = []
    failures: list[Failure] = []
    versions: dict[str, str] = {}
    for tool in tools:
        try:
            _say(f"tool {tool.name}: preparing {tool.label}")
            tool.ensure()
            reason = tool.unavailable()
            with contextlib.suppress(CommandFailedError, OSError):
                versions[tool.name] = tool.version()
        except (CommandFailedError, OSError) as error:
            reason = f"could not install: {str(error).splitlines()[0]}"
        if reason is not None:
            _say(f"tool {tool.name}: {reason}")
            failures += [Failure(tool.name, stack, phase, reason) for phase in ("cold", "warm")]
            continue
        ready.append(tool)
    return ready, failures, versions


def _conda_channel(conda: Conda, mirror: Mirror) -> tuple[Path, list[str]]:
    """Build (or reuse) the conda channel converted from every wheel in the mirror."""
    channel = mirror.root / "conda-channel"
    names = sorted(p.name for p in mirror.files.glob("*.whl"))
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()
    stamp = mirror.root / "stamps" / "conda-channel.json"
    wanted = {"wheels": digest, "driver": conda.version()}
    if stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")) == wanted:
        return channel, []
    if channel.exists():
        import shutil  # noqa: PLC0415 - only here

        shutil.rmtree(channel)
    output = run_quiet([*conda.driver, "channel", str(mirror.files), str(channel)])
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(wanted), encoding="utf-8")
    return channel, [line for line in output.splitlines() if line.startswith("warning:")]


@contextlib.contextmanager
def _sources(
    args: argparse.Namespace, stack: Stack, tools: Sequence[Tool], python: Path, notes: list[str]
) -> Iterator[Source]:
    """Fetch the mirror, start its servers, and yield where tools install from."""
    find_links = None
    if not args.no_find_links:
        candidates = [args.find_links] if args.find_links else configured_find_links()
        find_links = wheel_folder_for(stack, candidates)
        if find_links is not None:
            notes.append(f"{stack.name}: local wheels from `{find_links}` (--find-links)")
    conda = next((t for t in tools if isinstance(t, Conda)), None)
    mirror = Mirror(args.mirror)
    with contextlib.ExitStack() as stack_of_servers:
        if not args.live or conda is not None:
            _say(f"mirror: fetching the files of `{stack.name}` into {mirror.files}")
            for warning in mirror.add_stack(stack, find_links=find_links):
                _say(f"mirror: {warning}")
                notes.append(f"mirror: {warning}")
        channel_url = None
        if conda is not None:
            channel, warnings = _conda_channel(conda, mirror)
            notes += [f"conda channel: {w.removeprefix('warning: ')}" for w in warnings]
            channel_url = stack_of_servers.enter_context(ChannelServer(channel)).url
            notes.append(
                "conda row: py-rattler solves and installs `.conda` packages the harness "
                "converted from the same wheels, served over HTTP on 127.0.0.1; the "
                "channel has no `python` package, so the prefix is made by "
                "`python -m venv --without-pip` (timed) and no interpreter is installed"
            )
        if args.live:
            index_url = default_index_url()
            notes.append(f"{stack.name}: live run against the real index (network included)")
            yield Source(
                index_url, python, live=True, find_links=find_links, conda_channel=channel_url
            )
        else:
            server = stack_of_servers.enter_context(mirror.serve())
            notes.append(
                f"{stack.name}: every tool installed from a local mirror served on 127.0.0.1 "
                "by resolvent's index server (network excluded)"
            )
            yield Source(server.url, python, conda_channel=channel_url)


def _output_stem(args: argparse.Namespace, stack: str) -> str:
    """Return the results' file name without suffix: ``<date>-<stack>``, never an old one's.

    A second full run on the same day gets ``-2`` (then ``-3``...): the records of earlier
    runs are evidence that notes and the README cite, and a rerun overwrote them. The
    quick run's ``quick`` is a scratch record, replaced each time.
    """
    if args.quick:
        return "quick"
    stem = f"{dt.datetime.now(tz=dt.UTC).date().isoformat()}-{stack}"
    taken = (
        {path.name for path in args.results.glob(f"{stem}*")} if args.results.is_dir() else set()
    )
    number = 1
    candidate = stem
    while any(f"{candidate}{suffix}" in taken for suffix in (".json", ".md", ".png")):
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def _write(record: Record, args: argparse.Namespace, stem: str, plot_stack: str | None) -> None:
    args.results.mkdir(parents=True, exist_ok=True)
    json_path = args.results / f"{stem}.json"
    written = [json_path.name, f"{stem}.md"]
    if plot_stack is not None:
        from bench.harness.plot import plot  # noqa: PLC0415 - matplotlib is optional

        note = plot(record, plot_stack, args.results / f"{stem}.png")
        if note:
            record.notes.append(note)
        else:
            written.append(f"{stem}.png")
    record.write(json_path)
    markdown = render(record)
    (args.results / f"{stem}.md").write_text(markdown, encoding="utf-8")
    _say("")
    _say(markdown)
    _say(f"wrote {', '.join(written)} in {args.results}")


def run_install(args: argparse.Namespace) -> int:
    """Measure the install stack and write the record, table and plot."""
    python = machine.base_python()
    stack = install_stack(args.stack)
    tools, failures, versions = _prepare(_select_tools(args.tools, args.work, python), stack.name)
    record = Record(machine=machine.describe(args.work), tools=versions)
    record.about = {t.name: t.about() for t in _select_tools(args.tools, args.work, python)}
    record.failures += failures
    runner = Runner(
        args.work,
        runs=args.runs,
        phases=args.phases,
        keep=args.keep,
        timeout=args.timeout,
        settle=SETTLE_SECONDS,
        say=_say,
    )
    outcome = Outcome()
    try:
        with _sources(args, stack, tools, python, record.notes) as source:
            _say(
                f"measuring `{stack.name}`: {args.runs} run(s) per phase, {', '.join(args.phases)}"
            )
            outcome = runner.install(tools, stack, source)
        record.results += outcome.results
        record.failures += outcome.failures
        record.notes += outcome.notes
        _write(record, args, _output_stem(args, stack.name), stack.name)
    finally:
        # Deleting the runs' trees (tens of gigabytes with every tool) takes a minute or two.
        _say("deleting the runs' environments and caches")
        runner.empty_trash()
    return 0 if outcome.results else 1


def run_resolve(args: argparse.Namespace) -> int:
    """Time lock/compile on the resolution-only sets (real index, warm cache)."""
    python = machine.base_python()
    stacks, missing = resolve_stacks()
    wanted = args.sets or ("trio" if args.quick else None)
    if wanted:
        names = {n.strip() for n in wanted.split(",") if n.strip()}
        unknown = names - {s.name for s in stacks}
        if unknown:
            raise SystemExit(f"unknown or missing set(s): {', '.join(sorted(unknown))}")
        stacks = [s for s in stacks if s.name in names]
    for message in missing:
        _say(message)
    record = Record(machine=machine.describe(args.work), tools={}, notes=list(missing))
    if not stacks:
        _say("no resolution sets found; nothing to do")
        return 0
    chosen = {n.strip() for n in args.tools.split(",")}
    by_name = all_tools(args.work / "tools", python=python)
    candidates: list[Tool] = [
        by_name[n] for n in ("uv", "poetry", "pdm", "resolvent") if n in chosen
    ]
    if "pip" in chosen:
        candidates.insert(0, pip_tools(args.work / "tools", python=python))
    tools, failures, versions = _prepare(candidates, "resolve")
    record.tools = versions
    if "pip" in versions:
        record.tools["pip"] = f"pip-tools {versions['pip']}"
    record.failures += [Failure(f.tool, f.stack, "resolve", f.reason) for f in failures[::2]]
    record.notes.append(
        "resolution: real index with a warm cache (one untimed run first); poetry and pdm "
        "lock for every platform, uv, pip-compile and resolvent for this interpreter"
    )
    source = Source(default_index_url(), python, live=True)
    runner = Runner(args.work, runs=args.runs, keep=args.keep, timeout=args.timeout, say=_say)
    try:
        for stack in stacks:
            for tool in tools:
                try:
                    outcome = runner.resolve_tool(tool, stack, source)
                except ToolUnavailableError as error:
                    failure = Failure(tool.name, stack.name, "resolve", str(error))
                    outcome = Outcome(failures=[failure])
                record.results += outcome.results
                record.failures += outcome.failures
                record.notes += [n for n in outcome.notes if n not in record.notes]
    finally:
        runner.empty_trash()
    stem = "quick-resolve" if args.quick else _output_stem(args, "resolve")
    _write(record, args, stem, None)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the harness; return the exit status."""
    args = parse_args(argv)
    if args.resolve:
        return run_resolve(args)
    return run_install(args)
