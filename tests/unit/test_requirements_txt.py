from __future__ import annotations

import pytest

from resolvent.errors import BadInputError
from resolvent.project.requirements_txt import parse_requirements_file, parse_requirements_text

DIGEST = "sha256:" + "ab" * 32


def test_full_featured(tmp_path, monkeypatch):
    monkeypatch.setenv("RV_TEST_VERSION", "2.0")
    (tmp_path / "base.txt").write_text(f"b==1.0 \\\n   --hash={DIGEST}\n-c cons.txt\n")
    (tmp_path / "cons.txt").write_text("c<3\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text(
        '[project]\nname = "local-pkg"\nversion = "1"\n'
    )
    main = tmp_path / "requirements.in"
    main.write_text(
        "# a comment\n"
        "-i http://127.0.0.1:1/simple\n"
        "--extra-index-url=http://127.0.0.1:2/simple\n"
        "--find-links ./wheels\n"
        "--pre\n"
        "a[x]>=${RV_TEST_VERSION}; python_version >= '3'  # trailing\n"
        "-r base.txt\n"
        "-e ./pkg\n"
        "./dist/thing-1.0-py3-none-any.whl\n"
        "named @ https://127.0.0.1/named-1.0.tar.gz\n"
    )
    parsed = parse_requirements_file(main)
    names = [r.requirement.name for r in parsed.requirements]
    assert names == ["a", "b", "local-pkg", "thing", "named"]
    assert str(parsed.requirements[0].requirement.specifier) == ">=2.0"
    assert parsed.requirements[1].hashes == (DIGEST,)
    assert parsed.requirements[2].editable
    assert parsed.requirements[3].requirement.url is not None
    assert parsed.requirements[3].requirement.url.startswith("file://")
    assert [c.requirement.name for c in parsed.constraints] == ["c"]
    assert parsed.index_url == "http://127.0.0.1:1/simple"
    assert parsed.extra_index_urls == ["http://127.0.0.1:2/simple"]
    assert parsed.find_links == ["./wheels"]
    assert parsed.pre


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a >> 1\n", "line 1: invalid requirement"),
        ("ok\n--bogus x\n", "line 2: unknown option `--bogus`"),
        ("-r\n", "needs a value"),
        ("-r missing.txt\n", "cannot read"),
        ("a --install-option=x\n", "unknown per-requirement option"),
    ],
)
def test_errors_name_the_line(tmp_path, text, needle):
    path = tmp_path / "r.txt"
    path.write_text(text)
    with pytest.raises(BadInputError, match=needle) as info:
        parse_requirements_file(path)
    assert "\n" not in str(info.value)


def test_recursive_include_is_an_error(tmp_path):
    (tmp_path / "a.txt").write_text("-r b.txt\n")
    (tmp_path / "b.txt").write_text("-r a.txt\n")
    with pytest.raises(BadInputError, match="includes itself"):
        parse_requirements_file(tmp_path / "a.txt")


def test_text_defaults():
    parsed = parse_requirements_text("\n\n  # only comments\n", "x")
    assert parsed.requirements == []
    assert not parsed.pre
