"""The runner, with fake tools: small scripts that make an environment of dist-info folders."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

import pytest

from bench.harness.process import Command
from bench.harness.runner import Runner, Source, count_locked
from bench.harness.stacks import Stack
from bench.harness.tools import Context, Plan, Tool

FAKE_TOOL = """
import sys
from pathlib import Path

env, cache, *pins = sys.argv[1:]
site = Path(env) / "lib" / "python3.11" / "site-packages"
site.mkdir(parents=True)
warm = (Path(cache) / "filled").exists()
Path(cache, "filled").write_text("yes")
Path(env, "was-warm").write_text(str(warm))
for pin in pins:
    if pin == "fail":
        sys.exit("no such package: fail")
    name, version = pin.split("==")
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n")
"""


class FakeTool(Tool):
    label = "fake"
    lockfile = False
    manages_python = False
    seen_warm: ClassVar[list[bool]] = []

    def __init__(self, name: str, pins: list[str], script: Path) -> None:
        super().__init__(Path("unused"), python=Path(sys.executable))
        self.name = name  # type: ignore[misc]
        self.pins = pins
        self.script = script

    def version(self) -> str:
        return "1.0"

    def install_plan(self, ctx: Context) -> Plan:
        env = ctx.workdir / "env"
        argv = (sys.executable, str(self.script), str(env), str(ctx.cache), *self.pins)
        return Plan((Command(argv),), {}, env)

    def resolve_plans(self, ctx: Context) -> list[tuple[str | None, Plan]]:
        text = "".join(f"{pin}\n" for pin in self.pins)
        code = f"open('requirements.txt', 'w').write({text!r})"
        command = Command((sys.executable, "-c", code), cwd=ctx.workdir)
        return [("only", Plan((command,), {}, ctx.workdir))]


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "fake_tool.py"
    path.write_text(FAKE_TOOL, encoding="utf-8")
    return path


@pytest.fixture
def stack(tmp_path: Path) -> Stack:
    path = tmp_path / "stack.txt"
    path.write_text("a\n", encoding="utf-8")
    return Stack("fake", path)


def _runner(tmp_path: Path, runs: int = 2) -> tuple[Runner, list[str]]:
    said: list[str] = []
    return Runner(tmp_path / "work", runs=runs, keep=True, say=said.append), said


def _source() -> Source:
    return Source("http://127.0.0.1:9/simple", Path(sys.executable))


def test_cold_and_warm_runs_are_reported_with_the_distribution_count(
    tmp_path: Path, script: Path, stack: Stack
) -> None:
    runner, _ = _runner(tmp_path)
    tools = [FakeTool(n, ["a==1", "b==2.0", "pip==24"], script) for n in ("pip", "uv")]
    outcome = runner.install(tools, stack, _source())
    assert outcome.failures == []
    assert sorted((r.tool, r.phase) for r in outcome.results) == [
        ("pip", "cold"),
        ("pip", "warm"),
        ("uv", "cold"),
        ("uv", "warm"),
    ]
    for result in outcome.results:
        assert len(result.runs) == 2
        assert result.minimum <= result.median <= result.maximum
        assert result.distributions == 2  # the seed package pip is not counted
    runs = tmp_path / "work" / "runs" / "uv" / "fake"
    # Cold runs start with an empty cache; warm runs reuse the cold run's cache.
    assert (runs / "cold-0" / "env" / "was-warm").read_text() == "False"
    assert (runs / "warm-0" / "env" / "was-warm").read_text() == "True"
    assert (runs / "cold-1" / "env" / "was-warm").read_text() == "False"


def test_a_tool_that_installs_something_else_gets_no_number(
    tmp_path: Path, script: Path, stack: Stack
) -> None:
    runner, said = _runner(tmp_path, runs=1)
    tools = [
        FakeTool("pip", ["a==1", "b==2"], script),
        FakeTool("uv", ["a==1", "b==2"], script),
        FakeTool("pdm", ["a==1", "b==3"], script),
    ]
    outcome = runner.install(tools, stack, _source())
    assert {r.tool for r in outcome.results} == {"pip", "uv"}
    (failure,) = outcome.failures
    assert failure.tool == "pdm"
    assert "has b==3" in failure.reason
    assert "lacks b==2" in failure.reason
    assert any("different distribution sets" in line for line in said)


def test_a_failing_tool_is_a_failure_not_a_number(
    tmp_path: Path, script: Path, stack: Stack
) -> None:
    runner, _ = _runner(tmp_path, runs=1)
    tools = [FakeTool("pip", ["a==1"], script), FakeTool("poetry", ["a==1", "fail"], script)]
    outcome = runner.install(tools, stack, _source())
    assert {r.tool for r in outcome.results} == {"pip"}
    (failure,) = outcome.failures
    assert failure.tool == "poetry"
    assert failure.phase == "cold"
    assert "no such package: fail" in failure.reason


def test_warm_only_still_primes_the_cache(tmp_path: Path, script: Path, stack: Stack) -> None:
    runner = Runner(tmp_path / "work", runs=1, phases=("warm",), keep=True, say=lambda _: None)
    outcome = runner.install([FakeTool("uv", ["a==1"], script)], stack, _source())
    assert [r.phase for r in outcome.results] == ["warm"]
    warm = tmp_path / "work" / "runs" / "uv" / "fake" / "warm-0" / "env" / "was-warm"
    assert warm.read_text() == "True"


def test_resolve_counts_the_locked_packages(tmp_path: Path, script: Path, stack: Stack) -> None:
    runner, _ = _runner(tmp_path, runs=2)
    tool = FakeTool("uv", ["a==1", "b[x]==2", "# c==3"], script)
    outcome = runner.resolve_tool(tool, stack, _source())
    (result,) = outcome.results
    assert (result.phase, result.variant, result.distributions) == ("resolve", "only", 2)
    assert len(result.runs) == 2


def test_count_locked_reads_lock_files(tmp_path: Path) -> None:
    (tmp_path / "poetry.lock").write_text("[[package]]\n[[package]]\n", encoding="utf-8")
    assert count_locked(tmp_path) == 2
    assert count_locked(tmp_path / "missing") == 0


def test_runs_go_in_rounds_across_tools(tmp_path: Path, script: Path, stack: Stack) -> None:
    # Every tool's first cold and warm runs come before any tool's second ones, so a
    # machine that slows down during the measurement slows every tool alike.
    runner, said = _runner(tmp_path)
    tools = [FakeTool(n, ["a==1"], script) for n in ("pip", "uv")]
    runner.install(tools, stack, _source())
    order = [line.split()[0] + " " + " ".join(line.split()[2:5]) for line in said]
    assert order == [
        "pip cold run 1:",
        "pip warm run 1:",
        "uv cold run 1:",
        "uv warm run 1:",
        "pip cold run 2:",
        "pip warm run 2:",
        "uv cold run 2:",
        "uv warm run 2:",
    ]


def test_a_tool_that_fails_in_a_round_sits_out_the_next(
    tmp_path: Path, script: Path, stack: Stack
) -> None:
    runner, said = _runner(tmp_path)
    tools = [FakeTool("pip", ["a==1"], script), FakeTool("poetry", ["fail"], script)]
    outcome = runner.install(tools, stack, _source())
    assert [f.tool for f in outcome.failures] == ["poetry"]
    assert sum("poetry" in line for line in said) == 1  # one failed run, no second round
    assert {r.tool for r in outcome.results} == {"pip"}


def test_finished_trees_go_to_the_trash_and_are_deleted_only_at_the_end(
    tmp_path: Path, script: Path, stack: Stack
) -> None:
    runner = Runner(tmp_path / "work", runs=2, say=lambda _: None)
    outcome = runner.install([FakeTool("uv", ["a==1"], script)], stack, _source())
    assert outcome.failures == []
    work = tmp_path / "work"
    assert not any((work / "runs" / "uv" / "fake").iterdir())
    assert not any((work / "cache" / "uv" / "fake").iterdir())
    # Two runs of two phases, and the two caches: nothing was deleted yet.
    trashed = sorted(p.name.split("-", 1)[1] for p in runner.trash.iterdir())
    assert trashed == ["cold-0", "cold-1", "run-0", "run-1", "warm-0", "warm-1"]
    assert (runner.trash / "1-cold-0" / "env" / "was-warm").read_text() == "False"
    runner.empty_trash()
    assert not runner.trash.exists()


def test_a_fresh_folder_moves_what_was_there_even_past_an_older_trash(tmp_path: Path) -> None:
    runner = Runner(tmp_path / "work", runs=1, say=lambda _: None)
    folder = tmp_path / "work" / "runs" / "x"
    folder.mkdir(parents=True)
    (folder / "old").write_text("1")
    (runner.trash / "1-x").mkdir(parents=True)  # left by an interrupted earlier benchmark
    assert runner._fresh(folder) == folder
    assert list(folder.iterdir()) == []
    assert (runner.trash / "2-x" / "old").read_text() == "1"
    runner.discard(tmp_path / "missing")  # nothing to move: no error
    assert sorted(p.name for p in runner.trash.iterdir()) == ["1-x", "2-x"]


def test_the_trash_is_emptied_before_a_run_when_space_is_short(
    tmp_path: Path, script: Path, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    runner = Runner(tmp_path / "work", runs=2, say=said.append)
    monkeypatch.setattr("bench.harness.runner.MIN_FREE_BYTES", 1 << 62)
    outcome = runner.install([FakeTool("uv", ["a==1"], script)], stack, _source())
    assert outcome.failures == []
    assert any("free space is short" in line for line in said)
    # Emptied before the last run: only what that run and its round left is there.
    assert sorted(p.name.split("-", 1)[1] for p in runner.trash.iterdir()) == ["run-1", "warm-1"]
