"""Stepping, breakpoints, tracing and coverage: a second loop over the interpreter's code.

The fast loop (:func:`pybpf.vm.interpreter.execute`) stays as it is; the debugger runs the
same predecoded handlers one at a time through its own loop and a machine whose load/store
are wrapped to record the memory each instruction touches. So a trace costs nothing when
nobody asks for one. Usage::

    dbg = prog.debugger(packet)          # stopped before slot 0
    dbg.breakpoints.add(12)
    dbg.cont()                           # runs to slot 12 (or the end)
    entry = dbg.step()                   # one instruction: entry.changed, entry.memory
    dbg.regs[0], dbg.finished, dbg.coverage

bpf_loop callbacks run inside their helper call and are not traced one by one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..asm import Instructions, format_instruction
from . import interpreter as ip
from .errors import BudgetExceededError, VMError
from .event_helpers import TailCall

if TYPE_CHECKING:
    from .program import VMProgram


@dataclass
class MemoryAccess:
    """One load or store: ``address``, ``size``, ``write`` and the integer moved."""

    address: int
    size: int
    write: bool
    value: int


@dataclass
class TraceEntry:
    """One executed instruction: its program and slot, its text, the registers it changed
    (``{reg: (old, new)}``) and the memory it touched."""

    program: str
    slot: int
    text: str
    changed: dict[int, tuple[int, int]] = field(default_factory=dict)
    memory: list[MemoryAccess] = field(default_factory=list)

    def __str__(self) -> str:
        regs = " ".join(f"r{r}={new:#x}" for r, (_, new) in sorted(self.changed.items()))
        mem = " ".join(f"{'st' if a.write else 'ld'}[{a.address:#x}/{a.size}]={a.value:#x}"
                       for a in self.memory)
        return f"{self.slot:5}: {self.text:<40} {regs} {mem}".rstrip()


def _texts(program: Any) -> dict[int, str]:
    texts = {}
    for slot, insn in Instructions(program.instructions).iterate():
        try:
            texts[slot] = format_instruction(insn)
        except Exception:  # noqa: BLE001 - a label for the trace must never stop a run
            texts[slot] = f"opcode {insn.opcode:#04x}"
    return texts


class Debugger:
    """A run of ``program`` under control: :meth:`step`, :meth:`cont`, breakpoints by slot.

    ``regs`` are the live registers (r0..r10), ``pc`` the next slot, ``trace`` every entry
    so far (when ``record`` is on), ``coverage`` how often each slot ran. Run errors
    (memory faults, budget) propagate from :meth:`step` as in a normal run.
    """

    def __init__(self, program: VMProgram, data: bytes = b"", ctx: bytes | None = None, *,
                 memory: bytes | None = None, record: bool = True,
                 budget: int = 10_000_000):
        from .memory import Memory
        self.program = program
        if memory is not None:
            address_space = Memory()
            self.machine, self.regs = program._machine(address_space, None)
            buf = bytearray(memory)
            self.regs[1] = address_space.add("memory", buf).base
            self.regs[2] = len(buf)
            self._results: Callable[[], tuple[bytes, bytes | None]] = \
                lambda: (bytes(buf), None)
        else:
            self.machine, self.regs, self._results = program.prepare(data, ctx)
        self._ctx = self.regs[1]
        self.pc = 0
        self.finished = False
        self.record = record
        self.budget = budget
        self.executed = 0
        self.breakpoints: set[int] = set()
        self.trace: list[TraceEntry] = []
        self.coverage: Counter[tuple[str, int]] = Counter()
        self._accesses: list[MemoryAccess] = []
        self._switch(program)
        self._wrap_memory()

    def _switch(self, program: Any) -> None:
        self.current = program
        self._code = program._code
        self._texts = _texts(program)
        state = self.machine.helper_state
        state.maps_by_address.update(program._maps_by_address)
        state.call_function = program.function_caller("interp", self.machine, self.budget)

    def _wrap_memory(self) -> None:
        machine, accesses = self.machine, self._accesses
        load, load_signed, store = machine.load, machine.load_signed, machine.store

        def traced_load(address: int, size: int, insn: int) -> int:
            value = load(address, size, insn)
            accesses.append(MemoryAccess(address, size, False, value))
            return value

        def traced_load_signed(address: int, size: int, insn: int) -> int:
            value = load_signed(address, size, insn)
            accesses.append(MemoryAccess(address, size, False, value))
            return value

        def traced_store(address: int, size: int, value: int, insn: int) -> None:
            store(address, size, value, insn)
            accesses.append(MemoryAccess(address, size, True, value & ((1 << 8 * size) - 1)))

        machine.load, machine.load_signed, machine.store = (traced_load, traced_load_signed,
                                                            traced_store)

    @property
    def r0(self) -> int:
        return self.regs[0]

    def step(self) -> TraceEntry:
        """Execute one instruction; raises VMError when the run already ended."""
        if self.finished:
            raise VMError(f"program '{self.current.name}': the run has finished")
        if self.executed >= self.budget:
            raise BudgetExceededError("stopped after the debugger's budget", insn=self.pc)
        before = list(self.regs)
        self._accesses.clear()
        slot = self.pc
        entry = TraceEntry(self.current.name, slot, self._texts.get(slot, "?"))
        h, d, s, o, i, a = self._code[slot]
        self.coverage[(self.current.name, slot)] += 1
        self.executed += 1
        try:
            self.pc = h(self.regs, self.machine, slot, d, s, o, i, a)
        except ip._Halt:
            self.finished = True
        except TailCall as tail:
            self._switch(tail.program)
            self.regs[:] = [0, self._ctx, 0, 0, 0, 0, 0, 0, 0, 0, self.machine.stack.end]
            self.pc = 0
        entry.changed = {r: (old, new) for r, (old, new) in enumerate(zip(before, self.regs))
                         if old != new}
        entry.memory = list(self._accesses)
        if self.record:
            self.trace.append(entry)
        return entry

    def cont(self) -> None:
        """Run until a breakpoint slot is next (after at least one step) or the end."""
        self.step()
        while not self.finished and self.pc not in self.breakpoints:
            self.step()

    def run_to_end(self) -> int:
        """Run to the end; returns r0."""
        while not self.finished:
            self.step()
        return self.regs[0]

    def results(self) -> tuple[bytes, bytes | None]:
        """``(data_out, ctx_out)`` as test_run would give them now."""
        return self._results()

    def coverage_by_line(self) -> dict[Any, int]:
        """Executions per source line, for instructions that carry one (``Instruction.source``,
        e.g. from BTF line info); instructions without a source are left out."""
        lines: Counter[Any] = Counter()
        for prog in {self.program, self.current}:
            for slot, insn in Instructions(prog.instructions).iterate():
                hits = self.coverage.get((prog.name, slot), 0)
                if hits and insn.source is not None:
                    lines[insn.source] += hits
        return dict(lines)
