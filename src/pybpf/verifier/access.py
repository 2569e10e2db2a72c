"""Memory accesses through pointers: stack, context, map values, packets, helper memory.

Each ``check_*`` function either updates the state (a store, a helper filling memory) and
returns what a load reads, or raises :class:`~.reject.Reject` saying why the access is
unsafe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..btf import Array, Ptr, Struct, Union, sizeof, skip_qualifiers
from ..btf.types import TypeTag
from ..spec import AttachType, ProgramType
from . import bounds as B
from . import tnum
from .contexts import SUPPORTED_TYPES, CtxAccess, check_ctx_access
from .ctx_sock import SOCK_TYPES, sock_ctx_access
from .reject import Reject
from .state import (
    EMPTY_SLOT,
    NOT_POINTER,
    STACK_BYTES,
    UNKNOWN_SCALAR,
    Byte,
    Reg,
    RegType,
    Slot,
    State,
    const_scalar,
    scalar,
)

_SCALAR = RegType.SCALAR

MAX_VAR_OFF = 1 << 29
RDONLY_PROG = 1 << 7     # BPF_F_RDONLY_PROG: programs may only read the map's values
WRONLY_PROG = 1 << 8     # BPF_F_WRONLY_PROG: programs may only write them

_MEMORY_TYPES = (RegType.PTR_TO_STACK, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_PACKET,
                 RegType.PTR_TO_PACKET_META, RegType.PTR_TO_MEM)


def sized_unknown(size: int) -> Reg:
    """An unknown value loaded with ``size`` bytes (zero-extended)."""
    if size >= 8:
        return UNKNOWN_SCALAR
    reg = _SIZED.get(size)
    if reg is None:   # registers are never changed: one per size will do
        reg = _SIZED[size] = scalar(B.unsigned_range(0, (1 << (8 * size)) - 1))
    return reg


_SIZED: dict[int, Reg] = {}


def offset_span(reg: Reg, insn_off: int) -> tuple[int, int]:
    """Lowest and highest byte offset the pointer plus ``insn_off`` may hold."""
    base = reg.off + insn_off
    var = reg.var
    value, mask = var[8]    # (its tnum: Bounds.is_const and .value without property calls)
    if not mask:
        if value >> 63:
            value -= 1 << 64
        return base + value, base + value
    return base + var.smin, base + var.smax


def _check_var_bounds(reg: Reg, regno: int, what: str) -> None:
    if reg.var.smin <= -MAX_VAR_OFF or (reg.var.umax >= MAX_VAR_OFF and reg.var.smin >= 0):
        raise Reject(f"R{regno} unbounded memory access to {what}: the variable offset "
                     f"{reg.var} has no useful bound",
                     hint=f"bound the index first (`if (idx >= N) return` or `idx &= N-1`) "
                          f"before adding it to the {what} pointer", regs=(regno,))
    if reg.var.smin < 0 and not reg.var.is_const:
        raise Reject(f"R{regno} min value is negative: the variable offset {reg.var} may "
                     f"point before the {what}",
                     hint="use an unsigned index, or check `index >= 0` first",
                     regs=(regno,))


# -- stack -------------------------------------------------------------------------------------

def _slot_bytes(state: State, frameno: int, lo: int, hi: int):  # type: ignore[no-untyped-def]
    """(slot index, byte in slot) for each byte offset lo..hi-1 (negative, from fp)."""
    for off in range(lo, hi):
        pos = STACK_BYTES + off
        yield pos // 8, pos % 8


def _index(off: int) -> tuple[int, int]:
    pos = STACK_BYTES + off
    return pos // 8, pos % 8


def stack_write(state: State, reg: Reg, regno: int, insn_off: int, size: int,
                value: Reg | None, *, depth: list[int]) -> None:
    """Store ``size`` bytes of ``value`` (``None``: unknown bytes, e.g. a helper's output)."""
    frame = state.frames[reg.frameno]
    lo, hi = offset_span(reg, insn_off)
    if reg.var[8][1]:   # (not a constant offset)
        _check_var_bounds(reg, regno, "stack")
    if lo < -STACK_BYTES or hi + size > 0:
        raise Reject(f"invalid write to stack R{regno} off={lo} size={size}: the stack is "
                     f"fp-512 .. fp-1",
                     hint="keep stack accesses within 512 bytes below r10", regs=(regno,))
    if lo == hi and lo % size:
        raise Reject(f"misaligned stack access off {lo} size {size}",
                     hint=f"align {size}-byte stack accesses to {size} bytes", regs=(regno,))
    if lo != hi:
        check_alignment(reg, regno, insn_off, size, "stack")
    depth[0] = max(depth[0], -lo)
    if lo != hi:
        if value is not None and value.type not in NOT_POINTER:
            raise Reject(f"R{regno} variable-offset stack write of a pointer",
                         hint="spill pointers at constant stack offsets", regs=(regno,))
        for idx, byte in _slot_bytes(state, reg.frameno, lo, hi + size):
            _set_byte(frame.writable_stack(), idx, byte, Byte.MISC)
        return
    off = lo
    idx, pos = _index(off)
    if value is not None and value.type is RegType.PTR_TO_STACK and \
            reg.frameno != len(state.frames) - 1:
        raise Reject("cannot spill pointers to stack into stack frame of the caller",
                     hint="a callee's stack is gone once it returns: store numbers, or a "
                          "pointer into the caller's own stack, there", regs=(regno,))
    if value is not None and value.type not in NOT_POINTER and size != 8:
        raise Reject(f"invalid size of register spill: R{regno} stores {size} bytes of a "
                     f"pointer", hint="spill pointers with 8-byte stores", regs=(regno,))
    if size == 8 and value is not None:
        # the common whole-slot spill (what the general path below makes of it, faster)
        frame.writable_stack()[idx] = Slot(_ALL_SPILL, value, 0, 8)
        return
    old = frame.stack.get(idx, EMPTY_SLOT)
    if value is not None and (size == 8 or value.type is _SCALAR):
        kinds = list(old.kinds)
        spilled = value if size == 8 else scalar(B.truncate(value.var, size))
        if value.type is _SCALAR and value.var.is_const and value.var.value & (
                (1 << (8 * size)) - 1) == 0 and size < 8:
            _overwrite(frame.writable_stack(), idx, pos, size, Byte.ZERO)
            return
        # destroy an old spill this store only partly covers
        if old.spilled is not None:
            kinds = [Byte.MISC if k is Byte.SPILL else k for k in kinds]
        for i in range(pos, pos + size):
            kinds[i] = Byte.SPILL
        frame.writable_stack()[idx] = Slot(tuple(kinds), spilled, pos, size)
        return
    _overwrite(frame.writable_stack(), idx, pos, size, Byte.MISC)


_ALL_SPILL = (Byte.SPILL,) * 8


def _overwrite(stack: dict[int, Slot], idx: int, pos: int, size: int, kind: Byte) -> None:
    old = stack.get(idx, EMPTY_SLOT)
    kinds = list(old.kinds)
    spilled = old.spilled
    if spilled is not None:
        covers_spill = pos <= old.spill_pos and old.spill_pos + old.spill_size <= pos + size
        if not covers_spill:
            kinds = [Byte.MISC if k is Byte.SPILL else k for k in kinds]
        spilled = None
    for i in range(pos, pos + size):
        kinds[i] = kind
    stack[idx] = Slot(tuple(kinds))


def _set_byte(stack: dict[int, Slot], idx: int, pos: int, kind: Byte) -> None:
    _overwrite(stack, idx, pos, 1, kind)


def stack_fill(stack: dict[int, Slot], idx: int, pos: int, size: int) -> Reg | None:
    """What :func:`stack_read` gives for ``size`` bytes at byte ``pos`` of slot ``idx`` (a
    checked, constant offset), in the commonest cases: a whole-slot fill of a whole-slot
    spill; bytes of one slot that are all numbers (MISC/ZERO); a narrow number spill, whole
    or its low bytes. None: any other case (stack_read's general path)."""
    slot = stack.get(idx)
    if slot is None or pos + size > 8:
        return None
    if size == 8 and slot.kinds == _ALL_SPILL and slot.spilled is not None \
            and slot.spill_size == 8:
        return slot.spilled
    kinds = slot.kinds[pos:pos + size]
    if Byte.SPILL not in kinds and Byte.INVALID not in kinds:
        if Byte.MISC in kinds:
            return sized_unknown(size)
        return const_scalar(0)
    spilled = slot.spilled
    if spilled is not None and spilled.type is _SCALAR and pos == slot.spill_pos \
            and kinds == _ALL_SPILL[:size]:
        if size == slot.spill_size:
            return spilled
        if size < slot.spill_size:
            return scalar(B.truncate(spilled.var, size))
    return None


def stack_read(state: State, reg: Reg, regno: int, insn_off: int, size: int, *,
               uninit_ok: bool, depth: list[int], what: str = "read") -> Reg:
    """What loading ``size`` bytes from the stack gives."""
    frame = state.frames[reg.frameno]
    lo, hi = offset_span(reg, insn_off)
    if reg.var[8][1]:   # (not a constant offset)
        _check_var_bounds(reg, regno, "stack")
    if lo < -STACK_BYTES or hi + size > 0:
        raise Reject(f"invalid {what} from stack R{regno} off={lo} size={size}: outside "
                     f"fp-512 .. fp-1", hint="keep stack accesses within 512 bytes below r10",
                     regs=(regno,))
    if lo == hi and lo % size and what == "read":
        raise Reject(f"misaligned stack access off {lo} size {size}",
                     hint=f"align {size}-byte stack accesses to {size} bytes", regs=(regno,))
    if lo != hi and what == "read":
        check_alignment(reg, regno, insn_off, size, "stack")
    if depth[0] < -lo:
        depth[0] = -lo
    if lo == hi:
        idx, pos = divmod(STACK_BYTES + lo, 8)
        got = stack_fill(frame.stack, idx, pos, size)
        if got is not None:
            return got
    all_zero = True
    spilled_zero = lo == hi   # every byte read is of a spilled constant 0 (then 0, too)
    for idx, pos in _slot_bytes(state, reg.frameno, lo, hi + size):
        slot = frame.stack.get(idx, EMPTY_SLOT)
        kind = slot.kinds[pos]
        if kind is Byte.INVALID:
            if not uninit_ok:
                raise Reject(f"invalid {what} from stack R{regno} off {lo} size {size}: "
                             f"fp{idx * 8 + pos - STACK_BYTES:+d} was never written on this "
                             f"path", hint="initialise the stack variable (or the whole "
                             "struct, e.g. with `= {}` / __builtin_memset) before reading it",
                             regs=(regno,))
            all_zero = False
            spilled_zero = False   # never-written bytes hold whatever was there before
        elif kind is Byte.SPILL:
            if slot.spilled is not None and slot.spilled.type not in NOT_POINTER and (
                    lo != hi or size != 8):
                raise Reject(f"invalid size of register fill: R{regno} reads {size} bytes "
                             f"of a spilled pointer", hint="reload spilled pointers with "
                             "8-byte loads", regs=(regno,))
            all_zero = False
            spilled_zero = spilled_zero and slot.spilled is not None and \
                slot.spilled.type is _SCALAR and slot.spilled.var.is_const and \
                slot.spilled.var.value == 0
        elif kind is not Byte.ZERO:
            all_zero = False
            spilled_zero = False
        else:
            spilled_zero = False
    if lo == hi:
        idx, pos = _index(lo)
        slot = frame.stack.get(idx, EMPTY_SLOT)
        if (slot.spilled is not None and slot.spill_pos == pos and slot.spill_size == size
                and all(k is Byte.SPILL for k in slot.kinds[pos:pos + size])):
            return slot.spilled
        if (slot.spilled is not None and slot.spilled.type is _SCALAR and slot.spill_pos == pos
                and size < slot.spill_size
                and all(k is Byte.SPILL for k in slot.kinds[pos:pos + size])):
            # the low bytes of a spilled number (little-endian): its value cut to ``size``
            # bytes, as the kernel keeps it (a 4-byte reload of a spilled int stays bounded)
            return scalar(B.truncate(slot.spilled.var, size))
    if all_zero or spilled_zero:
        return const_scalar(0)
    return sized_unknown(size)


def stack_initialised(state: State, reg: Reg, regno: int, size: int, *, uninit_ok: bool,
                      depth: list[int], pointers_ok: bool = True) -> None:
    """A helper reads ``size`` bytes at a stack pointer (as raw memory)."""
    if size == 0:
        return
    frame = state.frames[reg.frameno]
    lo, hi = offset_span(reg, 0)
    if reg.var[8][1]:   # (not a constant offset)
        _check_var_bounds(reg, regno, "stack")
    if lo < -STACK_BYTES or hi + size > 0:
        raise Reject(f"invalid indirect access to stack R{regno} off={lo} size={size}: "
                     f"outside fp-512 .. fp-1", hint="the buffer must lie within the 512-byte "
                     "stack: make it smaller or check its size", regs=(regno,))
    depth[0] = max(depth[0], -lo)
    if lo == hi and pointers_ok:
        # the commonest case (a map key in one slot, all written): nothing to do
        idx, pos = divmod(STACK_BYTES + lo, 8)
        slot = frame.stack.get(idx)
        if slot is not None and pos + size <= 8 and \
                Byte.INVALID not in slot.kinds[pos:pos + size]:
            return
    for idx, pos in _slot_bytes(state, reg.frameno, lo, hi + size):
        slot = frame.stack.get(idx, EMPTY_SLOT)
        if not pointers_ok and slot.kinds[pos] is Byte.SPILL and slot.spilled is not None \
                and slot.spilled.type not in NOT_POINTER:
            raise Reject(f"invalid indirect read from stack R{regno} off {lo}+0 size {size}: "
                         f"fp{idx * 8 + pos - STACK_BYTES:+d} holds a spilled pointer, which "
                         f"an unprivileged program may not hand to a helper", regs=(regno,))
        if slot.kinds[pos] is Byte.INVALID:
            if not uninit_ok:
                raise Reject(f"invalid indirect read from stack R{regno} off {lo} size "
                             f"{size}: fp{idx * 8 + pos - STACK_BYTES:+d} is uninitialised",
                             hint="initialise the whole buffer (or struct, padding "
                             "included) before passing it to a helper", regs=(regno,))
            _set_byte(frame.writable_stack(), idx, pos, Byte.MISC)


def stack_filled(state: State, reg: Reg, regno: int, size: int, *, depth: list[int]) -> None:
    """A helper writes ``size`` bytes at a stack pointer."""
    if size == 0:
        return
    frame = state.frames[reg.frameno]
    lo, hi = offset_span(reg, 0)
    if reg.var[8][1]:   # (not a constant offset)
        _check_var_bounds(reg, regno, "stack")
    if lo < -STACK_BYTES or hi + size > 0:
        raise Reject(f"invalid indirect access to stack R{regno} off={lo} size={size}: "
                     f"outside fp-512 .. fp-1", hint="the buffer must lie within the 512-byte "
                     "stack: make it smaller or check its size", regs=(regno,))
    depth[0] = max(depth[0], -lo)
    # byte by byte as a store of each would be, one slot at a time: the first byte's write
    # un-spills the slot, the rest of its bytes then simply become MISC
    stack = frame.writable_stack()
    at, end = STACK_BYTES + lo, STACK_BYTES + hi + size
    while at < end:
        idx, pos = divmod(at, 8)
        stop = min(end, idx * 8 + 8)
        _set_byte(stack, idx, pos, Byte.MISC)
        if stop - at > 1:
            kinds = list(stack[idx].kinds)
            kinds[pos + 1:stop - idx * 8] = [Byte.MISC] * (stop - at - 1)
            stack[idx] = Slot(tuple(kinds))
        at = stop


# -- the other memories -----------------------------------------------------------------------

def check_region(reg: Reg, regno: int, insn_off: int, size: int, limit: int, what: str,
                 hint: str | Callable[[], str]) -> tuple[int, int]:
    """A fixed-size region (map value, ring buffer record): every byte in [0, limit).
    ``hint`` may be a function that writes it (formatted only for a rejection)."""
    _check_var_bounds(reg, regno, what)
    lo, high = offset_span(reg, insn_off)
    if reg.var[8][1]:   # (not a constant offset)
        high = reg.off + insn_off + reg.var.umax
    if lo < 0 or high + size > limit:
        raise Reject(f"invalid access to {what}: {what} size={limit}, R{regno} off={lo}.."
                     f"{high} size={size}", hint=hint if isinstance(hint, str) else hint(),
                     regs=(regno,))
    return lo, high


def check_packet(reg: Reg, regno: int, insn_off: int, size: int) -> None:
    """``range`` counts bytes from the packet start plus the variable offset the pointers of
    one id share, so only the fixed offsets are compared with it."""
    _check_var_bounds(reg, regno, "packet")
    off = reg.off + insn_off
    if off < 0 or off + size > reg.range:
        raise Reject(f"invalid access to packet, off={off} size={size}, R{regno}"
                     f"({reg.describe()}): only {reg.range} bytes past this pointer's "
                     f"base are checked against data_end",
                     hint=f"compare the pointer plus {off + size} with data_end first: "
                          f"`if (p + {off + size} > data_end) return ...;`",
                     regs=(regno,))


def ctx_access(prog_type: ProgramType, reg: Reg, regno: int, insn_off: int, size: int, *,
               write: bool, attach: AttachType | None = None) -> CtxAccess:
    """The verdict on a context access (raises Reject when refused); ``attach`` is the
    program's expected attach type, which some types' rules depend on."""
    if reg.off or not reg.var.is_const or reg.var.value:
        raise Reject(f"dereference of modified ctx ptr R{regno} off={reg.off}"
                     f"{'' if reg.var.is_const else ' var_off=' + str(reg.var)} disallowed",
                     hint="access context fields as `ctx->field` on the unmodified r1 "
                          "(constant offset in the instruction)", regs=(regno,))
    if prog_type in SOCK_TYPES:
        verdict = sock_ctx_access(prog_type, insn_off, size, write, attach)
    else:
        verdict = check_ctx_access(prog_type, insn_off, size, write=write)
    if prog_type not in SUPPORTED_TYPES and prog_type not in SOCK_TYPES:
        raise Reject(verdict.why, kernel_rejects=False)
    if verdict.unsupported:
        raise Reject(verdict.why, regs=(regno,), kernel_rejects=False,
                     hint="verify this program with the kernel")
    if verdict.why:
        raise Reject(f"invalid bpf_context access off={insn_off} size={size}: {verdict.why}",
                     hint="use only the fields this program type may "
                          f"{'write' if write else 'read'}, with their own size",
                     regs=(regno,))
    return verdict


# kernel objects a map value may embed, which programs touch only through their helpers or
# kfuncs (the kernel's btf_record fields; their rules are in .kptr)
_SPECIAL_STRUCTS = {"bpf_spin_lock", "bpf_res_spin_lock", "bpf_timer", "bpf_wq",
                    "bpf_list_head", "bpf_list_node", "bpf_rb_root", "bpf_rb_node",
                    "bpf_refcount", "bpf_task_work", "bpf_workqueue"}
_special_cache: dict[int, tuple[Any, list[tuple[int, int, str]]]] = {}
_SPECIAL_CACHE_SIZE = 256


def _special_fields(t: Any, base: int, out: list[tuple[int, int, str]], depth: int = 0
                    ) -> None:
    if depth > 16:
        return
    t0 = t
    t = skip_qualifiers(t)
    if isinstance(t, Ptr):
        target = t.target
        for _ in range(8):   # __kptr & co are type tags on the pointed-to type
            if isinstance(target, TypeTag) and "kptr" in target.value:
                out.append((base, base + 8, target.value))
                return
            if not hasattr(target, "type") or isinstance(target, (Struct, Union)):
                break
            target = target.type
        return
    if isinstance(t, (Struct, Union)):
        if t.name in _SPECIAL_STRUCTS:
            out.append((base, base + t.size, t.name))
            return
        for mem in t.members:
            _special_fields(mem.type, base + mem.bit_offset // 8, out, depth + 1)
    elif isinstance(t, Array) and t.nelems:
        try:
            step = sizeof(t.type)
        except Exception:   # noqa: BLE001 - a type without a size holds no field we know
            return
        for i in range(min(t.nelems, 64)):
            _special_fields(t.type, base + i * step, out, depth + 1)
    del t0


def special_fields(m: Any) -> list[tuple[int, int, str]]:
    """(start, end, name) of the kptr/spin lock/timer... fields of map ``m``'s value."""
    if m is None or getattr(m, "value_type", None) is None:
        return []
    cached = _special_cache.get(id(m))
    if cached is None or cached[0] is not m:
        fields: list[tuple[int, int, str]] = []
        try:
            _special_fields(m.value_type, 0, fields)
        except Exception:   # noqa: BLE001 - malformed BTF: no fields known
            fields = []
        cached = (m, fields)
        if len(_special_cache) >= _SPECIAL_CACHE_SIZE:
            _special_cache.clear()   # entries keep their maps (and BTF) alive: stay bounded
        _special_cache[id(m)] = cached
    return cached[1]


def map_may_write(m: Any) -> bool:
    """A frozen map (.rodata) is loaded with BPF_F_RDONLY_PROG too."""
    return not (m.flags & RDONLY_PROG or m.readonly)


def map_may_read(m: Any) -> bool:
    return not m.flags & WRONLY_PROG


def check_map_rights(reg: Reg, regno: int, off: int, size: int, *, read: bool = False,
                     write: bool = False) -> None:
    """The map's BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG rights (kernel check_map_access_type)."""
    m = reg.map
    if not ((write and not map_may_write(m)) or (read and not map_may_read(m))):
        return
    where = f"value_size={m.value_size} off={reg.off + off} size={size}"
    if write and not map_may_write(m):
        raise Reject(f"write into map forbidden, {where}: map '{m.name}' is read-only for "
                     f"programs (BPF_F_RDONLY_PROG)", regs=(regno,),
                     hint="write to a map programs may write (.data/.bss, not .rodata or a "
                          "map created with BPF_F_RDONLY_PROG)")
    if read and not map_may_read(m):
        raise Reject(f"read from map forbidden, {where}: map '{m.name}' is write-only for "
                     f"programs (BPF_F_WRONLY_PROG)", regs=(regno,),
                     hint="programs may only write into this map's values; read them from "
                          "user space")


def check_alignment(reg: Reg, regno: int, off: int, size: int, what: str) -> None:
    """Strict alignment (stack accesses, atomics): the whole offset, variable part included,
    must be a multiple of ``size`` (the kernel's check_generic_ptr_alignment)."""
    if size == 1:
        return
    value, mask = tnum.add(reg.var.var, tnum.const(reg.off + off))
    if (value | mask) & (size - 1):
        desc = f"{what} " if what else ""
        raise Reject(f"misaligned {desc}access off {reg.var}+{reg.off}+{off} size {size}",
                     regs=(regno,), hint=f"align {size}-byte {desc}accesses to {size} "
                                         f"bytes (the variable part too: `idx &= ~{size - 1}`)")


def map_value_read(reg: Reg, lo: int, high: int, size: int) -> Reg | None:
    """The bytes of a frozen (read-only) map at a constant offset, as the kernel folds them."""
    m = reg.map
    if not reg.readonly or lo != high or m is None or m.data is None:
        return None
    data = m.data[lo:lo + size]
    if len(data) != size:
        return None
    return const_scalar(int.from_bytes(data, "little"))


def region_of(reg: Reg) -> str:
    return {RegType.PTR_TO_MAP_VALUE: "map value", RegType.PTR_TO_MEM: "memory",
            RegType.PTR_TO_STACK: "stack", RegType.PTR_TO_PACKET: "packet"}.get(
        reg.type, str(reg.type))


def is_memory(reg: Reg) -> bool:
    return reg.type in _MEMORY_TYPES


def widen_stack_scalars(state: State, frames: range) -> None:
    """Forget scalar values on the stacks of ``frames`` (a callback may change them)."""
    for i in frames:
        stack = state.frames[i].writable_stack()
        for idx, slot in list(stack.items()):
            if slot.spilled is not None and slot.spilled.type is _SCALAR:
                kinds = tuple(Byte.MISC if k is Byte.SPILL else k for k in slot.kinds)
                stack[idx] = Slot(kinds)
                slot = stack[idx]
            if Byte.ZERO in slot.kinds:
                stack[idx] = replace(slot, kinds=tuple(Byte.MISC if k is Byte.ZERO else k
                                                       for k in slot.kinds))
