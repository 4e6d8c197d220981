"""The environment a test runs resolvent's CLI in: none of the machine's tool settings."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["hermetic_env", "program_env"]


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


def program_env(cache: Path) -> dict[str, str]:
    """Return the environment of a resolvent program run by a test (``subprocess``).

    The machine's environment, without tool settings (:func:`hermetic_env`) and with
    this checkout first on the path: the program may run in a folder of its own, where
    an installed copy would be found otherwise.
    """
    import resolvent  # noqa: PLC0415 - the checkout under test, found by the test run

    checkout = str(Path(resolvent.__file__).parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([checkout, *filter(None, [env.get("PYTHONPATH")])])
    for key, value in hermetic_env(cache).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env
