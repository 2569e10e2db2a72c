"""A parsed BTF blob: indexed in one fast pass, types decoded only when asked.

Why this shape: the running kernel's BTF holds 100k+ types and most users need a handful of
them (one struct for CO-RE, a few for printing). So :meth:`Spec.from_bytes` only views the
type section as u32 words (no copy where the byte order is the host's) and walks it once,
recording the word offset of every record (no Python object per type). A type is decoded
into a :mod:`.types` object the first time it is asked for, and its references stay type
ids until read (lazy properties). Name lookups search the string table with ``bytes.find``
and the packed name-offset array with ``bytes.find`` again, and switch to a dict index once
a spec is asked many times.

For the kernel's BTF, :func:`load_kernel_spec` goes further: a
:class:`~.record_index.RecordIndex` (record offsets, names and strings sorted for binary
search) replaces the walk and every scan, and is kept on disk (:mod:`.index_cache`), so a
later process reads it back instead of building it again.

Type ids: 0 is :class:`Void`; records are numbered from 1 in file order. A split BTF (a
kernel module's, over vmlinux) continues the ids and string offsets of its base.
"""

from __future__ import annotations

import mmap
import struct
import sys
from array import array
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import BTFError
from . import index_cache, layout
from .types import (
    Array,
    Const,
    Datasec,
    DeclTag,
    Enum,
    Enum64,
    EnumValue,
    Float,
    Func,
    FuncLinkage,
    FuncProto,
    Fwd,
    Int,
    Kind,
    Member,
    Param,
    Ptr,
    Restrict,
    Struct,
    Type,
    Typedef,
    TypeTag,
    Union,
    Var,
    VarLinkage,
    VarSecinfo,
    Void,
    Volatile,
)

if TYPE_CHECKING:
    from .record_index import RecordIndex

T = TypeVar("T", bound=Type)

_HOST_LITTLE = sys.byteorder == "little"
_NAME_LOOKUPS_BEFORE_INDEX = 16  # below this, a bytes.find per lookup beats building a dict
_STEM_MEMO_SIZE = 256  # names remembered by _strings_starting before it starts over
_BAD_KIND_STEP = 1 << 40  # makes the scan overshoot at an unknown kind; diagnosed afterwards


class Spec:
    """A parsed BTF blob (see the module docstring). Build with :meth:`from_bytes`."""

    def __init__(self, *, name: str, words: Sequence[int], offsets: Sequence[int],
                 data: bytes | mmap.mmap, str_start: int, str_len: int, base: Spec | None,
                 little_endian: bool):
        self.name = name
        self.base = base
        self.little_endian = little_endian
        self._words = words
        self._offsets = offsets
        # the string section stays inside the blob (no copy of a kernel's 2 MB of names):
        # data[_str_lo:_str_hi]
        self._data = data
        self._str_lo, self._str_hi = str_start, str_start + str_len
        # split BTF continues the base's ids and string offsets
        self._first_id = len(base) if base is not None else 1
        self._str_base = base._str_end if base is not None else 0
        self._str_end: int = self._str_base + str_len
        self._cache: list[Type | None] = [None] * len(offsets)
        self._ids: dict[int, int] = {}  # id(type object) -> type id, for objects we decoded
        self._name_offs: bytes | None = None
        self._name_index: dict[int, list[int]] | None = None
        self._name_lookups = 0
        self._stem_memo: dict[bytes, list[tuple[int, bytes]]] = {}
        self._record_index: RecordIndex | None = None

    # ---- construction ------------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview | mmap.mmap, *,
                   base: Spec | None = None, name: str = "<btf>",
                   index: RecordIndex | None = None) -> Spec:
        """Parse a ``.BTF`` blob (or a split BTF over ``base``).

        Raises :class:`BTFError` naming ``name`` and the byte offset of a bad header, a
        truncated section or an unknown kind. Records are checked for shape here; their
        contents (names, referenced ids) when decoded. ``index``: this very blob's
        :meth:`record_index` from an earlier parse, to skip the walk.
        """
        if not isinstance(data, (bytes, mmap.mmap)):
            data = bytes(data)
        if len(data) < layout.HEADER_SIZE:
            raise BTFError(f"BTF header truncated: {len(data)} bytes, need "
                           f"{layout.HEADER_SIZE}", source=name, offset=0)
        magic = struct.unpack_from("<H", data)[0]
        if magic == layout.MAGIC:
            little = True
        elif magic == 0x9FEB:
            little = False
        else:
            raise BTFError(f"bad BTF magic {magic:#06x} (want 0xeb9f)", source=name, offset=0)
        order = "<" if little else ">"
        (_, version, _flags, hdr_len, type_off, type_len, str_off,
         str_len) = struct.unpack_from(order + "HBBIIIII", data)
        if version != layout.VERSION:
            raise BTFError(f"unsupported BTF version {version}", source=name, offset=2)
        if hdr_len < layout.HEADER_SIZE or hdr_len > len(data):
            raise BTFError(f"bad BTF header length {hdr_len}", source=name, offset=4)
        type_start, str_start = hdr_len + type_off, hdr_len + str_off
        if type_start + type_len > len(data):
            raise BTFError(f"type section ({type_len} bytes at {type_start}) runs past the "
                           f"end of the data ({len(data)} bytes)", source=name, offset=8)
        if str_start + str_len > len(data):
            raise BTFError(f"string section ({str_len} bytes at {str_start}) runs past the "
                           f"end of the data ({len(data)} bytes)", source=name, offset=16)
        if type_len % 4:
            raise BTFError(f"type section length {type_len} is not a multiple of 4",
                           source=name, offset=12)
        if type_start < str_start + str_len and str_start < type_start + type_len:
            raise BTFError("type and string sections overlap", source=name, offset=8)
        if base is None and data[str_start:str_start + 1] != b"\0":
            raise BTFError("string section must start with an empty string", source=name,
                           offset=str_start)
        if str_len and data[str_start + str_len - 1] != 0:
            raise BTFError("string section does not end with a NUL", source=name,
                           offset=str_start + str_len - 1)
        words = _words_of(data, type_start, type_len, little)
        if index is None:
            offsets: Sequence[int] = _scan(words, name, type_start)
        elif index.fits(words):
            offsets = index.offsets
        else:
            raise BTFError("the given record index does not fit this type section",
                           source=name, offset=type_start)
        spec = cls(name=name, words=words, offsets=offsets, data=data, str_start=str_start,
                   str_len=str_len, base=base, little_endian=little)
        spec._record_index = index
        return spec

    def record_index(self) -> RecordIndex:
        """The lookup index of this blob (built on first call), to pass back to
        :meth:`from_bytes` for the same bytes. Split BTF has none of its own."""
        if self.base is not None:
            raise BTFError("a split BTF has no record index of its own", source=self.name)
        if self._record_index is None:
            from .record_index import RecordIndex  # noqa: PLC0415 - see index_cache

            self._record_index = RecordIndex.build(
                self._offsets, self._words, self._data[self._str_lo:self._str_hi])
        return self._record_index

    # ---- ids and types -----------------------------------------------------------------

    def __len__(self) -> int:
        """Number of type ids, Void (id 0) and a split BTF's base types included."""
        return self._first_id + len(self._offsets)

    def __iter__(self) -> Iterator[Type]:
        """Every type in id order, starting with Void (id 0)."""
        for type_id in range(len(self)):
            yield self.type_by_id(type_id)

    def __repr__(self) -> str:
        return f"<btf.Spec {self.name} {len(self)} types>"

    def type_by_id(self, type_id: int) -> Type:
        """The type with id ``type_id``; raises :class:`BTFError` when out of range."""
        index = type_id - self._first_id
        if index >= 0:
            try:
                t = self._cache[index]
            except IndexError:
                raise BTFError(f"type id {type_id} out of range (max {len(self) - 1})",
                               source=self.name) from None
            if t is None:
                t = self._decode(index)
                self._cache[index] = t
                self._ids[id(t)] = type_id
            return t
        if type_id == 0:
            return Void()
        if self.base is not None and type_id > 0:
            return self.base.type_by_id(type_id)
        raise BTFError(f"type id {type_id} out of range", source=self.name)

    def type_id(self, t: Type) -> int:
        """The id of ``t``, a type obtained from this spec (or its base); else KeyError."""
        if isinstance(t, Void):
            return 0
        found = self._ids.get(id(t))
        if found is not None and self._cache[found - self._first_id] is t:
            return found
        if self.base is not None:
            return self.base.type_id(t)
        raise KeyError(f"{t!r} is not a type of {self.name}")

    def kind_of_id(self, type_id: int) -> Kind:
        """The kind of a type id without decoding the type (cheap)."""
        index = type_id - self._first_id
        if index < 0:
            if type_id == 0:
                return Kind.UNKNOWN
            if self.base is None:
                raise BTFError(f"type id {type_id} out of range", source=self.name)
            return self.base.kind_of_id(type_id)
        try:
            return Kind(self._words[self._offsets[index] + 1] >> 24 & 0x1F)
        except IndexError:
            raise BTFError(f"type id {type_id} out of range", source=self.name) from None

    # ---- names -------------------------------------------------------------------------

    def string_at(self, offset: int) -> str:
        """The NUL-terminated string at ``offset`` of the string section (split: of base)."""
        local = offset - self._str_base
        if local < 0:
            if self.base is None:
                raise BTFError(f"string offset {offset} is negative", source=self.name)
            return self.base.string_at(offset)
        data, at = self._data, self._str_lo + local
        if at >= self._str_hi:
            if local == 0:
                return ""
            raise BTFError(f"string offset {offset} is past the string section "
                           f"({self._str_end} bytes)", source=self.name)
        end = data.find(b"\0", at, self._str_hi)
        try:
            return data[at:end].decode()
        except UnicodeDecodeError:
            raise BTFError(f"string at offset {offset} is not UTF-8",
                           source=self.name) from None

    def types_by_name(self, name: str) -> list[Type]:
        """Every type named ``name`` (base types first, then in id order)."""
        found = self.base.types_by_name(name) if self.base is not None else []
        found.extend(self.type_by_id(i) for i in self._ids_named(name))
        return found

    def find(self, name: str, kind: type[T] | None = None) -> T:
        """The first type named ``name`` (of class ``kind``, e.g. ``Struct``, if given).

        Raises ``KeyError`` when there is none.
        """
        for t in self.types_by_name(name):
            if kind is None or isinstance(t, kind):
                return t  # type: ignore[return-value]
        what = f"{kind.__name__} " if kind is not None else ""
        raise KeyError(f"no {what}type named {name!r} in {self.name}")

    def _ids_named(self, name: str) -> list[int]:
        if not name:
            return []
        try:
            needle = name.encode()
        except UnicodeEncodeError:
            return []
        string_offs = self._string_offsets_of(needle)
        ids: list[int] = []
        if self._record_index is not None:
            first = self._first_id
            for soff in string_offs:
                ids.extend(i + first for i in self._record_index.records_named(soff))
            return sorted(ids)
        # (counted without a record index only: with one, a name dict built after 16
        # lookups went unused, and building it for the kernel's BTF cost ~30 ms)
        self._name_lookups += 1
        if self._name_index is None and self._name_lookups > _NAME_LOOKUPS_BEFORE_INDEX:
            self._build_name_index()
        if self._name_index is not None:
            for soff in string_offs:
                ids.extend(self._name_index.get(soff, ()))
            ids.sort()
            return ids
        packed = self._packed_name_offs()
        fmt = struct.Struct("=I")
        for soff in string_offs:
            key = fmt.pack(soff)
            pos = packed.find(key)
            while pos >= 0:
                if pos % 4 == 0:
                    ids.append(pos // 4 + self._first_id)
                    pos = packed.find(key, pos + 4)
                else:
                    pos = packed.find(key, pos + 1)
        ids.sort()
        return ids

    def flavors_of(self, name: str) -> list[str]:
        """``name`` itself (when some string is) and every flavored name ``name___*``
        (CO-RE's convention) in the string table, a split BTF's and its base's."""
        try:
            stem = name.encode()
        except UnicodeEncodeError:
            return []
        flavor = stem + b"___"
        index = self._record_index
        if index is None:
            # one pass over the strings finds both, and is remembered for the lookups of
            # those names that follow
            texts = {text for _, text in self._strings_starting(stem)
                     if text == stem or text.startswith(flavor)}
        else:
            texts = {stem} if self._string_offsets_of(stem) else set()
            data, lo = self._data, self._str_lo
            for off in index.flavored:
                at = lo + off
                if data[at:at + len(flavor)] == flavor:
                    texts.add(data[at:data.find(b"\0", at)])
        if self.base is not None:
            texts.update(t.encode() for t in self.base.flavors_of(name))
        return sorted(t.decode(errors="replace") for t in texts)

    def _strings_starting(self, stem: bytes) -> list[tuple[int, bytes]]:
        """(absolute offset, string) of every string starting with ``stem``, memoised: CO-RE
        asks for a name and its flavors (``name___x``) together."""
        found = self._stem_memo.get(stem)
        if found is not None:
            return found
        data, lo, hi = self._data, self._str_lo, self._str_hi
        shift = self._str_base - lo  # blob index -> string offset
        found = []
        if data[lo:lo + len(stem)] == stem and lo + len(stem) <= hi and \
                data[lo:lo + 1] != b"\0":
            # a split BTF's strings need no leading NUL
            found.append((self._str_base, data[lo:data.find(b"\0", lo, hi)]))
        key = b"\0" + stem
        pos = data.find(key, lo, hi)
        while pos >= 0:
            end = data.find(b"\0", pos + 1, hi)
            found.append((pos + 1 + shift, data[pos + 1:end]))
            pos = data.find(key, end, hi)
        if self.base is not None:
            # a split BTF's types may name strings of its base
            found.extend(self.base._strings_starting(stem))
        if len(self._stem_memo) >= _STEM_MEMO_SIZE:
            self._stem_memo.clear()
        self._stem_memo[stem] = found
        return found

    def _string_offsets_of(self, needle: bytes) -> list[int]:
        """Offsets (absolute, split-aware) of every string equal to needle."""
        if self._record_index is not None:  # never split: see record_index()
            return self._record_index.string_offsets(needle, self._data, self._str_lo)
        return [offset for offset, text in self._strings_starting(needle) if text == needle]

    def _packed_name_offs(self) -> bytes:
        if self._name_offs is None:
            words = self._words
            self._name_offs = array("I", map(words.__getitem__, self._offsets)).tobytes()
        return self._name_offs

    def _build_name_index(self) -> None:
        index: dict[int, list[int]] = {}
        words, first = self._words, self._first_id
        for i, off in enumerate(self._offsets):
            index.setdefault(words[off], []).append(i + first)
        self._name_index = index

    # ---- decoding ----------------------------------------------------------------------

    def _decode(self, index: int) -> Type:
        word_off = self._offsets[index]
        try:
            t = self._decode_record(word_off)
        except BTFError:
            raise
        except (IndexError, ValueError, OverflowError, struct.error) as err:
            raise BTFError(f"type id {index + self._first_id}: malformed record: {err}",
                           source=self.name, offset=word_off * 4) from None
        t._spec = self
        return t

    def _decode_record(self, o: int) -> Type:
        w = self._words
        # Where a type expects a Type, it is given the referenced type id: the type resolves
        # it through our _spec when first read (types._lazy). ``ref`` and ``refs`` are those
        # ids, typed as what the constructors take.
        refs: Any = w
        name_off, info, size_or_type = w[o], w[o + 1], w[o + 2]
        ref: Any = size_or_type
        kind = info >> 24 & 0x1F
        vlen = info & 0xFFFF
        kind_flag = info >> 31
        name = self.string_at(name_off) if name_off else ""
        t: Type
        if kind == Kind.INT:
            word = w[o + 3]
            t = Int(name, size_or_type, word >> 24 & 0xF, word & 0xFF, word >> 16 & 0xFF)
        elif kind == Kind.PTR:
            t = Ptr(ref)
        elif kind in (Kind.STRUCT, Kind.UNION):
            members = []
            p = o + 3
            for _ in range(vlen):
                m_name_off, m_type, m_off = w[p], refs[p + 1], w[p + 2]
                if kind_flag:
                    m = Member(self.string_at(m_name_off) if m_name_off else "", m_type,
                               m_off & 0xFFFFFF, m_off >> 24)
                else:
                    m = Member(self.string_at(m_name_off) if m_name_off else "", m_type, m_off, 0)
                m._spec = self
                members.append(m)
                p += 3
            t = (Struct if kind == Kind.STRUCT else Union)(name, size_or_type, members)
        elif kind == Kind.ARRAY:
            t = Array(refs[o + 3], refs[o + 4], w[o + 5])
        elif kind == Kind.TYPEDEF:
            t = Typedef(name, ref)
        elif kind == Kind.FUNC_PROTO:
            params = []
            p = o + 3
            for _ in range(vlen):
                prm = Param(self.string_at(w[p]) if w[p] else "", refs[p + 1])
                prm._spec = self
                params.append(prm)
                p += 2
            t = FuncProto(ref, params)
        elif kind == Kind.FUNC:
            t = Func(name, ref, FuncLinkage(vlen))
        elif kind in (Kind.CONST, Kind.VOLATILE, Kind.RESTRICT):
            t = _QUALIFIERS[kind](ref)
        elif kind in (Kind.ENUM, Kind.ENUM64):
            values = []
            p = o + 3
            if kind == Kind.ENUM:
                for _ in range(vlen):
                    v = w[p + 1]
                    if kind_flag and v & 0x8000_0000:
                        v -= 1 << 32
                    values.append(EnumValue(self.string_at(w[p]), v))
                    p += 2
                t = Enum(name, size_or_type, values, bool(kind_flag))
            else:
                for _ in range(vlen):
                    v = w[p + 1] | w[p + 2] << 32
                    if kind_flag and v & (1 << 63):
                        v -= 1 << 64
                    values.append(EnumValue(self.string_at(w[p]), v))
                    p += 3
                t = Enum64(name, size_or_type, values, bool(kind_flag))
        elif kind == Kind.FWD:
            t = Fwd(name, "union" if kind_flag else "struct")
        elif kind == Kind.VAR:
            t = Var(name, ref, VarLinkage(w[o + 3]))
        elif kind == Kind.DATASEC:
            secinfos = []
            p = o + 3
            for _ in range(vlen):
                vs = VarSecinfo(refs[p], w[p + 1], w[p + 2])
                vs._spec = self
                secinfos.append(vs)
                p += 3
            t = Datasec(name, size_or_type, secinfos)
        elif kind == Kind.FLOAT:
            t = Float(name, size_or_type)
        elif kind == Kind.DECL_TAG:
            idx = w[o + 3]
            t = DeclTag(name, ref, idx - (1 << 32) if idx & 0x8000_0000 else idx)
        elif kind == Kind.TYPE_TAG:
            t = TypeTag(name, ref)
        else:  # the scan rejects unknown kinds; kept so a logic slip is still a BTFError
            raise BTFError(f"unknown BTF kind {kind}", source=self.name, offset=o * 4)
        return t

    # ---- encoding ----------------------------------------------------------------------

    def encode(self) -> bytes:
        """This spec's own types (not a base's) encoded again as a BTF blob.

        Type ids are preserved; the string section is rebuilt (deduplicated). Raises
        :class:`BTFError` if a type cannot be decoded or encoded.
        """
        from .builder import Builder

        builder = Builder(base=self.base)
        for type_id in range(self._first_id, len(self)):
            builder.add(self.type_by_id(type_id))
        return builder.encode()


def _words_of(data: bytes | mmap.mmap, start: int, length: int, little: bool) -> Sequence[int]:
    """The type section as native u32 words: a view of ``data`` when its byte order is the
    host's (no copy of a kernel's 5 MB), else a byte-swapped copy."""
    if little == _HOST_LITTLE:
        return memoryview(data)[start:start + length].cast("I")
    words = array("I")
    words.frombytes(data[start:start + length])
    words.byteswap()
    return words


_QUALIFIERS: dict[int, type[Const | Volatile | Restrict]] = {
    Kind.CONST: Const, Kind.VOLATILE: Volatile, Kind.RESTRICT: Restrict}


def _scan(words: Sequence[int], name: str, section_offset: int) -> array[int]:
    """Word offsets of every record of the type section, in one pass.

    This loop is the hot path of loading vmlinux (100k+ records): it allocates nothing per
    record but an array slot, and finds unknown kinds only afterwards (they make it jump out
    of range via ``_BAD_KIND_STEP``).
    """
    fixed = list(layout.FIXED_WORDS)
    entry = list(layout.ENTRY_WORDS)
    for bad_kind in range(layout.MAX_KIND + 1, 32):
        fixed[bad_kind] = _BAD_KIND_STEP
    offsets = array("I")
    append = offsets.append
    end = len(words)
    i = 0
    try:
        while i < end:
            append(i)
            info = words[i + 1]
            kind = info >> 24 & 0x1F
            i += 3 + fixed[kind] + (info & 0xFFFF) * entry[kind]
    except IndexError:
        pass  # a record header cut short: reported below with the offending record
    if i != end:
        last = offsets[-1]
        where = section_offset + last * 4
        if last + 1 < end:
            kind = words[last + 1] >> 24 & 0x1F
            if kind > layout.MAX_KIND:
                raise BTFError(f"type id {len(offsets)}: unknown BTF kind {kind}",
                               source=name, offset=where)
        raise BTFError(f"type id {len(offsets)}: record truncated at the end of the type "
                       f"section", source=name, offset=where)
    return offsets


def load_kernel_spec(path: str = "/sys/kernel/btf/vmlinux", *,
                     use_cache: bool = True) -> Spec:
    """The running kernel's BTF (or any raw BTF file at ``path``).

    Raises :class:`BTFError` when the file is unreadable or not BTF. Each call reads and
    parses again (keep the returned spec if you need it twice); only the record index of
    the same bytes comes from :mod:`.index_cache` when an earlier process stored it
    (``use_cache=False`` walks the records regardless).
    """
    if use_cache:
        mapped = index_cache.open_kernel_copy(path)
        if mapped is not None:
            try:
                return Spec.from_bytes(mapped[0], name=path, index=mapped[1])
            except BTFError:
                pass  # a damaged copy: read the kernel's file and store it again
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise BTFError(f"cannot read BTF: {err.strerror}", source=path) from None
    if not use_cache:
        return Spec.from_bytes(data, name=path)
    index_cache.store_kernel_copy(path, data)
    index = index_cache.read_index(data, path)
    if index is not None:
        try:
            return Spec.from_bytes(data, name=path, index=index)
        except BTFError:
            pass  # a damaged cache file: build it again
    spec = Spec.from_bytes(data, name=path)
    index_cache.write_index(data, path, spec.record_index())
    return spec


def load_split_spec(path: str, base: Spec) -> Spec:
    """A kernel module's split BTF (e.g. ``/sys/kernel/btf/<module>``) over ``base``."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise BTFError(f"cannot read BTF: {err.strerror}", source=path) from None
    return Spec.from_bytes(data, base=base, name=path)
