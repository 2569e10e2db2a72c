"""Loads through a kernel object pointer (bpf_get_current_task_btf()) checked against the
running kernel's BTF: within the struct, numbers as numbers, whole pointers as pointers,
partial pointers and reads past the end refused, the rest "unsupported"."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R6
from pybpf.btf import Struct
from pybpf.btf.kernel_btf import DEFAULT_KERNEL_BTF
from pybpf.errors import VerifierError
from pybpf.spec import ProgramType
from pybpf.verifier import verify

GET_TASK_BTF = 158
RET = [asm.mov(R0, 0), asm.exit()]


def _task() -> Struct:
    try:
        return DEFAULT_KERNEL_BTF.spec.find("task_struct", Struct)
    except Exception as err:   # noqa: BLE001 - the tests need this kernel's BTF
        pytest.fail(f"no kernel BTF: {err}")


def _off(name: str) -> int:
    return next(m.bit_offset // 8 for m in _task().members if m.name == name)


def _verdict(body: list) -> str:
    try:
        verify([asm.call(GET_TASK_BTF), asm.mov_reg(R6, R0), *body, *RET],
               prog_type=ProgramType.KPROBE)
    except VerifierError as err:
        return ("unsupported: " if err.kernel_may_accept else "reject: ") + str(err)
    return "accept"


def test_number_and_pointer_fields() -> None:
    pid, parent, comm = _off("pid"), _off("real_parent"), _off("comm")
    assert _verdict([asm.ldx(4, R1, R6, pid)]) == "accept"
    assert _verdict([asm.ldx(8, R1, R6, comm)]) == "accept"      # a char array read whole
    # the parent is a task too: its pid is readable, and bitwise ops on the pointer are not
    assert _verdict([asm.ldx(8, R1, R6, parent), asm.ldx(4, R1, R1, pid)]) == "accept"
    verdict = _verdict([asm.ldx(8, R1, R6, parent), asm.and_(R1, 7)])
    assert verdict.startswith("reject: ") and "pointer" in verdict, verdict


def test_refusals() -> None:
    size = _task().size
    verdict = _verdict([asm.ldx(8, R1, R6, size)])
    assert verdict.startswith("reject: ") and "access beyond struct task_struct" in verdict
    verdict = _verdict([asm.ldx(4, R1, R6, _off("real_parent"))])
    assert verdict.startswith("reject: ") and "cannot access ptr member" in verdict, verdict


def test_unknown_types_are_unsupported() -> None:
    # a kernel object whose struct pybpf cannot name (a ksym's address): neither verdict
    with pytest.raises(VerifierError) as info:
        verify([asm.ld_btf_id(R6, 1), asm.ldx(4, R1, R6, 0), *RET],
               prog_type=ProgramType.KPROBE)
    assert info.value.kernel_may_accept, str(info.value)
