"""The BTF type model: one small class per BTF kind (uapi linux/btf.h).

Types are plain mutable objects with ``__slots__`` so a type graph can be built with cycles
(a struct whose member points back at it: create the ``Ptr`` first, set ``.target`` later).
Equality is identity: two parsed specs give different objects; compare structure with
:func:`pybpf.btf.compare.same_type` (tests) or by printing.

References to other types may be *lazy*: a type decoded by a :class:`~pybpf.btf.spec.Spec`
stores the referenced type id and resolves it through the spec the first time the attribute
is read. Reading such an attribute can therefore raise :class:`~pybpf.errors.BTFError` when
the blob is corrupt (an id out of range, a bad record).
"""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Any, Protocol


class Kind(IntEnum):
    """``BTF_KIND_*`` of uapi linux/btf.h (UNKNOWN is id 0, void)."""

    UNKNOWN = 0
    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19


class IntEncoding(IntFlag):
    """``BTF_INT_*`` encoding bits of a BTF_KIND_INT."""

    NONE = 0
    SIGNED = 1
    CHAR = 2
    BOOL = 4


SIGNED = IntEncoding.SIGNED
CHAR = IntEncoding.CHAR
BOOL = IntEncoding.BOOL


class FuncLinkage(IntEnum):
    """``enum btf_func_linkage``: kept in the vlen field of a BTF_KIND_FUNC."""

    STATIC = 0
    GLOBAL = 1
    EXTERN = 2


class VarLinkage(IntEnum):
    """``BTF_VAR_*`` linkage of a BTF_KIND_VAR."""

    STATIC = 0
    GLOBAL_ALLOCATED = 1
    GLOBAL_EXTERN = 2


class _Resolver(Protocol):
    def type_by_id(self, type_id: int) -> Type: ...


class _LazyType(Protocol):
    """What a type checker sees of a lazy reference: a readable, settable ``Type``."""

    def __get__(self, obj: object, owner: type | None = None) -> Type: ...

    def __set__(self, obj: object, value: Type) -> None: ...


def _lazy(slot: str, doc: str) -> _LazyType:
    """A property over ``slot`` that holds a Type, or an int id resolved via ``self._spec``."""

    def get(self: Any) -> Type:
        value: Type | int = getattr(self, slot)
        if isinstance(value, int):
            resolved: Type = self._spec.type_by_id(value)
            setattr(self, slot, resolved)
            return resolved
        return value

    def set(self: Any, value: Type) -> None:
        setattr(self, slot, value)

    return property(get, set, doc=doc)


class Type:
    """Base of every BTF type. ``kind`` is a :class:`Kind`; ``name`` is "" when anonymous."""

    __slots__ = ("_spec",)
    _spec: _Resolver  # set on types a Spec decoded: resolves their lazy references
    kind: Kind = Kind.UNKNOWN
    name: str = ""

    def __repr__(self) -> str:
        name = f" {self.name!r}" if getattr(self, "name", "") else ""
        return f"<{type(self).__name__}{name}>"


class Void(Type):
    """The type id 0: ``void``. There is a single instance."""

    __slots__ = ()
    kind = Kind.UNKNOWN
    name = ""
    _instance: Void | None = None

    def __new__(cls) -> Void:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<Void>"


class Int(Type):
    """An integer: ``size`` bytes, ``bits`` of value starting at bit ``offset``."""

    __slots__ = ("name", "size", "encoding", "bits", "offset")
    kind = Kind.INT

    def __init__(self, name: str, size: int, encoding: int = 0, bits: int | None = None,
                 offset: int = 0):
        self.name = name
        self.size = size
        self.encoding = IntEncoding(encoding)
        self.bits = size * 8 if bits is None else bits
        self.offset = offset

    @property
    def signed(self) -> bool:
        return bool(self.encoding & IntEncoding.SIGNED)


class Float(Type):
    __slots__ = ("name", "size")
    kind = Kind.FLOAT

    def __init__(self, name: str, size: int):
        self.name = name
        self.size = size


class Ptr(Type):
    __slots__ = ("_target",)
    kind = Kind.PTR
    name = ""
    target = _lazy("_target", "the pointed-to type")

    def __init__(self, target: Type | None = None):
        self._target = target if target is not None else Void()


class Array(Type):
    """``type name[nelems]``; ``index_type`` is usually an int (clang uses its own)."""

    __slots__ = ("_type", "_index_type", "nelems")
    kind = Kind.ARRAY
    name = ""
    type = _lazy("_type", "the element type")
    index_type = _lazy("_index_type", "the index type")

    def __init__(self, type: Type, index_type: Type | None, nelems: int):
        self._type = type
        self._index_type = index_type if index_type is not None else Int("int", 4, SIGNED)
        self.nelems = nelems


class Member(Type):
    """A struct/union member; ``bit_offset`` from the start of the composite.

    ``bitfield_size`` is 0 for a plain member. Not a BTF type of its own (it is a part of a
    ``Struct``/``Union``), but shares the lazy reference machinery.
    """

    __slots__ = ("name", "_type", "bit_offset", "bitfield_size")
    type = _lazy("_type", "the member's type")

    def __init__(self, name: str, type: Type, bit_offset: int = 0, bitfield_size: int = 0):
        self.name = name
        self._type = type
        self.bit_offset = bit_offset
        self.bitfield_size = bitfield_size

    def __repr__(self) -> str:
        return f"<Member {self.name!r} @{self.bit_offset}>"


class _Composite(Type):
    __slots__ = ("name", "size", "members")

    def __init__(self, name: str, size: int, members: list[Member] | None = None):
        self.name = name
        self.size = size
        self.members = list(members or [])


class Struct(_Composite):
    __slots__ = ()
    kind = Kind.STRUCT


class Union(_Composite):
    __slots__ = ()
    kind = Kind.UNION


class EnumValue:
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: int):
        self.name = name
        self.value = value

    def __repr__(self) -> str:
        return f"EnumValue({self.name!r}, {self.value})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, EnumValue) and other.name == self.name
                and other.value == self.value)

    def __hash__(self) -> int:
        return hash((self.name, self.value))


class Enum(Type):
    """A 32-bit-valued enum (BTF_KIND_ENUM); ``size`` may be 1, 2, 4 or 8 bytes."""

    __slots__ = ("name", "size", "values", "signed")
    kind = Kind.ENUM

    def __init__(self, name: str, size: int = 4, values: list[EnumValue] | None = None,
                 signed: bool = False):
        self.name = name
        self.size = size
        self.values = list(values or [])
        self.signed = signed


class Enum64(Enum):
    """An enum with 64-bit values (BTF_KIND_ENUM64)."""

    __slots__ = ()
    kind = Kind.ENUM64

    def __init__(self, name: str, size: int = 8, values: list[EnumValue] | None = None,
                 signed: bool = False):
        super().__init__(name, size, values, signed)


class Fwd(Type):
    """A forward declaration; ``kind`` here is the string "struct" or "union"."""

    __slots__ = ("name", "fwd_kind")
    kind = Kind.FWD

    def __init__(self, name: str, kind: str = "struct"):
        if kind not in ("struct", "union"):
            raise ValueError(f"Fwd kind must be 'struct' or 'union', not {kind!r}")
        self.name = name
        self.fwd_kind = kind


class Typedef(Type):
    __slots__ = ("name", "_type")
    kind = Kind.TYPEDEF
    type = _lazy("_type", "the aliased type")

    def __init__(self, name: str, type: Type):
        self.name = name
        self._type = type


class _Qualifier(Type):
    __slots__ = ("_type",)
    name = ""
    type = _lazy("_type", "the qualified type")

    def __init__(self, type: Type):
        self._type = type


class Volatile(_Qualifier):
    __slots__ = ()
    kind = Kind.VOLATILE


class Const(_Qualifier):
    __slots__ = ()
    kind = Kind.CONST


class Restrict(_Qualifier):
    __slots__ = ()
    kind = Kind.RESTRICT


class TypeTag(_Qualifier):
    """``__attribute__((btf_type_tag(value)))`` on the type it wraps."""

    __slots__ = ("value",)
    kind = Kind.TYPE_TAG

    def __init__(self, value: str, type: Type):
        super().__init__(type)
        self.value = value

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.value


class Param(Type):
    """A function prototype parameter (name may be ""); not a BTF type of its own."""

    __slots__ = ("name", "_type")
    type = _lazy("_type", "the parameter's type")

    def __init__(self, name: str, type: Type):
        self.name = name
        self._type = type


class FuncProto(Type):
    """``return_type (*)(params)``; a last param of type void, named "", means ``...``."""

    __slots__ = ("_return_type", "params")
    kind = Kind.FUNC_PROTO
    name = ""
    return_type = _lazy("_return_type", "the return type")

    def __init__(self, return_type: Type, params: list[Param] | None = None):
        self._return_type = return_type
        self.params = list(params or [])

    @property
    def variadic(self) -> bool:
        return bool(self.params) and isinstance(self.params[-1].type, Void)


class Func(Type):
    __slots__ = ("name", "_type", "linkage")
    kind = Kind.FUNC
    type = _lazy("_type", "the FuncProto")

    def __init__(self, name: str, type: Type, linkage: int = FuncLinkage.STATIC):
        self.name = name
        self._type = type
        self.linkage = FuncLinkage(linkage)


class Var(Type):
    __slots__ = ("name", "_type", "linkage")
    kind = Kind.VAR
    type = _lazy("_type", "the variable's type")

    def __init__(self, name: str, type: Type, linkage: int = VarLinkage.GLOBAL_ALLOCATED):
        self.name = name
        self._type = type
        self.linkage = VarLinkage(linkage)


class VarSecinfo(Type):
    """One variable (or func) placed in a ``Datasec`` at byte ``offset``."""

    __slots__ = ("_type", "offset", "size")
    name = ""
    type = _lazy("_type", "the Var (or Func)")

    def __init__(self, type: Type, offset: int, size: int):
        self._type = type
        self.offset = offset
        self.size = size

    def __repr__(self) -> str:
        return f"<VarSecinfo @{self.offset} size {self.size}>"


class Datasec(Type):
    __slots__ = ("name", "size", "vars")
    kind = Kind.DATASEC

    def __init__(self, name: str, size: int = 0, vars: list[VarSecinfo] | None = None):
        self.name = name
        self.size = size
        self.vars = list(vars or [])


class DeclTag(Type):
    """``btf_decl_tag(value)`` on ``type`` (a struct/union/func/var/typedef).

    ``component_idx`` is -1 for the type itself, else the member or parameter index.
    """

    __slots__ = ("value", "_type", "component_idx")
    kind = Kind.DECL_TAG
    type = _lazy("_type", "the tagged type")

    def __init__(self, value: str, type: Type, component_idx: int = -1):
        self.value = value
        self._type = type
        self.component_idx = component_idx

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.value


class FwdKind(int):
    """``Fwd.kind``: equals ``Kind.FWD`` (it is the int 7) *and* its flavour string.

    The API wants ``fwd.kind == "union"`` while generic code wants every type's ``.kind`` to
    be its BTF kind; this value satisfies both (``Kind(fwd.kind) is Kind.FWD``).
    """

    flavour: str

    def __new__(cls, flavour: str) -> FwdKind:
        self = super().__new__(cls, int(Kind.FWD))
        self.flavour = flavour
        return self

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return other == self.flavour
        return int.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = int.__hash__

    def __str__(self) -> str:
        return self.flavour

    def __repr__(self) -> str:
        return f"FwdKind({self.flavour!r})"


Fwd.kind = property(lambda self: FwdKind(self.fwd_kind),  # type: ignore[assignment]
                    doc='Kind.FWD that also equals "struct" or "union"')


QUALIFIER_KINDS = frozenset({Kind.TYPEDEF, Kind.CONST, Kind.VOLATILE, Kind.RESTRICT,
                             Kind.TYPE_TAG})


def kind_of(t: Type) -> Kind:
    """The BTF kind of ``t`` as a plain :class:`Kind` (for ``Fwd`` too)."""
    return Kind(int(t.kind))
