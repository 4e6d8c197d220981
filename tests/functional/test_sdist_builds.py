"""Sdists with dynamic metadata, and local paths, through ``pip compile`` and ``pip install``.

The sdists carry their own tiny build backend (``tests.support.dists.IN_TREE_BACKEND``),
so builds need no index; their ``PKG-INFO`` leaves the requirements dynamic (PEP 643),
so only the backend knows them. The backend appends each hook it runs to the file named
by ``RV_TEST_BUILD_LOG``: that log, not timing, shows whether a run built anything.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from resolvent.cli import cli
from tests.support.dists import IN_TREE_BACKEND, Dist, build_sdist, build_wheel, write_project
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from resolvent.index.serve import IndexServer

WHEELS = [
    Dist("beta", "1.0"),
    Dist("beta", "2.0"),
    Dist("older", "0.9"),
    Dist("buildhelp", "1.0"),  # too old for the backend below
    Dist("buildhelp", "2.0"),
]
#: A backend that warns while it prepares metadata, as setuptools does.
NOISY_PREPARE = """
_prepare = prepare_metadata_for_build_wheel

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    import warnings
    warnings.warn("a noisy backend banner")
    return _prepare(metadata_directory, config_settings)
"""
#: A backend that needs a recent `buildhelp` in its build environment.
NEEDS_HELP = {
    "pyproject.toml": '[build-system]\nrequires = ["buildhelp"]\nbuild-backend = "_rv_backend"\n'
    'backend-path = ["."]\n\n[project]\nname = "needshelp"\nversion = "1.0"\n'
    'dynamic = ["dependencies"]\n',
    "_rv_backend.py": IN_TREE_BACKEND + "\nimport buildhelp\nif buildhelp.__version__ == '1.0':\n"
    "    raise RuntimeError('buildhelp 1.0 is too old')\n",
}


class Runner:
    """Runs ``resolvent`` in process, hermetically, against one cache and build log."""

    def __init__(self, cache: Path, index: str, log: Path) -> None:
        self.cache = cache
        self.index = index
        self.log = log

    def __call__(self, *args: str, code: int = 0) -> Result:
        env: dict[str, str | None] = {
            key: None
            for key in os.environ
            if key.startswith(("PIP_", "RESOLVENT_", "UV_")) or key == "VIRTUAL_ENV"
        }
        env |= {
            "PIP_CONFIG_FILE": os.devnull,
            "RESOLVENT_CACHE_DIR": str(self.cache),
            "RV_TEST_BUILD_LOG": str(self.log),
        }
        result = CliRunner().invoke(cli, list(args), env=env)
        assert result.exit_code == code, (result.output, result.exception)
        if code:
            assert "Traceback" not in result.output
            assert result.stderr.startswith("error: ")
        return result

    def compile(self, *args: str, code: int = 0) -> Result:
        return self("pip", "compile", "-i", self.index, "--no-header", *args, code=code)

    def install(self, venv: Path, *args: str, code: int = 0) -> Result:
        return self("pip", "install", "--python", str(venv), "-i", self.index, *args, code=code)

    def venv(self, path: Path) -> Path:
        self("venv", str(path))
        return path

    def hooks(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    root = tmp_path_factory.mktemp("srv")
    folder = root / "index"
    build_sdist(folder, Dist("dyn", "1.0", requires=["beta<2"]), in_tree_backend=True, dynamic=True)
    build_sdist(
        folder,
        Dist("fallback", "1.0", requires=["beta"], files={"NO_PREPARE": "", "fallback/x.py": ""}),
        in_tree_backend=True,
        dynamic=True,
    )
    # A newer sdist-only version over an older wheel: `--no-build` takes the wheel.
    build_sdist(folder, Dist("older", "1.0", requires=["beta"]), in_tree_backend=True, dynamic=True)
    build_sdist(
        folder,
        Dist("broken", "1.0", files={"FAIL": "", "broken/__init__.py": ""}),
        in_tree_backend=True,
        dynamic=True,
    )
    build_sdist(
        folder,
        Dist("needshelp", "1.0", requires=["beta"]),
        in_tree_backend=True,
        dynamic=True,
        replace=NEEDS_HELP,
    )
    build_sdist(
        folder,
        Dist("noisy", "1.0"),
        in_tree_backend=True,
        dynamic=True,
        replace={"_rv_backend.py": IN_TREE_BACKEND + NOISY_PREPARE},
    )
    with serve_dists(root, WHEELS) as running:
        yield running


@pytest.fixture
def rv(tmp_path: Path, server: IndexServer) -> Runner:
    return Runner(tmp_path / "cache", server.url, tmp_path / "build.log")


def _requirements(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.in"
    path.write_text(text)
    return path


def test_compile_resolves_through_a_dynamic_sdist_and_never_rebuilds(
    rv: Runner, tmp_path: Path
) -> None:
    source = _requirements(tmp_path, "dyn\n")
    first = rv.compile(str(source))
    assert first.stdout == "beta==1.0\n    # via dyn\ndyn==1.0\n    # via -r " + f"{source}\n"
    assert rv.hooks() == ["prepare_metadata_for_build_wheel dyn-1.0"]
    assert [p.suffix for p in (rv.cache / "built-v1").glob("*.metadata")] == [".metadata"]
    second = rv.compile(str(source))
    assert second.stdout == first.stdout
    assert rv.compile(str(source), "--offline").stdout == first.stdout
    assert len(rv.hooks()) == 1  # warm runs read the cached metadata


def test_install_builds_the_wheel_after_its_metadata(rv: Runner, tmp_path: Path) -> None:
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "dyn")
    assert rv.hooks() == ["prepare_metadata_for_build_wheel dyn-1.0", "build_wheel dyn-1.0"]
    frozen = rv("pip", "freeze", "--python", str(venv)).stdout.split()
    assert frozen == ["beta==1.0", "dyn==1.0"]
    rv.install(rv.venv(tmp_path / "again"), "dyn")
    assert len(rv.hooks()) == 2


def test_a_backend_without_the_metadata_hook_builds_once(rv: Runner, tmp_path: Path) -> None:
    source = _requirements(tmp_path, "fallback\n")
    assert "fallback==1.0" in rv.compile(str(source)).stdout
    assert rv.hooks() == ["build_wheel fallback-1.0"]
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "-r", str(source))
    assert rv.hooks() == ["build_wheel fallback-1.0"]  # the install reused the built wheel
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-c", "import fallback.x"], check=True, timeout=60)


def test_no_build_makes_dynamic_sdists_unavailable(rv: Runner, tmp_path: Path) -> None:
    only_sdist = _requirements(tmp_path, "dyn\n")
    for flags in (["--no-build"], ["--only-binary", ":all:"], ["--only-binary", "dyn"]):
        failed = rv.compile(str(only_sdist), *flags, code=1)
        assert "no solution found" in failed.stderr
        assert "dyn==1.0 has only a source distribution and building from source is disabled" in (
            failed.stderr
        )
    venv = rv.venv(tmp_path / "venv")
    failed = rv.install(venv, "dyn", "--no-build", code=1)
    assert "building from source is disabled" in failed.stderr
    # Another version with a wheel still works.
    older = _requirements(tmp_path, "older\n")
    assert rv.compile(str(older), "--no-build").stdout.startswith("older==0.9\n")
    assert rv.hooks() == []


def test_a_failing_backend_is_one_line_and_leaves_only_its_record(
    rv: Runner, tmp_path: Path
) -> None:
    source = _requirements(tmp_path, "broken\n")
    failed = rv.compile(str(source), code=1)
    assert failed.stderr.count("\n") == 1
    assert failed.stderr.startswith("error: failed to build `broken-1.0.tar.gz`: ")
    assert failed.stderr.endswith("RuntimeError: the test backend was told to fail\n")
    built = rv.cache / "built-v1"
    entries = [p.name for p in built.iterdir() if not p.name.endswith(".lock")]
    assert len(entries) == 1
    assert entries[0].endswith(".failed")  # no half entry: the failure, remembered
    hooks = len(rv.hooks())
    again = rv.compile(str(source), code=1)  # remembered: the backend does not run again
    assert len(rv.hooks()) == hooks
    remembered = failed.stderr[:-1] + " (as on an earlier run; `--refresh` builds it again)\n"
    assert again.stderr == remembered
    # An install builds for its environment's interpreter: another build, remembered too.
    venv = rv.venv(tmp_path / "venv")
    assert rv.install(venv, "broken", code=1).stderr == failed.stderr
    assert rv.install(venv, "broken", code=1).stderr == remembered
    refreshed = rv.compile(str(source), "--refresh", code=1)  # tried again
    assert len(rv.hooks()) > hooks
    assert refreshed.stderr == failed.stderr


def _local_inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    dist = tmp_path / "work" / "dist"
    sdist = build_sdist(
        dist, Dist("localsrc", "1.0", requires=["beta"]), in_tree_backend=True, dynamic=True
    )
    project = write_project(
        tmp_path / "work" / "proj",
        Dist("proj", "0.1", requires=["beta<2"]),
        in_tree_backend=True,
        dynamic=True,
    )
    wheel = build_wheel(dist, Dist("localwheel", "2.0", requires=["dyn"]))
    return sdist, project, wheel


def test_compile_local_sdists_projects_and_wheels(rv: Runner, tmp_path: Path) -> None:
    sdist, project, wheel = _local_inputs(tmp_path)
    source = tmp_path / "work" / "requirements.in"
    source.write_text(f"./dist/{sdist.name}\n./proj\nlocalwheel @ {wheel.as_uri()}\n")
    result = rv.compile(str(source), "--no-annotate")
    assert result.stdout.splitlines() == [
        "beta==1.0",
        "dyn==1.0",
        f"localsrc @ {sdist.as_uri()}",
        f"localwheel @ {wheel.as_uri()}",
        f"proj @ {project.as_uri()}",
    ]
    assert sorted(rv.hooks()) == [
        "prepare_metadata_for_build_wheel dyn-1.0",
        "prepare_metadata_for_build_wheel localsrc-1.0",
        "prepare_metadata_for_build_wheel proj",
    ]
    hashed = rv.compile(str(source), "--no-annotate", "--generate-hashes").stdout
    assert f"localsrc @ {sdist.as_uri()} \\\n    --hash=sha256:" in hashed
    assert f"proj @ {project.as_uri()}\n" in hashed  # a folder has no hash
    refused = rv.compile(str(source), "--no-build", code=2)
    assert "building source distributions is disabled, but `localsrc`" in refused.stderr
    named = rv.compile(str(source), "--only-binary", "LocalSrc", code=2)
    assert named.stderr == refused.stderr


def test_install_local_sdists_and_projects(rv: Runner, tmp_path: Path) -> None:
    sdist, project, _ = _local_inputs(tmp_path)
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, str(sdist), str(project))
    frozen = rv("pip", "freeze", "--python", str(venv)).stdout.splitlines()
    assert frozen == ["beta==1.0", f"localsrc @ {sdist.as_uri()}", f"proj @ {project.as_uri()}"]
    refused = rv.install(rv.venv(tmp_path / "v2"), str(project), "--no-build", code=2)
    assert "building source distributions is disabled, but `proj`" in refused.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout")
def test_dynamic_sdist_dependency_of_a_dependency(rv: Runner, tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "w", Dist("top", "1.0", requires=["dyn"]))
    result = rv.compile(str(_requirements(tmp_path, f"top @ {wheel.as_uri()}\n")))
    assert "beta==1.0\n    # via dyn\n" in result.stdout
    assert "dyn==1.0\n    # via top\n" in result.stdout


def test_compile_an_sdist_url(rv: Runner, tmp_path: Path, server: IndexServer) -> None:
    sdist = server.folder / "dyn-1.0.tar.gz"
    url = server.url.removesuffix("/simple") + f"/files/{sdist.name}"
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    source = _requirements(tmp_path, f"dyn @ {url}#sha256={digest}\n")
    result = rv.compile(str(source), "--no-annotate")
    assert result.stdout == f"beta==1.0\ndyn @ {url}#sha256={digest}\n"
    wrong = _requirements(tmp_path, f"dyn @ {url}#sha256={'0' * 64}\n")
    assert "hash mismatch for `dyn-1.0.tar.gz`" in rv.compile(str(wrong), code=1).stderr


def _dynamic_project(folder: Path) -> Path:
    """A project whose `pyproject.toml` leaves its requirements to the backend."""
    dist = Dist(
        "app",
        "1.0",
        requires=["beta<2", "older; python_version < '3'"],
        extras={"fast": ["beta>=1"], "all": ["app[fast]"]},
    )
    write_project(folder, dist, in_tree_backend=True, dynamic=True)
    text = (folder / "pyproject.toml").read_text()
    head, _, _ = text.partition("[project]")
    (folder / "pyproject.toml").write_text(
        head + '[project]\nname = "app"\nversion = "1.0"\n'
        'dynamic = ["dependencies", "optional-dependencies"]\n'
    )
    return folder


def test_compile_a_pyproject_with_dynamic_dependencies(rv: Runner, tmp_path: Path) -> None:
    project = _dynamic_project(tmp_path / "app")
    result = rv.compile(str(project / "pyproject.toml"), "--extra", "all")
    assert rv.hooks() == ["prepare_metadata_for_build_wheel app"]
    # beta<2 (base) and beta>=1 (fast, through all); older's marker is false.
    assert result.stdout.split("\n")[:2] == ["beta==1.0", f"    # via -r {project}/pyproject.toml"]
    assert "older" not in result.stdout
    missing = rv.compile(str(project / "pyproject.toml"), "--extra", "nope", code=2)
    assert "has no optional dependencies named `nope`" in missing.stderr
    forbidden = rv.compile(str(project / "pyproject.toml"), "--no-build", code=2)
    assert "only known by building its metadata" in forbidden.stderr


def test_compile_and_install_a_setup_script(rv: Runner, tmp_path: Path) -> None:
    project = _dynamic_project(tmp_path / "app")
    (project / "setup.py").write_text("raise SystemExit('the in-tree backend never runs this')\n")
    result = rv.compile(str(project / "setup.py"), "--no-annotate")
    assert result.stdout.split() == ["beta==1.0"]
    venv = rv.venv(tmp_path / "venv")
    rv.install(venv, "-r", str(project / "setup.py"))
    listed = rv("pip", "freeze", "--python", str(venv)).stdout.split()
    assert listed == ["beta==1.0"]


@pytest.mark.parametrize(("resolution", "beta"), [("lowest", "1.0"), ("lowest-direct", "2.0")])
def test_the_build_environment_is_resolved_at_its_defaults(
    rv: Runner, tmp_path: Path, resolution: str, beta: str
) -> None:
    # --resolution chooses the user's packages, not the backend's: buildhelp 2.0 builds.
    result = rv.compile(
        str(_requirements(tmp_path, "needshelp\n")), "--resolution", resolution, "--no-annotate"
    )
    assert result.stdout.split() == [f"beta=={beta}", "needshelp==1.0"]


def test_a_successful_build_keeps_the_backend_warnings_quiet(rv: Runner, tmp_path: Path) -> None:
    result = rv.compile(str(_requirements(tmp_path, "noisy\n")), "--no-annotate")
    assert result.stdout.split() == ["noisy==1.0"]
    assert rv.hooks() == ["prepare_metadata_for_build_wheel noisy-1.0"]
    assert "banner" not in result.stderr


def test_a_setup_script_cannot_give_constraints(rv: Runner, tmp_path: Path) -> None:
    project = _dynamic_project(tmp_path / "app")
    (project / "setup.py").write_text("")
    result = rv.compile(
        str(_requirements(tmp_path, "beta\n")), "-c", str(project / "setup.py"), code=2
    )
    assert "cannot give constraints: its requirements are only known by building it" in (
        result.stderr
    )


@pytest.mark.parametrize("entry", ["/etc", "../outside", "../proj-x", "inside/../../proj-x"])
def test_a_backend_path_outside_the_tree_is_refused_before_any_build(
    rv: Runner, tmp_path: Path, entry: str
) -> None:
    # PEP 517: backend-path entries are relative and inside the tree. `../proj-x` shares
    # the tree's name as a prefix, which pyproject-hooks' own string test let through.
    project = write_project(
        tmp_path / "proj",
        Dist("proj", "0.1", requires=["beta"]),
        in_tree_backend=True,
        dynamic=True,
    )
    outside = tmp_path / "proj-x"
    outside.mkdir()
    (outside / "_rv_backend.py").write_text(IN_TREE_BACKEND)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('backend-path = ["."]', f'backend-path = ["{entry}"]')
    )
    result = rv.compile(str(_requirements(tmp_path, f"{project}\n")), code=1)
    assert result.stderr == (
        f"error: failed to build `{project}`: `pyproject.toml`: `build-system.backend-path` "
        f"entry `{entry}` must be a relative path within the source tree\n"
    )
    assert rv.hooks() == []  # refused before the backend ran


@pytest.mark.parametrize(
    ("where", "text", "hint"),
    [
        ("file", "--only-binary :all:\ndyn\n", "building from source is disabled"),
        ("file", "--only-binary=other,dyn\ndyn\n", "building from source is disabled"),
        ("file", "--no-binary beta\nbeta\n", "has only wheels and `--no-binary` is set"),
        ("included", "--no-binary :all:\nbeta\n", "has only wheels and `--no-binary` is set"),
        ("constraints", "--no-binary Beta\n", "has only wheels and `--no-binary` is set"),
    ],
)
def test_binary_options_in_input_files_apply(
    rv: Runner, tmp_path: Path, where: str, text: str, hint: str
) -> None:
    # pip and uv apply them with the command line's; they used to be read and dropped.
    options = tmp_path / "options.txt"
    options.write_text(text)
    if where == "file":
        args = [str(options)]
    elif where == "included":
        args = [str(_requirements(tmp_path, f"-r {options}\n"))]
    else:
        args = [str(_requirements(tmp_path, "beta\n")), "-c", str(options)]
    failed = rv.compile(*args, code=1)
    assert "no solution found" in failed.stderr
    assert hint in failed.stderr
    if where == "file" and "beta" in text:
        venv = rv.venv(tmp_path / "venv")
        assert hint in rv.install(venv, "-r", str(options), code=1).stderr
    assert rv.hooks() == []


def test_none_in_a_file_clears_what_it_said_before(rv: Runner, tmp_path: Path) -> None:
    source = _requirements(tmp_path, "--no-binary :all:\n--no-binary :none:\nbeta\n")
    assert rv.compile(str(source), "--no-annotate").stdout == "beta==2.0\n"


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (("--no-binary", "Beta"), "has only wheels and `--no-binary` is set"),
        (("--no-binary", "other, BETA"), "has only wheels and `--no-binary` is set"),
        (("--only-binary", "Other,DYN"), "building from source is disabled"),
    ],
)
def test_binary_options_on_the_command_line_name_projects_as_files_do(
    rv: Runner, tmp_path: Path, args: tuple[str, ...], hint: str
) -> None:
    # The command line's values are read as a file's are (one parser): names in any
    # spelling, comma lists with spaces.
    source = _requirements(tmp_path, "beta\ndyn\n")
    failed = rv.compile(str(source), *args, code=1)
    assert "no solution found" in failed.stderr
    assert hint in failed.stderr
    venv = rv.venv(tmp_path / "venv")
    assert hint in rv.install(venv, "-r", str(source), *args, code=1).stderr
    assert rv.hooks() == []


def test_none_on_the_command_line_clears_what_it_said_before(rv: Runner, tmp_path: Path) -> None:
    source = _requirements(tmp_path, "beta\n")
    args = ("--no-binary", ":all:", "--no-binary", ":none:", "--no-annotate")
    assert rv.compile(str(source), *args).stdout == "beta==2.0\n"
