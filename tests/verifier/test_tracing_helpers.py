"""Helpers the kernel gives tracing and syscall programs per attach type, helper arguments
that are kernel objects (ARG_PTR_TO_BTF_ID), helpers that may sleep, and the syscall
program's context. Each case is judged by the running kernel and by our verifier, which
must agree."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R5, R6, R10
from pybpf.btf import Struct
from pybpf.btf.kernel_btf import DEFAULT_KERNEL_BTF
from pybpf.spec import AttachType, ProgFlags, ProgramSpec, ProgramType
from tests.verifier.kernel_side import pybpf_spec_verdict as _ours
from tests.verifier.kernel_side import spec_verdict as _kernel

pytestmark = pytest.mark.kernel

A, P = AttachType, ProgramType
RET = [asm.mov(R0, 0), asm.exit()]
SEQ_PRINTF, GET_FUNC_IP, COOKIE, ARG_CNT, D_PATH, COPY_FROM_USER = 126, 173, 174, 185, 147, 148


def _off(struct: str, member: str) -> int:
    t = DEFAULT_KERNEL_BTF.spec.find(struct, Struct)
    return next(m.bit_offset // 8 for m in t.members if m.name == member)


def _spec(prog_type: ProgramType, attach: AttachType | None, target: str, body: list, *,
          sleepable: bool = False) -> ProgramSpec:
    section = {A.TRACE_RAW_TP: "tp_btf/", A.TRACE_ITER: "iter/"}.get(attach, "x/") + target
    return ProgramSpec(name="case", section=section, type=prog_type, attach_type=attach,
                       attach_to=target, license="GPL",
                       flags=ProgFlags.SLEEPABLE if sleepable else ProgFlags(0),
                       instructions=asm.link([*body, *RET]))


# "hi" on the stack, then seq_printf(seq in R1, fmt, 8, NULL, 0)
def _printf(seq_load: list) -> list:
    return [*seq_load, asm.st(8, R10, 0x6968, -8), asm.mov_reg(R2, R10), asm.add(R2, -8),
            asm.mov(R3, 8), asm.mov(R4, 0), asm.mov(R5, 0), asm.call(SEQ_PRINTF)]


def _cases() -> list[tuple[str, ProgramSpec, str]]:
    pid = _off("task_struct", "pid")
    meta_seq = [asm.ldx(8, R2, R1, 0), asm.ldx(8, R1, R2, 0)]           # ctx->meta->seq
    iter_task = [asm.ldx(8, R6, R1, 8), asm.jeq(R6, 0, "out")]          # ctx->task
    prev = [asm.ldx(8, R1, R1, 8)]                                      # sched_switch prev
    return [
        ("iterator seq_printf", _spec(P.TRACING, A.TRACE_ITER, "task", _printf(meta_seq)),
         "accept"),
        ("tp_btf seq_printf", _spec(P.TRACING, A.TRACE_RAW_TP, "sched_switch",
                                    _printf(prev)), "reject"),
        ("seq_printf given a task", _spec(P.TRACING, A.TRACE_ITER, "task", [
            *iter_task, *_printf([asm.mov_reg(R1, R6)]), asm.Label("out")]), "reject"),
        ("seq_printf given the meta", _spec(P.TRACING, A.TRACE_ITER, "task",
                                            _printf([asm.ldx(8, R1, R1, 0)])), "reject"),
        ("seq_printf given a number", _spec(P.TRACING, A.TRACE_ITER, "task",
                                            _printf([asm.mov(R1, 0)])), "reject"),
        ("seq_printf given maybe-NULL task", _spec(P.TRACING, A.TRACE_ITER, "task",
                                                   _printf([asm.ldx(8, R1, R1, 8)])),
         "reject"),
        ("tp_btf get_func_ip", _spec(P.TRACING, A.TRACE_RAW_TP, "sched_switch",
                                     [asm.call(GET_FUNC_IP)]), "reject"),
        ("iterator get_func_arg_cnt", _spec(P.TRACING, A.TRACE_ITER, "task",
                                            [asm.call(ARG_CNT)]), "reject"),
        ("tp_btf attach cookie", _spec(P.TRACING, A.TRACE_RAW_TP, "sched_switch",
                                       [asm.call(COOKIE)]), "accept"),
        ("iterator attach cookie", _spec(P.TRACING, A.TRACE_ITER, "task",
                                         [asm.call(COOKIE)]), "reject"),
        ("tp_btf d_path", _spec(P.TRACING, A.TRACE_RAW_TP, "sched_switch", [
            asm.mov(R1, 0), asm.mov_reg(R2, R10), asm.add(R2, -8), asm.mov(R3, 8),
            asm.call(D_PATH)]), "reject"),
        ("a task walked", _spec(P.TRACING, A.TRACE_ITER, "task", [
            *iter_task, asm.ldx(4, R0, R6, pid), asm.Label("out")]), "accept"),
        # bpf_copy_from_user(dst, size, user_ptr) may fault a page in: sleepable only
        ("kprobe copy_from_user", _spec(P.KPROBE, None, "", [
            asm.mov_reg(R1, R10), asm.add(R1, -8), asm.mov(R2, 8), asm.mov(R3, 0),
            asm.call(COPY_FROM_USER)]), "reject"),
        # get_stack's sleepable prototype is for sleepable programs only: this one gets
        # the other
        ("kprobe get_stack", _spec(P.KPROBE, None, "", [
            asm.st(8, R10, 0, -8), asm.st(8, R10, 0, -16), asm.mov_reg(R2, R10),
            asm.add(R2, -16), asm.mov(R3, 16), asm.mov(R4, 0), asm.call(67)]), "accept"),
        ("syscall copy_from_user", _spec(P.SYSCALL, None, "", [
            asm.mov_reg(R1, R10), asm.add(R1, -8), asm.mov(R2, 8), asm.mov(R3, 0),
            asm.call(COPY_FROM_USER)], sleepable=True), "accept"),
        ("syscall ctx read", _spec(P.SYSCALL, None, "", [asm.ldx(4, R2, R1, 12)],
                                   sleepable=True), "accept"),
        ("syscall ctx written", _spec(P.SYSCALL, None, "", [asm.st(8, R1, 7, 64)],
                                      sleepable=True), "accept"),
        ("syscall ctx misaligned", _spec(P.SYSCALL, None, "", [asm.ldx(4, R2, R1, 2)],
                                         sleepable=True), "reject"),
        ("syscall ctx far", _spec(P.SYSCALL, None, "", [asm.ldx(8, R2, R1, 32760)],
                                  sleepable=True), "accept"),
        ("syscall ctx moved", _spec(P.SYSCALL, None, "", [asm.add(R1, 8),
                                                          asm.ldx(8, R2, R1, 0)],
                                    sleepable=True), "reject"),
        ("syscall ctx negative", _spec(P.SYSCALL, None, "", [asm.ldx(1, R2, R1, -1)],
                                       sleepable=True), "reject"),
        ("syscall d_path", _spec(P.SYSCALL, None, "", [
            asm.mov(R1, 0), asm.mov_reg(R2, R10), asm.add(R2, -8), asm.mov(R3, 8),
            asm.call(D_PATH)], sleepable=True), "reject"),
    ]


def test_agrees_with_the_kernel() -> None:
    disagreements = []
    for label, spec, expected in _cases():
        kernel, ours = _kernel(spec), _ours(spec)
        if kernel != expected or ours != expected:
            disagreements.append(f"{label}: kernel {kernel}, ours {ours}, "
                                 f"expected {expected}")
    assert not disagreements, "\n".join(disagreements)
