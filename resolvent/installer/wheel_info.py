"""What a wheel says about itself: its info, entry points and layout names.

Apart from :mod:`resolvent.installer.wheel` (which reads and checks wheels, with
``packaging``) so that a stored install manifest can be read without importing
``packaging``: the speculative-linking helper (:mod:`resolvent.installer.speculate`)
reads manifests as soon as it is forked, and 13 ms of imports would delay its first link.
"""

from __future__ import annotations

from resolvent import TYPE_CHECKING
from resolvent.value_class import Value

if TYPE_CHECKING:
    from typing import Final, Literal

    #: The subfolders of ``<name>-<version>.data`` and the scheme paths they go to.
    DataKey = Literal["purelib", "platlib", "scripts", "headers", "data"]

__all__ = ["DATA_KEYS", "SIGNATURE_FILES", "EntryPoint", "WheelInfo"]

#: The names of :data:`DataKey`, at run time.
DATA_KEYS: frozenset[str] = frozenset({"purelib", "platlib", "scripts", "headers", "data"})

#: Files of ``.dist-info`` that RECORD does not list (it cannot hash itself or its signature).
SIGNATURE_FILES = ("RECORD", "RECORD.jws", "RECORD.p7s")


class WheelInfo(Value):
    """What a wheel says about itself, after its metadata files were checked to agree."""

    __slots__ = ("dist_info", "name", "root_is_purelib", "version")

    def __init__(self, name: str, version: str, dist_info: str, root_is_purelib: bool) -> None:  # noqa: FBT001
        self.name: Final = name
        self.version: Final = version
        self.dist_info: Final = dist_info
        self.root_is_purelib: Final = root_is_purelib

    @property
    def data_dir(self) -> str:
        """The ``<name>-<version>.data`` folder name."""
        return self.dist_info[: -len(".dist-info")] + ".data"

    @property
    def canonical_name(self) -> str:
        """The normalized project name (PEP 503)."""
        from packaging.utils import canonicalize_name  # noqa: PLC0415 -- see the module

        return canonicalize_name(self.name)


class EntryPoint(Value):
    """One ``console_scripts`` or ``gui_scripts`` entry: ``name = module:attr``."""

    __slots__ = ("attr", "gui", "module", "name")

    def __init__(self, name: str, module: str, attr: str, gui: bool) -> None:  # noqa: FBT001
        self.name: Final = name
        self.module: Final = module
        self.attr: Final = attr
        self.gui: Final = gui
