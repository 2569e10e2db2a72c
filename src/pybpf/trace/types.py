"""The types of bpftrace values in the compiler, and how each is stored in a map key, a
map value or an output record (every scalar takes 8 bytes, as in bpftrace)."""

from __future__ import annotations

from .plan import STACK_DEPTH, ValueType
from .record import Record, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Ty", "INT", "UINT", "NONE", "str_ty", "tuple_ty", "stack_ty", "STACK_DEPTH"]

# kinds held in a register (8 bytes); the rest live in stack memory
_SCALARS = frozenset({"int", "ksym", "kaddr", "uaddr", "kstack", "probe", "username",
                      "cgroup_path", "ptr", "bool", "timestamp"})


class Ty(Record, frozen=True):
    kind: str                     # int, str, tuple, ksym, usym, kstack, ustack, ptr, ...
    size: int = 8                 # bytes of the value in memory (str: its buffer)
    signed: bool = True
    fields: tuple[Ty, ...] = ()
    # ptr: the BTF type pointed to (None: a plain address); record: the BTF struct
    btf: Any = field(default=None, compare=False)
    user: bool = False            # a pointer into user memory (tracepoint syscall args)
    agg: str = ""                 # read from a count()/sum()... map: no arithmetic on it
    fmt: str = ""                 # timestamp: the strftime() format

    @property
    def scalar(self) -> bool:
        return self.kind in _SCALARS

    @property
    def stored(self) -> int:
        """Bytes the value takes in a key, value or record (8-aligned)."""
        if self.kind == "tuple":
            return sum(f.stored for f in self.fields)
        if self.kind == "str":
            return (self.size + 7) // 8 * 8
        if self.kind == "buf":                    # its length, then its bytes
            return 8 + (self.size + 7) // 8 * 8
        if self.kind in ("usym", "ustack"):
            return 16
        if self.kind == "inet":
            return 24
        return 8

    def value_type(self) -> ValueType:
        """The plan's description of this type, for the printer."""
        kind = {"ptr": "uint", "bool": "bool", "int": "int" if self.signed else "uint"}.get(
            self.kind, self.kind)
        return ValueType(kind, self.stored,  # type: ignore[arg-type]
                         tuple(f.value_type() for f in self.fields),
                         self.signed if self.kind == "int" else False, fmt=self.fmt)

    def __str__(self) -> str:
        if self.agg:
            return self.agg
        if self.kind == "int":
            return f"{'' if self.signed else 'u'}int{self.size * 8}"
        if self.kind == "str":
            return f"string[{self.size}]"
        if self.kind == "tuple":
            return "(" + ",".join(str(f) for f in self.fields) + ")"
        return self.kind


INT = Ty("int")
UINT = Ty("int", signed=False)
NONE = Ty("none", 0)


def str_ty(size: int) -> Ty:
    return Ty("str", size, False)


def stack_ty(kind: str, form: tuple[str, int]) -> Ty:
    """kstack/ustack in ``mode`` with ``limit`` frames (plain ``kstack``: bpftrace, 127)."""
    mode, limit = form
    return Ty(kind, fmt="" if form == ("bpftrace", STACK_DEPTH) else f"{mode}:{limit}")


def tuple_ty(fields: list[Ty]) -> Ty:
    return Ty("tuple", sum(f.stored for f in fields), False, tuple(fields))
