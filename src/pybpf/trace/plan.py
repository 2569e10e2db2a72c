"""What a compiled bpftrace script prints, and how: the contract between the compiler
(which builds the programs and decodes what the kernel sends) and the printer
(:mod:`pybpf.trace.output`, which formats decoded values exactly as bpftrace 0.17 does).

The compiler describes every map and every output action with these plain records; at run
time it decodes map entries and ring-buffer records into the Python values listed under
:class:`ValueType` and hands them to the printer. The printer never sees raw bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ValueType", "MapPlan", "Action", "PrintPlan"]

# The kinds of value a script can produce, and the Python value the runtime decodes each to:
#   int, uint     -> int
#   bool          -> bool
#   str           -> str (bytes up to the first NUL, decoded as bpftrace does)
#   buf           -> bytes (printed with \x escapes for unprintable bytes); in a record,
#                    an 8-byte length, then the bytes
#   macaddr       -> str, "AB:CD:01:7A:0A:00"
#   ksym, usym    -> str, the symbol already resolved ("vfs_read", "0x7f12..." if unknown)
#   kaddr, uaddr  -> int (uaddr: a pointer as a map key, printed 0x...)
#   kstack, ustack-> tuple[str, ...], frames already resolved, innermost first
#   inet          -> str, already through ntop ("198.18.0.1", "::1")
#   username      -> str
#   probe         -> str, the full probe name ("tracepoint:syscalls:sys_enter_openat")
#   cgroup_path   -> str, "unified:/a,cpu:/b" (fmt: the filter of the hierarchies)
#   timestamp     -> int, nanoseconds since the epoch (strftime)
#   tuple         -> tuple of the decoded fields
#   none          -> None (a statement with no value)
ValueKind = Literal["int", "uint", "bool", "str", "buf", "ksym", "usym", "kaddr", "uaddr",
                    "kstack", "ustack", "inet", "username", "probe", "cgroup_path",
                    "timestamp", "tuple", "macaddr", "none"]

# How a map's values are kept, and the Python value the runtime decodes each entry to:
#   none (plain @x = expr)  -> the decoded ValueType value
#   count, sum, min, max    -> int
#   avg, stats              -> (count, total): tuple[int, int]; the printer divides
#   hist                    -> list[int], the count of each log2 bucket in bpftrace's
#                              numbering (0: negative, 1: zero, 2: [1], 3: [2, 4), ...)
#   lhist                   -> list[int], the count of each linear bucket: 0 is below min,
#                              1..n are [min + (i-1)*step, min + i*step), the last is >= max
Aggregation = Literal["none", "count", "sum", "min", "max", "avg", "stats", "hist", "lhist"]

# What one ring-buffer record asks the user side to do
ActionKind = Literal["printf", "print_map", "print_value", "time", "join", "cat", "system",
                     "exit", "clear", "zero"]


@dataclass(frozen=True)
class ValueType:
    kind: ValueKind
    size: int = 8                                 # bytes the value takes in a record or key
    fields: tuple[ValueType, ...] = ()            # tuple elements, in order
    signed: bool = True                           # for int: how bpftrace prints it
    fmt: str = ""                                 # timestamp: its strftime() format


@dataclass(frozen=True)
class MapPlan:
    name: str                                     # "@" or "@name", as the script spells it
    keys: tuple[ValueType, ...]                   # () for a map with no key (@x = 1)
    aggregation: Aggregation
    value: ValueType = ValueType("int")           # for aggregation "none"
    lhist: tuple[int, int, int] | None = None     # min, max, step of lhist()


@dataclass(frozen=True)
class Action:
    id: int                                       # the record's tag in the ring buffer
    kind: ActionKind
    fmt: str = ""                                 # printf/time/system format, join separator
    args: tuple[ValueType, ...] = ()              # the record's values, in order
    map: str = ""                                 # print_map/clear/zero: the map's name
    top: int = 0                                  # print(@m, top, div)
    div: int = 1


@dataclass
class PrintPlan:
    """Everything the user side of one script needs besides the programs."""

    maps: dict[str, MapPlan] = field(default_factory=dict)
    actions: dict[int, Action] = field(default_factory=dict)
    # maps printed at exit (all of them unless the script cleared or printed them itself,
    # as bpftrace does), in the order bpftrace prints them
    print_at_exit: list[str] = field(default_factory=list)
