"""A bare path's project name is read from what the tree declares, without building it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from resolvent.errors import BadInputError
from resolvent.project.requirements_txt import parse_requirements_text
from resolvent.project.source_tree_name import source_tree_name

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": '[project]\nname = "pep621"\n'}, "pep621"),
        ({"pyproject.toml": '[tool.poetry]\nname = "from-poetry"\n'}, "from-poetry"),
        ({"setup.cfg": "[metadata]\nname = from_cfg\n"}, "from_cfg"),
        (
            {"setup.py": 'from setuptools import setup\nsetup(name="from-setup-py")\n'},
            "from-setup-py",
        ),
        (
            {
                "setup.py": "import setuptools\n"
                "setuptools.setup(\n    version=v(),\n    name='late.name',\n)\n"
            },
            "late.name",
        ),
        # The build system table alone names nothing: the older files are read next.
        (
            {"pyproject.toml": "[build-system]\nrequires = []\n", "setup.py": "setup(name='x1')\n"},
            "x1",
        ),
        ({"pyproject.toml": "[project\n", "setup.cfg": "[metadata]\nname = y1\n"}, "y1"),
        # Nothing literal to read: left unknown, never run.
        ({"setup.py": "NAME = 'n'\nsetup(name=NAME)\n"}, None),
        ({"setup.cfg": "[metadata]\nname = attr: pkg.NAME\n"}, None),
        ({"setup.py": "setup(name='ok'\n"}, None),  # a syntax error
        ({"setup.py": "x = " + "(" * 10_000 + ")" * 10_000 + "\nsetup(name='deep')\n"}, None),
        ({"setup.cfg": "no section\n"}, None),
        ({}, None),
    ],
)
def test_the_name_comes_from_the_first_file_that_states_it(
    tmp_path: Path, files: dict[str, str], expected: str | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert source_tree_name(tmp_path) == expected


def test_a_setup_py_project_is_a_named_path_requirement(tmp_path: Path) -> None:
    # It used to be refused: only a pyproject's [project] table was read.
    project = tmp_path / "legacy"
    project.mkdir()
    (project / "setup.py").write_text("from setuptools import setup\nsetup(name='Legacy_Pkg')\n")
    parsed = parse_requirements_text("-e ./legacy\n./legacy[x]\n", "r.txt", base=tmp_path)
    assert [str(line.requirement) for line in parsed.requirements] == [
        f"Legacy_Pkg @ {project.as_uri()}",
        f"Legacy_Pkg[x] @ {project.as_uri()}",
    ]


def test_a_tree_that_states_no_name_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "anon").mkdir()
    (tmp_path / "anon" / "setup.py").write_text("import os\nsetup(name=os.environ['N'])\n")
    with pytest.raises(BadInputError, match="cannot tell the project name"):
        parse_requirements_text("./anon\n", "r.txt", base=tmp_path)
