"""The llvm tier deletes from per-CPU hash maps natively (llvm_ir.map_write, its updates
still going to the helper): random sequences of updates (every flag), deletes, lookups and
writes through the found value give the interpreter's r0 and every CPU's values, in the
same order, and the kernel's r0, keys and values; a delete loop stays native."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pybpf import asm
from pybpf.asm import R0, R1, R2, R6, R7, R8, R10
from pybpf.vm import Environment, HashMap, PercpuHashMap
from pybpf.vm.helpers import HelperID
from tests.vm.test_llvm_map_writes import KEYS, MAX_ENTRIES, _key, _op, _program
from tests.vm.unverified import load_unverified

pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")

LOOKUP, DELETE = (int(HelperID[n]) for n in ("MAP_LOOKUP_ELEM", "MAP_DELETE_ELEM"))
NCPUS = 2


def _fresh_map(start: list[int], ncpus: int = NCPUS) -> PercpuHashMap:
    m = PercpuHashMap("m", key_size=4, value_size=8, max_entries=MAX_ENTRIES, ncpus=ncpus)
    for key in start:
        m.update(key, [(key * 1000 + cpu).to_bytes(8, "little") for cpu in range(ncpus)])
    return m


def _vm(ops: list[tuple], start: list[int], tier: str, cpu: int) -> tuple:
    m = _fresh_map(start)
    prog = load_unverified(_program(ops), maps={"m": m}, env=Environment(cpu=cpu))
    first = prog.run(tier=tier).r0
    after_one = list(m.items())
    second = prog.test_run(repeat=3, tier=tier).retval  # on the map the first run left
    return first, after_one, second, list(m.items())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, max_size=40), start=st.lists(_key, max_size=MAX_ENTRIES, unique=True),
       cpu=st.integers(0, NCPUS - 1))
# deleted natively, inserted again by the helper, deleted again natively: the order and
# the other CPU's value (zeroed by the insert) are the interpreter's
@example(ops=[("lookup", 1), ("delete", 1), ("update", 1, 5, 0), ("add", 1, 3),
              ("delete", 1), ("delete", 1), ("update", 1, 6, 1), ("lookup", 1)],
         start=[0, 1, 2], cpu=1)
def test_op_sequences_match_the_interpreter(ops: list[tuple], start: list[int],
                                            cpu: int) -> None:
    assert _vm(ops, start, "llvm", cpu) == _vm(ops, start, "interp", cpu)


def _delete_loop(turns: int) -> list[object]:
    """Delete key i % KEYS (present at first, then absent) ``turns`` times and look the
    next key up; r0 sums the answers."""
    return asm.link([
        asm.mov(R6, turns), asm.mov(R8, 0),
        asm.label("loop"),
        asm.mov(R7, R6), asm.mod(R7, KEYS), asm.stx(4, R10, R7, -4),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.call(DELETE),
        asm.add(R8, R0),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, R8), asm.exit()])


def test_a_delete_loop_stays_native_and_matches_the_interpreter(
        python_helper_calls: list[int]) -> None:
    results = {}
    for tier in ("interp", "llvm"):
        python_helper_calls.clear()
        m = _fresh_map([0, 2, 3])
        prog = load_unverified(_delete_loop(500), maps={"m": m}, env=Environment(cpu=1))
        results[tier] = (prog.run(tier=tier).r0, list(m.items()),
                         prog.test_run(repeat=10, tier=tier).retval)
    assert results["llvm"] == results["interp"]
    # the map's native index answers every key: no delete calls back
    assert python_helper_calls == []


@pytest.mark.kernel
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, max_size=30), start=st.lists(_key, max_size=MAX_ENTRIES,
                                                      unique=True))
def test_op_sequences_match_the_kernel(ops: list[tuple], start: list[int]) -> None:
    from pybpf.kernel.maps import Map, possible_cpus
    from pybpf.kernel.programs import Program
    from pybpf.spec import MapSpec, MapType, ProgramSpec, ProgramType

    ncpus = possible_cpus()
    cpu = min(os.sched_getaffinity(0))
    insns = _program(ops)
    spec = ProgramSpec("percpu_deletes", "socket", type=ProgramType.SOCKET_FILTER,
                       instructions=insns, license="GPL")
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})  # the kernel's test run writes this CPU's values
    try:
        with Map.create(MapSpec("m", MapType.PERCPU_HASH, key_size=4, value_size=8,
                                max_entries=MAX_ENTRIES)) as kernel_map, \
                Program.load(spec, maps={"m": kernel_map}) as prog:
            for key in start:
                kernel_map.update(key, [(key * 1000 + c).to_bytes(8, "little")
                                        for c in range(ncpus)])
            kernel_r0 = prog.test_run(bytes(64)).retval
            kernel_items = sorted((k, list(v)) for k, v in kernel_map.items())
    finally:
        os.sched_setaffinity(0, saved)
    m = _fresh_map(start, ncpus)
    vm_r0 = load_unverified(insns, maps={"m": m},
                            env=Environment(cpu=cpu)).run(tier="llvm").r0
    assert vm_r0 & 0xFFFF_FFFF == kernel_r0
    assert sorted((k, list(v)) for k, v in m.items()) == kernel_items


@pytest.mark.parametrize("kind", [HashMap, PercpuHashMap])
def test_a_native_delete_maps_no_value(kind: type) -> None:
    """The index's answer to a delete maps no value (the helper's delete does not): the
    value looked up next has the interpreter's address."""
    def at_key(key: int) -> list[object]:
        return [asm.mov(R1, key), asm.stx(4, R10, R1, -4), asm.ld_map_fd(R1, "m"),
                asm.mov(R2, R10), asm.add(R2, -4)]

    insns = asm.link([*at_key(3), asm.call(DELETE), *at_key(5), asm.call(LOOKUP), asm.exit()])
    addresses = []
    for tier in ("interp", "llvm"):
        m = kind("m", key_size=4, value_size=8, max_entries=16)
        for key in range(16):
            m[key] = key
        addresses.append(load_unverified(insns, maps={"m": m}).run(tier=tier).r0)
    assert addresses[0] != 0
    assert addresses[1] == addresses[0]
