"""The environment a test runs resolvent's CLI in: none of the machine's tool settings."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["hermetic_env"]


def hermetic_env(cache: Path | None = None) -> dict[str, str | None]:
    """Return an environment update (for click's runner) without pip, uv or resolvent settings.

    Values of ``None`` remove a variable; pip's configuration file is pointed at
    ``os.devnull`` so the machine's index and find-links do not leak into a test. With
    ``cache``, the run also uses that cache folder (``RESOLVENT_CACHE_DIR``) and no active
    virtual environment (``VIRTUAL_ENV`` is removed).
    """
    env: dict[str, str | None] = {
        key: None
        for key in os.environ
        if key.startswith(("PIP_", "RESOLVENT_", "UV_"))
        or (cache is not None and key == "VIRTUAL_ENV")
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    if cache is not None:
        env["RESOLVENT_CACHE_DIR"] = str(cache)
    return env
