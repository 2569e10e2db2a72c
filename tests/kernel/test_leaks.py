"""The kernel leak check itself: it must catch what it is there to catch."""

from __future__ import annotations

import os

import pytest

from pybpf import asm
from pybpf.asm import R0
from pybpf.kernel import Program
from pybpf.spec import ProgramSpec, ProgramType
from tests.kernel.leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel

# unique per process: another run of this test elsewhere must not look like ours
NAME = f"lk{os.getpid() % 10**8}"


def _returns_zero() -> ProgramSpec:
    return ProgramSpec(NAME, "socket", ProgramType.SOCKET_FILTER,
                       instructions=[asm.mov(R0, 0), asm.exit()], license="GPL")


def test_a_program_still_loaded_after_the_block_is_a_leak():
    prog = Program.load(_returns_zero())
    try:
        with pytest.raises(AssertionError, match=NAME):
            with no_kernel_objects_left(lambda name: name == NAME, timeout_s=0.2):
                prog.close()
                prog = Program.load(_returns_zero())  # the "forgotten" one
    finally:
        prog.close()


def test_a_program_closed_inside_the_block_is_not_a_leak():
    with no_kernel_objects_left(lambda name: name == NAME):
        with Program.load(_returns_zero()):
            pass


def test_other_names_are_not_ours():
    prog = Program.load(_returns_zero())
    try:
        with no_kernel_objects_left(lambda name: name == "someone_else", timeout_s=0.2):
            prog.close()
            prog = Program.load(_returns_zero())
    finally:
        prog.close()
