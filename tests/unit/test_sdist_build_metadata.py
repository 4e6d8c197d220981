"""Metadata of sdists through their build backend: the builder's cache, the provider's use of it.

The builder asks ``prepare_metadata_for_build_wheel`` (else builds the wheel, kept for
the install) and caches the answer by the sdist's sha256, leaving nothing behind when
the backend fails. The provider calls it only when the solver asks for a version's
requirements, in the calling thread, never for a prefetch.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.errors import BuildError, IndexUnreachableError
from resolvent.index.config import IndexConfig
from resolvent.index.provider import IndexProvider
from resolvent.installer.build import Builder
from resolvent.installer.cache import Cache
from resolvent.installer.plan import built_tree
from resolvent.solver.provider import Unavailable
from resolvent.target import host_target
from tests.support.dists import Dist, build_sdist
from tests.support.index import RequestLog, serve_dists

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.requirements import Requirement

    from resolvent.installer.venv import Venv

DYN = Dist("dyn", "1.0", requires=["beta>=1", "gamma; python_version < '3'"])


def _no_install(requirements: Sequence[Requirement], venv: Venv) -> None:
    raise AssertionError(f"the in-tree backend needs nothing, yet {requirements} were asked")


def _builder(cache: Path) -> Builder:
    return Builder(Cache(cache), python=Path(sys.executable), install=_no_install)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(cache: Path) -> list[str]:
    built = cache / "built-v1"
    return sorted(p.name for p in built.iterdir() if not p.name.endswith(".lock"))


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "build.log"
    monkeypatch.setenv("RV_TEST_BUILD_LOG", str(path))
    return path


def _hooks(log: Path) -> list[str]:
    return log.read_text().split("\n")[:-1] if log.exists() else []


def test_metadata_hook_answer_is_cached_by_sha256(tmp_path: Path, log: Path) -> None:
    sdist = build_sdist(tmp_path / "dists", DYN, in_tree_backend=True, dynamic=True)
    builder = _builder(tmp_path / "cache")
    sha256 = _sha256(sdist)
    data = builder.sdist_metadata(sdist, sha256)
    assert b"Requires-Dist: beta>=1" in data
    assert _hooks(log) == ["prepare_metadata_for_build_wheel dyn-1.0"]
    assert _leftovers(tmp_path / "cache") == [f"{sha256}.metadata"]
    assert built_tree(Cache(tmp_path / "cache"), sha256) is None  # only the metadata
    # A second builder over the same cache: no backend runs.
    assert _builder(tmp_path / "cache").sdist_metadata(sdist, sha256) == data
    assert len(_hooks(log)) == 1


def test_without_the_hook_the_wheel_is_built_and_kept(tmp_path: Path, log: Path) -> None:
    dist = Dist("dyn", "1.0", requires=["beta"], files={"NO_PREPARE": "", "dyn/__init__.py": ""})
    sdist = build_sdist(tmp_path / "dists", dist, in_tree_backend=True, dynamic=True)
    builder = _builder(tmp_path / "cache")
    sha256 = _sha256(sdist)
    assert b"Requires-Dist: beta" in builder.sdist_metadata(sdist, sha256)
    assert _hooks(log) == ["build_wheel dyn-1.0"]
    tree = built_tree(Cache(tmp_path / "cache"), sha256)
    assert tree is not None
    assert (tree / "dyn-1.0.dist-info" / "METADATA").is_file()
    assert builder.build_sdist(sdist, sha256) == tree  # the install reuses it
    assert len(_hooks(log)) == 1


def test_failing_backend_leaves_only_its_failure_record(tmp_path: Path, log: Path) -> None:
    dist = Dist("bad", "1.0", files={"FAIL": "", "bad/__init__.py": ""})
    sdist = build_sdist(tmp_path / "dists", dist, in_tree_backend=True, dynamic=True)
    sha256 = _sha256(sdist)
    with pytest.raises(BuildError) as caught:
        _builder(tmp_path / "cache").sdist_metadata(sdist, sha256)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("failed to build `bad-1.0.tar.gz`: the build backend failed")
    assert message.endswith("RuntimeError: the test backend was told to fail")
    assert _leftovers(tmp_path / "cache") == [f"{sha256}.failed"]


def test_a_failed_metadata_build_is_remembered_until_refresh(tmp_path: Path, log: Path) -> None:
    dist = Dist("bad", "1.0", files={"FAIL": "", "bad/__init__.py": ""})
    sdist = build_sdist(tmp_path / "dists", dist, in_tree_backend=True, dynamic=True)
    sha256 = _sha256(sdist)
    cache = tmp_path / "cache"
    with pytest.raises(BuildError):
        _builder(cache).sdist_metadata(sdist, sha256)
    assert len(_hooks(log)) == 1
    # A later run (a new builder over the same cache) does not run the backend again.
    with pytest.raises(BuildError) as caught:
        _builder(cache).sdist_metadata(sdist, sha256)
    assert len(_hooks(log)) == 1
    assert str(caught.value).endswith(
        "told to fail (as on an earlier run; `--refresh` builds it again)"
    )
    # `--refresh` does, and another interpreter (or resolvent) does.
    retrying = Builder(
        Cache(cache), python=Path(sys.executable), install=_no_install, retry_failed=True
    )
    with pytest.raises(BuildError):
        retrying.sdist_metadata(sdist, sha256)
    assert len(_hooks(log)) == 2
    record = cache / "built-v1" / f"{sha256}.failed"
    data = json.loads(record.read_text(encoding="utf-8"))
    data["identity"][0] = "/elsewhere/python3"
    record.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(BuildError):
        _builder(cache).sdist_metadata(sdist, sha256)
    assert len(_hooks(log)) == 3


def test_a_failure_other_than_the_backend_is_not_remembered(tmp_path: Path, log: Path) -> None:
    # The build requirements could not be installed (a network error, say): next time
    # may differ, so nothing is recorded.
    pyproject = (
        '[build-system]\nrequires = ["needed-at-build"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    dist = Dist("dyn", "1.0", files={"pyproject.toml": pyproject, "dyn/__init__.py": ""})
    sdist = build_sdist(tmp_path / "dists", dist)

    def unreachable(requirements: Sequence[Requirement], venv: Venv) -> None:
        raise IndexUnreachableError("http://127.0.0.1:9/simple/needed-at-build/", "refused")

    builder = Builder(Cache(tmp_path / "cache"), python=Path(sys.executable), install=unreachable)
    with pytest.raises(BuildError, match="cannot install the build requirements"):
        builder.sdist_metadata(sdist, _sha256(sdist))
    assert _leftovers(tmp_path / "cache") == []


def test_missing_backend_is_named(tmp_path: Path) -> None:
    pyproject = '[build-system]\nrequires = []\nbuild-backend = "nope_backend"\n'
    sdist = build_sdist(
        tmp_path / "dists", Dist("nope", "1.0"), dynamic=True, replace={"pyproject.toml": pyproject}
    )
    with pytest.raises(BuildError) as caught:
        _builder(tmp_path / "cache").sdist_metadata(sdist, _sha256(sdist))
    message = str(caught.value)
    assert message.startswith("cannot import the build backend `nope_backend` of `nope-1.0.tar.gz`")
    assert "\n" not in message
    assert _leftovers(tmp_path / "cache") == []


class _CountingBuilder:
    def __init__(self, inner: Builder) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def sdist_metadata(self, sdist: Path, sha256: str) -> bytes:
        self.calls.append(sdist.name)
        return self.inner.sdist_metadata(sdist, sha256)


def test_provider_builds_on_request_only_and_remembers(tmp_path: Path) -> None:
    folder = tmp_path / "srv" / "index"
    build_sdist(folder, DYN, in_tree_backend=True, dynamic=True)
    name = canonicalize_name("dyn")
    with serve_dists(tmp_path / "srv", [Dist("beta", "1.0")]) as server:
        config = IndexConfig(server.url + "/")
        counting = _CountingBuilder(_builder(tmp_path / "cache"))
        http = tmp_path / "cache" / "http-v1"
        with IndexProvider(config, host_target(), cache_dir=http, builder=counting) as provider:
            (info,) = provider.list_versions(name)  # type: ignore[misc]
            provider.prefetch(name, [info.version])
            requirements = provider.get_requirements(name, Version("1.0"))
            assert not isinstance(requirements, Unavailable)
            assert [str(r) for r in requirements] == ["beta>=1", 'gamma; python_version < "3"']
            assert counting.calls == ["dyn-1.0.tar.gz"]
        # A warm provider answers from the metadata summary: no builder call at all.
        warm = _CountingBuilder(_builder(tmp_path / "cache"))
        with IndexProvider(config, host_target(), cache_dir=http, builder=warm) as provider:
            provider.list_versions(name)
            assert not isinstance(provider.get_requirements(name, Version("1.0")), Unavailable)
        assert warm.calls == []
        # Without a builder (another cache), the version is unavailable, with the reason.
        other = tmp_path / "other" / "http-v1"
        with IndexProvider(config, host_target(), cache_dir=other) as provider:
            provider.list_versions(name)
            found = provider.get_requirements(name, Version("1.0"))
        assert isinstance(found, Unavailable)
        assert "has no static metadata" in found.reason


def _sdists_fetched(log: RequestLog) -> list[str]:
    return sorted(path.rsplit("/", 1)[-1] for path in log.paths() if path.endswith(".tar.gz"))


def test_a_batch_hint_skips_sdists_and_a_single_hint_does_not(tmp_path: Path) -> None:
    """A batch is speculative: downloading whole sdists for it is what uv avoids too."""
    folder = tmp_path / "srv" / "index"
    for version in ("1.0", "2.0", "3.0"):
        build_sdist(folder, Dist("dyn", version), in_tree_backend=True, dynamic=True)
    log = RequestLog()
    wheels = [Dist("whl", "1.0"), Dist("whl", "2.0")]
    dyn, whl = canonicalize_name("dyn"), canonicalize_name("whl")
    with serve_dists(tmp_path / "srv", wheels, hooks=log) as server:
        config = IndexConfig(server.url + "/")
        with IndexProvider(config, host_target(), cache_dir=tmp_path / "http") as provider:
            provider.list_versions(dyn)
            provider.list_versions(whl)
            provider.prefetch(dyn, [Version("3.0"), Version("2.0")])
            provider.prefetch(whl, [Version("2.0"), Version("1.0")])
            provider.prefetch(dyn, [Version("1.0")])
        # Closing lets started fetches finish: what was asked for is in the log.
        assert _sdists_fetched(log) == ["dyn-1.0.tar.gz"]
        metadata = sorted(p.rsplit("/", 1)[-1] for p in log.paths() if p.endswith(".metadata"))
        assert metadata == [f"whl-{v}-py3-none-any.whl.metadata" for v in ("1.0", "2.0")]


def test_a_dynamic_sdist_is_read_once_until_it_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """That an sdist needs a build is cached: airflow's warm compile re-read 5 GB of
    pyspark sdists, on every run, to learn it again."""
    build_sdist(tmp_path / "srv" / "index", DYN, in_tree_backend=True, dynamic=True)
    name, version = canonicalize_name("dyn"), Version("1.0")
    http = tmp_path / "cache" / "http-v1"
    with serve_dists(tmp_path / "srv", [Dist("beta", "1.0")]) as server:
        config = IndexConfig(server.url + "/")
        with IndexProvider(config, host_target(), cache_dir=http) as provider:
            provider.list_versions(name)
            provider.prefetch(name, [version])
        from resolvent.index import sdist_metadata  # noqa: PLC0415

        def refuse(*_: object) -> None:
            raise AssertionError("the sdist was read again")

        with monkeypatch.context() as patch:
            patch.setattr(sdist_metadata, "pkg_info_from_sdist", refuse)
            with IndexProvider(config, host_target(), cache_dir=http) as provider:
                provider.list_versions(name)
                provider.prefetch(name, [version])  # known: no fetch starts
                assert provider._loop is None
                found = provider.get_requirements(name, version)
            assert isinstance(found, Unavailable)
            assert "has no static metadata" in found.reason
        # A builder replaces the verdict with the built metadata, once.
        builder = _CountingBuilder(_builder(tmp_path / "cache"))
        for _ in range(2):
            with IndexProvider(config, host_target(), cache_dir=http, builder=builder) as provider:
                provider.list_versions(name)
                requirements = provider.get_requirements(name, version)
            assert not isinstance(requirements, Unavailable)
            assert [str(r) for r in requirements] == ["beta>=1", 'gamma; python_version < "3"']
        assert builder.calls == ["dyn-1.0.tar.gz"]
