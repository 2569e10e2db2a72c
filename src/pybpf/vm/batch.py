"""Many runs of one program, one packet each, on one machine (``VMProgram.run_many`` and
``VMProgram.test_run_many``).

A one-at-a-time run builds an address space, a stack, a context and the helpers' state,
which costs several microseconds, more than a packet filter's whole run. A batch builds
them once and, before each run, puts the next packet into the same packet buffer, copies
the context (or raw memory) back from a template, zeroes the stack frames a run can reach
and unmaps whatever the last run mapped (map values, helper memory), so each run starts
from exactly the state a fresh one would have: the same addresses, the same bytes. Only
maps and ``env`` carry over, as they do between separate runs.

In the Python tier the program's translated function is called directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..spec import ProgramType
from . import context as contexts
from . import interpreter as ip
from .event_helpers import MAX_TAIL_CALL_CNT, TailCall
from .helpers import RunState
from .interpreter import MAY_GOTO_LOOPS, STACK_BYTES, STACK_BYTES_PER_FRAME, Machine
from .memory import Memory

if TYPE_CHECKING:
    from .program import VMProgram

MASK32 = 0xFFFF_FFFF
MASK64 = (1 << 64) - 1


def run_batch(program: VMProgram, packets: Iterable[bytes], *, ctx: bytes | None,
              raw: bool, budget: int, tier: str) -> list[int]:
    """r0 of each run (``raw``: as ``run(ctx, packet=p)``, all 64 bits) or its retval (as
    ``test_run(p, ctx)``, the low 32 bits)."""
    from .program import _run_chain, _tail_in_frame

    if raw and tier == "llvm":  # the whole batch in native code (see llvmtier)
        from .llvmtier import run_packets
        return run_packets(program, list(packets), ctx, budget=budget).tolist()
    memory = Memory()
    if raw:
        reuse = None
        packet_region = memory.add_low("packet", bytearray())
        packet_region.writable = False
        packet = contexts.Packet(packet_region, 0, 0, None, xdp=False)
    elif program.type == ProgramType.XDP or program.type in contexts.SKB_TYPES:
        reuse = contexts.PacketReuse(memory, program.type, ctx)
        read, written = _context_use_of(program)
        reuse.restrict(read, writes=written)
        packet = reuse.packet
    else:
        reuse, packet = None, None
    stack = memory.add("stack", bytearray(STACK_BYTES))
    stack.low = STACK_BYTES - STACK_BYTES_PER_FRAME
    # only the frames a run can reach need zeroing: the top one unless it calls functions
    reach = STACK_BYTES if _calls_functions(program._code) else STACK_BYTES_PER_FRAME
    if not uses_stack(program._code):
        reach = 0
    zeroes, stack_buf = bytes(reach), stack.buf
    fields, ctx_writes = _context_use_of(program)
    copy_back = ctx_writes or fields is None
    state = RunState(memory, dict(program._maps_by_address), program.env, packet=packet,
                     tail_calls_left=MAX_TAIL_CALL_CNT)
    machine = Machine(memory, stack, packet, state)
    r1 = r2 = 0
    ctx_buf: bytearray | None = None
    template = b""
    if raw and ctx is not None:
        template = bytes(ctx)
        ctx_buf = bytearray(template)
        r1, r2 = memory.add("memory", ctx_buf).base, len(ctx_buf)
    elif reuse is not None:
        r1 = memory.add("context (xdp_md)" if reuse.xdp else "context (__sk_buff)",
                        reuse.ctx).base
    elif ctx is not None:
        template = bytes(ctx)
        ctx_buf = bytearray(template)
        r1 = memory.add("context", ctx_buf).base
    r10 = stack.end
    mark = memory.checkpoint()
    machine.run_tail_in_frame = lambda tail, ctx, r10: _tail_in_frame(
        machine, tail, ctx, r10, budget, tier)
    state.call_function = program.function_caller(tier, machine, budget)
    entry = None
    if tier == "python":
        from .pytier import TranslatedProgram
        translated = program._compiled_for("python")
        assert isinstance(translated, TranslatedProgram)
        entry = translated.entry
    mask = MASK64 if raw else MASK32
    counters = any(h is ip._may_goto or h is ip._call_tail for h, *_ in program._code)
    results: list[int] = []
    append = results.append

    def chain(start: VMProgram, r2: int) -> int:
        """One run through the general runner (other tiers, or after a tail call)."""
        regs = [0, r1, r2, 0, 0, 0, 0, 0, 0, 0, r10]
        machine.frames = []
        machine.nested_insns = 0
        saved = state.call_function
        try:
            _run_chain(start, machine, regs, budget, tier)
        finally:
            state.call_function = saved
        return regs[0]

    load: Callable[[bytes], None] | None = reuse.load if reuse is not None else None
    try:
        for data in packets:
            if load is not None:
                load(data)
            elif raw:
                packet_region.buf[:] = data
                if ctx_buf is not None and copy_back:
                    ctx_buf[:] = template
            elif ctx_buf is not None and copy_back:
                ctx_buf[:] = template
            if reach:
                stack_buf[-reach:] = zeroes
            if counters:  # what only may_goto and tail calls spend
                machine.may_goto_left = MAY_GOTO_LOOPS
                state.tail_calls_left = MAX_TAIL_CALL_CNT
            if entry is None:
                r0 = chain(program, r2)
            else:
                machine.budget_left = budget
                try:
                    r0 = entry(machine, r1, r2, 0, 0, 0, r10)
                except ip._Halt:  # LD_ABS/LD_IND past the end: r0 = 0
                    r0 = 0
                except TailCall as tail:
                    r0 = chain(tail.program, 0)
            if state.ring_records:
                _discard_records(state)
            if memory._next_key != mark:
                memory.rewind(mark)
            append(r0 & mask)
    finally:
        _discard_records(state)
    return results


def _context_use_of(program: VMProgram) -> tuple[set[tuple[int, int]] | None, bool]:
    """:func:`context_use` of the program (a tail call is a call: everything)."""
    return context_use(program._code)


def _discard_records(state: RunState) -> None:
    # the verifier forbids leaking a ring buffer reservation; a fault may: drop them
    for ring, record in state.ring_records.values():
        ring.commit(record, discard=True)
    state.ring_records.clear()


_SAFE_READERS = (ip._ja, ip._gotol, ip._jmp64_k, ip._jmp64_x, ip._jmp32_k, ip._jmp32_x,
                 ip._exit, ip._mov64_k, ip._lddw)
_CALLS = (ip._call_helper, ip._call_tail, ip._call_local)


def context_use(code: ip.Code) -> tuple[set[tuple[int, int]] | None, bool]:
    """What a run can see of the context r1 points to: the (offset, size) fields it
    loads, or None when the pointer may escape where we cannot follow it (a call, pointer
    arithmetic, a spill, an unusual instruction), and whether it may store there.

    Registers that ever hold a copy of r1 (flow-insensitive: more registers than
    needed, never fewer) are the context registers; a batch refills only the fields read
    and copies the context back only when something may write it.
    """
    ctx_regs = {1}
    changed = True
    while changed:
        changed = False
        for h, d, s, _, _, _ in code:
            if h is ip._mov64_x and s in ctx_regs and d not in ctx_regs:
                ctx_regs.add(d)
                changed = True
    fields: set[tuple[int, int]] = set()
    writes = False
    for h, d, s, o, _, a in code:
        if h in _CALLS:
            return None, True
        if h is ip._ldx:
            if s in ctx_regs:
                fields.add((o, a))
        elif h in (ip._st, ip._stx) and d in ctx_regs:
            writes = True
            if h is ip._stx and s in ctx_regs:
                return None, True  # the pointer is stored somewhere
        elif h is ip._mov64_x or h in _SAFE_READERS:
            continue
        elif h is ip._ld_packet and not a[1]:
            continue  # LD_ABS reads the packet, not the context
        elif d in ctx_regs or s in ctx_regs:
            return None, True
    return fields, writes


def uses_stack(code: ip.Code) -> bool:
    """True when any instruction names r10 (or a call may be handed stack memory)."""
    return any(d == 10 or s == 10 or h in _CALLS for h, d, s, _, _, _ in code)


def _calls_functions(code: ip.Code) -> bool:
    """True when a run may use frames below the first: bpf-to-bpf calls or callbacks."""
    return any(h is ip._call_local or (h is ip._lddw and s == 4)  # 4: PseudoSrc.FUNC
               for h, _, s, _, _, _ in code)
