"""A warm install imports what it uses, and its records compile no code at import.

Imports were a fifth of a warm ``pip install`` of 56 wheels. The modules it imports hold
no ``@dataclass`` records any more (each compiled its methods from source text), and
what only a cold run, a failure or an option needs is imported there: ``datetime``
(upload times, ``--exclude-newer``), ``hashlib`` (OpenSSL's digests, for downloads and
unpacking; names are hashed by CPython's own module), ``tempfile`` and ``shutil``,
``csv`` (quoted RECORDs), ``shlex`` (option lines of requirements files), PubGrub's
explanations, and the SAT encoding with its conflict explanations (a warm install's
answer is confirmed by evaluation, see ``test_confirm_evaluation``). These tests keep
it so, and pin what the records' callers relied on: equality, hashing and ``repr`` as
the dataclasses made them, and ``dataclasses.replace`` (and their own ``replace``).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.index.httpcache import CacheEntry
from resolvent.index.metadata import CoreMetadata
from resolvent.index.pages import DistFile, FileRecord, ProjectPage, epoch_microseconds
from resolvent.project.direct import DirectMetadata
from resolvent.project.resolve import ResolveSettings, parse_exclude_newer
from resolvent.target import Target, parse_platform
from resolvent.value_class import MutableValue, Value

ROOT = Path(__file__).resolve().parents[2]

#: What the warm install imports, in the order it does.
WARM_PATH = (
    "resolvent.cli._install_run",
    "resolvent.installer.discovery",
    "resolvent.installer.link",
    "resolvent.project.install",
    "resolvent.index.provider",
    "resolvent.solver.crosscheck",
    "resolvent.solver.pubgrub",
    "resolvent.solver.sat",
    "resolvent.project.diagnostics",
)

#: Imported where they are used, none of them on a warm install.
ON_USE = (
    "datetime",
    "hashlib",
    "tempfile",
    "shutil",
    "csv",
    "shlex",
    "resolvent.solver.report",
    "resolvent.solver._internal.cnf",
    "resolvent.solver._internal.sat_explain",
)


def test_the_warm_path_imports_nothing_it_only_may_use() -> None:
    code = (
        "import sys\n"
        f"for name in {WARM_PATH!r}:\n"
        "    __import__(name)\n"
        f"print(','.join(m for m in {ON_USE!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


CLASSES = [CacheEntry, DirectMetadata, DistFile, ProjectPage, ResolveSettings, Target]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_the_class_compiles_nothing_at_import(cls: type) -> None:
    """Every method is its module's own code, none made from source text (``@dataclass``)."""
    assert issubclass(cls, Value)
    module_file = sys.modules[cls.__module__].__file__
    for attribute, value in vars(cls).items():
        code = getattr(value, "__code__", None)
        if code is not None:
            assert code.co_filename == module_file, f"{cls.__name__}.{attribute}"


def _dist(**changes: object) -> DistFile:
    fields: dict[str, object] = {
        "filename": "demo-1.0-py3-none-any.whl",
        "url": "https://h/demo-1.0-py3-none-any.whl",
        "hashes": {"sha256": "ab"},
        "requires_python": SpecifierSet(">=3.8"),
        "yanked": False,
        "yanked_reason": None,
        "core_metadata": {},
        "upload_time": datetime(2024, 1, 2, tzinfo=UTC),
        "size": 10,
        "kind": "wheel",
        "name": canonicalize_name("demo"),
        "version": Version("1.0"),
        "tags": frozenset({Tag("py3", "none", "any")}),
        "build": (),
    }
    fields.update(changes)
    return DistFile(**fields)  # type: ignore[arg-type]


def test_dist_file_equality_hash_and_repr() -> None:
    dist = _dist()
    assert dist == _dist()
    assert dist != _dist(size=11)
    assert dist != _dist(hashes={"sha256": "cd"})  # compared...
    assert hash(dist) == hash(_dist(hashes={"sha256": "cd"}, core_metadata=None))  # ...not hashed
    assert hash(dist) != hash(_dist(size=11))
    assert repr(dist).startswith("DistFile(filename='demo-1.0-py3-none-any.whl', url=")
    assert repr(dist).endswith("build=())")
    assert dist.value_fields == tuple(f.name for f in dataclasses.fields(dist))
    assert dataclasses.replace(dist, size=11) == _dist(size=11)
    assert ProjectPage(dist.name, (dist,)) == ProjectPage(dist.name, (_dist(),), None)
    assert (
        repr(ProjectPage(dist.name, ())) == "ProjectPage(name='demo', files=(), api_version=None)"
    )


def test_upload_times_round_trip_through_records() -> None:
    dist = _dist()
    record = FileRecord.of(dist)
    assert record.upload_time == 1704153600 * 10**6
    assert record.dist(dist.name) == dist
    naive = datetime(1970, 1, 1, 0, 0, 1)  # noqa: DTZ001 - read as UTC
    assert epoch_microseconds(naive) == 10**6
    assert FileRecord.of(_dist(upload_time=None)).dist(dist.name).upload_time is None
    far = record._replace(upload_time=-(10**18))  # before year 1: unknown
    assert far.dist(dist.name).upload_time is None


def test_cache_entry_equality_hash_repr_and_replace() -> None:
    entry = CacheEntry("u", 200, {"etag": "e"}, b"body", 1.0)
    assert entry.immutable is False
    assert entry.digest is None
    assert entry == CacheEntry("u", 200, {"etag": "e"}, b"body", 1.0, digest="d")  # derived
    assert entry != CacheEntry("u", 200, {"etag": "f"}, b"body", 1.0)  # headers compared...
    assert hash(entry) == hash(CacheEntry("u", 200, {"etag": "f"}, b"body", 1.0, digest="d"))
    assert entry != CacheEntry("u", 200, {"etag": "e"}, b"body", 1.0, immutable=True)
    assert repr(entry) == (
        "CacheEntry(url='u', status=200, headers={'etag': 'e'}, content=b'body', "
        "fetched_at=1.0, immutable=False, digest=None)"
    )
    changed = dataclasses.replace(entry, digest="d")
    assert changed.digest == "d"
    assert changed.headers is entry.headers


def test_target_compares_by_version_and_platform_only() -> None:
    platform = parse_platform("x86_64-manylinux_2_28")
    target = Target(Version("3.12"), platform)
    same = Target(Version("3.12"), platform)
    assert target.accepts(frozenset({Tag("py3", "none", "any")}))  # fills its tag ranks
    assert target == same  # the tag ranks, filled in one, are a cache
    assert hash(target) == hash(same)
    assert target != Target(Version("3.11"), platform)
    assert repr(target) == f"Target(python_version={Version('3.12')!r}, platform={platform!r})"
    other = dataclasses.replace(target, python_version=Version("3.11"))
    assert other == Target(Version("3.11"), platform)
    assert [f.name for f in dataclasses.fields(target)] == ["python_version", "platform"]


def test_resolve_settings_are_a_mutable_value_with_dataclass_replace() -> None:
    target = Target(Version("3.12"), parse_platform("linux"))
    settings = ResolveSettings(target, index_url="https://h/simple")
    assert isinstance(settings, MutableValue)
    assert settings.clock() == 0.0
    assert settings.resolution == "highest"
    assert settings.solver == "auto"
    with pytest.raises(TypeError):
        hash(settings)
    assert settings == ResolveSettings(target, index_url="https://h/simple")
    assert settings.value_fields[0] == "target"
    assert settings.value_fields[-1] == "build_python"
    assert len(settings.value_fields) == 18
    changed = dataclasses.replace(settings, resolution="lowest", build_python=Path("/p"))
    assert (changed.resolution, changed.build_python, changed.target) == (
        "lowest",
        Path("/p"),
        target,
    )
    assert settings.resolution == "highest"
    own = settings.replace(resolution="lowest", build_python=Path("/p"))
    assert own == changed
    assert own is not settings
    with pytest.raises(TypeError, match="no field 'resolutions'"):
        settings.replace(resolutions="lowest")
    settings.index_url = None  # mutable, as @dataclass(slots=True) made it
    with pytest.raises(AttributeError):
        settings.other = 1  # type: ignore[attr-defined]
    assert repr(settings).startswith(f"ResolveSettings(target={target!r}, index_url=None, ")


def test_exclude_newer_reads_as_before() -> None:
    assert parse_exclude_newer(None) is None
    assert parse_exclude_newer("2024-01-01") == datetime(2024, 1, 2, tzinfo=UTC)


def test_direct_metadata_is_a_value() -> None:
    metadata = CoreMetadata(canonicalize_name("demo"), Version("1.0"), (), None, ())
    direct = DirectMetadata(metadata, "file:///demo.whl", None)
    assert direct == DirectMetadata(metadata, "file:///demo.whl", None)
    assert hash(direct) == hash(DirectMetadata(metadata, "file:///demo.whl", None))
    assert repr(direct).startswith("DirectMetadata(metadata=CoreMetadata(")
