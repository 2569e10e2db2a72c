"""Stepping, breakpoints, traces and coverage of the VM debugger."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R10
from pybpf.vm import MemoryAccessError, VMError
from tests.vm.unverified import load_unverified

LOOP = asm.link([asm.mov(R0, 0), asm.mov(R2, 3),
                 asm.label("top"), asm.add(R0, R2), asm.sub(R2, 1), asm.jne(R2, 0, "top"),
                 asm.stx(8, R10, R0, -8), asm.ldx(8, R0, R10, -8), asm.exit()])


def test_step_reports_changed_registers_and_memory() -> None:
    dbg = load_unverified(LOOP).debugger()
    first = dbg.step()
    assert first.slot == 0 and first.changed == {} and "r0 = 0" in first.text
    second = dbg.step()
    assert second.changed == {2: (0, 3)} and dbg.regs[2] == 3 and dbg.pc == 2
    dbg.breakpoints.add(5)
    dbg.cont()
    assert dbg.pc == 5 and dbg.regs[0] == 6
    store = dbg.step()
    assert len(store.memory) == 1 and store.memory[0].write and store.memory[0].value == 6
    assert dbg.run_to_end() == 6 and dbg.finished
    with pytest.raises(VMError, match="finished"):
        dbg.step()


def test_coverage_counts_each_slot_and_trace_is_printable() -> None:
    dbg = load_unverified(LOOP).debugger()
    dbg.run_to_end()
    assert dbg.coverage[("prog", 2)] == 3 and dbg.coverage[("prog", 0)] == 1
    assert len(dbg.trace) == 2 + 3 * 3 + 3
    assert "r0=0x3" in str(dbg.trace[2]) and "ld[" in str(dbg.trace[-2])


def test_breakpoint_on_memory_fault_slot_then_the_fault() -> None:
    prog = load_unverified(asm.link([asm.mov(R1, 0), asm.ldx(8, R0, R1, 0), asm.exit()]))
    dbg = prog.debugger()
    dbg.breakpoints.add(1)
    dbg.cont()
    assert dbg.pc == 1
    with pytest.raises(MemoryAccessError):
        dbg.step()


def test_debugger_over_raw_memory() -> None:
    prog = load_unverified(asm.link([asm.ldx(1, R0, R1, 1), asm.exit()]))
    dbg = prog.debugger(memory=b"\x01\x2a")
    entry = dbg.step()
    assert entry.memory[0].value == 0x2A and not entry.memory[0].write
