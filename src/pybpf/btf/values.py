"""Values of BTF types: bytes to Python objects and back.

A map with BTF key/value types, a ring buffer record or a global variable is a C value laid
out as its BTF type says. :class:`BTFCodec` turns those bytes into Python objects and
Python objects into bytes, both directions from the same type::

    codec = BTFCodec(spec.find("exec_event", Struct))
    event = codec.decode(raw)          # exec_event(pid=42, ppid=1, comm='bash', ...)
    event.pid, event.comm               # attribute access
    codec.encode({"pid": 7, "comm": "sh"})   # missing members are zero

What each kind becomes (decode) and accepts (encode):

=================  =========================================  ===============================
BTF kind           decoded as                                 encoded from
=================  =========================================  ===============================
int                ``int`` (``bool`` for a BOOL encoding)     ``int``/``bool``, range-checked
int bitfield       ``int`` of its bits, sign-extended         ``int`` that fits the bits
enum, enum64       :class:`EnumInt` (an ``int`` with a        ``int``, :class:`EnumInt` or a
                   ``name`` when the value has one)           value name (``str``)
float              ``float``                                  ``float``/``int``
pointer            ``int`` (an address)                       ``int``
``char[N]``        ``str`` up to the first NUL                ``str`` or ``bytes``, <= N bytes
other 1-byte [N]   ``bytes`` (all N)                          ``bytes`` <= N (zero padded)
array              ``list``                                   sequence of <= N items
struct             :class:`StructValue` (attributes, repr)    StructValue, mapping, or object
union              :class:`UnionValue` (every member)         one member by name (mapping)
datasec            :class:`StructValue` of its variables      as struct
=================  =========================================  ===============================

Anonymous struct/union members are reached through their parent, as in C
(``value.inner_field``). Bytes of exactly the type's size are accepted by ``encode`` as they
are, so raw and typed callers mix. Strings use UTF-8 with ``surrogateescape``, so any bytes
before the NUL survive a decode/encode round trip.

:func:`to_python` is the JSON-friendly flavour the CLI prints (structs as dicts, enums as
names, byte arrays as int lists), like bpftool's ``formatted`` output.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ..errors import BTFError, InvalidInputError
from .queries import sizeof, skip_qualifiers
from .types import Array, Datasec, Enum, Float, Int, IntEncoding, Ptr, Struct, Type, Union, Var

__all__ = ["BTFCodec", "StructValue", "UnionValue", "EnumInt", "decode", "encode",
           "to_python", "hex_bytes", "type_name"]

_BYTE_ORDER = sys.byteorder
_Decoder = Callable[[bytes, int], Any]  # (buffer, byte offset) -> value
_Encoder = Callable[[bytearray, int, Any, str], None]  # (out, offset, value, path)


def hex_bytes(data: bytes) -> str:
    """``01 00 00 00``: bytes as bpftool prints a raw key or value."""
    return " ".join(f"{b:02x}" for b in data)


def type_name(t: Type) -> str:
    """A C-like name for messages: ``struct pair``, ``__u32``, ``char[16]``."""
    if isinstance(t, Struct):
        return f"struct {t.name or '<anon>'}"
    if isinstance(t, Union):
        return f"union {t.name or '<anon>'}"
    if isinstance(t, Enum):
        return f"enum {t.name or '<anon>'}"
    if isinstance(t, Array):
        return f"{type_name(t.type)}[{t.nelems}]"
    if isinstance(t, Ptr):
        return f"{type_name(t.target)} *"
    return t.name or type(t).__name__.lower()


# -- decoded values --------------------------------------------------------------------------

class EnumInt(int):
    """An enum value: an ``int`` that also knows its C name (``None`` when unnamed)."""

    # (an int subclass cannot have __slots__: the two names live in a small __dict__)
    name: str | None
    enum_name: str

    def __new__(cls, value: int, name: str | None, enum_name: str) -> EnumInt:
        self = super().__new__(cls, value)
        self.name = name
        self.enum_name = enum_name
        return self

    def __repr__(self) -> str:
        return f"<{self.enum_name}.{self.name}: {int(self)}>" if self.name else repr(int(self))

    def __str__(self) -> str:
        return self.name or str(int(self))

    __hash__ = int.__hash__


class StructValue:
    """A decoded struct: members as attributes (``v.pid``) or items (``v["from"]``).

    Members can be assigned (``v.count += 1``) and the value written back through the same
    codec; a name the struct does not have raises ``AttributeError``. Two values are equal
    when their type names and members are.
    """

    __slots__ = ("_type_name", "_fields", "_anonymous", "_layout")
    _type_name: str
    _fields: dict[str, Any]
    _anonymous: list[StructValue]
    _layout: list[str | int]

    def __init__(self, type_name: str, fields: dict[str, Any],
                 anonymous: list[StructValue] | None = None,
                 layout: Sequence[str | int] | None = None):
        object.__setattr__(self, "_type_name", type_name)
        object.__setattr__(self, "_fields", fields)
        # anonymous struct/union members, whose fields read as the parent's (C semantics)
        object.__setattr__(self, "_anonymous", anonymous or [])
        # declaration order: a member name, or the index of an anonymous member
        object.__setattr__(self, "_layout", layout if layout is not None else
                           [*fields, *range(len(self._anonymous))])

    def _owner(self, name: str) -> StructValue | None:
        if name in self._fields:
            return self
        for inner in self._anonymous:
            owner = inner._owner(name)
            if owner is not None:
                return owner
        return None

    def __getattr__(self, name: str) -> Any:
        owner = self._owner(name) if not name.startswith("__") else None
        if owner is None:
            raise AttributeError(f"{self._type_name} has no member {name!r} "
                                 f"(members: {', '.join(self.members())})")
        return owner._fields[name]

    def __setattr__(self, name: str, value: Any) -> None:
        owner = self._owner(name)
        if owner is None:
            raise AttributeError(f"{self._type_name} has no member {name!r} "
                                 f"(members: {', '.join(self.members())})")
        owner._set(name, value)

    def _set(self, name: str, value: Any) -> None:
        self._fields[name] = value

    def __getitem__(self, name: str) -> Any:
        try:
            return self.__getattr__(name)
        except AttributeError:
            raise KeyError(name) from None

    def __setitem__(self, name: str, value: Any) -> None:
        try:
            self.__setattr__(name, value)
        except AttributeError:
            raise KeyError(name) from None

    def members(self) -> list[str]:
        """Member names, anonymous members' fields in place, in declaration order."""
        names: list[str] = []
        for entry in self._layout:
            if isinstance(entry, int):
                names.extend(self._anonymous[entry].members())
            else:
                names.append(entry)
        return names

    def __iter__(self) -> Iterator[str]:
        return iter(self.members())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._owner(name) is not None

    def to_dict(self) -> dict[str, Any]:
        """Members as a dict (nested values converted too; anonymous members merged)."""
        return {name: _plain_value(self[name]) for name in self.members()}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StructValue):
            return self._type_name == other._type_name and self.to_dict() == other.to_dict()
        return NotImplemented

    def __hash__(self) -> int:
        # struct keys (flow tuples...) go into dicts: hash by content, like a tuple would;
        # mutating a value while it is a dict key is then the caller's mistake, as with lists
        return hash((self._type_name, _frozen(self.to_dict())))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={self[name]!r}" for name in self.members())
        # "struct pair" shows as pair(...), an anonymous one as struct(...)
        kind, _, name = self._type_name.partition(" ")
        return f"{kind if name in ('', '<anon>') else name}({inner})"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {n for n in self.members() if n.isidentifier()})


class UnionValue(StructValue):
    """A decoded union: every member decoded from the same bytes.

    Assigning a member makes it the one written back (over the bytes the union was decoded
    from); assigning several writes them in assignment order, the last winning where they
    overlap.
    """

    __slots__ = ("_raw", "_assigned")

    def __init__(self, type_name: str, fields: dict[str, Any], raw: bytes,
                 anonymous: list[StructValue] | None = None,
                 layout: Sequence[str | int] | None = None):
        super().__init__(type_name, fields, anonymous, layout)
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_assigned", [])

    def _set(self, name: str, value: Any) -> None:
        self._fields[name] = value
        if name in self._assigned:
            self._assigned.remove(name)
        self._assigned.append(name)


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _plain_value(value: Any) -> Any:
    if isinstance(value, StructValue):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    return value


# -- the codec ---------------------------------------------------------------------------------

class BTFCodec:
    """Encoder/decoder for values of one BTF type (see the module docstring).

    ``size`` is the type's size in bytes; with ``decode``/``encode`` this is the
    :class:`pybpf.kernel.maps.Codec` protocol, so a codec types a map or a ring buffer.
    Raises :class:`BTFError` for a type without a size (void, a function, a forward
    declaration).
    """

    def __init__(self, btf_type: Type):
        self.type = btf_type
        self.name = type_name(skip_qualifiers(btf_type))
        self.size = sizeof(btf_type)
        self._decode = _decoder(btf_type)
        self._encode = _encoder(btf_type)
        # the largest value of a whole unsigned integer type, else -1: a map view hands
        # such ints to the map as they are (it packs them in the same byte order)
        self.uint_max = -1
        plain = skip_qualifiers(btf_type)
        if isinstance(plain, Int) and plain.bits == plain.size * 8 and not plain.offset \
                and not plain.encoding & IntEncoding.BOOL:
            self._use_int_fast_path(plain.size, plain.signed)

    def _use_int_fast_path(self, size: int, signed: bool) -> None:
        """Map keys and counters are mostly whole integers: skip the general machinery
        (measured in bench/bench_kernel_maps.py), falling back to it for anything unusual
        so errors and conversions stay the same."""
        if not signed and size in (1, 2, 4, 8):
            self.uint_max = (1 << (8 * size)) - 1
        general_encode, general_decode = self.encode, self.decode
        from_bytes = int.from_bytes

        def encode_int(obj: Any) -> bytes:
            if obj.__class__ is int:
                try:
                    return obj.to_bytes(size, _BYTE_ORDER, signed=signed)
                except OverflowError:
                    pass
            return general_encode(obj)

        def decode_int(data: bytes | bytearray | memoryview) -> Any:
            if len(data) == size:
                return from_bytes(data, _BYTE_ORDER, signed=signed)
            return general_decode(data)
        self.encode = encode_int  # type: ignore[method-assign]
        self.decode = decode_int  # type: ignore[method-assign]

    def __repr__(self) -> str:
        return f"<BTFCodec {self.name} size={self.size}>"

    def decode(self, data: bytes | bytearray | memoryview) -> Any:
        """The value in ``data`` (exactly ``size`` bytes, or more: the rest is ignored).

        Raises :class:`InvalidInputError` when ``data`` is shorter than the type.
        """
        if len(data) < self.size:
            raise InvalidInputError(f"{len(data)} bytes, {self.name} needs {self.size}",
                                    source=self.name)
        return self._decode(bytes(data[:self.size]), 0)

    def encode(self, obj: Any) -> bytes:
        """``obj`` as ``size`` bytes; bytes of exactly that size pass unchanged.

        Raises :class:`InvalidInputError` naming the member path for a value of the wrong
        kind, out of range, too long, or a member the type lacks.
        """
        if isinstance(obj, (bytes, bytearray, memoryview)) and len(obj) == self.size:
            return bytes(obj)
        out = bytearray(self.size)
        self._encode(out, 0, obj, self.name)
        return bytes(out)

    def zero(self) -> Any:
        """The value of all-zero bytes: a template to fill in and :meth:`encode`."""
        return self._decode(bytes(self.size), 0)


def decode(btf_type: Type, data: bytes | bytearray | memoryview) -> Any:
    """``BTFCodec(btf_type).decode(data)`` (build the codec once when decoding many)."""
    return BTFCodec(btf_type).decode(data)


def encode(btf_type: Type, obj: Any) -> bytes:
    """``BTFCodec(btf_type).encode(obj)``."""
    return BTFCodec(btf_type).encode(obj)


def to_python(btf_type: Type, data: bytes) -> Any:
    """``data`` decoded as plain JSON-able data, as the CLI prints it.

    Structs and unions become dicts (anonymous members merged, unnamed bitfields as
    ``<anon@BYTE>``), enums their value's name, char arrays strings, other byte arrays
    lists of ints, floats floats, and a type without a size hex text. Never raises for short
    data: what is missing reads as zero.
    """
    try:
        codec = BTFCodec(btf_type)
    except BTFError:  # void, functions: no size, nothing to decode
        return hex_bytes(data)
    return _jsonable(codec._decode(bytes(data[:codec.size]).ljust(codec.size, b"\0"), 0))


def _jsonable(value: Any) -> Any:
    if isinstance(value, StructValue):
        return {name: _jsonable(value[name]) for name in value.members()}
    if isinstance(value, EnumInt):
        return value.name if value.name is not None else int(value)
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):  # undecodable bytes as U+FFFD, so any JSON encoder takes it
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


# -- decoders: built once per type, a closure tree ------------------------------------------

def _is_text(element: Type) -> bool:
    """``char`` elements make text; other one-byte integers make bytes."""
    return isinstance(element, Int) and element.size == 1 and \
        bool(element.encoding & IntEncoding.CHAR or element.name == "char")


def _sign_extend(value: int, bits: int) -> int:
    return value - (1 << bits) if value >> (bits - 1) else value


def _bit_shift(storage_bits: int, bit_offset: int, bits: int) -> int:
    """Where ``bits`` bits at C bit offset ``bit_offset`` sit in a storage integer:
    counted from the low end on little-endian machines, from the top on big-endian ones."""
    if _BYTE_ORDER == "big":
        return storage_bits - bit_offset - bits
    return bit_offset


# struct formats of the float sizes Python can hold (a long double is kept as bytes)
_FLOAT_FORMATS = {2: "=e", 4: "=f", 8: "=d"}


def _value_type(t: Type) -> Type:
    """``t`` without qualifiers, typedefs and the Var wrapping a global's type: the type
    whose kind decides how its bytes are read and written."""
    t = skip_qualifiers(t)
    while isinstance(t, Var):
        t = skip_qualifiers(t.type)
    return t


def _build_by_kind(t: Type, builders: tuple[tuple[Any, Callable[[Any], Any]], ...],
                   what: str) -> Any:
    """The first of ``builders`` (kind, build) whose kind ``t`` is, applied to ``t``;
    BTFError for a kind that holds no value (void, func...)."""
    t = _value_type(t)
    for kind, build in builders:
        if isinstance(t, kind):
            return build(t)
    raise BTFError(f"{type_name(t)} has no value to {what}")


def _decoder(t: Type) -> _Decoder:
    return _build_by_kind(t, _DECODER_BUILDERS, "decode")  # type: ignore[no-any-return]


def _float_decoder(t: Float) -> _Decoder:
    fmt = _FLOAT_FORMATS.get(t.size)
    if fmt is None:  # long double: no Python float holds it
        size = t.size
        return lambda data, off: bytes(data[off:off + size])
    unpack = struct.Struct(fmt).unpack_from
    return lambda data, off: unpack(data, off)[0]


def _ptr_decoder(t: Ptr) -> _Decoder:
    return lambda data, off: int.from_bytes(data[off:off + 8], _BYTE_ORDER)


def _int_decoder(t: Int) -> _Decoder:
    size, signed = t.size, t.signed
    is_bool = bool(t.encoding & IntEncoding.BOOL)
    if t.bits != size * 8 or t.offset:
        return _bits_decoder(size, t.offset, t.bits, signed, is_bool)
    if is_bool:
        return lambda data, off: data[off:off + size] != bytes(size)
    from_bytes = int.from_bytes
    return lambda data, off: from_bytes(data[off:off + size], _BYTE_ORDER, signed=signed)


def _bits_decoder(size: int, bit_offset: int, bits: int, signed: bool,
                  is_bool: bool = False) -> _Decoder:
    shift = _bit_shift(size * 8, bit_offset, bits)
    mask = (1 << bits) - 1

    def decode_bits(data: bytes, off: int) -> Any:
        value = (int.from_bytes(data[off:off + size], _BYTE_ORDER) >> shift) & mask
        if signed:
            value = _sign_extend(value, bits)
        return bool(value) if is_bool else value
    return decode_bits


def _enum_decoder(t: Enum) -> _Decoder:
    size, signed = t.size, bool(t.signed)
    enum_name = t.name or "<anon enum>"
    names: dict[int, str] = {}
    for v in t.values:
        names.setdefault(v.value, v.name)  # the first name wins, as C prints aliases

    def decode_enum(data: bytes, off: int) -> EnumInt:
        value = int.from_bytes(data[off:off + size], _BYTE_ORDER, signed=signed)
        if not signed and value not in names and value >> (size * 8 - 1):
            # BTF_KIND_ENUM before kind_flag marked signedness: negative values were stored
            # as their two's complement
            negative = value - (1 << size * 8)
            if negative in names:
                value = negative
        return EnumInt(value, names.get(value), enum_name)
    return decode_enum


def _array_decoder(t: Array) -> _Decoder:
    element = skip_qualifiers(t.type)
    n = t.nelems
    if _is_text(element):
        def decode_text(data: bytes, off: int) -> str:
            return data[off:off + n].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        return decode_text
    if isinstance(element, Int) and element.size == 1 and element.bits == 8:
        return lambda data, off: bytes(data[off:off + n])
    step = sizeof(element) if n else 0
    decode_one = _decoder(element) if n else None

    def decode_array(data: bytes, off: int) -> list[Any]:
        assert decode_one is not None or n == 0
        return [decode_one(data, off + i * step) for i in range(n)]  # type: ignore[misc]
    return decode_array


def _bitfield_storage(bit_offset: int, bits: int, declared: Type) -> tuple[int, int, int]:
    """(storage size, its byte offset, the field's bit offset in it) of a bitfield.

    The storage unit is the declared type's (``unsigned int x : 3`` lives in a 4-byte
    unit), aligned to its size; a packed struct can put a field across that unit's end,
    and then the smallest run of bytes holding it is used (little-endian layout).
    """
    size = getattr(declared, "size", 4) or 4
    start = bit_offset // 8 // size * size
    bit_in = bit_offset - start * 8
    if bit_in + bits <= size * 8:
        return size, start, bit_in
    start = bit_offset // 8
    bit_in = bit_offset % 8
    return (bit_in + bits + 7) // 8, start, bit_in


def _member_decoders(t: Struct | Union) -> tuple[list[tuple[str, _Decoder]],
                                                 list[_Decoder], list[str | int]]:
    named: list[tuple[str, _Decoder]] = []
    anonymous: list[_Decoder] = []
    layout: list[str | int] = []
    for member in t.members:
        byte_off = member.bit_offset // 8
        mtype = skip_qualifiers(member.type)
        if member.bitfield_size:
            size, byte_off, bit_in = _bitfield_storage(member.bit_offset,
                                                       member.bitfield_size, mtype)
            decode_one = _bits_decoder(size, bit_in, member.bitfield_size,
                                       bool(getattr(mtype, "signed", False)))
        else:
            decode_one = _decoder(mtype)
        if not member.name and isinstance(mtype, (Struct, Union)):
            layout.append(len(anonymous))
            anonymous.append(_at(decode_one, byte_off))
            continue
        name = member.name or f"<anon@{byte_off}>"
        layout.append(name)
        named.append((name, _at(decode_one, byte_off)))
    return named, anonymous, layout


def _at(decode_one: _Decoder, byte_off: int) -> _Decoder:
    return lambda data, off: decode_one(data, off + byte_off)


def _composite_decoder(t: Struct | Union) -> _Decoder:
    name = type_name(t)
    size = t.size
    parts: list[Any] = []  # filled on first use: a struct may point at itself

    def decode_composite(data: bytes, off: int) -> StructValue:
        if not parts:
            parts.extend(_member_decoders(t))
        named, anonymous, layout = parts
        fields = {member: decode_one(data, off) for member, decode_one in named}
        inner = [decode_one(data, off) for decode_one in anonymous]
        if isinstance(t, Union):
            return UnionValue(name, fields, bytes(data[off:off + size]), inner, layout)
        return StructValue(name, fields, inner, layout)
    return decode_composite


def _datasec_decoder(t: Datasec) -> _Decoder:
    variables = [(v.type.name, v.offset, _decoder(v.type)) for v in t.vars
                 if isinstance(v.type, Var)]

    def decode_section(data: bytes, off: int) -> StructValue:
        return StructValue(f"section {t.name}",
                           {name: dec(data, off + var_off) for name, var_off, dec in variables})
    return decode_section


# -- encoders -----------------------------------------------------------------------------------

def _bad(path: str, message: str) -> InvalidInputError:
    return InvalidInputError(message, source=path)


def _as_int(obj: Any, path: str) -> int:
    if isinstance(obj, int):  # bool too
        return int(obj)
    index = getattr(obj, "__index__", None)
    if index is None:
        raise _bad(path, f"needs an int, not {type(obj).__name__}")
    return int(index())


def _check_range(value: int, bits: int, signed: bool, path: str) -> int:
    low, high = (-(1 << bits - 1), (1 << bits - 1) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= value <= high:
        # an unsigned field also takes a negative value's two's complement, as C does when
        # it converts; anything outside both ranges is a mistake
        if not signed and -(1 << bits - 1) <= value < 0:
            return value & ((1 << bits) - 1)
        raise _bad(path, f"{value} does not fit in {bits} {'signed' if signed else 'unsigned'}"
                         " bits")
    return value


def _encoder(t: Type) -> _Encoder:
    return _build_by_kind(t, _ENCODER_BUILDERS, "encode")  # type: ignore[no-any-return]


def _float_encoder(t: Float) -> _Encoder:
    fmt = _FLOAT_FORMATS.get(t.size)
    size = t.size
    if fmt is None:
        return _bytes_encoder(size, text=False)
    pack_into = struct.Struct(fmt).pack_into

    def encode_float(out: bytearray, off: int, obj: Any, path: str) -> None:
        if not isinstance(obj, (int, float)) or isinstance(obj, bool):
            raise _bad(path, f"needs a float, not {type(obj).__name__}")
        try:
            pack_into(out, off, obj)
        except (OverflowError, struct.error) as err:
            raise _bad(path, f"{obj} does not fit a {size}-byte float: {err}") from None
    return encode_float


def _ptr_encoder(t: Ptr) -> _Encoder:
    def encode_ptr(out: bytearray, off: int, obj: Any, path: str) -> None:
        value = _check_range(_as_int(obj, path), 64, False, path)
        out[off:off + 8] = value.to_bytes(8, _BYTE_ORDER)
    return encode_ptr


def _int_encoder(t: Int) -> _Encoder:
    size, signed = t.size, t.signed
    if t.bits != size * 8 or t.offset:
        return _bits_encoder(size, t.offset, t.bits, signed)

    def encode_int(out: bytearray, off: int, obj: Any, path: str) -> None:
        value = _check_range(_as_int(obj, path), size * 8, signed, path)
        out[off:off + size] = value.to_bytes(size, _BYTE_ORDER, signed=value < 0)
    return encode_int


def _bits_encoder(size: int, bit_offset: int, bits: int, signed: bool) -> _Encoder:
    shift = _bit_shift(size * 8, bit_offset, bits)
    mask = ((1 << bits) - 1) << shift

    def encode_bits(out: bytearray, off: int, obj: Any, path: str) -> None:
        value = _check_range(_as_int(obj, path), bits, signed, path) & ((1 << bits) - 1)
        storage = int.from_bytes(out[off:off + size], _BYTE_ORDER)
        storage = (storage & ~mask) | (value << shift)
        out[off:off + size] = storage.to_bytes(size, _BYTE_ORDER)
    return encode_bits


def _enum_encoder(t: Enum) -> _Encoder:
    size = t.size
    by_name = {v.name: v.value for v in t.values}

    def encode_enum(out: bytearray, off: int, obj: Any, path: str) -> None:
        if isinstance(obj, str):
            if obj not in by_name:
                raise _bad(path, f"{obj!r} is not a value of {type_name(t)} "
                                 f"({', '.join(by_name) or 'it has none'})")
            value = by_name[obj]
        else:
            value = _as_int(obj, path)
        signed = value < 0
        value = _check_range(value, size * 8, signed, path)
        out[off:off + size] = value.to_bytes(size, _BYTE_ORDER, signed=signed)
    return encode_enum


def _bytes_encoder(n: int, *, text: bool) -> _Encoder:
    def encode_bytes(out: bytearray, off: int, obj: Any, path: str) -> None:
        if isinstance(obj, str):
            if not text:
                raise _bad(path, "needs bytes, not str (only char arrays hold text)")
            data = obj.encode("utf-8", "surrogateescape")
        elif isinstance(obj, (bytes, bytearray, memoryview)):
            data = bytes(obj)
        elif isinstance(obj, Sequence):
            try:
                data = bytes(obj)
            except (TypeError, ValueError) as err:
                raise _bad(path, f"needs byte values 0..255: {err}") from None
        else:
            raise _bad(path, f"needs {'str or ' if text else ''}bytes, not "
                             f"{type(obj).__name__}")
        if len(data) > n:
            raise _bad(path, f"{len(data)} bytes do not fit in {n}")
        out[off:off + len(data)] = data
    return encode_bytes


def _array_encoder(t: Array) -> _Encoder:
    element = skip_qualifiers(t.type)
    n = t.nelems
    if _is_text(element):
        return _bytes_encoder(n, text=True)
    if isinstance(element, Int) and element.size == 1 and element.bits == 8:
        return _bytes_encoder(n, text=False)
    step = sizeof(element) if n else 0
    encode_one = _encoder(element) if n else None

    def encode_array(out: bytearray, off: int, obj: Any, path: str) -> None:
        if isinstance(obj, (str, bytes, Mapping)) or not isinstance(obj, Sequence):
            raise _bad(path, f"needs a list of at most {n} items, not {type(obj).__name__}")
        if len(obj) > n:
            raise _bad(path, f"{len(obj)} items do not fit in {n}")
        for i, item in enumerate(obj):
            assert encode_one is not None
            encode_one(out, off + i * step, item, f"{path}[{i}]")
    return encode_array


class _MemberEncoder:
    __slots__ = ("name", "byte_off", "encode", "anonymous_names")

    def __init__(self, name: str, byte_off: int, encode_one: _Encoder,
                 anonymous_names: frozenset[str] | None):
        self.name = name
        self.byte_off = byte_off
        self.encode = encode_one
        self.anonymous_names = anonymous_names  # set for an anonymous struct/union member


def _member_names(t: Struct | Union) -> frozenset[str]:
    names: set[str] = set()
    for member in t.members:
        mtype = skip_qualifiers(member.type)
        if member.name:
            names.add(member.name)
        elif isinstance(mtype, (Struct, Union)):
            names |= _member_names(mtype)
    return frozenset(names)


def _member_encoders(t: Struct | Union) -> list[_MemberEncoder]:
    encoders = []
    for member in t.members:
        byte_off = member.bit_offset // 8
        mtype = skip_qualifiers(member.type)
        if member.bitfield_size:
            size, byte_off, bit_in = _bitfield_storage(member.bit_offset,
                                                       member.bitfield_size, mtype)
            encode_one = _bits_encoder(size, bit_in, member.bitfield_size,
                                       bool(getattr(mtype, "signed", False)))
        else:
            encode_one = _encoder(mtype)
        if not member.name and isinstance(mtype, (Struct, Union)):
            encoders.append(_MemberEncoder("", byte_off, encode_one, _member_names(mtype)))
        elif member.name:
            encoders.append(_MemberEncoder(member.name, byte_off, encode_one, None))
        # an unnamed bitfield is padding: nothing to write
    return encoders


def _fields_of(obj: Any, name: str, path: str) -> dict[str, Any]:
    """The members ``obj`` gives, by name (a struct value's anonymous members excluded)."""
    if isinstance(obj, StructValue):
        return dict(obj._fields)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, (str, bytes, bytearray, int, float, list, tuple)) or obj is None \
            or not hasattr(obj, "__dict__"):
        raise _bad(path, f"{name} needs a mapping or an object with its members, not "
                         f"{type(obj).__name__}")
    # any object with the members as attributes (a dataclass, a namespace)
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


def _is_padding(key: str) -> bool:
    return key.startswith("<anon@")  # an unnamed bitfield, as decoding names it


def _composite_encoder(t: Struct | Union) -> _Encoder:
    name = type_name(t)
    is_union = isinstance(t, Union)
    parts: list[Any] = []  # built on first use: a struct may point at itself

    def encode_composite(out: bytearray, off: int, obj: Any, path: str) -> None:
        if not parts:
            parts.append(_member_encoders(t))
            parts.append(_member_names(t))
        members, allowed = parts
        fields = _fields_of(obj, name, path)
        unknown = [k for k in fields if k not in allowed and not _is_padding(k)]
        if unknown:
            raise _bad(path, f"{name} has no member {', '.join(map(repr, unknown))} "
                             f"(members: {', '.join(sorted(allowed))})")
        # a decoded value carries its anonymous members as values of their own; a mapping
        # gives their fields flat, as C code names them
        nested = list(obj._anonymous) if isinstance(obj, StructValue) else None
        if is_union:
            _encode_union(out, off, obj, fields, nested, members, path)
            return
        for m in members:
            if m.anonymous_names is None:
                if m.name in fields:
                    m.encode(out, off + m.byte_off, fields[m.name], f"{path}.{m.name}")
                continue
            if nested is not None:
                if nested:
                    m.encode(out, off + m.byte_off, nested.pop(0), path)
                continue
            given = {k: v for k, v in fields.items() if k in m.anonymous_names}
            if given:
                m.encode(out, off + m.byte_off, given, path)
    return encode_composite


def _encode_union(out: bytearray, off: int, obj: Any, fields: dict[str, Any],
                  nested: list[StructValue] | None, members: list[_MemberEncoder],
                  path: str) -> None:
    """A union holds one member at a time: write the one(s) given or assigned, in order."""
    if isinstance(obj, UnionValue):
        out[off:off + len(obj._raw)] = obj._raw  # the bytes it was decoded from
        order: list[Any] = list(obj._assigned)
        # an anonymous member changed inside: write that member's value whole
        for m, inner in zip([m for m in members if m.anonymous_names is not None],
                            nested or []):
            if _changed(inner):
                m.encode(out, off + m.byte_off, inner, path)
    else:
        order = list(fields)  # a mapping: in its order, the last winning on overlap
    for key in order:
        for m in members:
            if m.name == key:
                m.encode(out, off + m.byte_off, fields[key], f"{path}.{key}")
            elif m.anonymous_names is not None and key in m.anonymous_names:
                m.encode(out, off + m.byte_off, {key: fields[key]}, path)


def _changed(value: StructValue) -> bool:
    """Whether a decoded value had a member assigned since (only unions keep track)."""
    if isinstance(value, UnionValue) and value._assigned:
        return True
    return any(_changed(inner) for inner in value._anonymous)


def _datasec_encoder(t: Datasec) -> _Encoder:
    variables = {v.type.name: (v.offset, _encoder(v.type)) for v in t.vars
                 if isinstance(v.type, Var)}

    def encode_section(out: bytearray, off: int, obj: Any, path: str) -> None:
        fields = _fields_of(obj, f"section {t.name}", path)
        for key, value in fields.items():
            if key not in variables:
                raise _bad(path, f"section {t.name} has no variable {key!r}")
            var_off, encode_one = variables[key]
            encode_one(out, off + var_off, value, f"{path}.{key}")
    return encode_section


# which builder makes the decoder/encoder of each kind of type (after _value_type)
_DECODER_BUILDERS = ((Int, _int_decoder), (Enum, _enum_decoder), (Float, _float_decoder),
                     (Ptr, _ptr_decoder), (Array, _array_decoder),
                     ((Struct, Union), _composite_decoder), (Datasec, _datasec_decoder))
_ENCODER_BUILDERS = ((Int, _int_encoder), (Enum, _enum_encoder), (Float, _float_encoder),
                     (Ptr, _ptr_encoder), (Array, _array_encoder),
                     ((Struct, Union), _composite_encoder), (Datasec, _datasec_encoder))
