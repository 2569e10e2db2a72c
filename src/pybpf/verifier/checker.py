"""The abstract interpreter: every path of a program, one instruction at a time.

A depth-first walk over paths, as the kernel's do_check: a conditional jump whose both
sides can happen forks the state; states are remembered at prune points (jump targets,
after calls) and a new state already covered by a fully explored one stops its path
(:mod:`.prune`). A path that comes back to an unfinished state unchanged is an infinite
loop. The walk gives up after ``max_insns`` instructions, as the kernel does at 1M.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass, replace
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
    PseudoSrc,
    Size,
)
from ..spec import AttachType, MapSpec, MapType, ProgramType
from . import access, btf_walk, ctx_btf, effects, kptr, prune
from . import bounds as B
from .calls import CallChecker
from .cfg import Program
from .contexts import PACKET_TYPES, return_range
from .ctx_btf import BtfArgs
from .ctx_sock import sock_field_problem, sock_return_range
from .funcs import FuncSig
from .liveness import (
    FRAME_KEYS,
    NO_DEMAND,
    SLOT_BASE,
    BackMemo,
    Demand,
    Effect,
    merge_back,
)
from .reject import Reject
from .scalar_ops import SWAPPED, alu, byte_swap, holds, movsx, refine, refine_both
from .state import (
    MAX_CALL_FRAMES,
    NOT_INIT,
    NOT_POINTER,
    STACK_BYTES,
    UNKNOWN_SCALAR,
    Byte,
    Frame,
    Reg,
    RegType,
    State,
    const_scalar,
    scalar,
)

DEFAULT_MAX_INSNS = 1_000_000
# a packet pointer's ``range`` when it is known to be at / past pkt_end (as the kernel's)
AT_PKT_END = -1
BEYOND_PKT_END = -2
_SCALAR = RegType.SCALAR
# opcode fields as plain ints on the hot paths (_step, _jump): reading a member off an
# IntEnum class costs four times a global in Python 3.11; and the BPF_X bit, the state's
# registers and a bounds' constness read directly, not through property calls
_ALU, _ALU64, _LD, _LDX, _ST, _STX, _JMP, _JMP32 = (int(c) for c in (
    Class.ALU, Class.ALU64, Class.LD, Class.LDX, Class.ST, Class.STX, Class.JMP, Class.JMP32))
_JA, _CALL, _EXIT, _JCOND = (int(j) for j in (JumpOp.JA, JumpOp.CALL, JumpOp.EXIT,
                                               JumpOp.JCOND))
_ALU_OPS = frozenset(ALUOp)
# ops and modes as plain ints for the instruction handlers (an IntEnum member read off its
# class costs several times a global)
_ADD, _SUB, _MOV, _NEG, _END, _DIV, _MOD, _LSH, _RSH, _ARSH = (int(o) for o in (
    ALUOp.ADD, ALUOp.SUB, ALUOp.MOV, ALUOp.NEG, ALUOp.END, ALUOp.DIV, ALUOp.MOD, ALUOp.LSH,
    ALUOp.RSH, ALUOp.ARSH))
_JEQ, _JNE, _JGT, _JGE, _JLT, _JLE = (int(j) for j in (
    JumpOp.JEQ, JumpOp.JNE, JumpOp.JGT, JumpOp.JGE, JumpOp.JLT, JumpOp.JLE))
_ATOMIC = int(Mode.ATOMIC)
_MISSES = 8   # a remembered state that misses more than 8 times per hit (+8) is forgotten
# pointer types the kernel knows are never NULL (others, the context or a packet pointer,
# compared with 0 leave both branches possible)
_NEVER_NULL = (RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MEM, RegType.CONST_PTR_TO_MAP,
               RegType.PTR_TO_SOCKET)
MAX_PENDING_BRANCHES = 8192   # the kernel's BPF_COMPLEXITY_LIMIT_JMP_SEQ
_MOV64_IMM = Class.ALU64 | ALUOp.MOV      # (BPF_K: the source bit clear)
# ALU ops between two registers that are defined for every pair of numbers (BPF_X)
_SCALAR_REG_OPS = frozenset(cls | op | SOURCE_MASK for cls in (Class.ALU, Class.ALU64)
                            for op in (ALUOp.ADD, ALUOp.SUB, ALUOp.MUL, ALUOp.OR, ALUOp.AND,
                                       ALUOp.XOR))
_MOV32_IMM = Class.ALU | ALUOp.MOV
# ALU ops with a constant operand that are defined for every value (BPF_K: no source bit)
_SCALAR_IMM_OPS = frozenset(cls | op for cls in (Class.ALU, Class.ALU64) for op in (
    ALUOp.ADD, ALUOp.SUB, ALUOp.MUL, ALUOp.OR, ALUOp.AND, ALUOp.XOR))


@dataclass
class Options:
    """How strict to be. The defaults follow the kernel for a privileged loader (root);
    ``unprivileged=True`` follows it for a loader without CAP_BPF/CAP_PERFMON."""

    max_insns: int = DEFAULT_MAX_INSNS
    uninit_stack_loads: bool = True     # let LDX read never-written stack bytes (root may)
    uninit_helper_memory: bool = True   # let helpers read never-written stack (padding)
    gpl_compatible: bool = True         # the license lets it call GPL-only helpers
    log: bool = False
    # the kernel's rules for a loader without CAP_BPF/CAP_PERFMON (no pointer leaks, no
    # uninitialised stack, no variable stack offsets, no bpf-to-bpf calls...)
    unprivileged: bool = False
    # BPF_F_STRICT_ALIGNMENT: every load and store aligned to its size (x86 needs it only
    # when the loader asks)
    strict_alignment: bool = False
    # BPF_F_SLEEPABLE: helpers that might sleep may be called
    sleepable: bool = False


class Checkpoint:
    """A state remembered at a prune point, with the number of paths still below it.

    ``trace`` holds the effects of the instructions from ``parent`` to here; ``demand``
    gathers what the paths below read and needed precisely (:mod:`.liveness`), complete
    once ``branches`` is 0, which is when the checkpoint may prune (None: everything)."""

    __slots__ = ("branches", "consts", "demand", "hits", "last_miss", "loop_key", "misses",
                 "parent", "pc", "plan", "state", "trace", "unlinked")

    def __init__(self, state: State | None, parent: Checkpoint | None,
                 trace: list[Effect] | None = None):
        self.state = state
        self.parent = parent
        self.branches = 1
        self.trace = trace
        self.demand: Demand | None = NO_DEMAND
        self.consts: tuple[tuple[int, int], ...] | None = None
        self.pc = -1
        self.loop_key: tuple[int, int] = (0, 0)
        self.plan: prune.Plan | None = None
        self.unlinked: tuple[bool, ...] = ()
        self.last_miss: list[Any] = []
        self.hits = 0
        self.misses = 0

    def precise_consts(self) -> tuple[tuple[int, int], ...]:
        """(place, value) of the current frame's precise constants, in registers (place
        0..10) and spilled to the stack (place SLOT_BASE + slot index): a cheap first test,
        since a state with another value there is never covered (loop counters differ)."""
        if self.consts is None:
            assert self.state is not None
            frame = self.state.frames[-1]
            base = (len(self.state.frames) - 1) * FRAME_KEYS
            if self.demand is None:
                # (a constant's known bits: var[8] is its tnum, (value, mask 0))
                consts = [(i, r.var[8][0]) for i, r in enumerate(frame.regs)
                          if r.type is _SCALAR and not r.var[8][1]]
                for index, slot in sorted(frame.stack.items()):
                    r = slot.spilled
                    if (r is not None and r.type is _SCALAR and not r.var[8][1]
                            and Byte.SPILL in slot.kinds):
                        consts.append((SLOT_BASE + index, r.var[8][0]))
                self.consts = tuple(consts)
                return self.consts
            # the precise keys of the current frame, one set bit at a time (few are)
            precise = self.demand.precise >> base
            consts = []
            regs = frame.regs
            bits = precise & 0x7FF    # r0-r10
            while bits:
                low = bits & -bits
                bits ^= low
                r = regs[low.bit_length() - 1]
                t = r.var[8]
                if r.type is _SCALAR and not t[1]:
                    consts.append((low.bit_length() - 1, t[0]))
            stack = frame.stack
            bits = precise >> SLOT_BASE & 0xFFFFFFFFFFFFFFFF    # stack slots 0-63
            while bits:
                low = bits & -bits
                bits ^= low
                index = low.bit_length() - 1
                spill = stack.get(index)
                if spill is None:
                    continue
                r = spill.spilled
                if (r is not None and r.type is _SCALAR and not r.var[8][1]
                        and Byte.SPILL in spill.kinds):
                    consts.append((SLOT_BASE + index, r.var[8][0]))
            self.consts = tuple(consts)
        return self.consts


class Junction(Checkpoint):
    """Where paths fork without a remembered state: it only counts the paths below and
    gathers their demand (a light :class:`Checkpoint`: a fork makes one)."""

    __slots__ = ()

    def __init__(self, parent: Checkpoint | None, trace: list[Effect] | None = None):
        self.state = None
        self.parent = parent
        self.branches = 1
        self.trace = trace
        self.demand = NO_DEMAND
        self.pc = -1


Pending = list[Any]  # [state, pc, checkpoint, trace]: a path waiting to be explored


@dataclass
class Stats:
    insns_processed: int = 0
    states_stored: int = 0
    states_pruned: int = 0
    peak_pending: int = 0
    max_stack_depth: int = 0


class Failure(Exception):
    """A rejection with where it happened (wraps :class:`Reject`)."""

    def __init__(self, reject: Reject, slot: int, state: State | None):
        super().__init__(reject.problem)
        self.reject = reject
        self.slot = slot
        self.state = state


_SIZE_BYTES = {int(s): s.nbytes for s in Size}


class Checker:
    def __init__(self, prog: Program, *, prog_type: ProgramType,
                 maps: Mapping[str, MapSpec], options: Options,
                 funcs: Mapping[int, FuncSig] | None = None,
                 attach_type: AttachType | None = None, btf_args: BtfArgs | None = None):
        if options.unprivileged:   # the kernel's allow_uninit_stack is root's only
            options = replace(options, uninit_stack_loads=False, uninit_helper_memory=False)
        self.prog = prog
        self.funcs = funcs          # BTF signatures by start slot (None: no BTF)
        self.global_queue: list[int] = []
        self.prog_type = prog_type
        self.attach_type = attach_type   # the expected attach type, if known
        self.btf_args = btf_args    # a tracing program's BTF-typed context
        self.maps = maps
        self.options = options
        self.stats = Stats()
        # pc -> precise constant registers -> their values -> finished states, newest last
        self.done: dict[int, dict[tuple[int, ...], dict[tuple[int, ...], list[Checkpoint]]]] = {}
        self.looping: dict[int, dict[tuple[int, int], list[Checkpoint]]] = {}
        self.log: list[str] = []
        self.depths: dict[int, list[int]] = {}   # subprog start -> [max stack depth]
        self.chains: set[tuple[int, ...]] = set()
        self.calls = CallChecker(self)
        self._effects = effects.shared_cache()
        self.prune_points = prog.prune_points
        # the slots at no prune point, the may_goto slots, where each jump goes, the slots
        # whose effect depends on the instruction and the frame depth only, and the kinds
        # of _step's fast paths (plain loads and stores at r10 + constant not under strict
        # alignment; conditional jumps not for the unprivileged rules, which check every
        # comparison the long way): one pass (_slot_facts)
        plain, self._may_gotos, self._targets, self._static_pcs, self._fast_kind = \
            _slot_facts(prog.code, prog.prune_points, fp_accesses=not options.strict_alignment,
                        jumps=not options.unprivileged)
        # (what the walk reads at every instruction is a list by slot: indexing one costs a
        # third of a dict's get; the end and one past it are None: running off the end)
        self._plain: list[Instruction | None] = [None] * (prog.end + 2)
        for pc, insn in plain.items():
            self._plain[pc] = insn
        self._jmps = 0          # jump instructions walked (the kernel's jmps_processed)
        self._prev_jmps = 0     # ... and both counts when a state was last remembered
        self._prev_insns = 0
        self.ptr_types: dict[int, RegType] = {}   # slot -> pointer type a load/store saw
        self.alu_paths: dict[int, tuple[Any, ...]] = {}   # unprivileged pointer arithmetic
        self.unresolved_kfunc: list[int] = []   # reachable kfunc calls of BTF id 0
        self._lddw_values: dict[int, Reg] = {}   # slot -> what its lddw loads
        # slot -> [stack slot, byte] it reads, and the last stack slot read there and the
        # register that gave
        self._fp_loads: dict[int, list[Any]] = {}
        # slot -> [stack slot] a store at r10 + constant writes, and last time there: that
        # Slot before (or None), the register stored, the Slot after
        self._fp_stores: dict[int, list[Any]] = {}
        self._map_reads: dict[tuple[Any, ...], Reg] = {}   # map value loads that passed
        self._backs: BackMemo = {}   # demands walked back (liveness.back_memo)
        # effects of the static slots, and of jumps that compared two numbers and went one
        # way only
        self._static_fx: list[tuple[int, Effect, tuple[int, ...]] | None] = \
            [None] * (prog.end + 2)
        self._decided_fx: dict[int, tuple[Effect, Effect]] = {}
        self._decided = 0
        self.effect_override: Effect | None = None
        self._alu_last: dict[int, tuple[B.Bounds, Reg]] = {}   # slot -> (operand, result)
        # slot -> (the two numbers a jump compared last, what each side writes)
        self._jump_last: dict[int, tuple[Reg, Reg, tuple[_Sides | None, _Sides | None]]] = {}
        self._return_span: Any = ()   # the main function's return range (() not known yet)

    # --- the walk -----------------------------------------------------------------------

    def run(self) -> Stats:
        """Walk the main function, then every global function it calls (each on its own,
        from its BTF prototype, as the kernel does).

        Python's cycle collector is paused meanwhile: the walk makes millions of short-lived
        objects and keeps many states, none of them in reference cycles, and the collector
        would scan them all again and again. The remembered states are let go before it
        resumes, so that reference counting frees them at once: left for the collector,
        its first pass would scan every object of every one of them."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            self.done = {}
            self.looping = {}
            if paused:
                gc.enable()

    def _run(self) -> Stats:
        regs = [NOT_INIT] * 11
        regs[1] = Reg(RegType.PTR_TO_CTX, B.const(0))
        self._walk_function(0, regs)
        done = {0}
        while self.global_queue:
            start = self.global_queue.pop(0)
            if start not in done:
                done.add(start)
                self._walk_function(start, self.calls.global_entry_regs(start))
        self._check_stack_depth()
        if self.unresolved_kfunc:
            raise Failure(Reject("invalid kernel function call not eliminated in verifier "
                                 "pass: the kfunc call has BTF id 0",
                                 hint="resolve the kfunc against the kernel's BTF before "
                                      "loading (is its module loaded?)"),
                          self.unresolved_kfunc[0], None)
        return self.stats

    def _walk_function(self, start_pc: int, regs: list[Reg]) -> None:
        regs[10] = Reg(RegType.PTR_TO_STACK, B.const(0), frameno=0)
        start = State([Frame(regs, subprog_start=start_pc)])
        self.chains.add((start_pc,))
        self.done = {}        # a function's walk prunes only against its own states
        self.looping = {}
        root = Junction(None)
        pending: list[Pending] = [[start, start_pc, root, []]]
        self._forked: list[Pending] = []
        self._state = start   # the state of the path being walked (for a Failure)
        try:
            self._walk(pending)
        except Reject as rej:
            raise Failure(rej, self._pc, self._state) from None

    def _end_path(self, cp: Checkpoint, trace: list[Effect], demand: Demand | None) -> None:
        """A path ends (exit, or pruned by a state that needs ``demand``): carry what it
        needed back to its checkpoint, then count the path done."""
        cp.demand = merge_back(cp.demand, trace, demand, self._backs)
        cp.branches -= 1
        if cp.branches <= 0:   # (most often other paths below cp still wait)
            self._finish(cp)

    def _finish(self, cp: Checkpoint) -> None:
        """Every path below ``cp`` is done (its count reached 0): it may prune from now on,
        its demand is final and goes up to its parent, which has one path fewer."""
        while True:
            if cp.pc >= 0:
                self._explored(cp)
            parent = cp.parent
            if parent is None:
                return
            if cp.trace is not None:
                parent.demand = merge_back(parent.demand, cp.trace, cp.demand, self._backs)
                cp.trace = None
            parent.branches -= 1
            if parent.branches > 0:
                return
            cp = parent

    def _walk(self, pending: list[Pending]) -> None:
        """Walk the pending paths, newest first, each until it ends (one call for them all:
        most paths are a few instructions long)."""
        prog = self.prog
        code = prog.code
        prune_points = self.prune_points
        limit = self.options.max_insns
        log = self.options.log
        effect_cache = self._effects
        stats = self.stats
        forked = self._forked
        before = effects.before
        step = self._step
        static_pcs = self._static_pcs
        static_fx = self._static_fx
        decided_fx = self._decided_fx
        plain = self._plain
        # the count of instructions walked, kept here and written back when read
        processed = stats.insns_processed
        try:
            while pending:
                state, pc, cp, trace = pending.pop()
                self._state = state
                while True:
                    self._pc = pc
                    # (one look-up for the instructions at no prune point, most of them)
                    insn = plain[pc]
                    if insn is None:
                        if pc in prune_points:
                            stats.insns_processed = processed   # (_visit reads it)
                            verdict = self._visit(state, pc, cp, trace)
                            if verdict is not cp:
                                if verdict is None or verdict.__class__ is Demand:
                                    stats.states_pruned += 1
                                    self._end_path(cp, trace, verdict)
                                    break
                                cp = verdict
                                trace = []
                        insn = code.get(pc)
                        if insn is None:
                            raise Reject(f"execution runs past the end of the program at slot "
                                         f"{pc}", hint="end the program with exit")
                    processed += 1
                    if processed > limit:
                        raise Reject(f"the program is too large or complex: more than {limit} "
                                     f"instructions processed",
                                     hint="bound loops more tightly, or split the work (tail "
                                          "calls, bpf_loop)")
                    if log:
                        self._log_insn(state, pc, insn)
                    fixed = static_fx[pc]
                    if fixed is not None and fixed[0] == len(state.frames):
                        effect = fixed[1]
                        if fixed[2]:
                            # a conditional jump: the same effect unless it compares a linked copy
                            regs = state.frames[-1].regs
                            for regno in fixed[2]:
                                r = regs[regno]
                                if r.id and r.type is _SCALAR:
                                    effect = before(state, insn, effect_cache)
                                    break
                    else:
                        effect = before(state, insn, effect_cache)
                        operands = static_pcs.get(pc)
                        if operands is not None:
                            regs = state.frames[-1].regs
                            for regno in operands:
                                r = regs[regno]
                                if r.id and r.type is _SCALAR:
                                    break
                            else:
                                static_fx[pc] = (len(state.frames), effect, operands)
                    # (_decided and effect_override are set by the few instructions that need
                    # them, and put back after use: resetting both for every instruction cost
                    # more)
                    nxt = step(state, pc, insn, cp, pending)
                    if self._decided:
                        if self._decided == _SCALARS_DECIDED:
                            # two numbers compared: the same change of the same effect every time
                            got = decided_fx.get(pc)
                            if got is not None and got[0] is effect:
                                effect = got[1]
                            else:
                                new = effects.decided(state, insn, effect)
                                decided_fx[pc] = (effect, new)
                                effect = new
                        else:
                            effect = effects.decided(state, insn, effect)
                        self._decided = 0
                    if self.effect_override is not None:   # e.g. a global function call
                        effect = self.effect_override
                        self.effect_override = None
                    trace.append(effect)
                    if forked:
                        # a junction: the effects so far are walked back once for every path
                        # below it (the demand of a union of paths is the union of their demands)
                        junction = Junction(cp, trace)
                        cp.branches -= len(forked)
                        junction.branches += len(forked)
                        for entry in forked:
                            entry[2] = junction
                            entry[3] = []
                        forked.clear()
                        cp = junction
                        trace = []
                    if nxt is None:
                        self._end_path(cp, trace, NO_DEMAND)
                        break
                    pc = nxt
        finally:
            stats.insns_processed = processed

    def _visit(self, state: State, pc: int, cp: Checkpoint, trace: list[Effect]
               ) -> Checkpoint | Demand | None:
        """Prune against finished states (returns the demand of the state that covers this
        one), catch infinite loops, or remember this state (returns its checkpoint; ``cp``
        itself when this state is not worth remembering).

        Finished states wait in :attr:`done` (newest last); states still being explored,
        which only a loop can meet again, in :attr:`looping` by :func:`_loop_key`, so
        that neither search compares with states that cannot match."""
        stats = self.stats
        key = None
        looping = self.looping.get(pc)
        if looping and pc in self._may_gotos and self._may_goto_converged(looping, state):
            return None
        groups = self.done.get(pc)
        if groups:
            regs = state.frames[-1].regs
            stack = state.frames[-1].stack
            uninit_ok = self.options.uninit_stack_loads
            # finished states are grouped by their precise constants (loop counters...):
            # only those whose constants this state has too can cover it
            for idx, by_value in groups.items():
                values = []
                for i in idx:
                    r: Reg | None
                    if i < SLOT_BASE:
                        r = regs[i]
                    else:
                        slot = stack.get(i - SLOT_BASE)
                        r = slot.spilled if slot is not None else None
                    if r is None or r.type is not _SCALAR:
                        break
                    t = r.var[8]
                    if t[1]:
                        break
                    values.append(t[0])
                else:
                    same = by_value.get(tuple(values))
                    if not same:
                        continue
                    evict = False
                    for old in reversed(same):
                        ostate = old.state
                        assert ostate is not None
                        old_plan = old.plan
                        if old_plan is None:
                            old_plan = old.plan = prune.plan(ostate, old.demand)
                            old.unlinked = prune.unlinked(ostate, old_plan)
                        if prune.covers_planned(ostate, state, old_plan, old.unlinked,
                                                uninit_ok=uninit_ok, last_miss=old.last_miss):
                            old.hits += 1
                            return old.demand
                        old.misses += 1
                        if old.misses > old.hits * _MISSES + _MISSES:
                            evict = True
                    if evict:
                        # as the kernel: a state that keeps failing to prune is forgotten
                        keep = []
                        for old in same:
                            if old.misses > old.hits * _MISSES + _MISSES:
                                old.state = None
                            else:
                                keep.append(old)
                        same[:] = keep
        if looping:
            # (after pruning: a finished state that covers this one is newer than any
            # unfinished one this state equals, and the kernel, which tries the newest
            # first, prunes by it)
            key = _loop_key(state)
            for old in looping.get(key, ()):
                assert old.state is not None
                if old.state.may_goto_depth == state.may_goto_depth and \
                        prune.same(old.state, state):
                    raise Reject(f"infinite loop detected at insn {pc}: the loop comes back "
                                 f"to the same state", hint="make the loop variable change "
                                 "on every iteration and bound it (`for (i = 0; i < N; "
                                 "i++)`)")
        # as the kernel (is_state_visited): a state is remembered only after 2 jumps and 8
        # instructions since the last one (most prune points are a few instructions apart,
        # and a state per point costs more than it prunes), and inside a loop (a state at
        # this point still being explored) only after 20 jumps or 100 instructions, or one
        # piles up per iteration; an infinite loop still meets one of them again. Always at
        # a may_goto (its convergence compares iterations) and every 64 instructions of a
        # path, so that the effects to walk back (liveness) stay few.
        if len(trace) < 64 and pc not in self._may_gotos:
            jmps = self._jmps - self._prev_jmps
            insns = stats.insns_processed - self._prev_insns
            if jmps < 2 or insns < 8 or (looping and jmps < 20 and insns < 100):
                return cp
        self._prev_jmps = self._jmps
        self._prev_insns = stats.insns_processed
        if key is None:
            key = _loop_key(state)
        new = Checkpoint(state.copy(), cp, trace)
        new.pc = pc
        new.loop_key = key
        if looping is None:
            looping = self.looping[pc] = {}
        same_key = looping.get(key)
        if same_key is None:
            looping[key] = [new]
        else:
            same_key.append(new)
        stats.states_stored += 1
        return new

    @staticmethod
    def _previous_at(cp: Checkpoint | None, pc: int, state: State) -> State | None:
        """The state of the previous visit of ``pc`` on this path (the kernel's
        find_prev_entry), skipping the checkpoint of this very visit."""
        while cp is not None:
            if cp.pc == pc and cp.state is not None and not prune.same(cp.state, state):
                return cp.state
            cp = cp.parent
        return None

    def _may_goto_converged(self, looping: dict[Any, list[Checkpoint]], state: State) -> bool:
        """At a may_goto, a state covered by one of an earlier iteration of the same loop
        (still being explored, so on this path) adds nothing: the loop ends after a bounded
        number of iterations at run time whatever they do (the kernel's may_goto_depth
        rule). Compared in full, as the earlier state's needs are not known yet."""
        uninit_ok = self.options.uninit_stack_loads
        for same_key in looping.values():
            for old in same_key:
                ostate = old.state
                if ostate is not None and ostate.may_goto_depth != state.may_goto_depth \
                        and prune.covers(ostate, state, uninit_ok=uninit_ok, demand=None):
                    return True
        return False

    def _explored(self, cp: Checkpoint) -> None:
        """Every path below ``cp`` is done: from now on it may prune, not loop."""
        looping = self.looping[cp.pc]
        same_key = looping[cp.loop_key]
        same_key.remove(cp)
        if not same_key:
            del looping[cp.loop_key]
        consts = cp.precise_consts()
        idx = tuple(i for i, _ in consts)
        values = tuple(v for _, v in consts)
        groups = self.done.get(cp.pc)
        if groups is None:
            groups = self.done[cp.pc] = {}
        by_value = groups.get(idx)
        if by_value is None:
            by_value = groups[idx] = {}
        same = by_value.get(values)
        if same is None:
            by_value[values] = [cp]
            return
        same.append(cp)
        if len(same) > 64:
            # only the newest are kept: a long loop finishes one state per iteration, and
            # comparing with all of them would make the walk quadratic
            same[0].state = None
            del same[0]

    def fork(self, state: State, pc: int, cp: Checkpoint, pending: list[Pending]) -> None:
        cp.branches += 1
        entry: Pending = [state, pc, cp, None]   # the trace is filled in after this insn
        pending.append(entry)
        self._forked.append(entry)
        if len(pending) > MAX_PENDING_BRANCHES:
            raise Reject(f"the sequence of {len(pending)} pending branches is too complex",
                         hint="simplify the control flow")
        if len(pending) > self.stats.peak_pending:
            self.stats.peak_pending = len(pending)

    # --- one instruction ------------------------------------------------------------------

    def read(self, state: State, regno: int) -> Reg:
        if regno > 10:
            raise Reject(f"R{regno} is invalid", hint="registers are r0..r10")
        r = state.frames[-1].regs[regno]
        if r.type is RegType.NOT_INIT:
            raise Reject(f"R{regno} !read_ok: r{regno} is read before anything was written "
                         f"to it on this path", regs=(regno,),
                         hint=f"set r{regno} on every path before using it (calls clobber "
                              f"r1-r5; only r6-r9 survive a call)")
        return r

    def write(self, state: State, regno: int, value: Reg) -> None:
        if regno == 10:
            raise Reject("frame pointer is read only: r10 cannot be written",
                         hint="copy r10 to another register and change that one")
        if regno > 10:
            raise Reject(f"R{regno} is invalid", hint="registers are r0..r10")
        state.frames[-1].regs[regno] = value

    def depth(self, state: State, frameno: int) -> list[int]:
        return self.depths.setdefault(state.frames[frameno].subprog_start, [0])

    def _step(self, state: State, pc: int, insn: Instruction, cp: Checkpoint,
              pending: list[Pending]) -> int | None:
        opcode = insn.opcode
        # the commonest instructions, as _alu, _mov, _jump, load and store would do them,
        # found by one look-up of the slot's kind (see _fast_kinds)
        kind = self._fast_kind.get(pc)
        if kind is not None:
            if kind == _COND_JUMP:
                # a conditional jump: two numbers compared take _scalar_jump straight away
                # (anything else goes to _jump, which reads and checks the registers itself)
                regs = state.frames[-1].regs
                a = regs[insn.dst]
                jmp32 = opcode & CLASS_MASK == _JMP32
                b = regs[insn.src] if opcode & SOURCE_MASK else const_scalar(
                    insn.imm & 0xFFFFFFFF if jmp32 else insn.imm)
                if a.type is _SCALAR and b.type is _SCALAR:
                    self._jmps += 1
                    return self._scalar_jump(state, pc, insn, a, b, opcode & OP_MASK, jmp32,
                                             cp, pending)
                return self._jump(state, pc, insn, cp, pending)
            if kind == _MOV_REG:
                regs = state.frames[-1].regs
                src = regs[insn.src]
                t = src.type
                if t is _SCALAR:
                    if not src.var[8][1]:   # a constant: copies are not linked
                        regs[insn.dst] = src.with_id(0) if src.id else src
                        return pc + 1
                    if src.id == 0:
                        # linked copies: a bound learnt on one holds for the other
                        src = src.with_id(state.new_id())
                        regs[insn.src] = src
                    regs[insn.dst] = src
                    return pc + 1
                if t is not RegType.NOT_INIT:   # a pointer (NOT_INIT: _alu says why not)
                    regs[insn.dst] = src
                    return pc + 1
            elif kind == _GOTO:
                self._jmps += 1
                return self._targets[pc]
            elif kind == _MOV_IMM:
                state.frames[-1].regs[insn.dst] = const_scalar(
                    insn.imm if opcode == _MOV64_IMM else insn.imm & 0xFFFFFFFF)
                return pc + 1
            elif kind == _ALU_IMM:
                regs = state.frames[-1].regs
                value = regs[insn.dst]
                if value.type is _SCALAR:
                    # a number and a constant, by an op that cannot fail (as _alu does it);
                    # the same bounds as last time here (a loop's body, paths that share
                    # this code) give the very same result
                    last = self._alu_last.get(pc)
                    if last is not None and last[0] is value.var:
                        regs[insn.dst] = last[1]
                        return pc + 1
                    alu64 = opcode & CLASS_MASK == _ALU64
                    result = scalar(alu(opcode & OP_MASK, value.var, const_scalar(
                        insn.imm if alu64 else insn.imm & 0xFFFFFFFF).var, alu64=alu64))
                    self._alu_last[pc] = (value.var, result)
                    regs[insn.dst] = result
                    return pc + 1
            elif kind == _ALU_REG:
                regs = state.frames[-1].regs
                value = regs[insn.dst]
                other = regs[insn.src]
                if value.type is _SCALAR and other.type is _SCALAR:
                    # two numbers, by an op that cannot fail (as _alu does it)
                    regs[insn.dst] = scalar(alu(opcode & OP_MASK, value.var, other.var,
                                                alu64=opcode & CLASS_MASK == _ALU64))
                    return pc + 1
            else:
                # a load or store at r10 + constant, as load/store would do it
                regs = state.frames[-1].regs
                size = _SIZE_BYTES[opcode & SIZE_MASK]
                if kind == _FP_LOAD:
                    checked = self._fp_loads.get(pc)
                    if checked is not None:
                        # the offset was checked here before (and the depth taken): the same
                        # r10 + off every time, of the function this slot belongs to; the
                        # very slot read last time here gives the very same register
                        stack = state.frames[-1].stack
                        slot = stack.get(checked[0])
                        if slot is checked[2] and slot is not None:
                            regs[insn.dst] = checked[3]
                            return pc + 1
                        filled = access.stack_fill(stack, checked[0], checked[1], size)
                        if filled is not None:
                            checked[2] = slot
                            checked[3] = filled
                            regs[insn.dst] = filled
                            return pc + 1
                    fp = regs[10]
                    regs[insn.dst] = access.stack_read(
                        state, fp, 10, insn.off, size,
                        uninit_ok=self.options.uninit_stack_loads,
                        depth=self.depth(state, fp.frameno))
                    if checked is None:
                        index, pos = divmod(STACK_BYTES + insn.off, 8)
                        self._fp_loads[pc] = [index, pos, None, None]
                    return pc + 1
                value = self.read(state, insn.src) if kind == _FP_STORE_REG else \
                    const_scalar(insn.imm)
                # a store at r10 + constant changes one stack slot, as a function of the
                # slot before and the value alone (its checks passed here before, the depth
                # taken): the very slot and value (or an equal number) of last time give the
                # very slot again
                stored = self._fp_stores.get(pc)
                if stored is not None and state.frames[-1].stack.get(stored[0]) is stored[1] \
                        and (value is stored[2] or (value.type is _SCALAR
                                                    and value == stored[2])):
                    state.frames[-1].writable_stack()[stored[0]] = stored[3]
                    return pc + 1
                fp = regs[10]
                index = (STACK_BYTES + insn.off) // 8
                before = state.frames[-1].stack.get(index)
                access.stack_write(state, fp, 10, insn.off, size, value,
                                   depth=self.depth(state, fp.frameno))
                self._fp_stores[pc] = [index, before, value, state.frames[-1].stack[index]]
                return pc + 1
        cls = opcode & CLASS_MASK
        if cls in (_ALU, _ALU64):
            self._alu(state, insn, cls == _ALU64)
            return pc + 1
        if cls == _LDX:
            self._ldx(state, insn)
            return pc + 1
        if cls in (_STX, _ST):
            self._store(state, insn, pc)
            return pc + 1
        if cls == _LD:
            self._ld(state, insn, pc)
            return pc + insn.slots
        return self._jump(state, pc, insn, cp, pending)

    # --- ALU ----------------------------------------------------------------------------

    def _alu(self, state: State, insn: Instruction, alu64: bool) -> None:
        op = insn.opcode & OP_MASK
        use_reg = insn.opcode & SOURCE_MASK
        dst = insn.dst
        if op not in _ALU_OPS:
            raise Reject(f"invalid BPF_ALU opcode {insn.opcode:#x}")
        if dst == 10:
            self.write(state, dst, NOT_INIT)
        if op == _END:
            value = self.read(state, dst)
            if value.type is not _SCALAR:
                raise Reject(f"R{dst} byte swap of a pointer", regs=(dst,),
                             hint="byte-swap only numbers")
            bits = insn.imm
            if bits not in (16, 32, 64):
                raise Reject(f"invalid byte swap width {bits}")
            self.write(state, dst, scalar(byte_swap(value.var, bits, swap=bool(
                use_reg) or alu64)))
            return
        if op == _NEG:
            value = self.read(state, dst)
            if value.type is not _SCALAR:  # a privileged loader may turn a pointer into a number
                self._no_leak(f"R{dst} pointer arithmetic prohibited", dst)
                self.write(state, dst, UNKNOWN_SCALAR if alu64 else
                           scalar(B.unsigned_range(0, 0xFFFFFFFF)))
                return
            self.write(state, dst, scalar(alu(op, value.var, B.const(0), alu64=alu64)))
            return
        if use_reg:
            src = self.read(state, insn.src)
        else:
            imm = insn.imm if alu64 else insn.imm & 0xFFFFFFFF
            src = const_scalar(imm)
            if op in (_DIV, _MOD) and insn.imm == 0:
                raise Reject("div by zero: a division or modulo by the constant 0",
                             hint="divide by a nonzero constant (a zero *register* divisor "
                                  "is allowed: the result is defined)")
            if op in (_LSH, _RSH, _ARSH) and not 0 <= insn.imm < (
                    64 if alu64 else 32):
                raise Reject(f"invalid shift {insn.imm}",
                             hint=f"shift by 0..{63 if alu64 else 31}")
        if op == _MOV:
            self._mov(state, insn, src, alu64)
            return
        value = self.read(state, dst)
        signed = insn.off == 1 and op in (_DIV, _MOD)
        if value.type is _SCALAR and src.type is _SCALAR:
            self.write(state, dst, scalar(alu(op, value.var, src.var, alu64=alu64,
                                              signed=signed)))
            return
        if value.type not in NOT_POINTER and src.type not in NOT_POINTER:
            if op == _SUB:  # a privileged loader may take the distance of two pointers
                self._no_leak(f"R{dst} pointer -= pointer prohibited", dst)
                self.write(state, dst, UNKNOWN_SCALAR if alu64 else
                           scalar(B.unsigned_range(0, 0xFFFFFFFF)))
                return
            raise Reject(f"R{dst} pointer {ALUOp(op).name.lower()} pointer prohibited",
                         regs=(dst, insn.src), hint="only a difference of two pointers "
                                                    "is allowed")
        if not alu64:
            if op == _SUB and value.type not in NOT_POINTER:
                self._no_leak(f"R{dst} 32-bit pointer arithmetic prohibited", dst)
                self.write(state, dst, scalar(B.unsigned_range(0, 0xFFFFFFFF)))
                return
            raise Reject(f"R{dst if value.is_pointer else insn.src} 32-bit pointer arithmetic "
                         f"prohibited", regs=(dst, insn.src) if use_reg else (dst,),
                         hint="do pointer arithmetic with 64-bit instructions (r, not w)")
        if value.type is _SCALAR:  # scalar op pointer
            if op != _ADD:
                what = "subtract pointer from scalar" if op == _SUB else \
                    f"apply {ALUOp(op).name.lower()} to a pointer"
                raise Reject(f"R{dst} tried to {what}", regs=(dst, insn.src),
                             hint="only add or subtract numbers to pointers")
            self.write(state, dst, self._ptr_arith(state, src, insn.src, value, op, dst))
            return
        if op not in (_ADD, _SUB):
            raise Reject(f"R{dst} bitwise operator {ALUOp(op).name.lower()} on pointer "
                         f"prohibited", regs=(dst,),
                         hint="only add or subtract numbers to pointers; to test alignment, "
                              "copy it to a number first is not allowed either")
        self.write(state, dst, self._ptr_arith(state, value, dst, src, op, dst))

    def _mov(self, state: State, insn: Instruction, src: Reg, alu64: bool) -> None:
        dst = insn.dst
        if insn.opcode & SOURCE_MASK and insn.off in (8, 16, 32):
            if src.type is not _SCALAR:
                raise Reject(f"R{insn.src} sign-extending move of a pointer",
                             regs=(insn.src,), hint="sign-extend only numbers")
            self.write(state, dst, scalar(movsx(src.var, insn.off, alu64=alu64)))
            return
        if not insn.opcode & SOURCE_MASK:
            self.write(state, dst, src)
            return
        if alu64:
            if src.type is _SCALAR and src.var.is_const:
                self.write(state, dst, src.with_id(0) if src.id else src)
                return
            if src.type is _SCALAR:
                # linked copies: a bound learnt on one holds for the other
                if src.id == 0:
                    src = src.with_id(state.new_id())
                    state.frames[-1].regs[insn.src] = src
            self.write(state, dst, src)
            return
        if src.type not in NOT_POINTER:
            self._no_leak(f"R{insn.src} partial copy of pointer", insn.src)
            self.write(state, dst, scalar(B.unsigned_range(0, 0xFFFFFFFF)))
            return
        self.write(state, dst, scalar(B.zero_extend32(src.var.width_range(32))))

    def _no_leak(self, problem: str, regno: int) -> None:
        """A pointer turned into a number: allowed for root, a leak for anyone else."""
        if self.options.unprivileged:
            raise Reject(f"{problem}: an unprivileged program may not turn pointers into "
                         f"numbers", regs=(regno,), hint="keep pointers as pointers (or load "
                         "the program with CAP_BPF and CAP_PERFMON)")

    def _unprivileged_ptr_arith(self, new: Reg, off: Reg, dst: int) -> None:
        """Without CAP_BPF the kernel masks pointer arithmetic against Spectre: a variable
        stack offset is refused and the result must stay within its object."""
        if off.var.smin < 0 < off.var.smax:
            raise Reject(f"R{dst} has unknown scalar with mixed signed bounds, pointer "
                         f"arithmetic with it prohibited for !root", regs=(dst,),
                         hint="bound the offset to one sign first")
        if new.type is RegType.PTR_TO_STACK:
            if not new.var.is_const:
                raise Reject(f"R{dst} variable stack access prohibited for !root, "
                             f"var_off={new.var} off={new.off}", regs=(dst,),
                             hint="use constant stack offsets")
            total = new.off + B.to_s64(new.var.value)
            if total >= 0 or total < -STACK_BYTES:
                raise Reject(f"R{dst} stack pointer arithmetic goes out of range, prohibited "
                             f"for !root; off={total}", regs=(dst,))
        elif new.type is RegType.PTR_TO_MAP_VALUE:
            lo, _ = access.offset_span(new, 0)
            high = new.off + (B.to_s64(new.var.value) if new.var.is_const else new.var.umax)
            if lo < 0 or high >= new.map.value_size:
                raise Reject(f"R{dst} pointer arithmetic of map value goes out of range, "
                             f"prohibited for !root", regs=(dst,),
                             hint="bound the offset to the value before adding it")

    def _ptr_arith(self, state: State, ptr: Reg, ptr_regno: int, off: Reg, op: int,
                   dst: int) -> Reg:
        new = self._ptr_arith_result(state, ptr, ptr_regno, off, op, dst)
        if self.options.unprivileged:
            self._unprivileged_ptr_arith(new, off, dst)
            # one instruction must move the same kind of pointer by the same kind of
            # offset on every path (the kernel masks it once, with one limit)
            key = (new.type, id(new.map), off.var.is_const, off.var.smin < 0)
            if self.alu_paths.setdefault(self._pc, key) != key:
                raise Reject(f"R{dst} tried to {'add' if op == _ADD else 'sub'} from "
                             f"different maps, paths or scalars, pointer arithmetic with it "
                             f"prohibited for !root", regs=(dst,))
        return new

    def _ptr_arith_result(self, state: State, ptr: Reg, ptr_regno: int, off: Reg, op: int,
                          dst: int) -> Reg:
        if ptr.nullable:
            raise Reject(f"R{ptr_regno} pointer arithmetic on {ptr.type}_or_null prohibited, "
                         f"null-check it first", regs=(ptr_regno,),
                         hint="compare the pointer with NULL (0) before moving it")
        if ptr.type in (RegType.PTR_TO_PACKET_END, RegType.CONST_PTR_TO_MAP,
                        RegType.PTR_TO_FUNC, RegType.PTR_TO_SOCKET):
            if not (ptr.type is RegType.CONST_PTR_TO_MAP and off.var.is_const
                    and off.var.value == 0):
                raise Reject(f"R{ptr_regno} pointer arithmetic on {ptr.type} prohibited",
                             regs=(ptr_regno,), hint=f"a {ptr.type} pointer cannot be moved")
        if off.var.is_const:
            v = B.to_s64(off.var.value)
            if abs(v) >= access.MAX_VAR_OFF:
                raise Reject(f"math between {ptr.type} pointer and {v} is not allowed",
                             regs=(dst,), hint="offsets must stay below 2**29")
            new_off = ptr.off + v if op == _ADD else ptr.off - v
            if abs(new_off) >= access.MAX_VAR_OFF:
                raise Reject(f"{ptr.type} pointer offset {new_off} is not allowed",
                             regs=(dst,), hint="offsets must stay below 2**29")
            if ptr.range < 0 and new_off < ptr.off:
                # moved back from at/past pkt_end: no longer known to be there
                return replace(ptr, off=new_off, range=0)
            return ptr.with_off(new_off)
        if off.var.smin == B.S64_MIN:
            raise Reject(f"math between {ptr.type} pointer and register with unbounded min "
                         f"value is not allowed", regs=(dst,),
                         hint="bound the offset first (`if (x > N) return` or `x &= N-1`)")
        if off.var.smin <= -access.MAX_VAR_OFF:
            raise Reject(f"value {off.var.smin} makes {ptr.type} pointer be out of bounds",
                         regs=(dst,), hint="bound the offset first")
        var = alu(op, ptr.var, off.var, alu64=True)
        new = ptr.with_var(var)
        if ptr.type in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
            new = replace(new, id=state.new_id(), range=0)
        return new

    # --- memory -------------------------------------------------------------------------

    def _mem_target(self, state: State, regno: int) -> Reg:
        reg = self.read(state, regno)
        if reg.type is _SCALAR:
            raise Reject(f"R{regno} invalid mem access 'scalar': r{regno} holds a number, "
                         f"not a pointer", regs=(regno,),
                         hint="load or store through a pointer (stack, map value, packet, "
                              "context)")
        if reg.nullable:
            raise Reject(f"R{regno} invalid mem access '{reg.type}_or_null': r{regno} may be "
                         f"NULL here", regs=(regno,),
                         hint=self.calls.null_hint(regno, reg))
        return reg

    def load(self, state: State, regno: int, off: int, size: int, *, signed: bool = False,
             atomic: bool = False) -> Reg:
        reg = self._mem_target(state, regno)
        if self.options.strict_alignment:
            _strictly_aligned(reg, regno, off, size)
        t = reg.type
        if t is RegType.PTR_TO_STACK:
            value = access.stack_read(state, reg, regno, off, size,
                                      uninit_ok=self.options.uninit_stack_loads,
                                      depth=self.depth(state, reg.frameno))
        elif t is RegType.PTR_TO_CTX and self.btf_args is not None:
            value = self.btf_args.load(reg, regno, off, size, state.new_id)
        elif t is RegType.PTR_TO_CTX:
            got = access.ctx_access(self.prog_type, reg, regno, off, size, write=False,
                                    attach=self.attach_type)
            if got.result is RegType.SCALAR:
                value = access.sized_unknown(size)
            elif signed:   # the kernel refuses a sign-extending load of a pointer field
                raise Reject(f"invalid bpf_context access off={off} size={size}: a "
                             f"pointer field cannot be loaded sign-extended", regs=(regno,),
                             hint="load context pointers with a plain load")
            else:
                value = Reg(got.result, B.const(0), nullable=got.nullable,
                            id=state.new_id() if got.nullable else 0)
        elif t is RegType.PTR_TO_MAP_VALUE:
            # the same load of the same place of the same map passes the same checks and
            # gives the same number (a map value read in a loop: checked once)
            mkey = (id(reg.map), reg.off, reg.var, reg.readonly, off, size)
            read = None if atomic else self._map_reads.get(mkey)
            if read is not None:
                value = read
            else:
                lo, high = access.check_region(
                    reg, regno, off, size, reg.map.value_size, "map value",
                    lambda: f"keep accesses within the {reg.map.value_size}-byte value of "
                            f"map '{reg.map.name}'")
                access.check_map_rights(reg, regno, off, size, read=True)
                field = kptr.check_access(reg, regno, off, size, lo, high + size)
                if atomic:
                    kptr.atomic(field, regno)
                if field is not None:
                    value = kptr.load(state, field, regno)
                else:
                    value = access.map_value_read(reg, lo, high, size) or \
                        access.sized_unknown(size)
                    if not atomic:
                        self._map_reads[mkey] = value
        elif t in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
            access.check_packet(reg, regno, off, size)
            value = access.sized_unknown(size)
        elif t is RegType.PTR_TO_MEM:
            access.check_region(reg, regno, off, size, reg.mem_size, "memory",
                                lambda: f"keep accesses within the {reg.mem_size} bytes "
                                        f"reserved")
            value = access.sized_unknown(size)
        elif t is RegType.PTR_TO_SOCKET:   # never moved: arithmetic on it is refused
            why = sock_field_problem(off, size, write=False)
            if why:
                raise Reject(f"R{regno} invalid sock access off={off} size={size}: {why}",
                             regs=(regno,), hint="read struct bpf_sock fields whole, at "
                             "their own offsets")
            value = access.sized_unknown(size)
        elif t is RegType.PTR_TO_BTF_ID:
            kptr.deref(reg, regno)
            if reg.off + off < 0 or not reg.var.is_const:
                raise Reject(f"R{regno} invalid negative or variable access to a kernel "
                             f"object", regs=(regno,), hint="read kernel struct fields at "
                             "constant offsets")
            value = btf_walk.load(reg, regno, reg.off + off + B.to_s64(reg.var.value), size)
        else:
            raise Reject(f"R{regno} invalid mem access '{t}'", regs=(regno,),
                         hint=f"a {t} pointer cannot be dereferenced")
        if signed and value.type is _SCALAR and size < 8:
            value = scalar(B.sign_extend(value.var, size * 8))
        return value

    def _ldx(self, state: State, insn: Instruction) -> None:
        mode = insn.opcode & MODE_MASK
        if mode not in (_MEM, _MEMSX):
            raise Reject(f"invalid BPF_LDX mode {mode:#x}")
        size = _SIZE_BYTES[insn.opcode & SIZE_MASK]
        if mode == _MEMSX and size == 8:
            raise Reject("invalid sign-extending 8-byte load")
        value = self.load(state, insn.src, insn.off, size, signed=mode == _MEMSX)
        self._same_pointer_type(state, insn.src)
        self.write(state, insn.dst, value)

    def store(self, state: State, regno: int, off: int, size: int, value: Reg | None,
              value_regno: int | None, *, atomic: bool = False) -> None:
        reg = self._mem_target(state, regno)
        if self.options.strict_alignment:
            _strictly_aligned(reg, regno, off, size)
        t = reg.type
        if t is RegType.PTR_TO_STACK:
            access.stack_write(state, reg, regno, off, size, value,
                               depth=self.depth(state, reg.frameno))
            return
        if t is RegType.PTR_TO_CTX:
            if value is not None and value.is_pointer:   # root may store a pointer's bits
                self._no_leak(f"R{value_regno} leaks addr into ctx", value_regno or 0)
            if self.btf_args is not None:
                raise Reject(f"invalid bpf_context access off={off} size={size}: the "
                             f"arguments of '{self.btf_args.name}' are read-only",
                             regs=(regno,), hint="copy the argument to the stack first")
            access.ctx_access(self.prog_type, reg, regno, off, size, write=True,
                              attach=self.attach_type)
            return
        if value is not None and value.type not in NOT_POINTER:  # (stack stores returned above)
            what = {RegType.PTR_TO_MAP_VALUE: "map", RegType.PTR_TO_PACKET: "packet"}.get(
                t, "mem")
            self._no_leak(f"R{value_regno} leaks addr into {what}", value_regno or 0)
        if t is RegType.PTR_TO_MAP_VALUE:
            access.check_map_rights(reg, regno, off, size, write=True)
            lo, high = access.check_region(
                reg, regno, off, size, reg.map.value_size, "map value",
                lambda: f"keep accesses within the {reg.map.value_size}-byte value of map "
                        f"'{reg.map.name}'")
            field = kptr.check_access(reg, regno, off, size, lo, high + size)
            if atomic or value is None:
                kptr.atomic(field, regno)
            elif field is not None:
                kptr.store(field, regno, value, value_regno)
            return
        if t in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
            if self.prog_type not in PACKET_TYPES:
                raise Reject("cannot write into packet", regs=(regno,),
                             hint="this program type may only read the packet")
            access.check_packet(reg, regno, off, size)
            return
        if t is RegType.PTR_TO_MEM:
            access.check_region(reg, regno, off, size, reg.mem_size, "memory",
                                lambda: f"keep accesses within the {reg.mem_size} bytes "
                                        f"reserved")
            return
        raise Reject(f"R{regno} cannot write into {t}", regs=(regno,),
                     hint=f"a {t} pointer cannot be written through")

    def _store(self, state: State, insn: Instruction, pc: int) -> None:
        mode = insn.opcode & MODE_MASK
        size = _SIZE_BYTES[insn.opcode & SIZE_MASK]
        cls = insn.opcode & CLASS_MASK
        if mode == _ATOMIC and cls == _STX:
            self._atomic(state, insn, size)
            return
        if mode != _MEM:
            raise Reject(f"invalid store mode {mode:#x}")
        if cls == _STX:
            value = self.read(state, insn.src)
            self.store(state, insn.dst, insn.off, size, value, insn.src)
        else:
            self.store(state, insn.dst, insn.off, size, const_scalar(insn.imm), None)
        self._same_pointer_type(state, insn.dst)

    # pointer types one load/store instruction may see on different paths without being
    # rejected: the kernel rewrites context, socket and kernel-object accesses per
    # instruction, so those must always come with the same type
    _REWRITTEN = (RegType.PTR_TO_CTX, RegType.PTR_TO_BTF_ID, RegType.PTR_TO_SOCKET)

    def _same_pointer_type(self, state: State, regno: int) -> None:
        t = state.frames[-1].regs[regno].type
        prev = self.ptr_types.setdefault(self._pc, t)
        if prev is not t and (prev in self._REWRITTEN or t in self._REWRITTEN):
            raise Reject(f"same insn cannot be used with different pointers: R{regno} is "
                         f"{t} here but was {prev} on another path",
                         regs=(regno,), hint="use separate load/store instructions for the "
                         "context and for other memory (e.g. copy the value on each branch)")

    def _atomic(self, state: State, insn: Instruction, size: int) -> None:
        op = insn.imm
        if size not in (4, 8):
            if op not in (AtomicOp.LOAD_ACQ, AtomicOp.STORE_REL):
                raise Reject(f"invalid atomic operand size {size}")
        if op == AtomicOp.LOAD_ACQ:
            value = self.load(state, insn.src, insn.off, size, atomic=True)
            self._atomic_alignment(state, insn.src, insn.off, size)
            self.write(state, insn.dst, value)
            return
        if op == AtomicOp.STORE_REL:
            self.store(state, insn.dst, insn.off, size, self.read(state, insn.src), insn.src,
                       atomic=True)
            self._atomic_alignment(state, insn.dst, insn.off, size)
            return
        valid: set[int] = {AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR,
                           AtomicOp.XCHG, AtomicOp.CMPXCHG}
        valid |= {o | AtomicOp.FETCH for o in (AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND,
                                               AtomicOp.XOR)}
        if op not in valid:
            raise Reject(f"BPF_ATOMIC uses invalid atomic opcode {op:#x}")
        value = self.read(state, insn.src)
        if value.type not in NOT_POINTER:   # root may store a pointer's bits
            self._no_leak(f"R{insn.src} leaks addr into mem", insn.src)
        if op == AtomicOp.CMPXCHG and self.read(state, 0).is_pointer:
            self._no_leak("R0 leaks addr into mem", 0)
        target = self._mem_target(state, insn.dst)
        if target.type not in (RegType.PTR_TO_STACK, RegType.PTR_TO_MAP_VALUE,
                               RegType.PTR_TO_MEM):
            raise Reject(f"BPF_ATOMIC stores into R{insn.dst} {target.type} is not allowed",
                         regs=(insn.dst,), hint="atomics work on the stack and map values")
        self._atomic_alignment(state, insn.dst, insn.off, size)
        # the old value is read as a load would (a spilled pointer comes back as itself),
        # then the memory holds an unknown number
        old = self.load(state, insn.dst, insn.off, size, atomic=True)
        if old.type not in NOT_POINTER and self.options.unprivileged:
            raise Reject(f"leaking pointer from stack off {insn.off}: an atomic on a spilled "
                         f"pointer", regs=(insn.dst,))
        self.store(state, insn.dst, insn.off, size, UNKNOWN_SCALAR if size == 8 else None,
                   None, atomic=True)
        if op & AtomicOp.FETCH:
            self.write(state, 0 if op == AtomicOp.CMPXCHG else insn.src, old)

    @staticmethod
    def _atomic_alignment(state: State, regno: int, off: int, size: int) -> None:
        """Atomics are checked for strict alignment, whatever the architecture."""
        reg = state.frames[-1].regs[regno]
        if reg.type in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
            reg = replace(reg, off=reg.off + 2)   # the kernel's NET_IP_ALIGN rule
        access.check_alignment(reg, regno, off, size, {
            RegType.PTR_TO_STACK: "stack", RegType.PTR_TO_MAP_VALUE: "value",
            RegType.PTR_TO_CTX: "context", RegType.PTR_TO_PACKET: "packet"}.get(
                reg.type, ""))

    def _ld(self, state: State, insn: Instruction, pc: int) -> None:
        mode = insn.opcode & MODE_MASK
        if insn.opcode == LDDW_OPCODE:
            # (the same register every time: it depends on the instruction and the maps)
            value = self._lddw_values.get(pc)
            if value is None:
                value = self._lddw_values[pc] = self._lddw(state, insn, pc)
            self.write(state, insn.dst, value)
            return
        if mode in (Mode.ABS, Mode.IND):
            self.calls.legacy_packet_load(state, insn)
            return
        raise Reject(f"invalid BPF_LD mode {mode:#x}")

    def _lddw(self, state: State, insn: Instruction, pc: int) -> Reg:
        src = insn.src
        if src == PseudoSrc.IMM64 and insn.reference is None:
            return const_scalar(insn.imm)
        if src == PseudoSrc.IMM64 and insn.reference not in self.maps:
            return UNKNOWN_SCALAR  # a kernel symbol's address, filled in by the loader
        if src == PseudoSrc.FUNC:
            target = pc + 1 + B.to_s32(insn.imm)
            return Reg(RegType.PTR_TO_FUNC, B.const(0), target=target)
        if src == PseudoSrc.BTF_ID:
            return Reg(RegType.PTR_TO_BTF_ID, B.const(0), btf_name=insn.reference or "ksym")
        name = insn.reference
        m = self.maps.get(name) if name is not None else None
        if m is None:
            known = ", ".join(sorted(self.maps)) or "none"
            raise Reject(f"lddw refers to map '{name}' (src={src}) which the verifier was not "
                         f"given (maps: {known})", hint="pass the program's maps (MapSpecs "
                         "by name) to the verifier", kernel_rejects=False)
        if src == PseudoSrc.MAP_VALUE:
            offset = (insn.imm >> 32) & 0xFFFFFFFF or insn.imm & 0xFFFFFFFF
            if m.type != MapType.ARRAY:
                raise Reject(f"no direct value access support for this map type "
                             f"({m.type.name.lower()} map '{m.name}')",
                             hint="look the value up with bpf_map_lookup_elem; only an array "
                                  "of one entry (a global data section) has a direct address")
            if m.max_entries != 1 or offset >= m.value_size:
                raise Reject(f"invalid access to map value pointer, value_size="
                             f"{m.value_size} off={offset}", hint="the offset must lie in "
                             "the map's value")
            return Reg(RegType.PTR_TO_MAP_VALUE, B.const(0), off=offset, map=m,
                       readonly=bool(m.readonly))
        return Reg(RegType.CONST_PTR_TO_MAP, B.const(0), map=m)

    # --- jumps --------------------------------------------------------------------------

    def _jump(self, state: State, pc: int, insn: Instruction, cp: Checkpoint,
              pending: list[Pending]) -> int | None:
        op = insn.opcode & OP_MASK
        jmp32 = insn.opcode & CLASS_MASK == _JMP32
        self._jmps += 1
        if op == _JA:
            return self._targets[pc]
        if op == _CALL:
            return self.calls.call(state, pc, insn, cp, pending)
        if op == _EXIT:
            return self.calls.exit(state, pc)
        if op == _JCOND:
            # may_goto: the jump is taken once the loop's budget runs out; the fall-through
            # is one more iteration, with numbers that changed since the previous one
            # widened (the kernel's widen_imprecise_scalars) so that iterations converge
            again = state.copy()
            again.path = state.path[-15:] + (pc,)
            again.may_goto_depth += 1
            prev = self._previous_at(cp, pc, state)
            if prev is not None:
                _widen_changed_scalars(prev, again)
            self.fork(again, pc + 1, cp, pending)
            return insn.jump_target(pc)
        if op not in SWAPPED:
            raise Reject(f"invalid BPF_JMP opcode {insn.opcode:#x}")
        a = self.read(state, insn.dst)
        b = self.read(state, insn.src) if insn.opcode & SOURCE_MASK else const_scalar(
            insn.imm if not jmp32 else insn.imm & 0xFFFFFFFF)
        if a.type is _SCALAR and b.type is _SCALAR and not self.options.unprivileged:
            return self._scalar_jump(state, pc, insn, a, b, op, jmp32, cp, pending)
        if self.options.unprivileged and (a.type not in NOT_POINTER or b.type not in NOT_POINTER):
            self._unprivileged_compare(insn, a, b, op, jmp32)
        taken = self._branch(state, insn, a, b, op, jmp32, True)
        target = self._targets[pc]
        if not self.options.unprivileged:
            # the fall-through side is made in place (it is walked now)
            fall = self._branch(state, insn, a, b, op, jmp32, False, in_place=True)
            if taken is None or fall is None:
                self._decided = 1   # the values compared ruled a side out: they matter
            if taken is not None:
                if fall is not None:
                    taken.path = state.path[-15:] + (pc,)
                    self.fork(taken, target, cp, pending)
                    return pc + 1
                self._replace(state, taken)
                return target
            return None if fall is None else pc + 1
        fall = self._branch(state, insn, a, b, op, jmp32, False)
        if taken is None or fall is None:
            self._decided = 1   # the values compared ruled a side out: they matter
            if self.options.unprivileged and (taken is not None or fall is not None):
                # without CAP_BPF the kernel also checks the side no run takes, as a CPU
                # may run it speculatively (Spectre v1): same state, unrefined
                other = state.copy()
                other.path = state.path[-15:] + (pc,)
                self.fork(other, target if taken is None else pc + 1, cp, pending)
        if taken is not None and fall is not None:
            taken.path = state.path[-15:] + (pc,)
            self.fork(taken, target, cp, pending)
            self._replace(state, fall)
            return pc + 1
        if taken is not None:
            self._replace(state, taken)
            return target
        if fall is not None:
            self._replace(state, fall)
            return pc + 1
        # neither side can happen: this path itself is impossible (should not occur)
        return None

    def _scalar_jump(self, state: State, pc: int, insn: Instruction, a: Reg, b: Reg, op: int,
                     jmp32: bool, cp: Checkpoint, pending: list[Pending]) -> int | None:
        """A jump comparing two numbers: as :meth:`_branch` for both sides, but refining
        ``state`` in place for the side walked now (one copy, and only for a fork)."""
        ta = a.var[8]
        tb = b.var[8]
        if not ta[1] and not tb[1]:
            # two constants: one side only, and nothing learnt (as refine would say)
            self._decided = _SCALARS_DECIDED
            return self._targets[pc] if holds(op, ta[0], tb[0], jmp32) else pc + 1
        src = insn.src if insn.opcode & SOURCE_MASK else None
        if a.id == 0 and (src is None or b.id == 0):
            # numbers linked to no other register: the very registers compared here last
            # time give the very same registers on each side (a loop's body, paths that
            # share this code)
            last = self._jump_last.get(pc)
            if last is None or last[0] is not a or last[1] is not b:
                last = self._jump_last[pc] = self._jump_sides(insn.dst, a, src, b, op,
                                                              jmp32)
            sides = last[2]
            taken_regs, fall_regs = sides
            if taken_regs is None or fall_regs is None:
                self._decided = _SCALARS_DECIDED
            if taken_regs is not None:
                if fall_regs is not None:
                    other = state.copy()
                    _set_sides(other.frames[-1].regs, taken_regs)
                    other.path = state.path[-15:] + (pc,)
                    self.fork(other, self._targets[pc], cp, pending)
                    _set_sides(state.frames[-1].regs, fall_regs)
                    return pc + 1
                _set_sides(state.frames[-1].regs, taken_regs)
                return self._targets[pc]
            if fall_regs is not None:
                _set_sides(state.frames[-1].regs, fall_regs)
                return pc + 1
            return None   # neither side can happen: this path itself is impossible
        taken, fall = refine_both(op, a.var, b.var, jmp32)
        if taken is None or fall is None:
            # the values compared ruled a side out: they matter
            self._decided = _SCALARS_DECIDED
        if taken is not None:
            if fall is not None:
                other = state.copy()
                self._refined(other, insn.dst, a, taken[0], src, b, taken[1])
                other.path = state.path[-15:] + (pc,)
                self.fork(other, self._targets[pc], cp, pending)
                self._refined(state, insn.dst, a, fall[0], src, b, fall[1])
                return pc + 1
            self._refined(state, insn.dst, a, taken[0], src, b, taken[1])
            return self._targets[pc]
        if fall is not None:
            self._refined(state, insn.dst, a, fall[0], src, b, fall[1])
            return pc + 1
        return None   # neither side can happen: this path itself is impossible

    @staticmethod
    def _jump_sides(dst: int, a: Reg, src: int | None, b: Reg, op: int, jmp32: bool
                    ) -> tuple[Reg, Reg, tuple[_Sides | None, _Sides | None]]:
        """(a, b, (taken, fall)): the registers each side writes, as :meth:`_refined` would
        write them for numbers with no id (None: that side cannot happen)."""
        both = refine_both(op, a.var, b.var, jmp32)
        sides: list[_Sides | None] = []
        for side in both:
            if side is None:
                sides.append(None)
                continue
            avar, bvar = side
            writes: list[tuple[int, Reg]] = []
            if avar is not a.var and avar != a.var:
                writes.append((dst, a.with_var(avar)))
            if src is not None and bvar is not b.var and bvar != b.var:
                writes.append((src, b.with_var(bvar)))
            sides.append(tuple(writes))
        return a, b, (sides[0], sides[1])

    def _refined(self, state: State, dst: int, a: Reg, avar: B.Bounds, src: int | None,
                 b: Reg, bvar: B.Bounds) -> None:
        # (bounds the jump taught nothing are equal to the old ones, if not the same)
        if avar is not a.var and avar != a.var:
            self._set_scalar(state, dst, a, avar)
        if src is not None and bvar is not b.var and bvar != b.var:
            self._set_scalar(state, src, b, bvar)

    @staticmethod
    def _unprivileged_compare(insn: Instruction, a: Reg, b: Reg, op: int, jmp32: bool) -> None:
        """Without CAP_PERFMON a comparison may not reveal a pointer: only a NULL check of a
        maybe-NULL pointer and packet bounds checks are allowed."""
        packet = (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META, RegType.PTR_TO_PACKET_END)
        if a.type in packet and b.type in packet:
            return
        # (a pointer known not to be NULL compared with 0 is decided, which is allowed)
        null_check = (not jmp32 and not insn.opcode & SOURCE_MASK and insn.imm == 0
                      and op in (_JEQ, _JNE) and a.type not in NOT_POINTER)
        if null_check:
            return
        regno = insn.src if b.type not in NOT_POINTER and insn.opcode & SOURCE_MASK else insn.dst
        raise Reject(f"R{regno} pointer comparison prohibited: an unprivileged program may "
                     f"only compare a maybe-NULL pointer with 0, or packet pointers",
                     regs=(regno,), hint="compare numbers, not pointers")

    @staticmethod
    def _replace(state: State, new: State) -> None:
        state.frames = new.frames
        state.refs = new.refs

    def _branch(self, state: State, insn: Instruction, a: Reg, b: Reg, op: int, jmp32: bool,
                taken: bool, in_place: bool = False) -> State | None:
        """The state on one side of a conditional jump, or None if it cannot happen (then
        ``state`` is unchanged). ``in_place``: ``state`` itself becomes that side."""
        dst, src = insn.dst, (insn.src if insn.opcode & SOURCE_MASK else None)
        if a.type is _SCALAR and b.type is _SCALAR:
            pair = refine(op, a.var, b.var, taken, jmp32=jmp32)
            if pair is None:
                return None
            new = state if in_place else state.copy()
            self._set_scalar(new, dst, a, pair[0])
            if src is not None:
                self._set_scalar(new, src, b, pair[1])
            return new
        if op in (_JEQ, _JNE) and not jmp32:
            ptr, other = (a, b) if a.type not in NOT_POINTER else (b, a)
            if other.type is _SCALAR and other.var.is_const and other.var.value == 0:
                is_null = (op == _JEQ) == taken
                if ptr.nullable:
                    new = state if in_place else state.copy()
                    self.calls.mark_null_checked(new, ptr, is_null)
                    return new
                if is_null and ptr.type in _NEVER_NULL and ptr.var.smin > \
                        -access.MAX_VAR_OFF and ptr.var.smax < access.MAX_VAR_OFF:
                    return None  # these pointers are never NULL (the kernel's reg_not_null)
                return state if in_place else state.copy()
        if a.type not in NOT_POINTER and b.type not in NOT_POINTER and not jmp32:
            if self._packet_end_decided(op, a, b) is (not taken):
                return None
            new = state if in_place else state.copy()
            self._packet_compare(new, op, a, b, taken)
            self._mark_past_end(new, insn, op, a, b, taken)
            return new
        return state if in_place else state.copy()

    @staticmethod
    def _as_pkt_vs_end(op: int, a: Reg, b: Reg) -> tuple[int, Reg] | None:
        """``pkt op pkt_end`` (the operands swapped if needed), or None."""
        if a.type is RegType.PTR_TO_PACKET and b.type is RegType.PTR_TO_PACKET_END:
            return op, a
        if a.type is RegType.PTR_TO_PACKET_END and b.type is RegType.PTR_TO_PACKET:
            return SWAPPED[op], b
        return None

    def _packet_end_decided(self, op: int, a: Reg, b: Reg) -> bool | None:
        """A packet pointer known to be at or past pkt_end decides a comparison with it
        (the kernel's is_pkt_ptr_branch_taken)."""
        got = self._as_pkt_vs_end(op, a, b)
        if got is None or got[1].range >= 0:
            return None
        op, pkt = got
        if op in (_JGT, _JLE) and pkt.range == BEYOND_PKT_END:
            return op == _JGT
        if op in (_JLT, _JGE):
            return op == _JGE
        return None

    def _mark_past_end(self, state: State, insn: Instruction, op: int, a: Reg, b: Reg,
                       taken: bool) -> None:
        """On the side where ``pkt > pkt_end`` (or ``>=``) holds, that register is past the
        end: a later comparison of it with pkt_end is decided (the kernel's mark_pkt_end)."""
        got = self._as_pkt_vs_end(op, a, b)
        if got is None:
            return
        norm, _ = got
        regno = insn.dst if a.type is RegType.PTR_TO_PACKET else insn.src
        beyond_by_op: dict[int, bool] = {_JGT: taken, _JLE: not taken}
        at_by_op: dict[int, bool] = {_JGE: taken, _JLT: not taken}
        beyond, at = beyond_by_op.get(norm), at_by_op.get(norm)
        if beyond:
            state.regs[regno] = replace(state.regs[regno], range=BEYOND_PKT_END)
        elif at:
            state.regs[regno] = replace(state.regs[regno], range=AT_PKT_END)

    def _set_scalar(self, state: State, regno: int, old: Reg, var: B.Bounds) -> None:
        if old.id:
            state.replace_all(lambda r: r.type is _SCALAR and r.id == old.id,
                              lambda r: r.with_var(var))
        else:
            state.frames[-1].regs[regno] = old.with_var(var)

    def _packet_compare(self, state: State, op: int, a: Reg, b: Reg, taken: bool) -> None:
        """``pkt op pkt_end``: on the side where pkt <= pkt_end, bytes before pkt exist."""
        if (a.type is RegType.PTR_TO_PACKET_END and b.type is RegType.PTR_TO_PACKET) or (
                _is_packet_start(a) and b.type is RegType.PTR_TO_PACKET_META):
            op, a, b = SWAPPED[op], b, a
        if a.type is RegType.PTR_TO_PACKET_META and _is_packet_start(b):
            # ``meta op data``: data_meta bytes below the packet start are checked against
            # the packet start itself
            pass
        elif not (a.type is RegType.PTR_TO_PACKET and b.type is RegType.PTR_TO_PACKET_END):
            return
        # which side knows a <= end (or a < end)?
        sides: dict[int, bool] = {_JGT: not taken, _JGE: not taken,
                                  _JLT: taken, _JLE: taken}
        good = sides.get(op)
        if not good:
            return
        if not a.var.is_const and a.var.umax > 0xFFFF:
            return
        new_range = a.off
        if new_range <= 0:
            return
        pkt_id, pkt_type = a.id, a.type
        state.replace_all(lambda r: r.type is pkt_type and r.id == pkt_id,
                          lambda r: replace(r, range=max(r.range, new_range)))

    # --- the end ------------------------------------------------------------------------

    def check_return(self, state: State) -> None:
        r0 = self.read(state, 0)
        if r0.type not in NOT_POINTER and state.frames[0].subprog_start == 0:
            self._no_leak("R0 leaks addr as return value", 0)
        if state.frames[0].subprog_start != 0:   # a global function returns to its caller
            if r0.type is not _SCALAR:
                raise Reject(f"At subprogram exit the register R0 is not a scalar value "
                             f"({r0.describe()})", regs=(0,),
                             hint="global functions return numbers")
            self.effect_override = _EXIT_READS_R0
            return
        span = self._return_span
        if span == ():   # (worked out at the first exit: the same for every path)
            span = self._return_span = return_range(self.prog_type, self.attach_type) or \
                (ctx_btf.return_range(self.attach_type) if self.btf_args else None) or \
                sock_return_range(self.prog_type, self.attach_type)
        if span is None:
            # no range to check: R0's value decides nothing (the kernel marks it precise
            # only to check a range)
            self.effect_override = _EXIT_READS_R0
            return
        lo, hi = span
        if r0.type is not _SCALAR or r0.var.umin < lo or r0.var.umax > hi:
            raise Reject(f"At program exit the register R0 has {r0.describe()}: it should "
                         f"have been in [{lo}, {hi}]", regs=(0,),
                         hint=f"return a value in [{lo}, {hi}] on every path")

    def _check_stack_depth(self) -> None:
        """Every call chain of the code (dead calls too, as the kernel walks them) within
        8 frames and 512 bytes of stack, each function's depth rounded up to 16 (JIT)."""
        def depth(start: int) -> int:
            return -(-self.depths.get(start, [0])[0] // 16) * 16
        for chain in self.prog.call_chains():
            if len(chain) > MAX_CALL_FRAMES:
                raise Failure(Reject(f"the call stack of {len(chain) - 1} frames is too deep !",
                                     hint=f"at most {MAX_CALL_FRAMES} nested calls"), 0, None)
            total = 0
            for i, start in enumerate(chain):
                if i and total >= 256 and self.prog.has_tail_call(start):
                    raise Failure(Reject(f"tail_calls are not allowed when call stack of "
                                         f"previous frames is {total} bytes. Too large",
                                         hint="use less stack before calling a function "
                                              "that tail-calls"), 0, None)
                total += depth(start)
            if total > STACK_BYTES:
                raise Failure(Reject(f"combined stack size of {len(chain)} calls is {total}. "
                                     f"Too large", hint="use less stack per function or "
                                     "move buffers into a per-CPU array map"), 0, None)
        self.stats.max_stack_depth = max((d[0] for d in self.depths.values()), default=0)

    def _log_insn(self, state: State, pc: int, insn: Instruction) -> None:
        from .messages import describe_regs, format_insn
        self.log.append(f"{pc}: {format_insn(insn)}    ; {describe_regs(state)}")


# kinds of slots _step runs by a fast path (_slot_facts)
(_FP_LOAD, _FP_STORE_REG, _FP_STORE_IMM, _COND_JUMP, _MOV_REG, _GOTO, _MOV_IMM, _ALU_IMM,
 _ALU_REG) = range(9)
_FP_KINDS = (_FP_LOAD, _FP_STORE_REG, _FP_STORE_IMM)
_MOV64_REG = Class.ALU64 | ALUOp.MOV | SOURCE_MASK
_GOTO_OPCODE, _GOTOL_OPCODE = _JMP | _JA, _JMP32 | _JA
_CALL_OPCODE, _MAY_GOTO_OPCODE = _JMP | _CALL, _JMP | _JCOND
_MEM, _MEMSX = int(Mode.MEM), int(Mode.MEMSX)


_EXIT_READS_R0 = Effect(uses=(0,))   # the main frame's exit, R0 read but not precise
_SCALARS_DECIDED = 2   # Checker._decided: a jump between two numbers went one way only
_STATIC_ALU_OPS = (ALUOp.MOV, ALUOp.END, ALUOp.NEG)


def _encoding_facts(opcode: int, dst: int, src: int
                    ) -> tuple[int, bool, tuple[int, ...] | None]:
    """(fast path kind or -1, whether that kind needs ``off`` 0, static effect registers or
    None) of an instruction of these fields (see _slot_facts)."""
    cls = opcode & CLASS_MASK
    kind = -1
    if opcode in (_MOV64_IMM, _MOV32_IMM) and dst < 10:
        kind = _MOV_IMM
    elif opcode in _SCALAR_IMM_OPS and dst < 10:
        kind = _ALU_IMM
    elif opcode in _SCALAR_REG_OPS and dst < 10 and src <= 10:
        kind = _ALU_REG
    elif opcode == _MOV64_REG and dst < 10 and src <= 10:
        kind = _MOV_REG      # (with off 0: a sign-extending move is not one)
    elif opcode == _GOTO_OPCODE:
        kind = _GOTO
    elif cls in (_JMP, _JMP32) and opcode & OP_MASK in SWAPPED and dst <= 10 \
            and (not opcode & SOURCE_MASK or src <= 10):
        kind = _COND_JUMP
    elif opcode & MODE_MASK == _MEM and cls in (_LDX, _STX, _ST):
        if cls == _LDX and src == 10 and dst < 10:
            kind = _FP_LOAD
        elif cls == _STX and dst == 10:
            kind = _FP_STORE_REG
        elif cls == _ST and dst == 10:
            kind = _FP_STORE_IMM
    # effects (.effects.before) that depend on the instruction and the frame depth only:
    # ALU with a constant, moves, swaps and negations, lddw, gotos, loads and stores at
    # r10 (the frame's own stack, at a constant offset); and conditional jumps whenever
    # the registers they compare (the value) are no linked scalar copies
    static: tuple[int, ...] | None = None
    if cls in (_ALU, _ALU64):
        if not opcode & SOURCE_MASK or opcode & OP_MASK in _STATIC_ALU_OPS:
            static = ()
    elif opcode == LDDW_OPCODE:
        static = ()
    elif cls == _LDX and src == 10 and opcode & MODE_MASK in (_MEM, _MEMSX):
        static = ()   # a load from the frame pointer: the same stack bytes always
    elif cls in (_ST, _STX) and dst == 10 and opcode & MODE_MASK == _MEM:
        static = ()
    elif cls in (_JMP, _JMP32):
        if opcode & OP_MASK in (_JA, _JCOND):
            static = ()
        elif opcode & OP_MASK in SWAPPED and dst <= 10:
            if not opcode & SOURCE_MASK:
                static = (dst,)
            elif src <= 10:
                static = (dst, src)
    return kind, kind == _MOV_REG, static


_ENCODING_FACTS: dict[int, tuple[int, bool, tuple[int, ...] | None]] = {}


def _slot_facts(code: Mapping[int, Instruction], prune_points: set[int], *,
                fp_accesses: bool, jumps: bool
                ) -> tuple[dict[int, Instruction], set[int], dict[int, int],
                           dict[int, tuple[int, ...]], dict[int, int]]:
    """What the walk looks up by slot, found in one pass over the code: the slots at no
    prune point, the may_goto slots, where each jump goes, the slots whose effect depends
    on the instruction and the frame depth only (with the registers a conditional jump's
    effect also depends on), and the slots _step runs by a fast path, by kind: moves and
    ALU ops of numbers (whose registers exist: r0-r9 written), gotos, conditional jumps
    whose registers exist (when ``jumps``), plain loads into r0-r9 and stores at
    ``r10 + off`` (whatever runs them, the base is the frame's own stack pointer: r10
    cannot be written; when ``fp_accesses``).

    All but the jump targets depend on an instruction's opcode and registers only, so they
    are worked out once per (opcode, dst, src) for every program after: five passes over a
    small program, each testing every instruction afresh, cost a tenth of its walk."""
    plain: dict[int, Instruction] = {}
    may_gotos: set[int] = set()
    targets: dict[int, int] = {}
    static: dict[int, tuple[int, ...]] = {}
    fast: dict[int, int] = {}
    known = _ENCODING_FACTS
    for pc, insn in code.items():
        if pc not in prune_points:
            plain[pc] = insn
        opcode, dst, src = insn.opcode, insn.dst, insn.src
        if dst < 16 and src < 16:   # (4-bit fields: anything else is not remembered)
            key = (opcode << 8) | (dst << 4) | src
            facts = known.get(key)
            if facts is None:
                facts = known[key] = _encoding_facts(opcode, dst, src)
        else:
            facts = _encoding_facts(opcode, dst, src)
        kind, needs_off0, regs = facts
        if kind == _COND_JUMP:
            if jumps:
                fast[pc] = kind
        elif kind in _FP_KINDS:
            if fp_accesses:
                fast[pc] = kind
        elif kind >= 0 and (not needs_off0 or insn.off == 0):
            fast[pc] = kind
        if regs is not None:
            static[pc] = regs
        if opcode & CLASS_MASK in (_JMP, _JMP32):
            # (as Instruction.jump_target: gotol and calls count in imm)
            targets[pc] = pc + 1 + (insn.imm if opcode in (_GOTOL_OPCODE, _CALL_OPCODE)
                                    else insn.off)
            if opcode == _MAY_GOTO_OPCODE:
                may_gotos.add(pc)
    return plain, may_gotos, targets, static, fast


_Sides = tuple[tuple[int, Reg], ...]   # the registers one side of a jump writes, in order


def _set_sides(regs: list[Reg], writes: _Sides) -> None:
    for regno, reg in writes:
        regs[regno] = reg


def _widen_changed_scalars(prev: State, cur: State) -> None:
    """Numbers of ``cur`` that differ from ``prev`` (registers and spilled numbers, frame by
    frame) become unknown."""
    for pf, cf in zip(prev.frames, cur.frames):
        for i, (p, c) in enumerate(zip(pf.regs, cf.regs)):
            if c.type is RegType.SCALAR and p.type is RegType.SCALAR and c.var != p.var:
                cf.regs[i] = UNKNOWN_SCALAR
        for idx, slot in list(cf.stack.items()):
            old = pf.stack.get(idx)
            if slot.spilled is not None and slot.spilled.type is RegType.SCALAR and \
                    old is not None and old.spilled is not None and \
                    old.spilled.type is RegType.SCALAR and old.spilled.var != slot.spilled.var:
                cf.writable_stack()[idx] = replace(
                    slot, spilled=UNKNOWN_SCALAR if slot.spill_size == 8
                    else access.sized_unknown(slot.spill_size))


_ALIGN_WHAT = {RegType.PTR_TO_MAP_VALUE: "value", RegType.PTR_TO_CTX: "context",
               RegType.PTR_TO_STACK: "stack", RegType.PTR_TO_SOCKET: "sock"}
NET_IP_ALIGN = 2   # where the kernel puts a packet's start: its IP header lands aligned


def _strictly_aligned(reg: Reg, regno: int, off: int, size: int) -> None:
    """The kernel's check_ptr_alignment under BPF_F_STRICT_ALIGNMENT: the whole offset
    (variable part included) a multiple of the size; a packet's counted from NET_IP_ALIGN."""
    if reg.type in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
        access.check_alignment(reg, regno, off + NET_IP_ALIGN, size, "packet")
    else:
        access.check_alignment(reg, regno, off, size, _ALIGN_WHAT.get(reg.type, ""))


def _is_packet_start(reg: Reg) -> bool:
    """ctx->data itself (no offset): what data_meta pointers are compared with."""
    return (reg.type is RegType.PTR_TO_PACKET and reg.off == 0 and reg.var.is_const
            and reg.var.value == 0)


def _loop_key(state: State) -> tuple[int, int]:
    """A number that two states which are the same share (the cheap first test of the
    infinite loop check): the frame count and the sum of the current frame's registers'
    lowest values (r0-r9: r10 is the frame pointer, always the same). Not whole bounds: a
    tuple's hash is not cached, and hashing eleven bounds at every prune point inside a
    loop cost more than the rare extra :func:`prune.same` (a loop's counter still changes
    the sum every time round). Written out: a third faster than sum() over map()s."""
    r = state.frames[-1].regs
    return (len(state.frames), r[0].var[0] + r[1].var[0] + r[2].var[0] + r[3].var[0]
            + r[4].var[0] + r[5].var[0] + r[6].var[0] + r[7].var[0] + r[8].var[0]
            + r[9].var[0])


def frames_for_call(state: State) -> int:
    return len(state.frames)


__all__ = ["Checker", "Options", "Stats", "Failure", "MAX_CALL_FRAMES"]
