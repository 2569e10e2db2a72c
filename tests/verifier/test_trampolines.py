"""fentry/fexit and LSM programs: their context is the traced function's (the LSM hook's)
BTF prototype, one u64 slot per argument (fexit: and its return value); pointer arguments
are untrusted kernel objects. A kernel with BPF trampolines judges each case; one without
(this project's CI machines: the kernel probe says so, and the test checks it) cannot, and
the expectations written from the kernel's rules (btf_ctx_access, check_return_code,
check_attach_btf_id, the kfunc trust rules) stand in for it."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R6
from pybpf.btf import Struct
from pybpf.btf.kernel_btf import DEFAULT_KERNEL_BTF
from pybpf.btf.types import Func
from pybpf.errors import BPFError, VerifierError
from pybpf.spec import AttachType, ProgFlags, ProgramSpec, ProgramType
from tests.verifier.kernel_side import pybpf_spec_verdict as _ours
from tests.verifier.kernel_side import spec_verdict as _kernel

pytestmark = pytest.mark.kernel

A = AttachType
RET = [asm.mov(R0, 0), asm.exit()]


def _off(struct: str, member: str) -> int:
    t = DEFAULT_KERNEL_BTF.spec.find(struct, Struct)
    return next(m.bit_offset // 8 for m in t.members if m.name == member)


def _spec(attach: AttachType, target: str, body: list, *, ret: list = RET,
          sleepable: bool = False) -> ProgramSpec:
    lsm = attach == A.LSM_MAC
    section = {A.TRACE_FENTRY: "fentry/", A.TRACE_FEXIT: "fexit/", A.LSM_MAC: "lsm/"}
    return ProgramSpec(name="case", section=section[attach] + target,
                       type=ProgramType.LSM if lsm else ProgramType.TRACING,
                       attach_type=attach, attach_to=target, license="GPL",
                       flags=ProgFlags.SLEEPABLE if sleepable else ProgFlags(0),
                       instructions=asm.link([*body, *ret]))


def _kf(name: str) -> asm.Instruction:
    spec = DEFAULT_KERNEL_BTF.spec
    return asm.call_kfunc(spec.type_id(spec.find(name, Func)))


def _cases() -> list[tuple[str, ProgramSpec, str]]:
    # do_unlinkat(int dfd, struct filename *name) -> int; file_open(struct file *file)
    fname = _off("filename", "name")
    f_flags = _off("file", "f_flags")
    return [
        ("fentry reads its arguments", _spec(A.TRACE_FENTRY, "do_unlinkat", [
            asm.ldx(8, R2, R1, 0), asm.ldx(8, R2, R1, 8), asm.ldx(8, R0, R2, fname)]),
         "accept"),
        ("fentry int argument in part", _spec(A.TRACE_FENTRY, "do_unlinkat",
                                              [asm.ldx(4, R2, R1, 0)]), "accept"),
        ("fentry pointer argument in part", _spec(A.TRACE_FENTRY, "do_unlinkat",
                                                  [asm.ldx(4, R2, R1, 8)]), "reject"),
        ("fentry has no return slot", _spec(A.TRACE_FENTRY, "do_unlinkat",
                                            [asm.ldx(8, R2, R1, 16)]), "reject"),
        ("fexit reads the return value", _spec(A.TRACE_FEXIT, "do_unlinkat",
                                               [asm.ldx(8, R2, R1, 16)]), "accept"),
        ("fexit past the return value", _spec(A.TRACE_FEXIT, "do_unlinkat",
                                              [asm.ldx(8, R2, R1, 24)]), "reject"),
        ("fentry writes its context", _spec(A.TRACE_FENTRY, "do_unlinkat",
                                            [asm.st(8, R1, 0, 0)]), "reject"),
        ("fentry returns 1", _spec(A.TRACE_FENTRY, "do_unlinkat", [],
                                   ret=[asm.mov(R0, 1), asm.exit()]), "reject"),
        ("fexit on a noreturn function", _spec(A.TRACE_FEXIT, "do_exit", []), "reject"),
        ("fentry on a denied function", _spec(A.TRACE_FENTRY, "migrate_disable", []),
         "reject"),
        # fentry arguments are not trusted: a KF_RCU kfunc refuses them
        ("fentry argument to bpf_task_acquire", _spec(A.TRACE_FENTRY, "wake_up_process", [
            asm.ldx(8, R1, R1, 0), _kf("bpf_task_acquire"), asm.mov_reg(R6, R0),
            asm.jeq(R6, 0, "out"), asm.mov_reg(R1, R6), _kf("bpf_task_release"),
            asm.Label("out")]), "reject"),
        ("fentry get_func_arg_cnt", _spec(A.TRACE_FENTRY, "do_unlinkat", [
            asm.call(185)]), "accept"),
        ("fentry seq_printf", _spec(A.TRACE_FENTRY, "do_unlinkat", [asm.call(126)]),
         "reject"),
        ("lsm reads the file", _spec(A.LSM_MAC, "file_open", [
            asm.ldx(8, R2, R1, 0), asm.ldx(4, R0, R2, f_flags)]), "accept"),
        ("lsm past the hook's arguments", _spec(A.LSM_MAC, "file_open",
                                                [asm.ldx(8, R2, R1, 16)]), "reject"),
    ]


def _has_trampolines() -> bool:
    from pybpf.kernel.features import Features
    return Features().supports_attach_type(ProgramType.TRACING, A.TRACE_FENTRY)


def test_agrees_with_the_kernel_or_its_rules() -> None:
    judge = _kernel if _has_trampolines() else None
    disagreements = []
    for label, spec, expected in _cases():
        ours = _ours(spec)
        if judge is not None:
            kernel = judge(spec)
            if kernel != expected:
                disagreements.append(f"{label}: kernel {kernel}, expected {expected}")
        if ours != expected:
            disagreements.append(f"{label}: ours {ours}, expected {expected}")
    assert not disagreements, "\n".join(disagreements)


def test_this_kernel_cannot_load_them() -> None:
    """Why the expectations stand in for the kernel here: the probe finds no trampolines,
    and a load of the simplest fentry program is refused (not judged) by this kernel."""
    if _has_trampolines():
        pytest.skip("this kernel has trampolines: the test above asked it")
    from pybpf.kernel import Program
    from pybpf.kernel.kernel_btf import DEFAULT_KERNEL_BTF as KERNEL
    from pybpf.kernel.kernel_btf import attach_btf_id
    spec = _spec(A.TRACE_FENTRY, "do_unlinkat", [])
    with pytest.raises(BPFError) as refused:
        with Program.load(spec, maps={}, attach_btf_id=attach_btf_id(spec, KERNEL)):
            pass
    assert not isinstance(refused.value, VerifierError)


def test_unjudged_kinds() -> None:
    """What depends on lists pybpf does not keep stays unsupported, never accepted."""
    assert _ours(_spec(A.TRACE_FENTRY, "do_unlinkat", [], sleepable=True)) == "unsupported"
    assert _ours(_spec(A.LSM_MAC, "bprm_check_security", [], sleepable=True)) == \
        "unsupported"
    assert _ours(_spec(A.LSM_MAC, "file_open", [asm.call(14)])) == "unsupported"
    assert _ours(_spec(A.TRACE_FENTRY, "pybpf_no_such_function", [])) == "unsupported"
