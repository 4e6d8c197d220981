"""The warm path's cache reads: whole files and header lines with few system calls,
and summaries whose repeated lists are parsed once."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from resolvent.index import httpcache
from resolvent.index.httpcache import read_bytes, read_head
from resolvent.index.metadata import CoreMetadata

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    "content",
    [b"", b"\n", b"head\nbody", b"no newline", b"x" * 10_000 + b"\nrest", b"\xff\x00\n\n"],
)
def test_reads_match_what_open_reads(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "entry"
    path.write_bytes(content)
    with path.open("rb") as handle:
        line = handle.readline()
    assert read_head(str(path)) == line
    assert read_bytes(str(path)) == content


def test_a_header_longer_than_one_read_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(httpcache, "_HEAD_CHUNK", 3)
    path = tmp_path / "entry"
    path.write_bytes(b"abcdefgh\nbody")
    assert read_head(str(path)) == b"abcdefgh\n"
    path.write_bytes(b"abcdefgh")
    assert read_head(str(path)) == b"abcdefgh"


def test_missing_files_raise_as_open_does(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_bytes(str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError):
        read_head(str(tmp_path / "absent"))
    with pytest.raises(OSError):  # noqa: PT011 - IsADirectoryError, as open raises it
        read_bytes(str(tmp_path))


def _summary(version: str, requires: object, extras: object = ("Test_Extra",)) -> bytes:
    return json.dumps(
        {
            "name": "Demo_Pkg",
            "version": version,
            "requires_dist": requires,
            "requires_python": None,
            "provides_extra": extras,
        }
    ).encode()


def test_repeated_lists_of_summaries_are_shared() -> None:
    lines = ["a>=1", 'b; extra == "test-extra"']
    first = CoreMetadata.from_json(_summary("1.0", lines))
    second = CoreMetadata.from_json(_summary("2.0", list(lines)))
    assert first is not None
    assert second is not None
    assert first.name == "demo-pkg"
    assert first.provides_extra == ("test-extra",)
    assert [str(r) for r in first.requires_dist] == ["a>=1", 'b; extra == "test-extra"']
    assert second.requires_dist is first.requires_dist
    assert second.provides_extra is first.provides_extra


@pytest.mark.parametrize(
    ("requires", "extras"),
    [
        (["a>=1", "not a requirement ]"], []),
        (["a>=1", 3], []),
        ([["a"]], []),
        (["a"], [["x"]]),
        (["a"], [None]),
        ("a>=1", []),
        (["a"], "x"),
    ],
)
def test_corrupt_lists_are_refused_every_time(requires: object, extras: object) -> None:
    for _ in range(2):  # nothing of a refused list is remembered
        assert CoreMetadata.from_json(_summary("1.0", requires, extras)) is None


_GOOD: dict[str, object] = {
    "name": "a",
    "version": "1.0",
    "requires_dist": [],
    "requires_python": None,
}


@pytest.mark.parametrize(
    "data",
    [
        json.dumps({**_GOOD, "name": None, "provides_extra": []}).encode(),
        json.dumps({**_GOOD, "version": 1, "provides_extra": []}).encode(),
        json.dumps({**_GOOD, "requires_python": 3, "provides_extra": []}).encode(),
        b"[]",
        b'"a"',
    ],
    ids=["null-name", "number-version", "number-python", "list", "string"],
)
def test_summaries_of_the_wrong_shape_are_refused(data: bytes) -> None:
    """A corrupt cache entry is read as missing (and fetched again), never a crash."""
    assert CoreMetadata.from_json(data) is None
