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


def check_user_marker(marker: Marker) -> None:
    """Refuse a marker of the user's that has a comparison no environment can evaluate.

    Whether packaging can evaluate a comparison depends on its name, operator and
    quoted value, not on the environment (``~=`` wants a version, ``===`` a version
    name), and packaging evaluates every comparison of a marker: one evaluation, here
    against the running interpreter, finds them all.

    :raises BadInputError: naming the marker and packaging's reason.
    """
    environment = cast("dict[str, str]", default_environment())
    try:
        marker.evaluate(environment)
    except ValueError:  # UndefinedComparison
        pass
    else:
        return
    ignored: list[str] = []
    try:
        _lenient(marker._markers, environment, ignored)  # noqa: SLF001 - see _holds
    except (AttributeError, TypeError, ValueError):
        ignored = []
    named = ", ".join(f"`{text}`" for text in ignored) or "a comparison"
    raise BadInputError(f"invalid marker `{marker}`: {named} cannot be evaluated")


def _holds(marker: Marker, environment: Mapping[str, str], shown: str) -> bool:
    try:
        return marker.evaluate(environment)
    except ValueError:  # UndefinedComparison
        pass
    ignored: list[str] = []
    try:
        found = _lenient(marker._markers, environment, ignored)  # noqa: SLF001 - see below
    except (AttributeError, TypeError, ValueError):
        # packaging keeps a marker's comparisons in ``_markers`` (since 22.0); if that
        # ever changes, the marker is taken as not holding: never a traceback.
        found, ignored = False, ["the whole marker"]
    _warn(shown, ignored)
    return True if found is None else found


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
