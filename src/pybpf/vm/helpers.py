"""Helper functions the userspace machine offers programs, by uapi helper id.

A helper is ``fn(run, insn, r1, r2, r3, r4, r5) -> r0``: ``run`` is the :class:`RunState`
(memory, maps, environment) and ``insn`` the calling instruction slot, for error messages.
Pointers arriving in registers are read and written through ``run.memory`` so a helper can
touch nothing the program could not. A program calling a helper missing from its table is
refused at load (:class:`~pybpf.vm.errors.ProgramLoadError`), never mid-run.
"""

from __future__ import annotations

import errno
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from ..helpers import helpers
from .alu import MASK64, to_signed
from .errors import VMRunError

if TYPE_CHECKING:
    from .maps import VMMap
    from .memory import Memory


# ``enum bpf_func_id`` of this kernel, from the one helper table (pybpf.helpers)
HelperID = IntEnum("HelperID", {h.name.upper(): i  # type: ignore[misc]
                                for i, h in helpers().items() if i})
HelperID.__doc__ = "``enum bpf_func_id`` values of this kernel, by upper-case name."


def helper_name(helper_id: int) -> str:
    """``bpf_<name>`` for a known id, else ``helper <id>``."""
    h = helpers().get(helper_id)
    return h.full_name if h is not None and helper_id else f"helper {helper_id}"


@dataclass
class Environment:
    """What the outside world looks like to helpers; visible and replaceable in tests.

    ``clock_ns`` feeds the ktime helpers, ``rng`` feeds get_prandom_u32 (seed it for
    repeatable runs), ``printk`` collects every trace_printk line in order. The "current
    task" the tracing helpers report is the caller's to set: ``pid``/``tgid``, ``uid``/
    ``gid``, ``comm``; ``cpu`` is the CPU the program runs on (get_smp_processor_id, the
    per-CPU maps' slot, BPF_F_CURRENT_CPU).
    """

    clock_ns: Callable[[], int] = time.monotonic_ns
    rng: random.Random = field(default_factory=random.Random)
    printk: list[str] = field(default_factory=list)
    cpu: int = 0
    pid: int = 0
    tgid: int = 0
    uid: int = 0
    gid: int = 0
    comm: bytes = b"pybpf-vm"


@dataclass(slots=True)
class RunState:
    """What helpers reach during one run.

    ``packet`` is the packet of an XDP/skb run (see :mod:`pybpf.vm.context`);
    ``ring_records`` maps the address of each reserved ring buffer record to its ring and
    record until it is submitted or discarded; ``call_function`` runs a subprogram of the
    running program (bpf_loop's callback) given its slot and r1-r5 and returns its r0;
    ``tail_calls_left`` counts down from MAX_TAIL_CALL_CNT.
    """

    memory: Memory
    maps_by_address: dict[int, VMMap]
    env: Environment
    packet: Any = None
    ring_records: dict[int, Any] = field(default_factory=dict)
    call_function: Callable[[int, int, int, int, int, int], int] | None = None
    tail_calls_left: int = 33


Helper = Callable[[RunState, int, int, int, int, int, int], int]

# After a helper call or a bpf-to-bpf call returns, r1-r5 hold this value in every tier.
# The kernel's verifier treats them as clobbered (unreadable) and its JITs leave garbage
# there, so no valid program reads them; the VM runs unverified bytecode too, and a fixed,
# recognisable value makes such a program behave the same in all tiers and fault clearly
# (it is an address in no region) instead of quietly reading a stale argument.
CLOBBERED = 0xDEAD_C0DE_0BAD_0A11


def _map_at(run: RunState, address: int, insn: int) -> VMMap:
    m = run.maps_by_address.get(address)
    if m is None:
        raise VMRunError(f"r1 ({address:#x}) is not a map", insn=insn)
    return m


def map_lookup_elem(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    m = _map_at(run, r1, insn)
    key = run.memory.read(r2, m.key_size, insn)
    object_at = getattr(m, "object_at", None)
    if object_at is not None:  # a map of maps: the inner map's handle
        inner = object_at(key)
        if inner is None or not hasattr(inner, "handle"):
            return 0
        handle: int = inner.handle
        run.maps_by_address[handle] = inner
        return handle
    buf = m.program_lookup(key, run.env.cpu)
    if buf is None:
        return 0
    return run.memory.address_of(f"value of map {m.name}", buf)


def map_lookup_percpu_elem(run: RunState, insn: int, r1: int, r2: int, r3: int,
                           *_: int) -> int:
    m = _map_at(run, r1, insn)
    if r3 >= getattr(m, "ncpus", 1):
        return 0
    buf = m.program_lookup(run.memory.read(r2, m.key_size, insn), r3)
    return 0 if buf is None else run.memory.address_of(f"value of map {m.name}", buf)


def map_update_elem(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int,
                    *_: int) -> int:
    m = _map_at(run, r1, insn)
    key = run.memory.read(r2, m.key_size, insn)
    value = run.memory.read(r3, m.value_size, insn)
    return m.program_update(key, value, r4, run.env.cpu) & MASK64


def _queue_at(run: RunState, address: int, insn: int) -> Any:
    m = _map_at(run, address, insn)
    if not hasattr(m, "push_from_program"):
        raise VMRunError(f"map '{m.name}' ({m.type.name}) is not a queue or stack", insn=insn)
    return m


def map_push_elem(run: RunState, insn: int, r1: int, r2: int, r3: int, *_: int) -> int:
    m = _queue_at(run, r1, insn)
    pushed: int = m.push_from_program(run.memory.read(r2, m.value_size, insn), r3)
    return pushed & MASK64


def _pop_or_peek(run: RunState, insn: int, r1: int, r2: int, remove: bool) -> int:
    m = _queue_at(run, r1, insn)
    run.memory.read(r2, m.value_size, insn)  # fault before changing the map
    value = m.pop_from_program(remove=remove)
    if value is None:
        return -errno.ENOENT & MASK64
    run.memory.write(r2, value, insn)
    return 0


def map_pop_elem(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    return _pop_or_peek(run, insn, r1, r2, True)


def map_peek_elem(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    return _pop_or_peek(run, insn, r1, r2, False)


def map_delete_elem(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    m = _map_at(run, r1, insn)
    return m.delete_from_program(run.memory.read(r2, m.key_size, insn)) & MASK64


def ktime_get_ns(run: RunState, insn: int, *_: int) -> int:
    return run.env.clock_ns() & MASK64


def spin_lock(run: RunState, insn: int, r1: int, *_: int) -> int:
    """bpf_spin_lock / bpf_spin_unlock: a program runs alone in the VM, so the lock word
    only has to be there (read, so a bad address faults as in the kernel)."""
    run.memory.read(r1, 4, insn)
    return 0


def get_prandom_u32(run: RunState, insn: int, *_: int) -> int:
    return run.env.rng.getrandbits(32)


def get_smp_processor_id(run: RunState, insn: int, *_: int) -> int:
    return run.env.cpu


def get_numa_node_id(run: RunState, insn: int, *_: int) -> int:
    return 0


def get_current_pid_tgid(run: RunState, insn: int, *_: int) -> int:
    return (run.env.tgid << 32 | run.env.pid) & MASK64


def get_current_uid_gid(run: RunState, insn: int, *_: int) -> int:
    return (run.env.gid << 32 | run.env.uid) & MASK64


TASK_COMM_LEN = 16


def get_current_comm(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    """Copies the NUL-terminated comm into (r1, r2 bytes), truncating as the kernel does."""
    if r2 == 0:
        return -errno.EINVAL & MASK64
    comm = run.env.comm[:min(r2, TASK_COMM_LEN) - 1]
    run.memory.write(r1, comm + bytes(r2 - len(comm)), insn)
    return 0


def probe_read(run: RunState, insn: int, r1: int, r2: int, r3: int, *_: int) -> int:
    """probe_read(_kernel/_user)(dst, size, src): VM memory only. An unreadable source
    zeroes dst and returns -EFAULT, as the kernel does; a bad dst stops the run."""
    run.memory.read(r1, r2, insn)  # dst must be writable program memory: check first
    try:
        data = run.memory.read(r3, r2, insn)
    except VMRunError:
        run.memory.write(r1, bytes(r2), insn)
        return -errno.EFAULT & MASK64
    run.memory.write(r1, data, insn)
    return 0


def probe_read_str(run: RunState, insn: int, r1: int, r2: int, r3: int, *_: int) -> int:
    """probe_read(_kernel/_user)_str: copies up to r2 - 1 bytes and a NUL; returns the
    length including the NUL, or -EFAULT (dst gets a lone NUL)."""
    if r2 == 0:
        return 0
    run.memory.read(r1, r2, insn)
    room = _string_room(run, r3, insn, limit=r2)
    try:
        text = run.memory.read_c_string(r3, min(room, r2 - 1), insn) if r2 > 1 else b""
    except VMRunError:
        run.memory.write(r1, b"\0", insn)
        return -errno.EFAULT & MASK64
    run.memory.write(r1, text + b"\0", insn)
    return len(text) + 1


MAX_LOOP_ITERATIONS = 1 << 23  # BPF_MAX_LOOPS
# lddw src=FUNC loads a function "address": this base plus the callee's instruction slot,
# in no memory region (a load through it faults)
FUNCTION_HANDLE_BASE = 0x0FFE_0000_0000


def bpf_loop(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int, *_: int) -> int:
    """bpf_loop(nr, callback, ctx, flags): calls callback(i, ctx) until it returns 1."""
    if r4 != 0:
        return -errno.EINVAL & MASK64
    if r1 > MAX_LOOP_ITERATIONS:
        return -errno.E2BIG & MASK64
    if run.call_function is None:
        raise VMRunError("bpf_loop needs a callback the VM can call", insn=insn)
    for index in range(r1):
        if run.call_function(r2 - FUNCTION_HANDLE_BASE, index, r3, 0, 0, 0) & MASK64 == 1:
            return index + 1
    return r1


# one printf conversion: flags, width, length modifier, conversion letter
_CONVERSION = re.compile(rb"%([-+ 0#]*)(\d*)(l{0,2}|h{0,2}|z)([diuxXcsp%])")
_MAX_VPRINTK_ARGS = 12


def trace_printk(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """bpf_trace_printk(fmt, fmt_size, a, b, c): the line goes to ``env.printk``.

    Returns the length of the formatted line, as the kernel does. ``%s`` reads a string from
    program memory (at most 64 bytes); ``%p`` prints the address in hex.
    """
    return _printk(run, insn, run.memory.read_c_string(r1, r2, insn), [r3, r4, r5])


def trace_vprintk(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int, r5: int
                  ) -> int:
    """bpf_trace_vprintk(fmt, fmt_size, data, data_len): trace_printk's line with its
    values read from an array of u64 (at most 12, as the kernel allows)."""
    if r4 % 8 or r4 > 8 * _MAX_VPRINTK_ARGS or (r4 and not r3):
        return -22  # -EINVAL
    raw = run.memory.read(r3, r4, insn) if r4 else b""
    args = [int.from_bytes(raw[i:i + 8], "little") for i in range(0, r4, 8)]
    return _printk(run, insn, run.memory.read_c_string(r1, r2, insn), args)


def _printk(run: RunState, insn: int, fmt: bytes, args: list[int]) -> int:
    used = 0
    out = []
    pos = 0
    for match in _CONVERSION.finditer(fmt):
        out.append(fmt[pos:match.start()].decode("utf-8", "replace"))
        pos = match.end()
        flags, width, length, conv = (g.decode() for g in match.groups())
        if conv == "%":
            out.append("%")
            continue
        if used == len(args):
            out.append(match.group().decode())
            continue
        value = args[used]
        used += 1
        bits = 64 if length in ("l", "ll", "z") or conv in "sp" else 32
        value &= (1 << bits) - 1
        spec = f"%{flags}{width}"
        if conv in "di":
            out.append((spec + "d") % to_signed(value, bits))
        elif conv == "u":
            out.append((spec + "d") % value)
        elif conv in "xX":
            out.append((spec + conv) % value)
        elif conv == "c":
            out.append(chr(value & 0xFF))
        elif conv == "p":
            out.append(f"{value:#x}")
        else:  # s
            text = run.memory.read_c_string(value, _string_room(run, value, insn), insn)
            out.append((spec + "s") % text.decode("utf-8", "replace"))
    out.append(fmt[pos:].decode("utf-8", "replace"))
    line = "".join(out)
    run.env.printk.append(line.rstrip("\n"))
    return len(line)


def _string_room(run: RunState, address: int, insn: int, limit: int = 64) -> int:
    """How many bytes a string read may take: up to ``limit``, never past its region."""
    for region in run.memory.regions():
        if region.base + region.low <= address < region.end:
            return min(limit, region.end - address)
    return 1  # lets the read fault with the usual message
