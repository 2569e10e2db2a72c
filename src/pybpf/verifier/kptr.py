"""Special fields of a map value (the kernel's btf_record): kptrs, spin locks, timers...

A map value whose BTF holds them may be touched only in set ways. Any load, store or
helper access that overlaps a spin lock, timer, list head... is refused; a kptr (a
pointer tagged ``__kptr``/``__kptr_untrusted``) may be loaded and stored as a whole, by
one 8-byte access at its own constant offset (check_map_access, check_map_kptr_access).

What pybpf models of kptrs: every refusal of those rules, a load of an unreferenced or
referenced kptr (a maybe-NULL pointer to a kernel object) and storing NULL into an
unreferenced one. What it does not: dereferencing a loaded kptr (that needs the kernel's
BTF for the object's layout), storing a kernel object pointer into one (type matching),
``bpf_kptr_xchg`` past its argument checks; those say "unsupported".
"""

from __future__ import annotations

from typing import Any

from . import bounds as B
from .reject import Reject
from .state import Reg, RegType, State

UNREF = "kptr_untrusted"
REF = "kptr"
PERCPU = "percpu_kptr"
_KPTR_TAGS = (UNREF, REF, PERCPU, "uptr")
KPTR_PREFIX = "kptr "   # btf_name of a loaded kptr: ``kptr <tag>``


def _fields(m: Any) -> list[tuple[int, int, str]]:
    from .access import special_fields
    return special_fields(m)


def _unsupported(what: str, regno: int) -> Reject:
    return Reject(f"unsupported: {what} (pybpf's verifier does not model kptrs that far)",
                  regs=(regno,), kernel_rejects=False, hint="verify this program with the "
                  "kernel")


def check_access(reg: Reg, regno: int, off: int, size: int, lo: int, hi: int, *,
                 helper: bool = False) -> tuple[int, str] | None:
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
    return found


def load(state: State, field: tuple[int, str], regno: int) -> Reg:
    """A load of a whole kptr field: a maybe-NULL pointer to the kernel object."""
    _, tag = field
    if tag not in (UNREF, REF):
        raise _unsupported(f"a load of a {tag} field", regno)
    return Reg(RegType.PTR_TO_BTF_ID, B.const(0), nullable=True, id=state.new_id(),
               btf_name=KPTR_PREFIX + tag)


def store(field: tuple[int, str], regno: int, value: Reg, value_regno: int | None) -> None:
    """A store of a whole kptr field (``value_regno`` None: BPF_ST of a constant)."""
    start, tag = field
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
    if not value.var.is_const or value.off + B.to_s64(value.var.value) < 0:
        raise Reject(f"variable or negative {value.describe()} access disallowed: R{vr} "
                     f"stored into a kptr", regs=(vr,),
                     hint="store the object pointer itself, not a pointer into it")
    raise _unsupported("storing a kernel object pointer into a kptr", vr)


def atomic(field: tuple[int, str] | None, regno: int) -> None:
    if field is not None:
        raise Reject("kptr in map can only be accessed using BPF_MEM instruction mode",
                     regs=(regno,), hint="load and store kptrs with plain loads and stores")


def deref(reg: Reg, regno: int) -> None:
    """A load through a loaded kptr: its object's layout is the kernel's BTF."""
    if reg.btf_name.startswith(KPTR_PREFIX):
        raise _unsupported("a load through a pointer read from a kptr", regno)


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
