"""Value classes without code generated at import: equality, hash and ``repr`` by field.

The installer's records (plans, manifests, schemes, installed distributions) and the
records every ``pip compile`` imports (index, project and solver) were ``@dataclass``
classes, and a dataclass compiles its generated methods from source text when its
module is imported. Imports are most of a warm install and nearly all of
``resolvent venv``, and every command imports the compile path's records, so
:class:`Value` gives the same behaviour from one base class instead (see there). The
classes built on it say so here only.
"""

from __future__ import annotations

from resolvent import TYPE_CHECKING

if TYPE_CHECKING:
    from dataclasses import Field
    from typing import Any, ClassVar, Self

__all__ = ["DataclassFields", "DataclassLike", "MutableValue", "Value"]


class Value:
    """A base for value classes: equality, hash and ``repr`` by fields.

    A subclass declares its fields in ``__slots__`` and takes each, in order, as the
    parameter of the same name of its ``__init__``; it compares, hashes and prints as
    ``@dataclass(frozen=True, slots=True)`` made it (a mutable one derives from
    :class:`MutableValue`, unhashable as ``@dataclass(slots=True)`` made it). The
    installer's records and the classes every ``pip compile`` imports (index, project
    and solver records) are such classes. A field that holds a mapping is named in
    :attr:`unhashed_fields` (compared, not hashed: ``field(hash=False)``), a derived one in
    :attr:`uncompared_fields` (shown only: ``field(compare=False)``).

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
    #: Fields compared but left out of the hash (mappings, which cannot be hashed).
    unhashed_fields: ClassVar[frozenset[str]] = frozenset()
    #: Fields shown but neither compared nor hashed (values derived from the others).
    uncompared_fields: ClassVar[frozenset[str]] = frozenset()
    #: :attr:`value_fields` as equality and the hash see them (made per class).
    _compared: ClassVar[tuple[str, ...]] = ()
    _hashed: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:
            code = init.__code__
            cls.value_fields = code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount]
        cls._compared = tuple(n for n in cls.value_fields if n not in cls.uncompared_fields)
        cls._hashed = tuple(n for n in cls._compared if n not in cls.unhashed_fields)

    def field_values(self) -> tuple[object, ...]:
        """Return the fields' values, in :attr:`value_fields` order."""
        return tuple(getattr(self, name) for name in self.value_fields)

    def replace(self, **changes: Any) -> Self:
        """Return a copy with ``changes``, as ``dataclasses.replace`` makes it.

        Through ``dataclasses.replace``, a warm install's one copy of its settings made
        the class's ``__dataclass_fields__`` (:class:`DataclassFields`: a shadow class
        through ``dataclasses.make_dataclass``) in every run, for one copy.

        :raises TypeError: a name that is not a field, as ``dataclasses.replace`` does.
        """
        names = self.value_fields
        unknown = [name for name in changes if name not in names]
        if unknown:
            raise TypeError(f"{self.__class__.__qualname__} has no field {unknown[0]!r}")
        return self.__class__(**{name: changes.get(name, getattr(self, name)) for name in names})

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = self._compared
        return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in self._hashed))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.value_fields)
        return f"{self.__class__.__qualname__}({shown})"


class MutableValue(Value):
    """A :class:`Value` whose fields may change: equal by fields, hence unhashable."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]


class DataclassFields:
    """A :class:`Value` class's ``__dataclass_fields__``, made on first use.

    ``dataclasses.fields``, ``replace`` and ``asdict`` accept any class that has this
    attribute. A value class that callers treat as a dataclass (the interpreter's
    answer) derives from :class:`DataclassLike`, which declares
    ``__dataclass_fields__ = DataclassFields()``, instead of taking the ``@dataclass``
    decorator, which needs ``dataclasses`` (and with it ``inspect``, ``ast``, ``dis``,
    ``tokenize``) imported with the class's module: most of the 40
    million instructions (of 220) that ``resolvent venv`` spent on imports it did not
    need, for a feature only tests used. The fields are those of
    :attr:`Value.value_fields`, with the class's annotations.
    """

    def __get__(self, instance: object, owner: type[Value]) -> dict[str, Any]:
        import dataclasses  # noqa: PLC0415 -- see the class
        import inspect  # noqa: PLC0415 -- imported by dataclasses anyway
        from typing import Any  # noqa: PLC0415 -- see TYPE_CHECKING

        annotations = inspect.get_annotations(owner)
        shadow = dataclasses.make_dataclass(
            owner.__name__,
            [(name, annotations.get(name, Any)) for name in owner.value_fields],
            # A docstring spares the decorator ``inspect.signature`` of the class, which
            # for a class without ``__init__`` tokenizes ``object.__init__``'s text
            # signature: 1.4 ms of a warm install's 2 ms ``replace`` of its settings.
            namespace={"__doc__": owner.__doc__ or owner.__name__},
            init=False,
            repr=False,
            eq=False,
        )
        fields: dict[str, Any] = getattr(shadow, "__dataclass_fields__")  # noqa: B009 -- a made class
        type.__setattr__(owner, "__dataclass_fields__", fields)  # made once per class
        return fields


class DataclassLike:
    """A mixin of value classes that callers treat as dataclasses (``replace``, ``fields``).

    ``class Target(Value, DataclassLike)``: the class gets its ``__dataclass_fields__``
    from :class:`DataclassFields` on first use, and type checkers see the attribute the
    ``dataclasses`` functions ask of their argument's type.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
    else:
        __dataclass_fields__ = DataclassFields()
