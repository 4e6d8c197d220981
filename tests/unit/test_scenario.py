from __future__ import annotations

import pytest
from packaging.version import Version

from resolvent.errors import ScenarioError
from resolvent.solver.provider import Unavailable
from resolvent.solver.scenario import parse_scenario
from resolvent.solver.universe import ROOT, ROOT_VERSION

GOOD = """
name = "demo"
description = "a demo"

[root]
requires = ["a[x]"]

[expected]
satisfiable = true

[expected.packages]
a = "1.0.0"

[packages.a.versions."1.0.0"]
requires = ["b"]
extras = { x = ["c; python_version >= '3'"] }

[packages.a.versions."2.0.0"]
wheel_tags = ["py3-none-macosx_10_0_ppc64"]
sdist = false

[packages.a.versions."3.0.0"]
requires_python = ">=3.13"

[packages.b.versions."1.0.0"]
yanked = true

[packages.c.versions."1.0.0"]

[resolver_options]
no_build = ["c"]
"""


def test_parse_and_universe():
    (scenario,) = parse_scenario(GOOD, "demo.toml")
    assert scenario.name == "demo"
    assert scenario.expected.packages == {"a": Version("1.0.0")}
    universe = scenario.universe()
    assert list(universe.versions("a")) == [Version("1.0.0")]
    excluded = universe.excluded("a")
    assert "matching platform" in excluded[Version("2.0.0")]
    assert "requires Python" in excluded[Version("3.0.0")]
    assert "yanked" in universe.excluded("b")[Version("1.0.0")]
    root_deps = universe.dependencies(ROOT, ROOT_VERSION)
    assert not isinstance(root_deps, Unavailable)
    (root,) = [d.package for d in root_deps if d.package == "a[x]"]
    assert root == "a[x]"
    extra = universe.dependencies("a[x]", Version("1.0.0"))
    assert [d.package for d in extra] == ["a", "c"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 'x'\n[root]\nrequires=['a']\n", "missing `expected`"),
        (
            "name = 'x'\nbogus = 1\n[root]\n[expected]\nsatisfiable = true\n",
            "unknown field `bogus`",
        ),
        (
            "name = 'x'\n[root]\nrequires=['a >> 1']\n[expected]\nsatisfiable=true\n",
            "invalid requirement",
        ),
        ("name = 'x'\n[root]\n[expected]\nsatisfiable='yes'\n", "must be true or false"),
        (
            (
                "name = 'x'\n[root]\n[expected]\nsatisfiable=true\n"
                "[packages.a.versions.'not a version']\n"
            ),
            "invalid version",
        ),
        ("name = 'x'\n[root\n", "not valid TOML"),
        (
            (
                "name = 'x'\n[root]\n[expected]\nsatisfiable=true\n"
                "[resolver_options]\npython_platform='nope'\n"
            ),
            "unknown Python platform",
        ),
    ],
)
def test_bad_scenarios(text, message):
    with pytest.raises(ScenarioError, match=message) as info:
        parse_scenario(text, "bad.toml")
    assert "\n" not in info.value.message


_MINIMAL = "name = 'x'\n[root]\n[expected]\nsatisfiable = true\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 5\n[root]\n[expected]\nsatisfiable = true\n", "`name` must be a string"),
        (_MINIMAL + "[resolver_options]\nprereleases = 'no'\n", "must be true or false"),
        (_MINIMAL + "[resolver_options]\nuniversal = 'no'\n", "must be true or false"),
        (_MINIMAL + "[resolver_options]\npython = []\n", "must be a string"),
        (_MINIMAL + "[resolver_options]\npython = '3.900000000'\n", "invalid Python version"),
        (_MINIMAL + "[environment]\nadditional_python = [5]\n", "list of strings"),
        (_MINIMAL + "[environment]\nadditional_python = ['x']\n", "invalid Python version"),
        (
            "name = 'x'\n[root]\nrequires_python = 'nonsense'\n[expected]\nsatisfiable = true\n",
            "invalid requires-python",
        ),
        (_MINIMAL.replace("true", "true\nexplanation = 7"), "must be a string"),
        (_MINIMAL + "[packages.a.versions.'1" + "0" * 5000 + "']\n", "invalid version"),
        (
            "name = 'x'\n[root]\nrequires = ['a==1" + "0" * 5000 + "']\n"
            "[expected]\nsatisfiable = true\n",
            "invalid requirement",
        ),
        ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
    ],
)
def test_wrong_types_and_extreme_values_are_scenario_errors(text, message):
    with pytest.raises(ScenarioError, match=message) as info:
        parse_scenario(text, "bad.toml")
    assert "\n" not in info.value.message


def test_json_list():
    text = '[{"name": "j", "root": {"requires": []}, "expected": {"satisfiable": true}}]'
    (scenario,) = parse_scenario(text, "x.json", fmt="json")
    assert scenario.requires == ()


def test_every_shared_scenario_parses(shared_scenarios):
    count = 0
    for path in sorted(shared_scenarios.rglob("*.toml")):
        count += len(parse_scenario(path.read_text(), str(path)))
    assert count >= 150


UNUSABLE = """
name = "unusable"
[root]
requires = ["a", "b", "c", "d"]
[expected]
satisfiable = false
[packages.a.versions."1.0.0"]
sdist = false
[packages.b.versions."1.0.0"]
wheel_tags = ["py3-none-macosx_10_0_ppc64"]
sdist = false
[packages.c.versions."1.0.0"]
wheel = false
[packages.d.versions."1.0.0"]
wheel = false
sdist = false
[resolver_options]
no_binary = ["a"]
no_build = ["c"]
"""


def test_unusable_versions_say_which_files_are_missing_or_forbidden():
    (scenario,) = parse_scenario(UNUSABLE, "unusable.toml")
    universe = scenario.universe()
    why = {name: universe.excluded(name)[Version("1.0.0")] for name in "abcd"}
    assert "only wheels and `--no-binary`" in why["a"]
    assert "matching platform" in why["b"]
    assert "building from source is disabled" in why["c"]
    assert "no distributions" in why["d"]


def test_a_wheel_tag_that_does_not_parse_is_a_wheel_no_target_accepts():
    # packse takes any text as a tag (upstream scenarios used `incompatible-tag`).
    text = (
        "name = 'x'\n[root]\nrequires = ['a']\n[expected]\nsatisfiable = true\n"
        "[packages.a.versions.'1.0.0']\nwheel_tags = ['incompatible-tag']\n"
        "[packages.a.versions.'2.0.0']\nwheel_tags = ['incompatible-tag']\nsdist = false\n"
    )
    (scenario,) = parse_scenario(text, "x.toml")
    universe = scenario.universe()
    assert list(universe.versions("a")) == [Version("1.0.0")]  # its sdist
    assert "matching platform" in universe.excluded("a")[Version("2.0.0")]


def test_an_extra_may_require_a_url():
    text = (
        "name = 'x'\n[root]\nrequires = ['a[x]']\n[expected]\nsatisfiable = true\n"
        "[packages.a.versions.'1.0']\n"
        'extras = {x = ["b @ https://example.invalid/b-1.0-py3-none-any.whl'
        " ; python_version > '3'\"]}\n"
    )
    (scenario,) = parse_scenario(text, "x.toml")
    universe = scenario.universe()
    deps = universe.dependencies("a[x]", Version("1.0"))
    assert [d.package for d in deps] == ["a", "b"]  # type: ignore[union-attr]
