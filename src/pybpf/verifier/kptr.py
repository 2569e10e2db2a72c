"""Special fields of a map value (the kernel's btf_record): kptrs, spin locks, timers...

A map value whose BTF holds them may be touched only in set ways. Any load, store or
helper access that overlaps a spin lock, timer, list head... is refused; a kptr (a
pointer tagged ``__kptr``/``__kptr_untrusted``) may be loaded and stored as a whole, by
one 8-byte access at its own constant offset (check_map_access, check_map_kptr_access).

What pybpf models of kptrs: every refusal of those rules, a load of an unreferenced or
referenced kptr (a maybe-NULL pointer to a kernel object, walked by :mod:`.btf_walk` as an
untrusted one: helpers and kfuncs refuse it, or say unsupported where the kernel would
take a referenced kptr's RCU pointer), storing NULL into an unreferenced one, and the
type of a kernel object pointer stored into one. What it does not: ``bpf_kptr_xchg`` past
its argument checks, pointers into an object stored into a kptr; those say "unsupported".
"""

from __future__ import annotations

import functools
from typing import Any

from . import bounds as B
from .reject import Reject
from .state import Reg, RegType, State

UNREF = "kptr_untrusted"
REF = "kptr"
PERCPU = "percpu_kptr"
_KPTR_TAGS = (UNREF, REF, PERCPU, "uptr")
# btf_name of a pointer loaded from a kptr (or walked from one): ``@<kind> <struct>``,
# kind "untrusted" (a __kptr_untrusted field) or "ref" (a __kptr one); the word "kptr"
# stays out of it, as messages show it where the kernel says untrusted_ptr_/rcu_ptr_
KPTR_PREFIX = "@"
_KIND = {UNREF: "untrusted", REF: "ref"}


def kptr_parts(btf_name: str) -> tuple[str, str]:
    """(tag, struct) of a pointer loaded from a kptr (or walked from one)."""
    kind, _, struct = btf_name.removeprefix(KPTR_PREFIX).partition(" ")
    return next((t for t, k in _KIND.items() if k == kind), kind), struct


def kptr_name(tag: str, struct: str) -> str:
    return f"{KPTR_PREFIX}{_KIND.get(tag, tag)} {struct}"


def _pointee(m: Any, start: int) -> str:
    """The struct a kptr field at byte ``start`` of ``m``'s value points to ("" unknown)."""
    from ..btf import Array, Ptr, Struct, Union, sizeof, skip_qualifiers
    from ..btf.types import TypeTag
    t: Any = getattr(m, "value_type", None)
    base = 0
    for _ in range(32):
        t = skip_qualifiers(t)
        if isinstance(t, Ptr):
            target = t.target
            while isinstance(target, TypeTag):
                target = target.type
            target = skip_qualifiers(target)
            return str(target.name) if base == start and isinstance(target, Struct) \
                and target.name else ""
        if isinstance(t, (Struct, Union)):
            inner = [mem for mem in t.members
                     if base + mem.bit_offset // 8 <= start
                     < base + mem.bit_offset // 8 + max(sizeof(mem.type), 1)]
            if len(inner) != 1:
                return ""
            base += inner[0].bit_offset // 8
            t = inner[0].type
        elif isinstance(t, Array) and t.nelems:
            step = sizeof(t.type)
            base += (start - base) // step * step
            t = t.type
        else:
            return ""
    return ""


def _fields(m: Any) -> list[tuple[int, int, str]]:
    return _access().special_fields(m)  # type: ignore[no-any-return]


@functools.cache
def _access() -> Any:
    """The access module, imported late (it imports modules that import this one): an
    import statement on every load and store cost more than the check itself."""
    from . import access
    return access


def _unsupported(what: str, regno: int) -> Reject:
    return Reject(f"unsupported: {what} (pybpf's verifier does not model kptrs that far)",
                  regs=(regno,), kernel_rejects=False, hint="verify this program with the "
                  "kernel")


def check_access(reg: Reg, regno: int, off: int, size: int, lo: int, hi: int, *,
                 helper: bool = False) -> tuple[int, str, str] | None:
    """Bytes [lo, hi) of ``reg``'s map value are accessed (``off``: the instruction's
    offset; ``helper``: by a helper rather than a load or store). Refuses what the kernel
    refuses; returns (offset, tag) of the kptr field a load or store reaches whole."""
    found = None
    for start, end, name in _fields(reg.map):
        if not (lo < end and start < hi):
            continue
        if name not in _KPTR_TAGS:
            raise Reject(f"{name} cannot be accessed directly by load/store: bytes "
                         f"{start}..{end - 1} of map '{reg.map.name}''s value", regs=(regno,),
                         hint=f"touch a {name} only through its helpers or kfuncs")
        if helper:
            raise Reject("kptr cannot be accessed indirectly by helper: the memory passed "
                         f"overlaps the kptr at offset {start} of map '{reg.map.name}''s "
                         f"value", regs=(regno,), hint="keep kptr fields out of the bytes a "
                         "helper reads or writes")
        if not reg.var.is_const:
            raise Reject(f"kptr access cannot have variable offset (R{regno} var_off="
                         f"{reg.var})", regs=(regno,), hint="access kptr fields at constant "
                         "offsets")
        at = reg.off + off + B.to_s64(reg.var.value)
        if at != start:
            raise Reject(f"kptr access misaligned expected={start} off={at}", regs=(regno,),
                         hint="load or store the kptr whole, at its own offset")
        if size != 8:
            raise Reject("kptr access size must be BPF_DW", regs=(regno,),
                         hint="load or store a kptr with an 8-byte access")
        found = (start, name)
    if found is not None:
        try:
            pointee = _pointee(reg.map, found[0])
        except Exception:   # noqa: BLE001 - malformed BTF: the object is not known
            pointee = ""
        return (found[0], found[1], pointee)
    return found


def load(state: State, field: tuple[int, str, str], regno: int) -> Reg:
    """A load of a whole kptr field: a maybe-NULL pointer to the kernel object."""
    _, tag, pointee = field
    if tag not in (UNREF, REF):
        raise _unsupported(f"a load of a {tag} field", regno)
    return Reg(RegType.PTR_TO_BTF_ID, B.const(0), nullable=True, id=state.new_id(),
               btf_name=kptr_name(tag, pointee))


def store(field: tuple[int, str, str], regno: int, value: Reg, value_regno: int | None
          ) -> None:
    """A store of a whole kptr field (``value_regno`` None: BPF_ST of a constant)."""
    start, tag, pointee = field
    if tag != UNREF:
        raise Reject("store to referenced kptr disallowed", regs=(regno,),
                     hint="exchange a referenced kptr with bpf_kptr_xchg()")
    if value_regno is None:
        if not value.var.is_const or value.var.value != 0:
            raise Reject(f"BPF_ST imm must be 0 when storing to kptr at off={start}",
                         regs=(regno,), hint="store only NULL (0) into a kptr")
        return
    if value.type is RegType.SCALAR and value.var.is_const and value.var.value == 0:
        return
    vr = value_regno if value_regno is not None else regno
    if value.type is not RegType.PTR_TO_BTF_ID:
        raise Reject(f"invalid kptr access, R{vr} type={value.describe()} expected=ptr_ or "
                     f"untrusted_ptr_ of the kptr's type", regs=(vr,),
                     hint="store a kernel object pointer of the kptr's type, or NULL")
    if not value.var.is_const:
        raise Reject(f"variable ptr_ access var_off={value.var} disallowed: R{vr} "
                     f"({value.describe()}) stored into a kptr", regs=(vr,),
                     hint="store the object pointer itself, not a pointer into it")
    if value.off + B.to_s64(value.var.value) < 0:
        raise Reject(f"negative offset ptr_ disallowed: R{vr} ({value.describe()}) "
                     f"stored into a kptr", regs=(vr,),
                     hint="store the object pointer itself, not a pointer into it")
    from .btf_walk import struct_name
    from .ctx_tracing import embeds_at_zero, kernel_struct
    have = kernel_struct(struct_name(value))
    if not pointee or have is None or value.ref_obj_id or \
            value.off + B.to_s64(value.var.value):
        raise _unsupported("storing this kernel object pointer into a kptr", vr)
    if not embeds_at_zero(have, pointee):   # btf_struct_ids_match, not strict for unref
        raise Reject(f"invalid kptr access, R{vr} type={value.describe()} expected=ptr_"
                     f"{pointee}", regs=(vr,),
                     hint=f"store a struct {pointee} pointer into this kptr")
    raise _unsupported("storing a kernel object pointer into a kptr", vr)


def atomic(field: tuple[int, str, str] | None, regno: int) -> None:
    if field is not None:
        raise Reject("kptr in map can only be accessed using BPF_MEM instruction mode",
                     regs=(regno,), hint="load and store kptrs with plain loads and stores")


def deref(reg: Reg, regno: int) -> None:
    """A load through a loaded kptr: its object's layout is the kernel's BTF (btf_walk),
    when the map's BTF says which object it is."""
    if reg.btf_name.startswith(KPTR_PREFIX) and not kptr_parts(reg.btf_name)[1]:
        raise _unsupported("a load through a pointer read from a kptr of unknown type",
                           regno)


def xchg(state: State, regs: list[Reg]) -> None:
    """bpf_kptr_xchg(dst, ptr): the kernel's argument checks; past them, unsupported."""
    dst, ptr = regs[1], regs[2]
    if dst.type is RegType.PTR_TO_MAP_VALUE and not dst.nullable:
        if not dst.var.is_const:
            raise Reject("R1 doesn't have constant offset. kptr has to be at the constant "
                         "offset", regs=(1,), hint="pass &value->kptr_field")
        at = dst.off + B.to_s64(dst.var.value)
        tags = {start: name for start, _, name in _fields(dst.map)}
        if tags.get(at) not in _KPTR_TAGS:
            raise Reject(f"off={at} doesn't point to kptr", regs=(1,),
                         hint="pass the address of a kptr field")
        if tags[at] not in (REF, PERCPU):
            raise Reject(f"off={at} kptr isn't referenced kptr", regs=(1,),
                         hint="bpf_kptr_xchg() works on __kptr fields, not __kptr_untrusted")
    elif dst.type not in (RegType.PTR_TO_MEM, RegType.PTR_TO_BTF_ID):
        raise Reject(f"R1 type={dst.describe()} expected=map_value (a kptr field)",
                     regs=(1,), hint="pass the address of a kptr field of a map value")
    if ptr.type is RegType.SCALAR and ptr.var.is_const and ptr.var.value == 0:
        pass
    elif ptr.type is not RegType.PTR_TO_BTF_ID:
        raise Reject(f"R2 type={ptr.describe()} expected=ptr_, trusted_ptr_, rcu_ptr_",
                     regs=(2,), hint="pass a referenced kernel object pointer, or NULL")
    raise _unsupported("bpf_kptr_xchg() past its argument checks", 1)


__all__: list[str] = []
