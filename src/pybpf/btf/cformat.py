"""BTF types as compilable C, in the text ``bpftool btf dump ... format c`` prints.

:func:`format_c` prints one type and everything it needs, in dependency order, with forward
declarations where a pointer suffices; :func:`format_c_all` prints a whole spec like
bpftool's ``vmlinux.h``. The rules (the same bpftool 7.1 / libbpf 1.1 follow, so tests can
diff our text against theirs):

* Ordering: a type embedded by value (member, array element) must be defined before its
  container: a *strong* link. Reached through a pointer, a *named* struct/union only needs
  ``struct X;``: a *weak* link. Anonymous structs/unions/enums are written inline.
* Padding: gaps between members that C's natural alignment would not produce are written as
  ``long: 64;``-style anonymous bitfields; a struct whose members sit off their natural
  alignment (or whose size is no multiple of it) gets ``__attribute__((packed))``.
* Declarators: modifiers and pointers are collected innermost-last on a stack and written
  out from the base type outwards, which puts ``const`` on the correct side of ``*`` and
  parenthesises arrays of / pointers to function prototypes.
* Names that repeat within one output get a ``___N`` suffix (as libbpf's dump does).
"""

from __future__ import annotations

from ..errors import BTFError
from .queries import alignof, is_packed, sizeof
from .spec import Spec
from .types import (
    Array,
    Const,
    Enum,
    Enum64,
    Float,
    FuncProto,
    Fwd,
    Int,
    Ptr,
    Restrict,
    Struct,
    Type,
    Typedef,
    TypeTag,
    Union,
    Void,
    Volatile,
)

_NOT_EMITTED, _EMITTING, _EMITTED = 0, 1, 2
_ORDERING, _ORDERED = 1, 2
_MAX_INDENT = 13  # deeper nesting is printed at this indentation
_POINTER_BITS = 64
_MAX_PADDING_BITS = 1 << 22  # a 512 KiB hole between members only comes from corrupt BTF
_PADS = (("long", _POINTER_BITS), ("int", 32), ("short", 16), ("char", 8))
_MODIFIERS = (Volatile, Const, Restrict, TypeTag)
# GCC's SIMD typedefs point at internal types; give them standard ones
_MISSING_BASE_TYPES = {"__Poly8_t": "unsigned char", "__Poly16_t": "unsigned short",
                       "__Poly64_t": "unsigned long long",
                       "__Poly128_t": "unsigned __int128"}

VMLINUX_PROLOGUE = """\
#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

"""
VMLINUX_EPILOGUE = """\
#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
"""


def format_c(t: Type) -> str:
    """C declarations for ``t`` and what it needs, each followed by a blank line.

    Raises :class:`BTFError` on corrupt BTF or a type cycle C cannot express.
    """
    return CDumper().dump(t)


def format_c_all(spec: Spec) -> str:
    """Every type of ``spec`` as one C header, the way ``bpftool btf dump format c`` does."""
    dumper = CDumper(referenced=_referenced_ids(spec))
    parts = [VMLINUX_PROLOGUE]
    for type_id in range(1, len(spec)):
        parts.append(dumper.dump(spec.type_by_id(type_id)))
    parts.append(VMLINUX_EPILOGUE)
    return "".join(parts)


def _referenced_ids(spec: Spec) -> set[int]:
    """id() of every type some other type refers to (decides top-level anonymous enums)."""
    referenced: set[int] = set()
    for t in spec:
        # (as libbpf: a prototype's return type does not count as a reference)
        for attr in ("target", "type", "index_type"):
            ref = getattr(t, attr, None) if not isinstance(t, Int) else None
            if isinstance(ref, Type):
                referenced.add(id(ref))
        for entry in getattr(t, "members", ()) or getattr(t, "params", ()) or \
                getattr(t, "vars", ()):
            referenced.add(id(entry.type))
    return referenced


def _tabs(level: int) -> str:
    return "\t" * min(level, _MAX_INDENT)


def _roundup(value: int, multiple: int) -> int:
    return (value + multiple - 1) // multiple * multiple


def _safe_align(t: Type) -> int:
    try:
        return alignof(t)
    except BTFError:
        return 0


class CDumper:
    """Writes C for types; keeps what it has written, so a second type reuses the first's.

    ``referenced`` (ids of objects) marks types something refers to; without it, any type
    but the one being dumped counts as referenced (which is what reaching it implies).
    ``enum_size_attributes`` adds ``__attribute__((mode(byte|word)))`` to 1- and 8-byte
    enums, as newer libbpf does; off by default to print what bpftool 7.1 prints.
    """

    def __init__(self, *, referenced: set[int] | None = None,
                 enum_size_attributes: bool = False):
        self._enum_size_attributes = enum_size_attributes
        self._out: list[str] = []
        self._order: dict[int, int] = {}
        self._emit: dict[int, int] = {}
        self._fwd_emitted: set[int] = set()
        self._type_names: dict[str, int] = {}
        self._ident_names: dict[str, int] = {}
        self._resolved: dict[int, str] = {}
        self._referenced = referenced
        self._root: Type | None = None
        self._queue: list[Type] = []
        self._alive: list[Type] = []  # keeps objects whose id() we store alive

    def dump(self, t: Type) -> str:
        """C text for ``t`` and what it needs that this dumper has not written yet.

        Raises :class:`BTFError` on corrupt BTF, a cycle C cannot express, or a type graph
        nested too deeply to print.
        """
        self._root = t
        self._queue = []
        try:
            self._order_type(t, through_ptr=False)
            for queued in self._queue:
                self._emit_type(queued, None)
        except RecursionError:
            # only corrupt BTF nests this deep (e.g. a pointer or typedef that is its own
            # target); real kernel types stay far below Python's recursion limit
            raise BTFError(f"type graph of {t!r} is cyclic or nested too deeply") from None
        finally:
            text = "".join(self._out)
            self._out.clear()
        return text

    # ---- ordering ----------------------------------------------------------------------

    def _order_type(self, t: Type, through_ptr: bool) -> bool:
        """Queue the named definitions ``t`` needs; True when ``t`` is a strong link."""
        key = id(t)
        state = self._order.get(key)
        if state == _ORDERED or isinstance(t, Void):
            return True
        if state == _ORDERING:
            if isinstance(t, (Struct, Union)) and through_ptr and t.name:
                return False  # a loop through a pointer: a forward declaration breaks it
            raise BTFError(f"type cycle C cannot express at {t!r}")
        if isinstance(t, (Int, Float)):
            self._mark_ordered(t)
            return False
        if isinstance(t, Ptr):
            strong = self._order_type(t.target, True)
            self._mark_ordered(t)
            return strong
        if isinstance(t, Array):
            return self._order_type(t.type, False)
        if isinstance(t, (Struct, Union)):
            if through_ptr and t.name:
                return False
            self._order[key] = _ORDERING
            self._alive.append(t)
            for m in t.members:
                self._order_type(m.type, False)
            if t.name:
                self._queue.append(t)
            self._order[key] = _ORDERED
            return True
        if isinstance(t, (Enum, Fwd)):
            if t.name or not self._is_referenced(t):
                self._queue.append(t)
            self._mark_ordered(t)
            return True
        if isinstance(t, Typedef):
            strong = self._order_type(t.type, through_ptr)
            if through_ptr and not strong:
                return False
            self._queue.append(t)
            self._mark_ordered(t)
            return True
        if isinstance(t, _MODIFIERS):
            return self._order_type(t.type, through_ptr)
        if isinstance(t, FuncProto):
            strong = self._order_type(t.return_type, through_ptr)
            for p in t.params:
                strong = self._order_type(p.type, through_ptr) or strong
            return strong
        self._mark_ordered(t)  # func, var, datasec, decl tag: nothing to declare
        return False

    def _mark_ordered(self, t: Type) -> None:
        self._order[id(t)] = _ORDERED
        self._alive.append(t)

    def _is_referenced(self, t: Type) -> bool:
        if self._referenced is None:
            return t is not self._root
        return id(t) in self._referenced

    # ---- emitting definitions ----------------------------------------------------------

    def _emit_type(self, t: Type, container: Type | None) -> None:
        key = id(t)
        state = self._emit.get(key, _NOT_EMITTED)
        if state == _EMITTED or isinstance(t, Void):
            return
        top_level = container is None
        write = self._out.append
        if state == _EMITTING:
            if key in self._fwd_emitted:
                return
            if isinstance(t, (Struct, Union)):
                if t is container or not t.name:
                    return  # our own container, or an anonymous loop (nothing to declare)
                self._struct_fwd(t)
                write(";\n\n")
                self._fwd_emitted.add(key)
            elif isinstance(t, Typedef):
                # the typedef is needed as a forward declaration: emit it now
                if t.name != "__builtin_va_list":
                    self._typedef_def(t, 0)
                    write(";\n\n")
                self._fwd_emitted.add(key)
            return

        self._alive.append(t)
        if isinstance(t, Int):
            alias = _MISSING_BASE_TYPES.get(t.name)
            if alias:
                write(f"typedef {alias} {self._type_name(t)};\n\n")
            self._emit[key] = _EMITTED
        elif isinstance(t, Enum):
            if top_level:
                self._enum_def(t, 0)
                write(";\n\n")
            self._emit[key] = _EMITTED
        elif isinstance(t, Ptr):
            self._emit_type(t.target, container)
        elif isinstance(t, (*_MODIFIERS, Array)):
            self._emit_type(t.type, container)
        elif isinstance(t, Fwd):
            self._fwd_def(t)
            write(";\n\n")
            self._emit[key] = _EMITTED
        elif isinstance(t, Typedef):
            self._emit[key] = _EMITTING
            self._emit_type(t.type, t)
            if key not in self._fwd_emitted and t.name != "__builtin_va_list":
                self._typedef_def(t, 0)
                write(";\n\n")
            self._emit[key] = _EMITTED
        elif isinstance(t, (Struct, Union)):
            self._emit[key] = _EMITTING
            if top_level or not t.name:
                # members are written out here: declare what they refer to first
                inner = t if t.name else container
                for m in t.members:
                    self._emit_type(m.type, inner)
            elif key not in self._fwd_emitted and t is not container:
                self._struct_fwd(t)
                write(";\n\n")
                self._fwd_emitted.add(key)
            if top_level:
                self._struct_def(t, 0)
                write(";\n\n")
                self._emit[key] = _EMITTED
            else:
                self._emit[key] = _NOT_EMITTED
        elif isinstance(t, FuncProto):
            self._emit_type(t.return_type, container)
            for p in t.params:
                self._emit_type(p.type, container)

    # ---- names -------------------------------------------------------------------------

    def _resolve_name(self, t: Type, names: dict[str, int]) -> str:
        if not t.name:
            return ""
        found = self._resolved.get(id(t))
        if found is not None:
            return found
        name = t.name
        if not (isinstance(t, Fwd) or (isinstance(t, Enum) and not t.values)):
            count = self._count_name(names, name)
            if count > 1:
                name = f"{name}___{count}"
        self._resolved[id(t)] = name
        self._alive.append(t)
        return name

    @staticmethod
    def _count_name(names: dict[str, int], name: str) -> int:
        count = names.get(name, 0) + 1
        names[name] = count
        return count

    def _type_name(self, t: Type) -> str:
        return self._resolve_name(t, self._type_names)

    def _ident_name(self, t: Type) -> str:
        return self._resolve_name(t, self._ident_names)

    # ---- definitions -------------------------------------------------------------------

    def _struct_fwd(self, t: Struct | Union) -> None:
        keyword = "struct" if isinstance(t, Struct) else "union"
        self._out.append(f"{keyword}{' ' if t.name else ''}{self._type_name(t)}")

    def _fwd_def(self, t: Fwd) -> None:
        self._out.append(f"{t.fwd_kind} {self._type_name(t)}")

    def _typedef_def(self, t: Typedef, level: int) -> None:
        name = self._ident_name(t)
        if isinstance(t.type, Void) and name == "__gnuc_va_list":
            self._out.append("typedef __builtin_va_list __gnuc_va_list")
            return
        self._out.append("typedef ")
        self._type_decl(t.type, name, level)

    def _enum_def(self, t: Enum, level: int) -> None:
        write = self._out.append
        write(f"enum{' ' if t.name else ''}{self._type_name(t)}")
        if not t.values:
            return
        write(" {")
        is64 = isinstance(t, Enum64)
        bits = 64 if is64 else 32
        mask = (1 << bits) - 1
        suffix = ("LL" if t.signed else "ULL") if is64 else ""
        for v in t.values:
            value = v.value & mask
            if t.signed and value >> (bits - 1):
                value -= 1 << bits
            count = self._count_name(self._ident_names, v.name)
            name = f"{v.name}___{count}" if count > 1 else v.name
            write(f"\n{_tabs(level + 1)}{name} = {value}{suffix},")
        write(f"\n{_tabs(level)}}}")
        if not self._enum_size_attributes:
            return
        if t.size == 1:
            write(" __attribute__((mode(byte)))")
        # an enum becomes 8 bytes by itself only when a value needs the upper half
        elif t.size == 8 and (not is64 or not any((v.value & mask) >> 32 for v in t.values)):
            write(" __attribute__((mode(word)))")

    def _struct_def(self, t: Struct | Union, level: int) -> None:
        write = self._out.append
        is_struct = isinstance(t, Struct)
        align = _safe_align(t)
        packed = is_struct and _safe_is_packed(t)
        keyword = "struct" if is_struct else "union"
        write(f"{keyword}{' ' if t.name else ''}{self._type_name(t)} {{")
        off = 0
        prev_bitfield = False
        for m in t.members:
            m_size = m.bitfield_size
            m_off = m.bit_offset
            m_align = 1 if packed else _safe_align(m.type)
            self._bit_padding(off, m_off, m_align, prev_bitfield and m_size != 0, level + 1)
            write(f"\n{_tabs(level + 1)}")
            self._type_decl(m.type, m.name, level + 1)
            if m_size:
                write(f": {m_size}")
                off = m_off + m_size
                prev_bitfield = True
            else:
                try:
                    byte_size = max(0, sizeof(m.type))
                except BTFError:
                    byte_size = 0
                off = m_off + byte_size * 8
                prev_bitfield = False
            write(";")
        if is_struct:
            self._bit_padding(off, t.size * 8, align, False, level + 1)
        if t.members or t.size:
            write(f"\n{_tabs(level)}}}")
        else:
            write("}")  # keep `struct empty {}` on one line
        if packed:
            write(" __attribute__((packed))")

    def _bit_padding(self, cur: int, nxt: int, next_align: int, in_bitfield: bool,
                     level: int) -> None:
        """Anonymous bitfields that make the compiler put the next member at ``nxt``."""
        if cur >= nxt:
            return
        if nxt - cur > _MAX_PADDING_BITS:
            raise BTFError(f"a {nxt - cur}-bit hole in a struct: corrupt member offsets?")
        write = self._out.append
        # the widest padding type whose alignment boundary still falls inside the gap
        # (else the narrowest)
        pad_type, pad_bits = next(((name, bits) for name, bits in _PADS
                                   if _roundup(cur, bits) <= nxt), _PADS[-1])
        new_off = _roundup(cur, pad_bits)
        if cur < new_off <= nxt:
            # natural alignment reaches new_off by itself unless the next member is less
            # aligned than the pad type, or a `type: N` would fit entirely in the hole
            if (in_bitfield
                    or (new_off == nxt and _roundup(cur, max(next_align, 1) * 8) != new_off)
                    or (new_off != nxt and nxt - new_off <= new_off - cur)):
                write(f"\n{_tabs(level)}{pad_type}: {new_off - cur if in_bitfield else 0};")
            cur = new_off
        while cur != nxt:
            bits = min(nxt - cur, pad_bits)
            if bits == pad_bits:
                write(f"\n{_tabs(level)}{pad_type}: {pad_bits};")
                cur += bits
                continue
            # the rest: the smallest type that holds it
            for small_type, small_bits in reversed(_PADS):
                if small_bits >= bits:
                    write(f"\n{_tabs(level)}{small_type}: {bits};")
                    cur += bits
                    break

    # ---- declarators -------------------------------------------------------------------

    def _type_decl(self, t: Type, field_name: str, level: int) -> None:
        """``<type> <field_name>`` in C syntax, e.g. ``int (*cb)(void *)``, ``char a[4]``."""
        stack: list[Type] = []
        for _ in range(256):
            stack.append(t)
            if isinstance(t, Void):
                break
            if isinstance(t, Ptr):
                t = t.target
            elif isinstance(t, (*_MODIFIERS, Array)):
                t = t.type
            elif isinstance(t, FuncProto):
                t = t.return_type
            else:
                break
        else:
            raise BTFError(f"declarator chain too long at {t!r} (a cycle?)")
        self._type_chain(stack, field_name, level)

    def _emit_mods(self, stack: list[Type]) -> None:
        while stack:
            top = stack[-1]
            if isinstance(top, Volatile):
                self._out.append("volatile ")
            elif isinstance(top, Const):
                self._out.append("const ")
            elif isinstance(top, Restrict):
                self._out.append("restrict ")
            else:
                return
            stack.pop()

    @staticmethod
    def _drop_mods(stack: list[Type]) -> None:
        while stack and isinstance(stack[-1], _MODIFIERS):
            stack.pop()

    def _emit_name(self, name: str, last_was_ptr: bool) -> None:
        self._out.append((" " if name and not last_was_ptr else "") + name)

    def _type_chain(self, stack: list[Type], field_name: str, level: int) -> None:
        write = self._out.append
        # a lone pointer (as in `int (*f)(void)`) must not get a space before its `*`
        last_was_ptr = True
        while stack:
            t = stack.pop()
            if isinstance(t, Void):
                self._emit_mods(stack)
                write("void")
                last_was_ptr = False
                continue
            if isinstance(t, (Int, Float)):
                self._emit_mods(stack)
                write(t.name)
            elif isinstance(t, (Struct, Union)):
                self._emit_mods(stack)
                if t.name:
                    self._struct_fwd(t)
                else:
                    self._struct_def(t, level)  # anonymous: defined inline
            elif isinstance(t, Enum):
                self._emit_mods(stack)
                if t.name:
                    write(f"enum {self._type_name(t)}")
                else:
                    self._enum_def(t, level)
            elif isinstance(t, Fwd):
                self._emit_mods(stack)
                self._fwd_def(t)
            elif isinstance(t, Typedef):
                self._emit_mods(stack)
                write(self._ident_name(t))
            elif isinstance(t, Ptr):
                write("*" if last_was_ptr else " *")
            elif isinstance(t, Volatile):
                write(" volatile")
            elif isinstance(t, Const):
                write(" const")
            elif isinstance(t, Restrict):
                write(" restrict")
            elif isinstance(t, TypeTag):
                self._emit_mods(stack)
                write(f' __attribute__((btf_type_tag("{t.value}")))')
            elif isinstance(t, Array):
                # qualifiers on an array itself (a GCC quirk) mean nothing in C: drop them
                self._drop_mods(stack)
                if not stack:
                    self._emit_name(field_name, last_was_ptr)
                    write(f"[{t.nelems}]")
                    return
                multidim = isinstance(stack[-1], Array)
                if field_name and not last_was_ptr:
                    write(" ")
                if not multidim:
                    write("(")
                self._type_chain(stack, field_name, level)
                if not multidim:
                    write(")")
                write(f"[{t.nelems}]")
                return
            elif isinstance(t, FuncProto):
                self._drop_mods(stack)
                if stack:
                    write(" (")
                    self._type_chain(stack, field_name, level)
                    write(")")
                else:
                    self._emit_name(field_name, last_was_ptr)
                write("(")
                params = t.params
                if not params or (len(params) == 1 and isinstance(params[0].type, Void)):
                    write("void)")  # no parameters (clang encodes them as one void param)
                    return
                for i, p in enumerate(params):
                    if i:
                        write(", ")
                    if i == len(params) - 1 and isinstance(p.type, Void):
                        write("...")
                        break
                    self._type_decl(p.type, p.name, level)
                write(")")
                return
            else:
                return  # func/var/datasec cannot appear in a declarator
            last_was_ptr = isinstance(t, Ptr)
        self._emit_name(field_name, last_was_ptr)


def _safe_is_packed(t: Struct | Union) -> bool:
    try:
        return is_packed(t)
    except BTFError:
        return False
