"""The command echoed in a compiled file's header leaves out the machine's cache directory."""

from __future__ import annotations

from resolvent.cli.pip import _without_cache_dir


def test_cache_dir_and_its_value_are_dropped() -> None:
    args = ["in.txt", "-q", "--cache-dir", "cache", "-o", "out.txt", "--cache-dir=/x"]
    assert _without_cache_dir(args) == ["in.txt", "-q", "-o", "out.txt"]


def test_other_arguments_are_kept_in_order() -> None:
    args = ["--offline", "a.in", "--python-version", "3.11"]
    assert _without_cache_dir(args) == args
