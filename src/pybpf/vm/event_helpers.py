"""Helpers that hand events to the outside: ring buffer records, perf events, tail calls."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from .alu import MASK64
from .errors import VMRunError
from .events import PerfEventArrayMap, RingBufMap
from .helpers import RunState, _map_at

if TYPE_CHECKING:
    from .program import VMProgram

BPF_RB_NO_WAKEUP = 1
BPF_RB_FORCE_WAKEUP = 2
BPF_RB_AVAIL_DATA = 0
BPF_RB_RING_SIZE = 1
BPF_RB_CONS_POS = 2
BPF_RB_PROD_POS = 3
MAX_TAIL_CALL_CNT = 33


class TailCall(Exception):
    """Raised by bpf_tail_call to make the runner switch programs (never seen by users)."""

    def __init__(self, program: VMProgram):
        self.program = program
        self.insns = 0


def _ring(run: RunState, address: int, insn: int) -> RingBufMap:
    m = _map_at(run, address, insn)
    if not isinstance(m, RingBufMap):
        raise VMRunError(f"map '{m.name}' ({m.type.name}) is not a ring buffer", insn=insn)
    return m


def ringbuf_reserve(run: RunState, insn: int, r1: int, r2: int, r3: int, *_: int) -> int:
    ring = _ring(run, r1, insn)
    if r3 != 0:
        return 0
    record = ring.reserve(r2)
    if record is None:
        return 0
    address = run.memory.add(f"ring buffer record of {ring.name}", record.data).base
    run.ring_records[address] = (ring, record)
    return address


def _commit(run: RunState, insn: int, address: int, flags: int, discard: bool) -> int:
    entry = run.ring_records.pop(address, None)
    if entry is None:
        raise VMRunError(f"{address:#x} is not a ring buffer record reserved by this run "
                         f"(submitted twice?)", insn=insn)
    ring, record = entry
    ring.commit(record, discard=discard)
    run.memory.remove(address)  # the program may not touch the record any more
    return 0


def ringbuf_submit(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    return _commit(run, insn, r1, r2, discard=False)


def ringbuf_discard(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    return _commit(run, insn, r1, r2, discard=True)


def ringbuf_output(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int,
                   *_: int) -> int:
    ring = _ring(run, r1, insn)
    if r4 & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP):
        return -errno.EINVAL & MASK64
    return ring.output(run.memory.read(r2, r3, insn)) & MASK64


def ringbuf_query(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    ring = _ring(run, r1, insn)
    if r2 == BPF_RB_AVAIL_DATA:
        return ring.available_bytes
    if r2 == BPF_RB_RING_SIZE:
        return ring.max_entries
    return 0


def perf_event_output(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int,
                      r5: int) -> int:
    m = _map_at(run, r2, insn)
    if not isinstance(m, PerfEventArrayMap):
        raise VMRunError(f"map '{m.name}' ({m.type.name}) is not a perf event array",
                         insn=insn)
    return m.output(r3, run.env.cpu, run.memory.read(r4, r5, insn)) & MASK64


def tail_call(run: RunState, insn: int, r1: int, r2: int, r3: int, *_: int) -> int:
    """Jumps to prog_array[r3] (never returns then); a missing entry or the 33-call limit
    makes it return -ENOENT and the program goes on, as in the kernel. From a subprogram
    the tiers run the target in the subprogram's frame (see :mod:`.interpreter`)."""
    m = _map_at(run, r2, insn)
    object_at = getattr(m, "object_at", None)
    if object_at is None or m.type.name != "PROG_ARRAY":
        raise VMRunError(f"map '{m.name}' ({m.type.name}) is not a prog array", insn=insn)
    target = object_at((r3 & 0xFFFFFFFF).to_bytes(4, "little"))
    if target is None or run.tail_calls_left <= 0:
        return -errno.ENOENT & MASK64
    run.tail_calls_left -= 1
    raise TailCall(target)
