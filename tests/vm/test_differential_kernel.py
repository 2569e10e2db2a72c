"""The VM against the kernel: random ALU/JMP programs give the same r0 in both.

The kernel side loads each program as a SOCKET_FILTER and runs it once with
BPF_PROG_TEST_RUN (pybpf.kernel.programs); the kernel returns the low 32 bits of r0, and the
programs fold every register into those bits (see program_generator).
"""

from __future__ import annotations

import os
import random

import pytest

from pybpf.spec import ProgramSpec, ProgramType
from tests.vm.unverified import load_unverified

from .program_generator import random_counted_loop, random_program

# The llvm tier compiles every program (~20 ms each, several times that on a loaded
# machine): CI checks it on the first 200 of the same programs; PYBPF_DIFF_PROGRAMS=N runs N
# in every tier (the long mode).
PROGRAMS = {"interp": 1000, "python": 1000, "llvm": 200}
LONG = os.environ.get("PYBPF_DIFF_PROGRAMS")
PACKET = bytes(64)  # a socket filter's test run needs at least an Ethernet header


@pytest.mark.kernel
def test_random_alu_jmp_programs_match_the_kernel(vm_tier: str) -> None:
    from pybpf.kernel.programs import Program

    rng = random.Random(20240601)
    mismatches = []
    programs = int(LONG) if LONG else PROGRAMS.get(vm_tier, 1000)
    for index in range(programs):
        insns = random_program(rng, length=rng.randint(4, 40))
        vm_r0 = load_unverified(insns).run().r0 & 0xFFFF_FFFF
        spec = ProgramSpec(f"diff{index}", "socket", type=ProgramType.SOCKET_FILTER,
                           instructions=insns, license="GPL")
        with Program.load(spec) as prog:
            kernel_r0 = prog.test_run(PACKET).retval
        if vm_r0 != kernel_r0:
            mismatches.append((index, vm_r0, kernel_r0, insns))
    assert not mismatches, (f"{len(mismatches)} of {programs} differ; first: program "
                            f"{mismatches[0][0]} vm {mismatches[0][1]:#x} kernel "
                            f"{mismatches[0][2]:#x}")


@pytest.mark.kernel
def test_counted_loops_with_accumulators_match_the_kernel(vm_tier: str) -> None:
    # the Python tier keeps accumulators of a loop run by a ``for`` unmasked until it ends
    # (loops counted down to 0, and up: the budget's ``for``)
    from pybpf.kernel.programs import Program

    rng = random.Random(20261208)
    for index in range(60 if vm_tier != "llvm" else 20):
        insns = random_counted_loop(rng, rng.choice([1, 2, 3, 17]), up=index % 2 == 1)
        vm_r0 = load_unverified(insns).run().r0 & 0xFFFF_FFFF
        spec = ProgramSpec(f"loop{index}", "socket", type=ProgramType.SOCKET_FILTER,
                           instructions=insns, license="GPL")
        with Program.load(spec) as prog:
            assert vm_r0 == prog.test_run(PACKET).retval, (index, insns)


def test_generated_programs_run_in_the_vm_alone() -> None:
    """Without a kernel the generator still exercises the VM (and cannot fault)."""
    rng = random.Random(5)
    results = {load_unverified(random_program(rng)).run().r0 for _ in range(50)}
    assert len(results) > 40  # the fold really mixes the registers
