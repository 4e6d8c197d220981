"""Markers packaging cannot evaluate: ignored in metadata as uv ignores them, refused from users.

``python_version ~= "foo"`` and ``os_name === "posix"`` parse, but packaging raises
``UndefinedComparison`` when it evaluates them; that escaped as a traceback from every
place that evaluated a marker (install, compile, check, tree).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from resolvent import markers as markers_module
from resolvent.errors import BadInputError
from resolvent.installer.install import install_wheel
from resolvent.installer.site import SitePackages, check_requirements
from resolvent.markers import check_user_marker, requirement_applies
from resolvent.project.requirements_txt import parse_requirements_text
from resolvent.project.tree import TreeOptions, render_tree
from resolvent.target import host_target
from tests.support.dists import Dist, build_wheel

if TYPE_CHECKING:
    from pathlib import Path

    from resolvent.installer.cache import Cache
    from resolvent.installer.venv import Venv

POSIX = {
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "platform_release": "6.5.0",
    "platform_version": "#1 SMP",
    "platform_python_implementation": "CPython",
    "implementation_name": "cpython",
    "implementation_version": "3.11.7",
    "extra": "",
}


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees its warnings: they are given once per run (per process)."""
    monkeypatch.setattr(markers_module, "_warned", set())


@pytest.mark.parametrize(
    ("marker", "applies"),
    [
        # uv leaves the comparison out; a marker of nothing else holds.
        ('python_version ~= "foo"', True),
        ('os_name === "posix"', True),
        ('platform_system ~= "1"', True),
        ('python_version ~= "foo" and os_name == "nt"', False),
        ('python_version ~= "foo" and os_name == "posix"', True),
        ('python_version ~= "foo" or os_name == "nt"', False),
        ('(python_version ~= "foo" or os_name == "nt") and extra == "x"', False),
        ('os_name == "nt" or (python_version ~= "foo" and sys_platform == "linux")', True),
    ],
)
def test_a_comparison_packaging_cannot_evaluate_is_left_out_as_uv_does(
    marker: str, *, applies: bool
) -> None:
    assert requirement_applies(Requirement(f"dep>=1; {marker}"), POSIX) is applies


def test_evaluable_markers_are_evaluated_as_packaging_does() -> None:
    assert requirement_applies(Requirement("dep"), POSIX)
    assert requirement_applies(Requirement('dep; os_name == "posix"'), POSIX)
    assert not requirement_applies(Requirement('dep; extra == "x"'), POSIX)
    assert requirement_applies(Requirement('dep; extra == "x"'), {**POSIX, "extra": "x"})


def test_an_ignored_comparison_is_named_once(caplog: pytest.LogCaptureFixture) -> None:
    requirement = Requirement('dep>=1; python_version ~= "foo"')
    with caplog.at_level(logging.WARNING, logger="resolvent.markers"):
        requirement_applies(requirement, POSIX)
        requirement_applies(requirement, {**POSIX, "extra": "x"})
    assert caplog.messages == [
        (
            'ignoring `python_version ~= "foo"` in `dep>=1; python_version ~= "foo"`: '
            "packaging cannot evaluate it"
        )
    ]


@pytest.mark.parametrize(
    "marker", ['os_name === "posix"', 'python_version ~= "foo"', 'extra ~= "x"']
)
def test_a_users_marker_that_cannot_be_evaluated_is_bad_input(marker: str) -> None:
    with pytest.raises(BadInputError, match="cannot be evaluated"):
        check_user_marker(Marker(marker))
    text = f"dep; {marker}\n"
    with pytest.raises(BadInputError, match=r"^`req.txt` line 1: invalid marker `"):
        parse_requirements_text(text, "req.txt")


def test_a_users_evaluable_marker_is_accepted() -> None:
    check_user_marker(Marker('python_version === "3.11" or os_name == "nt"'))
    parsed = parse_requirements_text('dep; python_version >= "3"\n', "req.txt")
    assert parsed.requirements[0].requirement.name == "dep"


def test_check_and_tree_read_installed_metadata_with_such_a_marker(
    venv: Venv, cache: Cache, tmp_path: Path
) -> None:
    wheels = tmp_path / "wheels"
    badmark = Dist("badmark", "1.0", requires=['dep>=1; python_version ~= "foo"'])
    install_wheel(build_wheel(wheels, badmark), venv.destination(), cache=cache)
    site = SitePackages.scan([venv.site_packages])
    markers = host_target().markers()
    # The requirement applies (as uv has it), and dep is missing.
    assert [str(p) for p in check_requirements(site, markers)] == [
        "badmark 1.0 requires dep, which is not installed."
    ]
    install_wheel(build_wheel(wheels, Dist("dep", "1.0")), venv.destination(), cache=cache)
    site = SitePackages.scan([venv.site_packages])
    assert check_requirements(site, markers) == []
    assert "dep" in "\n".join(render_tree(site, markers, TreeOptions()))
