"""A pointer temporary saved across a helper call is used from the register it was
restored into (regression: the store went through the stale register and the kernel
refused the load with 'R0 invalid mem access scalar')."""

from __future__ import annotations

import pytest

from pybpf.lang import RingBuf, bpf, ktime_ns, struct, u64

pytestmark = pytest.mark.kernel


class Pair(struct):
    first: u64
    second: u64


spill_ring = RingBuf(max_entries=1 << 12)


def fill(x):
    # ctx, x, the return value and 'now' take r6-r9, so 'ev' lives on the stack and its
    # loaded copy is a temporary that the ktime_ns() call below must save and restore
    now = ktime_ns()
    ev = spill_ring.reserve(Pair)
    if ev:
        ev.first = now
        ev.second = ktime_ns()
        spill_ring.submit(ev)
    return 0


@bpf.tracepoint("syscalls/sys_exit_accept4")
def spill_prog(ctx):
    return fill(ctx.ret)


def test_store_after_helper_uses_the_restored_base_register() -> None:
    compiled = bpf.compile(spill_prog)
    with compiled.load() as coll:
        assert "spill_prog" in coll.programs
