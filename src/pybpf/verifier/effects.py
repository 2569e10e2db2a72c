"""The :class:`~.liveness.Effect` of one instruction on the state it runs in.

Built from the instruction and the register types *before* it runs (which register is a
stack pointer, which scalars are linked copies), so the backward pass of
:mod:`.liveness` never needs the states again. Whatever is hard to follow exactly (a
callback, a legacy packet load, a kfunc outside the few modelled) demands everything,
which only costs pruning.
"""

from __future__ import annotations

from typing import Any

from ..asm.instruction import Instruction
from ..asm.opcodes import (
    CLASS_MASK,
    LDDW_OPCODE,
    MODE_MASK,
    OP_MASK,
    SIZE_MASK,
    SOURCE_MASK,
    ALUOp,
    AtomicOp,
    Class,
    JumpOp,
    Mode,
    Size,
)
from ..spec import MapType
from . import kfuncs
from .access import offset_span, stack_read
from .helpers import PROTOS, Arg, Proto
from .liveness import EVERYTHING, NOTHING, SLOTS, Effect, all_slot_keys, reg_key, slot_key
from .reject import Reject
from .state import NOT_POINTER, RegType, State

_SCALAR = RegType.SCALAR

_R0_TO_R5 = tuple(range(6))
_ARRAYS = (MapType.ARRAY, MapType.PERCPU_ARRAY)


def _stack_slots(state: State, regno: int, insn_off: int, size: int) -> tuple[int, ...]:
    """Keys of the stack slots ``size`` bytes at ``regs[regno] + insn_off`` may touch."""
    reg = state.frames[-1].regs[regno]
    lo, hi = offset_span(reg, insn_off)
    first = max((512 + lo) // 8, 0)
    last = min((512 + hi + size - 1) // 8, SLOTS - 1)
    return tuple(slot_key(reg.frameno, i) for i in range(first, last + 1))


def _is_stack(state: State, regno: int) -> bool:
    return regno <= 10 and state.frames[-1].regs[regno].type is RegType.PTR_TO_STACK


def _linked(state: State, regno: int) -> tuple[int, ...]:
    """Keys of every register and spill sharing ``regno``'s scalar id (refined together)."""
    reg = state.frames[-1].regs[regno]
    if reg.type is not _SCALAR or reg.id == 0:
        return ()
    rid = reg.id
    keys: list[int] = []
    for f, frame in enumerate(state.frames):
        keys += [reg_key(f, i) for i, r in enumerate(frame.regs)
                 if r.id == rid and r.type is _SCALAR]
        keys += [slot_key(f, index) for index, slot in frame.stack.items()
                 if (r := slot.spilled) is not None and r.id == rid and r.type is _SCALAR]
    return tuple(keys)


# the opcode fields ``before`` tests, as plain ints: reading a member off an IntEnum class
# costs four times a global in Python 3.11, and ``before`` runs for every instruction (the BPF_X bit
# likewise: ``opcode & SOURCE_MASK``, not the Instruction.uses_src_register property)
_ALU, _ALU64, _LD, _LDX, _JMP, _JMP32 = (int(c) for c in (
    Class.ALU, Class.ALU64, Class.LD, Class.LDX, Class.JMP, Class.JMP32))
_MOV, _END, _NEG = int(ALUOp.MOV), int(ALUOp.END), int(ALUOp.NEG)
_CALL, _EXIT, _JA, _JCOND = (int(j) for j in (JumpOp.CALL, JumpOp.EXIT, JumpOp.JA,
                                               JumpOp.JCOND))
_ST, _STX = int(Class.ST), int(Class.STX)
_ATOMIC, _IND = int(Mode.ATOMIC), int(Mode.IND)
_LOAD_ACQ, _STORE_REL = int(AtomicOp.LOAD_ACQ), int(AtomicOp.STORE_REL)
_NBYTES = {int(s): s.nbytes for s in Size}   # Size(bits) makes an enum member: slower
_PTR_TO_STACK = RegType.PTR_TO_STACK
_CONST_PTR_TO_MAP = RegType.CONST_PTR_TO_MAP


# The effects :func:`before` may cache depend on the instruction's fields, the frame depth
# and register facts given in their keys, never on the program: every walk shares them, so
# that a small program finds most of its effects made by the programs before it (a
# per-walk cache made them again for each). Bounded: emptied when a walk starts on a full one.
_SHARED: dict[Any, Effect] = {}
_SHARED_MAX = 1 << 16


def shared_cache() -> dict[Any, Effect]:
    """The cache of effects for a new walk (see :func:`before`)."""
    if len(_SHARED) > _SHARED_MAX:
        _SHARED.clear()
    return _SHARED


def before(state: State, insn: Instruction, cache: dict[Any, Effect] | None = None
           ) -> Effect:
    """The effect of ``insn``, from the state just before it runs.

    ``cache`` (:func:`shared_cache`) remembers the effects that depend on the instruction's
    fields and the frame depth only (most of them), those of loads and stores by where their
    base register points, and those of helper calls by what their arguments are."""
    f = len(state.frames) - 1
    if cache is None:
        return _before(state, insn, f)
    opcode = insn.opcode
    cls = opcode & CLASS_MASK
    if cls in (_ALU, _ALU64):
        op = opcode & OP_MASK
        fixed = op == _MOV or not insn.opcode & SOURCE_MASK or op in (_END, _NEG)
        if not fixed and insn.dst <= 10 and insn.src <= 10:
            # two registers: the effect varies only with which of them is a pointer
            regs = state.frames[-1].regs
            akey = ("alu", opcode, insn.dst, insn.src, f, regs[insn.dst].type is _SCALAR,
                    regs[insn.dst].type in NOT_POINTER, regs[insn.src].type is _SCALAR,
                    regs[insn.src].type in NOT_POINTER)
            eff = cache.get(akey)
            if eff is None:
                eff = cache[akey] = _before(state, insn, f)
            return eff
    elif cls == _LD:
        fixed = opcode == LDDW_OPCODE
    elif cls in (_JMP, _JMP32):
        op = opcode & OP_MASK
        if op == _CALL:
            if insn.src == 0:   # a helper: its effect varies only with its arguments
                hkey = _helper_key(state, insn, f)
                if hkey is not None:
                    eff = cache.get(hkey)
                    if eff is None:
                        eff = cache[hkey] = _before(state, insn, f)
                    return eff
            fixed = False
        elif op == _EXIT:
            fixed = f == 0    # the main function's exit reads r0, always the same way
        elif op in (_JA, _JCOND):
            fixed = True
        else:   # a conditional jump's effect varies only with linked scalar copies
            regs = state.frames[-1].regs
            fixed = (insn.dst > 10 or regs[insn.dst].id == 0
                     or regs[insn.dst].type is not _SCALAR)
            if fixed and insn.opcode & SOURCE_MASK:
                fixed = (insn.src > 10 or regs[insn.src].id == 0
                         or regs[insn.src].type is not _SCALAR)
            if not fixed:
                # ... so the same copies in the same places give the same effect
                linked = _linked(state, insn.dst) if insn.dst <= 10 else ()
                if insn.opcode & SOURCE_MASK and insn.src <= 10:
                    linked += _linked(state, insn.src)
                jkey = ("jump", opcode, insn.dst, insn.src, f, linked)
                eff = cache.get(jkey)
                if eff is None:
                    eff = cache[jkey] = _before(state, insn, f)
                return eff
    else:
        # a load or store: its effect varies only with where the base pointer points when
        # that is the stack
        if cls == _LDX or (opcode & MODE_MASK == _ATOMIC
                                and insn.imm == _LOAD_ACQ):
            base = insn.src
        else:
            base = insn.dst
        if base > 10:
            return _before(state, insn, f)
        reg = state.frames[-1].regs[base]
        mkey: Any
        if reg.type is _PTR_TO_STACK:
            mkey = ((opcode, insn.dst, insn.src, insn.off, insn.imm, f), reg.frameno, reg.off,
                    reg.var)
        else:
            # elsewhere, neither the offset nor the immediate matters (the registers do;
            # an atomic's op, in imm, too): the programs of a corpus share these
            mkey = ("mem", opcode, insn.dst, insn.src,
                    insn.imm if opcode & MODE_MASK == _ATOMIC else 0, f)
        eff = cache.get(mkey)
        if eff is None:
            eff = cache[mkey] = _before(state, insn, f)
        return eff
    if not fixed:
        return _before(state, insn, f)
    # what a fixed effect depends on: the opcode, the registers and the frame (so equal
    # instructions share it, as a large straight-line program has many)
    key = (((opcode << 8) | (insn.dst << 4) | insn.src) << 4) | f
    eff = cache.get(key)
    if eff is None:
        eff = cache[key] = _before(state, insn, f)
    return eff


def _before(state: State, insn: Instruction, f: int) -> Effect:
    cls = insn.opcode & CLASS_MASK
    d = reg_key(f, insn.dst)
    if cls in (_ALU, _ALU64):
        op = insn.opcode & OP_MASK
        if op == _MOV:
            if not insn.opcode & SOURCE_MASK:
                return Effect(kills=(d,))
            s = reg_key(f, insn.src)
            return Effect(kills=(d,), uses=(s,), flows=((d, (s,)),))
        if not insn.opcode & SOURCE_MASK or op in (_END, _NEG):
            return Effect(kills=(d,), uses=(d,), flows=((d, (d,)),))
        s = reg_key(f, insn.src)
        regs = state.frames[-1].regs
        precise: tuple[int, ...] = ()
        if insn.dst <= 10 and insn.src <= 10:
            a, b = regs[insn.dst], regs[insn.src]
            if a.type not in NOT_POINTER and b.type is _SCALAR:
                precise = (s,)       # the number moves a pointer: its range decides access
            elif a.type is _SCALAR and b.type not in NOT_POINTER:
                precise = (d,)
        return Effect(kills=(d,), uses=(d, s), flows=((d, (d, s)),), precise=precise)
    if cls == _LDX:
        s = reg_key(f, insn.src)
        if not _is_stack(state, insn.src):
            return Effect(kills=(d,), uses=(s,))
        slots = _stack_slots(state, insn.src, insn.off,
                             _NBYTES[insn.opcode & SIZE_MASK])
        return Effect(kills=(d,), uses=(s,) + slots, flows=((d, slots),))
    if cls in (_ST, _STX):
        return _store(state, insn, f, d, cls)
    if cls == _LD:
        if insn.opcode == LDDW_OPCODE:
            return Effect(kills=(d,))
        # a legacy packet load reads r6 (the context) and its offset register (checked at
        # run time: its value decides nothing here), clobbers r0-r5; when out of the
        # packet it ends the program with 0, which reads nothing of the state
        uses: tuple[int, ...] = (reg_key(f, 6),)
        if insn.opcode & MODE_MASK == _IND:
            uses += (reg_key(f, insn.src),)
        return Effect(kills=tuple(reg_key(f, i) for i in _R0_TO_R5), uses=uses)
    return _jump(state, insn, f, d)


def _store(state: State, insn: Instruction, f: int, d: int, cls: int) -> Effect:
    size = _NBYTES[insn.opcode & SIZE_MASK]
    mode = insn.opcode & MODE_MASK
    s = reg_key(f, insn.src) if cls == _STX else None
    value = (s,) if s is not None else ()
    if mode == _ATOMIC and insn.imm == _LOAD_ACQ:   # dst = *(src + off)
        src = reg_key(f, insn.src)
        if not _is_stack(state, insn.src):
            return Effect(kills=(d,), uses=(src,))
        slots = _stack_slots(state, insn.src, insn.off, size)
        return Effect(kills=(d,), uses=(src,) + slots, flows=((d, slots),))
    if mode == _ATOMIC and insn.imm != _STORE_REL:
        r0 = reg_key(f, 0)
        slots = _stack_slots(state, insn.dst, insn.off, size) if _is_stack(
            state, insn.dst) else ()
        flows = tuple((k, slots + value) for k in slots) + tuple(
            (k, slots) for k in value + (r0,))
        return Effect(uses=(d, r0) + value + slots, flows=flows)
    if not _is_stack(state, insn.dst):
        return Effect(uses=(d,) + value)
    slots = _stack_slots(state, insn.dst, insn.off, size)
    reg = state.frames[-1].regs[insn.dst]
    lo, hi = offset_span(reg, insn.off)
    if len(slots) == 1 and lo == hi and lo % 8 == 0 and size == 8:
        # the whole slot is overwritten: what it held before cannot matter
        return Effect(kills=slots, uses=(d,) + value, flows=((slots[0], value),))
    return Effect(uses=(d,) + value, flows=tuple((k, (k,) + value) for k in slots))


def _jump(state: State, insn: Instruction, f: int, d: int) -> Effect:
    op = insn.opcode & OP_MASK
    if op in (_JA, _JCOND):
        return NOTHING
    if op == _CALL:
        if insn.is_pseudo_call:
            moves = tuple((reg_key(f + 1, i), reg_key(f, i)) for i in range(1, 6))
            return Effect(moves=moves, drop_from=f + 1)
        if insn.src != 0:
            return _kfunc(insn, f)
        return _helper(state, insn, f)
    if op == _EXIT:
        r0 = reg_key(f, 0)
        if f == 0:
            return Effect(uses=(r0,), precise=(r0,))   # the return value's range is checked
        if state.frames[f].resume is not None:
            return EVERYTHING   # a callback returns into its caller's widened frames
        caller_r0 = reg_key(f - 1, 0)
        return Effect(kills=tuple(reg_key(f - 1, i) for i in _R0_TO_R5), uses=(r0,),
                      moves=((caller_r0, r0),))
    # a conditional jump: reads its operands; a scalar refined here also refines its
    # linked copies, so a precise copy needs the others (and the operands) precise
    operands = (d,) + ((reg_key(f, insn.src),) if insn.opcode & SOURCE_MASK else ())
    linked = _linked(state, insn.dst)
    if insn.opcode & SOURCE_MASK:
        linked += _linked(state, insn.src)
    flows = tuple((k, linked + operands) for k in linked)
    return Effect(uses=operands, flows=flows)


def decided(state: State, insn: Instruction, effect: Effect) -> Effect:
    """A conditional jump only one side of which could happen: the scalars compared decided
    that (the other side was never explored), so their values must be precise."""
    f = len(state.frames) - 1
    keys = []
    for regno in (insn.dst, insn.src) if insn.opcode & SOURCE_MASK else (insn.dst,):
        if regno <= 10 and state.frames[-1].regs[regno].type is _SCALAR:
            keys.append(reg_key(f, regno))
    return Effect(kills=effect.kills, uses=effect.uses, precise=tuple(keys),
                  flows=effect.flows, moves=effect.moves)


def _helper_key(state: State, insn: Instruction, f: int) -> tuple[Any, ...] | None:
    """What :func:`_helper`'s effect depends on: the helper, the frame, and per argument
    its type and what of it _helper reads (where a stack pointer points, a number's
    range, the map's type and sizes, whether an array map's key is a constant)."""
    proto = PROTOS.get(insn.imm)
    nargs = len(proto.args) if proto is not None else 5
    parts: list[Any] = ["call", insn.imm, f]
    array = False
    for r in state.frames[-1].regs[1:nargs + 1]:
        t = r.type
        if t is _PTR_TO_STACK:
            parts.append((r.frameno, r.off, r.var))
        elif t is _SCALAR:
            parts.append(r.var)
        elif t is _CONST_PTR_TO_MAP:
            if r.map is None:
                return None
            array = array or r.map.type in _ARRAYS
            m = r.map   # what _helper reads of it (the cache outlives the program)
            parts.append((m.type, m.key_size, m.value_size))
        else:
            parts.append(t)
    if array and proto is not None:
        # an array map's key: whether it is a constant on the stack, as _helper asks
        parts.append(any(_const_key(state, i) for i, kind in enumerate(proto.args, start=1)
                         if kind is Arg.MAP_KEY))
    return tuple(parts)


def _helper(state: State, insn: Instruction, f: int) -> Effect:
    proto = PROTOS.get(insn.imm)
    nargs = len(proto.args) if proto is not None else 5
    regs = state.frames[-1].regs
    args = tuple(reg_key(f, i) for i in range(1, nargs + 1))
    precise = list(args)        # sizes, flags, constant keys: every argument may matter
    uses = list(args)
    # an array map's key on the stack may be a constant that makes the lookup non-null
    # (see calls._const_key): then the key's bytes are precise, else only read
    array_key = any(regs[i].type is _CONST_PTR_TO_MAP
                    and regs[i].map.type in _ARRAYS for i in range(1, nargs + 1))
    if array_key and proto is not None:
        keys = [i for i, kind in enumerate(proto.args, start=1) if kind is Arg.MAP_KEY]
        array_key = any(_const_key(state, i) for i in keys)
    for i in range(1, nargs + 1):
        reg = regs[i]
        if reg.type is RegType.PTR_TO_FUNC:
            return EVERYTHING   # bpf_loop & co: the callback's frames resume the caller
        if reg.type is _PTR_TO_STACK:
            size = _arg_bytes(state, proto, i) if proto is not None else None
            if size is None:
                # the helper may read from the pointer up to the frame's top
                lo, _ = offset_span(reg, 0)
                slots = all_slot_keys(reg.frameno, (512 + lo) // 8)
            else:
                slots = _stack_slots(state, i, 0, max(size, 1))
            (precise if array_key else uses).extend(slots)
    return Effect(kills=tuple(reg_key(f, i) for i in _R0_TO_R5), uses=tuple(uses),
                  precise=tuple(precise))


def _kfunc(insn: Instruction, f: int) -> Effect:
    """A kfunc call reads the arguments of its BTF prototype (numbers and kernel object
    pointers: the kinds kfuncs.check_args models, which read no stack) and clobbers r0-r5;
    every argument may matter, as a helper's. Any other kfunc (or one of a module, or of
    BTF id 0, which the walk steps over) demands everything."""
    nargs = None if insn.off or (insn.imm == 0 and not insn.reference) else \
        kfuncs.arg_count(insn.reference if insn.imm == 0 else None, insn.imm)
    if nargs is None:
        return EVERYTHING
    args = tuple(reg_key(f, i) for i in range(1, nargs + 1))
    return Effect(kills=tuple(reg_key(f, i) for i in _R0_TO_R5), uses=args, precise=args)


def _const_key(state: State, regno: int) -> bool:
    """Is the 4-byte key at ``regs[regno]`` a constant (as calls._const_key)?"""
    reg = state.frames[-1].regs[regno]
    if reg.type is not _PTR_TO_STACK or not reg.var.is_const:
        return False
    try:
        value = stack_read(state, reg, 0, 0, 4, uninit_ok=False, depth=[0])
    except Reject:
        return False
    return value.type is _SCALAR and value.var.is_const


_MAP_MEM = (Arg.MAP_KEY, Arg.MAP_VALUE, Arg.UNINIT_MAP_VALUE)
_SIZED_MEM = (Arg.MEM, Arg.MEM_OR_NULL, Arg.UNINIT_MEM, Arg.RW_MEM, Arg.RW_MEM_OR_NULL)


def _arg_bytes(state: State, proto: Proto, regno: int) -> int | None:
    """How many bytes the helper may touch at argument ``regno`` (a stack pointer), as its
    prototype says: the map's key or value size, or the next argument's largest size;
    None when not known (then everything up to the frame's top)."""
    if regno > len(proto.args):
        return None
    kind = proto.args[regno - 1]
    regs = state.frames[-1].regs
    if kind in _MAP_MEM:
        maps = [regs[i].map for i in range(1, len(proto.args) + 1)
                if regs[i].type is _CONST_PTR_TO_MAP]
        if len(maps) != 1 or maps[0] is None:
            return None
        m = maps[0]
        if kind is Arg.MAP_KEY and m.type != MapType.BLOOM_FILTER:
            return int(m.key_size)
        return int(m.value_size)
    if kind in _SIZED_MEM and regno < len(proto.args) and \
            proto.args[regno] in (Arg.SIZE, Arg.SIZE_OR_ZERO):
        size = regs[regno + 1]
        if size.type is RegType.SCALAR and size.var.umax < 1 << 29:
            return int(size.var.umax)
    return None


def global_call(state: State, params: tuple[Any, ...]) -> Effect:
    """A call of a global function (verified on its own, from its prototype): reads its
    arguments and the stack they point to, clobbers r0-r5. A number argument is judged by
    its type, so only a "mem" argument's value must be exact (0 is NULL); as the kernel's
    backtracking, which stops at a global call."""
    f = len(state.frames) - 1
    uses: list[int] = []
    precise: list[int] = []
    flows: list[tuple[int, tuple[int, ...]]] = []
    for i, param in enumerate(params, start=1):
        uses.append(reg_key(f, i))
        if param.kind == "mem":
            precise.append(reg_key(f, i))
            reg = state.frames[-1].regs[i]
            if reg.type is _PTR_TO_STACK:
                # the function may read and write ``size`` bytes there
                slots = _stack_slots(state, i, 0, max(param.size, 1))
                uses.extend(slots)
                flows.extend((k, (k,)) for k in slots)
    return Effect(kills=tuple(reg_key(f, i) for i in _R0_TO_R5), uses=tuple(uses),
                  precise=tuple(precise), flows=tuple(flows))


__all__ = ["before", "decided", "global_call"]
