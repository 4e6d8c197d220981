"""A distribution set is the (name, version) pairs an environment holds after a tool ran.

A timing only compares tools if they all did the same work, so before the harness
reports a number it reads every environment's ``*.dist-info`` folders (their
``METADATA`` ``Name`` and ``Version``; this is what ``pip list`` reads too) and checks
that every tool installed the same set. The seed packages that environment creators add
on their own (``pip``, ``setuptools``, ``wheel``: ``python -m venv`` adds pip, ``uv venv``
adds nothing, poetry's virtualenv adds more) are left out of the comparison unless the
stack itself asks for them.

Example::

    >>> installed(Path(".venv"))  # doctest: +SKIP
    frozenset({('click', '8.1.7'), ...})
"""

from __future__ import annotations

import email.parser
from collections import Counter
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

__all__ = [
    "SEED_PACKAGES",
    "DistributionMismatchError",
    "DistributionSet",
    "compare",
    "installed",
    "reference_set",
    "site_packages",
]

DistributionSet = frozenset[tuple[str, str]]
#: What environment creators install by themselves; not part of any stack's work.
SEED_PACKAGES = frozenset({"pip", "setuptools", "wheel", "distribute"})


class DistributionMismatchError(RuntimeError):
    """Tools (or runs of one tool) installed different distribution sets."""

    def __init__(
        self, what: str, differences: Mapping[str, tuple[DistributionSet, DistributionSet]]
    ) -> None:
        super().__init__(what, differences)
        self.what = what
        #: who -> (what it has that the reference lacks, what it lacks)
        self.differences = dict(differences)

    def __str__(self) -> str:
        def show(items: DistributionSet) -> str:
            return ", ".join(f"{n}=={v}" for n, v in sorted(items)) or "nothing"

        lines = [f"{self.what}: different distribution sets"]
        for who, (extra, lacking) in sorted(self.differences.items()):
            lines.append(f"  {who}: has {show(extra)}; lacks {show(lacking)}")
        return "\n".join(lines)


def site_packages(environment: Path) -> list[Path]:
    """Return the ``site-packages`` folders of a POSIX or Windows environment."""
    found = sorted(environment.glob("lib/python*/site-packages"))
    found += sorted(environment.glob("lib64/python*/site-packages"))
    windows = environment / "Lib" / "site-packages"
    if windows.is_dir():
        found.append(windows)
    unique: list[Path] = []
    for folder in found:
        if folder.is_dir() and not any(folder.samefile(seen) for seen in unique):
            unique.append(folder)
    return unique


def _read_name_version(dist_info: Path) -> tuple[str, str] | None:
    metadata = dist_info / "METADATA"
    if metadata.is_file():
        with metadata.open("rb") as stream:
            message = email.parser.BytesHeaderParser().parse(stream)
        name, version = message.get("Name"), message.get("Version")
        if name and version:
            return str(name), str(version)
    stem = dist_info.name.removesuffix(".dist-info")
    name, _, version = stem.rpartition("-")
    return (name, version) if name and version else None


def _normalize_version(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def installed(environment: Path, *, keep: Iterable[str] = ()) -> DistributionSet:
    """Return the normalized (name, version) pairs installed in ``environment``.

    Seed packages are left out unless named in ``keep`` (the stack asked for them).
    """
    kept = {canonicalize_name(name) for name in keep}
    pairs: set[tuple[str, str]] = set()
    for folder in site_packages(environment):
        for entry in folder.iterdir():
            if not entry.name.endswith(".dist-info") or not entry.is_dir():
                continue
            found = _read_name_version(entry)
            if found is None:
                continue
            name = canonicalize_name(found[0])
            if name in SEED_PACKAGES and name not in kept:
                continue
            pairs.add((name, _normalize_version(found[1])))
    return frozenset(pairs)


def reference_set(
    sets: Mapping[str, DistributionSet], *, prefer: str = "pip"
) -> tuple[DistributionSet, dict[str, tuple[DistributionSet, DistributionSet]]]:
    """Return the reference set and, for each entry that differs, (extra, lacking).

    The reference is the set most entries agree on; on a tie, the one ``prefer`` has.
    """
    if not sets:
        return frozenset(), {}
    counts = Counter(sets.values())
    best = max(counts.values())
    leaders = [s for s, c in counts.items() if c == best]
    reference = sets[prefer] if prefer in sets and sets[prefer] in leaders else leaders[0]
    differences = {
        who: (found - reference, reference - found)
        for who, found in sets.items()
        if found != reference
    }
    return reference, differences


def compare(
    what: str, sets: Mapping[str, DistributionSet], *, prefer: str = "pip"
) -> DistributionSet:
    """Return the common set of ``sets``, or raise :class:`DistributionMismatchError`."""
    reference, differences = reference_set(sets, prefer=prefer)
    if differences:
        raise DistributionMismatchError(what, differences)
    return reference
