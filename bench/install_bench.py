"""The install benchmark times installing one wheelhouse into a fresh venv, cold and warm.

An installer's speed is what a user waits for after resolution: fetching, unpacking and
placing files. This script serves a folder of wheels on 127.0.0.1 with resolvent's own
index server (so the network's noise stays out), then times ``resolvent pip install``,
``uv pip install`` and ``pip install`` of all of them into fresh venvs, with an empty
cache (cold) and with the cache the previous run filled (warm), several times each, and
the ``cp -al`` floor: hardlinking the installed tree, the least a hardlink install can do.
Bytecode compilation is off for every tool (uv's and resolvent's default; pip is given
``--no-compile``). Venv creation is timed separately and not included.

Rounds interleave the tools (round 1: each tool cold then warm; round 2: again...), so
a machine whose load changes during the run slows every tool alike; the table reports
the median and the best. resolvent's own source is byte-compiled first, as an installed
package is: with ``PYTHONDONTWRITEBYTECODE`` set (as in many CI shells) every run would
otherwise recompile the modules changed since the last compile. resolvent's phases
(resolve, prepare, link, as it reports them) are kept as medians too.

Without ``--wheelhouse`` it builds one from distributions installed in this interpreter's
environment (each repacked from its RECORD into a wheel, binary ones included), so it
runs offline.

Usage::

    python bench/install_bench.py --rounds 3 [--uv PATH] [--wheelhouse DIR] [--json OUT]

The harness can call :func:`measure` directly.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["Measurement", "build_wheelhouse", "main", "measure"]

REPO = Path(__file__).resolve().parent.parent
#: Distributions of the running environment repacked into the default wheelhouse.
DEFAULT_STACK = (
    "anyio",
    "certifi",
    "click",
    "filelock",
    "h11",
    "httpcore",
    "httpx",
    "hypothesis",
    "idna",
    "iniconfig",
    "mypy",
    "mypy_extensions",
    "packaging",
    "pathspec",
    "pluggy",
    "pygments",
    "pytest",
    "python-sat",
    "sortedcontainers",
    "typing_extensions",
)


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _repack(dist_info: Path, out: Path) -> Path | None:
    """Rebuild the wheel of an installed distribution from its RECORD."""
    site = dist_info.parent
    stem = dist_info.name[: -len(".dist-info")]
    wheel_meta = (dist_info / "WHEEL").read_text(encoding="utf-8")
    tags = [
        line.split(":", 1)[1].strip() for line in wheel_meta.splitlines() if line.startswith("Tag:")
    ]
    if not tags:
        return None
    entry_points = (
        (dist_info / "entry_points.txt").read_text(encoding="utf-8")
        if (dist_info / "entry_points.txt").exists()
        else ""
    )
    generated = {line.split("=", 1)[0].strip() for line in entry_points.splitlines() if "=" in line}
    files: dict[str, bytes] = {}
    skip = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}
    record_text = (dist_info / "RECORD").read_text(encoding="utf-8")
    for row in csv.reader(io.StringIO(record_text)):
        if not row:
            continue
        path = row[0]
        if "__pycache__" in path or path.endswith(".pyc"):
            continue
        if path.startswith(f"{dist_info.name}/") and path.split("/", 1)[1] in skip:
            continue
        source = (site / path).resolve()
        if not source.is_file():
            continue
        if path.startswith("../"):
            name = Path(path).name
            if "/bin/" not in f"/{path}" or name in generated:
                continue
            path = f"{stem}.data/scripts/{name}"
        files[path] = source.read_bytes()
    info = dist_info.name
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    parts = [tag.split("-") for tag in tags]  # py2-none-any + py3-none-any: py2.py3-none-any
    compressed = "-".join(".".join(dict.fromkeys(p[i] for p in parts)) for i in range(3))
    target = out / f"{stem}-{compressed}.whl"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return target


def build_wheelhouse(out: Path, names: Sequence[str] = DEFAULT_STACK) -> list[Path]:
    """Repack the named distributions of this environment into wheels in ``out``."""
    from email.parser import HeaderParser  # noqa: PLC0415

    from packaging.requirements import Requirement  # noqa: PLC0415
    from packaging.utils import NormalizedName, canonicalize_name  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    site = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    installed = {
        canonicalize_name(d.name[: -len(".dist-info")].rsplit("-", 1)[0]): d
        for d in site.glob("*.dist-info")
    }
    wanted: set[NormalizedName] = set()
    pending = [canonicalize_name(n) for n in names]
    while pending:  # the installed dependency closure, so every tool can resolve it
        name = pending.pop()
        if name in wanted or name not in installed:
            continue
        wanted.add(name)
        meta = HeaderParser().parsestr((installed[name] / "METADATA").read_text("utf-8"))
        for text in meta.get_all("Requires-Dist") or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(canonicalize_name(requirement.name))
    built = []
    for project in sorted(wanted):
        wheel = _repack(installed[project], out)
        if wheel is not None:
            built.append(wheel)
    return built


_PHASE = re.compile(r"(Resolved|Prepared|Installed) \d+ packages? in ([\d.]+)(ms|s)\b")


def _phases(stderr: str) -> dict[str, float]:
    """Read resolvent's summary lines: seconds spent resolving, preparing, linking."""
    return {
        name.lower(): float(value) / (1000 if unit == "ms" else 1)
        for name, value, unit in _PHASE.findall(stderr)
    }


@dataclass
class Measurement:
    """Seconds per run of one tool in one state (``cold``/``warm``), and the best and median."""

    tool: str
    state: str
    runs: list[float] = field(default_factory=list)
    phases: list[dict[str, float]] = field(default_factory=list)

    def phase_median(self, name: str) -> float | None:
        """Return the median seconds of one phase the tool reported (``None``: no phases)."""
        values = [phases[name] for phases in self.phases if name in phases]
        return statistics.median(values) if values else None

    @property
    def best(self) -> float:
        """The fastest run."""
        return min(self.runs)

    @property
    def median(self) -> float:
        """The median run."""
        return statistics.median(self.runs)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "RESOLVENT_")) and key != "VIRTUAL_ENV"
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env | extra


def _timed(command: Sequence[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-2000:]}")
    return elapsed, completed.stderr


def measure(
    wheelhouse: Path,
    *,
    rounds: int = 3,
    uv: str | None = None,
    pip: bool = True,
    work: Path | None = None,
) -> tuple[list[Measurement], dict[str, Any]]:
    """Time cold and warm installs of every wheel in ``wheelhouse`` by each tool.

    Returns the measurements and facts about the run (files, bytes, the ``cp -al``
    floor and the interpreter).
    """
    sys.path.insert(0, os.fspath(REPO))
    from resolvent.index.serve import IndexServer  # noqa: PLC0415 -- after the path setup

    python = sys.executable
    # Byte-compile resolvent as an installed package is (see the module docstring).
    subprocess.run(
        [python, "-m", "compileall", "-q", os.fspath(REPO / "resolvent")],
        check=True,
        capture_output=True,
    )
    names = sorted({p.name.split("-")[0] for p in wheelhouse.glob("*.whl")})
    work = work or Path(tempfile.mkdtemp(prefix="install-bench-"))
    requirements = work / "requirements.txt"
    requirements.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    facts: dict[str, Any] = {"packages": len(names), "python": python}
    counter = iter(range(10**6))

    def venv_path() -> Path:
        return work / f"env-{next(counter)}"

    with IndexServer(wheelhouse) as server:
        url = server.url
        rv = [python, "-m", "resolvent"]

        def resolvent(cache: Path) -> tuple[float, str]:
            env = _clean_env(RESOLVENT_CACHE_DIR=os.fspath(cache))
            venv = venv_path()
            subprocess.run([*rv, "venv", os.fspath(venv)], env=env, check=True, capture_output=True)
            install = [*rv, "pip", "install", "--python", os.fspath(venv), "-i", url]
            return _timed([*install, "-r", os.fspath(requirements)], env)

        def uv_tool(cache: Path) -> tuple[float, str]:
            assert uv is not None
            env = _clean_env(UV_CACHE_DIR=os.fspath(cache), UV_PYTHON_DOWNLOADS="never")
            venv = venv_path()
            subprocess.run(
                [uv, "venv", "--python", python, os.fspath(venv)],
                env=env,
                check=True,
                capture_output=True,
            )
            install = [uv, "pip", "install", "--python", os.fspath(venv / "bin" / "python")]
            return _timed([*install, "-i", url, "-r", os.fspath(requirements)], env)

        def pip_tool(cache: Path) -> tuple[float, str]:
            env = _clean_env(PIP_CACHE_DIR=os.fspath(cache))
            venv = venv_path()
            subprocess.run(
                [*rv, "venv", os.fspath(venv)], env=_clean_env(), check=True, capture_output=True
            )
            install = [
                python,
                "-m",
                "pip",
                "--python",
                os.fspath(venv / "bin" / "python"),
                "install",
            ]
            return _timed(
                [*install, "--no-compile", "-q", "-i", url, "-r", os.fspath(requirements)], env
            )

        tools: list[tuple[str, Callable[[Path], tuple[float, str]]]] = [("resolvent", resolvent)]
        if uv is not None:
            tools.append(("uv", uv_tool))
        if pip:
            tools.append(("pip", pip_tool))
        table = {
            (tool, state): Measurement(tool, state)
            for tool, _ in tools
            for state in ("cold", "warm")
        }
        for number in range(rounds):  # rounds outside, tools inside: see the docstring
            for tool, run in tools:
                cache = work / f"cache-{tool}-{number}"
                for state in ("cold", "warm"):
                    elapsed, stderr = run(cache)
                    table[tool, state].runs.append(elapsed)
                    if tool == "resolvent":
                        table[tool, state].phases.append(_phases(stderr))
        results = list(table.values())
    # The floor: hardlink the tree resolvent installed (site-packages and scripts).
    installed = next(p for p in sorted(work.glob("env-*")) if (p / "lib").is_dir())
    tree = installed / "lib"
    files = sum(1 for p in tree.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
    floors = []
    for number in range(max(rounds, 5)):
        target = work / f"floor-{number}"
        started = time.perf_counter()
        subprocess.run(["cp", "-al", os.fspath(tree), os.fspath(target)], check=True)
        floors.append(time.perf_counter() - started)
    facts |= {
        "files": files,
        "bytes": size,
        "cp_al_floor": statistics.median(floors),
        "cp_al_floor_best": min(floors),
        "work": os.fspath(work),
    }
    return results, facts


def _table(results: Sequence[Measurement], facts: dict[str, Any]) -> str:
    floor = float(facts["cp_al_floor"])
    reference = {m.state: m.median for m in results if m.tool == "uv"}
    mib = float(facts["bytes"]) / 2**20
    header = f"{facts['packages']} wheels, {facts['files']} files, {mib:.1f} MiB installed"
    lines = [
        f"{header}; bytecode compilation off",
        "",
        "| tool | state | median (s) | best (s) | median vs uv | median vs cp -al floor |",
        "|---|---|---|---|---|---|",
    ]
    for m in results:
        versus = f"{m.median / reference[m.state]:.2f}x" if m.state in reference else "-"
        lines.append(
            f"| {m.tool} | {m.state} | {m.median:.3f} | {m.best:.3f} | {versus} | "
            f"{m.median / floor:.1f}x |"
        )
    lines.append(f"| cp -al | floor | {floor:.3f} | - | - | 1.0x |")
    for m in results:
        phases = [(name, m.phase_median(name)) for name in ("resolved", "prepared", "installed")]
        shown = ", ".join(f"{name} {value:.3f} s" for name, value in phases if value is not None)
        if shown:
            lines.append(f"\n{m.tool} {m.state}, median phases as it reports them: {shown}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or take) a wheelhouse, measure, print a Markdown table (and write JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheelhouse", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--uv", default=shutil.which("uv"))
    parser.add_argument("--no-pip", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="install-bench-"))
    wheelhouse = args.wheelhouse or work / "wheelhouse"
    if args.wheelhouse is None:
        build_wheelhouse(wheelhouse)
    try:
        results, facts = measure(
            wheelhouse, rounds=args.rounds, uv=args.uv, pip=not args.no_pip, work=work
        )
        print(_table(results, facts))
        if args.json is not None:
            payload = {"facts": facts, "results": [asdict(m) for m in results]}
            args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
