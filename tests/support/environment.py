"""The environment a test runs resolvent's CLI in: none of the machine's tool settings."""

from __future__ import annotations

import os

__all__ = ["hermetic_env"]


def hermetic_env() -> dict[str, str | None]:
    """Return an environment update (for click's runner) without pip, uv or resolvent settings.

    Values of ``None`` remove a variable; pip's configuration file is pointed at
    ``os.devnull`` so the machine's index and find-links do not leak into a test.
    """
    env: dict[str, str | None] = {
        key: None for key in os.environ if key.startswith(("PIP_", "RESOLVENT_", "UV_"))
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    return env
