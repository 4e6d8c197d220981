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

from resolvent.errors import BadInputError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from packaging.requirements import Requirement

__all__ = ["check_user_marker", "requirement_applies"]

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
    try:  # the common case, without building the requirement's text (~8 µs each)
        return marker.evaluate(environment)
    except ValueError:  # UndefinedComparison
        return _holds(marker, environment, str(requirement))


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
