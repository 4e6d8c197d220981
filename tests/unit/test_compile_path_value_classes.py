"""The value classes of the compile path: no code compiled at import, a dataclass's semantics.

Every ``pip compile`` imports these modules, and ``@dataclass`` compiled the methods of
each class from source text then (about 3.6 million instructions a class: 19 of them
were 62 million of the 483 million a warm airflow compile spends before it loads
anything). They are :class:`resolvent.value_class.Value` classes now; these tests keep
it so and pin what callers relied on: equality, hashing and ``repr`` by fields, in
order, fresh defaults, and mutable classes being unhashable.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.index.config import IndexConfig
from resolvent.index.filenames import DistFilename, parse_dist_filename
from resolvent.index.metadata import CoreMetadata, NeedsBuild, _Member
from resolvent.project.compile import CompileResult, _Direct
from resolvent.project.compile_output import PinnedSet
from resolvent.project.requirements_txt import ProjectInput, RequirementLine, RequirementsFile
from resolvent.project.resolve import Resolved
from resolvent.solver._internal.cnf import Group
from resolvent.solver.crosscheck import EngineRun, Resolution
from resolvent.solver.provider import Unavailable, VersionInfo
from resolvent.solver.ranges import from_specifier
from resolvent.solver.result import NoSolution, Solution
from resolvent.solver.universe import Dependency, Options
from resolvent.target import Platform, parse_platform
from resolvent.value_class import Value

CLASSES = [
    CompileResult,
    CoreMetadata,
    Dependency,
    DistFilename,
    EngineRun,
    Group,
    NoSolution,
    Resolution,
    Solution,
    IndexConfig,
    NeedsBuild,
    Options,
    PinnedSet,
    Platform,
    ProjectInput,
    RequirementLine,
    RequirementsFile,
    Resolved,
    Unavailable,
    VersionInfo,
    _Direct,
    _Member,
]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_the_class_compiles_nothing_at_import(cls: type) -> None:
    """Every method is its module's own code, none made from source text (``@dataclass``)."""
    assert issubclass(cls, Value)
    assert not hasattr(cls, "__dataclass_fields__")
    module_file = __import__(cls.__module__, fromlist=["_"]).__file__
    for klass in cls.__mro__:
        if klass.__module__.startswith("resolvent"):
            for attribute, value in vars(klass).items():
                code = getattr(value, "__code__", None)
                if code is not None:
                    assert code.co_filename != "<string>", f"{cls.__name__}.{attribute}"
    init = next(k.__dict__["__init__"] for k in cls.__mro__ if "__init__" in k.__dict__)
    assert init.__code__.co_filename in {module_file, Unavailable.__init__.__code__.co_filename}
    assert "__dict__" not in dir(cls)  # slots, as ``slots=True`` made them


def test_equality_hash_and_repr_are_by_fields_in_order() -> None:
    version = Version("1.0")
    one = VersionInfo(version, True, "broken", SpecifierSet(">=3.8"))
    same = VersionInfo(Version("1.0"), yanked=True, yanked_reason="broken")
    assert one != same  # requires_python differs
    assert VersionInfo(version) == VersionInfo(Version("1.0"))
    assert hash(VersionInfo(version)) == hash(VersionInfo(Version("1.0")))
    assert repr(VersionInfo(version)) == (
        "VersionInfo(version=<Version('1.0')>, yanked=False, yanked_reason=None, "
        "requires_python=None, unusable=None)"
    )
    assert VersionInfo.value_fields == (
        "version",
        "yanked",
        "yanked_reason",
        "requires_python",
        "unusable",
    )
    edge = Dependency("a", from_specifier(">=1"), ">=1")
    assert edge == Dependency("a", from_specifier(">=1"), ">=1")
    assert hash(edge) == hash(Dependency("a", from_specifier(">=1"), ">=1"))
    assert edge != Dependency("a", from_specifier(">=1"), ">=1.0")
    assert repr(Unavailable("gone")) == "Unavailable(reason='gone')"
    assert repr(NeedsBuild("dynamic")) == "NeedsBuild(reason='dynamic')"


def test_a_subclass_never_equals_its_base() -> None:
    """As between dataclasses: ``NeedsBuild`` is an ``Unavailable`` but not equal to one."""
    assert NeedsBuild("x") != Unavailable("x")
    assert Unavailable("x") != NeedsBuild("x")
    assert NeedsBuild("x") == NeedsBuild("x")
    assert hash(NeedsBuild("x")) == hash(NeedsBuild("x"))
    assert isinstance(NeedsBuild("x"), Unavailable)
    assert {Unavailable("x"), Unavailable("x"), NeedsBuild("x")} == {
        Unavailable("x"),
        NeedsBuild("x"),
    }


def test_defaults_are_the_dataclass_defaults_and_fresh() -> None:
    options = Options()
    assert (options.prerelease, options.resolution) == ("if-necessary-or-explicit", "highest")
    assert options.constraints == options.overrides == options.preferences == {}
    assert options.urls is None
    assert Options().constraints is not Options().constraints
    first, second = RequirementsFile(), RequirementsFile()
    first.requirements.append(RequirementLine(Requirement("a"), "-r in.txt", 1))
    first.no_binary.append(":all:")
    assert second.requirements == second.no_binary == []
    assert second == RequirementsFile()
    assert first != second
    pinned = PinnedSet({canonicalize_name("a"): Version("1")})
    assert pinned.via == pinned.hashes == pinned.lines == {}
    assert PinnedSet({}).via is not PinnedSet({}).via
    line = RequirementLine(Requirement("a>=1"), "-r in.txt", 3)
    assert (line.hashes, line.editable, line.path) == ((), False, None)
    assert ProjectInput(Path("p"), "p").extras == ()
    config = IndexConfig("https://example.invalid/simple")
    assert config.strategy == "first-index"
    assert config.index_urls == ("https://example.invalid/simple",)


def test_outcomes_and_runs_keep_the_dataclass_defaults() -> None:
    """The solver's records: fresh stats and problems, fields in the dataclasses' order."""
    solution = Solution("sat", {"a": Version("1")})
    assert solution.stats == {}
    assert solution.stats is not Solution("sat", {}).stats
    assert solution == Solution("sat", {"a": Version("1")}, {})
    assert solution != NoSolution("sat", "")
    assert NoSolution("pubgrub", "why").core == ()
    assert NoSolution.value_fields == ("engine", "explanation", "core", "stats")
    run = EngineRun("sat", solution, 0.5)
    assert (run.gave_up, run.problems, run.confirming) == (None, [], False)
    assert run.problems is not EngineRun("sat", None, 0.0).problems
    run.problems.append("x")  # mutable, as the dataclass was
    assert Resolution(solution, [run]).problems == []
    assert repr(Resolution(solution, [])) == (
        f"Resolution(outcome={solution!r}, runs=[], problems=[])"
    )


def test_mutable_classes_are_unhashable_and_frozen_ones_hash() -> None:
    for value in (
        RequirementsFile(),
        CompileResult(PinnedSet({}), "", None),  # type: ignore[arg-type]
        EngineRun("sat", None, 0.0),
        Resolution(NoSolution("sat", ""), []),
    ):
        with pytest.raises(TypeError, match="unhashable"):
            hash(value)
    hash(parse_platform("x86_64-manylinux_2_28"))
    hash(IndexConfig("https://example.invalid/simple", ("https://extra.invalid/",)))
    hash(RequirementLine(Requirement("a"), "-r in.txt", 1))
    meta = CoreMetadata(
        canonicalize_name("Demo"),
        Version("1"),
        (Requirement("a"),),
        None,
        (canonicalize_name("x"),),
    )
    assert meta == CoreMetadata.from_json(meta.to_json())
    assert meta.invalid_requires_dist == ()


def test_parsed_file_names_and_platforms_compare_by_value() -> None:
    wheel = parse_dist_filename("demo-1.0-py3-none-any.whl")
    assert wheel == parse_dist_filename("demo-1.0-py3-none-any.whl")
    assert wheel is not None
    assert (wheel.kind, wheel.name, wheel.version, wheel.build) == (
        "wheel",
        "demo",
        Version("1.0"),
        (),
    )
    sdist = parse_dist_filename("demo-1.0.tar.gz")
    assert sdist is not None
    assert (sdist.tags, sdist.build) == (frozenset(), ())
    assert sdist != wheel
    platform = parse_platform("x86_64-manylinux2014")
    assert platform == Platform("linux", "x86_64", "gnu", (2, 17))
    assert platform.libc_version == (2, 17)
    assert Platform("linux", "x86_64").macos_version == (0, 0)


def test_resolved_and_direct_keep_their_fields() -> None:
    resolved = Resolved(None, None, None)  # type: ignore[arg-type]
    assert resolved.warnings == []
    assert Resolved(None, None, None).warnings is not resolved.warnings  # type: ignore[arg-type]
    meta = CoreMetadata(canonicalize_name("d"), Version("1"), (), None, ())
    direct = _Direct(meta, "file:///d", None, False)
    assert direct == _Direct(meta, "file:///d", None, False)
    assert _Member("a", 8, 1, 2, 3, 4, 5, 6).extra_length == 6
