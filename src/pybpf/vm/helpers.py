"""Helper functions the userspace machine offers programs, by uapi helper id.

A helper is ``fn(run, insn, r1, r2, r3, r4, r5) -> r0``: ``run`` is the :class:`RunState`
(memory, maps, environment) and ``insn`` the calling instruction slot, for error messages.
Pointers arriving in registers are read and written through ``run.memory`` so a helper can
touch nothing the program could not. A program calling a helper missing from its table is
refused at load (:class:`~pybpf.vm.errors.ProgramLoadError`), never mid-run.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

from .alu import MASK64, to_signed
from .errors import VMRunError

if TYPE_CHECKING:
    from .memory import Memory
    from .maps import VMMap


class HelperID(IntEnum):
    """``enum bpf_func_id`` values (uapi linux/bpf.h) the VM knows by name."""

    MAP_LOOKUP_ELEM = 1
    MAP_UPDATE_ELEM = 2
    MAP_DELETE_ELEM = 3
    PROBE_READ = 4
    KTIME_GET_NS = 5
    TRACE_PRINTK = 6
    GET_PRANDOM_U32 = 7
    GET_SMP_PROCESSOR_ID = 8
    SKB_STORE_BYTES = 9
    TAIL_CALL = 12
    GET_CURRENT_PID_TGID = 14
    GET_CURRENT_COMM = 16
    PERF_EVENT_OUTPUT = 25
    SKB_LOAD_BYTES = 26
    PROBE_READ_KERNEL = 113
    RINGBUF_OUTPUT = 130
    RINGBUF_RESERVE = 131
    RINGBUF_SUBMIT = 132


def helper_name(helper_id: int) -> str:
    """``bpf_<name>`` for a known id, else ``helper <id>``."""
    try:
        return f"bpf_{HelperID(helper_id).name.lower()}"
    except ValueError:
        return f"helper {helper_id}"


@dataclass
class Environment:
    """What the outside world looks like to helpers; visible and replaceable in tests.

    ``clock_ns`` feeds ktime_get_ns, ``rng`` feeds get_prandom_u32 (seed it for repeatable
    runs), ``printk`` collects every trace_printk line in order.
    """

    clock_ns: Callable[[], int] = time.monotonic_ns
    rng: random.Random = field(default_factory=random.Random)
    printk: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RunState:
    """What helpers reach during one run."""

    memory: "Memory"
    maps_by_address: dict[int, "VMMap"]
    env: Environment


Helper = Callable[[RunState, int, int, int, int, int, int], int]


def _map_at(run: RunState, address: int, insn: int) -> "VMMap":
    m = run.maps_by_address.get(address)
    if m is None:
        raise VMRunError(f"r1 ({address:#x}) is not a map", insn=insn)
    return m


def map_lookup_elem(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    m = _map_at(run, r1, insn)
    buf = m.value_buffer(run.memory.read(r2, m.key_size, insn))
    if buf is None:
        return 0
    return run.memory.address_of(f"value of map {m.name}", buf)


def map_update_elem(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int,
                    *_: int) -> int:
    m = _map_at(run, r1, insn)
    key = run.memory.read(r2, m.key_size, insn)
    value = run.memory.read(r3, m.value_size, insn)
    return m.update_from_program(key, value, r4) & MASK64


def map_delete_elem(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    m = _map_at(run, r1, insn)
    return m.delete_from_program(run.memory.read(r2, m.key_size, insn)) & MASK64


def ktime_get_ns(run: RunState, insn: int, *_: int) -> int:
    return run.env.clock_ns() & MASK64


def get_prandom_u32(run: RunState, insn: int, *_: int) -> int:
    return run.env.rng.getrandbits(32)


# one printf conversion: flags, width, length modifier, conversion letter
_CONVERSION = re.compile(rb"%([-+ 0#]*)(\d*)(l{0,2}|h{0,2}|z)([diuxXcsp%])")
_MAX_PRINTK_ARGS = 3


def trace_printk(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """bpf_trace_printk(fmt, fmt_size, a, b, c): the line goes to ``env.printk``.

    Returns the length of the formatted line, as the kernel does. ``%s`` reads a string from
    program memory (at most 64 bytes); ``%p`` prints the address in hex.
    """
    fmt = run.memory.read_c_string(r1, r2, insn)
    args = [r3, r4, r5]
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
        if used == _MAX_PRINTK_ARGS:
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


def _string_room(run: RunState, address: int, insn: int) -> int:
    """How many bytes a %s may read: up to 64, never past the end of its region."""
    for region in run.memory.regions():
        if region.base + region.low <= address < region.end:
            return min(64, region.end - address)
    return 1  # lets the read fault with the usual message


DEFAULT_HELPERS: dict[int, Helper] = {
    HelperID.MAP_LOOKUP_ELEM: map_lookup_elem,
    HelperID.MAP_UPDATE_ELEM: map_update_elem,
    HelperID.MAP_DELETE_ELEM: map_delete_elem,
    HelperID.KTIME_GET_NS: ktime_get_ns,
    HelperID.TRACE_PRINTK: trace_printk,
    HelperID.GET_PRANDOM_U32: get_prandom_u32,
}
