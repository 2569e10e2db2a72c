"""tp_btf and iterator programs: their context is u64 argument slots typed by the kernel's
BTF. Each case is judged by the running kernel and by our verifier, which must agree:
pointer arguments read whole and walked as kernel structs, arguments the kernel marks maybe
NULL (its per-tracepoint table; an iterator's object) compared with NULL first, no writes,
no slot past the prototype's arguments."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R6
from pybpf.btf import Struct
from pybpf.btf.kernel_btf import DEFAULT_KERNEL_BTF
from pybpf.spec import AttachType, ProgramSpec, ProgramType
from tests.verifier.kernel_side import pybpf_spec_verdict as _ours
from tests.verifier.kernel_side import spec_verdict as _kernel

pytestmark = pytest.mark.kernel

RET = [asm.mov(R0, 0), asm.exit()]


def _off(struct: str, member: str) -> int:
    t = DEFAULT_KERNEL_BTF.spec.find(struct, Struct)
    return next(m.bit_offset // 8 for m in t.members if m.name == member)


def _spec(attach: AttachType, target: str, body: list) -> ProgramSpec:
    section = ("tp_btf/" if attach == AttachType.TRACE_RAW_TP else "iter/") + target
    return ProgramSpec(name="case", section=section, type=ProgramType.TRACING,
                       attach_type=attach, attach_to=target, license="GPL",
                       instructions=asm.link([*body, *RET]))


def _cases() -> list[tuple[str, AttachType, str, list, str]]:
    pid = _off("task_struct", "pid")
    sk_family = _off("sock_common", "skc_family")
    skb_len = _off("sk_buff", "len")
    A = AttachType
    return [
        # sched_switch(preempt, prev, next, prev_state): prev is never NULL
        ("pointer arg walked", A.TRACE_RAW_TP, "sched_switch",
         [asm.ldx(8, R2, R1, 8), asm.ldx(4, R0, R2, pid)], "accept"),
        ("number arg any size", A.TRACE_RAW_TP, "sched_switch",
         [asm.ldx(1, R2, R1, 0)], "accept"),
        ("pointer arg read in part", A.TRACE_RAW_TP, "sched_switch",
         [asm.ldx(4, R2, R1, 8)], "reject"),
        ("offset not a slot", A.TRACE_RAW_TP, "sched_switch",
         [asm.ldx(4, R2, R1, 4)], "reject"),
        ("past the last argument", A.TRACE_RAW_TP, "sched_switch",
         [asm.ldx(8, R2, R1, 32)], "reject"),
        ("written", A.TRACE_RAW_TP, "sched_switch",
         [asm.st(8, R1, 0, 0)], "reject"),
        ("walk past the struct", A.TRACE_RAW_TP, "sched_switch",
         [asm.ldx(8, R2, R1, 8),
          asm.ldx(8, R0, R2, DEFAULT_KERNEL_BTF.spec.find("task_struct", Struct).size)],
         "reject"),
        # kfree_skb(skb, location, reason, rx_sk): rx_sk may be NULL (the kernel's table)
        ("maybe-NULL arg dereferenced", A.TRACE_RAW_TP, "kfree_skb",
         [asm.ldx(8, R2, R1, 24), asm.ldx(2, R0, R2, sk_family)], "reject"),
        ("maybe-NULL arg checked", A.TRACE_RAW_TP, "kfree_skb",
         [asm.ldx(8, R2, R1, 24), asm.jeq(R2, 0, "out"), asm.ldx(2, R0, R2, sk_family),
          asm.Label("out")], "accept"),
        ("the always-there arg", A.TRACE_RAW_TP, "kfree_skb",
         [asm.ldx(8, R2, R1, 0), asm.ldx(4, R0, R2, skb_len)], "accept"),
        # an iterator's object is NULL at the end of the walk
        ("iterator object dereferenced", A.TRACE_ITER, "task",
         [asm.ldx(8, R2, R1, 8), asm.ldx(4, R0, R2, pid)], "reject"),
        ("iterator object checked", A.TRACE_ITER, "task",
         [asm.ldx(8, R6, R1, 8), asm.jeq(R6, 0, "out"), asm.ldx(4, R0, R6, pid),
          asm.Label("out")], "accept"),
        ("iterator meta", A.TRACE_ITER, "task",
         [asm.ldx(8, R2, R1, 0), asm.ldx(8, R0, R2, 0)], "accept"),
    ]


def test_agrees_with_the_kernel() -> None:
    disagreements = []
    for label, attach, target, body, expected in _cases():
        spec = _spec(attach, target, body)
        kernel, ours = _kernel(spec), _ours(spec)
        if kernel != expected or ours != expected:
            disagreements.append(f"{label}: kernel {kernel}, ours {ours}, "
                                 f"expected {expected}")
    assert not disagreements, "\n".join(disagreements)


def test_iterator_return_range() -> None:
    spec = _spec(AttachType.TRACE_ITER, "task", [])
    spec.instructions = asm.link([asm.mov(R0, 2), asm.exit()])
    assert _kernel(spec) == _ours(spec) == "reject"


def test_unknown_targets_are_unjudged() -> None:
    spec = _spec(AttachType.TRACE_RAW_TP, "pybpf_no_such_tracepoint", [])
    assert _ours(spec) == "unsupported"
    # (fentry programs are judged from the function's prototype: test_trampolines.py)
    fentry = ProgramSpec(name="case", section="fentry/pybpf_no_such_function",
                         type=ProgramType.TRACING, attach_type=AttachType.TRACE_FENTRY,
                         attach_to="pybpf_no_such_function", license="GPL",
                         instructions=asm.link(RET))
    assert _ours(fentry) == "unsupported"


def test_every_tracepoint_nullable_arg_as_the_kernel_says() -> None:
    """Each struct pointer argument of every tracepoint of this kernel's BTF, dereferenced
    without a NULL check: the kernel refuses exactly those its maybe-NULL table names, and
    our table must refuse at least those (never accept one the kernel refuses)."""
    from pybpf.btf import Int, skip_qualifiers
    from pybpf.btf.types import Typedef
    from pybpf.verifier.ctx_btf import btf_args
    unsound, false_rejects, seen = [], [], 0
    for t in DEFAULT_KERNEL_BTF.spec:
        if not (isinstance(t, Typedef) and t.name.startswith("btf_trace_")):
            continue
        tp = t.name.removeprefix("btf_trace_")
        typed = btf_args(ProgramType.TRACING, AttachType.TRACE_RAW_TP, tp)
        if isinstance(typed, str):
            continue
        for i, slot in enumerate(typed.slots):
            if not slot.struct:
                continue
            struct = DEFAULT_KERNEL_BTF.spec.find(slot.struct, Struct)
            off = next((m.bit_offset // 8 for m in struct.members
                        if not m.bitfield_size and m.bit_offset % 8 == 0
                        and isinstance(skip_qualifiers(m.type), Int)), None)
            if off is None:
                continue
            spec = _spec(AttachType.TRACE_RAW_TP, tp,
                         [asm.ldx(8, R2, R1, 8 * i), asm.ldx(1, R0, R2, off)])
            kernel, ours = _kernel(spec), _ours(spec)
            seen += 1
            if kernel == "reject" and ours != "reject":
                unsound.append(f"{tp} arg {i}: ours {ours}")
            elif kernel == "accept" and ours != "accept":
                false_rejects.append(f"{tp} arg {i}: ours {ours}")
    assert seen > 100, "too few tracepoints with struct pointer arguments"
    assert not unsound, unsound
    assert not false_rejects, false_rejects
