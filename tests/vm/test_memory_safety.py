"""Every kind of bad access stops the run with a MemoryAccessError naming insn, address and
region; nothing outside the program's regions changes, and maps keep what they had."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R10
from pybpf.vm import ArrayMap, HashMap, MemoryAccessError, ProgramLoadError, VMRunError
from pybpf.vm.helpers import HelperID
from pybpf.vm.memory import Memory
from tests.vm.unverified import load_unverified

from .conftest import run_items


def _fault(items: list[object], memory: bytes | None = None, **kw: object) -> MemoryAccessError:
    with pytest.raises(MemoryAccessError) as info:
        run_items(items, memory, **kw)
    return info.value


def test_null_pointer_read() -> None:
    err = _fault([asm.mov(R1, 0), asm.ldx(8, R0, R1, 0), asm.exit()])
    assert (err.insn, err.address, err.size, err.write, err.region) == (1, 0, 8, False, None)
    assert "instruction 1" in str(err) and "0x0" in str(err)


def test_read_above_the_stack_top() -> None:
    err = _fault([asm.ldx(8, R0, R10, 0), asm.exit()])
    assert err.region == "stack" and not err.write and err.insn == 0


def test_write_below_the_512_byte_frame() -> None:
    err = _fault([asm.st(8, R10, 1, -520), asm.exit()])
    assert err.region == "stack" and err.write and "outside stack" in str(err)


def test_last_byte_of_the_frame_is_fine_one_more_is_not() -> None:
    assert run_items([asm.st(1, R10, 5, -512), asm.ldx(1, R0, R10, -512), asm.exit()]).r0 == 5
    _fault([asm.st(2, R10, 5, -513), asm.exit()])


def test_callee_cannot_reach_the_unused_frames_below_it() -> None:
    body = [asm.call_func("f"), asm.exit(), asm.label("f"), asm.st(8, R10, 1, -520),
            asm.exit()]
    assert _fault(body).insn == 2


def test_access_straddling_the_end_of_memory() -> None:
    err = _fault([asm.ldx(4, R0, R1, 2), asm.exit()], b"\1\2\3\4")
    assert err.region == "memory" and err.size == 4


def test_pointer_arithmetic_into_another_region_is_caught() -> None:
    # from the input memory 4 GiB further is the start of another region's slot: no region
    body = [asm.lddw(R2, 1 << 40), asm.add(R1, R2), asm.ldx(1, R0, R1, 0), asm.exit()]
    assert _fault(body, b"\0").region is None


def test_fault_leaves_maps_as_they_were_before_it() -> None:
    counts = ArrayMap("counts", value_size=8, max_entries=1)
    counts[0] = (41).to_bytes(8, "little")
    body = [asm.st(4, R10, 0, -4), asm.ld_map_fd(R1, "counts"), asm.mov(R2, R10),
            asm.add(R2, -4), asm.call(HelperID.MAP_LOOKUP_ELEM), asm.jeq(R0, 0, "out"),
            asm.ldx(8, R1, R0, 0), asm.add(R1, 1), asm.stx(8, R0, R1, 0),
            asm.stx(8, R0, R1, 8),  # one past the 8-byte value: faults
            asm.label("out"), asm.exit()]
    err = _fault(body, maps={"counts": counts})
    assert err.region == "value of map counts" and err.write
    assert counts[0] == (42).to_bytes(8, "little")  # the store before the fault stays
    assert len(counts) == 1


def test_map_handle_is_not_memory() -> None:
    m = HashMap("h", key_size=4, value_size=4, max_entries=1)
    err = _fault([asm.ld_map_fd(R1, "h"), asm.ldx(8, R0, R1, 0), asm.exit()], maps={"h": m})
    assert err.region is None


def test_read_only_region_refuses_stores() -> None:
    mem = Memory()
    region = mem.add("ctx", bytearray(8), writable=False)
    with pytest.raises(MemoryAccessError, match="read-only ctx"):
        mem.store(region.base, 4, 1, insn=3)
    assert mem.load(region.base, 8, insn=0) == 0


def test_helper_reading_a_bad_key_pointer_faults_at_the_call() -> None:
    m = HashMap("h", key_size=4, value_size=4, max_entries=1)
    body = [asm.ld_map_fd(R1, "h"), asm.mov(R2, 16), asm.call(HelperID.MAP_LOOKUP_ELEM),
            asm.exit()]
    assert _fault(body, maps={"h": m}).insn == 3  # the lddw takes slots 0 and 1


def test_falling_off_the_end_is_a_run_error() -> None:
    prog = load_unverified(asm.link([asm.mov(R0, 1), asm.jeq(R0, 1, "end"), asm.exit(),
                                     asm.label("end"), asm.mov(R0, 2)]))
    with pytest.raises(VMRunError, match="past the last instruction"):
        prog.run()


@pytest.mark.parametrize("raw, message", [
    (bytes.fromhex("ff00000000000000"), "unknown opcode 0xff"),
    (bytes.fromhex("070a000001000000" "9500000000000000"), "r10 is the read-only"),
    (bytes.fromhex("0500050000000000" "9500000000000000"), "jump target"),
    (bytes.fromhex("8500000017000000" "9500000000000000"), "bpf_redirect .id 23. is not available"),
    (bytes.fromhex("8520000001000000" "9500000000000000"), "kfunc"),
    (bytes.fromhex("dc000000"), "not a multiple of 8"),
    (bytes.fromhex("1800000001000000"), "lddw"),
    (bytes.fromhex("1810000001000000" "0000000000000000" "9500000000000000"), "map 1"),
    (bytes.fromhex("dc01000011000000" "9500000000000000"), "byte swap width"),
    (bytes.fromhex("3f12030000000000" "9500000000000000"), "offset must be 0 or 1"),
    (b"", "no instructions"),
])
def test_bad_programs_are_refused_at_load(raw: bytes, message: str) -> None:
    with pytest.raises(ProgramLoadError, match=message):
        load_unverified(raw)
