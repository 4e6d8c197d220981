"""RECORD's fast paths read and write exactly what the ``csv`` module reads and writes.

A cold install parses and writes a RECORD per wheel (26,000 lines for an ML stack), so
plain RECORD text (no quotes, carriage returns or NULs) is split and joined directly;
anything else goes through ``csv``. These properties hold the two ways equal, errors
included, on text built from the characters that matter to ``csv``.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvent.installer import record as record_module
from resolvent.installer.record import Hash, RecordEntry, parse_record, serialize_record

_CHARS = st.sampled_from(["a", "b", "/", ",", '"', "\r", "\n", "\0", " ", "=", "7", "-", "é"])


def _csv_parse(text: str) -> list[RecordEntry] | str:
    """The reference: every row through ``csv``; the error's text when it refuses."""
    entries = []
    reader = csv.reader(io.StringIO(text))
    try:
        for number, row in enumerate(reader, 1):
            if row:
                entries.append(record_module._entry(number, row))
    except csv.Error as error:
        return f"line {reader.line_num}: {error}"
    except ValueError as error:
        return str(error)
    return entries


def _parsed(text: str) -> list[RecordEntry] | str:
    try:
        return parse_record(text)
    except ValueError as error:
        return str(error)


def _csv_serialize(entries: list[RecordEntry]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", quotechar='"', lineterminator="\n")
    writer.writerows(entry.to_row() for entry in entries)
    return buffer.getvalue().encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(_CHARS, max_size=12), max_size=12).map("".join))
def test_parsing_is_what_csv_parses(text: str) -> None:
    assert _parsed(text) == _csv_parse(text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(_CHARS, min_size=1, max_size=10),
            st.one_of(st.none(), st.text(_CHARS, min_size=1, max_size=8)),
            st.one_of(st.none(), st.integers(min_value=0, max_value=10**6)),
        ),
        max_size=6,
    )
)
def test_writing_is_what_csv_writes(rows: list[tuple[str, str | None, int | None]]) -> None:
    entries = [
        RecordEntry(path, None if value is None else Hash("sha256", value), size)
        for path, value, size in rows
    ]
    assert serialize_record(entries) == _csv_serialize(entries)


@pytest.mark.parametrize(
    "text",
    [
        "a.py,sha256=x,3\nb.py,,\n",
        "a.py,sha256=x,3\r\nb.py,,\r\n",  # CRLF: through csv
        '"a,b.py",sha256=x,3\n',  # a quoted comma: through csv
        "\n\na.py,sha256=x\n",  # a short row on line 3, after two blank ones
        "a.py,sha256=x,3,4\n",
        "a.py,sha256=x,-1\n",
        "a.py,sha256=x,3\rb.py,,\n",  # a lone CR inside a line: csv refuses it
    ],
)
def test_known_records_parse_as_csv_parses_them(text: str) -> None:
    assert _parsed(text) == _csv_parse(text)


def test_a_long_line_goes_through_csv_and_its_limit() -> None:
    text = "a" * (csv.field_size_limit() + 1) + ",sha256=x,1\n"
    assert record_module._plain_lines(text) is None
    assert "field larger than field limit" in str(_parsed(text))


def test_plain_text_takes_the_fast_path() -> None:
    assert record_module._plain_lines("a.py,sha256=x,3\n") is not None
    rows = [RecordEntry("a.py", Hash("sha256", "x"), 3), RecordEntry("a.dist-info/RECORD")]
    assert serialize_record(rows) == b"a.py,sha256=x,3\na.dist-info/RECORD,,\n"
