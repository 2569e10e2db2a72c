"""bpf_probe_read in the llvm tier copies natively when both spans are program memory the
region table holds; every other case goes to the helper: the same r0, memory, maps and
errors as the interpreter."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R6, R7, R10
from pybpf.vm import ArrayMap, MemoryAccessError
from pybpf.vm.helpers import HelperID
from pybpf.vm.memory import LOW_REGION_BASE
from tests.vm.unverified import load_unverified

pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")

LOOKUP, PROBE_READ = int(HelperID["MAP_LOOKUP_ELEM"]), int(HelperID["PROBE_READ"])
MEMORY = bytes(range(100, 164))


def _probe(dst: list[object], size: int, src: list[object]) -> list[object]:
    """r0 = probe_read(dst, size, src), the pointers set up by ``src`` then ``dst`` (into
    R3, R1; r1 holds the context before)."""
    return [*src, *dst, asm.mov(R2, size), asm.call(PROBE_READ)]


def _outcomes(program: list[object]) -> dict[str, object]:
    seen = {}
    for tier in ("interp", "python", "llvm"):
        m = ArrayMap("m", value_size=16, max_entries=2)
        m[1] = bytes(range(1, 17))
        prog = load_unverified(asm.link(program), maps={"m": m})
        runs: list[object] = []
        for _ in range(2):
            try:
                runs.append(prog.run(MEMORY, packet=bytes(range(40, 60)), tier=tier).r0)
            except MemoryAccessError as err:
                runs.append(str(err))
        seen[tier] = (runs, sorted(m.items()))
    return seen


# r6 = &m[1] (16 bytes), r7 = &m[0]
_VALUES = [asm.mov(R6, R1), asm.st(4, R10, 1, -4), asm.ld_map_fd(R1, "m"), asm.mov(R2, R10),
           asm.add(R2, -4), asm.call(LOOKUP), asm.jeq(R0, 0, "miss"), asm.mov(R7, R0),
           asm.st(4, R10, 0, -4), asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4),
           asm.call(LOOKUP), asm.jeq(R0, 0, "miss"), asm.mov(R3, R7), asm.mov(R7, R0),
           asm.mov(R0, R6), asm.mov(R6, R3), asm.mov(R1, R0)]  # r1 = ctx again
_SUM = [asm.ldx(8, R0, R10, -16), asm.ldx(8, R1, R7, 0), asm.xor(R0, R1),
        asm.ldx(8, R1, R7, 8), asm.xor(R0, R1), asm.exit(),
        asm.label("miss"), asm.mov(R0, 99), asm.exit()]


@pytest.mark.parametrize("case", [
    # memory -> stack, 8 bytes; value -> value (m[1] -> m[0]); stack -> value, 12 bytes
    _probe([asm.mov(R1, R10), asm.add(R1, -16)], 8, [asm.mov(R3, R1), asm.add(R3, 5)]),
    _probe([asm.mov(R1, R7)], 16, [asm.mov(R3, R6)]),
    [asm.st(8, R10, 77, -16), *_probe([asm.mov(R1, R7), asm.add(R1, 4)], 12,
                                      [asm.mov(R3, R10), asm.add(R3, -16)])],
    # overlapping spans in one value; the packet (read-only) as the source
    _probe([asm.mov(R1, R6), asm.add(R1, 2)], 9, [asm.mov(R3, R6)]),
    _probe([asm.mov(R1, R7)], 16, [asm.lddw(R3, LOW_REGION_BASE + 3)]),
    # an unreadable source: -EFAULT, dst zeroed; size 0; a source past the value's end
    _probe([asm.mov(R1, R7)], 8, [asm.mov(R3, 0x1234)]),
    _probe([asm.mov(R1, R7)], 0, [asm.mov(R3, 0x1234)]),
    _probe([asm.mov(R1, R7)], 16, [asm.mov(R3, R6), asm.add(R3, 1)]),
    # bad destinations stop the run: read-only packet, stray, past the stack's frame
    _probe([asm.lddw(R1, LOW_REGION_BASE)], 4, [asm.mov(R3, R6)]),
    _probe([asm.mov(R1, 8)], 4, [asm.mov(R3, R6)]),
    _probe([asm.mov(R1, R10), asm.add(R1, -4)], 8, [asm.mov(R3, R6)]),
])
def test_probe_read_copies_and_faults_as_in_the_interpreter(case: list[object]) -> None:
    program = [*_VALUES, asm.st(8, R10, 0, -16), *case, asm.mov(asm.R8, R0),
               *_SUM[:5], asm.lsh(asm.R8, 32), asm.xor(R0, asm.R8), *_SUM[5:]]
    seen = _outcomes(program)
    assert seen["llvm"] == seen["interp"] == seen["python"]
    assert 99 not in seen["llvm"][0]
