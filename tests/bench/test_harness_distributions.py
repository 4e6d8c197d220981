"""The distribution-set check: every tool must install the same names and versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bench.harness.distributions import DistributionMismatchError, compare, installed

if TYPE_CHECKING:
    from pathlib import Path


def _env(root: Path, *pins: str, folder_only: tuple[str, ...] = ()) -> Path:
    site = root / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    for pin in pins:
        name, version = pin.split("==")
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        (info / "METADATA").write_text(metadata, encoding="utf-8")
    for pin in folder_only:
        (site / f"{pin.replace('==', '-')}.dist-info").mkdir()
    (site / "not_a_dist").mkdir()
    return root


def test_installed_reads_names_and_versions_and_skips_seed_packages(tmp_path: Path) -> None:
    env = _env(tmp_path, "Typing-Extensions==4.16.0", "pip==23.2.1", folder_only=("idna==3.20",))
    assert installed(env) == {("typing-extensions", "4.16.0"), ("idna", "3.20")}
    assert ("pip", "23.2.1") in installed(env, keep=["pip"])


def test_versions_are_compared_normalized(tmp_path: Path) -> None:
    a = installed(_env(tmp_path / "a", "x==1.0.0rc1"))
    b = installed(_env(tmp_path / "b", "x==1.0.0-rc.1"))
    assert compare("stack", {"pip": a, "uv": b}) == a


def test_a_mismatch_is_an_error_naming_the_difference(tmp_path: Path) -> None:
    same = installed(_env(tmp_path / "a", "x==1", "y==2"))
    other = installed(_env(tmp_path / "b", "x==1", "y==3"))
    with pytest.raises(DistributionMismatchError) as caught:
        compare("web", {"pip": same, "uv": same, "pdm": other})
    assert set(caught.value.differences) == {"pdm"}
    assert str(caught.value) == "web: different distribution sets\n  pdm: has y==3; lacks y==2"
