"""An interpreter its distribution manages (PEP 668) is not changed without being told to.

pip and uv refuse to install into or uninstall from a Python whose standard library
folder holds ``EXTERNALLY-MANAGED`` (Debian's, Fedora's system Python), unless
``--break-system-packages`` is given; so does resolvent. A virtual environment is
never externally managed. The "system" interpreter here is a prefix made in the test,
returned by a patched discovery: the tests must never touch the real system Python.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from resolvent.cli import cli
from resolvent.installer import discovery
from resolvent.installer.discovery import externally_managed
from resolvent.installer.venv import Venv
from tests.support.dists import Dist, build_wheel
from tests.support.environment import hermetic_env

if TYPE_CHECKING:
    from pathlib import Path

_MARKER = "[externally-managed]\nError=To install Python packages system-wide, use apt.\n more\n"


def _system(root: Path, *, managed: bool = True) -> Venv:
    """A prefix laid out as a distribution's Python, without ``pyvenv.cfg``."""
    version = sys.version_info
    stdlib = root / "lib" / f"python{version.major}.{version.minor}"
    site = stdlib / "site-packages"
    site.mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "bin" / "python").symlink_to(sys.executable)  # queried for markers and tags
    if managed:
        (stdlib / "EXTERNALLY-MANAGED").write_text(_MARKER)
    return Venv(
        root=root,
        python=root / "bin" / "python",
        scripts=root / "bin",
        site_packages=site,
        platlib=site,
        version=(version.major, version.minor, version.micro),
    )


def test_the_marker_file_is_found_and_read(tmp_path: Path) -> None:
    assert externally_managed(_system(tmp_path / "managed")) == (
        "To install Python packages system-wide, use apt.\nmore"
    )
    assert externally_managed(_system(tmp_path / "plain", managed=False)) is None
    venv = _system(tmp_path / "venv")
    (venv.root / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert externally_managed(venv) is None


@pytest.mark.parametrize("command", ["install", "uninstall", "sync"])
def test_changing_a_managed_interpreter_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    system = _system(tmp_path / "usr")
    monkeypatch.setattr(discovery, "find_environment", lambda *_, **__: system)
    wheel = build_wheel(tmp_path / "wheels", Dist("solo", "1.0"))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"{wheel}\n")
    target = {"install": [str(wheel)], "uninstall": ["solo"], "sync": [str(requirements)]}
    result = CliRunner().invoke(
        cli, ["pip", command, "--system", *target[command]], env=hermetic_env(tmp_path / "c")
    )
    assert result.exit_code == 2, result.output
    assert "is externally managed (PEP 668): To install Python packages system-wide" in (
        result.output
    )
    assert "--break-system-packages" in result.output
    assert "Traceback" not in result.output
    assert list(system.site_packages.iterdir()) == []


def test_break_system_packages_goes_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = _system(tmp_path / "usr")
    monkeypatch.setattr(discovery, "find_environment", lambda *_, **__: system)
    wheel = build_wheel(tmp_path / "wheels", Dist("solo", "1.0"))
    result = CliRunner().invoke(
        cli,
        ["pip", "install", "--system", "--break-system-packages", "--offline", str(wheel)],
        env=hermetic_env(tmp_path / "c"),
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert (system.site_packages / "solo" / "__init__.py").is_file()
