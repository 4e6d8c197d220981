"""Shared fixtures: where the shared scenario corpus is, and a standard target."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from resolvent.target import Target, parse_platform

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SHARED_SCENARIOS = SHARED / "scenarios"


@pytest.fixture
def target() -> Target:
    return Target(Version("3.12"), parse_platform("x86_64-manylinux_2_28"))


@pytest.fixture
def shared_scenarios() -> Path:
    if not SHARED_SCENARIOS.is_dir():
        pytest.skip("../shared/scenarios is absent (a clone outside the workplace)")
    return SHARED_SCENARIOS
