"""``resolvent pip`` sees an environment as pip and uv see it, through the real CLI.

Each test makes a venv with ``resolvent venv`` and then leaves in it what other tools
leave: an ``.egg-info`` folder or file (``setup.py install``, ``distutils``, distribution
packages), a legacy editable (``.egg-link`` and ``easy-install.pth``), or a second
``.dist-info`` of one project. Wheels come from a find-links folder in ``tmp_path``; no
network is used. The expected outputs are what ``uv pip`` prints for the same folders
(and pip, where uv reads less: ``requires.txt``).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from resolvent.cli import cli
from tests.support.dists import Dist, build_wheel
from tests.support.environment import hermetic_env

if TYPE_CHECKING:
    from pathlib import Path

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


class Env:
    """A venv with hand-made installs, and the commands that read or change it."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.runner = CliRunner()
        self.cache = tmp_path / "cache"
        self.wheels = tmp_path / "wheels"
        self.venv = tmp_path / "venv"
        self("venv", str(self.venv))
        self.site = self.venv / "lib" / f"python{PY}" / "site-packages"

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = self.runner.invoke(cli, list(args), env=hermetic_env(self.cache))
        assert result.exit_code == code, (result.output, result.exception)
        assert "Traceback" not in result.output
        return result

    def pip(self, command: str, *args: str, code: int = 0) -> Result:
        return self("pip", command, "--python", str(self.venv), *args, code=code)

    def install(self, *args: str, code: int = 0) -> Result:
        return self.pip("install", "--no-index", "-f", str(self.wheels), *args, code=code)

    def wheel(self, name: str, version: str, **kwargs: object) -> None:
        build_wheel(self.wheels, Dist(name, version, **kwargs))  # type: ignore[arg-type]

    def write(self, relative: str, text: str) -> Path:
        path = self.site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def egg_info(self, name: str, version: str, *lines: str, top_level: str = "") -> Path:
        folder = self.site / f"{name.replace('-', '_')}-{version}-py{PY}.egg-info"
        self.write(f"{folder.name}/PKG-INFO", pkg_info(name, version, *lines))
        if top_level:
            self.write(f"{folder.name}/top_level.txt", f"{top_level}\n")
            self.write(f"{top_level}/__init__.py", "VERSION = 'egg'\n")
        return folder

    def legacy_editable(self, name: str, version: str) -> Path:
        project = self.tmp / f"{name}-project"
        info = project / f"{name}.egg-info"
        info.mkdir(parents=True)
        (info / "PKG-INFO").write_text(pkg_info(name, version), encoding="utf-8")
        self.write(f"{name}.egg-link", f"{project}\n.")
        self.write("easy-install.pth", f"{project}\n")
        return project

    def names(self) -> list[str]:
        return sorted(path.name for path in self.site.iterdir())


def pkg_info(name: str, version: str, *lines: str) -> str:
    text = f"Metadata-Version: 1.1\nName: {name}\nVersion: {version}\n"
    return text + "".join(f"{line}\n" for line in lines)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def test_list_freeze_and_show_see_eggs_and_legacy_editables(env: Env) -> None:
    env.egg_info("egg-dir", "1.0", top_level="eggdir")
    env.write(f"eggfile-2.0-py{PY}.egg-info", pkg_info("eggfile", "2.0"))
    project = env.legacy_editable("leg", "0.3")
    listed = env.pip("list", "--format", "json").stdout
    assert json.loads(listed) == [
        {"name": "egg-dir", "version": "1.0"},
        {"name": "eggfile", "version": "2.0"},
        {"name": "leg", "version": "0.3", "editable_project_location": str(project)},
    ]
    assert env.pip("freeze").stdout.splitlines() == [
        "egg-dir==1.0",
        "eggfile==2.0",
        f"-e {project}",
    ]
    shown = env.pip("show", "leg", "eggfile").stdout
    assert f"Name: leg\nVersion: 0.3\nLocation: {project}\n" in shown
    assert f"Editable project location: {project}\n" in shown
    assert f"Name: eggfile\nVersion: 2.0\nLocation: {env.site}\n" in shown


def test_show_and_check_read_requires_txt_and_markers(env: Env) -> None:
    folder = env.egg_info("egg-dir", "1.0", "Requires-Python: >=3")
    env.write(f"{folder.name}/requires.txt", "dep>=2\n\n[extra]\nnever\n")
    env.wheel("dep", "1.5", requires=['other; python_version >= "3"', "gone; os_name == 'xx'"])
    env.wheel("other", "1.0")
    env.install("dep==1.5", "other")
    # A requirement whose marker holds is shown, as pip and uv show it (it was left out).
    assert "Requires: other\n" in env.pip("show", "dep").stdout
    shown = env.pip("show", "dep", "egg-dir").stdout
    assert "Name: dep\n" in shown
    assert "Requires: other\nRequired-by: egg-dir\n" in shown  # the marker holds: shown
    assert "Name: egg-dir\nVersion: 1.0\n" in shown
    assert "Requires: dep\n" in shown
    checked = env.pip("check", code=1).stdout
    assert checked == "egg-dir 1.0 has requirement dep>=2, but you have dep 1.5.\n"


def test_an_egg_info_install_satisfies_a_requirement_and_is_replaced_on_upgrade(
    env: Env,
) -> None:
    env.egg_info("egg-dir", "1.0", top_level="eggdir")
    env.wheel("egg-dir", "1.0")
    env.wheel("egg-dir", "2.0")
    first = env.install("egg-dir==1.0")
    assert "Audited 1 package" in first.stderr
    assert f"egg_dir-1.0-py{PY}.egg-info" in env.names()
    upgraded = env.install("egg-dir==2.0")
    assert " - egg-dir==1.0\n + egg-dir==2.0\n" in upgraded.stderr
    assert env.names() == ["egg_dir", "egg_dir-2.0.dist-info"]
    assert env.pip("verify").exit_code == 0


def test_uninstall_removes_egg_info_folders_and_legacy_editables(env: Env) -> None:
    env.egg_info("egg-dir", "1.0", top_level="eggdir")
    project = env.legacy_editable("leg", "0.3")
    result = env.pip("uninstall", "egg-dir", "leg")
    assert "Uninstalled 2 packages" in result.stderr
    assert env.names() == ["easy-install.pth"]
    assert (env.site / "easy-install.pth").read_text() == ""
    assert (project / "leg.egg-info" / "PKG-INFO").exists()  # the project is the user's


def test_an_egg_info_file_is_refused_in_one_line_and_nothing_is_removed(env: Env) -> None:
    env.egg_info("egg-dir", "1.0", top_level="eggdir")
    env.write(f"eggfile-2.0-py{PY}.egg-info", pkg_info("eggfile", "2.0"))
    before = env.names()
    result = env.pip("uninstall", "egg-dir", "eggfile", code=1)
    assert result.stderr == (
        "error: cannot uninstall `eggfile==2.0`: distutils-installed distributions do not "
        "include the metadata required to uninstall safely\n"
    )
    assert env.names() == before


def test_a_project_installed_twice_is_reported_replaced_and_removed_whole(env: Env) -> None:
    env.wheel("dup", "1.0", files={"dup/__init__.py": "VERSION = '1'\n"})
    env.wheel("dup", "2.0", files={"dup/__init__.py": "VERSION = '2'\n"})
    env.install("dup==1.0")
    copy = env.site / "dup-1.0.dist-info"
    second = env.site / "dup-2.0.dist-info"
    second.mkdir()
    for file in copy.iterdir():
        (second / file.name).write_bytes(file.read_bytes())
    (second / "METADATA").write_text(pkg_info("dup", "2.0"), encoding="utf-8")
    warning = f"warning: `dup` has multiple installed distributions: `{copy}`, `{second}`\n"
    listed = env.pip("list")
    assert listed.stdout.splitlines()[2:] == ["dup     1.0", "dup     2.0"]
    assert listed.stderr == warning
    frozen = env.pip("freeze")
    assert (frozen.stdout, frozen.stderr) == ("dup==1.0\ndup==2.0\n", warning)
    assert env.pip("show", "dup").stdout.count("Name: dup\n") == 2
    checked = env.pip("check", code=1).stdout
    assert checked == f"dup has multiple installed distributions: `{copy}`, `{second}`\n"
    # An install of either version replaces both, as uv does.
    installed = env.install("dup==2.0")
    assert " - dup==1.0\n - dup==2.0\n + dup==2.0\n" in installed.stderr
    assert env.names() == ["dup", "dup-2.0.dist-info"]
    assert env.pip("verify").exit_code == 0
    second = env.site / "dup-1.0.dist-info"
    second.mkdir()
    (second / "METADATA").write_text(pkg_info("dup", "1.0"), encoding="utf-8")
    (second / "RECORD").write_text("dup-1.0.dist-info/METADATA,,\n", encoding="utf-8")
    removed = env.pip("uninstall", "dup")
    assert "Uninstalled 2 packages" in removed.stderr
    assert env.names() == []


def test_a_venv_folder_without_pyvenv_cfg_is_refused(env: Env) -> None:
    """Its interpreter runs as the base one: the base environment was listed and changed."""
    (env.venv / "pyvenv.cfg").unlink()
    for command in ("list", "freeze", "uninstall"):
        args = (
            "pip",
            command,
            "--python",
            str(env.venv),
            *(["x"] if command == "uninstall" else []),
        )
        result = env(*args, code=2)
        assert result.stderr.startswith(
            f"error: broken virtual environment `{env.venv}`: `pyvenv.cfg` is missing\n"
        )
        assert result.stdout == ""


def test_a_dot_venv_without_pyvenv_cfg_is_refused_not_skipped(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As uv: a parent folder's ``.venv`` must not be used instead."""
    (env.tmp / ".venv").symlink_to(env.venv)  # a working venv above
    project = env.tmp / "project"
    (project / ".venv").mkdir(parents=True)  # broken below
    monkeypatch.chdir(project)
    result = env("pip", "list", code=2)
    broken = project / ".venv"
    assert result.stderr.startswith(
        f"error: broken virtual environment `{broken}`: `pyvenv.cfg` is missing\n"
    )
