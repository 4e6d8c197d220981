"""resolvent: a Python package and project manager with a formal, twice-certified resolver."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
