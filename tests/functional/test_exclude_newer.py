"""``--exclude-newer`` draws the line where uv does.

A bare date counts whole: files uploaded during that day are in, and the limit is the
midnight that ends it (in UTC). A file uploaded exactly at the limit is out, whether the
limit came from a date or from a timestamp. Checked through ``resolvent pip compile``
against a local index whose files carry PEP 700 upload times.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from tests.support.dists import Dist
from tests.support.environment import hermetic_env
from tests.support.index import compile_pins, serve_dists, set_upload_time

if TYPE_CHECKING:
    from pathlib import Path

UPLOADS = {
    "1.0": datetime(2025, 12, 31, 12, 0, tzinfo=UTC),
    "2.0": datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC),  # during the day
    "3.0": datetime(2026, 1, 2, 0, 0, tzinfo=UTC),  # at the midnight that ends it
}


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("2026-01-01", "2.0"),
        ("2025-12-31", "1.0"),
        ("2026-01-02T00:00:00Z", "2.0"),
        ("2026-01-02T00:00:01Z", "3.0"),
        ("2026-01-01T23:59:59Z", "1.0"),
    ],
)
def test_exclude_newer_limit(tmp_path: Path, limit: str, expected: str) -> None:
    env = hermetic_env()
    requirements = tmp_path / "requirements.in"
    requirements.write_text("demo\n", encoding="utf-8")
    with serve_dists(tmp_path, [Dist("demo", v) for v in UPLOADS]) as server:
        for version, when in UPLOADS.items():
            set_upload_time(server.folder / f"demo-{version}-py3-none-any.whl", when)
        result = compile_pins(server, requirements, "--exclude-newer", limit, env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [f"demo=={expected}"]


def test_versions_after_the_limit_are_named_when_nothing_else_fits(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.in"
    requirements.write_text("demo>=2\n", encoding="utf-8")
    with serve_dists(tmp_path, [Dist("demo", v) for v in UPLOADS]) as server:
        for version, when in UPLOADS.items():
            set_upload_time(server.folder / f"demo-{version}-py3-none-any.whl", when)
        result = compile_pins(
            server, requirements, "--exclude-newer", "2025-12-31", env=hermetic_env()
        )
    assert result.exit_code == 1
    assert (
        "hint: demo==3.0 was uploaded after the `--exclude-newer` limit (2026-01-01T00:00:00Z)"
        " (and 1 older version in that range, for the same reason)"
    ) in result.stderr
