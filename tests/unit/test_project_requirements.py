"""Requirements of a setup script or dynamic ``pyproject.toml``, read from built metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from resolvent.errors import BadInputError
from resolvent.project.direct import project_requirements
from resolvent.project.requirements_txt import ProjectInput

MARKERS = {
    "python_version": "3.12",
    "python_full_version": "3.12.1",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
}

METADATA = b"""Metadata-Version: 2.1
Name: proj
Version: 1.0
Provides-Extra: test
Provides-Extra: docs
Provides-Extra: all
Requires-Dist: base>=1
Requires-Dist: winonly; sys_platform == "win32"
Requires-Dist: pytest>=8; extra == "test"
Requires-Dist: pytest-cov; extra == "test" and python_version >= "3.12"
Requires-Dist: sphinx @ https://example.test/sphinx-8.0-py3-none-any.whl ; extra == "docs"
Requires-Dist: proj[test,docs]; extra == "all"
"""


class _Builder:
    """Gives the metadata above for any folder, and counts the builds."""

    def __init__(self) -> None:
        self.built: list[Path] = []

    def builder(self) -> Any:
        return self

    def project_metadata(self, folder: Path) -> bytes:
        self.built.append(folder)
        return METADATA


def _names(extras: tuple[str, ...] = (), *, all_extras: bool = False) -> list[str]:
    project = ProjectInput(Path("/src/proj"), "setup.py", extras, all_extras)
    lines = project_requirements(project, MARKERS, no_build=False, builder=_Builder())
    assert all(line.source == "setup.py" for line in lines)
    assert all(line.requirement.marker is None for line in lines)  # settled for the target
    return [str(line.requirement) for line in lines]


def test_base_requirements_whose_markers_hold() -> None:
    assert _names() == ["base>=1"]


def test_an_extra_and_its_markers() -> None:
    assert _names(("Test",)) == ["base>=1", "pytest>=8", "pytest-cov"]


def test_an_extra_naming_other_extras_of_the_project_and_urls() -> None:
    expected = [
        "base>=1",
        "sphinx @ https://example.test/sphinx-8.0-py3-none-any.whl",
        "pytest>=8",
        "pytest-cov",
    ]
    assert _names(("all",)) == expected
    assert _names(all_extras=True) == expected


def test_an_undeclared_extra_and_a_forbidden_build() -> None:
    with pytest.raises(BadInputError, match="has no optional dependencies named `nope`"):
        _names(("nope",))
    project = ProjectInput(Path("/src/proj"), "setup.py")
    builder = _Builder()
    with pytest.raises(BadInputError, match="only known by building its metadata"):
        project_requirements(project, MARKERS, no_build=True, builder=builder)
    assert builder.built == []
