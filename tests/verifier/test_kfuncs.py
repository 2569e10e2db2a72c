"""kfunc calls: prototypes from the kernel's BTF, acquired objects that must be released,
release of what was not acquired, NULL results, trusted arguments. Each case is judged by
the running kernel and by our verifier, which must agree."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R6, R7, R8, R10
from pybpf.btf import Struct
from pybpf.btf.kernel_btf import DEFAULT_KERNEL_BTF
from pybpf.btf.types import Func
from pybpf.errors import VerifierError
from pybpf.spec import AttachType, ProgramSpec, ProgramType
from pybpf.verifier import verify
from tests.verifier.kernel_side import pybpf_spec_verdict as _ours
from tests.verifier.kernel_side import spec_verdict as _kernel

pytestmark = pytest.mark.kernel

RET = [asm.mov(R0, 0), asm.exit()]


def _kf(name: str) -> asm.Instruction:
    spec = DEFAULT_KERNEL_BTF.spec
    return asm.call_kfunc(spec.type_id(spec.find(name, Func)))


def _off(struct: str, member: str) -> int:
    t = DEFAULT_KERNEL_BTF.spec.find(struct, Struct)
    return next(m.bit_offset // 8 for m in t.members if m.name == member)


def _spec(body: list, prog_type: ProgramType = ProgramType.TRACING) -> ProgramSpec:
    tracing = prog_type == ProgramType.TRACING
    return ProgramSpec(name="case", section="tp_btf/task_newtask" if tracing else "tc",
                       type=prog_type, license="GPL",
                       attach_type=AttachType.TRACE_RAW_TP if tracing else None,
                       attach_to="task_newtask" if tracing else "",
                       instructions=asm.link([*body, *RET]))


def _cases() -> list[tuple[str, ProgramSpec, str]]:
    pid = _off("task_struct", "pid")
    wakee = _off("task_struct", "last_wakee")
    task = [asm.ldx(8, R1, R1, 0)]                      # task_newtask(task, clone_flags)
    acquire = [*task, _kf("bpf_task_acquire"), asm.mov_reg(R6, R0)]
    checked = [*acquire, asm.jeq(R6, 0, "out")]
    release = [asm.mov_reg(R1, R6), _kf("bpf_task_release")]
    out = [asm.Label("out")]
    tc = ProgramType.SCHED_CLS
    from_pid = [asm.mov(R1, 1), _kf("bpf_task_from_pid"), asm.mov_reg(R6, R0),
                asm.jeq(R6, 0, "out")]

    def kept(first: int, second: int) -> list:
        # r7 is one number or the other, and survives the kfunc call (r6-r9 do) to decide a
        # stack access after it: a state remembered after the call must not prune the path
        # with the other number (the call's effect reads r1 and clobbers r0-r5 only)
        # (enough instructions and jumps before "join" that a state is remembered there)
        return [asm.call(7), asm.mov(R7, first), *[asm.mov(R8, 0)] * 5,
                asm.jgt(R0, 5, "join"), asm.mov(R7, second), asm.ja("join"),
                asm.Label("join"), *from_pid, asm.mov_reg(R1, R6), _kf("bpf_task_release"),
                asm.Label("out"), asm.mov_reg(R2, R10), asm.add(R2, -16), asm.add(R2, R7),
                asm.st(8, R2, 0, 0)]
    return [
        ("a number kept across the call, out of the stack on the jump's path",
         _spec(kept(1000, 8)), "reject"),
        ("a number kept across the call, out of the stack on the other path",
         _spec(kept(8, 1000)), "reject"),
        ("a number kept across the call, in the stack on both paths", _spec(kept(8, 0)),
         "accept"),
        ("acquire, check, release", _spec([*checked, *release, *out]), "accept"),
        ("acquired object walked", _spec([*checked, asm.ldx(4, R7, R6, pid), *release,
                                          *out]), "accept"),
        ("released without a NULL check", _spec([*acquire, *release]), "reject"),
        ("never released", _spec([*checked, *out]), "reject"),
        ("used after release", _spec([*checked, *release, asm.ldx(4, R7, R6, pid), *out]),
         "reject"),
        ("released twice", _spec([*checked, *release, *release, *out]), "reject"),
        ("release of an argument", _spec([*task, _kf("bpf_task_release")]), "reject"),
        ("acquire of a walked pointer", _spec([
            *task, asm.ldx(8, R1, R1, wakee), _kf("bpf_task_acquire"), asm.mov_reg(R6, R0),
            asm.jeq(R6, 0, "out"), *release, *out]), "reject"),
        ("acquire of a number", _spec([asm.mov(R1, 0), _kf("bpf_task_acquire")]), "reject"),
        ("acquire of the ctx", _spec([_kf("bpf_task_acquire")]), "reject"),
        ("tc task_from_pid", _spec([*from_pid, *release, *out], tc), "accept"),
        ("tc task_from_pid kept", _spec([*from_pid, *out], tc), "reject"),
        ("tc task_from_pid of a pointer", _spec([
            asm.mov_reg(R1, R1), _kf("bpf_task_from_pid"), asm.mov_reg(R6, R0),
            asm.jeq(R6, 0, "out"), *release, *out], tc), "reject"),
        ("a clobbered argument read", _spec([*checked, *release, asm.mov_reg(R0, R2),
                                             asm.exit(), *out]), "reject"),
    ]


def test_agrees_with_the_kernel() -> None:
    disagreements = []
    for label, spec, expected in _cases():
        kernel, ours = _kernel(spec), _ours(spec)
        if kernel != expected or ours != expected:
            disagreements.append(f"{label}: kernel {kernel}, ours {ours}, "
                                 f"expected {expected}")
    assert not disagreements, "\n".join(disagreements)


def test_by_name_as_by_id() -> None:
    """A call still naming its kfunc (before pybpf's loader resolves it) is judged the
    same; one the table does not know is unsupported, never accepted."""
    by_name = [asm.ldx(8, R1, R1, 0), asm.call_kfunc(0, reference="bpf_task_acquire"),
               asm.mov_reg(R6, R0), asm.jeq(R6, 0, "out"), asm.mov_reg(R1, R6),
               asm.call_kfunc(0, reference="bpf_task_release"), asm.Label("out")]
    assert _ours(_spec(by_name)) == "accept"
    assert _ours(_spec(by_name[:2] + by_name[3:])) == "reject"   # not checked for NULL
    unknown = [asm.call_kfunc(0, reference="bpf_rcu_read_lock")]
    assert _ours(_spec(unknown)) == "unsupported"


def test_non_gpl_and_unprivileged_refused() -> None:
    spec = _spec([asm.ldx(8, R1, R1, 0), _kf("bpf_task_acquire")])
    spec.license = "Proprietary"
    assert _ours(spec) == "reject"
    try:
        verify(_spec([asm.mov(R1, 1), _kf("bpf_task_from_pid")], ProgramType.SCHED_CLS),
               unprivileged=True)
    except VerifierError as err:
        assert not err.kernel_may_accept
    else:
        pytest.fail("an unprivileged kfunc call accepted")
