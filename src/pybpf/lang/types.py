"""The types of the language: C's fixed-width integers, arrays, byte strings, structs,
pointers, and kernel types taken from BTF.

Integers follow C (what clang does for the same program on BPF):

* ``u8``..``u64``, ``s8``..``s64``, ``bool_``, ``char``; arithmetic wraps (two's complement);
* operands are promoted and converted by C's usual arithmetic conversions (anything smaller
  than 32 bits becomes ``s32``, mixing signed and unsigned of one width gives unsigned...);
* ``/`` and ``//`` are both C's truncating division, ``%`` C's remainder (sign of the
  dividend); signed operands use BPF's ``sdiv``/``smod`` (cpu v4), unsigned ``div``/``mod``;
* ``>>`` is arithmetic for signed, logical for unsigned; the shift count is taken modulo the
  width (what the BPF machine does; C leaves it undefined);
* division by zero gives 0 and remainder by zero gives the dividend (BPF's definition; C
  leaves it undefined); ``MIN / -1`` gives ``MIN``, ``MIN % -1`` gives 0;
* a bare Python literal is typed as C types a literal: ``int`` (s32) when it fits, else
  ``long`` (s64), else ``unsigned long`` (u64); a new variable initialised from a bare
  literal is ``s64`` (the nearest thing to a Python int).

Registers always hold a value in *canonical* 64-bit form: zero-extended for unsigned types,
sign-extended for signed ones; the code generator relies on that.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, get_origin

from .. import btf as _btf
from ..btf import queries as _btfq
from ..dataclass_compat import Value

__all__ = [
    "Type", "IntType", "ArrayType", "PtrType", "MapRefType", "StructType", "TupleType", "Field",
    "VoidType",
    "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "bool_", "char", "void",
    "SpinLock", "Timer", "bytes16", "bytes32", "bytes64", "bytes128", "bytes256", "string",
    "array", "ptr",
    "struct", "type_of", "common_type", "promote", "literal_type", "from_btf",
]


class Type:
    """A language type: ``size`` and ``align`` in bytes, a C-like ``name``."""

    size: int = 0
    align: int = 1
    name: str = "?"

    def __getitem__(self, count: int) -> ArrayType:
        """``u32[4]``: a fixed array of this type."""
        return array(self, count)

    def __repr__(self) -> str:
        return self.name

    @property
    def is_scalar(self) -> bool:
        return False


class VoidType(Type):
    name = "void"


void = VoidType()


class IntType(Type):
    """A fixed-width integer. Called in Python (``u8(300)``) it wraps like C; in compiled
    code it is a cast."""

    def __init__(self, name: str, size: int, signed: bool, *, is_bool: bool = False,
                 is_char: bool = False):
        self.name = name
        self.size = size
        self.align = size
        self.signed = signed
        self.is_bool = is_bool
        self.is_char = is_char
        self.bits = size * 8

    @property
    def is_scalar(self) -> bool:
        return True

    @property
    def min(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def wrap(self, value: int) -> int:
        """``value`` converted to this type as C converts (modulo 2**bits)."""
        if self.is_bool:
            return int(value != 0)
        value &= (1 << self.bits) - 1
        if self.signed and value >> (self.bits - 1):
            value -= 1 << self.bits
        return value

    def __call__(self, value: int) -> int:
        return self.wrap(int(value))

    def pack(self, value: int) -> bytes:
        return self.wrap(value).to_bytes(self.size, sys.byteorder, signed=self.signed)

    def unpack(self, raw: bytes) -> int:
        return int.from_bytes(raw[:self.size], sys.byteorder, signed=self.signed)


u8 = IntType("u8", 1, False)
u16 = IntType("u16", 2, False)
u32 = IntType("u32", 4, False)
u64 = IntType("u64", 8, False)
s8 = IntType("s8", 1, True)
s16 = IntType("s16", 2, True)
s32 = IntType("s32", 4, True)
s64 = IntType("s64", 8, True)
bool_ = IntType("bool", 1, False, is_bool=True)
char = IntType("char", 1, False, is_char=True)


class ArrayType(Type):
    """``elem[count]``; an array of ``char`` is a byte string (``bytes`` in Python)."""

    def __init__(self, elem: Type, count: int):
        if not isinstance(count, int) or count <= 0:
            raise TypeError(f"array length must be a positive int, not {count!r}")
        self.elem = elem
        self.count = count
        self.size = elem.size * count
        self.align = elem.align
        self.name = f"{elem.name}[{count}]"

    @property
    def is_string(self) -> bool:
        return isinstance(self.elem, IntType) and self.elem.is_char

    def pack(self, value: Any) -> bytes:
        if self.is_string:
            raw = value.encode() if isinstance(value, str) else bytes(value)
            return raw[:self.size].ljust(self.size, b"\0")
        return b"".join(pack_value(self.elem, v) for v in value)

    def unpack(self, raw: bytes) -> Any:
        if self.is_string:
            return bytes(raw[:self.size]).split(b"\0", 1)[0]
        step = self.elem.size
        return [unpack_value(self.elem, raw[i * step:(i + 1) * step]) for i in range(self.count)]


def array(elem: Any, count: int) -> ArrayType:
    return ArrayType(type_of(elem), count)


def string(size: int) -> ArrayType:
    """``char[size]``: a NUL-padded byte string."""
    return ArrayType(char, size)


bytes16, bytes32, bytes64, bytes128, bytes256 = (string(n) for n in (16, 32, 64, 128, 256))


class PtrType(Type):
    """A pointer. ``space`` says how the pointee is reached:

    * ``"direct"``: memory the verifier lets the program load from (stack, map values,
      ring buffer records, packets, the context);
    * ``"kernel"``: kernel memory, read with ``bpf_probe_read_kernel``;
    * ``"user"``: user memory, read with ``bpf_probe_read_user``.
    """

    size = 8
    align = 8

    def __init__(self, target: Any, space: str = "direct"):
        self._target = target
        self.space = space

    @property
    def target(self) -> Type:
        if callable(self._target) and not isinstance(self._target, Type) \
                and not isinstance(self._target, type):
            self._target = self._target()
        return type_of(self._target)

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.target.name}*"

    @property
    def is_scalar(self) -> bool:
        return True


class MapRefType(PtrType):
    """A map found at run time (the value of a map of maps), used as map ``decl`` is."""

    def __init__(self, decl: Any):
        super().__init__(u32, "direct")
        self.decl = decl

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"map like {self.decl!r}"


def ptr(target: Any, space: str = "direct") -> PtrType:
    return PtrType(target, space)


class Field(Value):
    name: str
    type: Type
    offset: int
    bit_offset: int  # bitfields (kernel types only)
    bit_size: int

    __match_args__ = ("name", "type", "offset", "bit_offset", "bit_size")

    def __init__(self, name: str, type: Type, offset: int, bit_offset: int = 0,
                       bit_size: int = 0) -> None:
        self.name = name
        self.type = type
        self.offset = offset
        self.bit_offset = bit_offset
        self.bit_size = bit_size


class StructType(Type):
    """A struct: named fields at byte offsets. ``kernel`` structs come from BTF and are
    read with probe reads; ``btf`` keeps the BTF type (for CO-RE records)."""

    def __init__(self, name: str, size: int, align: int, fields: list[Field] | None = None,
                 *, pyclass: Any = None, btf_type: Any = None):
        self.name = name
        self.size = size
        self.align = align
        self._fields = {f.name: f for f in fields} if fields is not None else None
        self.pyclass = pyclass
        self.btf_type = btf_type

    @property
    def fields(self) -> dict[str, Field]:
        if self._fields is None:
            self._fields = _btf_fields(self.btf_type)
        return self._fields

    def field(self, name: str) -> Field | None:
        return self.fields.get(name)

    def pack(self, value: Any) -> bytes:
        if isinstance(value, (bytes, bytearray)):
            return bytes(value).ljust(self.size, b"\0")
        out = bytearray(self.size)
        for f in self.fields.values():
            v = getattr(value, f.name, None)
            if v is not None:
                raw = pack_value(f.type, v)
                out[f.offset:f.offset + len(raw)] = raw
        return bytes(out)

    def unpack(self, raw: bytes) -> Any:
        values = {f.name: unpack_value(f.type, raw[f.offset:f.offset + f.type.size])
                  for f in self.fields.values()}
        if self.pyclass is not None:
            obj = self.pyclass.__new__(self.pyclass)
            obj.__dict__.update(values)
            return obj
        return values


class SpinLockType(StructType):
    """``struct bpf_spin_lock``: a field of a map value that ``with value.lock:`` holds
    (the map's BTF names the type, as the kernel requires)."""

    def __init__(self) -> None:
        super().__init__("bpf_spin_lock", 4, 4, [Field("val", u32, 0)])

    def unpack(self, raw: bytes) -> Any:
        return 0                     # the lock word means nothing to the Python side

    def pack(self, value: Any) -> bytes:
        return bytes(4)


SpinLock = SpinLockType()


class TimerType(StructType):
    """``struct bpf_timer``: a field of a map value; compiled, ``v.timer.init(m)``,
    ``v.timer.set_callback(m, fn)``, ``v.timer.start(ns)``, ``v.timer.cancel()``."""

    def __init__(self) -> None:
        super().__init__("bpf_timer", 16, 8, [Field("opaque0", u64, 0),
                                               Field("opaque1", u64, 8)])

    def unpack(self, raw: bytes) -> Any:
        return 0                     # kernel state, nothing for the Python side

    def pack(self, value: Any) -> bytes:
        return bytes(16)


Timer = TimerType()


class TupleType(StructType):
    """A tuple of types, ``(u32, bytes16)``: a struct of fields ``f0``, ``f1``... laid out
    as C lays out a struct, packed from and unpacked to a Python tuple (map keys and
    values indexed ``m[pid, comm()]``)."""

    def __init__(self, elems: list[Type]):
        fields: list[Field] = []
        offset, align = 0, 1
        for i, t in enumerate(elems):
            offset = (offset + t.align - 1) // t.align * t.align
            fields.append(Field(f"f{i}", t, offset))
            offset += t.size
            align = max(align, t.align)
        name = "(" + ", ".join(t.name for t in elems) + ")"
        super().__init__(name, (offset + align - 1) // align * align, align, fields)
        self.elems = elems

    def pack(self, value: Any) -> bytes:
        if isinstance(value, (bytes, bytearray)):
            return bytes(value).ljust(self.size, b"\0")
        if len(value) != len(self.elems):
            raise ValueError(f"{self.name} takes {len(self.elems)} values, not {len(value)}")
        out = bytearray(self.size)
        for f, v in zip(self.fields.values(), value):
            raw = pack_value(f.type, v)
            out[f.offset:f.offset + len(raw)] = raw
        return bytes(out)

    def unpack(self, raw: bytes) -> Any:
        return tuple(unpack_value(f.type, raw[f.offset:f.offset + f.type.size])
                     for f in self.fields.values())


def pack_value(t: Type, value: Any) -> bytes:
    """The bytes of ``value`` as type ``t`` (ints, bytes, struct instances, lists)."""
    if isinstance(t, IntType):
        return t.pack(value)
    if isinstance(t, PtrType):
        return u64.pack(value)
    return t.pack(value)  # type: ignore[attr-defined]


def unpack_value(t: Type, raw: bytes) -> Any:
    if isinstance(t, IntType):
        return t.unpack(raw)
    if isinstance(t, PtrType):
        return u64.unpack(raw)
    if hasattr(t, "unpack"):
        return t.unpack(raw)
    return bytes(raw)


class struct:
    """Base of structs declared in Python::

        class Event(struct):
            pid: u32
            comm: bytes16

    Fields are laid out as C does (natural alignment, tail padding). In compiled code
    ``Event()`` is a zeroed stack struct; in Python, ``Event(pid=1)`` makes a value and
    ``Event.unpack(raw)`` decodes a record (ring buffer event, map value).
    """

    __bpf_type__: StructType

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__bpf_type__ = _layout_class(cls)

    def __init__(self, **values: Any):
        for name in self.__bpf_type__.fields:
            setattr(self, name, values.pop(name, 0))
        if values:
            raise TypeError(f"{type(self).__name__} has no field {next(iter(values))!r}")

    @classmethod
    def size(cls) -> int:
        return cls.__bpf_type__.size

    @classmethod
    def unpack(cls, raw: bytes) -> Any:
        return cls.__bpf_type__.unpack(raw)

    def pack(self) -> bytes:
        return self.__bpf_type__.pack(self)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n, None)!r}" for n in self.__bpf_type__.fields)
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__


def _layout_class(cls: type) -> StructType:
    namespace = dict(vars(sys.modules[cls.__module__])) if cls.__module__ in sys.modules else {}
    namespace.update({k: v for k, v in globals().items() if k in __all__})
    namespace.setdefault("Annotated", Annotated)  # a module run by compile_source has no entry
    fields: list[Field] = []
    offset = 0
    align = 1
    for name, annotation in dict(vars(cls).get("__annotations__", {})).items():
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # noqa: S307 - the user's own module
            except Exception as err:
                raise TypeError(f"{cls.__name__}.{name}: cannot resolve type "
                                f"{annotation!r}: {err}") from None
        t = type_of(annotation)
        offset = (offset + t.align - 1) // t.align * t.align
        fields.append(Field(name, t, offset))
        offset += t.size
        align = max(align, t.align)
    size = (offset + align - 1) // align * align
    return StructType(cls.__name__, size, align, fields, pyclass=cls)


def type_of(obj: Any) -> Type:
    """The language type named by ``obj``: a Type, a ``struct`` subclass, a map-less Python
    ``int``/``bool`` (s64/bool), or ``Annotated[python_type, lang_type]`` (the spelling type
    checkers accept for arrays and strings). Raises TypeError otherwise."""
    if isinstance(obj, Type):
        return obj
    if get_origin(obj) is Annotated:
        return type_of(obj.__metadata__[0])
    if isinstance(obj, type) and issubclass(obj, struct) and obj is not struct:
        return obj.__bpf_type__
    if isinstance(obj, tuple) and obj:
        return TupleType([type_of(x) for x in obj])
    if obj is int:
        return s64
    if obj is bool:
        return bool_
    raise TypeError(f"{obj!r} is not a pybpf.lang type")


# -- C's conversions ------------------------------------------------------------------------

def promote(t: IntType) -> IntType:
    """C's integer promotion: anything narrower than int becomes int (s32)."""
    return s32 if t.size < 4 else t


def common_type(a: IntType, b: IntType) -> IntType:
    """C's usual arithmetic conversions for two integer operands."""
    a, b = promote(a), promote(b)
    if a.signed == b.signed:
        return a if a.size >= b.size else b
    unsigned, signed = (a, b) if not a.signed else (b, a)
    if unsigned.size >= signed.size:
        return unsigned
    return signed  # the signed type is wider and holds every value of the unsigned one


def literal_type(value: int) -> IntType:
    """The type C gives a decimal literal: int, long, unsigned long."""
    if s32.min <= value <= s32.max:
        return s32
    if s64.min <= value <= s64.max:
        return s64
    return u64


_UNSIGNED_BY_SIZE = {1: u8, 2: u16, 4: u32, 8: u64}
_SIGNED_BY_SIZE = {1: s8, 2: s16, 4: s32, 8: s64}


def int_type(size: int, signed: bool) -> IntType:
    return (_SIGNED_BY_SIZE if signed else _UNSIGNED_BY_SIZE)[size]


# -- kernel types from BTF ------------------------------------------------------------------

_btf_cache: dict[int, Type] = {}


def from_btf(t: Any, space: str = "kernel") -> Type:
    """A language type for BTF type ``t``; pointers inside are ``space`` pointers."""
    t = _btfq.skip_qualifiers(t)
    while isinstance(t, _btf.Typedef):
        t = _btfq.skip_qualifiers(t.type)
    if isinstance(t, _btf.Int):
        if t.encoding & _btf.IntEncoding.BOOL:
            return bool_
        if t.size in (1, 2, 4, 8):
            return int_type(t.size, t.signed) if not (t.encoding & _btf.IntEncoding.CHAR) \
                or t.size != 1 else char
        return ArrayType(u8, t.size)
    if isinstance(t, (_btf.Enum, _btf.Enum64)):
        return int_type(t.size if t.size in (1, 2, 4, 8) else 4, bool(getattr(t, "signed", False)))
    if isinstance(t, _btf.Ptr):
        target = t.target
        return PtrType(lambda: from_btf(target, space), space)
    if isinstance(t, _btf.Array):
        return ArrayType(from_btf(t.type, space), max(t.nelems, 1)) if t.nelems else \
            ArrayType(u8, 1)
    if isinstance(t, (_btf.Struct, _btf.Union)):
        key = id(t)
        cached = _btf_cache.get(key)
        if cached is None:
            cached = StructType(t.name or "(anon)", t.size, max(_btfq.alignof(t), 1),
                                btf_type=t)
            _btf_cache[key] = cached
        return cached
    if isinstance(t, _btf.Void):
        return void
    return ArrayType(u8, max(_btfq.sizeof(t), 1))


def _btf_fields(t: Any) -> dict[str, Field]:
    """Members of a BTF struct/union, anonymous members flattened as C lets you name them."""
    out: dict[str, Field] = {}
    for m in t.members:
        byte_off = m.bit_offset // 8
        member_type = _btfq.skip_qualifiers(m.type)
        if not m.name and isinstance(member_type, (_btf.Struct, _btf.Union)):
            for inner in _btf_fields(member_type).values():
                out.setdefault(inner.name, Field(inner.name, inner.type,
                                                 inner.offset + byte_off, inner.bit_offset,
                                                 inner.bit_size))
            continue
        if not m.name:
            continue
        if m.bitfield_size:
            out[m.name] = Field(m.name, from_btf(m.type), (m.bit_offset // 8), m.bit_offset % 8,
                                m.bitfield_size)
        else:
            out[m.name] = Field(m.name, from_btf(m.type), byte_off)
    return out


def to_btf(t: Type, cache: dict[int, Any] | None = None) -> Any:
    """A BTF type describing language type ``t`` (for map key/value and global data types)."""
    cache = {} if cache is None else cache
    got = cache.get(id(t))
    if got is not None:
        return got
    if isinstance(t, IntType):
        enc = _btf.IntEncoding.BOOL if t.is_bool else (
            _btf.IntEncoding.CHAR if t.is_char else (_btf.IntEncoding.SIGNED if t.signed else 0))
        c_names = {"u8": "unsigned char", "u16": "unsigned short", "u32": "unsigned int",
                   "u64": "unsigned long long", "s8": "signed char", "s16": "short",
                   "s32": "int", "s64": "long long", "bool": "_Bool", "char": "char"}
        out: Any = _btf.Int(c_names[t.name], t.size, int(enc))
    elif isinstance(t, ArrayType):
        out = _btf.Array(to_btf(t.elem, cache), _btf.Int("int", 4, _btf.SIGNED), t.count)
    elif isinstance(t, PtrType):
        out = _btf.Ptr(_btf.Void())
    elif isinstance(t, StructType) and t.btf_type is not None:
        out = _btf.Array(_btf.Int("unsigned char", 1, 0), _btf.Int("int", 4, _btf.SIGNED),
                         t.size)
    elif isinstance(t, StructType):
        # a tuple's struct is anonymous: "(u32, char[16])" is no C identifier
        out = _btf.Struct("" if isinstance(t, TupleType) else t.name, t.size, [])
        cache[id(t)] = out
        out.members = [_btf.Member(f.name, to_btf(f.type, cache), f.offset * 8)
                       for f in t.fields.values()]
        return out
    else:
        out = _btf.Void()
    cache[id(t)] = out
    return out


def describe_value(t: Type) -> str:
    return t.name
