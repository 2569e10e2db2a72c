"""kfuncs and __ksym variables of tests/bpf/elf_externs.bpf.c."""

from __future__ import annotations

from pybpf.asm.opcodes import CallSrc, PseudoSrc
from pybpf.btf import FuncProto
from pybpf.elf import load_collection_spec
from pybpf.spec import ExternKind
from tests.bpfobjs import build_object


def test_kfuncs_and_ksyms():
    spec = load_collection_spec(build_object("elf_externs"))
    kinds = {name: (e.kind, e.weak) for name, e in spec.externs.items()}
    assert kinds == {
        "bpf_task_acquire": (ExternKind.KFUNC, False),
        "bpf_task_release": (ExternKind.KFUNC, False),
        "bpf_prog_active": (ExternKind.KSYM, False),
        "init_task": (ExternKind.KSYM, True),
    }
    assert isinstance(spec.externs["bpf_task_acquire"].type, FuncProto)
    refs = [(i.reference, i.src, i.imm) for i in spec.programs["use_externs"].instructions
            if i.reference]
    assert refs == [
        ("bpf_task_acquire", CallSrc.KFUNC, 0),
        ("bpf_task_release", CallSrc.KFUNC, 0),
        ("init_task", PseudoSrc.IMM64, 0),         # untyped: kallsyms address at load
        ("bpf_prog_active", PseudoSrc.BTF_ID, 0),  # typed: kernel BTF id at load
    ]
