"""Environment markers evaluated in one place, including the comparisons packaging refuses.

packaging parses ``python_version ~= "foo"`` or ``os_name === "posix"`` but raises
``UndefinedComparison`` when it evaluates them: ``~=`` needs a version, and ``===`` is
not a string operator. One such ``Requires-Dist`` in a wheel's ``METADATA`` made
install, compile, check and tree end in a traceback, from any of the ten places that
evaluated a marker. Every evaluation goes through here instead, with two rules:

- metadata (an index's, an installed distribution's, a project's) is someone else's
  text, so a comparison that cannot be evaluated is *ignored*, with a warning, as uv
  does: uv's marker parser drops it from the marker (``python_version ~= "foo" and
  os_name == "nt"`` is ``os_name == "nt"``), and a marker of nothing but such
  comparisons holds, so uv installs what it names. See :func:`requirement_applies`.
- the user's own requirement lines are checked as they are read
  (:func:`check_user_marker`): a marker that can never be evaluated is bad input,
  one line and exit 2, as uv refuses ``===`` in a marker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from packaging.markers import Marker, default_environment
from packaging.utils import canonicalize_name

from resolvent.errors import BadInputError

try:  # the parsed comparisons' parts, read to find a marker's extras (see extra_gate)
    from packaging._parser import Value, Variable
except ImportError:  # pragma: no cover - another packaging layout: no gate, full evaluation
    Value = Variable = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from collections.abc import Mapping

    from packaging.requirements import Requirement

__all__ = ["check_user_marker", "extra_gate", "requirement_applies"]

# Markers already warned about (by their text): each is named once per run, however
# many versions and evaluation sites repeat it.
_warned: set[str] = set()


def requirement_applies(requirement: Requirement, environment: Mapping[str, str]) -> bool:
    """Return whether a metadata ``requirement`` applies in ``environment``.

    No marker: it does. A comparison in the marker that packaging cannot evaluate is
    ignored as uv ignores it, and named once in a warning with the requirement; see
    the module's notes. ``environment`` is complete (the target's markers and
    ``extra``), as packaging's ``evaluate`` takes it.
    """
    marker = requirement.marker
    if marker is None:
        return True
    gate = _gates.get(id(marker))
    if gate is None or gate.marker is not marker:
        gate = _gate_of(marker)
    names = gate.names
    if names is not None and gate.checked:
        extra = environment.get("extra")
        if isinstance(extra, str):
            canonical = _canonical_extras.get(extra)
            if canonical is None:
                canonical = _canonical_extra(extra)
            if canonical not in names:
                return False  # every branch of the marker asks for another extra
    try:  # the common case, without building the requirement's text (~8 µs each)
        holds = marker.evaluate(environment)
    except ValueError:  # UndefinedComparison
        return _holds(marker, environment, str(requirement))
    gate.checked = True
    return holds


def extra_gate(marker: Marker) -> frozenset[str] | None:
    """Return the (normalized) extras for which ``marker`` can hold, if it is so limited.

    ``extra == "x" and python_version < "3.12"`` can hold only while extra ``x`` is
    being evaluated: ``frozenset({"x"})``. ``None`` when the marker may hold whatever
    the extra (no ``extra == ...`` in some branch, or a structure this does not read).
    A project declaring n extras has its n requirement lines asked about each of its n
    extras: n^2 evaluations of ~10 us, 40 s for 2,000 extras. With the gate, a marker
    that names another extra is answered by a set lookup, and a caller can index
    requirements by the extras they name.
    """
    return _gate_of(marker).names


class _Gate:
    """What is known of one marker: its extra gate, and whether packaging evaluates it.

    The gate answers ``False`` only for a marker that packaging has evaluated once
    without refusing a comparison: one that it refuses goes to the lenient evaluation
    every time, which warns about it, as it always did.
    """

    __slots__ = ("checked", "marker", "names")

    def __init__(self, marker: Marker, names: frozenset[str] | None) -> None:
        self.marker = marker  # kept alive, so its id is never reused under this entry
        self.names = names
        self.checked = False


# Markers' gates by identity (parsed markers are shared: ``parse_marker`` memoizes them).
_gates: dict[int, _Gate] = {}
_GATES_LIMIT = 1 << 16
_canonical_extras: dict[str, str] = {}


def _gate_of(marker: Marker) -> _Gate:
    gate = _gates.get(id(marker))
    if gate is not None and gate.marker is marker:
        return gate
    try:
        names = _extra_names(marker._markers)  # noqa: SLF001 - see _lenient_marker
    except (AttributeError, TypeError, ValueError):
        names = None
    if len(_gates) >= _GATES_LIMIT:
        _gates.clear()
    gate = _gates[id(marker)] = _Gate(marker, names)
    return gate


def _canonical_extra(extra: str) -> str:
    """Return ``extra`` normalized as packaging compares it (PEP 685), memoized."""
    found = _canonical_extras.get(extra)
    if found is None:
        if len(_canonical_extras) >= _GATES_LIMIT:
            _canonical_extras.clear()
        found = _canonical_extras[extra] = canonicalize_name(extra) if extra else ""
    return found


def _extra_names(items: object) -> frozenset[str] | None:
    """Return the extras one of which every ``or`` branch of ``items`` requires, or ``None``.

    A branch (an ``and`` group) is limited by any of its items that is limited; the
    marker by the union over its branches, and not at all if one branch is not. Only
    ``extra == "x"`` (either way round) limits; ``!=``, ``in`` and the rest do not. The
    names are normalized as packaging normalizes the extra it compares them with, which
    can only add names: the gate stays a necessary condition.
    """
    if not isinstance(items, list):
        raise TypeError(items)
    union: set[str] = set()
    group: frozenset[str] | None = None
    for item in [*items, "or"]:
        if item == "or":
            if group is None:
                return None
            union |= group
            group = None
        elif item == "and":
            continue
        else:
            names = _extra_names(item) if isinstance(item, list) else _extra_comparison(item)
            if names is not None and (group is None or len(names) < len(group)):
                group = names
    return frozenset(union)


def _extra_comparison(item: object) -> frozenset[str] | None:
    """Return ``{x}`` for an ``extra == "x"`` comparison, ``None`` for any other."""
    if not isinstance(item, tuple) or len(item) != 3:
        raise TypeError(item)
    left, op, right = item
    if op.serialize() != "==":
        return None
    if isinstance(left, Variable) and left.value == "extra" and isinstance(right, Value):
        literal = right.value
    elif isinstance(right, Variable) and right.value == "extra" and isinstance(left, Value):
        literal = left.value
    else:
        return None
    return frozenset({_canonical_extra(literal)})


def check_user_marker(marker: Marker, where: str | None = None) -> None:
    """Refuse a marker of the user's that has a comparison no environment can evaluate.

    Whether packaging can evaluate a comparison depends on its name, operator and
    quoted value, not on the environment (``~=`` wants a version, ``===`` a version
    name), and packaging evaluates every comparison of a marker: one evaluation, here
    against the running interpreter, finds them all.

    :param where: what the error starts with (``FILE:LINE``, a quoted source), so that
        it names where the marker was read; readers pass it instead of re-raising.
    :raises BadInputError: naming the marker and packaging's reason.
    """
    environment = cast("dict[str, str]", default_environment())
    try:
        marker.evaluate(environment)
    except ValueError:  # UndefinedComparison
        pass
    else:
        return
    lenient = _lenient_marker(marker, environment)
    ignored = lenient[1] if lenient is not None else []
    named = ", ".join(f"`{text}`" for text in ignored) or "a comparison"
    prefix = f"{where}: " if where is not None else ""
    raise BadInputError(f"{prefix}invalid marker `{marker}`: {named} cannot be evaluated")


def _holds(marker: Marker, environment: Mapping[str, str], shown: str) -> bool:
    """Evaluate a marker packaging refused, ignoring what it cannot evaluate, and warn.

    Called only after ``marker.evaluate`` raised, so it goes straight to the lenient
    evaluation; a marker whose structure cannot be read is taken as not holding.
    """
    lenient = _lenient_marker(marker, environment)
    found, ignored = lenient if lenient is not None else (False, ["the whole marker"])
    _warn(shown, ignored)
    return True if found is None else found


def _lenient_marker(
    marker: Marker, environment: Mapping[str, str]
) -> tuple[bool | None, list[str]] | None:
    """Return :func:`_lenient`'s evaluation of ``marker`` and the comparisons it left out.

    ``None`` when the marker's structure cannot be read: packaging keeps a marker's
    comparisons in ``_markers`` (since 22.0), and if that ever changes each caller
    falls back in its own way, never with a traceback.
    """
    ignored: list[str] = []
    try:
        found = _lenient(marker._markers, environment, ignored)  # noqa: SLF001 - see above
    except (AttributeError, TypeError, ValueError):
        return None
    return found, ignored


def _warn(shown: str, ignored: list[str]) -> None:
    """Log, once per marker or requirement text, which comparisons were ignored."""
    if shown in _warned:
        return
    _warned.add(shown)
    import logging  # noqa: PLC0415 - only a marker packaging cannot evaluate needs it

    logging.getLogger(__name__).warning(
        "ignoring %s in `%s`: packaging cannot evaluate it",
        ", ".join(f"`{text}`" for text in ignored),
        shown,
    )


def _lenient(items: object, environment: Mapping[str, str], ignored: list[str]) -> bool | None:
    """Evaluate packaging's marker list, leaving out what cannot be evaluated.

    ``None`` means every comparison was left out. ``and`` binds tighter than ``or``,
    as in packaging's own evaluator; a left-out comparison drops out of its ``and``
    group, and a group left empty drops out of the ``or``, which is how uv builds its
    marker without the comparisons it ignores.
    """
    if not isinstance(items, list):
        raise TypeError(items)
    groups: list[list[bool]] = [[]]
    for item in items:
        if item == "or":
            groups.append([])
            continue
        if item == "and":
            continue
        value = (
            _lenient(item, environment, ignored)
            if isinstance(item, list)
            else _comparison(item, environment, ignored)
        )
        if value is not None:
            groups[-1].append(value)
    kept = [all(group) for group in groups if group]
    return any(kept) if kept else None


def _comparison(item: object, environment: Mapping[str, str], ignored: list[str]) -> bool | None:
    """Evaluate one ``(left, op, right)`` comparison; ``None`` when packaging cannot."""
    if not isinstance(item, tuple) or len(item) != 3:
        raise TypeError(item)
    text = " ".join(part.serialize() for part in item)
    try:
        return Marker(text).evaluate(environment)
    except ValueError:  # UndefinedComparison
        ignored.append(text)
        return None
