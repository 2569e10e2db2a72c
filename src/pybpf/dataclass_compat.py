"""Value classes written out by hand that :mod:`dataclasses`' functions still take.

The classes every tool's start-up makes (instructions, specs, BTF line info, what the
kernel says about its objects...) were dataclasses. Making a dataclass compiles its
generated methods (~0.3 ms a class) and importing :mod:`dataclasses` imports inspect, ast,
dis and tokenize (~6 ms): together a fifth of a tool's start. These classes write their
``__init__`` out instead and take the rest from a base here:

* :class:`Value`: ``__repr__`` and ``__eq__`` (and no hash, as a mutable dataclass) over
  the class's ``_fields``, which are its ``__match_args__`` (its ``__init__`` parameters,
  in order) unless the class names fewer;
* :class:`FrozenValue`: a frozen dataclass's, adding ``__hash__`` over ``_fields``,
  ``__setattr__``/``__delattr__`` that raise ``dataclasses.FrozenInstanceError``, and
  ``__reduce__`` (pickle and copy call ``__init__`` again: its own setattr refuses);
* both stand on :class:`~pybpf.value_base.FieldsValue`, which compares, hashes and shows
  an object by its fields (and which ``pybpf.trace``'s records and print plan stand on);
* both give the class a ``__dataclass_fields__`` (:class:`DataclassFields`) that keeps
  ``dataclasses.replace``, ``fields``, ``asdict`` and ``is_dataclass`` working on them as
  before: the Field objects are made, and dataclasses imported, the first time one of
  those asks. :func:`replace` is ``dataclasses.replace`` for them without the import.
"""

from __future__ import annotations

from .value_base import FieldsValue

# not typing's constant: `pybpf trace` compiles a script (instructions are Values) without
# importing typing (~2 ms of its start)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, NoReturn, TypeVar

    _T = TypeVar("_T")

__all__ = ["Value", "FrozenValue", "DataclassFields", "frozen_setattr", "frozen_delattr",
           "replace"]


class DataclassFields:
    """A class's ``__dataclass_fields__``, made on first use from the field names (in
    ``__init__``'s order; every field is an ``__init__`` parameter)."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def __get__(self, obj: object, owner: type) -> dict[str, Any]:
        import dataclasses  # noqa: PLC0415 - the point: only when asked

        cls = next(c for c in owner.__mro__ if vars(c).get("__dataclass_fields__") is self)
        shadow = dataclasses.make_dataclass(cls.__name__, self.names)
        fields: dict[str, Any] = vars(shadow)["__dataclass_fields__"]
        type.__setattr__(cls, "__dataclass_fields__", fields)   # made once
        return fields


def frozen_setattr(self: object, name: str, value: object) -> NoReturn:
    from dataclasses import FrozenInstanceError  # noqa: PLC0415 - only on a mistake

    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def frozen_delattr(self: object, name: str) -> NoReturn:
    from dataclasses import FrozenInstanceError  # noqa: PLC0415 - only on a mistake

    raise FrozenInstanceError(f"cannot delete field {name!r}")


def replace(obj: _T, **changes: Any) -> _T:
    """``dataclasses.replace`` for these classes, without importing dataclasses: a new
    object of the same class with ``changes`` and the other fields as they are."""
    cls = type(obj)
    unknown = set(changes) - set(cls.__match_args__)   # type: ignore[attr-defined]
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
    return cls(**{name: changes[name] if name in changes else getattr(obj, name)
                  for name in cls.__match_args__})   # type: ignore[attr-defined]


class Value(FieldsValue):
    """Base of a value class: ``__repr__`` and ``__eq__`` over ``_fields``.

    A subclass sets ``__match_args__`` (every ``__init__`` parameter, in order) and, when
    some of them are left out of comparison and repr, ``_fields``. Building these here
    costs a few microseconds a class, where a dataclass compiles its methods."""

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        own = vars(cls)
        if "__match_args__" in own:
            if "__dataclass_fields__" not in own:
                cls.__dataclass_fields__ = DataclassFields(*cls.__match_args__)  # type: ignore[assignment]
            if "_fields" not in own:
                cls._fields = cls.__match_args__
        super().__init_subclass__(**kwargs)

    __hash__ = None  # type: ignore[assignment]


class FrozenValue(Value):
    """Base of a frozen value class: :class:`Value`, hashed over ``_fields``, whose
    ``__init__`` sets its fields with ``object.__setattr__``."""

    __slots__ = ()

    __hash__ = FieldsValue.__hash__  # type: ignore[assignment]

    __setattr__ = frozen_setattr
    __delattr__ = frozen_delattr

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), tuple(getattr(self, name) for name in self.__match_args__)
