"""Plain records for the compiler's own values (syntax tree, tokens, types, attach points):
what ``@dataclass`` gave them, without importing dataclasses (with inspect, ast, dis and
tokenize: ~6 ms) nor compiling generated methods for each class (~0.2 ms a class), which
was a fifth of the start of ``pybpf trace`` compiling a script.

A subclass lists its fields as annotations, in ``__init__``'s order after its bases'; a
class attribute is the field's default, :data:`LIST`, :data:`DICT` and :data:`SET` a new
empty one for each record. Options are class keywords, kept by subclasses: ``frozen`` (no
assignment after ``__init__``, hashable), ``eq=False`` (identity comparison).
:func:`field` leaves a field out of comparisons, or out of ``__init__`` and ``repr``
(set later). Type checkers see the classes as dataclasses (PEP 681).
"""

from __future__ import annotations

from ..value_base import FieldsValue

TYPE_CHECKING = False     # typing costs ~2 ms of `pybpf trace`'s start (see .quickstart)
if TYPE_CHECKING:
    from typing import Any, ClassVar, dataclass_transform
else:
    def dataclass_transform(**_: object) -> object:
        return lambda cls: cls

__all__ = ["Record", "LIST", "DICT", "SET", "field", "replace"]


class _Factory:
    def __init__(self, make: type) -> None:
        self.make = make

    def __repr__(self) -> str:
        return f"<a new {self.make.__name__}>"


LIST: Any = _Factory(list)
DICT: Any = _Factory(dict)
SET: Any = _Factory(set)
_NO_DEFAULT = object()


def field(*, default: Any = None, compare: bool = True, init: bool = True) -> Any:
    """A field with ``default``, left out of comparisons and hashing with ``compare=False``,
    out of ``__init__`` and ``repr`` too with ``init=False`` (set later: a plain attribute
    until then reading ``default``)."""
    return _Field(default, compare, init)


class _Field:
    def __init__(self, default: Any, compare: bool, init: bool) -> None:
        self.default = default
        self.compare = compare
        self.init = init


@dataclass_transform(field_specifiers=(field,))
class Record(FieldsValue):
    """The base of a record class; see the module's description."""

    __slots__ = ()
    _compared: ClassVar[tuple[str, ...]] = ()    # the fields compared and hashed
    _defaults: tuple[Any, ...] = ()       # of the last fields, as a function's
    _frozen = False

    def __init_subclass__(cls, *, frozen: bool = False, eq: bool | None = None, **kw: Any
                          ) -> None:
        fields, compared = list(cls._fields), list(cls._compared)
        for name in vars(cls).get("__annotations__", {}):
            spec = vars(cls).get(name)
            if isinstance(spec, _Field):
                type.__setattr__(cls, name, spec.default)
                if not spec.init:
                    continue
            if name not in fields:
                fields.append(name)
            if spec is None or not isinstance(spec, _Field) or spec.compare:
                compared.append(name)
        defaults: list[Any] = []
        for name in fields:
            value = getattr(cls, name, _NO_DEFAULT)
            if value is not _NO_DEFAULT:
                defaults.append(value)
            elif defaults:
                raise TypeError(f"{cls.__name__}: field {name!r} without a default follows "
                                "one with a default")
        cls._fields = tuple(fields)
        cls._compared = tuple(n for n in fields if n in compared)
        cls._defaults = tuple(defaults)
        cls._frozen = frozen or cls._frozen
        type.__setattr__(cls, "__match_args__", cls._fields)
        super().__init_subclass__(**kw)     # the key of _compared
        if eq is False:     # by identity, in this class and those made from it
            cls.__eq__ = object.__eq__      # type: ignore[method-assign]
            cls.__hash__ = object.__hash__  # type: ignore[method-assign]
        elif eq is None and cls.__eq__ is object.__eq__:
            pass
        elif not cls._frozen:
            cls.__hash__ = None             # type: ignore[assignment]  # as a dataclass's

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # the common call gives every field by position: set them and return (records
        # are made by the hundred in a compile, this is a third of its time otherwise)
        fields = self._fields
        n, count = len(args), len(fields)
        setter = object.__setattr__
        for name, value in zip(fields, args):
            setter(self, name, value)
        if n == count and not kwargs:
            return
        if n > count:
            raise TypeError(f"{type(self).__name__}() takes {count} arguments, {n} given")
        defaults = self._defaults
        first_default = count - len(defaults)
        for i in range(n, count):
            name = fields[i]
            if name in kwargs:
                value = kwargs.pop(name)
            elif i >= first_default:
                value = defaults[i - first_default]
                if isinstance(value, _Factory):
                    value = value.make()
            else:
                raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
            setter(self, name, value)
        for name in kwargs:     # not a field, or one given by position too
            raise TypeError(f"{type(self).__name__}() got an unexpected or repeated "
                            f"argument {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"cannot assign to field {name!r}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if self._frozen:
            raise AttributeError(f"cannot delete field {name!r}")
        object.__delattr__(self, name)


def replace(obj: Any, **changes: Any) -> Any:
    """A copy of record ``obj`` with ``changes`` (``dataclasses.replace``)."""
    return type(obj)(**{n: changes.get(n, getattr(obj, n)) for n in obj._fields})
