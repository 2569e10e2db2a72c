"""The syntax tree of a bpftrace script: what the parser builds and the compiler walks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Loc:
    """Where a node is in the script: 1-based line, first column, column after the end."""

    line: int
    col: int
    end: int


@dataclass(eq=False)
class Node:
    loc: Loc
    ty: Any = field(default=None, init=False, repr=False)   # set by the semantic pass


@dataclass(eq=False)
class Int(Node):
    value: int


@dataclass(eq=False)
class Str(Node):
    value: str


@dataclass(eq=False)
class Builtin(Node):
    name: str                     # pid, comm, args, retval, arg0, ...


@dataclass(eq=False)
class Var(Node):
    name: str                     # "$x"


@dataclass(eq=False)
class MapRef(Node):
    name: str                     # "@" or "@name"
    keys: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class Call(Node):
    func: str
    args: list[Node] = field(default_factory=list)
    resolved: int = 0             # what the semantic pass found (uaddr(): the address)


@dataclass(eq=False)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(eq=False)
class Unary(Node):
    op: str                       # "-", "!", "~", "*" (deref), "&"
    operand: Node


@dataclass(eq=False)
class Ternary(Node):
    cond: Node
    then: Node
    other: Node


@dataclass(eq=False)
class Field(Node):
    base: Node
    name: str
    arrow: bool                   # "->" (through a pointer) or "."


@dataclass(eq=False)
class Index(Node):
    base: Node
    index: Node


@dataclass(eq=False)
class Cast(Node):
    type_name: str                # "uint32", "struct task_struct *", ...
    operand: Node
    record: Any = None            # the script's own struct of that name, if it defines one


@dataclass(eq=False)
class SizeOf(Node):
    """``sizeof(TYPE)`` (``ctype`` the BTF type, or None for a kernel struct to find) or
    ``sizeof(EXPR)``."""

    type_name: str = ""
    ctype: Any = None
    operand: Node | None = None
    value: int = 0                # the size, once the semantic pass knows it


@dataclass(eq=False)
class Tuple(Node):
    elems: list[Node]


# -- statements -----------------------------------------------------------------------------

@dataclass(eq=False)
class ExprStmt(Node):
    expr: Node


@dataclass(eq=False)
class Assign(Node):
    target: Node                  # Var or MapRef
    value: Node
    op: str = "="                 # "=", "+=", ...; "++"/"--" have an Int(1) value
    increment: bool = False       # written "++"/"--"


@dataclass(eq=False)
class If(Node):
    cond: Node
    then: list[Node]
    other: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class Unroll(Node):
    count: int
    body: list[Node]


@dataclass(eq=False)
class While(Node):
    cond: Node
    body: list[Node]


@dataclass(eq=False)
class Jump(Node):
    kind: str                     # "return", "break", "continue"


@dataclass(eq=False)
class AttachPoint(Node):
    text: str                     # as written: "tracepoint:syscalls:sys_enter_*"


@dataclass(eq=False)
class Probe(Node):
    points: list[AttachPoint]
    pred: Node | None
    body: list[Node]


@dataclass(eq=False)
class Script(Node):
    probes: list[Probe]
    config: dict[str, str] = field(default_factory=dict)
    structs: dict[str, Any] = field(default_factory=dict)    # the script's C definitions
