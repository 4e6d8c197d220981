"""resolvent: a Python package and project manager with a formal, twice-certified resolver."""

from __future__ import annotations

__all__ = ["TYPE_CHECKING", "__version__"]

__version__ = "0.1.0"

#: ``typing.TYPE_CHECKING`` without importing ``typing``, which ``resolvent venv`` need not
#: load (see ``resolvent.cli._fast``): modules on that path import this one instead. Type
#: checkers take a ``TYPE_CHECKING`` name as true wherever it comes from.
TYPE_CHECKING = False
