"""A version installed from its sdist is resolved with a wheel's metadata when it has one.

As in uv: when no wheel of a version fits the target but an sdist does, the metadata of
a wheel built for another platform or Python stands for the version (the files of one
version are taken to share their metadata), so resolving never builds an sdist that a
wheel can describe, nor fails on a build that would not even run on the target. The
wheel closest to the target (an accepted interpreter and ABI pair, then a known
interpreter, then a known platform) is the one read.
Checked through ``resolvent pip compile`` against a local index whose sdists cannot
build (their backend raises), with a log of every build hook called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.support.dists import BuildLog, Dist, build_failing_sdist, build_wheel
from tests.support.index import compile_pins, serve_dists

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


def _compile(tmp_path: Path, wheels: Sequence[Dist], extra: Sequence[str] = ()) -> tuple[int, str]:
    log = BuildLog(tmp_path)
    requirements = tmp_path / "requirements.in"
    requirements.write_text("demo\n", encoding="utf-8")
    with serve_dists(tmp_path, [Dist("dep", "1.0"), Dist("other", "1.0")]) as server:
        for wheel in wheels:
            build_wheel(server.folder, wheel)
        build_failing_sdist(server.folder, Dist("demo", "1.0"))
        target = ("--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28")
        result = compile_pins(server, requirements, *target, *extra, env=log.env)
    assert log.hooks() == [], "an sdist was built"
    return result.exit_code, result.output if result.exit_code else result.stdout


def test_wheel_for_another_platform_gives_the_metadata(tmp_path: Path) -> None:
    code, output = _compile(
        tmp_path, [Dist("demo", "1.0", requires=["dep"], tag="cp39-cp39-win_amd64")]
    )
    assert code == 0, output
    assert output.split() == ["demo==1.0", "dep==1.0"]


def test_the_wheel_closest_to_the_target_wins(tmp_path: Path) -> None:
    wheels = [
        Dist("demo", "1.0", requires=["other"], tag="cp39-cp39-manylinux_2_17_x86_64"),
        Dist("demo", "1.0", requires=["dep"], tag="cp311-cp311-win_amd64"),
        Dist("demo", "1.0", requires=["other"], tag="cp310-cp310-macosx_11_0_arm64"),
    ]
    code, output = _compile(tmp_path, wheels)
    assert code == 0, output
    assert output.split() == ["demo==1.0", "dep==1.0"]
