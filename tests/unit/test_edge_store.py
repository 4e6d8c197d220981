"""Evaluated edges kept across runs (``resolvent.index.edge_cache``).

The store must be invisible in answers: a run that reads its edges from it sees what a
run computing them sees (the same values, the same range objects), an entry is never
used beyond its key (other metadata, another target, other options), and a damaged or
foreign file costs time, never an answer or a traceback.
"""

from __future__ import annotations

import pickle
import sys
import types
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from resolvent.index import edge_cache
from resolvent.index.config import IndexConfig
from resolvent.index.edge_cache import FOLDER, EdgeTable
from resolvent.index.provider import IndexProvider
from resolvent.solver.provider import Unavailable
from resolvent.solver.ranges import from_specifier
from resolvent.solver.universe import Options, Universe
from resolvent.target import Target, parse_platform
from tests.support.dists import Dist
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from pathlib import Path

    from resolvent.index.serve import IndexServer

LINUX = Target(Version("3.11"), parse_platform("x86_64-manylinux_2_28"))
OLD_PYTHON = Target(Version("3.9"), parse_platform("x86_64-manylinux_2_28"))

DISTS = [
    Dist(
        "app",
        "1.0",
        requires=[
            "lib>=1",
            "lib!=1.5",  # merged with the line above: one edge, two lines
            "lib<3; python_version >= '3.10'",
            "tool; python_version < '3.10'",
            "app>=0.5",  # met by itself: dropped
        ],
        extras={"fast": ["speed>=2", "lib[extra]"], "none": []},
    ),
    Dist("app", "2.0", requires=["app>=3"]),  # excludes itself: unavailable
    Dist("lib", "1.0"),
    Dist("lib", "2.0", extras={"extra": ["tool>=1"]}),
    Dist("speed", "2.0"),
    Dist("tool", "1.0", requires=["lib"]),
]
#: The same projects and versions with other requirements (other files, other sha256).
CHANGED = [
    Dist("app", "1.0", requires=["tool>=1"], extras={"fast": ["speed"]}),
    Dist("app", "2.0"),
    Dist("lib", "1.0"),
    Dist("lib", "2.0", extras={"extra": ["speed"]}),
    Dist("speed", "2.0"),
    Dist("tool", "1.0"),
]
PACKAGES = ["app", "app[fast]", "app[none]", "lib", "lib[extra]", "speed", "tool"]

View = dict[str, object]


def _view(
    server: IndexServer,
    cache: Path | None,
    target: Target = LINUX,
    *,
    policy: str = "offline",
    options: Options | None = None,
    asked: list[str] | None = None,
) -> View:
    """Every edge of every listed version of :data:`PACKAGES`, as comparable values.

    ``asked`` collects the versions whose requirements the universe asked the provider.
    """
    config = IndexConfig(server.url + "/")
    view: View = {}
    with IndexProvider(config, target, cache_dir=cache, policy=policy) as provider:  # type: ignore[arg-type]
        if asked is not None:
            inner = provider.get_requirements

            def counted(name: NormalizedName, version: Version) -> object:
                asked.append(f"{name}=={version}")
                return inner(name, version)

            provider.get_requirements = counted  # type: ignore[method-assign,assignment]
        universe = Universe(
            provider,
            [Requirement("app")],
            target.markers(),
            target.python_version,
            options,
        )
        for package in PACKAGES:
            for version in universe.versions(package):
                found = universe.dependencies(package, version)
                if isinstance(found, Unavailable):
                    view[f"{package}=={version}"] = found.reason
                    continue
                view[f"{package}=={version}"] = [
                    (d.package, str(d.range), d.specifier) for d in found
                ]
                for dependency in found:
                    if (
                        "," not in dependency.specifier
                        and dependency.package != package.split("[")[0]
                    ):
                        # A one-line edge holds the memoized range of its text, as computed.
                        assert dependency.range is from_specifier(dependency.specifier)
    return view


def _texts(edges: object) -> list[tuple[str, str]]:
    """Return the (package, specifier text) pairs of a view's edges."""
    assert isinstance(edges, list)
    return [(package, text) for package, _, text in edges]


def _edge_files(cache: Path) -> list[Path]:
    return sorted((cache / FOLDER).glob("*.edges"))


@pytest.fixture
def server(tmp_path: Path) -> IndexServer:
    return serve_dists(tmp_path / "a", DISTS)


def _fill(server: IndexServer, cache: Path, target: Target = LINUX) -> View:
    """Run cold (online, which fills the HTTP cache and the edge file) and return the view."""
    with server:
        return _view(server, cache, target, policy="normal")


def test_kept_edges_answer_as_computed_ones_without_reading_metadata(
    server: IndexServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    cold = _fill(server, cache)
    # Three lines merged into one edge; a marker that fails; a self-requirement met.
    assert _texts(cold["app==1.0"]) == [("lib", ">=1,!=1.5,<3")]
    assert len(_edge_files(cache)) == 1
    asked: list[str] = []
    with server:
        warm = _view(server, cache, asked=asked)
    assert warm == cold
    # Only versions whose edges could not be kept were read: app 2.0 (unusable).
    assert asked == ["app==2.0"]
    # Without the store the same universe computes the same answer.
    with server:
        assert _view(server, cache, policy="refresh") == cold


def test_a_warm_run_with_nothing_new_writes_nothing(server: IndexServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _fill(server, cache)
    [file] = _edge_files(cache)
    before = file.stat().st_mtime_ns, file.read_bytes()
    with server:
        _view(server, cache)
    assert (file.stat().st_mtime_ns, file.read_bytes()) == before


def test_changed_metadata_misses(server: IndexServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _fill(server, cache)
    other = serve_dists(tmp_path / "b", CHANGED)
    with other:
        # Fresh cache: the truth for the changed index.
        expected = _view(other, tmp_path / "fresh", policy="normal")
        # The shared cache: same projects and versions, other files, other identities.
        assert _view(other, cache, policy="normal") == expected
        assert _view(other, cache) == expected
    assert _texts(expected["app==1.0"]) == [("tool", ">=1")]


def test_another_target_has_its_own_edges(server: IndexServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _fill(server, cache)
    with server:
        expected = _view(server, tmp_path / "fresh", OLD_PYTHON, policy="normal")
        assert _view(server, cache, OLD_PYTHON) == expected
        assert _view(server, cache, OLD_PYTHON) == expected  # from its own file now
        assert _view(server, cache) == _view(server, cache, policy="refresh")
    assert len(_edge_files(cache)) == 2
    assert ("tool", "") in _texts(expected["app==1.0"])


def test_overrides_bypass_the_store(server: IndexServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _fill(server, cache)
    options = Options(overrides={canonicalize_name("lib"): [Requirement("lib==2.0")]})
    with server:
        expected = _view(server, tmp_path / "fresh", policy="normal", options=options)
        assert _view(server, cache, options=options) == expected
    assert _texts(expected["app==1.0"])[0] == ("lib", "==2.0")


def test_url_requirements_are_not_kept(tmp_path: Path) -> None:
    dists = [Dist("app", "1.0", requires=["lib @ https://example.invalid/lib-1.0.whl"])]
    server = serve_dists(tmp_path / "a", [*dists, Dist("lib", "1.0")])
    cache = tmp_path / "cache"
    with server:
        cold = _view(server, cache, policy="normal", options=Options(urls={}))
        asked: list[str] = []
        assert _view(server, cache, options=Options(urls={}), asked=asked) == cold
    assert "app==1.0" in asked
    assert isinstance(cold["app==1.0"], str)  # unavailable: a URL the user did not name


def _forged_file(data: bytes) -> bytes:
    """A well-framed file whose pickle would call a global: refused, never run."""
    del data
    return _framed(b"cos\nsystem\n(S'echo pwned > forged'\ntR.")


def _framed(payload: bytes) -> bytes:
    import zlib  # noqa: PLC0415

    crc = zlib.crc32(payload).to_bytes(4, "little")
    return edge_cache._MAGIC + crc + payload


def _foreign_context(data: bytes) -> bytes:
    payload = data[len(edge_cache._MAGIC) + 4 :]
    _, _, projects = pickle.loads(payload)  # noqa: S301 - our own test file
    return _framed(pickle.dumps((edge_cache.FORMAT, "another context", projects)))


def _damaged_entries(data: bytes) -> bytes:
    """Valid framing, but every project's entries point at nonsense edges."""
    payload = data[len(edge_cache._MAGIC) + 4 :]
    version, context, projects = pickle.loads(payload)  # noqa: S301 - our own test file
    broken = {}
    for name, blob in projects.items():
        entries = pickle.loads(blob)  # noqa: S301
        broken[name] = pickle.dumps(
            {
                key: (("lib", "not a specifier"),) if i % 2 else [["x"]]
                for i, key in enumerate(entries)
            }
        )
    return _framed(pickle.dumps((version, context, broken)))


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: b"",  # empty
        lambda data: b"garbage" + data,  # wrong header
        lambda data: data[:-1] + bytes([data[-1] ^ 1]),  # a flipped bit: the CRC fails
        _forged_file,
        _foreign_context,
        _damaged_entries,
    ],
)
def test_a_damaged_file_costs_time_not_answers(
    server: IndexServer, tmp_path: Path, damage: object
) -> None:
    cache = tmp_path / "cache"
    cold = _fill(server, cache)
    [file] = _edge_files(cache)
    assert callable(damage)
    file.write_bytes(damage(file.read_bytes()))
    with server:
        asked: list[str] = []
        assert _view(server, cache, asked=asked) == cold
        assert len(asked) > 1  # computed again
        asked.clear()
        assert _view(server, cache, asked=asked) == cold  # the file was rewritten
        assert asked == ["app==2.0"]


def test_refresh_neither_reads_nor_writes(server: IndexServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with server:
        _view(server, cache, policy="refresh")
    assert _edge_files(cache) == []


def _table(tmp_path: Path, identities: dict[str, str]) -> EdgeTable:
    def identity(name: NormalizedName, version: Version) -> tuple[str, str] | None:
        found = identities.get(f"{name}=={version}")
        return None if found is None else (str(version), found)

    return EdgeTable(tmp_path, "ctx", identity)


def test_table_keys_follow_identities_and_keep_recent_projects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a1 = Version("1")
    ids = {"a==1": "sha256:" + "1" * 64, "b==1": "sha256:" + "2" * 64}
    table = _table(tmp_path, ids)
    assert table.key(canonicalize_name("c"), a1, "c") is None  # no identity: not kept
    key = table.key(canonicalize_name("a"), a1, "a")
    assert key is not None
    table.put(key, (("x", ">=1"),))
    table.save()
    reread = _table(tmp_path, ids)
    assert reread.get(key) == (("x", ">=1"),)
    ids["a==1"] = "sha256:" + "3" * 64  # the metadata changed
    changed = _table(tmp_path, ids)
    new_key = changed.key(canonicalize_name("a"), a1, "a")
    assert new_key is not None
    assert changed.get(new_key) is None
    assert EdgeTable(tmp_path, "other ctx", lambda *_: None).get(key) is None
    # Bounded: the projects used last are kept when the file is full.
    b_key = changed.key(canonicalize_name("b"), a1, "b")
    assert b_key is not None
    b_edges = (("y", "y" * 150),)
    b_size = len(pickle.dumps({b_key: b_edges}, protocol=5))
    monkeypatch.setattr(edge_cache, "LIMIT_BYTES", b_size + 10)  # b, and not a besides
    later = _table(tmp_path, ids)
    later.put(b_key, b_edges)
    later.save()
    last = _table(tmp_path, ids)
    assert last.get(b_key) == b_edges
    assert last.get(key) is None  # dropped: a was not used in the last run


def test_edges_made_by_other_code_are_not_read(
    server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The version number stays while the code that evaluates edges changes: its digest
    is part of the context, so a changed module's edges start a file of their own."""
    cache = tmp_path / "cache"
    cold = _fill(server, cache)
    monkeypatch.setattr(edge_cache, "code_identity", lambda: "0" * 64)
    asked: list[str] = []
    with server:
        assert _view(server, cache, asked=asked) == cold
    assert "app==1.0" in asked  # computed again, not read from the other code's file
    assert len(_edge_files(cache)) == 2


def test_code_identity_follows_the_source_and_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "decides_edges.py"
    source.write_text("VERDICT = 1\n")
    module = types.ModuleType("decides_edges")
    module.__file__ = str(source)
    monkeypatch.setitem(sys.modules, "decides_edges", module)
    monkeypatch.setattr(edge_cache, "_EDGE_CODE", ("decides_edges",))
    before = edge_cache.code_identity()
    assert before is not None
    assert edge_cache.code_identity() == before
    source.write_text("VERDICT = 2\n")
    assert edge_cache.code_identity() not in (None, before)
    source.unlink()
    assert edge_cache.code_identity() is None


def test_no_source_no_store(
    server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(edge_cache, "code_identity", lambda: None)
    cache = tmp_path / "cache"
    cold = _fill(server, cache)
    assert _edge_files(cache) == []
    with server:
        assert _view(server, cache) == cold
