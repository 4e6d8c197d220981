"""Published metadata with malformed ``Requires-Dist`` lines still resolves completely.

celery 4.3-5.2 declare ``pytz (>dev)``, which ``packaging`` rejects; dropping the line
gave a pin set without ``pytz``. Such lines are repaired as uv repairs them, so the
dependency is pinned; a line no repair fixes is left out with a warning, on every run
that chooses the version (cold or warm cache), and ``--quiet`` hides it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from resolvent.cli import cli
from tests.support.dists import Dist
from tests.support.environment import hermetic_env
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from click.testing import Result

    from resolvent.index.serve import IndexServer

DISTS = [
    Dist(
        "oldcelery",
        "5.0.5",
        requires=[
            "pytz (>dev)",
            "kombu (>=4.6.10<5.0)",  # a missing comma: kombu 5 must stay out
            "vine (>=1.3.*)",
            "broken (>=1.0 ;;",  # no repair makes this valid
        ],
    ),
    Dist("pytz", "2025.2"),
    Dist("kombu", "4.6.11"),
    Dist("kombu", "5.1.0"),
    Dist("vine", "1.3.0"),
    Dist("broken", "1.0"),
]

WARNING = (
    "warning: `oldcelery==5.0.5` declares a requirement that cannot be parsed, "
    "`broken (>=1.0 ;;`, which was ignored: "
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    with serve_dists(tmp_path_factory.mktemp("index"), DISTS) as running:
        yield running


def _compile(tmp_path: Path, server: IndexServer, *flags: str) -> Result:
    requirements = tmp_path / "requirements.in"
    requirements.write_text("oldcelery\n", encoding="utf-8")
    args = ["pip", "compile", str(requirements), "--index-url", server.url, "--no-header"]
    args += ["--no-annotate", "--cache-dir", str(tmp_path / "cache"), *flags]
    return CliRunner().invoke(cli, args, env=hermetic_env())


def _warnings(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning:")]


def test_repaired_requirements_are_pinned_and_the_rest_warned_about_every_run(
    tmp_path: Path, server: IndexServer
) -> None:
    for run in ("cold", "warm"):
        result = _compile(tmp_path, server)
        assert result.exit_code == 0, (run, result.output)
        assert result.stdout.split() == [
            "kombu==4.6.11",
            "oldcelery==5.0.5",
            "pytz==2025.2",
            "vine==1.3.0",
        ], run
        warnings = _warnings(result)
        assert len(warnings) == 1, (run, result.stderr)
        assert warnings[0].startswith(WARNING), (run, warnings)
        assert "Traceback" not in result.stderr


def test_quiet_hides_the_warning(tmp_path: Path, server: IndexServer) -> None:
    result = _compile(tmp_path, server, "--quiet")
    assert result.exit_code == 0, result.output
    assert "pytz==2025.2" in result.stdout.split()
    assert result.stderr == ""
