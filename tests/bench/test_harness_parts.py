"""Small parts: stacks, the conda spec rewrite, console scripts, tool plans, the CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from bench.harness.cli import _output_stem, parse_args, wheel_folder_for
from bench.harness.machine import describe, file_system
from bench.harness.rattler_driver import _console_scripts, conda_spec
from bench.harness.stacks import Stack, install_stack, requirement_lines, resolve_stacks
from bench.harness.tools import Context, Pdm, Pip, Poetry, Uv


def test_requirement_lines_drop_comments_and_options(tmp_path: Path) -> None:
    path = tmp_path / "r.in"
    path.write_text(
        "# comment\n-c constraints.txt\nsphinx >= 4.0, < 6.2  # why\n\njinja2 \\\n  >=3\n",
        encoding="utf-8",
    )
    assert requirement_lines(path) == ["sphinx >= 4.0, < 6.2", "jinja2    >=3"]


def test_the_shipped_stacks_exist() -> None:
    assert "fastapi" in install_stack("web").requirements()
    assert "torch==2.13.0" in install_stack("seed-ml").requirements()
    with pytest.raises(FileNotFoundError, match="known: "):
        install_stack("nope")


def test_missing_resolution_sets_are_skipped_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "trio.in").write_text("trio\n", encoding="utf-8")
    stacks, missing = resolve_stacks(tmp_path)
    assert [s.name for s in stacks] == ["trio"]
    assert any("jupyter.in" in m for m in missing)


@pytest.mark.parametrize(
    ("pep440", "conda"),
    [
        ("", ""),
        (">=1.0,<2", "<2,>=1.0"),
        ("==2.13.0", "==2.13.0"),
        ("==2.13.0+cpu", "==2.13.0"),
        ("==1.*", "1.*"),
        ("~=1.4.2", ">=1.4.2,<1.5"),
        ("~=2.2", ">=2.2,<3"),
        ("!=1.5,===weird", "!=1.5"),
    ],
)
def test_conda_spec_rewrites_pep440(pep440: str, conda: str) -> None:
    assert conda_spec(SpecifierSet(pep440)) == conda


def test_console_scripts_are_read_from_entry_points() -> None:
    text = "[console_scripts]\nuvicorn = uvicorn.main:main\n\n[other]\nx = y:z\n"
    assert _console_scripts(text) == [("uvicorn", "uvicorn.main:main")]


def test_wheel_folder_is_used_only_when_it_has_a_wheel_the_stack_asks_for(
    tmp_path: Path,
) -> None:
    (tmp_path / "torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl").write_bytes(b"")
    stack_file = tmp_path / "s.txt"
    stack_file.write_text("torch==2.13.0\n", encoding="utf-8")
    assert wheel_folder_for(Stack("s", stack_file), [tmp_path]) == tmp_path
    stack_file.write_text("fastapi\n", encoding="utf-8")
    assert wheel_folder_for(Stack("s", stack_file), [tmp_path]) is None


def test_quick_means_web_once() -> None:
    args = parse_args(["--quick"])
    assert (args.stack, args.runs, args.phases) == ("web", 1, ["cold", "warm"])
    args = parse_args([])
    assert (args.stack, args.runs) == ("seed-ml", 3)


def test_machine_description_has_the_fields() -> None:
    machine = describe(Path.cwd())
    assert {"cpu", "cores", "memory_bytes", "file_system", "python"} <= set(machine)
    assert file_system(Path("/")) is not None or sys.platform != "linux"


def test_tool_plans_point_caches_into_the_harness(tmp_path: Path) -> None:
    stack_file = tmp_path / "web.txt"
    stack_file.write_text("fastapi\nuvicorn\n", encoding="utf-8")
    ctx = Context(
        stack=Stack("web", stack_file),
        python=Path(sys.executable),
        workdir=tmp_path / "run",
        cache=tmp_path / "cache",
        index_url="http://127.0.0.1:1234/simple",
    )
    python = Path(sys.executable)
    pip = Pip(tmp_path / "pip", python=python).install_plan(ctx)
    assert pip.env["PIP_CACHE_DIR"] == str(ctx.cache)
    assert "--trusted-host" in pip.commands[1].argv
    assert "127.0.0.1:1234" in pip.commands[1].argv
    uv = Uv(tmp_path / "uv", python=python).install_plan(ctx)
    assert uv.env["UV_CACHE_DIR"] == str(ctx.cache)
    poetry = Poetry(tmp_path / "poetry", python=python).install_plan(ctx)
    assert poetry.env["POETRY_CACHE_DIR"] == str(ctx.cache)
    pyproject = (ctx.workdir / "project" / "pyproject.toml").read_text(encoding="utf-8")
    assert '"fastapi",' in pyproject
    assert 'url = "http://127.0.0.1:1234/simple"' in pyproject
    assert 'priority = "primary"' in pyproject
    pdm = Pdm(tmp_path / "pdm", python=python).install_plan(ctx)
    assert pdm.env["PDM_CACHE_DIR"] == str(ctx.cache)
    assert pdm.environment == ctx.workdir / "project" / ".venv"


def test_a_second_run_on_the_same_day_keeps_the_first_runs_records(tmp_path: Path) -> None:
    args = parse_args(["--stack", "web", "--results", str(tmp_path)])
    first = _output_stem(args, "web")
    assert first.endswith("-web")
    (tmp_path / f"{first}.json").write_text("{}")
    second = _output_stem(args, "web")
    assert second == f"{first}-2"
    (tmp_path / f"{second}.md").write_text("")  # any of a record's files takes the name
    assert _output_stem(args, "web") == f"{first}-3"
    assert _output_stem(args, "seed-ml").endswith("-seed-ml")  # another stack: its own name
    quick = parse_args(["--quick", "--results", str(tmp_path)])
    (tmp_path / "quick.json").write_text("{}")
    assert _output_stem(quick, "web") == "quick"  # the quick record is scratch
