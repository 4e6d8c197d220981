"""The command echoed in a compiled file's header: the arguments after ``pip compile``,
without the machine's cache directory."""

from __future__ import annotations

from resolvent.cli._compile_run import compile_arguments, without_cache_dir


def test_cache_dir_and_its_value_are_dropped() -> None:
    args = ["in.txt", "-q", "--cache-dir", "cache", "-o", "out.txt", "--cache-dir=/x"]
    assert without_cache_dir(args) == ["in.txt", "-q", "-o", "out.txt"]


def test_other_arguments_are_kept_in_order() -> None:
    args = ["--offline", "a.in", "--python-version", "3.11"]
    assert without_cache_dir(args) == args


def test_the_arguments_start_after_pip_compile_wherever_it_is() -> None:
    assert compile_arguments(["rv", "pip", "compile", "a.in", "-q"]) == ["a.in", "-q"]
    assert compile_arguments(["rv", "-v", "pip", "compile", "a.in"]) == ["a.in"]
    # A file named like the command is an argument, not the command.
    assert compile_arguments(["rv", "pip", "compile", "pip", "compile"]) == ["pip", "compile"]
