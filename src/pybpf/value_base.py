"""The one base of value classes: equality, hash and repr by fields.

:class:`~pybpf.dataclass_compat.Value` (instructions, specs...) and pybpf.trace's records
and print plan stand on it. It imports only operator: `pybpf trace` started from its
compile cache imports the print plan, and nothing else of these.
"""

from __future__ import annotations

from operator import attrgetter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar

__all__ = ["FieldsValue", "fields_key"]


def fields_key(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving an object's ``names`` attributes as one tuple."""
    if len(names) > 1:
        return attrgetter(*names)
    # attrgetter of one name gives the bare value: the key stays a tuple (same hash)
    return lambda obj: tuple([getattr(obj, name) for name in names])


class FieldsValue:
    """Equality, hash and repr by fields: objects of one class are equal when their
    :meth:`_key` (set per class: the values of ``_compared``, else of ``_fields``) is;
    ``repr`` shows ``_fields``."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _compared: ClassVar[tuple[str, ...] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        compared = cls._compared if cls._compared is not None else cls._fields
        cls._key = staticmethod(fields_key(compared))  # type: ignore[method-assign,assignment]

    @staticmethod
    def _key(obj: Any) -> tuple[Any, ...]:
        """The values ``obj`` is compared and hashed by, as one tuple (made per class)."""
        return ()

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        key = self._key
        return key(self) == key(other)

    def __hash__(self) -> int:
        return hash(self._key(self))
