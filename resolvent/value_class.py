"""Value classes without code generated at import: equality, hash and ``repr`` by field.

The installer's records (plans, manifests, schemes, installed distributions) were
``@dataclass`` classes, and a dataclass compiles its generated methods from source text
when its module is imported. Imports are most of a warm install and nearly all of
``resolvent venv``, so :class:`Value` gives the same behaviour from one base class
instead (see there).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["Value"]


class Value:
    """A base for the installer's value classes: equality, hash and ``repr`` by fields.

    A subclass declares its fields in ``__slots__`` and takes each, in order, as the
    parameter of the same name of its ``__init__``; it compares, hashes and prints as
    ``@dataclass(frozen=True, slots=True)`` made it (a mutable one sets
    ``__hash__ = None``, as ``@dataclass(slots=True)`` does).

    Why not ``@dataclass``: it compiles each class's ``__init__``, ``__repr__``,
    ``__eq__``, ``__hash__``, ``__setattr__`` and ``__delattr__`` from source text when
    its module is imported: 3.8 million instructions for a frozen class with slots,
    against 0.1 million for one written out. Imports are most of a warm install and
    nearly all of ``resolvent venv``; declared as dataclasses, the 20 classes of the
    installer took 7% of the instructions of a warm install of 56 wheels (80 of 1,040
    million) and 4% of ``resolvent venv``'s.
    """

    __slots__ = ()

    #: The fields, in order: the parameters of ``__init__``.
    value_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:
            code = init.__code__
            cls.value_fields = code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount]

    def field_values(self) -> tuple[object, ...]:
        """Return the fields' values, in :attr:`value_fields` order."""
        return tuple(getattr(self, name) for name in self.value_fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Value)
        return self.field_values() == other.field_values()

    def __hash__(self) -> int:
        return hash(self.field_values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.value_fields)
        return f"{self.__class__.__qualname__}({shown})"
