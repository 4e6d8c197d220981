"""Concurrency: several processes install into different venvs from one cold cache at once.

The cache is shared by every resolvent process of a user; entries appear by atomic
rename under per-entry file locks, so racing installs must all succeed, each venv must
verify clean, and the cache must hold exactly one entry per wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

from resolvent.installer.site import SitePackages, verify_environment
from resolvent.installer.venv import Venv
from resolvent.installer.wheel import UnpackedWheel
from tests.support.dists import Dist
from tests.support.index import serve_dists

if TYPE_CHECKING:
    from pathlib import Path

PROCESSES = 4
DISTS = [
    Dist(
        f"shared{n}",
        "1.0",
        requires=[f"shared{n + 1}"] if n < 5 else [],
        files={f"shared{n}/m{i}.py": f"X = {i}\n" * 40 for i in range(40)}
        | {f"shared{n}/__init__.py": ""},
    )
    for n in range(6)
]


def test_parallel_installs_share_one_cold_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "RESOLVENT_", "UV_")) and key != "VIRTUAL_ENV"
    } | {"PIP_CONFIG_FILE": os.devnull, "RESOLVENT_CACHE_DIR": str(cache)}
    rv = [sys.executable, "-m", "resolvent"]
    venvs = [tmp_path / f"venv{n}" for n in range(PROCESSES)]
    for venv in venvs:
        subprocess.run([*rv, "venv", str(venv)], env=env, check=True, capture_output=True)
    with serve_dists(tmp_path, DISTS) as server:
        processes = [
            subprocess.Popen(
                [*rv, "pip", "install", "--python", str(venv), "-i", server.url, "shared0"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for venv in venvs
        ]
        outcomes = [process.communicate(timeout=300) for process in processes]
    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr
    for venv in venvs:
        site = SitePackages.scan([Venv.open(venv).site_packages])
        assert verify_environment(site, scripts=venv / "bin").ok
        assert [f"{d.name}=={d.version}" for d in site] == [f"shared{n}==1.0" for n in range(6)]
    entries = [p for p in (cache / "archive-v1").iterdir() if len(p.name) == 64]
    assert len(entries) == len(DISTS)
    for entry in entries:
        UnpackedWheel(entry, verify_hashes=True).validate()
