r"""The installed packages as a dependency tree (``pip tree``), drawn as uv draws it.

Edges come from each installed distribution's ``Requires-Dist`` whose marker holds in the
environment: with no extra, plus the extras installed dependents ask for (a package that
requires ``requests[socks]`` draws ``pysocks`` under ``requests``; extras the user asked
for are not recorded in the environment, so their requirements show as roots). uv draws no
edges for extras at all; we draw those an installed package asks for, which it needs.
Roots are the packages nothing installed requires (and one member of each cycle that
nothing outside it requires). A package met again is drawn once in
full and then as ``name vX (*)``, unless ``dedupe`` is off; a cycle always stops there.

Example::

    print("\n".join(render_tree(site, markers)))
    # flask v3.0.0
    # ├── click v8.1.7
    # └── werkzeug v3.0.1
    #     └── markupsafe v2.1.3
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name

from resolvent.markers import requirement_applies

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from packaging.requirements import Requirement

    from resolvent.installer.site import InstalledDist, SitePackages

__all__ = ["TreeOptions", "render_tree"]


@dataclass(frozen=True, slots=True)
class TreeOptions:
    """How the tree is drawn (uv's ``pip tree`` options).

    :param depth: levels below the roots to draw (``None``: all).
    :param prune: packages left out, with their subtrees.
    :param packages: draw only the trees of these packages.
    :param invert: draw the reverse tree: who requires each package.
    :param dedupe: draw a package's subtree once, then mark repeats with ``(*)``.
    :param show_specifiers: show the requirement's specifier on each edge.
    """

    depth: int | None = None
    prune: frozenset[NormalizedName] = frozenset()
    packages: frozenset[NormalizedName] = frozenset()
    invert: bool = False
    dedupe: bool = True
    show_specifiers: bool = False


def render_tree(
    site: SitePackages, markers: Mapping[str, str], options: TreeOptions | None = None
) -> list[str]:
    """Return the lines of the dependency tree of ``site`` for the marker environment."""
    options = options or TreeOptions()
    dists = {dist.name: dist for dist in site}
    edges = _edges(dists, markers)
    if options.invert:
        inverted: dict[NormalizedName, list[tuple[NormalizedName, str]]] = {n: [] for n in dists}
        for parent, children in edges.items():
            for child, spec in children:
                inverted[child].append((parent, spec))
        edges = inverted
    for name in options.prune:
        edges.pop(name, None)
    edges = {
        parent: [(c, s) for c, s in children if c not in options.prune]
        for parent, children in edges.items()
    }
    roots = _roots(edges, options)
    lines: list[str] = []
    drawn: set[NormalizedName] = set()
    for root in roots:
        if options.packages and root in drawn:
            continue  # drawn already, inside another asked package's tree (as uv does)
        _draw(root, "", "", (), edges, dists, options, drawn, lines, "")
    if any(line.endswith(" (*)") for line in lines):
        lines.append("(*) Package tree already displayed")
    return lines


def _edges(
    dists: Mapping[NormalizedName, InstalledDist], markers: Mapping[str, str]
) -> dict[NormalizedName, list[tuple[NormalizedName, str]]]:
    """Return each package's installed requirements, with the specifier they state."""
    requirements = {name: dist.metadata().requires_dist for name, dist in dists.items()}
    # The extras each package is asked for by the others, settled to a fixed point: an
    # extra can ask for an extra of another package in turn.
    asked: dict[NormalizedName, set[str]] = {name: {""} for name in dists}
    changed = True
    while changed:
        changed = False
        for name in dists:
            for requirement in _holding(requirements[name], asked[name], markers):
                child = canonicalize_name(requirement.name)
                if child in asked:
                    new = {canonicalize_name(e) for e in requirement.extras} - asked[child]
                    if new:
                        asked[child] |= new
                        changed = True
    edges: dict[NormalizedName, list[tuple[NormalizedName, str]]] = {}
    for name in dists:
        children: dict[NormalizedName, str] = {}
        for requirement in _holding(requirements[name], asked[name], markers):
            child = canonicalize_name(requirement.name)
            if child in dists and child != name:
                children.setdefault(child, str(requirement.specifier))
        edges[name] = sorted(children.items())
    return edges


def _holding(
    requirements: Iterable[Requirement], extras: set[str], markers: Mapping[str, str]
) -> list[Requirement]:
    """Return the requirements whose marker holds with no extra or one of ``extras``."""
    return [
        requirement
        for requirement in requirements
        if requirement.marker is None
        or any(
            requirement_applies(requirement, {**markers, "extra": extra})
            for extra in sorted(extras)
        )
    ]


def _roots(
    edges: Mapping[NormalizedName, Sequence[tuple[NormalizedName, str]]], options: TreeOptions
) -> list[NormalizedName]:
    """Return the packages to draw from: the asked ones, else those nothing requires.

    Packages that only a cycle requires would never be drawn: from each group of them
    that nothing outside requires (a source of the remaining graph), the first by name
    becomes a root too.
    """
    if options.packages:
        return sorted(name for name in edges if name in options.packages)
    required = {child for children in edges.values() for child, _ in children}
    roots = [name for name in sorted(edges) if name not in required]
    reached = _reach(roots, edges)
    left = [name for name in sorted(edges) if name not in reached]
    below = {name: _reach([name], edges) for name in left}
    for name in left:
        if name in reached:
            continue
        # A source: every package that reaches it is reached by it (its own cycle).
        if all(name not in below[other] or other in below[name] for other in left):
            roots.append(name)
            reached |= below[name]
    return roots


def _reach(
    start: Iterable[NormalizedName], edges: Mapping[NormalizedName, Sequence[tuple[str, str]]]
) -> set[NormalizedName]:
    """Return the packages reachable from ``start`` (``start`` included)."""
    reached: set[NormalizedName] = set()
    stack = list(start)
    while stack:
        name = stack.pop()
        if name not in reached:
            reached.add(name)
            stack.extend(NormalizedName(child) for child, _ in edges.get(name, ()))
    return reached


def _draw(  # noqa: PLR0917 - one recursive step of the drawing, all its state
    name: NormalizedName,
    prefix: str,
    branch: str,
    path: tuple[NormalizedName, ...],
    edges: Mapping[NormalizedName, Sequence[tuple[NormalizedName, str]]],
    dists: Mapping[NormalizedName, InstalledDist],
    options: TreeOptions,
    drawn: set[NormalizedName],
    lines: list[str],
    spec: str,
) -> None:
    dist = dists[name]
    label = f"{dist.display_name()} v{dist.version}"
    if options.show_specifiers and path:
        if options.invert:  # what this package requires of the one above it
            label += f" [requires: {dists[path[-1]].display_name()} {spec or '*'}]"
        else:
            label += f" [required: {spec or '*'}]"
    children = edges.get(name, ())
    repeated = name in path or (options.dedupe and name in drawn and bool(children))
    lines.append(f"{prefix}{branch}{label}{' (*)' if repeated else ''}")
    if repeated:
        return
    drawn.add(name)
    if options.depth is not None and len(path) >= options.depth:
        return
    below = prefix + ("" if not branch else "│   " if branch == "├── " else "    ")
    for number, (child, child_spec) in enumerate(children):
        last = number == len(children) - 1
        _draw(
            child,
            below,
            "└── " if last else "├── ",
            (*path, name),
            edges,
            dists,
            options,
            drawn,
            lines,
            child_spec,
        )
