"""The installer's value classes: no code compiled at import, the semantics of a dataclass.

A warm install is mostly imports, and ``@dataclass`` compiled the methods of each of the
installer's 20 classes from source text at import (6% of a warm install's instructions).
They are written out now (:class:`resolvent.value_class.Value`); these tests keep it
so and pin what callers relied on: equality, hashing and ``repr`` by fields, in order.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.installer.destination import InstalledFiles, Scheme
from resolvent.installer.plan import Wanted
from resolvent.installer.site import InstalledDist, LegacyEditableFiles, SitePackages
from resolvent.installer.venv import Interpreter
from resolvent.project.install import InstallReport
from resolvent.value_class import Value

MODULES = [
    "resolvent.installer.destination",
    "resolvent.installer.install",
    "resolvent.installer.manifest",
    "resolvent.installer.plan",
    "resolvent.installer.record",
    "resolvent.installer.site",
    "resolvent.installer.venv",
    "resolvent.project.install",
]


@pytest.mark.parametrize("name", MODULES)
def test_classes_of_the_warm_path_compile_nothing_at_import(name: str) -> None:
    """Every method of every class is the module's own code, none made from source text."""
    module = importlib.import_module(name)
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == name]
    assert classes
    for cls in classes:
        for attribute, value in vars(cls).items():
            code = getattr(value, "__code__", None)
            if code is not None:
                assert code.co_filename == module.__file__, f"{cls.__name__}.{attribute}"


def _dist(kind: str = "dist-info") -> InstalledDist:
    return InstalledDist(canonicalize_name("Demo"), Version("1.0"), Path("/site/demo"), kind)  # type: ignore[arg-type]


def test_equality_hash_and_repr_are_by_fields_in_order() -> None:
    assert _dist() == _dist()
    assert hash(_dist()) == hash(_dist())
    assert _dist() != _dist("egg-info")
    assert repr(_dist()) == (
        "InstalledDist(name='demo', version=<Version('1.0')>, "
        "dist_info=PosixPath('/site/demo'), kind='dist-info', link=None)"
    )
    assert InstalledDist.value_fields == ("name", "version", "dist_info", "kind", "link")
    # Another class with the same values is not equal, a subclass neither (as dataclasses).
    files = InstalledFiles(Path("/site/demo"), ("a",))
    assert files != LegacyEditableFiles(Path("/site/demo"), ("a",))
    assert LegacyEditableFiles.value_fields == ("dist_info", "paths", "pth", "entry")
    assert LegacyEditableFiles(Path("/x"), (), "p") == LegacyEditableFiles(Path("/x"), (), pth="p")
    root = Path("/env")
    assert Scheme(root, root, root, root, root, root) != files


def test_a_wanted_distribution_hashes_without_its_direct_url() -> None:
    name = canonicalize_name("demo")
    one = Wanted(name, Version("1"), direct_url={"url": "file:///a"})
    other = Wanted(name, Version("1"), direct_url={"url": "file:///b"})
    assert one != other
    assert hash(one) == hash(other) == hash(Wanted(name, Version("1")))


def test_mutable_value_classes_are_unhashable_and_get_fresh_defaults() -> None:
    for value in (SitePackages(), InstallReport()):
        with pytest.raises(TypeError, match="unhashable"):
            hash(value)
    first, second = InstallReport(), InstallReport()
    first.warnings.append("w")
    assert second.warnings == []
    assert SitePackages() == SitePackages()


def test_the_interpreter_answer_stays_a_dataclass_for_replace_and_asdict() -> None:
    answer = Interpreter(
        "/e/bin/python", "/b/python", "/e", "/b", (3, 11, 7), "", "cpython", "linux", True,
        "lib", "lib", "bin",
    )  # fmt: skip
    assert isinstance(answer, Value)
    moved = dataclasses.replace(answer, prefix="/other")
    assert moved.prefix == "/other"
    assert moved.executable == answer.executable
    assert moved != answer
    assert list(dataclasses.asdict(answer)) == list(Interpreter.value_fields)
    assert [field.name for field in dataclasses.fields(Interpreter)] == list(
        Interpreter.value_fields
    )
