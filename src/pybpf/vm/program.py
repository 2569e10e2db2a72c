"""A program loaded into the userspace machine, its runs, and the result of one run.

``VMProgram.run(memory)`` is the raw entry point (r1 = memory, r2 = its length);
``VMProgram.test_run(data, ctx, repeat=N)`` is BPF_PROG_TEST_RUN's: it builds the context
of the program's type (see :mod:`pybpf.vm.context`) and returns a :class:`TestRunResult`
shaped like the kernel backend's. Both run in the tier chosen at load or per call:
``"interp"`` (the reference interpreter), ``"python"`` (eBPF translated to Python source,
:mod:`pybpf.vm.pytier`) or ``"llvm"`` (native code, :mod:`pybpf.vm.llvmtier`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..asm.instruction import Instruction
from ..asm.linker import link
from ..errors import AsmError
from ..spec import ProgramType
from . import context as contexts
from .errors import CallDepthError, ProgramLoadError, VMError
from .event_helpers import MAX_TAIL_CALL_CNT, TailCall
from .helper_table import DEFAULT_HELPERS
from .helpers import Environment, Helper, RunState
from .interpreter import (
    MAY_GOTO_LOOPS,
    STACK_BYTES,
    STACK_BYTES_PER_FRAME,
    Machine,
    Predecoder,
    execute,
)
from .maps import VMMap
from .memory import Memory

DEFAULT_BUDGET = 10_000_000  # instructions per run; the kernel's complexity limit is 1M
TIERS = ("interp", "python", "llvm")


@dataclass
class RunResult:
    """What one run left behind.

    ``r0`` is unsigned (0 <= r0 < 2**64); ``insns`` counts executed instructions (an lddw
    counts once); ``memory`` is the context/memory bytes as the program left them;
    ``printk`` the trace_printk lines of this run.
    """

    r0: int
    insns: int
    memory: bytes = b""
    printk: list[str] = field(default_factory=list)


@dataclass
class TestRunResult:
    """What a test run gave back, with the field names of the kernel backend's result.

    ``retval`` is the low 32 bits of r0 (as the kernel reports it); ``data_out`` the packet
    after the run; ``ctx_out`` the context when one was given; ``duration_ns`` the mean
    wall time of one run.
    """

    __test__ = False  # not a pytest test class

    retval: int
    data_out: bytes
    ctx_out: bytes | None
    duration_ns: int


class _CompiledTier(Protocol):
    """A program compiled by a faster tier (pytier, llvmtier)."""

    def run(self, regs: list[int], machine: Machine, budget: int) -> int: ...

    def caller(self, machine: Machine, budget: int
               ) -> Callable[[int, int, int, int, int, int], int]: ...


class VMProgram:
    """Instructions checked and predecoded once, run many times.

    ``maps`` resolves lddw map references, by name or by the number raw bytecode carries in
    ``imm``; ``helpers`` replaces the helper table (default: every helper the VM offers);
    ``env`` is what helpers see of the world (clock, random numbers, printk, current task);
    ``type`` decides the context of :meth:`test_run`; ``tier`` the default engine.

    Raises :class:`ProgramLoadError` for anything the machine cannot run: an unknown opcode,
    a write to r10, a jump out of the program, an unknown helper or map, an unknown tier.
    """

    def __init__(self, instructions: Sequence[Instruction], *, name: str = "prog",
                 maps: Mapping[str | int, VMMap] | None = None,
                 helpers: Mapping[int, Helper] | None = None,
                 env: Environment | None = None,
                 type: ProgramType = ProgramType.UNSPEC, tier: str = "interp"):
        self.name = name
        self.type = type
        # labels become offsets here, as the kernel backend links before loading: the
        # verifier checks the linked program, so the VM must run that one too
        self.instructions = link(list(instructions), source=f"program '{name}'")
        self.env = env if env is not None else Environment()
        self.tier = _check_tier(tier, name)
        predecoder = Predecoder(name, maps or {}, DEFAULT_HELPERS if helpers is None
                                else helpers)
        self._code = predecoder.predecode(self.instructions)
        self._maps_by_address = {address: m for m, address
                                 in predecoder.map_addresses.items()}
        self._compiled: dict[str, _CompiledTier] = {}

    @classmethod
    def from_bytes(cls, bytecode: bytes, **kwargs: object) -> VMProgram:
        """Load little-endian raw bytecode; a truncated buffer is a ProgramLoadError."""
        try:
            instructions = Instruction.decode(bytecode)
        except AsmError as err:
            raise ProgramLoadError(str(err), program=str(kwargs.get("name", "prog"))) from None
        return cls(instructions, **kwargs)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"<VMProgram {self.name!r} {self.type.name} {len(self._code) - 1} slots>"

    # --- engines --------------------------------------------------------------------------

    def engine(self, tier: str) -> Callable[[list[int], Machine, int], int]:
        """``fn(regs, machine, budget) -> insns`` running this program in ``tier``."""
        if tier == "interp":
            code = self._code
            return lambda regs, machine, budget: execute(code, regs, machine, budget)
        return self._compiled_for(tier).run

    def _compiled_for(self, tier: str) -> _CompiledTier:
        compiled = self._compiled.get(tier)
        if compiled is None:
            if tier == "python":
                from .pytier import translate
                compiled = translate(self)
            else:
                from .llvmtier import compile_program
                compiled = compile_program(self)
            self._compiled[tier] = compiled
        return compiled

    def function_caller(self, tier: str, machine: Machine, budget: int
                        ) -> Callable[[int, int, int, int, int, int], int]:
        """bpf_loop's way to call a subprogram at a slot with r1-r5 in a fresh frame."""
        if tier != "interp":
            return self._compiled_for(tier).caller(machine, budget)
        code = self._code

        def call(slot: int, a1: int, a2: int, a3: int, a4: int, a5: int) -> int:
            stack = machine.stack
            if stack.low < STACK_BYTES_PER_FRAME:
                raise CallDepthError("callback needs a frame past the 8 allowed", insn=slot)
            regs = [0, a1, a2, a3, a4, a5, 0, 0, 0, 0, stack.base + stack.low]
            saved, machine.frames = machine.frames, []
            stack.low -= STACK_BYTES_PER_FRAME
            try:
                execute(code, regs, machine, budget, start=slot)
            finally:
                stack.low += STACK_BYTES_PER_FRAME
                machine.frames = saved
            return regs[0]
        return call

    # --- runs -----------------------------------------------------------------------------

    def _machine(self, memory: Memory, packet: Any) -> tuple[Machine, list[int]]:
        stack = memory.add("stack", bytearray(STACK_BYTES))
        stack.low = STACK_BYTES - STACK_BYTES_PER_FRAME
        regs = [0] * 11
        regs[10] = stack.end
        run_state = RunState(memory, dict(self._maps_by_address), self.env, packet=packet,
                             tail_calls_left=MAX_TAIL_CALL_CNT)
        machine = Machine(memory, stack, packet, run_state)
        return machine, regs

    def _drive(self, machine: Machine, regs: list[int], budget: int, tier: str) -> int:
        """Run to the end, following tail calls; returns the instructions executed."""
        run_state = machine.helper_state
        machine.nested_insns = 0
        machine.run_tail_in_frame = lambda tail, ctx, r10: _tail_in_frame(
            machine, tail, ctx, r10, budget, tier)
        try:
            return _run_chain(self, machine, regs, budget, tier) + machine.nested_insns
        finally:
            # the verifier forbids leaking a reservation; here a fault may: drop them
            for ring, record in run_state.ring_records.values():
                ring.commit(record, discard=True)
            run_state.ring_records.clear()

    def run(self, memory: bytes | bytearray | None = None, *, packet: bytes | None = None,
            budget: int = DEFAULT_BUDGET, tier: str | None = None) -> RunResult:
        """Run once with r1 pointing to a copy of ``memory`` and r2 holding its length.

        Without ``memory`` r1 and r2 are 0. ``packet`` is what the legacy LD_ABS/LD_IND
        instructions read. Raises a :class:`~pybpf.vm.errors.VMRunError` when the run
        stops early (memory fault, budget, call depth); maps keep what was written before.
        """
        tier = _check_tier(tier or self.tier, self.name)
        address_space = Memory()
        packet_state = (contexts.raw_packet(address_space, packet)
                        if packet is not None else None)
        machine, regs = self._machine(address_space, packet_state)
        data = bytearray(memory) if memory is not None else None
        if data is not None:
            regs[1] = address_space.add("memory", data).base
            regs[2] = len(data)
        first_line = len(self.env.printk)
        count = self._drive(machine, regs, budget, tier)
        return RunResult(regs[0], count, bytes(data) if data is not None else b"",
                         self.env.printk[first_line:])

    def prepare(self, data: bytes = b"", ctx: bytes | None = None
                ) -> tuple[Machine, list[int], Callable[[], tuple[bytes, bytes | None]]]:
        """The machine and registers of one test run of this program's type, and a function
        giving ``(data_out, ctx_out)`` afterwards (used by test_run and the debugger).

        Raises :class:`VMError` for a packet the type cannot take.
        """
        memory = Memory()
        data = bytes(data)
        if self.type == ProgramType.XDP:
            packet, ctx_buf = contexts.xdp_context(memory, data, ctx)
            machine, regs = self._machine(memory, packet)
            regs[1] = memory.add("context (xdp_md)", ctx_buf).base
            return machine, regs, lambda: contexts.xdp_results(packet, ctx_buf, ctx is not None)
        if self.type in contexts.SKB_TYPES:
            packet, ctx_buf = contexts.skb_context(memory, self.type, data, ctx)
            machine, regs = self._machine(memory, packet)
            regs[1] = memory.add("context (__sk_buff)", ctx_buf).base
            prog_type = self.type
            return machine, regs, lambda: contexts.skb_results(packet, ctx_buf,
                                                                ctx is not None, prog_type)
        # tracing, raw tracepoints and the rest: the context is the bytes given
        machine, regs = self._machine(memory, None)
        ctx_buf = bytearray(ctx or b"")
        if ctx is not None:
            regs[1] = memory.add("context", ctx_buf).base
        return machine, regs, lambda: (data, bytes(ctx_buf) if ctx is not None else None)

    def test_run(self, data: bytes = b"", ctx: bytes | None = None, *, repeat: int = 1,
                 budget: int = DEFAULT_BUDGET, tier: str | None = None,
                 cpu: int | None = None) -> TestRunResult:
        """Run like BPF_PROG_TEST_RUN and return a result with its fields.

        As the kernel's bpf_test_run does, the ``repeat`` runs (0 counts as 1) share one
        context and one packet: what a run changes (bytes, head/tail moves, context fields)
        is what the next run sees; ``retval`` is the last run's, ``data_out``/``ctx_out``
        the state after all of them, ``duration_ns`` the mean per run (context set-up not
        included). ``cpu`` sets ``env.cpu`` for these runs (the kernel's ``cpu`` field).

        Raises :class:`VMError` for input the program type refuses (an XDP packet shorter
        than an Ethernet header...), and the run errors of :meth:`run` (the first failing
        run stops the loop).
        """
        tier = _check_tier(tier or self.tier, self.name)
        repeat = max(repeat, 1)
        saved_cpu = self.env.cpu
        if cpu is not None:
            self.env.cpu = cpu
        try:
            machine, regs, results = self.prepare(data, ctx)
            entry = list(regs)
            elapsed = 0
            native = self._compiled_for(tier) if tier == "llvm" and repeat > 1 else None
            if native is not None and getattr(native, "repeatable", False):
                # the llvm tier loops in native code (see CompiledProgram.run_repeat)
                machine.helper_state.call_function = self.function_caller(tier, machine,
                                                                          budget)
                start = time.perf_counter_ns()
                native.run_repeat(regs, machine, budget, repeat)  # type: ignore[attr-defined]
                elapsed = time.perf_counter_ns() - start
                repeat_in_python = 0
            else:
                repeat_in_python = repeat
            for _ in range(repeat_in_python):
                regs[:] = entry
                machine.may_goto_left = MAY_GOTO_LOOPS
                machine.helper_state.tail_calls_left = MAX_TAIL_CALL_CNT
                start = time.perf_counter_ns()
                self._drive(machine, regs, budget, tier)
                elapsed += time.perf_counter_ns() - start
        finally:
            self.env.cpu = saved_cpu
        data_out, ctx_out = results()
        return TestRunResult(regs[0] & 0xFFFF_FFFF, data_out, ctx_out, elapsed // repeat)

    def run_many(self, packets: Iterable[bytes], memory: bytes | None = None, *,
                 budget: int = DEFAULT_BUDGET, tier: str | None = None) -> list[int]:
        """r0 of one run per packet, each exactly ``run(memory, packet=p).r0``, on one
        reused machine (no per-run set-up; see :mod:`pybpf.vm.batch`). Raises what
        :meth:`run` raises, at the first failing run."""
        from .batch import run_batch
        return run_batch(self, packets, ctx=memory, raw=True, budget=budget,
                         tier=_check_tier(tier or self.tier, self.name))

    def test_run_many(self, packets: Iterable[bytes], ctx: bytes | None = None, *,
                      budget: int = DEFAULT_BUDGET, tier: str | None = None) -> list[int]:
        """The retval of one run per packet, each exactly ``test_run(p, ctx).retval``
        (a fresh context and packet each time), on one reused machine. Raises what
        :meth:`test_run` raises, at the first failing packet."""
        from .batch import run_batch
        return run_batch(self, packets, ctx=ctx, raw=False, budget=budget,
                         tier=_check_tier(tier or self.tier, self.name))

    def debugger(self, data: bytes = b"", ctx: bytes | None = None, *,
                 memory: bytes | None = None) -> Any:
        """A :class:`~pybpf.vm.debugger.Debugger` stopped before the first instruction of
        a run on ``data``/``ctx`` (as test_run) or on raw ``memory`` (as run)."""
        from .debugger import Debugger
        return Debugger(self, data, ctx, memory=memory)


def _run_chain(program: VMProgram, machine: Machine, regs: list[int], budget: int,
               tier: str) -> int:
    """Run ``program`` from ``regs`` and every program it tail-calls from its own frame
    (each gets r1 = the context and the same r10); r0 ends in ``regs[0]``. Returns the
    instructions run. The budget applies to each program of the chain."""
    ctx, r10 = regs[1], regs[10]
    total = 0
    run_state = machine.helper_state
    saved_caller = run_state.call_function
    try:
        while True:
            run_state.maps_by_address.update(program._maps_by_address)
            run_state.call_function = program.function_caller(tier, machine, budget)
            try:
                return total + program.engine(tier)(regs, machine, budget)
            except TailCall as tail:
                total += tail.insns
                program = tail.program
                regs[:] = [0, ctx, 0, 0, 0, 0, 0, 0, 0, 0, r10]
    finally:
        run_state.call_function = saved_caller


def _tail_in_frame(machine: Machine, tail: TailCall, ctx: int, r10: int, budget: int,
                   tier: str) -> int:
    """A tail call made in a bpf-to-bpf subprogram: the target (and what it tail-calls)
    runs in that subprogram's frame, with no frames of its own above, and its r0 is returned
    for the subprogram's caller -- what the kernel's JITs do, which allow tail calls in
    subprograms (the verifier then limits each frame of the chain to 256 bytes of stack;
    the VM does not check stack sizes). The 33-call limit is shared with the whole run."""
    saved_frames, machine.frames = machine.frames, []
    stack = machine.stack
    saved_low, saved_budget = stack.low, machine.budget_left
    stack.low = r10 - STACK_BYTES_PER_FRAME - stack.base
    regs = [0, ctx, 0, 0, 0, 0, 0, 0, 0, 0, r10]
    try:
        machine.nested_insns += _run_chain(tail.program, machine, regs,
                                           budget, tier)
    finally:
        machine.frames = saved_frames
        stack.low, machine.budget_left = saved_low, saved_budget
    return regs[0]


def _check_tier(tier: str, name: str) -> str:
    if tier not in TIERS:
        raise ProgramLoadError(f"unknown tier {tier!r} (choose one of {', '.join(TIERS)})",
                               program=name)
    return tier


def load(instructions: Sequence[Instruction] | bytes, **kwargs: object) -> VMProgram:
    """A :class:`VMProgram` from instructions or raw little-endian bytecode."""
    if isinstance(instructions, (bytes, bytearray, memoryview)):
        return VMProgram.from_bytes(bytes(instructions), **kwargs)
    return VMProgram(instructions, **kwargs)  # type: ignore[arg-type]


__all__ = ["DEFAULT_BUDGET", "TIERS", "RunResult", "TestRunResult", "VMProgram", "load",
           "VMError"]
