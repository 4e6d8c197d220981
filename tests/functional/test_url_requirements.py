"""``name @ URL`` outside the root requirements: in constraints, overrides and index metadata.

uv's rules, which these tests hold resolvent to:

- a constraint or an override written ``beta @ URL`` pins ``beta`` to that distribution
  (if ``beta`` is in the answer at all), and a URL to a missing file is an error; they
  used to be dropped silently, the output crediting the constraint all the same;
- an index package whose metadata says ``Requires-Dist: beta @ URL`` cannot be used
  unless the user's own requirements or constraints name the same URL (pip refuses it
  too); it used to get the index's ``beta`` instead, with no word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from resolvent.cli import cli
from tests.support.dists import Dist, build_wheel
from tests.support.environment import hermetic_env
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from click.testing import Result

    from resolvent.index.serve import IndexServer


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of wheels outside the index: what the URLs point at."""
    folder = tmp_path_factory.mktemp("other")
    build_wheel(folder, Dist("beta", "1.0"))
    build_wheel(folder, Dist("beta", "9.0"))
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, other: Path) -> Iterator[IndexServer]:
    beta9 = (other / "beta-9.0-py3-none-any.whl").as_uri()
    dists = [
        Dist("alpha", "1.0", requires=["beta>=1"]),
        Dist("beta", "1.0"),
        Dist("beta", "2.0"),
        Dist("gamma", "1.0", requires=[f"beta @ {beta9}"]),
        # Its URL dependency holds only under a marker no target meets: no URL at all.
        Dist("delta", "1.0", requires=[f"beta @ {beta9} ; python_version < '3'"]),
    ]
    with serve_dists(tmp_path_factory.mktemp("index"), dists) as running:
        yield running


def _run(tmp_path: Path, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args), env=hermetic_env(tmp_path / "cache"))
    assert result.exit_code == code, (result.output, result.exception)
    if code:
        assert "Traceback" not in result.output
        assert result.stderr.startswith("error: ")
    return result


def _compile(tmp_path: Path, server: IndexServer, text: str, *flags: str, code: int = 0) -> Result:
    requirements = tmp_path / "requirements.in"
    requirements.write_text(text)
    args = ["pip", "compile", str(requirements), "-i", server.url, "--no-header", *flags]
    return _run(tmp_path, *args, code=code)


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("option", ["-c", "--override"])
def test_a_url_constraint_or_override_pins_the_project_to_it(
    tmp_path: Path, server: IndexServer, other: Path, option: str
) -> None:
    beta1 = (other / "beta-1.0-py3-none-any.whl").as_uri()
    pins = _file(tmp_path, "pins.txt", f"beta @ {beta1}\n")
    result = _compile(tmp_path, server, "alpha\n", option, pins, "--no-annotate")
    assert result.stdout.splitlines() == ["alpha==1.0", f"beta @ {beta1}"]  # not the index's 2.0
    annotated = _compile(tmp_path, server, "alpha\n", option, pins).stdout
    assert ("#   -c " in annotated) == (option == "-c")  # as before: overrides go unnamed


def test_a_url_constraint_adds_nothing_by_itself(
    tmp_path: Path, server: IndexServer, other: Path
) -> None:
    beta1 = (other / "beta-1.0-py3-none-any.whl").as_uri()
    pins = _file(tmp_path, "pins.txt", f"beta @ {beta1}\n")
    # delta's URL dependency does not hold for the target: beta is not in the answer.
    only = _compile(tmp_path, server, "delta\n", "-c", pins, "--no-annotate")
    assert only.stdout.splitlines() == ["delta==1.0"]


def test_a_url_constraint_to_a_missing_file_is_an_error(
    tmp_path: Path, server: IndexServer
) -> None:
    missing = tmp_path / "gone" / "beta-1.0-py3-none-any.whl"
    pins = _file(tmp_path, "pins.txt", f"beta @ {missing.as_uri()}\n")
    for option in ("-c", "--override"):
        result = _compile(tmp_path, server, "alpha\n", option, pins, code=2)
        assert result.stderr == f"error: `{missing}` does not exist\n"


def test_install_takes_a_url_constraint(tmp_path: Path, server: IndexServer, other: Path) -> None:
    beta1 = (other / "beta-1.0-py3-none-any.whl").as_uri()
    pins = _file(tmp_path, "pins.txt", f"beta @ {beta1}\n")
    venv = tmp_path / "venv"
    _run(tmp_path, "venv", str(venv))
    _run(tmp_path, "pip", "install", "--python", str(venv), "-i", server.url, "alpha", "-c", pins)
    frozen = _run(tmp_path, "pip", "freeze", "--python", str(venv)).stdout.splitlines()
    assert frozen == ["alpha==1.0", f"beta @ {beta1}"]
    (beta,) = (venv / "lib").glob("python*/site-packages/beta-1.0.dist-info")
    assert not (beta / "REQUESTED").exists()  # a constraint is no request


def test_a_url_constraint_needs_hashes_in_hash_checking_mode(
    tmp_path: Path, server: IndexServer, other: Path
) -> None:
    """Installed from its URL, a constrained project is checked as a direct requirement is."""
    import hashlib  # noqa: PLC0415

    alpha = hashlib.sha256((server.folder / "alpha-1.0-py3-none-any.whl").read_bytes())
    beta1 = other / "beta-1.0-py3-none-any.whl"
    requirements = _file(tmp_path, "r.txt", f"alpha==1.0 --hash=sha256:{alpha.hexdigest()}\n")
    pins = _file(tmp_path, "pins.txt", f"beta @ {beta1.as_uri()}\n")
    venv = tmp_path / "venv"
    _run(tmp_path, "venv", str(venv))
    args = ["pip", "install", "--python", str(venv), "-i", server.url, "--require-hashes"]
    result = _run(tmp_path, *args, "-r", requirements, "-c", pins, code=2)
    assert "has no `--hash` and hashes are required" in result.stderr
    assert _run(tmp_path, "pip", "freeze", "--python", str(venv)).stdout == ""


def test_an_index_package_cannot_bring_its_own_url(tmp_path: Path, server: IndexServer) -> None:
    result = _compile(tmp_path, server, "gamma\n", code=1)
    assert "gamma==1.0 cannot be used: requires `beta @ file://" in result.stderr
    assert "a URL dependency is only allowed at a URL that the requirements or constraints" in (
        result.stderr
    )
    venv = tmp_path / "venv"
    _run(tmp_path, "venv", str(venv))
    args = ["pip", "install", "--python", str(venv), "-i", server.url, "gamma"]
    assert "gamma==1.0 cannot be used" in _run(tmp_path, *args, code=1).stderr


@pytest.mark.parametrize("where", ["requirements", "constraints"])
def test_an_index_package_url_dependency_named_by_the_user_is_used(
    tmp_path: Path, server: IndexServer, other: Path, where: str
) -> None:
    beta9 = (other / "beta-9.0-py3-none-any.whl").as_uri()
    if where == "requirements":
        result = _compile(tmp_path, server, f"gamma\nbeta @ {beta9}\n", "--no-annotate")
    else:
        pins = _file(tmp_path, "pins.txt", f"beta @ {beta9}\n")
        result = _compile(tmp_path, server, "gamma\n", "-c", pins, "--no-annotate")
    assert result.stdout.splitlines() == [f"beta @ {beta9}", "gamma==1.0"]


def test_another_url_than_the_dependency_names_is_refused(
    tmp_path: Path, server: IndexServer, other: Path
) -> None:
    beta1 = (other / "beta-1.0-py3-none-any.whl").as_uri()
    result = _compile(tmp_path, server, f"gamma\nbeta @ {beta1}\n", code=1)
    assert "gamma==1.0 cannot be used: requires `beta @ " in result.stderr
