from __future__ import annotations

import pytest
from packaging.tags import Tag
from packaging.version import Version

from resolvent.errors import BadInputError
from resolvent.target import Target, host_target, parse_platform, parse_python_version


@pytest.mark.parametrize(
    ("text", "os", "arch", "libc", "version"),
    [
        ("x86_64-manylinux2014", "linux", "x86_64", "gnu", (2, 17)),
        ("x86_64-manylinux_2_28", "linux", "x86_64", "gnu", (2, 28)),
        ("aarch64-unknown-linux-gnu", "linux", "aarch64", "gnu", (2, 28)),
        ("x86_64-unknown-linux-musl", "linux", "x86_64", "musl", (1, 2)),
        ("linux", "linux", "x86_64", "gnu", (2, 28)),
        ("windows", "windows", "x86_64", None, (0, 0)),
        ("macos", "macos", "aarch64", None, (0, 0)),
    ],
)
def test_parse_platform(text, os, arch, libc, version):
    platform = parse_platform(text)
    assert (platform.os, platform.arch, platform.libc, platform.libc_version) == (
        os,
        arch,
        libc,
        version,
    )


def test_unknown_platform_is_bad_input():
    with pytest.raises(BadInputError, match="unknown Python platform"):
        parse_platform("sparc-sunos")


@pytest.mark.parametrize(
    "text",
    [
        "x86_64-manylinux_2_900000000",  # tags for every glibc up to it: minutes, gigabytes
        "x86_64-musllinux_1_1000",
        "aarch64-apple-darwin900000000",
    ],
)
def test_platform_numbers_are_bounded(text):
    with pytest.raises(BadInputError, match="unknown Python platform"):
        parse_platform(text)


@pytest.mark.parametrize(
    "text", ["3", "three", "", "1.2", "3.12.1.4", "3.900000000", "3.1" + "0" * 5000]
)
def test_bad_python_version(text):
    with pytest.raises(BadInputError):
        parse_python_version(text)


def test_markers_per_platform():
    linux = Target(Version("3.11"), parse_platform("linux")).markers()
    assert linux["sys_platform"] == "linux"
    assert linux["python_full_version"] == "3.11.0"
    mac = Target(Version("3.12.4"), parse_platform("aarch64-apple-darwin")).markers()
    assert (mac["sys_platform"], mac["platform_machine"]) == ("darwin", "arm64")
    assert mac["python_full_version"] == "3.12.4"
    win = Target(Version("3.12"), parse_platform("windows")).markers()
    assert (win["os_name"], win["platform_machine"]) == ("nt", "AMD64")


def test_tags_accept_and_refuse():
    target = Target(Version("3.12"), parse_platform("x86_64-manylinux2014"))
    assert target.accepts(frozenset({Tag("py3", "none", "any")}))
    assert target.accepts(frozenset({Tag("cp312", "cp312", "manylinux_2_17_x86_64")}))
    assert target.accepts(frozenset({Tag("cp38", "abi3", "manylinux2014_x86_64")}))
    assert not target.accepts(frozenset({Tag("cp312", "cp312", "manylinux_2_28_x86_64")}))
    assert not target.accepts(frozenset({Tag("py3", "none", "macosx_10_0_ppc64")}))
    assert not target.accepts(frozenset({Tag("graalpy310", "none", "any")}))
    best = target.tag_rank(Tag("cp312", "cp312", "manylinux_2_17_x86_64"))
    worst = target.tag_rank(Tag("py3", "none", "any"))
    assert best is not None
    assert worst is not None
    assert best < worst


def test_windows_and_macos_tags():
    win = Target(Version("3.12"), parse_platform("x86_64-pc-windows-msvc"))
    assert win.accepts(frozenset({Tag("cp312", "cp312", "win_amd64")}))
    assert not win.accepts(frozenset({Tag("cp312", "cp312", "win32")}))
    mac = Target(Version("3.12"), parse_platform("aarch64-apple-darwin"))
    assert mac.accepts(frozenset({Tag("cp312", "cp312", "macosx_11_0_arm64")}))
    assert not mac.accepts(frozenset({Tag("cp312", "cp312", "macosx_14_0_arm64")}))


def test_host_target_is_consistent():
    host = host_target()
    assert host.accepts(frozenset({Tag("py3", "none", "any")}))
