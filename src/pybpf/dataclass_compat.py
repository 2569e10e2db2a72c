"""Value classes written out by hand that :mod:`dataclasses`' functions still take.

The classes every tool's start-up makes (instructions, specs, BTF line info, what the
kernel says about its objects...) were dataclasses. Making a dataclass compiles its
generated methods (~0.3 ms a class) and importing :mod:`dataclasses` imports inspect, ast,
dis and tokenize (~6 ms): together a fifth of a tool's start. These classes write
``__init__``, ``__repr__``, ``__eq__`` (and ``__hash__``) out instead, and::

    __dataclass_fields__ = DataclassFields("name", "type", ...)

keeps ``dataclasses.replace``, ``fields``, ``asdict`` and ``is_dataclass`` working on them
as before: the Field objects are made, and dataclasses imported, the first time one of
those asks. A frozen class takes :func:`frozen_setattr`/:func:`frozen_delattr`, which
raise ``dataclasses.FrozenInstanceError`` as a frozen dataclass does, and :func:`replace`
is ``dataclasses.replace`` for them without the import.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

__all__ = ["DataclassFields", "frozen_setattr", "frozen_delattr", "replace"]

_T = TypeVar("_T")


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
