"""What a compiled bpftrace script prints, and how: the contract between the compiler
(which builds the programs and decodes what the kernel sends) and the printer
(:mod:`pybpf.trace.output`, which formats decoded values exactly as bpftrace 0.17 does).

The compiler describes every map and every output action with these plain records; at run
time it decodes map entries and ring-buffer records into the Python values listed under
:class:`ValueType` and hands them to the printer. The printer never sees raw bytes.
"""

from __future__ import annotations

from ..value_base import FieldsValue

TYPE_CHECKING = False     # typing costs ~2 ms of `pybpf trace`'s start (see .quickstart)
if TYPE_CHECKING:
    from typing import Any, Literal

__all__ = ["ValueType", "MapPlan", "Action", "PrintPlan", "plan_data", "plan_from_data",
           "stack_form", "STACK_DEPTH"]

STACK_DEPTH = 127       # frames a stack keeps, as bpftrace's default


def stack_form(kind: str, fmt: str) -> tuple[str, int, str]:
    """A kstack/ustack value's (mode, frame limit, stack map): ``fmt`` is "" for
    ``kstack`` itself, else "mode:limit" (``kstack(perf, 3)``); stacks of one limit share a
    map whose values hold that many frames."""
    mode, _, limit = fmt.partition(":") if fmt else ("bpftrace", "", "")
    depth = int(limit) if limit else STACK_DEPTH
    return mode, depth, kind if depth == STACK_DEPTH else f"{kind}_{depth}"

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
if TYPE_CHECKING:
    ValueKind = Literal["int", "uint", "bool", "str", "buf", "ksym", "usym", "kaddr",
                        "uaddr", "kstack", "ustack", "inet", "username", "probe",
                        "cgroup_path", "timestamp", "tuple", "macaddr", "none"]

# How a map's values are kept, and the Python value the runtime decodes each entry to:
#   none (plain @x = expr)  -> the decoded ValueType value
#   count, sum, min, max    -> int
#   avg, stats              -> (count, total): tuple[int, int]; the printer divides
#   hist                    -> list[int], the count of each log2 bucket in bpftrace's
#                              numbering (0: negative, 1: zero, 2: [1], 3: [2, 4), ...)
#   lhist                   -> list[int], the count of each linear bucket: 0 is below min,
#                              1..n are [min + (i-1)*step, min + i*step), the last is >= max
if TYPE_CHECKING:
    Aggregation = Literal["none", "count", "sum", "min", "max", "avg", "stats", "hist",
                          "lhist"]

# What one ring-buffer record asks the user side to do
if TYPE_CHECKING:
    ActionKind = Literal["printf", "print_map", "print_value", "time", "join", "cat",
                         "system", "exit", "clear", "zero"]


class ValueType(FieldsValue):
    _fields = ("kind", "size", "fields", "signed", "fmt")

    def __init__(self, kind: ValueKind, size: int = 8, fields: tuple[ValueType, ...] = (),
                 signed: bool = True, fmt: str = ""):
        self.kind = kind
        self.size = size              # bytes the value takes in a record or key
        self.fields = fields          # tuple elements, in order
        self.signed = signed          # for int: how bpftrace prints it
        self.fmt = fmt                # timestamp: its strftime() format; stacks: mode:limit


class MapPlan(FieldsValue):
    _fields = ("name", "keys", "aggregation", "value", "lhist")
    value = ValueType("int")          # the default, for aggregation "none"

    def __init__(self, name: str, keys: tuple[ValueType, ...], aggregation: Aggregation,
                 value: ValueType | None = None, lhist: tuple[int, int, int] | None = None):
        self.name = name              # "@" or "@name", as the script spells it
        self.keys = keys              # () for a map with no key (@x = 1)
        self.aggregation = aggregation
        self.value = value if value is not None else MapPlan.value
        self.lhist = lhist            # min, max, step of lhist()


class Action(FieldsValue):
    _fields = ("id", "kind", "fmt", "args", "map", "top", "div")

    def __init__(self, id: int, kind: ActionKind, fmt: str = "",  # noqa: A002
                 args: tuple[ValueType, ...] = (), map: str = "",  # noqa: A002
                 top: int = 0, div: int = 1):
        self.id = id                  # the record's tag in the ring buffer
        self.kind = kind
        self.fmt = fmt                # printf/time/system format, join separator
        self.args = args              # the record's values, in order
        self.map = map                # print_map/clear/zero: the map's name
        self.top = top                # print(@m, top, div)
        self.div = div


class PrintPlan:
    """Everything the user side of one script needs besides the programs."""

    def __init__(self, maps: dict[str, MapPlan] | None = None,
                 actions: dict[int, Action] | None = None,
                 print_at_exit: list[str] | None = None):
        self.maps = maps if maps is not None else {}
        self.actions = actions if actions is not None else {}
        # maps printed at exit (all of them unless the script cleared or printed them
        # itself, as bpftrace does), in the order bpftrace prints them
        self.print_at_exit = print_at_exit if print_at_exit is not None else []

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PrintPlan):
            return NotImplemented
        return (self.maps, self.actions, self.print_at_exit) == \
            (other.maps, other.actions, other.print_at_exit)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq

    def __repr__(self) -> str:
        return (f"PrintPlan(maps={self.maps!r}, actions={self.actions!r}, "
                f"print_at_exit={self.print_at_exit!r})")


# -- as plain data (tuples, strings, ints): what marshal stores for .quickstart ------------

def _type_data(vt: ValueType) -> tuple[Any, ...]:
    return (vt.kind, vt.size, tuple(_type_data(f) for f in vt.fields), vt.signed, vt.fmt)


def _type_from(data: tuple[Any, ...]) -> ValueType:
    kind, size, fields, signed, fmt = data
    return ValueType(kind, size, tuple(_type_from(f) for f in fields), signed, fmt)


def plan_data(plan: PrintPlan) -> tuple[Any, ...]:
    """``plan`` as nested tuples of plain values (:func:`plan_from_data` reverses it)."""
    maps = tuple((m.name, tuple(_type_data(k) for k in m.keys), m.aggregation,
                  _type_data(m.value), m.lhist) for m in plan.maps.values())
    actions = tuple((a.id, a.kind, a.fmt, tuple(_type_data(t) for t in a.args), a.map,
                     a.top, a.div) for a in plan.actions.values())
    return maps, actions, tuple(plan.print_at_exit)


def plan_from_data(data: tuple[Any, ...]) -> PrintPlan:
    maps, actions, print_at_exit = data
    plan = PrintPlan(print_at_exit=list(print_at_exit))
    for name, keys, agg, value, lhist in maps:
        plan.maps[name] = MapPlan(name, tuple(_type_from(k) for k in keys), agg,
                                  _type_from(value), lhist)
    for aid, kind, fmt, args, map_name, top, div in actions:
        plan.actions[aid] = Action(aid, kind, fmt, tuple(_type_from(t) for t in args),
                                   map_name, top, div)
    return plan
