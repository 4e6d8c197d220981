"""``cache clean NAME...`` removes one project's entries from every bucket, and no other's."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from click.testing import CliRunner
from packaging.utils import canonicalize_name

from resolvent.cli import cli
from resolvent.hashes import file_sha256
from resolvent.index.httpcache import CacheEntry, HttpCache
from resolvent.index.metadata import MetadataBundle
from resolvent.installer.cache import Cache, CacheBucket
from resolvent.installer.cache_packages import clean_projects
from tests.support.dists import Dist, build_wheel

if TYPE_CHECKING:
    from pathlib import Path


def _populate(tmp_path: Path) -> tuple[Cache, dict[str, list[Path]]]:
    """Fill a cache as runs would: unpacked wheels, pointers, responses, built metadata."""
    cache = Cache(tmp_path / "cache")
    made: dict[str, list[Path]] = {"target": [], "other": []}
    http = HttpCache(cache.bucket(CacheBucket.HTTP))
    for name, role in (("Target_Pkg", "target"), ("other", "other")):
        wheel = build_wheel(tmp_path / "wheels", Dist(name, "1.0"))
        digest = file_sha256(wheel)
        made[role].append(cache.unpack_wheel(wheel, digest))
        made[role].append(cache.remember(wheel.name, digest, source="url-0123456789abcdef"))
        module = name.lower()
        for url in (
            f"http://127.0.0.1:1/simple/{name.lower().replace('_', '-')}/",
            f"http://127.0.0.1:1/files/{wheel.name}",
            f"http://127.0.0.1:1/files/{wheel.name}.metadata",
            f"http://127.0.0.1:1/files/{module}-1.0.tar.gz",
        ):
            key = HttpCache.key(url)
            http.store(key, CacheEntry(url, 200, {}, b"body", 0.0))
            http.store_derived(key, "listing-v2", "x", {"derived": True})
            made[role] += [http.path(key), http.derived_path(key, "listing-v2")]
        bundle = http.path(MetadataBundle.key(canonicalize_name(name)))
        bundle.parent.mkdir(parents=True, exist_ok=True)
        bundle.write_bytes(b'{"kind": "bundle"}\nline\n')
        made[role].append(bundle)
        built = cache.bucket(CacheBucket.BUILT) / f"{role * 8:.64}.metadata"
        built.parent.mkdir(parents=True, exist_ok=True)
        built.write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\nbody\n")
        made[role].append(built)
    return cache, made


def test_only_the_named_project_is_removed(tmp_path: Path) -> None:
    cache, made = _populate(tmp_path)
    removed = clean_projects(cache, ["target-pkg"])
    assert removed.files > len(made["target"])  # the trees' own files count too
    assert [p for p in made["target"] if os.path.lexists(p)] == []
    assert [p for p in made["other"] if not os.path.lexists(p)] == []
    other_tree = made["other"][0]
    assert cache.manifest(other_tree) is not None
    assert cache.prune() == []  # nothing dangling was left behind
    assert clean_projects(cache, ["target-pkg"]).files == 0


def test_the_command_says_what_it_removed(tmp_path: Path) -> None:
    cache, _ = _populate(tmp_path)
    runner = CliRunner()
    args = ["cache", "clean", "--cache-dir", str(cache.root)]
    first = runner.invoke(cli, [*args, "Target.Pkg"])
    assert first.exit_code == 0, first.output
    assert first.stderr.startswith("Removed ")
    again = runner.invoke(cli, [*args, "target-pkg"])
    assert again.stderr.strip() == "No cache entries found"
    bad = runner.invoke(cli, [*args, "not a name"])
    assert bad.exit_code == 2
    assert "is not a valid project name" in bad.stderr
