"""Loads through a pointer to a kernel object (PTR_TO_BTF_ID), by the kernel's own BTF.

The kernel lets a program read a kernel struct it holds a typed pointer to (a task from
bpf_get_current_task_btf()...) within the struct's size: the bytes of a number read as a
number, a whole pointer to a struct as a pointer to that struct (the kernel's
btf_struct_walk). The layout is the running kernel's (/sys/kernel/btf/vmlinux, through
:mod:`pybpf.btf.kernel_btf`). Whatever is not plainly one of those (an access across
members, a bitfield, a tagged pointer, a union whose members disagree, a struct the BTF
lacks) is "unsupported": pybpf says neither safe nor unsafe.
"""

from __future__ import annotations

from typing import Any

from ..btf import Array, Enum, Int, Ptr, Struct, Union, sizeof, skip_qualifiers
from ..btf.types import Float, TypeTag
from . import bounds as B
from .kptr import KPTR_PREFIX, kptr_name, kptr_parts
from .reject import Reject
from .state import Reg, RegType

UNTRUSTED = "~"   # btf_name prefix of a pointer read from a kernel struct (a walked one)
_MAX_DEPTH = 32


class _Unknown(Exception):
    """An access this module does not model."""


def _spec() -> Any:
    from ..btf.kernel_btf import DEFAULT_KERNEL_BTF
    return DEFAULT_KERNEL_BTF.spec


def struct_name(reg: Reg) -> str:
    if reg.btf_name.startswith(KPTR_PREFIX):
        return kptr_parts(reg.btf_name)[1]
    return reg.btf_name.removeprefix(UNTRUSTED)


def load(reg: Reg, regno: int, off: int, size: int) -> Reg:
    """What loading ``size`` bytes at byte ``off`` of ``reg``'s kernel struct gives."""
    name = struct_name(reg)
    try:
        spec = _spec()
    except Exception:   # noqa: BLE001 - no kernel BTF here: nothing known
        spec = None
    kind: int
    detail: Any
    kind, detail = (_walked(spec, name, off, size) if spec is not None and name else
                    (_NO_STRUCT, None))
    if kind == _NO_STRUCT:
        raise _unsupported(f"a load through a pointer to kernel object '{reg.btf_name}', "
                           f"whose type pybpf does not find in the kernel's BTF", regno)
    if kind == _BEYOND:
        raise Reject(f"access beyond struct {name} at off {off} size {size}: the struct "
                     f"is {detail} bytes", regs=(regno,),
                     hint=f"read fields of struct {name} within its size")
    if kind == _UNKNOWN:
        raise _unsupported(f"a load of bytes {off}..{off + size - 1} of struct {name} "
                           f"({detail})", regno)
    if kind == _REFUSED:
        raise Reject(detail[0], hint=detail[1])
    got = detail
    if got is None:
        value = B.unsigned_range(0, (1 << (8 * size)) - 1) if size < 8 else B.UNKNOWN
        return Reg(RegType.SCALAR, value)
    if reg.btf_name.startswith(KPTR_PREFIX):   # walked from a kptr: untrusted still
        return Reg(RegType.PTR_TO_BTF_ID, B.const(0),
                   btf_name=kptr_name(kptr_parts(reg.btf_name)[0], got))
    return Reg(RegType.PTR_TO_BTF_ID, B.const(0), btf_name=UNTRUSTED + got)


# what a load of (struct, offset, size) reaches, by the kernel's BTF: the same for every
# load of it (a tracing program reads the same fields again and again, and finding one
# among task_struct's members took longer than verifying a small program)
_NO_STRUCT, _BEYOND, _UNKNOWN, _REFUSED, _FOUND = range(5)
_WALKED: dict[tuple[str, int, int], tuple[int, Any]] = {}
_WALKED_SPEC: list[Any] = [None]   # the BTF _WALKED was made from
_WALKED_MAX = 1 << 14


def _walked(spec: Any, name: str, off: int, size: int) -> tuple[int, Any]:
    if _WALKED_SPEC[0] is not spec or len(_WALKED) > _WALKED_MAX:
        _WALKED.clear()
        _WALKED_SPEC[0] = spec
    key = (name, off, size)
    got = _WALKED.get(key)
    if got is None:
        got = _WALKED[key] = _walk_struct(spec, name, off, size)
    return got


def _walk_struct(spec: Any, name: str, off: int, size: int) -> tuple[int, Any]:
    try:
        struct = spec.find(name, Struct)
    except Exception:   # noqa: BLE001 - not there (KeyError), or a BTF that fails
        return _NO_STRUCT, None
    if struct is None:
        return _NO_STRUCT, None
    total = sizeof(struct)
    if off + size > total:
        return _BEYOND, total
    try:
        return _FOUND, _walk(struct, off, size, 0)
    except _Unknown as why:
        return _UNKNOWN, str(why)
    except Reject as refused:
        return _REFUSED, (refused.problem, refused.hint)


def _unsupported(what: str, regno: int) -> Reject:
    return Reject(f"unsupported: {what}", regs=(regno,), kernel_rejects=False,
                  hint="verify this program with the kernel")


def _walk(t: Any, off: int, size: int, depth: int) -> str | None:
    """None for a number, or the name of the struct a whole pointer points to."""
    if depth > _MAX_DEPTH:
        raise _Unknown("nested too deep")
    t = skip_qualifiers(t)
    if isinstance(t, Union):
        results = {_walk_member(m.type, off - m.bit_offset // 8, size, depth)
                   for m in t.members if _contains(m, off, size)}
        if len(results) != 1 or any(m.bitfield_size for m in t.members
                                    if _overlaps(m, off, size)):
            raise _Unknown("a union's members disagree")
        return results.pop()
    if isinstance(t, Struct):
        # a member starting at or past the access's end cannot overlap it: its size (the
        # first look at its type, decoded lazily) is not needed (task_struct has ~250)
        end = off + size
        hits = [m for m in t.members if m.bit_offset // 8 < end and _overlaps(m, off, size)]
        if len(hits) != 1:
            raise _Unknown("not within one member")
        m = hits[0]
        if m.bitfield_size or not _contains(m, off, size):
            if m.bitfield_size:
                raise _Unknown("a bitfield")
            _check_ptr_member(m.type, m.name, off - m.bit_offset // 8, size)
            raise _Unknown("not within one member")
        return _walk_member(m.type, off - m.bit_offset // 8, size, depth)
    return _walk_member(t, off, size, depth)


def _check_ptr_member(mtype: Any, name: str, off: int, size: int) -> None:
    """The kernel refuses a partial access of a pointer member."""
    if isinstance(skip_qualifiers(mtype), Ptr):
        raise Reject(f"cannot access ptr member {name} with off {off} size {size}: a "
                     f"pointer field is read whole", hint="read pointer fields with one "
                     "8-byte load at their own offset")


def _walk_member(mt: Any, off: int, size: int, depth: int) -> str | None:
    raw = mt
    mt = skip_qualifiers(mt)
    if isinstance(mt, (Struct, Union)):
        return _walk(mt, off, size, depth + 1)
    if isinstance(mt, Array):
        elem = skip_qualifiers(mt.type)
        step = sizeof(mt.type)
        if step <= 0:
            raise _Unknown("an array of unsized elements")
        if isinstance(elem, (Int, Enum, Float)):
            return None     # numbers, possibly several at once (a char array read whole)
        inner = off % step
        if inner + size > step:
            raise _Unknown("across array elements")
        return _walk_member(mt.type, inner, size, depth + 1)
    if isinstance(mt, Ptr):
        if off != 0 or size != 8:
            _check_ptr_member(mt, "?", off, size)
        if _tagged(raw) or _tagged(mt.target):
            raise _Unknown("a tagged pointer (__rcu, __user, __percpu...)")
        target = skip_qualifiers(mt.target) if mt.target is not None else None
        if isinstance(target, Struct) and target.name:
            return str(target.name)
        if isinstance(target, (Struct, Union)):
            raise _Unknown("a pointer to an anonymous struct or a union")
        return None         # a pointer to a number or to void reads as a number
    if isinstance(mt, (Int, Enum, Float)):
        return None
    raise _Unknown(f"a member of kind {type(mt).__name__}")


def _tagged(t: Any) -> bool:
    for _ in range(_MAX_DEPTH):
        if t is None:
            return False
        if isinstance(t, TypeTag):
            return True
        if isinstance(t, (Struct, Union, Ptr, Int, Enum, Array, Float)) or \
                not hasattr(t, "type"):
            return False
        t = t.type
    return True


def _overlaps(m: Any, off: int, size: int) -> bool:
    start: int = m.bit_offset // 8
    try:
        end: int = (-(-(m.bit_offset + m.bitfield_size) // 8) if m.bitfield_size
                    else start + sizeof(m.type))
    except Exception:   # noqa: BLE001 - a member without a size
        raise _Unknown("a member without a size") from None
    return off < end and start < off + size


def _contains(m: Any, off: int, size: int) -> bool:
    start: int = m.bit_offset // 8
    try:
        end: int = start + sizeof(m.type)
    except Exception:   # noqa: BLE001 - a member without a size
        raise _Unknown("a member without a size") from None
    return start <= off and off + size <= end


__all__: list[str] = []
